"""A long call's memory stays flat (#23, :mod:`steadystyle.web.memory`): the server pins glibc's
mmap threshold, so picture-sized buffers are mapped and given back whole instead of fragmenting
the heaps; its OpenVINO stylizers keep a bounded cache of region shapes; and the call's own
Python state does not grow with the frames it has seen.  No timing: counts of mapped blocks
(glibc ``mallinfo2``), traced Python bytes, resident memory over many crop shapes."""

from __future__ import annotations

import asyncio
import ctypes
import fractions
import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

pytest.importorskip("aiortc", reason="the web extra is not installed (pip install -e '.[web]')")

from av import VideoFrame  # noqa: E402
from web_helpers import SlowIdentity, coded_image  # noqa: E402

from steadystyle.spec import RunSpec  # noqa: E402
from steadystyle.web.memory import _glibc  # noqa: E402
from steadystyle.web.session import Arrival, CallSession  # noqa: E402

needs_glibc = pytest.mark.skipif(_glibc() is None or not hasattr(_glibc(), "mallinfo2"),
                                 reason="glibc 2.33+ (mallinfo2) only")

# In a fresh process: free one large mapped block (glibc's dynamic threshold then rises to its
# size), then allocate a 640×480 picture and tell whether glibc mapped it (a mapped block more
# while it lives) or took it from a heap.  ``server``: construct the CallServer first.
PROBE = r"""
import ctypes, sys
import numpy as np

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                               "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "server":
    from steadystyle.web.config import ServerConfig
    from steadystyle.web.server import CallServer
    CallServer(ServerConfig(styles=["scream"]))
big = np.ones(8 << 20, np.uint8)  # mapped (above any threshold) ...
del big  # ... and freed: an unpinned threshold is now 8 MiB
before = libc.mallinfo2().hblks
picture = np.ones(640 * 480 * 3, np.uint8)
print(libc.mallinfo2().hblks - before)
"""


def _mapped_after_a_large_free(mode: str) -> int:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("MALLOC_MMAP_THRESHOLD_", None)
    env.pop("GLIBC_TUNABLES", None)
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    return int(out.stdout.strip().splitlines()[-1])


@needs_glibc
def test_the_server_pins_the_mmap_threshold_so_pictures_are_mapped_and_given_back():
    # without the server's setting, glibc's dynamic threshold puts a picture on a heap once a
    # larger mapped block was freed (what made the soak's heaps grow: docs/web-call.md) ...
    assert _mapped_after_a_large_free("plain") == 0
    # ... with it, the picture is its own mapping, returned to the system when freed
    assert _mapped_after_a_large_free("server") == 1


class NoPeer:
    connectionState = "closed"

    async def close(self) -> None:
        pass


def _picture(index: int, width: int, height: int) -> VideoFrame:
    frame = VideoFrame.from_ndarray(coded_image(index, width, height), format="rgb24")
    frame.pts, frame.time_base = index * 3000, fractions.Fraction(1, 90000)
    return frame


def test_a_calls_python_memory_does_not_grow_with_its_frames():
    """Frames through a call's worker (the reader's puts, the loop, sink, log, sent statistics):
    the Python bytes held after 600 more frames are what they were before — measured each time at
    a quiet point (every frame put was taken or dropped, every frame taken was logged), after the
    log was trimmed and the 2000-long statistics deques filled; nothing is kept per frame."""
    spec = RunSpec(style="fast", method="per-frame")
    controls = {"style": "fast", "method": "per-frame", "strength": 1.0, "preserve_colors": False, "size": "160x120"}
    put = 0

    async def frames_until(session: CallSession, total: int) -> None:
        nonlocal put
        while session.log.total < total:
            now = asyncio.get_running_loop().time()
            session.frames.put(Arrival(_picture(put, 160, 120), now, put / 30))
            session._arrived_at.append(now)
            put += 1
            await asyncio.sleep(0.001)
            result = session.newest_result()
            if result is not None:
                session.record_sent(result[1])
        frames = session.frames
        while frames.delivered + frames.dropped < put or session.log.total < frames.delivered:
            await asyncio.sleep(0.001)  # the worker finishes the frame it is on, then waits
        session.stats()

    async def main() -> tuple[list, int, int]:
        session = CallSession("m", NoPeer(), spec, SlowIdentity(0.0, "fast"), controls)
        session.log.keep = 10  # trimmed within the test (4096 in a real call), and little to vary
        session.start()
        try:
            await frames_until(session, 2100)
            tracemalloc.start()
            await frames_until(session, 2200)
            first = tracemalloc.take_snapshot()
            await frames_until(session, 2800)
            last = tracemalloc.take_snapshot()
            tracemalloc.stop()
        finally:
            await session.close()
        return last.compare_to(first, "lineno"), session.log.total, len(session.log.done)

    diff, total, kept = asyncio.run(main())
    assert total >= 2800 and kept <= 20
    grown = sum(d.size_diff for d in diff)
    # a leak of even one float per frame would add 14 KB; a picture, 57 KB
    assert grown < 8 * 1024, [str(d) for d in diff[:5]]


