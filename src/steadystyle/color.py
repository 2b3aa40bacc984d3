"""Per-frame controls users expect from a style tool: style strength and colour preservation.

Both are cheap (a few passes over the frame) so they run live.  Frames are H×W×3 uint8 RGB.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .errors import SteadyStyleError
from .frames import check_frame
from .stabilize.masks import lerp


def check_strength(strength: float) -> float:
    """``strength`` as a float in [0, 1]; a one-line error otherwise."""
    try:
        value = float(strength)
    except (TypeError, ValueError):
        raise SteadyStyleError(f"strength must be a number from 0 to 1 (got {strength!r})") from None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise SteadyStyleError(f"strength must be from 0 (the raw frame) to 1 (full style), got {strength!r}")
    return value


def apply_strength(image: np.ndarray, stylized: np.ndarray, strength: float) -> np.ndarray:
    """image + strength · (stylized − image), rounded (the one blend,
    :func:`~steadystyle.stabilize.masks.lerp`); 1 returns ``stylized``, 0 a copy of ``image``.

    image, stylized: H×W×3 uint8 of the same shape.  strength: 0–1.  Returns an H×W×3 uint8 array.
    """
    check_frame(image)
    check_frame(stylized)
    if strength >= 1.0:
        return stylized
    if strength <= 0.0:
        return image.copy()
    return lerp(image, stylized, float(strength))


def preserve_colors(image: np.ndarray, stylized: np.ndarray) -> np.ndarray:
    """Keep the input's colours, take the stylization's luminance (Gatys et al. 2016, §colour).

    Both frames go to YCrCb (BT.601, full range, OpenCV); the result has Y of ``stylized`` and
    Cr, Cb of ``image``.  image, stylized: H×W×3 uint8 RGB of the same shape.
    """
    if check_frame(image).shape != check_frame(stylized).shape:
        raise SteadyStyleError(f"frames differ in shape: {image.shape} vs {stylized.shape}")
    ycc = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)
    ycc[..., 0] = cv2.cvtColor(stylized, cv2.COLOR_RGB2YCrCb)[..., 0]
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)


__all__ = ["check_strength", "apply_strength", "preserve_colors"]
