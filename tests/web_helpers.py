"""Helpers for the web tests: the server in a background thread, a Python WebRTC client whose
frames carry their own index (so latency is measured end to end), and a fake-camera clip."""

from __future__ import annotations

import asyncio
import fractions
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

BITS = 16
CELL = 20  # pixels per bit cell: 8 cells per row, 2 rows → 160×40 at the top of the frame


def coded_image(index: int, width: int = 320, height: int = 240) -> np.ndarray:
    """An RGB frame whose top band encodes ``index`` in black/white cells, over a fixed gradient."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.stack([x * 255 // width, y * 255 // height, np.full_like(x, 90)], -1).astype(np.uint8)
    for bit in range(BITS):
        r, c = divmod(bit, 8)
        image[r * CELL:(r + 1) * CELL, c * CELL:(c + 1) * CELL] = 255 if (index >> bit) & 1 else 0
    return image


def decode_index(image: np.ndarray) -> int:
    """The index :func:`coded_image` wrote (read at cell centres, scaled to the image's size)."""
    h, w = image.shape[:2]
    sy, sx = h / 240, w / 320
    value = 0
    for bit in range(BITS):
        r, c = divmod(bit, 8)
        y0, y1 = int((r * CELL + 5) * sy), int(((r + 1) * CELL - 5) * sy)
        x0, x1 = int((c * CELL + 5) * sx), int(((c + 1) * CELL - 5) * sx)
        if image[y0:y1, x0:x1].mean() > 128:
            value |= 1 << bit
    return value


class SlowIdentity:
    """A deliberately slow "style" (the Stylizer protocol): returns the frame, or the region,
    unchanged after ``delay`` seconds, without using the CPU meanwhile.  ``calls`` counts the
    network passes."""

    backend = "test"
    max_side = None
    context = 0

    def __init__(self, delay: float, name: str = "slow") -> None:
        self.delay = delay
        self.name = name
        self.calls = 0

    def __call__(self, image: np.ndarray) -> np.ndarray:
        self.calls += 1
        time.sleep(self.delay)
        return image.copy()

    def stylize_region(self, image: np.ndarray, box: Any) -> np.ndarray:
        return self(image[box.slices()])

    def synchronize(self) -> None:
        pass


class Flicker(SlowIdentity):
    """A "style" that flickers: each pass returns the frame shifted by a fresh random grey offset
    (−60…60 levels), so two passes over the same still picture differ by about 40 on average."""

    def __init__(self, name: str = "flicker", seed: int = 0) -> None:
        super().__init__(0.0, name)
        self.rng = np.random.default_rng(seed)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        self.calls += 1
        offset = int(self.rng.integers(-60, 61))
        return np.clip(image.astype(np.int16) + offset, 0, 255).astype(np.uint8)


class ServerThread:
    """A :class:`~steadystyle.web.server.CallServer` on 127.0.0.1 (a free port) in its own thread."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from aiohttp import web

        asyncio.set_event_loop(self.loop)
        self.runner = web.AppRunner(self.server.app())
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        self.loop.run_forever()

    def __enter__(self) -> ServerThread:
        self._thread.start()
        assert self._ready.wait(20), "server did not start"
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, coro: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the server's loop (e.g. to inspect sessions)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


def make_coded_track(fps: int = 30, size: tuple[int, int] = (320, 240), still: bool = False):
    """An aiortc video track sending :func:`coded_image` frames at ``fps``; ``sent[i]`` is the
    ``time.perf_counter()`` when frame ``i`` was handed to the encoder.  ``still``: every frame
    is picture 0 (a camera that sees a still scene)."""
    from aiortc import VideoStreamTrack
    from av import VideoFrame

    class CodedTrack(VideoStreamTrack):
        def __init__(self) -> None:
            super().__init__()
            self.sent: dict[int, float] = {}
            self.index = 0
            self.start: float | None = None

        async def recv(self) -> VideoFrame:
            if self.start is None:
                self.start = time.perf_counter()
            due = self.start + self.index / fps
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            frame = VideoFrame.from_ndarray(coded_image(0 if still else self.index, *size), format="rgb24")
            frame.pts = self.index * (90000 // fps)
            frame.time_base = fractions.Fraction(1, 90000)
            self.sent[self.index] = time.perf_counter()
            self.index += 1
            return frame

    return CodedTrack()


LOOPBACK = ("127.0.0.1",)


async def open_call(url: str, track: Any, **controls: Any) -> tuple[Any, Any, dict, Any]:
    """A Python peer: send ``track``, post the offer; returns (pc, remote track future, answer, channel)."""
    import aiohttp
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    from steadystyle.web.ice import gather_on

    with gather_on(LOOPBACK):  # every packet of the test stays on 127.0.0.1
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        remote: asyncio.Future = asyncio.get_running_loop().create_future()
        pc.on("track", lambda t: remote.done() or remote.set_result(t))
        channel = pc.createDataChannel("control")
        pc.addTrack(track)
        await pc.setLocalDescription(await pc.createOffer())
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/offer", json={"sdp": pc.localDescription.sdp, "type": "offer", **controls}) as r:
            answer = await r.json()
            assert r.status == 200, answer
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))
    return pc, remote, answer, channel


def rss_mb() -> float:
    """Resident memory of this process, MB (Linux)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def write_y4m(path: Path, images: list[np.ndarray], fps: int = 30) -> Path:
    """A YUV4MPEG2 (4:2:0) clip for Chromium's fake camera."""
    h, w = images[0].shape[:2]
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for image in images:
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(image, cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


def chromium_candidates() -> list[str | None]:
    """Browsers to try: $STEADYSTYLE_CHROMIUM, the system Chromium (``/usr/bin/chromium``, as
    ``.ci/run`` installs it), then Playwright's own download (None)."""
    import os
    import shutil

    found: list[str | None] = []
    if os.environ.get("STEADYSTYLE_CHROMIUM"):
        found.append(os.environ["STEADYSTYLE_CHROMIUM"])
    for name in ("/usr/bin/chromium", "/usr/lib/chromium/chromium", "chromium", "chromium-browser", "google-chrome"):
        path = name if os.path.isabs(name) and os.access(name, os.X_OK) else shutil.which(name)
        if path and path not in found:
            found.append(path)
    found.append(None)
    return found


class browser_or_skip:
    """Context manager: a headless Chromium through Playwright, or ``pytest.skip`` with the
    reasons each candidate failed (a failure instead when STEADYSTYLE_REQUIRE_BROWSER=1)."""

    def __init__(self, args: list[str]) -> None:
        self.args = args

    def __enter__(self):
        import os

        import pytest
        from playwright.sync_api import sync_playwright

        self.pw = sync_playwright().start()
        reasons = []
        for path in chromium_candidates():
            try:
                self.browser = self.pw.chromium.launch(executable_path=path, headless=True,
                                                       args=["--no-sandbox", *self.args])
                return self.browser
            except Exception as exc:  # noqa: BLE001 - collected into the skip reason
                reasons.append(f"{path or 'playwright-chromium'}: {str(exc).splitlines()[0]}")
        self.pw.stop()
        message = "no Chromium could be started (" + "; ".join(reasons) + "); install it: apt-get install chromium"
        if os.environ.get("STEADYSTYLE_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)

    def __exit__(self, *exc: object) -> None:
        self.browser.close()
        self.pw.stop()


def udp_sockets() -> set[tuple[str, int]]:
    """(local address, port) of every UDP socket this process holds (Linux: /proc/net/udp{,6})."""
    import ipaddress
    import os
    import socket
    import struct

    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table, width in (("/proc/net/udp", 8), ("/proc/net/udp6", 32)):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[9] not in inodes:
                continue
            hexaddr, hexport = fields[1].split(":")
            raw = bytes.fromhex(hexaddr)
            # the kernel prints each 32-bit word in host byte order
            words = b"".join(struct.pack("=I", struct.unpack(">I", raw[i:i + 4])[0]) for i in range(0, len(raw), 4))
            address = socket.inet_ntop(socket.AF_INET if width == 8 else socket.AF_INET6, words)
            found.add((str(ipaddress.ip_address(address)), int(hexport, 16)))
    return found
