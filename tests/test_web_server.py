"""``steadystyle serve`` without a browser: bad input gets JSON 4xx (aiohttp's test client), and a
Python WebRTC peer on loopback makes real calls — painted frames come back, controls switch the
style, a closed call frees its resources, and latency does not grow behind a slow style."""

from __future__ import annotations

import asyncio
import json
import os
import time

import numpy as np
import pytest

pytest.importorskip("aiortc", reason="the web extra is not installed (pip install -e '.[web]')")

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402
from web_helpers import (Flicker, ServerThread, SlowIdentity, coded_image, decode_index,  # noqa: E402
                         make_coded_track, open_call, rss_mb, udp_sockets)

from steadystyle.spec import RunSpec  # noqa: E402
from steadystyle.stats import percentiles  # noqa: E402
from steadystyle.web.server import MAX_OFFER_BYTES, CallServer, ServerConfig  # noqa: E402
from steadystyle.web.trend import slope_per_minute  # noqa: E402


def config_for(styles: dict, **kw) -> ServerConfig:
    """The two tiny styles, served with the torch backend on the CPU; ICE on loopback only."""
    return ServerConfig(styles=styles, spec=RunSpec(style="tiny", backend="torch", device="cpu"),
                        ice_peers="loopback", **kw)


async def _offer_sdp() -> str:
    """A real offer from a Python peer with one video track."""
    from aiortc import RTCConfiguration, RTCPeerConnection

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(make_coded_track())
    pc.createDataChannel("control")
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp


async def _no_video_sdp() -> str:
    from aiortc import RTCConfiguration, RTCPeerConnection

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.createDataChannel("control")
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp


