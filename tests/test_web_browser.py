"""End to end in a real browser: Playwright drives headless Chromium whose fake camera plays a
clip this test writes; the page calls ``steadystyle serve`` over WebRTC on loopback.

Chromium comes from the system (Debian's ``chromium`` package, installed by ``.ci/run``) or from
Playwright's own download; ``STEADYSTYLE_CHROMIUM`` names another binary.  Where no browser can
be had the tests skip, saying why — unless ``STEADYSTYLE_REQUIRE_BROWSER=1`` (set by CI), where
a missing browser is a failure."""

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


def test_call_in_chromium_paints_switches_style_and_frees_on_close(browser, two_styles):
    config = ServerConfig(styles=two_styles, spec=RunSpec(style="tiny", backend="torch", device="cpu"),
                          size="160x120")
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
        page.select_option("#style", "other")
        wait_for(page, "window.steadystyle.controls && window.steadystyle.controls.style === 'other'")
        page.wait_for_timeout(800)
        after = grab(page, "painted")
        steady, switched = diff(before_1, before_2), diff(before_2, after)
        assert switched > 20 and switched > 5 * steady, (steady, switched)
        stats = page.evaluate("window.steadystyle.stats")
        assert stats["fps_out"] > 0 and stats["latency_ms"]["p95"] is not None
        assert page.inner_text("#latency") != "–"
        # closing the page frees the peer connection, the worker thread and the session
        page.close()
        deadline = time.monotonic() + 15
        while srv.server.sessions and time.monotonic() < deadline:
            time.sleep(0.1)
        assert srv.server.sessions == {}, "the closed page's call is still open"
        assert session.closed and not session.worker_alive and session.pc.connectionState == "closed"
        assert errors == []


def test_study_vote_in_chromium_is_stored_and_counted(browser, tiny_style, tmp_path):
    from helpers import make_clip

    from steadystyle.web.study import Study, prepare

    clip = make_clip(tmp_path / "clip.mp4", frames=6)
    prepare([clip], ["per-frame", "frame-diff"], str(tiny_style), tmp_path / "study", device="cpu", progress=False)
    config = ServerConfig(styles={"tiny": tiny_style}, spec=RunSpec(style="tiny", backend="torch", device="cpu"),
                          study_dir=str(tmp_path / "study"))
    with ServerThread(CallServer(config)) as srv:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(srv.url + "/study")
        page.select_option("#round", "stability")
        wait_for(page, "window.study.ready && window.study.trial && window.study.trial.round === 'stability'")
        trial = page.evaluate("window.study.trial")
        assert page.locator("#left-media video").count() == 1
        wait_for(page, "document.querySelector('#left-media video').readyState >= 2")  # the stimulus plays
        page.click("#right")
        wait_for(page, "window.study.votes === 1 && !window.study.busy")  # the next pair is shown
        page.keyboard.press("ArrowLeft")
        wait_for(page, "window.study.votes === 2")
        votes = Study.open(tmp_path / "study").votes()
        assert len(votes) == 2
        first = votes[0]
        pair = srv.server.study.pairs[trial["pair"]]
        right = pair.b if trial["left"] == "a" else pair.a
        assert first["pair"] == trial["pair"] and first["winner"] == right and first["right_method"] == right
        page.goto(srv.url + "/study/results")
        wait_for(page, "window.resultsReady === true")
        cells = page.locator("table[data-round=stability] tr td:nth-child(3)").all_inner_texts()
        assert sorted(int(c) for c in cells) == [2, 2]  # both methods were in both comparisons
        page.close()
        assert errors == []
