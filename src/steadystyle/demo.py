"""The built-in demo: the synthetic video call stylized per frame and with the paper's stabilizer.

One pass of the frame loop, built through a :class:`~steadystyle.spec.RunSpec` (any backend):
the source is the synthetic call, the processor runs the frame-diff stabilizer, and the sink
writes three labelled panels (input | per-frame | frame-diff).  The per-frame panel is S(t), which
the frame-diff run shares: each frame goes through the network exactly once.
An observer measures the flicker in static regions (mean |O(t) − O(t−1)| where the clean input
did not change, grey levels) of both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .evaluate.metrics import static_flicker
from .evaluate.synthetic import CallClipConfig, iter_call_clip
from .geometry import Box
from .loop import FrameResult, run
from .sinks import FileSink, label, side_by_side  # noqa: F401  (label: demo.label, the API name)
from .sources import ArraySource
from .spec import RunSpec
from .stabilize.base import Stabilizer, Stylize
from .stabilize.framediff import FrameDiffParams
from .stats import Progress


@dataclass
class DemoResult:
    """What the demo measured.  flicker_*: mean |O(t) − O(t−1)| over pixels whose clean input did
    not change (grey levels); network_calls_frame_diff: frames on which frame-diff needed S(t)."""

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


class _BothPanels:
    """A stabilizer that yields the demo's two methods from one network pass per frame.

    Each frame it asks the loop once for S(t) — the per-frame panel, kept in ``per_frame`` — and
    runs the frame-diff stabilizer with a ``stylize`` that hands it that same S(t) (or a box of
    it), so frame-diff's output is exactly what it would be on its own.  Its output and
    ``last_foreground_fraction`` are frame-diff's; ``frame_diff_calls`` counts the frames on
    which frame-diff alone would have run the network.
    """

    def __init__(self, frame_diff: Stabilizer) -> None:
        self.frame_diff = frame_diff
        self.per_frame: np.ndarray | None = None
        self.frame_diff_calls = 0

    @property
    def last_foreground_fraction(self) -> float:
        return self.frame_diff.last_foreground_fraction

    def reset(self) -> None:
        self.frame_diff.reset()
        self.per_frame = None

    def __call__(self, frame: np.ndarray, stylize: Stylize) -> np.ndarray:
        s = self.per_frame = stylize()
        asked = False

        def shared(box: Box | None = None) -> np.ndarray:
            nonlocal asked
            asked = True
            return s if box is None else s[box.slices()].copy()

        output = self.frame_diff(frame, shared)
        self.frame_diff_calls += asked
        return output


class _Flicker:
    """Observer: static flicker of the per-frame and frame-diff outputs."""

    def __init__(self, panels: _BothPanels, moving: list[np.ndarray]) -> None:
        self.panels = panels
        self.moving = moving
        self.values: dict[str, list[float]] = {"per-frame": [], "frame-diff": []}
        self.prev: dict[str, np.ndarray] = {}

    def on_frame(self, result: FrameResult) -> None:
        outs = {"per-frame": self.panels.per_frame, "frame-diff": result.output}
        if self.prev:
            for name, out in outs.items():
                self.values[name].append(static_flicker(self.prev[name], out, ~self.moving[result.frame.index]))
        self.prev = outs


def run_demo(output: str | os.PathLike = "steadystyle-demo.mp4", style: Any = None, seconds: float = 4.0,
             device: str = "auto", params: FrameDiffParams | None = None, progress: bool = True, *,
             backend: str = "auto") -> DemoResult:
    """Run the demo and print its summary; returns the measured flicker of both methods.

    style: a shipped name, model file, loaded model or built stylizer (None = the default
    style); backend/device: where the network runs; params: the frame-diff parameters (None =
    the paper's).  ``seconds``: length of the synthetic call (at least 0.2 s).
    """
    spec = RunSpec(style=style, backend=backend, device=device, method="frame-diff", params=params)
    processor = spec.processor()
    panels = _BothPanels(processor.stabilizer)
    processor.set_stabilizer(panels)
    config = CallClipConfig(seconds=max(seconds, 0.2))
    frames, moving = [], []
    for frame, _foreground, mov in iter_call_clip(config):
        frames.append(frame)
        moving.append(mov)

    def compose(result: FrameResult) -> np.ndarray:
        return side_by_side(label(result.frame.image, "input"), label(panels.per_frame, "per-frame"),
                            label(result.output, "frame-diff (paper)"))

    flicker = _Flicker(panels, moving)
    bar = Progress(len(frames), "demo", progress)
    sink = FileSink(output, config.width * 3, config.height, config.fps, compose=compose, keep_times=False)
    summary = run(ArraySource(frames, config.fps), processor, sink, [flicker, bar], name="demo clip")
    result = DemoResult(str(output), processor.stylizer.name, summary.frames,
                        float(np.nanmean(flicker.values["per-frame"])), float(np.nanmean(flicker.values["frame-diff"])),
                        panels.frame_diff_calls)
    print(result.summary())
    return result
