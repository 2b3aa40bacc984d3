"""A call's frame loop, driven in-process (no WebRTC): camera frames are put into two calls'
newest-frame sources at 30 fps from the event loop, as the track reader does.  One call switches
to a style whose stylizer takes a second to build and runs slowly; the other call's frames and
the event loop must not notice."""

from __future__ import annotations

import asyncio
import fractions
import threading
import time

import numpy as np
import pytest

pytest.importorskip("aiortc", reason="the web extra is not installed (pip install -e '.[web]')")

from av import VideoFrame  # noqa: E402
from web_helpers import SlowIdentity, coded_image  # noqa: E402

from steadystyle.spec import RunSpec  # noqa: E402
from steadystyle.web.session import Arrival, CallSession  # noqa: E402
from steadystyle.web.stylizers import StylizerCache  # noqa: E402

SLOW_S = 2.0  # one network pass of the style call A switches to (s): long beside scheduling noise
BUILD_S = 1.0  # building that style (s), as an ONNX export would take


class NoPeer:
    """Stands in for the peer connection (only closed)."""

    connectionState = "closed"

    async def close(self) -> None:
        pass


class Inverted(SlowIdentity):
    """A slow "style" that paints the negative: its frames are told apart from the identity's.
    ``running`` is set when a pass starts."""

    def __init__(self, delay: float, name: str) -> None:
        super().__init__(delay, name)
        self.running = threading.Event()

    def __call__(self, image: np.ndarray) -> np.ndarray:
        self.running.set()
        return 255 - super().__call__(image)


def picture(index: int) -> VideoFrame:
    frame = VideoFrame.from_ndarray(coded_image(index, 160, 120), format="rgb24")
    frame.pts, frame.time_base = index * 3000, fractions.Fraction(1, 90000)
    return frame


def test_a_style_switch_on_one_call_does_not_delay_another_calls_frames():
    built: list[float] = []

    def build(name: str):
        if name == "slow":
            time.sleep(BUILD_S)  # blocks a thread, never the event loop
            built.append(time.perf_counter())
            return Inverted(SLOW_S, "slow")
        return SlowIdentity(0.01, name)

    stylizers = StylizerCache(build)
    controls = {"style": "fast", "method": "per-frame", "strength": 1.0, "preserve_colors": False, "size": "160x120"}
    spec = RunSpec(style="fast", method="per-frame")

    async def main() -> dict:
        fast = await stylizers.get("fast")
        a = CallSession("a", NoPeer(), spec, fast, controls)
        b = CallSession("b", NoPeer(), spec, fast, controls)
        a.start()
        b.start()
        ticks: list[float] = []
        stop = asyncio.Event()

        async def camera() -> None:
            index = 0
            start = time.perf_counter()
            while not stop.is_set():
                now = time.perf_counter()
                ticks.append(now)
                for session in (a, b):
                    session.frames.put(Arrival(picture(index), now, index / 30))
                index += 1
                await asyncio.sleep(max(0.0, start + index / 30 - time.perf_counter()))

        feeder = asyncio.ensure_future(camera())
        await asyncio.sleep(0.5)
        told: list[dict] = []
        switch_at = time.perf_counter()
        changed = await a.change({"style": "slow"}, stylizers, told.append)
        answered = time.perf_counter()
        slow = await stylizers.get("slow")
        while not slow.running.is_set():  # A is now inside a slow pass ...
            await asyncio.sleep(0.005)
        again: list[dict] = []
        await a.change({"style": "fast"}, stylizers, again.append)  # ... and is told to switch back
        await asyncio.sleep(0.5)
        slow.running.clear()
        await a.change({"style": "slow"}, stylizers, again.append)  # built already: no waiting
        while not slow.running.is_set():
            await asyncio.sleep(0.005)
        await asyncio.sleep(SLOW_S + 0.3)  # that pass is out
        end = time.perf_counter()
        stop.set()
        await feeder
        newest_a = a.newest_result()
        await a.close()
        await b.close()
        return {"a": a, "b": b, "ticks": ticks, "told": told, "again": again, "changed": changed,
                "switch": (switch_at, answered, end), "newest_a": newest_a}

    r = asyncio.run(main())
    a, b = r["a"], r["b"]
    switch_at, answered, end = r["switch"]
    # the switch waited for the build (off the loop), and the page was told meanwhile
    assert answered - switch_at >= BUILD_S * 0.9
    assert r["told"] == [{"type": "preparing", "style": "slow"}] and r["again"] == []
    assert r["changed"]["style"] == "slow" and a.controls["style"] == "slow"
    # A really switched: its newest output is the negative of the camera picture (below the band
    # that codes the frame index, the picture is the same in every frame)
    image, _, _ = r["newest_a"]
    below = slice(2 * 20, None)
    assert np.abs(image[below].astype(int) - (255 - coded_image(0, 160, 120)[below].astype(int))).max() <= 1
    window = [t for t in b.log.done if switch_at <= t <= end]
    gaps_b = np.diff([switch_at, *window, end])
    gaps_loop = np.diff([t for t in r["ticks"] if switch_at - 0.1 <= t <= end])
    # while A prepared and ran a style whose passes take SLOW_S, B kept its pace and so did the
    # camera frames the event loop delivers: no gap of even half a slow pass (a control that
    # waited for A's running pass on the event loop would stall both by up to SLOW_S)
    assert gaps_b.max() < SLOW_S / 2, (gaps_b.max(), gaps_loop.max(), int(np.argmax(gaps_b)), len(gaps_b))
    assert gaps_loop.max() < SLOW_S / 2, gaps_loop.max()
    assert len(window) > 0.6 * 30 * (end - switch_at), len(window)  # B processed nearly every frame
    slow_a = [ms for ms in a.log.stylize_ms if ms >= SLOW_S * 900]
    assert len(slow_a) >= 2  # A did run slow passes during that time
    assert not a.worker_alive and not b.worker_alive


