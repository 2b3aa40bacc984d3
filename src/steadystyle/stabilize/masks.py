"""The masks and composites every stabilizer is built from: Eqs. 1–5 of Xiong, Weber & Hu (2018),
and the one blend.

Each equation has exactly one implementation, here; the stabilizers (``framediff``, ``adaptive``,
``flow``) and the colour controls (:mod:`steadystyle.color`) import them.

1. Grey level        F = (R + G + B) / 3                         :func:`grey_level` (float32, 0–255)
2–3. Difference and  D = F(t) − F(t−1);  B = 1 where |D| ≤ T     :func:`background_mask` (T in grey levels)
     threshold
4. Closing           dilations, then erosions, of a 0/1 mask     :func:`close_mask` (square or disc)
5. Composite         O(t) = O(t−1) ⊙ B + S(t) ⊙ (1 − B)          :func:`composite`

and :func:`lerp`, the blend a + t·(b − a) of two uint8 images, rounded (strength, feathered
regions, cross-fades, the flow stabilizer's ``blend``).

Arithmetic is fixed so results are bit-exact across runs and callers: F is computed as
``(R + G + B) / 3`` in float32 (the channel sum is exact), T is rounded to float32 before the
comparison, and :func:`lerp` computes in float32 and rounds half to even.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..errors import SteadyStyleError
from ..frames import check_frame

__all__ = ["grey_level", "background_mask", "close_mask", "composite", "put_where", "lerp", "blend", "check_threshold", "check_kernel",
           "check_iterations", "check_bounded", "MAX_KERNEL", "MAX_ITERATIONS"]

MAX_KERNEL = 99
"""Largest structuring square (px) a closing takes: beyond it one morphology pass over a frame
takes seconds, and the mask it gives is the whole frame anyway at call sizes."""

MAX_ITERATIONS = 100
"""Most dilations or erosions a closing takes (each one is a pass over the frame)."""


# --------------------------------------------------------------------------- parameter checks


def check_threshold(threshold: float) -> float:
    """``threshold`` (T, grey levels) as a float when it is a finite number ≥ 0; a one-line error otherwise."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)):
        raise SteadyStyleError(f"threshold must be a number of grey levels (got {threshold!r})")
    value = float(threshold)
    if not math.isfinite(value) or not 0 <= value <= 255:
        raise SteadyStyleError(f"threshold must be from 0 to 255 grey levels (got {threshold!r})")
    return value


def check_kernel(name: str, kernel: int) -> int:
    """``kernel`` (a square's side, px) as an int when it is odd and ≥ 1; a one-line error naming
    ``name`` otherwise."""
    if isinstance(kernel, bool) or not isinstance(kernel, (int, np.integer)):
        raise SteadyStyleError(f"{name} must be an odd integer ≥ 1 (got {kernel!r})")
    if kernel < 1 or kernel % 2 == 0:
        raise SteadyStyleError(f"{name} must be an odd integer ≥ 1 (got {kernel}); even squares have no centre")
    if kernel > MAX_KERNEL:
        raise SteadyStyleError(f"{name} must be an odd integer from 1 to {MAX_KERNEL} px (got {kernel})")
    return int(kernel)


def check_iterations(name: str, iterations: int) -> int:
    """``iterations`` as an int when it is an integer from 0 to :data:`MAX_ITERATIONS`; a
    one-line error naming ``name`` otherwise."""
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
        raise SteadyStyleError(f"{name} must be an integer ≥ 0 (got {iterations!r})")
    if iterations > MAX_ITERATIONS:
        raise SteadyStyleError(f"{name} must be an integer from 0 to {MAX_ITERATIONS} (got {iterations})")
    return int(iterations)


def check_bounded(name: str, value: object, low: float, high: float, *, integer: bool = False,
                  unit: str = "") -> float:
    """``value`` as a float (an int with ``integer``) when it is a finite number in
    [``low``, ``high``]; a one-line error naming ``name``, the range and ``unit`` otherwise."""
    kind = "an integer" if integer else "a number"
    what = f"{name} must be {kind} from {low:g} to {high:g}{' ' + unit if unit else ''}"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise SteadyStyleError(f"{what} (got {value!r})")
    if integer and not float(value).is_integer():
        raise SteadyStyleError(f"{what} (got {value!r})")
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        raise SteadyStyleError(f"{what} (got {value!r})")
    return int(number) if integer else number


