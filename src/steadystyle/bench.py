"""``steadystyle bench``: the paper's Table I as ratios on the machine at hand, in one run.

For each frame size × network variant × backend × registered method (and each method's ROI mode
where it has one), the built-in synthetic call is run through the one frame loop (array source,
no sink) ``repeats`` times; a run's time per frame is its wall time over its frames, and the
table shows the median over runs.  Ratios are to per-frame stylization on the same size, variant
and backend, measured in the same run of this command.  The stabilizer's own overhead is its
median per-frame time over the median time of one network pass.  End-to-end live numbers come
from ``live --input`` on the built-in clip written to a file and replayed at its frame rate.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import SteadyStyleError
from .loop import Processor, run
from .sources import ArraySource
from .stabilize.base import METHODS, make_stabilizer, method_names
from .stats import FrameLog, machine_description, write_json

DEFAULT_SIZES = ((320, 240), (640, 480), (1024, 436))
DEFAULT_STYLES = {"light": "scream", "full": "scream-full"}


@dataclass
class BenchConfig:
    """What to measure.  sizes: (width, height) pairs.  variants: ``light``/``full`` (a shipped
    style of each).  backends: stylizer backends (those not installed are skipped with a note).
    frames: frames of the synthetic clip per run; repeats: runs per cell (the median is kept)."""

    sizes: tuple[tuple[int, int], ...] = DEFAULT_SIZES
    variants: tuple[str, ...] = ("light", "full")
    backends: tuple[str, ...] = ("torch", "onnx")
    methods: tuple[str, ...] | None = None
    frames: int = 24
    repeats: int = 3
    device: str = "cpu"
    live_seconds: float = 4.0
    file_seconds: float = 4.0
    styles: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_STYLES))


def method_rows(methods: tuple[str, ...] | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, method, params values) for each method, plus ``METHOD+roi`` where a method has a
    boolean ``roi`` parameter."""
    rows = []
    for name in methods or tuple(method_names()):
        fields = {f.name: f for f in dataclasses.fields(METHODS[name].params)} if name in METHODS else {}
        if "roi" in fields:
            rows.append((name, name, {"roi": False}))
            rows.append((f"{name}+roi", name, {"roi": True}))
        else:
            rows.append((name, name, {}))
    return rows


def clip_frames(width: int, height: int, frames: int) -> list[np.ndarray]:
    """The first ``frames`` frames of the built-in call clip at ``width``×``height`` (H×W×3 uint8)."""
    from .evaluate.synthetic import CallClipConfig, iter_call_clip

    out = []
    for frame, _fg, _moving in iter_call_clip(CallClipConfig(width=width, height=height)):
        out.append(frame)
        if len(out) >= frames:
            break
    return out


def time_method(stylizer, method: str, values: dict[str, Any], frames: list[np.ndarray], repeats: int) -> dict[str, Any]:
    """Run ``frames`` through the loop ``repeats`` times; ms/frame per run and per-stage medians."""
    runs, network, stabilize, network_frames = [], [], [], []
    for _ in range(repeats):
        log = FrameLog()
        processor = Processor(stylizer, make_stabilizer(method, None, **values), sync=stylizer.synchronize)
        start = time.perf_counter()
        summary = run(ArraySource(frames), processor, None, [log])
        runs.append((time.perf_counter() - start) * 1000.0 / summary.frames)
        network += [v for v in log.stylize_ms if v > 0]
        stabilize += log.stabilize_ms
        network_frames.append(summary.stylized_frames / summary.frames)
    return {"ms_per_frame": round(statistics.median(runs), 3), "runs_ms_per_frame": [round(r, 3) for r in runs],
            "network_ms_median": round(statistics.median(network), 3) if network else None,
            "stabilize_ms_median": round(statistics.median(stabilize), 3),
            "network_ran_on": round(statistics.fmean(network_frames), 4)}


