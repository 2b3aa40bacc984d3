"""The baseline: no stabilization, every frame stylized on its own."""

from __future__ import annotations

import numpy as np

from ..frames import check_frame
from .base import Stylize, register


@register("per-frame", summary="no stabilization: every frame stylized on its own (flickers)")
class PerFrame:
    """No memory: returns S(t) for every frame."""

    last_foreground_fraction: float = 1.0
    last_mask = None

    def reset(self) -> None:
        """Nothing to forget."""

    def __call__(self, frame: np.ndarray, stylize: Stylize) -> np.ndarray:
        """S(t) for the H×W×3 uint8 RGB ``frame`` (checked: :class:`~steadystyle.frames.FrameError`)."""
        check_frame(frame)
        return stylize()
