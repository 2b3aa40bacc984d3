"""The frame-difference stabilizer of Xiong, Weber & Hu (ICICIP 2018), exactly as published.

"Frame Difference-Based Real-Time Video Stylization in Video Calls": only the pixels that
changed since the previous frame take the new stylization; everywhere else the previous
*output* is kept, so the stylized background stays frozen and does not flicker.

The paper's steps, for input frames I(t) (H×W×3 RGB) and stylizations S(t) = net(I(t)):

1. Grey level          F(t) = (R + G + B) / 3                                  (0–255, float32)
2. Frame difference    D(t) = F(t) − F(t−1)
3. Background mask     B(t) = 1 where |D(t)| ≤ T, 0 where |D(t)| > T            (T in grey levels)
4. Closing of B(t)     ``dilate_iterations`` dilations with a ``dilate_kernel``² square of
                       ones, then ``erode_iterations`` erosions with an ``erode_kernel``² square
                       (paper Fig. 4: 3×3 ×2, then 5×5 ×5).  Dilating B first removes small
                       foreground specks (noise); the larger erosion then grows the remaining
                       foreground by a margin, so the edges of moving objects are re-stylized.
                       Pixels outside the frame never count as foreground or background
                       (OpenCV's default border for ``cv2.dilate``/``cv2.erode``).
5. Composite           O(t) = O(t−1) ⊙ B(t) + S(t) ⊙ (1 − B(t)),   O(1) = S(1)

O(t−1) is the previous *output*, not the previous stylization: a pixel that never moves keeps
the value S(1) gave it for the whole clip.

Speed-up: if the closed mask is background everywhere, O(t) = O(t−1) and S(t) is not needed,
so the stabilizers do not call ``stylize`` for that frame (the network is skipped entirely).

Default threshold, ``T = 8`` grey levels, measured by ``tools/measure_threshold.py`` on the
development clips (14 fixed-camera webcam clips, a room camera, an overhead crowd camera, a
256-colour GIF; table in ``tools/measure_threshold.md``).  Rule: in each pair of consecutive frames take the *static
pixels* — those more than 7 px from any pixel with |D| > 25, i.e. away from anything that clearly
moved, where |D| is camera noise and compression only — and pick the smallest T of
{2, 4, 6, 8, 10, 12, 16, 20, 25} at which the raw mask marks at most 1 % of them foreground on the
median pair of every clip.  Worst clip: T=4 3.8 %, T=6 1.35 %, T=8 0.79 %, T=10 0.52 %.  (A 2 %
target would give T=6; 1 % leaves room for noisier cameras: the 720p clips were measured shrunk.)

Known limits of the method as published, seen on those clips: the closing first dilates B by
3×3 twice, which erases any foreground region thinner than 5 px or riddled with sub-threshold
pixels (fine texture) — a flat object moving a few pixels per
frame only changes at its leading and trailing edges and is not re-stylized; and slow camera
motion (the hand-held clip drifts ~0.2 px per frame) keeps |D| ≤ T almost everywhere, so the mask
stays background while the scene moves and the frozen stylization goes stale (40 % of pixels
off by > 25 grey levels at T=8) instead of falling back to per-frame stylization.

Arithmetic: F is computed as ``(R + G + B) / 3`` in float32 (the channel sum is exact) and T is
rounded to float32 before the comparison, identically in the NumPy and torch paths, so both
give bit-identical masks and outputs.  Because F is rounded, |D| of two uint8 frames whose
channel sums differ by exactly 3T can land one float32 ulp above T; this affects 14 to 134 of the
766² possible sum pairs at integer T from 1 to 25 and is irrelevant in practice.

Kernel sizes must be odd: an even square has no centre, and OpenCV's anchor for it is
asymmetric; the paper only uses 3 and 5.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..errors import SteadyStyleError
from .base import Box, register
from .roi import plan_regions

__all__ = ["FrameDiffParams", "FrameDiffStabilizer", "background_mask", "close_mask", "composite", "grey_level"]


# --------------------------------------------------------------------------- parameters


def _check_threshold(threshold: float) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)):
        raise SteadyStyleError(f"threshold must be a number of grey levels (got {threshold!r})")
    value = float(threshold)
    if not math.isfinite(value) or value < 0:
        raise SteadyStyleError(f"threshold must be a finite number ≥ 0 grey levels (got {threshold!r})")
    return value


def _check_kernel(name: str, kernel: int) -> int:
    if isinstance(kernel, bool) or not isinstance(kernel, (int, np.integer)):
        raise SteadyStyleError(f"{name} must be an odd integer ≥ 1 (got {kernel!r})")
    if kernel < 1 or kernel % 2 == 0:
        raise SteadyStyleError(f"{name} must be an odd integer ≥ 1 (got {kernel}); even squares have no centre")
    return int(kernel)


def _check_iterations(name: str, iterations: int) -> int:
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
        raise SteadyStyleError(f"{name} must be an integer ≥ 0 (got {iterations!r})")
    return int(iterations)


@dataclass(frozen=True)
class FrameDiffParams:
    """Parameters of the paper's stabilizer.

    threshold: T in grey levels (0–255 scale); |D| ≤ T is background.  Finite, ≥ 0.
    dilate_kernel, dilate_iterations: the closing's dilation, an odd square size ≥ 1 and a
        repeat count ≥ 0 (paper: 3, 2).
    erode_kernel, erode_iterations: the closing's erosion (paper: 5, 5).
    """

    threshold: float = field(default=8.0, metadata={"help": "frame-difference threshold T in grey levels"})
    dilate_kernel: int = field(default=3, metadata={"help": "closing: dilation square size (odd)"})
    dilate_iterations: int = field(default=2, metadata={"help": "closing: number of dilations"})
    erode_kernel: int = field(default=5, metadata={"help": "closing: erosion square size (odd)"})
    erode_iterations: int = field(default=5, metadata={"help": "closing: number of erosions"})
    roi: bool = field(default=False, metadata={"help": "re-stylize only the boxes around the foreground (network "
                                                       "context added, full-frame instance-norm statistics)"})
    roi_refresh: int = field(default=10, metadata={"help": "ROI: a full-frame pass at least every N stylized frames "
                                                           "(refreshes the frozen statistics)"})
    roi_max_fraction: float = field(default=0.5, metadata={"help": "ROI: stylize the full frame when the foreground "
                                                                   "boxes cover more than this fraction of it"})
    roi_refresh_change: float = field(default=0.1, metadata={"help": "ROI: a full-frame pass when this fraction of "
                                                                      "pixels changed by > T since the last one"})

    def __post_init__(self) -> None:
        _check_threshold(self.threshold)
        _check_kernel("dilate_kernel", self.dilate_kernel)
        _check_iterations("dilate_iterations", self.dilate_iterations)
        _check_kernel("erode_kernel", self.erode_kernel)
        _check_iterations("erode_iterations", self.erode_iterations)
        if not isinstance(self.roi, (bool, np.bool_)):
            raise SteadyStyleError(f"roi must be true or false (got {self.roi!r})")
        if isinstance(self.roi_refresh, bool) or not isinstance(self.roi_refresh, (int, np.integer)) or self.roi_refresh < 1:
            raise SteadyStyleError(f"roi_refresh must be an integer ≥ 1 (got {self.roi_refresh!r})")
        for name in ("roi_max_fraction", "roi_refresh_change"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                    or not 0.0 < float(value) <= 1.0:
                raise SteadyStyleError(f"{name} must be a fraction in (0, 1] (got {value!r})")

    def closing(self) -> dict[str, int]:
        """The four closing parameters as keyword arguments for ``close_mask``/``close_mask_torch``."""
        return {
            "dilate_kernel": self.dilate_kernel,
            "dilate_iterations": self.dilate_iterations,
            "erode_kernel": self.erode_kernel,
            "erode_iterations": self.erode_iterations,
        }


# --------------------------------------------------------------------------- NumPy / OpenCV


def grey_level(frame: np.ndarray) -> np.ndarray:
    """Eq. 1: grey level F = (R + G + B) / 3.

    frame: H×W×3 uint8 RGB.  Returns H×W float32 in grey levels 0–255.
    """
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3:
        shape = getattr(frame, "shape", type(frame).__name__)
        raise SteadyStyleError(f"expected an H×W×3 RGB frame, got {shape}")
    f = frame.astype(np.float32, copy=False)
    total = f[..., 0] + f[..., 1] + f[..., 2]  # exact for uint8: integers ≤ 765
    return total / np.float32(3.0)


def background_mask(grey_prev: np.ndarray, grey_cur: np.ndarray, threshold: float) -> np.ndarray:
    """Eqs. 2–3: D = F(t) − F(t−1); B = 1 where |D| ≤ T, else 0.

    grey_prev, grey_cur: H×W float32 grey levels of frames t−1 and t.
    threshold: T in grey levels (rounded to float32 for the comparison).
    Returns H×W uint8, 1 = background (keep the previous output), 0 = foreground.
    """
    t = np.float32(_check_threshold(threshold))
    if grey_prev.shape != grey_cur.shape:
        raise SteadyStyleError(f"grey levels differ in shape: {grey_prev.shape} vs {grey_cur.shape}")
    d = grey_cur.astype(np.float32, copy=False) - grey_prev.astype(np.float32, copy=False)
    return (np.abs(d) <= t).astype(np.uint8)


def close_mask(
    mask: np.ndarray,
    dilate_kernel: int = 3,
    dilate_iterations: int = 2,
    erode_kernel: int = 5,
    erode_iterations: int = 5,
) -> np.ndarray:
    """Eq. 4: morphological closing of the background mask (dilations, then erosions).

    mask: H×W uint8 or bool, 1 = background.  Kernels are odd squares of ones; outside the frame
    counts as neither (OpenCV's default border).  Returns a new H×W uint8 0/1 array.
    """
    dk = _check_kernel("dilate_kernel", dilate_kernel)
    di = _check_iterations("dilate_iterations", dilate_iterations)
    ek = _check_kernel("erode_kernel", erode_kernel)
    ei = _check_iterations("erode_iterations", erode_iterations)
    if mask.ndim != 2:
        raise SteadyStyleError(f"expected an H×W mask, got shape {mask.shape}")
    out = (mask != 0).astype(np.uint8)
    if di > 0 and dk > 1:
        out = cv2.dilate(out, np.ones((dk, dk), np.uint8), iterations=di)
    if ei > 0 and ek > 1:
        out = cv2.erode(out, np.ones((ek, ek), np.uint8), iterations=ei)
    return out


def composite(prev_output: np.ndarray, stylized: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Eq. 5: O(t) = O(t−1) ⊙ B + S(t) ⊙ (1 − B).

    prev_output, stylized: H×W×3 uint8 RGB.  mask: H×W, nonzero = background.
    Returns a new H×W×3 uint8 array: prev_output where mask is 1, stylized elsewhere.
    """
    if prev_output.shape != stylized.shape:
        raise SteadyStyleError(f"stylized frame is {stylized.shape}, previous output is {prev_output.shape}")
    if mask.shape != prev_output.shape[:2]:
        raise SteadyStyleError(f"mask is {mask.shape}, frames are {prev_output.shape[:2]}")
    return np.where((mask != 0)[..., None], prev_output, stylized)


def _hw(shape: tuple[int, ...]) -> str:
    return "×".join(str(s) for s in shape)


@register("frame-diff", FrameDiffParams, "the paper's stabilizer: keep the previous output where |ΔF| ≤ T after closing")
class FrameDiffStabilizer:
    """The paper's stabilizer on H×W×3 uint8 RGB frames (NumPy/OpenCV).

    Call it once per frame of one clip, in order; ``reset()`` between clips (a change of frame
    size resets it by itself).  ``stylize()`` must return S(t), the H×W×3 uint8 RGB stylization of
    the frame just passed; it is called on the first frame and then only when the closed mask has
    foreground.

    last_mask: the closed background mask (H×W uint8, 1 = background) of the last call, None
        on the first frame.
    last_foreground_fraction: fraction of pixels that took the new stylization at the last call
        (1.0 on the first frame; 0.0 means ``stylize`` was not called).
    last_regions: the boxes ``stylize(box)`` was asked for at the last call (``[]`` when it ran on
        the full frame or not at all).

    ROI mode (``params.roi``, beyond the paper): when the closed mask has foreground, the boxes of
    its components (:func:`~steadystyle.stabilize.roi.plan_regions`) are stylized with
    ``stylize(box)`` and composited inside the mask, which gives the paper's output wherever the
    region's stylization equals the full frame's.  A full-frame ``stylize()`` is used instead on
    the first frame, when the boxes cover more than ``roi_max_fraction`` of the frame, at least
    every ``roi_refresh`` stylized frames, and when more than ``roi_refresh_change`` of the pixels
    differ by more than T from the frame of the last full pass — these full passes are what a
    stylizer takes its frozen instance-norm statistics from.
    """

    def __init__(self, params: FrameDiffParams = FrameDiffParams()) -> None:
        if not isinstance(params, FrameDiffParams):
            raise SteadyStyleError(f"params must be FrameDiffParams, got {type(params).__name__}")
        self.params = params
        self.reset()

    def reset(self) -> None:
        """Forget the previous frame and output: the next call starts a new clip."""
        self._prev_grey: np.ndarray | None = None
        self._prev_output: np.ndarray | None = None
        self.last_mask: np.ndarray | None = None
        self.last_foreground_fraction: float = 1.0
        self.last_regions: list[Box] = []
        self._full_grey: np.ndarray | None = None  # grey level of the frame of the last full pass
        self._since_full = 0  # stylized frames since the last full pass

    def _regions(self, grey: np.ndarray, mask: np.ndarray) -> list[Box] | None:
        """ROI plan for this frame: the boxes to stylize, or None for a full-frame pass."""
        p = self.params
        if not p.roi or self._full_grey is None or self._since_full + 1 >= p.roi_refresh:
            return None
        changed = np.count_nonzero(np.abs(grey - self._full_grey) > np.float32(p.threshold))
        if changed > p.roi_refresh_change * grey.size:
            return None
        return plan_regions(mask == 0, pad=0, merge_gap=32, max_fraction=p.roi_max_fraction)

    def _composite_regions(self, stylize: Callable[..., np.ndarray], boxes: list[Box], mask: np.ndarray) -> np.ndarray:
        """O(t) from O(t−1) with ``stylize(box)`` composited inside the mask's foreground of each box."""
        out = self._prev_output.copy()
        for box in boxes:
            s = stylize(box)
            shape = (box.height, box.width, 3)
            if not isinstance(s, np.ndarray) or s.shape != shape or s.dtype != np.uint8:
                got = f"{_hw(s.shape)} {s.dtype}" if isinstance(s, np.ndarray) else type(s).__name__
                raise SteadyStyleError(f"stylize(box) must return a {_hw(shape)} uint8 region, got {got}")
            region = out[box.slices()]
            np.copyto(region, s, where=(mask[box.slices()] == 0)[..., None])
        return out

    def _stylized(self, stylize: Callable[[], np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
        s = stylize()
        if not isinstance(s, np.ndarray) or s.shape != shape or s.dtype != np.uint8:
            got = f"{_hw(s.shape)} {s.dtype}" if isinstance(s, np.ndarray) else type(s).__name__
            raise SteadyStyleError(f"stylize() must return a {_hw(shape)} uint8 frame, got {got}")
        return s

    def __call__(self, frame: np.ndarray, stylize: Callable[[], np.ndarray]) -> np.ndarray:
        """Stabilize one frame: H×W×3 uint8 RGB in, H×W×3 uint8 RGB output O(t) out (a new array)."""
        if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            got = f"{_hw(frame.shape)} {frame.dtype}" if isinstance(frame, np.ndarray) else type(frame).__name__
            raise SteadyStyleError(f"expected an H×W×3 uint8 RGB frame, got {got}")
        grey = grey_level(frame)
        if self._prev_grey is not None and grey.shape != self._prev_grey.shape:
            self.reset()  # a new frame size starts a new clip
        if self._prev_output is None or self._prev_grey is None:
            self._prev_output = np.array(self._stylized(stylize, frame.shape), copy=True)
            self._prev_grey = grey
            self.last_mask = None
            self.last_foreground_fraction = 1.0
            self.last_regions = []
            self._full_grey, self._since_full = grey, 0
            return self._prev_output.copy()
        p = self.params
        mask = close_mask(background_mask(self._prev_grey, grey, p.threshold), **p.closing())
        foreground = mask.size - int(np.count_nonzero(mask))
        self.last_regions = []
        if foreground:
            boxes = self._regions(grey, mask)
            if boxes is None:
                self._prev_output = composite(self._prev_output, self._stylized(stylize, frame.shape), mask)
                self._full_grey, self._since_full = grey, 0
            else:
                self._prev_output = self._composite_regions(stylize, boxes, mask)
                self.last_regions = boxes
                self._since_full += 1
        self._prev_grey = grey
        self.last_mask = mask
        self.last_foreground_fraction = foreground / mask.size
        return self._prev_output.copy()
