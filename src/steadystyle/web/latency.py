"""End-to-end latency of the browser call, measured in the browser (#23).

Headless Chromium (through Playwright) plays a clip as its fake camera; every frame carries its
index in a band of black/white cells at the top.  The call page sends it to ``steadystyle
serve`` on loopback and shows the painted video; in the page, ``requestVideoFrameCallback`` on
the camera ``<video>`` notes when each index was shown locally, and on the painted ``<video>``
when it came back.  Latency = painted − camera time of the same index: capture, encode, network,
decode, stylization, stabilization, waiting, encode, decode — everything but the camera itself.

``python -m steadystyle.web.latency --style identity --size 320x240 --seconds 60`` prints p50 and
p95 (ms), the latency's slope over the call (ms per minute), the rate of distinct painted frames
(fps) and the share of painted frames whose index could not be read (a style can paint over the
band).  ``identity`` returns the camera picture unchanged: the WebRTC path's own cost.

The same run samples the server process's resident memory (``VmRSS``, every ``--memory-every``
seconds; the server runs in this process, Chromium in its own) and reports, for latency and for
memory, the least-squares slope per minute and the medians of the first and the last minute —
``--seconds 600`` is #23's 10-minute soak.  ``--markdown`` prints the result as a table row.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SteadyStyleError
from .trend import RssSampler, by_minute, trend

BITS = 10  # frame indices 0–1023; the clip loops sooner
CLIP_FRAMES = 300  # 10 s at 30 fps


class Identity:
    """A "style" that returns the frame unchanged (the Stylizer protocol): the path's own cost."""

    name = "identity"
    backend = "none"
    max_side = None
    context = 0

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return image.copy()

    def stylize_region(self, image: np.ndarray, box: Any) -> np.ndarray:
        return image[box.slices()].copy()

    def synchronize(self) -> None:
        pass


