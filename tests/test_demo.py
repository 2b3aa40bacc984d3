"""The demo: one network pass per frame shared by both panels, each panel what its method gives alone."""

from __future__ import annotations

import numpy as np
import pytest

from steadystyle.backends import make_stylizer
from steadystyle.backends.torch import TorchStylizer
from steadystyle.demo import run_demo
from steadystyle.evaluate.metrics import static_flicker
from steadystyle.evaluate.synthetic import CallClipConfig, iter_call_clip
from steadystyle.stabilize.framediff import FrameDiffParams, FrameDiffStabilizer


def _flicker(outputs: list[np.ndarray], moving: list[np.ndarray]) -> float:
    return float(np.nanmean([static_flicker(a, b, ~m) for a, b, m in zip(outputs, outputs[1:], moving[1:])]))


def test_one_pass_per_frame_and_both_panels_equal_their_methods_run_alone(tmp_path, tiny_style, monkeypatch):
    calls = []
    full_pass = TorchStylizer.__call__

    def counted(self, image):
        calls.append(image.shape)
        return full_pass(self, image)

    monkeypatch.setattr(TorchStylizer, "__call__", counted)
    result = run_demo(tmp_path / "demo.mp4", style=str(tiny_style), seconds=0.6, device="cpu", backend="torch",
                      progress=False)
    assert result.frames == 15 and len(calls) == 15  # S(t) once per frame, shared by both panels
    assert 1 <= result.network_calls_frame_diff < 15  # frame-diff alone skips the network on still frames

    # the same clip, each method on its own, outside the demo
    stylizer = make_stylizer(tiny_style, backend="torch", device="cpu")
    frames, moving = zip(*[(f, m) for f, _fg, m in iter_call_clip(CallClipConfig(seconds=0.6))])
    per_frame = [stylizer(f) for f in frames]
    alone = FrameDiffStabilizer(FrameDiffParams())
    asked = []

    def stylize(box=None, image=None):
        asked.append(box)
        return stylizer(image)

    frame_diff = [alone(f, lambda box=None, f=f: stylize(box, f)) for f in frames]
    assert result.flicker_per_frame == pytest.approx(_flicker(per_frame, list(moving)), abs=1e-12)
    assert result.flicker_frame_diff == pytest.approx(_flicker(frame_diff, list(moving)), abs=1e-12)
    assert result.network_calls_frame_diff == len(asked)
    assert result.flicker_frame_diff < result.flicker_per_frame