def test_bad_requests_get_json_4xx_and_the_server_keeps_serving(two_styles):
    async def main() -> None:
        server = CallServer(config_for(two_styles))
        async with TestClient(TestServer(server.app())) as client:
            good = await _offer_sdp()

            async def post(path: str, body: object = None, raw: bytes | None = None) -> tuple[int, dict]:
                data = raw if raw is not None else json.dumps(body).encode()
                r = await client.post(path, data=data, headers={"Content-Type": "application/json"})
                return r.status, await r.json()

            cases = [
                (b"{not json", None, 400, "not valid JSON"),
                (None, ["sdp"], 400, "JSON object"),
                (None, {"sdp": good, "type": "answer"}, 400, "'type'"),
                (None, {"type": "offer"}, 400, "'sdp'"),
                (None, {"type": "offer", "sdp": 5}, 400, "'sdp'"),
                (None, {"type": "offer", "sdp": "v=0\r\nhello"}, 400, "malformed offer"),
                (None, {"type": "offer", "sdp": good + "x" * MAX_OFFER_BYTES}, 413, "too large"),
                (None, {"type": "offer", "sdp": good, "style": "nope"}, 400, "unknown style"),
                (None, {"type": "offer", "sdp": good, "method": "nope"}, 400, "unknown method"),
                (None, {"type": "offer", "sdp": good, "strength": 2}, 400, "strength"),
                (None, {"type": "offer", "sdp": good, "strength": "1"}, 400, "strength"),
                (None, {"type": "offer", "sdp": good, "strength": True}, 400, "strength"),
                (None, {"type": "offer", "sdp": good, "size": "99999x1"}, 400, "size"),
                (None, {"type": "offer", "sdp": good, "preserve_colors": "yes"}, 400, "preserve_colors"),
                (None, {"type": "offer", "sdp": good, "brightness": 3}, 400, "unknown control"),
                (None, {"type": "offer", "sdp": await _no_video_sdp()}, 400, "no video track"),
                # numbers json.loads takes but a call cannot: Python's int digit limit, NaN, inf, overflow
                (b'{"type": "offer", "sdp": "v=0", "strength": ' + b"7" * 5001 + b"}", None, 400, "not valid JSON"),
                (b'{"type": "offer", "sdp": "v=0", "strength": NaN}', None, 400, "not valid JSON"),
                (b'{"type": "offer", "sdp": "v=0", "strength": -Infinity}', None, 400, "not valid JSON"),
                (b'{"type": "offer", "sdp": "v=0", "strength": 1e999}', None, 400, "out of range"),
                (None, {"type": "offer", "sdp": good, "strength": 10 ** 4000}, 400, "strength"),
                (b"\xff\xfe", None, 400, "UTF-8"),
            ]
            # steadiness and face detail: as strict as strength
            for key in ("steadiness", "face_detail"):
                for bad in (1.5, -0.1, "0.5", True, None, [0.5], 10 ** 4000, 10 ** 30):
                    cases.append((None, {"type": "offer", "sdp": good, key: bad}, 400, key))
                for raw in (b"NaN", b"Infinity", b"-Infinity"):
                    cases.append((b'{"type": "offer", "sdp": "v=0", "' + key.encode() + b'": ' + raw + b"}", None,
                                  400, "not valid JSON"))
            for raw, body, status, words in cases:
                got, answer = await post("/offer", body, raw)
                assert got == status, (body if raw is None else raw, answer)
                assert words in answer["error"], answer
            got, answer = await post("/api/session/unknown/control", {"style": "tiny"})
            assert got == 404 and "no call" in answer["error"]
            r = await client.get("/api/session/unknown/stats")
            assert r.status == 404 and "error" in await r.json()
            r = await client.get("/no/such/page")
            assert r.status == 404 and "error" in await r.json()
            # nothing leaked, and the server still answers and accepts a good offer
            assert server.sessions == {}
            r = await client.get("/api/config")
            assert r.status == 200 and (await r.json())["styles"] == ["tiny", "other"]
            got, answer = await post("/offer", {"type": "offer", "sdp": good, "style": "other", "strength": 0.5})
            assert got == 200 and answer["type"] == "answer" and answer["controls"]["style"] == "other"
            assert len(server.sessions) == 1
            sid = answer["session"]
            got, bad = await post(f"/api/session/{sid}/control", {"method": "nope"})
            assert got == 400 and "unknown method" in bad["error"]
            got, ok = await post(f"/api/session/{sid}/control", {"method": "per-frame", "strength": 0.25})
            assert got == 200 and ok["controls"]["method"] == "per-frame" and ok["controls"]["strength"] == 0.25
            for key in ("steadiness", "face_detail"):
                for bad in (2, -1e-9, "1", False, None, {"v": 1}, 10 ** 4000):
                    got, refused = await post(f"/api/session/{sid}/control", {key: bad})
                    assert got == 400 and key in refused["error"] and "\n" not in refused["error"], refused
                for raw in (b"NaN", b"Infinity", b"1e999"):
                    got, refused = await post(f"/api/session/{sid}/control", raw=b'{"' + key.encode() + b'": ' + raw + b"}")
                    assert got == 400, refused
            assert server.sessions[sid].controls["steadiness"] == 1.0  # nothing bad got through
            got, ok = await post(f"/api/session/{sid}/control", {"steadiness": 0.5})
            assert got == 200 and ok["controls"]["steadiness"] == 0.5
            r = await client.delete(f"/api/session/{sid}")
            assert r.status == 200 and server.sessions == {}

    asyncio.run(main())


def test_too_many_calls_are_refused_with_503(two_styles):
    async def main() -> None:
        server = CallServer(config_for(two_styles, max_sessions=1))
        async with TestClient(TestServer(server.app())) as client:
            first = await client.post("/offer", json={"type": "offer", "sdp": await _offer_sdp()})
            assert first.status == 200
            second = await client.post("/offer", json={"type": "offer", "sdp": await _offer_sdp()})
            assert second.status == 503 and "busy" in (await second.json())["error"]
            assert len(server.sessions) == 1

    asyncio.run(main())


