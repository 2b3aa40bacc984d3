"""Inputs of ``steadystyle evaluate``: video files, folders of frames, or the built-in synthetic call.

Every clip is read at a fixed working width (height by aspect, rounded to even) so that the flow,
the network and every measure run at a stated resolution.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SteadyStyleError
from ..stylizer import resize_image
from .runner import Clip
from .synthetic import CallClipConfig, make_call_clip

__all__ = ["SYNTHETIC", "load_clip", "scaled_size"]

SYNTHETIC = "synthetic"


def scaled_size(height: int, width: int, target_width: int) -> tuple[int, int]:
    """(h, w) for a frame scaled to ``target_width`` px wide, both rounded to even numbers ≥ 16."""
    w = max(16, target_width - target_width % 2)
    h = max(16, round(height * w / width / 2) * 2)
    return h, w


#: The widest working width of ``evaluate --size`` (pixels): 8K.
MAX_WIDTH = 7680


def check_clip_memory(spec: str, max_frames: int, width: int, copies: int) -> None:
    """A one-line error, before the clip is read, when its frames at ``width`` px wide times
    ``copies`` (the input and each method's output, all held for the measures) would not fit
    this machine's memory, or ``width`` is beyond :data:`MAX_WIDTH`.  (Were: the process killed
    for memory, or a synthetic clip built frame after frame for 10⁸ frames.)"""
    from ..stats import machine_memory

    if width > MAX_WIDTH:
        raise SteadyStyleError(f"--size {width}: at most {MAX_WIDTH} pixels wide")
    if spec == SYNTHETIC:
        (h, w), frames = scaled_size(3, 4, width), max_frames
    else:
        from ..video import VideoReader

        with VideoReader(spec) as reader:
            h, w = scaled_size(reader.info.height, reader.info.width, width)
            announced = reader.info.frame_count
        frames = min(max_frames, announced) if announced else max_frames
    need = frames * h * w * 3 * copies
    have = machine_memory()
    if have and need > have // 2:
        raise SteadyStyleError(f"{spec}: {frames} frames at {w}×{h}, held {copies} times for the measures, need about "
                               f"{need / 2**30:.1f} GiB; this machine has {have / 2**30:.1f} GiB: lower --max-frames or "
                               f"--size")


def load_clip(spec: str, max_frames: int, width: int) -> Clip:
    """The first ``max_frames`` frames of a file (or ``synthetic``), ``width`` px wide."""
    if max_frames < 2:
        raise SteadyStyleError(f"--max-frames must be at least 2 (got {max_frames})")
    if spec == SYNTHETIC:
        h, w = scaled_size(3, 4, width)
        config = CallClipConfig(width=w, height=h, seconds=max_frames / 25.0)
        clip = make_call_clip(config)
        return Clip(SYNTHETIC, clip.frames, float(clip.fps), clip.clean, clip.foreground,
                    {"source": "built-in synthetic call (steadystyle.evaluate.synthetic), noise σ "
                               f"{config.noise_sigma} grey levels, seed {config.seed}"})
    from ..video import VideoReader

    path = Path(spec)
    if not path.exists():
        raise SteadyStyleError(f"{spec}: no such file (or use 'synthetic')")
    frames: list[np.ndarray] = []
    with VideoReader(path) as reader:
        fps = float(reader.info.fps) if getattr(reader.info, "fps", None) else 25.0
        h, w = scaled_size(reader.info.height, reader.info.width, width)
        for frame in reader:
            frames.append(resize_image(frame.image, w, h))
            if len(frames) >= max_frames:
                break
    if len(frames) < 2:
        raise SteadyStyleError(f"{spec}: fewer than 2 frames")
    return Clip(path.name, frames, fps, info={"source": str(path)})