def coded_frame(index: int, width: int, height: int) -> np.ndarray:
    """An RGB frame: ``index`` in :data:`BITS` cells across the top eighth (white = 1) and its
    complement in the eighth below (a style may darken or brighten a cell, but a cell and its
    complement must still read opposite), over a scene with a disc moving across it (so the
    stabilizer has motion to follow)."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.stack([x * 255 // width, y * 255 // height, np.full_like(x, 110)], -1).astype(np.uint8)
    import cv2

    t = index / 30.0
    cx = int(width * (0.5 + 0.3 * np.sin(t)))
    cv2.circle(image, (cx, height * 3 // 5), height // 6, (230, 190, 60), -1)
    cell, band = width // BITS, height // 8
    for bit in range(BITS):
        one = (index >> bit) & 1
        image[:band, bit * cell:(bit + 1) * cell] = 255 if one else 0
        image[band:2 * band, bit * cell:(bit + 1) * cell] = 0 if one else 255
    return image


def write_clip(path: Path, width: int, height: int, frames: int = CLIP_FRAMES, fps: int = 30) -> Path:
    """The fake camera's clip as YUV4MPEG2 4:2:0."""
    import cv2

    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for i in range(frames):
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(coded_frame(i, width, height), cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


# In the page: read the index of each shown frame of a <video> (mean luminance of each cell's
# centre; a bit reads only when its cell and its complement's cell differ clearly).
PROBE = """([bits]) => {
  const probe = { camera: [], painted: [], unreadable: 0, shown: 0 };
  window.latencyProbe = probe;
  const read = (video) => {
    const w = video.videoWidth, h = video.videoHeight;
    if (!w || !h) return null;
    const band = Math.max(1, Math.floor(h / 8));
    const c = read.canvas || (read.canvas = document.createElement("canvas"));
    c.width = w; c.height = 2 * band;
    const g = c.getContext("2d", { willReadFrequently: true });
    g.drawImage(video, 0, 0, w, 2 * band, 0, 0, w, 2 * band);
    const data = g.getImageData(0, 0, c.width, c.height).data;
    const cell = Math.floor(w / bits);
    const mean = (bit, row) => {
      let sum = 0, n = 0;
      for (let y = row * band + Math.floor(band / 4); y < row * band + Math.ceil(band * 3 / 4); y++) {
        for (let x = bit * cell + Math.floor(cell / 4); x < bit * cell + Math.ceil(cell * 3 / 4); x++) {
          const i = 4 * (y * c.width + x);
          sum += 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2]; n++;
        }
      }
      return sum / n;
    };
    let value = 0;
    for (let bit = 0; bit < bits; bit++) {
      const difference = mean(bit, 0) - mean(bit, 1);
      if (Math.abs(difference) < 40) return null;
      if (difference > 0) value |= 1 << bit;
    }
    return value;
  };
  const watch = (id, list, painted) => {
    const video = document.getElementById(id);
    const onFrame = (now, meta) => {
      const index = read(video);
      if (painted) { probe.shown++; if (index === null) probe.unreadable++; }
      if (index !== null) list.push([index, now]);
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  };
  watch("camera", probe.camera, false);
  watch("painted", probe.painted, true);
}"""


def latencies(camera: list[tuple[int, float]], painted: list[tuple[int, float]],
              within_ms: float = CLIP_FRAMES / 30 * 1000 / 2) -> list[tuple[float, float]]:
    """(time s, latency ms) of each distinct painted frame: the first time an index was shown
    painted, minus the last time before it that the camera showed that index.  Times in ms of
    the page's clock.  Left out: a painted index the camera never showed before, and one whose
    last camera showing is older than ``within_ms`` (half the clip's loop: the camera element
    skipped that frame this time round, so the match would be a loop too old)."""
    out: list[tuple[float, float]] = []
    last_seen: dict[int, float] = {}
    ci = 0
    previous: int | None = None
    for index, t in painted:
        while ci < len(camera) and camera[ci][1] <= t:
            last_seen[camera[ci][0]] = camera[ci][1]
            ci += 1
        if index == previous or index not in last_seen or t - last_seen[index] > within_ms:
            previous = index
            continue
        previous = index
        out.append((t / 1000.0, t - last_seen[index]))
    return out


def summarize(samples: list[tuple[float, float]], seconds: float, shown: int, unreadable: int) -> dict[str, Any]:
    """p50/p95/max (ms), slope (ms per minute, least squares), distinct painted fps, unreadable share."""
    if len(samples) < 2:
        raise SteadyStyleError("no painted frame could be matched to a camera frame (is the call connected?)")
    ms = np.array([s[1] for s in samples])
    flat = trend(samples)
    return {"frames": len(samples), "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1), "max_ms": round(float(ms.max()), 1),
            "slope_ms_per_min": round(flat["slope_per_min"], 1),
            "first_minute_p50_ms": round(flat["first_median"], 1), "last_minute_p50_ms": round(flat["last_median"], 1),
            "p50_ms_by_minute": [round(v, 1) for v in by_minute(samples)],
            "distinct_fps": round(len(samples) / seconds, 2),
            "unreadable_share": round(unreadable / shown, 3) if shown else None}


def summarize_memory(samples: list[tuple[float, float]]) -> dict[str, Any]:
    """(time s, RSS MiB) samples → slope (MiB per minute), first/last-minute medians, min/max (MiB)."""
    flat = trend(samples)
    values = [v for _, v in samples]
    return {"rss_samples": flat["samples"], "rss_span_s": flat["span_s"],
            "rss_slope_mib_per_min": round(flat["slope_per_min"], 2),
            "rss_first_minute_mib": round(flat["first_median"], 1), "rss_last_minute_mib": round(flat["last_median"], 1),
            "rss_min_mib": round(min(values), 1), "rss_max_mib": round(max(values), 1),
            "rss_mib_by_minute": [round(v, 1) for v in by_minute(samples)]}


MARKDOWN_HEADER = ("| style | size | s | p50 ms | p95 ms | max ms | latency slope ms/min | p50 first/last min ms "
                   "| RSS first/last min MiB | RSS slope MiB/min | distinct fps | frames | load (1 min) |\n"
                   "|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def markdown_row(result: dict[str, Any]) -> str:
    """One row of :data:`MARKDOWN_HEADER`'s table for a :func:`measure` result."""
    def num(key: str, fmt: str = "{:g}") -> str:
        value = result.get(key)
        return "–" if value is None else fmt.format(value)

    load = result.get("load_average") or (None,)
    return (f"| {result['style']} | {result['size']} | {result['seconds']:g} | {num('p50_ms')} | {num('p95_ms')} "
            f"| {num('max_ms')} | {num('slope_ms_per_min', '{:+g}')} "
            f"| {num('first_minute_p50_ms')} / {num('last_minute_p50_ms')} "
            f"| {num('rss_first_minute_mib')} / {num('rss_last_minute_mib')} | {num('rss_slope_mib_per_min', '{:+g}')} "
            f"| {num('distinct_fps')} | {num('frames')} | {'–' if load[0] is None else f'{load[0]:.1f}'} |")


def call_face_detail(style: str, asked: float | None = None) -> float:
    """The face detail a measured call runs with: ``asked``, else what ``steadystyle serve`` starts
    a call with for ``style`` (its default, 0.9 with the face models) — except ``identity``,
    the WebRTC path's own cost, which runs no face detector."""
    from ..face import check_face_detail, default_face_detail

    if asked is not None:
        return check_face_detail(asked)
    return 0.0 if style == "identity" else default_face_detail()


def measure(style: str = "identity", size: str = "320x240", seconds: float = 60.0, *, method: str | None = None,
            backend: str = "auto", device: str = "auto", chromium: str | None = None, warmup: float = 3.0,
            memory_every: float = 5.0, face_detail: float | None = None) -> dict:
    """Run one browser call for ``warmup`` + ``seconds`` and measure it (see the module docstring);
    this process's resident memory is sampled every ``memory_every`` s over the ``seconds``.
    face_detail: None = the server's default for ``style`` (:func:`call_face_detail`)."""
    from aiohttp import web
    from playwright.sync_api import sync_playwright

    from ..spec import DEFAULT_METHOD, RunSpec
    from .config import ServerConfig
    from .server import CallServer

    width, height = (int(v) for v in size.split("x"))
    value: Any = Identity() if style == "identity" else style
    spec = RunSpec(style=value, backend=backend, device=device, method=method or DEFAULT_METHOD,
                   face_detail=call_face_detail(style, face_detail))
    config = ServerConfig(spec=spec, styles={style: value}, size=size, sizes=(size,), ice_peers="loopback")
    server = CallServer(config)
    loop_ready = threading.Event()
    state: dict[str, Any] = {}

    def serve() -> None:
        import asyncio

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        runner = web.AppRunner(server.app())
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        state.update(loop=loop, runner=runner, port=site._server.sockets[0].getsockname()[1])
        loop_ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    loop_ready.wait(30)
    with tempfile.TemporaryDirectory() as folder:
        clip = write_clip(Path(folder) / "camera.y4m", width, height)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium or _chromium(), headless=True, args=[
                "--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={clip}", "--autoplay-policy=no-user-gesture-required",
                "--allow-loopback-in-peer-connection"])
            try:
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{state['port']}/")
                page.wait_for_function("window.steadystyle && window.steadystyle.ready", timeout=30000)
                page.click("#start")
                page.wait_for_function("window.steadystyle.framesShown > 10", timeout=300000)  # a first ONNX export
                page.wait_for_timeout(warmup * 1000)
                load_start = os.getloadavg()
                memory = RssSampler(memory_every).start()
                page.evaluate(PROBE, [BITS])
                try:
                    page.wait_for_timeout(seconds * 1000)
                finally:
                    rss = memory.stop()
                probe = page.evaluate("window.latencyProbe")
                server_stats = page.evaluate("window.steadystyle.stats")
            finally:
                browser.close()
    import asyncio

    asyncio.run_coroutine_threadsafe(state["runner"].cleanup(), state["loop"]).result(30)
    state["loop"].call_soon_threadsafe(state["loop"].stop)
    thread.join(10)
    samples = latencies([tuple(x) for x in probe["camera"]], [tuple(x) for x in probe["painted"]])
    result = summarize(samples, seconds, probe["shown"], probe["unreadable"])
    from ..stats import machine_description

    from ..backends import resolve_backend

    used = "none" if style == "identity" else resolve_backend(backend, device)
    return {"style": style, "size": size, "method": spec.method, "backend": used, "face_detail": spec.face_detail,
            "seconds": seconds, **result,
            **summarize_memory(rss), "rss_every_s": memory_every,
            "server_network_ms": (server_stats or {}).get("network_ms"), "machine": machine_description(),
            "load_average_start": load_start, "load_average": os.getloadavg()}


def _chromium() -> str:
    for path in (os.environ.get("STEADYSTYLE_CHROMIUM"), "/usr/bin/chromium", "/usr/lib/chromium/chromium"):
        if path and os.access(path, os.X_OK):
            return path
    raise SteadyStyleError("no Chromium found (apt-get install chromium, or set STEADYSTYLE_CHROMIUM)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m steadystyle.web.latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--style", default="identity", help="identity, a shipped style or a model file")
    parser.add_argument("--size", default="320x240", help="camera and processing size WxH (default 320x240)")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured call length (default 60)")
    parser.add_argument("--method", default=None, help="stabilization method (default: the default method)")
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--face-detail", type=float, default=None,
                        help="0-1 (default: the server's, 0.9 with the face models; 0 for identity)")
    parser.add_argument("--memory-every", type=float, default=5.0,
                        help="seconds between samples of the server's resident memory (default 5)")
    parser.add_argument("--json", default=None, help="also write the result to this JSON file")
    parser.add_argument("--markdown", action="store_true", help="also print the result as a Markdown table row")
    args = parser.parse_args(argv)
    try:
        if not args.seconds > 0 or not args.memory_every > 0:
            raise SteadyStyleError("--seconds and --memory-every must be positive")
        if args.json:
            from ..paths import check_paths

            check_paths({}, {"--json": args.json})
        result = measure(args.style, args.size, args.seconds, method=args.method, backend=args.backend,
                         device=args.device, memory_every=args.memory_every, face_detail=args.face_detail)
    except SteadyStyleError as exc:
        print(f"steadystyle: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}))
    if args.markdown:
        print(MARKDOWN_HEADER)
        print(markdown_row(result))
    if args.json:
        from ..atomic import atomic_write_text

        atomic_write_text(args.json, json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