# --------------------------------------------------------------------------- Eqs. 1–5


def grey_level(frame: np.ndarray) -> np.ndarray:
    """Eq. 1: grey level F = (R + G + B) / 3.

    frame: H×W×3 uint8 RGB (else :class:`~steadystyle.frames.FrameError`).  Returns H×W float32
    in grey levels 0–255.
    """
    f = check_frame(frame).astype(np.float32, copy=False)
    total = f[..., 0] + f[..., 1] + f[..., 2]  # exact for uint8: integers ≤ 765
    return total / np.float32(3.0)


def background_mask(grey_prev: np.ndarray, grey_cur: np.ndarray, threshold: float) -> np.ndarray:
    """Eqs. 2–3: D = F(t) − F(t−1); B = 1 where |D| ≤ T, else 0.

    grey_prev, grey_cur: H×W float32 grey levels of frames t−1 and t.
    threshold: T in grey levels (rounded to float32 for the comparison).
    Returns H×W uint8, 1 = background (keep the previous output), 0 = foreground.
    """
    t = np.float32(check_threshold(threshold))
    if grey_prev.shape != grey_cur.shape:
        raise SteadyStyleError(f"grey levels differ in shape: {grey_prev.shape} vs {grey_cur.shape}")
    d = grey_cur.astype(np.float32, copy=False) - grey_prev.astype(np.float32, copy=False)
    return (np.abs(d) <= t).astype(np.uint8)


def _kernel(size: int, disc: bool) -> np.ndarray:
    """A size×size structuring element: a square of ones, or OpenCV's ellipse inscribed in it."""
    if disc:
        return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    return np.ones((size, size), np.uint8)


def close_mask(
    mask: np.ndarray,
    dilate_kernel: int = 3,
    dilate_iterations: int = 2,
    erode_kernel: int = 5,
    erode_iterations: int = 5,
    *,
    disc: bool = False,
) -> np.ndarray:
    """Eq. 4: morphological closing of a 0/1 mask: ``dilate_iterations`` dilations, then
    ``erode_iterations`` erosions.

    mask: H×W uint8 or bool, nonzero = set.  The defaults are the paper's closing of the
    background mask (3×3 ×2, then 5×5 ×5).  Kernels are odd: squares of ones, or with ``disc``
    OpenCV's ellipse of that diameter (a closing that bridges gaps narrower than the disc without
    growing the outline).  Pixels outside the frame count as neither set nor unset (OpenCV's
    default border for ``cv2.dilate``/``cv2.erode``).  Returns a new H×W uint8 0/1 array.
    """
    dk = check_kernel("dilate_kernel", dilate_kernel)
    di = check_iterations("dilate_iterations", dilate_iterations)
    ek = check_kernel("erode_kernel", erode_kernel)
    ei = check_iterations("erode_iterations", erode_iterations)
    if mask.ndim != 2:
        raise SteadyStyleError(f"expected an H×W mask, got shape {mask.shape}")
    out = (mask != 0).astype(np.uint8)
    if di > 0 and dk > 1:
        out = cv2.dilate(out, _kernel(dk, disc), iterations=di)
    if ei > 0 and ek > 1:
        out = cv2.erode(out, _kernel(ek, disc), iterations=ei)
    return out


