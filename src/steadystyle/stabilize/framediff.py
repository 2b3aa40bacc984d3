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

Eqs. 1–5 are implemented once, in :mod:`steadystyle.stabilize.masks` (imported here and
re-exported); this module is the stabilizer that chains them frame after frame.

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

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import SteadyStyleError
from ..frames import check_frame
from .base import Box, register
from .masks import background_mask, check_iterations, check_kernel, check_threshold, close_mask, composite, grey_level
from .roi import plan_regions

__all__ = ["FrameDiffParams", "FrameDiffStabilizer", "background_mask", "close_mask", "composite", "grey_level"]


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class FrameDiffParams:
    """Parameters of the paper's stabilizer.

    threshold: T in grey levels (0–255 scale); |D| ≤ T is background.  Finite, ≥ 0.
    dilate_kernel, dilate_iterations: the closing's dilation, an odd square size ≥ 1 and a
        repeat count ≥ 0 (paper: 3, 2).
    erode_kernel, erode_iterations: the closing's erosion (paper: 5, 5).
    roi, roi_refresh, roi_refresh_change: ROI mode and when it plans a full-frame pass instead
        (see :class:`FrameDiffStabilizer`).
    roi_max_fraction: a *planning* knob of ROI mode, a fraction in (0, 1]: when the merged
        foreground boxes cover more than this share of the frame, the stabilizer asks for one
        full-frame S(t) instead of per-box regions (one pass instead of several, and fresh
        statistics).  It does not decide how a requested region is computed: that is the
        stylizer's one region policy (:func:`steadystyle.backends.base.region_crop`, which runs a
        full pass when a box plus its network context covers ≥
        :data:`~steadystyle.backends.base.REGION_FULL_FRACTION` of the frame).
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
    roi_max_fraction: float = field(default=0.5, metadata={"help": "ROI planning: ask for one full-frame pass instead "
                                                                   "of regions when the foreground boxes cover more "
                                                                   "than this fraction of the frame"})
    roi_refresh_change: float = field(default=0.1, metadata={"help": "ROI: a full-frame pass when this fraction of "
                                                                      "pixels changed by > T since the last one"})

    def __post_init__(self) -> None:
        check_threshold(self.threshold)
        check_kernel("dilate_kernel", self.dilate_kernel)
        check_iterations("dilate_iterations", self.dilate_iterations)
        check_kernel("erode_kernel", self.erode_kernel)
        check_iterations("erode_iterations", self.erode_iterations)
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


def _checked(stylized: object, shape: tuple[int, ...], call: str, what: str) -> np.ndarray:
    """``stylized`` when it is a uint8 array of ``shape``; a one-line error naming ``call`` otherwise."""
    if not isinstance(stylized, np.ndarray) or stylized.shape != shape or stylized.dtype != np.uint8:
        got = (f"{'×'.join(map(str, stylized.shape))} {stylized.dtype}" if isinstance(stylized, np.ndarray)
               else type(stylized).__name__)
        raise SteadyStyleError(f"{call} must return a {'×'.join(map(str, shape))} uint8 {what}, got {got}")
    return stylized


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

    def _region_output(self, stylize: Callable[..., np.ndarray], boxes: list[Box], mask: np.ndarray) -> np.ndarray:
        """O(t): Eq. 5 inside each box, with that box of S(t) from ``stylize(box)``; O(t−1) elsewhere."""
        out = self._prev_output.copy()
        for box in boxes:
            sl = box.slices()
            s = _checked(stylize(box), (box.height, box.width, 3), "stylize(box)", "region")
            out[sl] = composite(out[sl], s, mask[sl])
        return out

    def __call__(self, frame: np.ndarray, stylize: Callable[[], np.ndarray]) -> np.ndarray:
        """Stabilize one frame: H×W×3 uint8 RGB in, H×W×3 uint8 RGB output O(t) out (a new array)."""
        grey = grey_level(check_frame(frame))
        if self._prev_grey is not None and grey.shape != self._prev_grey.shape:
            self.reset()  # a new frame size starts a new clip
        if self._prev_output is None or self._prev_grey is None:
            self._prev_output = np.array(_checked(stylize(), frame.shape, "stylize()", "frame"), copy=True)
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
                stylized = _checked(stylize(), frame.shape, "stylize()", "frame")
                self._prev_output = composite(self._prev_output, stylized, mask)
                self._full_grey, self._since_full = grey, 0
            else:
                self._prev_output = self._region_output(stylize, boxes, mask)
                self.last_regions = boxes
                self._since_full += 1
        self._prev_grey = grey
        self.last_mask = mask
        self.last_foreground_fraction = foreground / mask.size
        return self._prev_output.copy()