def test_calls_sharing_a_style_keep_their_own_region_statistics(tiny_style):
    """A region pass freezes the statistics of the stream's own last full frame, not another
    call's (the weights are shared, the views are not)."""
    from steadystyle.geometry import Box
    from steadystyle.web.stylizers import stream_view

    shared = RunSpec(style=tiny_style, backend="torch", device="cpu").stylizer()
    a, b = stream_view(shared), stream_view(shared)
    assert a is not b and a is not shared
    rng = np.random.default_rng(0)
    image_a = rng.integers(0, 60, (96, 96, 3), dtype=np.uint8)  # a dark scene
    image_b = rng.integers(180, 255, (96, 96, 3), dtype=np.uint8)  # a bright one
    box = Box(8, 24, 8, 24)
    a.stylize_region(image_a, box)  # turns tracking on; the first pass is a full one
    own = a(image_a)[box.slices()]
    stats_a = a.region_stats
    b.stylize_region(image_b, box)
    b(image_b)  # call B's full frames do not replace A's statistics
    assert a.region_stats is stats_a and b.region_stats is not stats_a
    region = a.stylize_region(image_a, box)
    assert np.abs(region.astype(int) - own.astype(int)).mean() < 2  # A's region pass matches A's full frame


def _openvino_installed() -> bool:
    from steadystyle.backends import REGISTRY

    return REGISTRY["openvino"].available()


@pytest.mark.skipif(not _openvino_installed(), reason="openvino not installed")
def test_openvino_calls_sharing_a_style_own_their_infer_requests(tiny_style, monkeypatch):
    """Compiled models are shared by the calls of one style (OpenVINO's compiled models are
    thread-safe), infer requests are not: each call's view has its own, so two calls' region
    passes in two threads at once give what each gives alone."""
    from steadystyle.backends import openvino as ov_backend
    from steadystyle.backends.openvino import OpenVinoStylizer
    from steadystyle.geometry import Box
    from steadystyle.web.stylizers import stream_view

    real_core, compiled = ov_backend.core(), []

    class CountingCore:
        def compile_model(self, model, *args):
            compiled.append(model.input("input").get_partial_shape().to_string())
            return real_core.compile_model(model, *args)

        def __getattr__(self, name):
            return getattr(real_core, name)

    monkeypatch.setattr(ov_backend, "core", lambda: CountingCore())
    shared = OpenVinoStylizer(tiny_style, precision="f32")
    a, b = stream_view(shared), stream_view(shared)
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 255, (240, 320, 3), dtype=np.uint8) for _ in range(2)]
    boxes = [[Box(10 + 2 * i, 40 + 3 * i, 12 + i, 50 + 2 * i) for i in range(12)],
             [Box(120 + i, 160 + 2 * i, 200 + 3 * i, 250 + i) for i in range(12)]]  # crop shapes differ each pass
    views = (a, b)
    for view, image, box in zip(views, images, boxes):
        view.stylize_region(image, box[0])  # a full pass: records this call's statistics
        view.stylize_region(image, box[1])  # a region pass through the frozen graph
    assert a._request("frozen", None) is not b._request("frozen", None)
    assert a._request("frozen", None) is not shared._request("frozen", None)
    assert len(compiled) == 2, compiled  # the record and frozen graphs, compiled once for both calls
    assert ("frozen", None) in a.compiled_shapes()  # the region passes below really run on crops
    serial = [[view.stylize_region(image, box) for box in bs] for view, image, bs in zip(views, images, boxes)]

    results: list = [None, None]
    start = threading.Barrier(2)

    def run(i: int) -> None:
        start.wait()
        results[i] = [[views[i].stylize_region(images[i], box) for box in boxes[i]] for _ in range(10)]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for i in range(2):
        assert results[i] is not None, f"call {i} raised"
        for rerun in results[i]:
            for got, want in zip(rerun, serial[i]):
                np.testing.assert_array_equal(got, want)
    assert len(compiled) == 2