def make_backend(style: str, backend: str, device: str):
    """A stylizer on ``backend``, or a reason it cannot be had (str)."""
    from .live import make_stylizer

    try:
        return make_stylizer(style, backend, device)
    except (SteadyStyleError, ImportError) as exc:
        return str(exc)


def live_end_to_end(style: str, backend: str, size: tuple[int, int], seconds: float, device: str) -> dict[str, Any]:
    """``live --input`` on the built-in clip (written as PNG frames, replayed at its 25 fps)."""
    from .evaluate.synthetic import CallClipConfig, write_call_clip
    from .live import LiveOptions, run_live

    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "call"
        write_call_clip(clip, CallClipConfig(width=size[0], height=size[1], seconds=seconds), masks=False)
        options = LiveOptions(style=style, method="frame-diff", input=str(clip), size=size, backend=backend,
                              device=device, status=False)
        stats = run_live(options)
    keys = ("frames", "delivered_fps", "latency_ms", "dropped_at_capture", "network_ms", "stabilize_ms",
            "foreground_fraction_mean", "backend")
    return {k: stats[k] for k in keys} | {"size": list(size), "method": "frame-diff", "input_fps": 25}


def file_throughput(style: str, size: tuple[int, int], seconds: float, device: str, repeats: int) -> dict[str, Any]:
    """``stylize`` (per-frame, so every frame runs the network) of the built-in clip as an MP4,
    serial vs decode/encode threads: median wall time per frame over ``repeats`` runs, and the
    network's own median ms per frame from the same runs."""
    from .evaluate.synthetic import CallClipConfig
    from .pipeline import stylize_video
    from .sinks import FileSink
    from .stylizer import Stylizer

    stylizer = Stylizer(style, device=device)
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "call.mp4"
        frames = clip_frames(size[0], size[1], round(seconds * CallClipConfig().fps))
        sink = FileSink(clip, size[0], size[1], CallClipConfig().fps)
        run(ArraySource(frames), Processor(lambda image: image, make_stabilizer("per-frame")), sink)
        out: dict[str, Any] = {"size": list(size), "frames": len(frames), "method": "per-frame", "style": style}
        network = []
        for threads in (False, True):
            walls = []
            for i in range(repeats):
                stats = stylize_video(clip, Path(tmp) / f"out-{threads}-{i}.mp4", stylizer, "per-frame", progress=False,
                                      threads=threads, stats_path=Path(tmp) / "s.json")
                walls.append(stats.wall_seconds * 1000.0 / stats.frames)
                network.append(stats.timings["stylize"]["median_ms"])
            out["threaded_ms_per_frame" if threads else "serial_ms_per_frame"] = round(statistics.median(walls), 3)
        out["network_ms_median"] = round(statistics.median(network), 3)
        out["speedup"] = round(out["serial_ms_per_frame"] / out["threaded_ms_per_frame"], 3)
        out["threaded_over_network"] = round(out["threaded_ms_per_frame"] / out["network_ms_median"], 3)
    return out


