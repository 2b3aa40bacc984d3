"""The one check of a frame at the edge of the API: H×W×3 uint8 RGB, or :class:`FrameError`."""

from __future__ import annotations

import numpy as np

from .errors import SteadyStyleError


class FrameError(SteadyStyleError, ValueError):
    """A frame that is not an H×W×3 uint8 RGB array (a user-facing error, and a ValueError)."""


def check_frame(image: object) -> np.ndarray:
    """``image`` unchanged when it is an H×W×3 uint8 NumPy array; :class:`FrameError` otherwise."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        got = f"{image.shape} {image.dtype}" if isinstance(image, np.ndarray) else type(image).__name__
        raise FrameError(f"expected an H×W×3 uint8 RGB frame, got {got}")
    return image


__all__ = ["FrameError", "check_frame"]