def test_a_long_call_keeps_a_bounded_log_with_true_totals():
    from steadystyle.loop import FrameResult
    from steadystyle.sources import Frame
    from steadystyle.web.session import CallLog

    log = CallLog(keep=100)
    image = np.zeros((4, 4, 3), np.uint8)
    for i in range(1000):  # a frame every 10 ms of a made-up clock; network 5 ms, every 2nd frame
        frame = Frame(image, i / 100, i, captured=i / 100)
        log.on_frame(FrameResult(frame, image, i % 2 == 0, 0.1, 5.0 * (i % 2 == 0), 1.0, i / 100 + 0.02))
    assert log.total == 1000 and 100 <= len(log.done) <= 200 and len(log.stylize_ms) == len(log.done)
    assert log.done[-1] == 999 / 100 + 0.02  # the newest frames are the ones kept
    count, network = log.recent(since=log.done[-1] - 0.095)  # the last 10 frames
    assert count == 10 and sorted(set(network)) == [0.0, 5.0] and network.count(5.0) == 5
    assert log.delivered_fps() == pytest.approx(100.0)


def test_the_track_sends_each_stylized_picture_once_without_waiting_for_the_next_camera_frame():
    """The outgoing track sends a picture as soon as the worker painted it, and only once: one
    camera frame and no other gives one sent frame (the old track waited for the next camera
    frame's arrival, which never came here); then a style slower than the 30-fps camera sends one
    frame per picture it made, never a repeat (the old track sent the newest picture again at
    every arrival: VP8 encode here and decode in the browser for nothing), stamped with the pts
    of the camera frame it was painted from."""
    from aiortc.mediastreams import MediaStreamError

    from web_helpers import decode_index
    from steadystyle.web.session import StylizedTrack

    def camera_picture(index: int) -> VideoFrame:  # full size: decode_index reads it back
        frame = VideoFrame.from_ndarray(coded_image(index), format="rgb24")
        frame.pts, frame.time_base = index * 3000, fractions.Fraction(1, 90000)
        return frame

    controls = {"style": "slow", "method": "per-frame", "strength": 1.0, "preserve_colors": False, "size": "320x240"}

    async def main() -> tuple:
        session = CallSession("t", NoPeer(), RunSpec(style="slow", method="per-frame"), SlowIdentity(0.1, "slow"),
                              controls)
        session.time_base = fractions.Fraction(1, 90000)
        track = StylizedTrack(session)
        session.start()
        session.frames.put(Arrival(camera_picture(0), time.perf_counter(), 0.0))
        first = await asyncio.wait_for(track.recv(), 10)  # no second camera frame is ever put
        sent: list = []
        stop = asyncio.Event()

        async def camera() -> None:
            start = time.perf_counter()
            for index in range(1, 31):  # 1 s at 30 fps, ~3 × the style's rate
                session.frames.put(Arrival(camera_picture(index), time.perf_counter(), index / 30))
                await asyncio.sleep(max(0.0, start + index / 30 - time.perf_counter()))
            while session.frames.delivered + session.frames.dropped < 31:  # the last frame taken ...
                await asyncio.sleep(0.01)
            while session.sink.count < session.frames.delivered:  # ... and painted
                await asyncio.sleep(0.01)
            stop.set()

        async def receive() -> None:
            while True:
                getting = asyncio.ensure_future(track.recv())
                stopping = asyncio.ensure_future(stop.wait())
                await asyncio.wait({getting, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if getting.done():
                    sent.append(getting.result())
                    stopping.cancel()
                    continue
                try:  # a picture painted just before the stop still comes out
                    sent.append(await asyncio.wait_for(getting, 0.5))
                except asyncio.TimeoutError:
                    pass
                return

        await asyncio.gather(camera(), receive())
        processed = session.log.total
        await session.close()
        try:
            await asyncio.wait_for(track.recv(), 5)
            ended = False
        except MediaStreamError:
            ended = True
        return first, sent, processed, session.sent, ended

    first, sent, processed, counted, ended = asyncio.run(main())
    assert decode_index(first.to_ndarray(format="rgb24")) == 0 and first.pts == 0
    indices = [decode_index(f.to_ndarray(format="rgb24")) for f in sent]
    assert indices == sorted(set(indices)), indices  # no picture twice, in camera order
    assert [f.pts for f in sent] == [3000 * i for i in indices]  # the painted camera frame's pts
    assert 1 + len(sent) == processed == counted, (len(sent), processed, counted)
    assert 3 <= len(sent) <= 20, indices  # the slow style made far fewer pictures than the 30 frames
    assert ended