def run_bench(config: BenchConfig, progress: bool = True) -> dict[str, Any]:
    """Measure everything in ``config``; returns the JSON-ready result."""
    rows, notes = [], []
    labels = method_rows(config.methods)
    for width, height in config.sizes:
        frames = clip_frames(width, height, config.frames)
        for variant in config.variants:
            style = config.styles[variant]
            for backend in config.backends:
                stylizer = make_backend(style, backend, config.device)
                if isinstance(stylizer, str):
                    notes.append(f"{backend} skipped: {stylizer}")
                    continue
                stylizer(frames[0])  # warm-up (allocations, ORT session, export)
                base = None
                for label, method, values in labels:
                    cell = time_method(stylizer, method, values, frames, config.repeats)
                    base = cell["ms_per_frame"] if method == "per-frame" and base is None else base
                    row = {"size": f"{width}x{height}", "variant": variant, "style": style, "backend": backend,
                           "method": label, **cell}
                    rows.append(row)
                    if progress:
                        print(f"{row['size']:>9} {variant:<5} {backend:<9} {label:<16} {cell['ms_per_frame']:8.2f} ms/frame",
                              flush=True)
                for row in rows:
                    if (row["size"], row["variant"], row["backend"]) == (f"{width}x{height}", variant, backend) and base:
                        row["ratio_to_per_frame"] = round(row["ms_per_frame"] / base, 3)
                        if row["network_ms_median"]:
                            row["stabilizer_overhead"] = round(row["stabilize_ms_median"] / row["network_ms_median"], 4)
    live = []
    if config.live_seconds > 0:
        for backend in config.backends:
            if isinstance(make_backend(config.styles[config.variants[0]], backend, config.device), str):
                continue
            live.append(live_end_to_end(config.styles[config.variants[0]], backend, (320, 240), config.live_seconds,
                                        config.device))
    files = []
    if config.file_seconds > 0:
        files.append(file_throughput(config.styles[config.variants[0]], (352, 288), config.file_seconds, config.device,
                                     config.repeats))
    return {"machine": machine_description(), "config": dataclasses.asdict(config), "rows": rows, "live": live,
            "file": files,
            "notes": sorted(set(notes)),
            "definition": "ms_per_frame: median over repeats of (wall time of one run / its frames), synthetic call "
                          "clip, network + stabilizer + controls, no decode/encode"}


def markdown(result: dict[str, Any]) -> str:
    """The result as Markdown tables (per-frame ratios and the live numbers)."""
    m = result["machine"]
    lines = [f"Machine: {m['processor']}, {m['cpu_count']} cores, torch threads {m['torch_threads']}"
             + (f", GPU {m['gpu']}" if "gpu" in m else "") + f" — {m['platform']}", "",
             "| size | network | backend | method | ms/frame | × per-frame | network ran on | stabilizer overhead |",
             "|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        over = r.get("stabilizer_overhead")
        lines.append(f"| {r['size']} | {r['variant']} | {r['backend']} | {r['method']} | {r['ms_per_frame']:.1f} | "
                     f"{r.get('ratio_to_per_frame', float('nan')):.2f} | {r['network_ran_on']:.0%} | "
                     f"{'' if over is None else f'{over:.1%}'} |")
    if result["live"]:
        lines += ["", "| live (`--input`, 25 fps clip) | backend | delivered fps | latency p50 / p95 / max (ms) | dropped |",
                  "|---|---|---|---|---|"]
        for r in result["live"]:
            lat = r["latency_ms"]
            lines.append(f"| {r['size'][0]}×{r['size'][1]} {r['method']} | {r['backend']} | {r['delivered_fps']:.1f} | "
                         f"{lat['p50']} / {lat['p95']} / {lat['max']} | {r['dropped_at_capture']} of "
                         f"{r['frames'] + r['dropped_at_capture']} |")
    if result.get("file"):
        lines += ["", "| file path (`stylize`, per-frame) | serial ms/frame | threaded ms/frame | speed-up | "
                  "threaded ÷ network ms |", "|---|---|---|---|---|"]
        for r in result["file"]:
            lines.append(f"| {r['size'][0]}×{r['size'][1]}, {r['frames']} frames | {r['serial_ms_per_frame']:.1f} | "
                         f"{r['threaded_ms_per_frame']:.1f} | {r['speedup']:.2f}× | {r['threaded_over_network']:.2f} |")
    for note in result["notes"]:
        lines.append(f"\n_{note}_")
    return "\n".join(lines) + "\n"


def write_report(result: dict[str, Any], out_dir: str | os.PathLike) -> tuple[Path, Path]:
    """``bench.json`` and ``bench.md`` in ``out_dir`` (created), written atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "bench.json", result)
    md = out / "bench.md"
    tmp = md.with_name(".bench.md.tmp")
    tmp.write_text(markdown(result), encoding="utf-8")
    tmp.replace(md)
    return out / "bench.json", md


__all__ = ["BenchConfig", "run_bench", "markdown", "write_report", "method_rows", "time_method"]
