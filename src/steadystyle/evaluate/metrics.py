"""Per-frame measures of a stylized video that need no optical flow.

Frames are H×W×3 uint8 RGB; masks are H×W bool; differences are in grey levels (0–255) unless a
function says otherwise.  Every measure is a pure function of the frames it is given and treats
all methods alike: none looks at a stabilizer's own mask.

- **Static flicker** (:func:`static_flicker`): mean |O(t) − O(t−1)| over the pixels whose *input*
  did not change (:func:`static_mask`, computed from the input alone).
- **Ghost proxy** (:func:`ghost_fraction`): share of pixels where the output, blurred to ignore
  brush texture, is far from the per-frame stylization of the same frame, blurred alike: stale
  content left behind (a hand that is gone, a background the camera left).
- **Seams** (:func:`seam_energy`): the hard edges a composite adds.  The *update map* is where the
  output changed since the previous frame; along its boundary (a 1-px ring inside and outside) we
  sum the gradient energy of O(t) and subtract that of the per-frame stylization at the same
  pixels.  A composite of an old and a new stylization puts an edge there that per-frame does not
  have; a method that replaces everything (or nothing) has no boundary and scores 0.
- **Sharpness** (:func:`sharpness`): the mean squared Sobel gradient of the grey output; reported
  as a ratio to per-frame stylization, it shows what blending or resampling wiped off the brush
  strokes (1 = as crisp as per-frame).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..stabilize.framediff import grey_level

__all__ = ["static_mask", "static_flicker", "mean_static_flicker", "ghost_fraction", "seam_energy",
           "gradient_energy", "update_map", "sharpness"]


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur (σ px, kernel ±3σ, reflected border) of a float32 image; σ = 0 is a copy."""
    image = image.astype(np.float32, copy=False)
    return cv2.GaussianBlur(image, (0, 0), sigma) if sigma > 0 else image.copy()


def static_mask(prev_input: np.ndarray, cur_input: np.ndarray, bound: float = 2.0, sigma: float = 2.0,
                margin: int = 4) -> np.ndarray:
    """Pixels whose input did not change between two frames: the evaluation mask for flicker.

    The grey-level difference F(t) − F(t−1) (F = (R+G+B)/3, 0–255) is blurred with a Gaussian of
    ``sigma`` px (averaging camera noise away); pixels with |blurred difference| ≤ ``bound`` grey
    levels and farther than ``margin`` px (Chebyshev) from any pixel above it are static.
    Returns H×W bool.
    """
    d = np.abs(_blur(grey_level(cur_input) - grey_level(prev_input), sigma))
    changed = (d > bound).astype(np.uint8)
    if margin > 0:
        changed = cv2.dilate(changed, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8))
    return changed == 0


def static_flicker(prev: np.ndarray, cur: np.ndarray, static: np.ndarray) -> float:
    """Mean |cur − prev| over the pixels (and channels) where ``static`` is True, grey levels.

    With ``static`` the pixels whose *input* did not change, any change of the output there
    is flicker: 0 is perfectly stable. NaN when no pixel is static.
    """
    if not static.any():
        return float("nan")
    diff = np.abs(cur.astype(np.int16) - prev.astype(np.int16))
    return float(diff[static].mean())


def mean_static_flicker(outputs: list[np.ndarray], static_masks: list[np.ndarray]) -> float:
    """Average of :func:`static_flicker` over consecutive pairs; ``static_masks[t]`` belongs to
    the pair (t−1, t), so ``static_masks[0]`` is unused."""
    values = [static_flicker(outputs[t - 1], outputs[t], static_masks[t]) for t in range(1, len(outputs))]
    values = [v for v in values if v == v]
    return float(np.mean(values)) if values else float("nan")


def ghost_fraction(output: np.ndarray, per_frame: np.ndarray, sigma: float = 3.0, bound: float = 25.0) -> float:
    """Share of pixels (0–1) where blurred O(t) and blurred per-frame S(t) differ by > ``bound``.

    Both H×W×3 uint8 RGB, blurred with a Gaussian of ``sigma`` px; the difference is the mean
    over channels of |ΔRGB| in grey levels.
    """
    d = np.abs(_blur(output, sigma) - _blur(per_frame, sigma)).mean(axis=2)
    return float((d > bound).mean())


def update_map(prev_output: np.ndarray, output: np.ndarray, change: float = 2.0) -> np.ndarray:
    """Where the output took new values: mean-over-channels |O(t) − O(t−1)| > ``change`` grey levels (H×W bool)."""
    return np.abs(output.astype(np.int16) - prev_output.astype(np.int16)).mean(axis=2) > change


def gradient_energy(image: np.ndarray) -> np.ndarray:
    """|∇F|² of the grey level F in [0, 1] (3×3 Sobel / 8, i.e. per pixel step): H×W float32."""
    g = grey_level(image) / np.float32(255.0)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    return gx * gx + gy * gy


def seam_energy(prev_output: np.ndarray, output: np.ndarray, per_frame: np.ndarray, change: float = 2.0) -> float:
    """Gradient energy that the composite adds along the boundary of its update map, per frame pixel.

    Boundary: the 3×3 morphological gradient of :func:`update_map` (pixels on both sides of the
    edge between updated and kept).  Returns Σ_boundary (|∇O(t)|² − |∇S(t)|²) / (H·W), with F in
    [0, 1]; > 0 means the output has edges there that the per-frame stylization has not.
    """
    updated = update_map(prev_output, output, change).astype(np.uint8)
    ring = cv2.morphologyEx(updated, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    if not ring.any():
        return 0.0
    added = gradient_energy(output)[ring] - gradient_energy(per_frame)[ring]
    return float(added.sum() / ring.size)


def sharpness(image: np.ndarray) -> float:
    """Mean over the frame of :func:`gradient_energy`: |∇F|² of the grey level F in [0, 1] (Sobel / 8).

    image: H×W×3 uint8 RGB.  Blur lowers it; per-frame stylization sets the scale."""
    return float(gradient_energy(image).mean())
