"""End to end in a real browser: Playwright drives headless Chromium whose fake camera plays a
clip this test writes; the page calls ``steadystyle serve`` over WebRTC on loopback.

The call connects on a loopback-only machine too: the server gathers its ICE candidate on
127.0.0.1 (it serves there) and Chromium offers one with ``--allow-loopback-in-peer-connection``;
on a machine with other interfaces every pair that carries the call is loopback on both ends
(checked below from Chromium's own statistics).

Chromium comes from the system (``/usr/bin/chromium``, Debian's package, installed by
``.ci/run``) or from Playwright's own download; ``STEADYSTYLE_CHROMIUM`` names another binary.
Where no browser can be had the tests skip, saying why — unless ``STEADYSTYLE_REQUIRE_BROWSER=1``
(set by CI), where a missing browser is a failure."""

from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("aiortc", reason="the web extra is not installed (pip install -e '.[web]')")
pytest.importorskip("playwright", reason="the web extra is not installed (pip install -e '.[web]')")

from web_helpers import ServerThread, browser_or_skip, write_y4m  # noqa: E402

from steadystyle.spec import RunSpec  # noqa: E402
from steadystyle.web.server import CallServer, ServerConfig  # noqa: E402

GRAB = """(id) => {
  const v = document.getElementById(id);
  if (!v || v.videoWidth === 0) return null;
  const c = document.createElement('canvas'); c.width = 80; c.height = 60;
  const g = c.getContext('2d'); g.drawImage(v, 0, 0, 80, 60);
  return Array.from(g.getImageData(0, 0, 80, 60).data);
}"""


def grab(page, element: str) -> np.ndarray:
    """The picture a <video> element shows now, as 60×80×3 uint8 (RGBA → RGB)."""
    data = page.evaluate(GRAB, element)
    assert data is not None, f"#{element} shows no picture"
    return np.array(data, dtype=np.uint8).reshape(60, 80, 4)[..., :3]


def diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