def test_the_call_limit_holds_for_30_offers_at_once(two_styles):
    """The issue's attack: 30 simultaneous offers against --max-calls 4 all got 200."""
    async def main() -> None:
        server = CallServer(config_for(two_styles, max_sessions=4))
        async with TestClient(TestServer(server.app())) as client:
            sdp = await _offer_sdp()
            replies = await asyncio.gather(*(client.post("/offer", json={"type": "offer", "sdp": sdp})
                                             for _ in range(30)))
            statuses = sorted(r.status for r in replies)
            assert statuses == [200] * 4 + [503] * 26, statuses
            assert len(server.sessions) == 4 and not server._reserved
            assert sum(s.worker_alive for s in server.sessions.values()) == 4
            # a refused or failed offer gives its slot back; a closed call frees one
            bad = await client.post("/offer", json={"type": "offer", "sdp": await _no_video_sdp()})
            assert bad.status == 503
            sid = next(iter(server.sessions))
            assert (await client.delete(f"/api/session/{sid}")).status == 200
            bad = await client.post("/offer", json={"type": "offer", "sdp": await _no_video_sdp()})
            assert bad.status == 400 and len(server.sessions) == 3 and not server._reserved
            assert (await client.post("/offer", json={"type": "offer", "sdp": sdp})).status == 200

    asyncio.run(main())


def test_requests_from_a_foreign_origin_are_refused(two_styles):
    async def main() -> None:
        server = CallServer(config_for(two_styles))
        async with TestClient(TestServer(server.app())) as client:
            sdp = await _offer_sdp()
            body = json.dumps({"type": "offer", "sdp": sdp})
            own = f"http://{client.host}:{client.port}"
            for origin, host in (("http://evil.example", None), ("null", None), (own.replace("http:", "https:"), None),
                                 ("http://evil.example:80", "evil.example:80")):  # DNS rebinding: its own host
                headers = {"Origin": origin, "Content-Type": "text/plain"}
                if host:
                    headers["Host"] = host
                r = await client.post("/offer", data=body, headers=headers)
                assert r.status == 403 and "refused" in (await r.json())["error"], origin
            assert server.sessions == {}  # no slot was taken
            r = await client.get("/api/config", headers={"Origin": "http://evil.example"})
            assert r.status == 200  # reading the page's settings is harmless
            r = await client.post("/offer", data=body, headers={"Origin": own, "Content-Type": "text/plain"})
            assert r.status == 200 and len(server.sessions) == 1  # the server's own page
            sid = next(iter(server.sessions))
            r = await client.post(f"/api/session/{sid}/control", json={"strength": 0.5},
                                  headers={"Origin": "http://evil.example"})
            assert r.status == 403 and server.sessions[sid].controls["strength"] == 1.0
            r = await client.delete(f"/api/session/{sid}", headers={"Origin": "http://evil.example"})
            assert r.status == 403 and sid in server.sessions

    asyncio.run(main())


