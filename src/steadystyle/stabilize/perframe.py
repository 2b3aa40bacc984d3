"""The baseline: no stabilization, every frame stylized on its own."""

from __future__ import annotations

from typing import Callable, TypeVar

Frame = TypeVar("Frame")


class PerFrame:
    """Stabilizer interface with no memory: returns S(t) for every frame (NumPy or torch frames)."""

    last_foreground_fraction: float = 1.0
    last_mask = None

    def reset(self) -> None:
        """Nothing to forget."""

    def __call__(self, frame: Frame, stylize: Callable[[], Frame]) -> Frame:
        return stylize()