def camera_clip(path) -> str:
    """A still scene (a gradient with shapes) as a 1-s y4m: the fake camera loops it."""
    import cv2

    y, x = np.mgrid[0:240, 0:320]
    image = np.stack([x * 255 // 320, y * 255 // 240, np.full_like(x, 120)], -1).astype(np.uint8)
    cv2.circle(image, (160, 120), 60, (240, 200, 40), -1)
    cv2.rectangle(image, (20, 150), (110, 220), (30, 30, 200), -1)
    return str(write_y4m(path, [image] * 30))


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    clip = camera_clip(tmp_path_factory.mktemp("camera") / "camera.y4m")
    with browser_or_skip(["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                          f"--use-file-for-fake-video-capture={clip}",
                          "--autoplay-policy=no-user-gesture-required",
                          "--allow-loopback-in-peer-connection"]) as b:  # works without a network card too
        yield b


def wait_for(page, expression: str, timeout: float = 20.0) -> None:
    page.wait_for_function(expression, timeout=timeout * 1000)


PAIRS = """async () => {
  const report = await window.steadystyle.pc.getStats();
  const byId = {}; report.forEach((s) => { byId[s.id] = s; });
  const pairs = [];
  report.forEach((s) => {
    if (s.type === "candidate-pair" && s.state === "succeeded") {
      pairs.push([byId[s.localCandidateId].address, byId[s.remoteCandidateId].address, s.nominated]);
    }
  });
  return pairs;
}"""


def test_call_in_chromium_paints_switches_style_and_frees_on_close(browser, two_styles):
    config = ServerConfig(styles=two_styles, spec=RunSpec(style="tiny", backend="torch", device="cpu"),
                          size="160x120", ice_peers="loopback")
    with ServerThread(CallServer(config)) as srv:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(srv.url + "/")
        wait_for(page, "window.steadystyle && window.steadystyle.ready")
        assert page.locator("#style option").all_inner_texts() == ["tiny", "other"]
        page.click("#start")
        wait_for(page, "window.steadystyle.framesShown > 15 && window.steadystyle.stats && "
                       "window.steadystyle.stats.sent > 15")
        assert len(srv.server.sessions) == 1
        session = next(iter(srv.server.sessions.values()))
        camera, before_1 = grab(page, "camera"), grab(page, "painted")
        page.wait_for_timeout(300)
        before_2 = grab(page, "painted")
        # stylized frames arrive: the page shows what the server painted, and that is not the camera
        import cv2

        painted = cv2.resize(session.newest_result()[0], (80, 60), interpolation=cv2.INTER_AREA)
        assert diff(before_1, painted) < 12, diff(before_1, painted)
        assert diff(before_1, camera) > 20, diff(before_1, camera)
        page.evaluate("""() => {  // every text the notice shows from now on
          window.noticeTexts = [];
          new MutationObserver(() => window.noticeTexts.push(document.getElementById("notice").textContent))
            .observe(document.getElementById("notice"), { childList: true, characterData: true, subtree: true });
        }""")
        page.select_option("#style", "other")
        wait_for(page, "window.steadystyle.controls && window.steadystyle.controls.style === 'other'")
        page.wait_for_timeout(800)
        after = grab(page, "painted")
        steady, switched = diff(before_1, before_2), diff(before_2, after)
        assert switched > 20 and switched > 5 * steady, (steady, switched)
        stats = page.evaluate("window.steadystyle.stats")
        assert stats["fps_out"] > 0 and stats["latency_ms"]["p95"] is not None
        assert page.inner_text("#latency") != "–"
        # the page was told while the new style was prepared, and the notice is gone
        assert page.evaluate("window.steadystyle.prepared") == ["other"]
        assert page.evaluate("window.steadystyle.preparing") is None and page.inner_text("#notice") == ""
        shown = page.evaluate("window.noticeTexts")
        assert any(text.startswith("preparing style other") for text in shown) and shown[-1] == "", shown
        # all of the call is on loopback: the answer offers 127.0.0.1 only, and every pair that
        # connected is loopback at both ends (Chromium pairs its LAN address too; the server
        # answers no check from there)
        answer = session.pc.localDescription.sdp
        addresses = {line.split()[4] for line in answer.splitlines() if line.startswith("a=candidate:")}
        assert addresses == {"127.0.0.1"}, addresses
        pairs = page.evaluate(PAIRS)
        assert pairs and all(local == remote == "127.0.0.1" for local, remote, _ in pairs), pairs
        # closing the page frees the peer connection, the worker thread and the session
        page.close()
        deadline = time.monotonic() + 15
        while srv.server.sessions and time.monotonic() < deadline:
            time.sleep(0.1)
        assert srv.server.sessions == {}, "the closed page's call is still open"
        assert session.closed and not session.worker_alive and session.pc.connectionState == "closed"
        assert errors == []


MOVE = """([id, value]) => {  // as a user drags a slider and lets go: input events, then change
  const slider = document.getElementById(id);
  slider.value = value;
  slider.dispatchEvent(new Event("input", { bubbles: true }));
  slider.dispatchEvent(new Event("change", { bubbles: true }));
}"""


def test_the_steadiness_and_face_detail_sliders_reach_the_call(browser, two_styles):
    from steadystyle.web.config import faces_available

    config = ServerConfig(styles=two_styles, spec=RunSpec(style="tiny", backend="torch", device="cpu",
                                                          steadiness=0.75), size="160x120", ice_peers="loopback")
    with ServerThread(CallServer(config)) as srv:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(srv.url + "/")
        wait_for(page, "window.steadystyle && window.steadystyle.ready")
        # the sliders start at the server's values (serve --steadiness / --face-detail)
        assert page.input_value("#steadiness") == "0.75" and page.inner_text("#steadiness-value") == "0.75"
        assert page.input_value("#face-detail") == "0" and page.is_disabled("#face-detail") != faces_available()
        page.click("#start")
        wait_for(page, "window.steadystyle.stats && window.steadystyle.stats.processed > 5")
        session = next(iter(srv.server.sessions.values()))
        assert session.processor.steadiness == 0.75
        page.evaluate(MOVE, ["steadiness", "0.2"])
        assert page.inner_text("#steadiness-value") == "0.20"
        wait_for(page, "window.steadystyle.stats.controls.steadiness === 0.2")  # the server's stats say so
        deadline = time.monotonic() + 10
        while session.processor.steadiness != 0.2 and time.monotonic() < deadline:
            time.sleep(0.05)  # the worker applies it before its next frame
        assert session.processor.steadiness == 0.2 and session.controls["steadiness"] == 0.2
        if faces_available():
            page.evaluate(MOVE, ["face-detail", "0.45"])
            wait_for(page, "window.steadystyle.stats.controls.face_detail === 0.45")
            deadline = time.monotonic() + 20
            while session.processor.face is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert session.processor.face is not None and session.processor.face.detail == 0.45
        assert page.evaluate("window.steadystyle.errors") == [] and errors == []
        page.close()


def test_gathering_that_never_finishes_stops_with_a_clear_message(browser, two_styles):
    config = ServerConfig(styles=two_styles, spec=RunSpec(style="tiny", backend="torch", device="cpu"),
                          gather_timeout=1.0, ice_peers="loopback")
    with ServerThread(CallServer(config)) as srv:
        page = browser.new_page()
        # a browser whose ICE gathering hangs (a blocked network stack): it never reports "complete"
        page.add_init_script("""
          Object.defineProperty(RTCPeerConnection.prototype, "iceGatheringState", { get() { return "gathering"; } });
        """)
        page.goto(srv.url + "/")
        wait_for(page, "window.steadystyle && window.steadystyle.ready")
        started = time.monotonic()
        page.click("#start")
        wait_for(page, "window.steadystyle.errors.length > 0", timeout=10)
        waited = time.monotonic() - started
        message = page.inner_text("#error")
        assert "no network path within 1 s" in message and "ICE gathering did not finish" in message, message
        assert 0.9 <= waited < 8, waited
        assert page.inner_text("#state") == "no network path" and not page.is_disabled("#start")
        assert srv.server.sessions == {}  # nothing was offered
        page.close()


def test_study_in_chromium_is_blind_one_vote_per_pair_and_results_after_the_end(browser, tiny_style, tmp_path):
    from helpers import make_clip

    from steadystyle.web.study import Study, prepare

    clip = make_clip(tmp_path / "clip.mp4", frames=6)
    prepare([clip], ["per-frame", "frame-diff"], str(tiny_style), tmp_path / "study", device="cpu", progress=False)
    config = ServerConfig(styles={"tiny": tiny_style}, spec=RunSpec(style="tiny", backend="torch", device="cpu"),
                          study_dir=str(tmp_path / "study"), ice_peers="loopback")
    with ServerThread(CallServer(config)) as srv:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(srv.url + "/study/results")  # nothing to see before voting
        wait_for(page, "window.resultsReady === 'hidden'")
        assert "once you have voted on all 2 pairs" in page.inner_text("#summary")
        page.goto(srv.url + "/study")
        page.select_option("#round", "stability")
        wait_for(page, "window.study.ready && window.study.trial && window.study.trial.round === 'stability'")
        trial = page.evaluate("window.study.trial")
        assert set(trial) >= {"trial", "media", "prompt"} and "pair" not in trial and "left" not in trial
        assert page.locator("#left-media video").count() == 1
        wait_for(page, "document.querySelector('#left-media video').readyState >= 2")  # the stimulus plays
        assert page.is_hidden("#results-link")
        page.click("#right")
        wait_for(page, "window.study.votes === 1 && !window.study.busy && window.study.done")  # no stability pair left
        page.select_option("#round", "")
        wait_for(page, "window.study.trial && window.study.trial.round === 'quality'")
        page.keyboard.press("ArrowLeft")
        wait_for(page, "window.study.votes === 2 && window.study.finished")
        assert page.is_visible("#results-link")
        votes = Study.open(tmp_path / "study").votes()
        assert len(votes) == 2 and {v["round"] for v in votes} == {"stability", "quality"}
        first = next(v for v in votes if v["round"] == "stability")
        assert first["winner"] == first["right_method"]  # the right side won, as the server recorded it
        # the same participant cannot vote again on a pair it already voted on
        again = page.evaluate("""async (t) => (await fetch("/api/study/vote", {method: "POST",
            headers: {"Content-Type": "application/json"},
            body: JSON.stringify({participant: window.study.participant, trial: t, choice: "left"})})).status""",
                              trial["trial"])
        assert again == 409 and len(Study.open(tmp_path / "study").votes()) == 2
        page.click("#results-link")
        wait_for(page, "window.resultsReady === true")
        cells = page.locator("table[data-round=stability] tr td:nth-child(3)").all_inner_texts()
        assert sorted(int(c) for c in cells) == [1, 1]  # both methods were in the one comparison
        page.close()
        assert errors == []