def composite(prev_output: np.ndarray, stylized: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Eq. 5: O(t) = O(t−1) ⊙ B + S(t) ⊙ (1 − B).

    prev_output, stylized: H×W×3 uint8 RGB (a whole frame, or the same box of both).  mask: H×W,
    nonzero = background.  Returns a new H×W×3 uint8 array: prev_output where mask is set,
    stylized elsewhere.
    """
    if prev_output.shape != stylized.shape:
        raise SteadyStyleError(f"stylized frame is {stylized.shape}, previous output is {prev_output.shape}")
    if mask.shape != prev_output.shape[:2]:
        raise SteadyStyleError(f"mask is {mask.shape}, frames are {prev_output.shape[:2]}")
    out = np.array(stylized, copy=True)
    put_where(out, prev_output, mask != 0)
    return out


def put_where(dst: np.ndarray, src: np.ndarray, mask: np.ndarray) -> None:
    """dst ← src where ``mask``, in place.

    dst: an h×w or h×w×c array (c ≤ 4), or a view of one (e.g. a box of a frame).  src: the same
    shape and dtype.  mask: h×w bool.  The same as ``np.copyto(dst, src, where=mask[..., None])``,
    by OpenCV's masked copy (numpy's broadcast ``where=`` is ~30× slower on a 640×480×3 frame).
    """
    if dst.shape != src.shape or dst.dtype != src.dtype or mask.shape != dst.shape[:2]:
        raise SteadyStyleError(f"cannot copy {src.shape} {src.dtype} into {dst.shape} {dst.dtype} "
                               f"under a {mask.shape} mask")
    m = np.ascontiguousarray(mask, dtype=bool).view(np.uint8)
    part = dst if dst.flags.c_contiguous else np.ascontiguousarray(dst)  # OpenCV cannot write into a strided view
    cv2.copyTo(np.ascontiguousarray(src), m, part)  # writes into part
    if part is not dst:
        dst[...] = part


# --------------------------------------------------------------------------- the blend


def lerp(a: np.ndarray, b: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """The blend a + t·(b − a), rounded half to even and clipped to 0–255: a new uint8 array.

    a, b: uint8 arrays of the same shape (usually H×W×3 RGB).  t: the share of ``b``, 0–1: a
    number, or a float32 array that broadcasts against ``a`` (e.g. H×W×1 per-pixel weights).
    Per-pixel weights are computed in float32; a number with uint8 images by OpenCV's
    ``addWeighted`` (double precision: the same blend, ≈ 10× faster at 720p; it can differ from
    the float32 path by one grey level on ≈ 0.2 % of values, where float32 rounding tips a tie).
    t = 0 gives ``a`` and t = 1 gives ``b`` exactly.
    """
    if a.shape != b.shape:
        raise SteadyStyleError(f"cannot blend images of shapes {a.shape} and {b.shape}")
    if not isinstance(t, np.ndarray) and a.dtype == np.uint8 and b.dtype == np.uint8:
        # a number: OpenCV's fused a·(1 − t) + b·t, rounded half to even (≈ 10× faster at 720p)
        return cv2.addWeighted(a, 1.0 - float(t), b, float(t), 0.0)
    weight = t if isinstance(t, np.ndarray) else np.float32(t)
    out = np.subtract(b, a, dtype=np.float32)
    out *= weight
    out += a
    np.rint(out, out=out)
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8)


def blend(a: np.ndarray, b: np.ndarray, alpha: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """a + α (b − a) per pixel, by OpenCV's ``blendLinear``: into ``out`` (which may be ``a``,
    e.g. a crop of a larger image, written in place) or a new uint8 array.

    a, b: H×W×C uint8.  alpha: H×W float32, 0–1 (the share of ``b``).  The same blend as
    :func:`lerp` within one grey level (rounding of ties), in one pass with no float image:
    ≈ 4× faster at 640×480.  α = 0 gives ``a`` and α = 1 gives ``b`` exactly.
    """
    if a.shape != b.shape or a.dtype != np.uint8 or b.dtype != np.uint8:
        raise SteadyStyleError(f"cannot blend images of shapes {a.shape} and {b.shape} ({a.dtype}, {b.dtype})")
    if alpha.shape != a.shape[:2]:
        raise SteadyStyleError(f"blend weights of shape {alpha.shape} do not fit images of shape {a.shape}")
    weight = np.ascontiguousarray(alpha, dtype=np.float32)
    if out is None:
        return cv2.blendLinear(a, b, 1.0 - weight, weight)  # OpenCV reads row-strided views (crops) in place
    if out.shape != a.shape or out.dtype != np.uint8:
        raise SteadyStyleError(f"cannot blend into an array of shape {out.shape} ({out.dtype})")
    try:
        result = cv2.blendLinear(a, b, 1.0 - weight, weight, dst=out)
    except cv2.error:  # a layout OpenCV cannot write into (e.g. a view with a negative or odd stride)
        result = cv2.blendLinear(np.ascontiguousarray(a), np.ascontiguousarray(b), 1.0 - weight, weight)
    if not np.shares_memory(result, out):
        out[...] = result
    return out
