"""End to end: ``live --input`` replaying a clip at its frame rate, and the file path (``stylize``).

Both run on the built-in synthetic call written as an MP4 (H.264) at the size measured, so the
numbers include decoding, resizing and (for the file path) encoding, as a user's run does.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

from ..loop import Processor, run
from ..sources import ArraySource
from ..stabilize.base import make_stabilizer
from .methods import clip_frames


def write_clip(path: Path, size: tuple[int, int], seconds: float, fps: int) -> int:
    """The synthetic call at ``size`` (width, height), ``seconds`` long at ``fps``, as an MP4."""
    from ..sinks import FileSink

    frames = clip_frames(size[0], size[1], max(1, round(seconds * fps)), fps=fps)
    sink = FileSink(path, size[0], size[1], fps)
    run(ArraySource(frames, fps=fps), Processor(lambda image: image, make_stabilizer("per-frame")), sink)
    return len(frames)


def live_end_to_end(style: Any, backend: str, size: tuple[int, int], seconds: float, device: str,
                    fps: int = 30) -> dict[str, Any]:
    """``live --input`` with the defaults (``DEFAULT_METHOD``, the commands' face detail) of a
    ``fps`` clip at ``size``: delivered fps, capture→output latency, drops, network and
    stabilizer ms."""
    from ..face import default_face_detail
    from ..live import LiveOptions, run_live
    from ..spec import RunSpec

    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "call.mp4"
        write_clip(clip, size, seconds, fps)
        spec = RunSpec(style=style, backend=backend, device=device, face_detail=default_face_detail())
        stats = run_live(LiveOptions(spec=spec, input=str(clip), size=size, status=False))
    keys = ("frames", "delivered_fps", "latency_ms", "dropped_at_capture", "network_ms", "stabilize_ms",
            "foreground_fraction_mean", "backend", "method")
    return {k: stats.get(k) for k in keys} | {"size": list(size), "asked_backend": backend, "input_fps": fps,
                                               "face_detail": spec.face_detail,
                                               "frame_interval_ms": round(1000.0 / fps, 3)}


def file_throughput(style: Any, size: tuple[int, int], seconds: float, device: str, repeats: int,
                    backend: str = "auto") -> dict[str, Any]:
    """``stylize`` (per-frame, so every frame runs the network) of the synthetic call as an MP4,
    serial vs decode/encode threads: median wall time per frame over ``repeats`` runs, and the
    network's own median ms per frame from the same runs."""
    from ..pipeline import stylize_video
    from ..spec import RunSpec

    spec = RunSpec(style=style, backend=backend, device=device, method="per-frame")
    stylizer = spec.stylizer()
    spec = spec.replace(style=stylizer)
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "call.mp4"
        frames = write_clip(clip, size, seconds, 25)
        out: dict[str, Any] = {"size": list(size), "frames": frames, "method": "per-frame",
                               "style": stylizer.name, "backend": stylizer.backend}
        network = []
        for threads in (False, True):
            walls = []
            for i in range(repeats):
                stats = stylize_video(clip, Path(tmp) / f"out-{threads}-{i}.mp4", spec=spec, progress=False,
                                      threads=threads, stats_path=Path(tmp) / "s.json")
                walls.append(stats.wall_seconds * 1000.0 / stats.frames)
                network.append(stats.timings["stylize"]["median_ms"])
            out["threaded_ms_per_frame" if threads else "serial_ms_per_frame"] = round(statistics.median(walls), 3)
        out["network_ms_median"] = round(statistics.median(network), 3)
        out["speedup"] = round(out["serial_ms_per_frame"] / out["threaded_ms_per_frame"], 3)
        out["threaded_over_network"] = round(out["threaded_ms_per_frame"] / out["network_ms_median"], 3)
    return out


__all__ = ["write_clip", "live_end_to_end", "file_throughput"]