def _servers_openvino_stylizer():
    """The stylizer a server builds for ``scream`` on OpenVINO (as a call would get it)."""
    from steadystyle.web.config import ServerConfig
    from steadystyle.web.server import CallServer

    spec = RunSpec(style="scream", backend="openvino", device="cpu")
    server = CallServer(ServerConfig(spec=spec, styles=["scream"]))
    return server.stylizers.get_blocking("scream", timeout=300)


def test_the_servers_openvino_models_are_compiled_with_a_bounded_shape_cache(monkeypatch):
    """The server adds nothing: every model its stylizers compile (full frames and the dynamic
    region model) is asked to keep at most the backend's bound of prepared shapes, not OpenVINO's 5000."""
    pytest.importorskip("openvino")
    from steadystyle.backends import openvino as ov_backend
    from steadystyle.backends.openvino import SHAPE_CACHE
    from steadystyle.geometry import Box

    real_core, asked = ov_backend.core(), []

    class Core:
        def compile_model(self, model, device, config):
            asked.append((model.input("input").get_partial_shape().is_dynamic, dict(config)))
            return real_core.compile_model(model, device, config)

        def __getattr__(self, name):
            return getattr(real_core, name)

    monkeypatch.setattr(ov_backend, "core", lambda: Core())
    stylizer = _servers_openvino_stylizer()
    assert stylizer.backend == "openvino"
    image = np.random.default_rng(0).integers(0, 256, (240, 320, 3), np.uint8)
    stylizer.stylize_region(image, Box(60, 100, 100, 150))  # a full pass recording statistics
    stylizer.stylize_region(image, Box(60, 100, 100, 150))  # a region pass: the dynamic model
    assert {dynamic for dynamic, _ in asked} == {False, True}
    assert all(config["CPU_RUNTIME_CACHE_CAPACITY"] == str(SHAPE_CACHE) for _, config in asked), asked
    assert 0 < SHAPE_CACHE < 5000


def test_an_openvino_region_model_holds_at_most_the_bounded_shapes():
    """Region crops of ever new sizes through the server's OpenVINO stylizer: once the bounded
    cache is full, 100 more shapes add little memory (measured: +7 MiB for 150 shapes; with
    OpenVINO's default, which keeps 5000, +112 MiB: about 0.75 MiB a shape)."""
    pytest.importorskip("openvino")
    from steadystyle.geometry import Box
    from steadystyle.backends.openvino import SHAPE_CACHE
    from steadystyle.web.trend import rss_mib

    stylizer = _servers_openvino_stylizer()
    image = np.random.default_rng(0).integers(0, 256, (240, 320, 3), np.uint8)
    stylizer.track_stats = True
    stylizer(image)  # the statistics the region passes freeze
    shapes = [(h, w) for h in range(16, 80, 4) for w in range(16, 80, 4)]  # 256 crop shapes
    np.random.default_rng(1).shuffle(shapes)

    def crops(some: list) -> None:
        for h, w in some:
            stylizer.stylize_region(image, Box(60, 60 + h, 100, 100 + w))

    crops(shapes[:SHAPE_CACHE + 16])  # the cache is full
    before = rss_mib()
    crops(shapes[SHAPE_CACHE + 16:SHAPE_CACHE + 116])
    grown = rss_mib() - before
    assert grown < 25, grown  # unbounded: ~75 MiB for these 100 shapes
