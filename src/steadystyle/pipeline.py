"""source → stylizer → stabilizer → sink for video files, with timings and statistics.

:func:`stylize_video` is what ``steadystyle stylize`` runs. Frames travel as H×W×3 uint8 RGB
between the stages; on a CUDA device the stabilizer runs on tensors on the GPU instead, so masks
and frames never cross to the host until encoding.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .errors import SteadyStyleError
from .stabilize.framediff import FrameDiffParams, FrameDiffStabilizer, TorchFrameDiffStabilizer
from .stabilize.perframe import PerFrame
from .stylizer import Stylizer, image_to_tensor, tensor_to_image
from .video import VideoReader, VideoWriter, check_output_path

METHODS = ("per-frame", "frame-diff")
STAGES = ("decode", "stylize", "stabilize", "encode")


def make_stabilizer(method: str, params: FrameDiffParams | None = None, torch_frames: bool = False):
    """A stabilizer for ``method`` (``per-frame`` or ``frame-diff``); torch twin when ``torch_frames``."""
    if method == "per-frame":
        return PerFrame()
    if method == "frame-diff":
        params = params or FrameDiffParams()
        return TorchFrameDiffStabilizer(params) if torch_frames else FrameDiffStabilizer(params)
    raise SteadyStyleError(f"unknown method {method!r}; choose {' or '.join(METHODS)}")


class StageTimer:
    """Per-frame wall-clock time of each pipeline stage, in milliseconds."""

    def __init__(self) -> None:
        self.frames: list[dict[str, float]] = []
        self.current: dict[str, float] = {}

    def add(self, stage: str, seconds: float) -> None:
        self.current[stage] = self.current.get(stage, 0.0) + seconds * 1000.0

    def next_frame(self) -> None:
        self.frames.append({s: round(self.current.get(s, 0.0), 3) for s in STAGES})
        self.current = {}

    def summary(self) -> dict[str, dict[str, float]]:
        out = {}
        for stage in STAGES:
            values = [f[stage] for f in self.frames] or [0.0]
            out[stage] = {"median_ms": round(statistics.median(values), 3), "mean_ms": round(statistics.fmean(values), 3),
                          "total_s": round(sum(values) / 1000.0, 3)}
        return out


@dataclass
class RunStats:
    """What a run did: per-frame foreground fractions and stage timings (ms)."""

    input: str
    output: str
    style: str
    method: str
    device: str
    width: int = 0
    height: int = 0
    fps: float = 0.0
    frames: int = 0
    stylized_frames: int = 0
    wall_seconds: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)
    foreground_fraction: list[float] = field(default_factory=list)
    timings: dict[str, Any] = field(default_factory=dict)
    per_frame_ms: list[dict[str, float]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "input": self.input, "output": self.output, "style": self.style, "method": self.method,
            "device": self.device, "machine": machine_description(), "width": self.width, "height": self.height,
            "fps": self.fps, "frames": self.frames, "stylized_frames": self.stylized_frames,
            "wall_seconds": round(self.wall_seconds, 3),
            "frames_per_second": round(self.frames / self.wall_seconds, 3) if self.wall_seconds else None,
            "params": self.params, "timings": self.timings,
            "foreground_fraction": [round(f, 5) for f in self.foreground_fraction],
            "per_frame_ms": self.per_frame_ms,
        }


def machine_description() -> dict[str, Any]:
    import torch

    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def side_by_side(*panels: np.ndarray) -> np.ndarray:
    """Panels of equal H×W×3 uint8 placed left to right (W × len(panels) wide)."""
    return np.concatenate(panels, axis=1)


def stylize_video(
    input: str | os.PathLike,
    output: str | os.PathLike,
    style: str | os.PathLike | Stylizer,
    method: str = "frame-diff",
    params: FrameDiffParams | None = None,
    *,
    max_side: int | None = None,
    device: str = "auto",
    side_by_side_output: bool = False,
    stats_path: str | os.PathLike | None = None,
    progress: bool = True,
    crf: int = 18,
    on_frame: Callable[[int, np.ndarray], None] | None = None,
    stabilizer_backend: str = "auto",
) -> RunStats:
    """Stylize a video file (or image sequence) and write the result, audio and timestamps kept.

    input/output: paths understood by :class:`~steadystyle.video.VideoReader` / ``VideoWriter``
    (a video file, a folder or ``frames/%05d.png`` pattern). ``method`` is ``per-frame`` or
    ``frame-diff`` (the paper's stabilizer with ``params``). With ``side_by_side_output`` the
    output is input | result, twice as wide. ``stats_path`` receives :class:`RunStats` as JSON.
    The output appears only when the whole video was written (temporary file, then rename).
    ``stabilizer_backend``: ``numpy`` (OpenCV on the host), ``torch`` (tensors on the network's
    device) or ``auto`` (torch on CUDA, so frames and masks stay on the GPU; NumPy otherwise).
    """
    stylizer = style if isinstance(style, Stylizer) else Stylizer(style, device=device, max_side=max_side)
    if stabilizer_backend not in ("auto", "numpy", "torch"):
        raise SteadyStyleError(f"unknown stabilizer backend {stabilizer_backend!r}; choose auto, numpy or torch")
    on_tensors = stabilizer_backend == "torch" or (stabilizer_backend == "auto" and stylizer.device.type == "cuda")
    stabilizer = make_stabilizer(method, params, torch_frames=on_tensors)
    params_used = (params or FrameDiffParams()).__dict__ if method == "frame-diff" else {}
    if Path(input).exists() and not os.access(input, os.R_OK):
        raise SteadyStyleError(f"{input}: not readable")
    timer = StageTimer()
    with VideoReader(input) as reader:
        info = reader.info
        check_output_path(output, input)
        out_w = info.width * (2 if side_by_side_output else 1)
        stats = RunStats(str(input), str(output), stylizer.name, method, str(stylizer.device),
                         width=info.width, height=info.height, fps=float(info.fps), params=dict(params_used))
        from tqdm import tqdm

        bar = tqdm(total=info.frame_count, disable=not progress, unit="frame", desc=Path(str(input)).name, dynamic_ncols=True)
        start = time.perf_counter()
        try:
            with VideoWriter(output, out_w, info.height, info.fps, audio_from=input if info.has_audio else None, crf=crf) as writer:
                frames = iter(reader)
                while True:
                    t0 = time.perf_counter()
                    frame = next(frames, None)
                    timer.add("decode", time.perf_counter() - t0)
                    if frame is None:
                        break
                    result, stylized = _process(frame.image, stylizer, stabilizer, on_tensors, timer)
                    t0 = time.perf_counter()
                    writer.write(side_by_side(frame.image, result) if side_by_side_output else result, frame.time)
                    timer.add("encode", time.perf_counter() - t0)
                    timer.next_frame()
                    stats.frames += 1
                    stats.stylized_frames += int(stylized)
                    stats.foreground_fraction.append(float(stabilizer.last_foreground_fraction))
                    if on_frame:
                        on_frame(frame.index, result)
                    bar.update(1)
                if stats.frames == 0:
                    raise SteadyStyleError(f"{input}: contains no frames")
        finally:
            bar.close()
    stats.wall_seconds = time.perf_counter() - start
    stats.timings = timer.summary()
    stats.per_frame_ms = timer.frames
    if stats_path:
        write_json(stats_path, stats.to_json())
    return stats


def _process(image: np.ndarray, stylizer: Stylizer, stabilizer, on_tensors: bool,
             timer: StageTimer) -> tuple[np.ndarray, bool]:
    """One frame through stylizer and stabilizer; returns (result RGB uint8, whether S(t) was computed).

    With ``on_tensors`` the frame goes to the network's device once and the stabilizer works on
    1×3×H×W tensors there; only the result comes back.
    """
    called = False
    t_start = time.perf_counter()
    stylize_seconds = 0.0
    frame = image_to_tensor(image, stylizer.device) if on_tensors else image

    def stylize():
        nonlocal called, stylize_seconds
        called = True
        t = time.perf_counter()
        out = stylizer.stylize_tensor(frame) if on_tensors else stylizer(image)
        if stylizer.device.type == "cuda":
            import torch

            torch.cuda.synchronize()  # so the stage timing is the network's, not the next sync's
        stylize_seconds += time.perf_counter() - t
        return out

    result = stabilizer(frame, stylize)
    if on_tensors:
        result = tensor_to_image(result)
    timer.add("stylize", stylize_seconds)
    timer.add("stabilize", time.perf_counter() - t_start - stylize_seconds)
    return result, called


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Write JSON atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    if not path.parent.is_dir():
        raise SteadyStyleError(f"{path.parent}: folder for the stats file does not exist")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SteadyStyleError(f"{path}: cannot write ({exc.strerror})") from None
