"""The built-in demo: the synthetic video call stylized per frame and with the paper's stabilizer.

One pass of the frame loop: the source is the synthetic call, the processor runs the frame-diff
stabilizer, and the sink writes three labelled panels (input | per-frame | frame-diff) — the
per-frame panel is S(t), which the frame-diff run shares (each frame is stylized at most once).
An observer measures the flicker in static regions (mean |O(t) − O(t−1)| where the clean input
did not change, grey levels) of both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np

from .evaluate.metrics import static_flicker
from .evaluate.synthetic import CallClipConfig, iter_call_clip
from .loop import FrameResult, Processor, run
from .sinks import FileSink, side_by_side
from .sources import ArraySource
from .stabilize.framediff import FrameDiffParams, FrameDiffStabilizer
from .stats import Progress
from .stylizer import Stylizer


@dataclass
class DemoResult:
    output: str
    style: str
    frames: int
    flicker_per_frame: float    # grey levels, static pixels
    flicker_frame_diff: float
    network_calls_frame_diff: int

    def summary(self) -> str:
        ratio = self.flicker_frame_diff / self.flicker_per_frame if self.flicker_per_frame else float("nan")
        return (f"wrote {self.output} ({self.frames} frames, style {self.style}): input | per-frame | frame-diff\n"
                f"flicker in static regions (mean |O(t)-O(t-1)|, grey levels): per-frame {self.flicker_per_frame:.3f}, "
                f"frame-diff {self.flicker_frame_diff:.3f} ({ratio:.1%} of per-frame)")


class _OncePerFrame:
    """A stylizer that computes S(t) at most once per frame, shared by the panels."""

    def __init__(self, stylizer: Stylizer) -> None:
        self.stylizer = stylizer
        self._key: int | None = None
        self._value: np.ndarray | None = None

    def __call__(self, image: np.ndarray) -> np.ndarray:
        if self._key != id(image):
            self._key, self._value = id(image), self.stylizer(image)
        return self._value


def label(image: np.ndarray, text: str) -> np.ndarray:
    """``image`` with ``text`` written in its top-left corner on a dark band (a new array)."""
    out = image.copy()
    scale = max(0.35, image.shape[0] / 600)
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    out[: h + base + 6, : w + 8] //= 3
    cv2.putText(out, text, (4, h + 3), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return out


class _Flicker:
    """Observer: static flicker of the per-frame and frame-diff outputs."""

    def __init__(self, stylize: _OncePerFrame, moving: list[np.ndarray]) -> None:
        self.stylize = stylize
        self.moving = moving
        self.values: dict[str, list[float]] = {"per-frame": [], "frame-diff": []}
        self.prev: dict[str, np.ndarray] = {}

    def on_frame(self, result: FrameResult) -> None:
        outs = {"per-frame": self.stylize(result.frame.image), "frame-diff": result.output}
        if self.prev:
            for name, out in outs.items():
                self.values[name].append(static_flicker(self.prev[name], out, ~self.moving[result.frame.index]))
        self.prev = outs


def run_demo(output: str | os.PathLike = "steadystyle-demo.mp4", style: str | None = None, seconds: float = 4.0,
             device: str = "auto", params: FrameDiffParams | None = None, progress: bool = True) -> DemoResult:
    """Run the demo and print its summary; returns the measured flicker of both methods."""
    from .styles import default_style

    stylizer = Stylizer(style or default_style(), device=device)
    once = _OncePerFrame(stylizer)
    config = CallClipConfig(seconds=max(seconds, 0.2))
    frames, moving = [], []
    for frame, _foreground, mov in iter_call_clip(config):
        frames.append(frame)
        moving.append(mov)

    def panels(result: FrameResult) -> np.ndarray:
        image = result.frame.image
        return side_by_side(label(image, "input"), label(once(image), "per-frame"),
                            label(result.output, "frame-diff (paper)"))

    processor = Processor(once, FrameDiffStabilizer(params or FrameDiffParams()))
    flicker = _Flicker(once, moving)
    bar = Progress(len(frames), "demo", progress)
    sink = FileSink(output, config.width * 3, config.height, config.fps, compose=panels, keep_times=False)
    summary = run(ArraySource(frames, config.fps), processor, sink, [flicker, bar], name="demo clip")
    result = DemoResult(str(output), stylizer.name, summary.frames, float(np.nanmean(flicker.values["per-frame"])),
                        float(np.nanmean(flicker.values["frame-diff"])), summary.stylized_frames)
    print(result.summary())
    return result