def test_ice_stays_on_the_serving_interface():
    import ipaddress

    from steadystyle.web.ice import allowed, host_addresses, ice_addresses, ice_policy, keep_candidates, networks

    assert ice_addresses("127.0.0.1") == ice_addresses("localhost") == ("127.0.0.1",)
    assert ice_addresses("::1") == ("::1",) and ice_addresses("[::1]") == ("::1",)
    assert ice_addresses("192.0.2.7") == ("192.0.2.7",)
    assert ice_addresses("0.0.0.0") is None and ice_addresses("::") is None and ice_addresses("") is None
    loop = networks(["127.0.0.1"])
    assert allowed("127.0.0.1", loop) and allowed("127.1.2.3", loop)
    assert not allowed("192.0.2.2", loop) and not allowed("::1", loop) and not allowed("host.local", loop)
    offer = "\r\n".join(["v=0", "m=video 9 UDP/TLS/RTP/SAVPF 96",
                          "a=candidate:1 1 udp 2122194687 127.0.0.1 36183 typ host generation 0",
                          "a=candidate:2 1 udp 2122063615 192.0.2.2 45613 typ host generation 0",
                          "a=candidate:3 1 udp 2122267903 ::1 36394 typ host generation 0",
                          "a=candidate:4 1 udp 2122063615 3f1c2a5e-aaaa.local 45614 typ host generation 0",
                          "a=candidate:5 1 udp 2122063615 203.0.113.9 45615 typ host generation 0",
                          "a=end-of-candidates", ""])

    def kept(policy) -> list[str]:
        return [line.split()[4] for line in keep_candidates(offer, policy).split("\r\n")
                if line.startswith("a=candidate")]

    strict = ice_policy("127.0.0.1", "loopback")
    assert strict.addresses == ("127.0.0.1",) and kept(strict) == ["127.0.0.1"]
    text = keep_candidates(offer, strict)
    assert "a=end-of-candidates" in text and text.startswith("v=0\r\nm=video")
    # on loopback by default: also this machine's own addresses (a browser here reaches us from
    # its LAN address), never another machine's, and no mDNS name is resolved
    host = ice_policy("127.0.0.1")
    assert host.addresses == ("127.0.0.1",) and not host.names
    own = set(host_addresses())
    assert [a for a in kept(host) if a != "127.0.0.1"] == [a for a in ("192.0.2.2", "::1") if a in own]
    assert "203.0.113.9" not in kept(host) and not allowed("203.0.113.9", host.peers)
    assert all(allowed(a, host.peers) for a in own)
    everywhere = ice_policy("0.0.0.0")
    assert everywhere.addresses is None and keep_candidates(offer, everywhere) == offer
    lan = ice_policy("192.0.2.2")  # on a LAN address: that subnet (and mDNS names) only
    assert kept(lan)[0] == "192.0.2.2" and "127.0.0.1" not in kept(lan) and lan.names
    assert all(ipaddress.ip_address(a) in lan.peers[0] for a in kept(lan) if not a.endswith(".local"))


def test_a_call_gathers_on_loopback_only_and_its_sockets_stay_there(two_styles):
    """The server's peer connections bind and answer on 127.0.0.1 only, even here where other
    interfaces exist; a Python peer restricted the same way connects to it."""
    from steadystyle.web.ice import gather_on

    with ServerThread(CallServer(config_for(two_styles))) as srv:
        async def main() -> None:
            with gather_on(None):  # the client side offers every interface, as a browser would
                from aiortc import RTCConfiguration, RTCPeerConnection

                probe = RTCPeerConnection(RTCConfiguration(iceServers=[]))
                probe.addTrack(make_coded_track())
                await probe.setLocalDescription(await probe.createOffer())
                offered = {line.split()[4] for line in probe.localDescription.sdp.splitlines()
                           if line.startswith("a=candidate:")}
                await probe.close()
            track = make_coded_track()
            before = udp_sockets()
            pc, remote, answer, _ = await open_call(srv.url, track)
            await asyncio.wait_for(remote, 10)
            answered = {line.split()[4] for line in answer["sdp"].splitlines() if line.startswith("a=candidate:")}
            assert answered == {"127.0.0.1"}, answered
            opened = udp_sockets() - before  # the client's and the server's (both in this process)
            assert opened and all(ip == "127.0.0.1" for ip, _ in opened), opened
            print(f"the client could offer {sorted(offered)}; the call's sockets: {sorted(opened)}")
            await pc.close()

        asyncio.run(main())


def _lower(image: np.ndarray) -> np.ndarray:
    """The part of a frame below the coded band (fixed in the input)."""
    return image[image.shape[0] // 3:].astype(np.float32)


def test_two_calls_paint_switch_style_and_free_resources_on_close(two_styles):
    with ServerThread(CallServer(config_for(two_styles))) as srv:
        async def receive(track, seconds: float) -> list[np.ndarray]:
            """Frames received over ``seconds`` (this drains what the client's own track queued)."""
            frames, end = [], time.monotonic() + seconds
            while time.monotonic() < end or not frames:
                frames.append((await asyncio.wait_for(track.recv(), 10)).to_ndarray(format="rgb24"))
            return frames

        async def main() -> None:
            import aiohttp

            a_track, b_track = make_coded_track(), make_coded_track()
            pc_a, remote_a, answer_a, _ = await open_call(srv.url, a_track)
            pc_b, remote_b, answer_b, _ = await open_call(srv.url, b_track, style="other", method="per-frame")
            ra, rb = await asyncio.wait_for(remote_a, 10), await asyncio.wait_for(remote_b, 10)
            await receive(ra, 0.5)  # let the stream settle
            tiny_1 = await receive(ra, 0.5)
            other_b = await receive(rb, 0.5)
            assert tiny_1[-1].shape == (240, 320, 3)
            camera = coded_image(0)
            # painted frames differ from the camera, and the two calls have their own styles
            assert np.abs(_lower(tiny_1[-1]) - _lower(camera)).mean() > 20
            assert np.abs(_lower(tiny_1[-1]) - _lower(other_b[-1])).mean() > 20
            sessions = srv.server.sessions
            assert sessions[answer_a["session"]].processor is not sessions[answer_b["session"]].processor
            assert sessions[answer_a["session"]].processor.stabilizer is not sessions[answer_b["session"]].processor.stabilizer
            async with aiohttp.ClientSession() as http:
                url = f"{srv.url}/api/session/{answer_a['session']}/control"
                async with http.post(url, json={"strength": -1}) as r:
                    assert r.status == 400 and "strength" in (await r.json())["error"]
                tiny_2 = await receive(ra, 0.5)  # a bad control does not disturb the call
                async with http.post(url, json={"style": "other"}) as r:
                    assert r.status == 200 and (await r.json())["controls"]["style"] == "other"
            # the new style shows up (on a loaded machine the client's own decoding may lag
            # behind by a second or more, so wait for it up to 15 s)
            same = np.abs(_lower(tiny_1[-1]) - _lower(tiny_2[-1])).mean()
            deadline = time.monotonic() + 15
            while True:
                other_a = await receive(ra, 0.5)
                switched = np.abs(_lower(tiny_2[-1]) - _lower(other_a[-1])).mean()
                if switched > 20 or time.monotonic() > deadline:
                    break
            assert switched > 20 and switched > 5 * same, (same, switched)
            async with aiohttp.ClientSession() as http:  # a smaller processing size; the track keeps its size
                async with http.post(url, json={"size": "160x120"}) as r:
                    assert r.status == 200
            smaller = await receive(ra, 0.5)
            assert smaller[-1].shape == (240, 320, 3) and sessions[answer_a["session"]].work_size == (160, 120)
            stats = sessions[answer_a["session"]].stats()
            assert stats["sent"] > 0 and stats["processed"] > 0 and stats["latency_ms"]["p50"] is not None
            # closing one call frees its session and worker thread; the other goes on
            session_a = sessions[answer_a["session"]]
            await pc_a.close()
            deadline = time.monotonic() + 10
            while answer_a["session"] in sessions and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert answer_a["session"] not in sessions
            assert session_a.closed and not session_a.worker_alive
            assert session_a.pc.connectionState == "closed"
            await receive(rb, 0.3)
            assert list(sessions) == [answer_b["session"]]
            await pc_b.close()
            deadline = time.monotonic() + 10
            while sessions and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert sessions == {}

        asyncio.run(main())


LATENCY_SECONDS = float(os.environ.get("STEADYSTYLE_LATENCY_SECONDS", "12"))


def test_latency_does_not_grow_behind_a_slow_style():
    """A style that takes 120 ms per frame (8 fps) fed at 30 fps.  Every received frame carries
    the index of the camera frame it was painted from, so latency is measured end to end (encode,
    network, decode, stylize, waiting).  Criterion of the issue (60 s, first vs last 10 s), on a
    shorter run by default: p95 of the last window within 20 % of the first window (after a
    2-s warm-up), and memory flat.  STEADYSTYLE_LATENCY_SECONDS=60 runs the issue's full length."""
    duration = LATENCY_SECONDS
    window = min(10.0, (duration - 2.0) / 3)
    config = ServerConfig(styles={"slow": SlowIdentity(0.12)}, spec=RunSpec(style="slow", method="per-frame"),
                          ice_peers="loopback")
    with ServerThread(CallServer(config)) as srv:
        async def main() -> tuple[list[tuple[float, float]], list[float], dict]:
            track = make_coded_track(fps=30)
            pc, remote, answer, _ = await open_call(srv.url, track, method="per-frame")
            received = await asyncio.wait_for(remote, 10)
            samples: list[tuple[float, float]] = []
            memory: list[float] = []
            start = None
            newest = -1
            while True:
                frame = await asyncio.wait_for(received.recv(), 10)
                now = time.perf_counter()
                index = decode_index(frame.to_ndarray(format="rgb24"))
                assert index in track.sent, f"decoded frame index {index} was never sent"
                start = start or now
                if index < newest:  # a misread cell (VP8 mid-change): the call never sends an older picture later
                    continue
                newest = index
                samples.append((now - start, (now - track.sent[index]) * 1000.0))
                if now - start >= len(memory):
                    memory.append(rss_mb())
                if now - start >= duration:
                    break
            stats = srv.server.sessions[answer["session"]].stats()
            await pc.close()
            return samples, memory, stats

        samples, memory, stats = asyncio.run(main())
    first = percentiles([ms for t, ms in samples if 2.0 <= t < 2.0 + window])["p95"]
    last = percentiles([ms for t, ms in samples if t >= duration - window])["p95"]
    settled = [(t, ms) for t, ms in samples if t >= 2.0]
    growth = slope_per_minute(settled) / 60.0 * (duration - 2.0)  # ms over the run, least squares
    typical = percentiles([ms for _, ms in settled])["p50"]
    print(f"latency p95 first {window:.0f} s {first} ms, last {window:.0f} s {last} ms; fitted growth {growth:.0f} ms "
          f"over {duration - 2.0:.0f} s (median {typical} ms); rss {memory[2]:.0f} → {memory[-1]:.0f} MB; server {stats}")
    # a queue behind the slow style grows latency by ~2.7 s every second; the p95 of a 3-s window
    # (about 25 frames at 8 fps) moves by one 120-ms style step on its own, so the trend is fitted
    # over every frame after the warm-up
    assert abs(growth) <= 0.2 * typical, (growth, typical, first, last)
    assert memory[-1] - memory[2] < 20, memory
    assert stats["dropped"] > stats["processed"], "the slow style must actually be slower than the camera"


def test_serve_options_are_checked_in_one_line(tmp_path, capsys):
    from steadystyle.cli import main
    from steadystyle.web.server import ssl_context

    assert ssl_context(None, None) is None
    assert main(["serve", "--cert", str(tmp_path / "c.pem")]) == 2
    assert "--cert and --key go together" in capsys.readouterr().err
    (tmp_path / "c.pem").write_text("not a certificate")
    (tmp_path / "k.pem").write_text("not a key")
    assert main(["serve", "--cert", str(tmp_path / "c.pem"), "--key", str(tmp_path / "k.pem")]) == 2
    assert "cannot load" in capsys.readouterr().err
    assert main(["serve", "--size", "7x7"]) == 2
    assert "size must be one of" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:  # argparse refuses it, in one line
        main(["serve", "--method", "nope"])
    assert caught.value.code == 2
    assert "steadystyle: error: argument --method: invalid choice: 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        main(["serve", "--max-calls", "0"])
    assert caught.value.code == 2 and "must be at least 1" in capsys.readouterr().err
    assert main(["serve", "--styles", "nope"]) == 2
    assert "unknown style" in capsys.readouterr().err


def _mean_change(pictures: list[np.ndarray]) -> float:
    """Mean absolute change between consecutive pictures, below the index band (grey levels)."""
    return float(np.mean([np.abs(_lower(b) - _lower(a)).mean() for a, b in zip(pictures, pictures[1:])]))


def test_steadiness_and_face_detail_through_the_control_endpoint():
    """A still camera and a style that flickers: with steadiness 0 (per-frame) the painted
    output changes at every frame, with 1 (frame-diff alone) it stays put; the control endpoint
    switches between them, the worker applies it, and the call's controls and stats show it."""
    from steadystyle.web.config import faces_available

    flicker = Flicker()
    config = ServerConfig(styles={"flicker": flicker}, spec=RunSpec(style="flicker", method="frame-diff"),
                          size="160x120", ice_peers="loopback")
    with ServerThread(CallServer(config)) as srv:
        async def painted(session, frames: int = 12, timeout: float = 20.0) -> list[np.ndarray]:
            """The call's next ``frames`` distinct painted outputs (by frame index)."""
            seen: dict[int, np.ndarray] = {}
            first = session.newest_result()
            skip = first[2] if first is not None else -1
            end = time.monotonic() + timeout
            while len(seen) < frames and time.monotonic() < end:
                newest = session.newest_result()
                if newest is not None and newest[2] > skip:
                    seen.setdefault(newest[2], newest[0])
                await asyncio.sleep(0.005)
            assert len(seen) >= frames, f"only {len(seen)} painted frames in {timeout} s"
            return [seen[i] for i in sorted(seen)]

        async def control(http, sid: str, body: dict) -> tuple[int, dict]:
            async with http.post(f"{srv.url}/api/session/{sid}/control", json=body) as r:
                return r.status, await r.json()

        async def main() -> None:
            import aiohttp

            pc, remote, answer, _ = await open_call(srv.url, make_coded_track(still=True), steadiness=0.0)
            sid = answer["session"]
            assert answer["controls"]["steadiness"] == 0.0
            await asyncio.wait_for(remote, 10)
            session = srv.server.sessions[sid]
            assert session.processor.steadiness == 0.0  # the offer's value reached the call's processor
            per_frame = _mean_change(await painted(session))
            async with aiohttp.ClientSession() as http:
                status, reply = await control(http, sid, {"steadiness": 1})
                assert status == 200 and reply["controls"]["steadiness"] == 1.0
                await painted(session, frames=5)  # the stabilizer settles on its first frames
                steady = _mean_change(await painted(session))
                assert session.processor.steadiness == 1.0 and session.stats()["controls"]["steadiness"] == 1.0
                status, reply = await control(http, sid, {"steadiness": 0})
                assert status == 200
                again = _mean_change(await painted(session))
                # face detail: applied by the worker (a detector on this gradient finds no face)
                if faces_available():
                    status, reply = await control(http, sid, {"face_detail": 0.4})
                    assert status == 200 and reply["controls"]["face_detail"] == 0.4
                    await painted(session, frames=3)
                    assert session.processor.face is not None and session.processor.face.detail == 0.4
                    status, reply = await control(http, sid, {"face_detail": 0})
                    await painted(session, frames=3)
                    assert status == 200 and session.processor.face is None
                else:
                    status, reply = await control(http, sid, {"face_detail": 0.4})
                    assert status == 400 and "face models" in reply["error"]
                assert session.stats()["controls"]["face_detail"] == 0.0
            await pc.close()
            print(f"mean change per frame: steadiness 0 {per_frame:.1f}, 1 {steady:.2f}, 0 again {again:.1f}")
            assert per_frame > 15 and again > 15, (per_frame, again)  # the flicker shows, frame by frame
            assert steady < 2 and steady < per_frame / 10, (steady, per_frame)  # and is gone at steadiness 1

        asyncio.run(main())


def test_serve_steadiness_and_face_detail_are_the_calls_start_values(monkeypatch):
    """``serve --steadiness S --face-detail D``: the page's start values (/api/config) and the
    controls every call starts with."""
    import steadystyle.web.server as server_module
    from steadystyle.cli import main

    seen: list[ServerConfig] = []
    monkeypatch.setattr(server_module, "serve", lambda config, **kw: seen.append(config))
    assert main(["serve", "--steadiness", "0.3", "--face-detail", "0", "--port", "0"]) == 0
    controls = seen[0].start_controls()
    assert seen[0].run.steadiness == 0.3 and controls["steadiness"] == 0.3 and controls["face_detail"] == 0.0
    assert main(["serve", "--port", "0"]) == 0  # the defaults: the method alone, faces on where installed
    from steadystyle.face import default_face_detail

    assert seen[1].start_controls()["steadiness"] == 1.0
    assert seen[1].start_controls()["face_detail"] == default_face_detail()
