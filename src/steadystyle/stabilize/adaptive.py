"""The adaptive stabilizer: the paper's idea (keep the output where the input did not change),
with the failure modes of the published method removed.  Each part is a switch in
:class:`AdaptiveParams`, so it can be measured on its own.

Per frame I(t) (H×W×3 uint8 RGB), with G(t) the grey level F = (R+G+B)/3 blurred by a Gaussian of
``blur_sigma`` px (0–255):

1. **Auto threshold** (``auto_threshold``): camera noise σ is measured in the clip itself as
   1.4826 × median |G(t) − G(t−1)| (a robust σ of the frame difference: most pixels are static;
   on a lattice of about 4096 cells of the mask grid),
   the median of the last 25 estimates; T = max(``min_threshold``, ``noise_factor`` × σ).
   Off: T = ``fixed_threshold``.  The floor, 4, is the paper's T = 8 (measured on unblurred grey
   levels of the development clips) halved for the blur: compressed clips are bit-identical in
   most still pixels, so their σ estimate is ~0 while re-quantization still moves pixels by a few
   levels.  A sweep of the floor (2, 3, 4, 6) on six clips is in ``docs/evaluation.md``.
2. **Per-pixel reference** (``reference``): a pixel has changed when |G(t) − G(t−1)| > T (the
   paper's frame difference) *or* |G(t) − R| > ``reference_factor`` × T, where R holds, per pixel,
   G of the frame that pixel was last stylized from — slow motion, uncovered background and drift
   accumulate until they are caught.  The looser bound on R keeps small persistent offsets
   (re-quantization at a compressed clip's key frames, dithering) from re-stylizing still pixels.
   Off: only the frame difference.
3. **Fallback** (``fallback``): the whole frame is stylized (per-frame) and every reference reset
   when the regions to update (step 4) cover more than ``fallback_fraction`` of it (scene cut,
   lighting jump, fast camera motion, a close-up), or when the camera moved: the global
   translation since the frame that last triggered the fallback, measured by phase correlation,
   exceeds ``motion_px`` and explains the change (:func:`camera_moved`; tested only when the
   change reaches more than ``camera_spread`` of the 3×3 tiles, :func:`change_spread` — a camera
   that moves changes every textured part of the frame, a caller only their own); after camera motion it
   stays per-frame for ``hold_frames`` frames, re-armed while the camera keeps moving.
4. **Regions** (``regions``): changed pixels in connected specks of fewer than ``min_region_px``
   pixels are noise; the rest are grouped (pixels within ``group_px`` join), holes filled, and each
   region is re-stylized whole with an edge feathered over ``feather_px`` (Gaussian σ):
   O = O(t−1) + α (S(t) − O(t−1)), α = 1 on the region.  No dilation-first closing, so thin
   moving strips (lips, eyelids) are never erased.  Off: the paper's closing and hard composite.
5. **Person** (``person``, needs mediapipe): a region touching the person (MediaPipe selfie
   segmentation of I(t−1) ∪ I(t)) takes the whole person, so a talking face is re-stylized as one
   piece, never as a patchwork.
6. **Bounded freeze** (``max_freeze_frames``): pixels kept longer than that many frames are
   cross-faded to the current stylization over ``fade_frames`` frames, so a frozen background
   follows lighting drift and never goes stale for long.  0 = off.

7. **Mask grid** (``mask_side``): steps 1–6 run on a copy of the frame at most ``mask_side`` px on
   its longer side (area-averaged: each cell the mean of the pixels it covers, which also
   averages camera noise away); sizes given in px (``group_px``, ``min_region_px``,
   ``feather_px``, ``motion_px``, ``context_px``) are the frame's and are scaled to the grid.  α is
   grown by one cell (so every frame pixel of a moving cell takes α = 1 exactly) and feathered
   with σ less what the grid already reaches (:func:`grid_feather_sigma`: α reaches about as far
   as at the frame's own size), brought back to the frame bilinearly (smooth by construction) and only inside the box, and the
   blend there is OpenCV's (uint8 in and out).  At 640×480 and the default 160 this is 1/16 of the
   pixels: the method's own work stays a small share of a network pass.  0 = the frame's own size.

Only the bounding box of the pixels that take new values (plus ``context_px``) is requested from
the stylizer (``stylize(box)``, however large the box); a still frame costs no network pass at all.
Whether a box runs as a region pass or is cut from a full-frame pass is not decided here but by
the stylizer's one region policy (:func:`steadystyle.backends.base.region_crop`).  The grey level,
the closing and the blend O(t−1) + α (S(t) − O(t−1)) are :mod:`steadystyle.stabilize.masks`'.
"""

from __future__ import annotations

import functools
from collections import deque
from dataclasses import dataclass, field
from statistics import NormalDist

import cv2
import numpy as np

from ..errors import SteadyStyleError
from ..frames import check_frame
from ..geometry import grow
from .base import Box, Stylize, register
from .masks import MAX_KERNEL, blend, check_bounded, close_mask, grey_level

__all__ = ["AdaptiveParams", "AdaptiveStabilizer", "noise_sigma", "drop_specks", "fill_holes", "group_regions",
           "feather", "global_shift", "tile_shares", "change_spread", "camera_moved", "alpha_box", "MaskGrid"]


# --------------------------------------------------------------------------- pure steps


#: The noise σ and the camera test's shares are counted on a regular lattice of at least about
#: this many cells of the grid: the median of 4096 samples has a standard error of about 2 % of
#: σ, and costs a quarter of the whole 160×120 grid's.
LATTICE_SAMPLES = 4096


def lattice_step(cells: int, samples: int = LATTICE_SAMPLES) -> int:
    """The largest step k such that every k-th row and column of ``cells`` cells still leaves at
    least about ``samples`` of them (1: every cell)."""
    return max(1, int(np.sqrt(cells / max(1, samples))))


def noise_sigma(diff: np.ndarray, samples: int = LATTICE_SAMPLES) -> float:
    """Robust σ (grey levels) of a frame difference (H×W float32): 1.4826 × median |diff|, over
    every k-th row and column (:func:`lattice_step`)."""
    step = lattice_step(diff.size, samples)
    return float(1.4826 * np.median(np.abs(diff[::step, ::step])))


def drop_specks(mask: np.ndarray, min_area: int) -> np.ndarray:
    """``mask`` (H×W bool) without 8-connected components of fewer than ``min_area`` pixels."""
    if min_area <= 1 or not mask.any():
        return mask.copy()
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False
    return keep[labels]


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """``mask`` (H×W bool) with every background area not connected to the frame border filled."""
    h, w = mask.shape
    padded = np.zeros((h + 2, w + 2), np.uint8)
    padded[1:-1, 1:-1] = mask
    outside = padded.copy()
    cv2.floodFill(outside, None, (0, 0), 2)
    return (outside[1:-1, 1:-1] != 2) | mask


def group_regions(mask: np.ndarray, group_px: int) -> np.ndarray:
    """Join pixels of ``mask`` closer than ~2·``group_px`` into regions and fill their holes (H×W bool).

    The one closing (:func:`~steadystyle.stabilize.masks.close_mask`) with a disc of radius
    ``group_px``, once each way: gaps narrower than the disc are bridged, the outline is not grown.
    """
    if group_px <= 0 or not mask.any():
        return fill_holes(mask)
    size = 2 * group_px + 1
    closed = close_mask(mask, size, 1, size, 1, disc=True) > 0
    return fill_holes(closed | mask)


def feather(region: np.ndarray, sigma: float) -> np.ndarray:
    """α (H×W float32, 0–1): 1 on ``region``, falling smoothly to 0 over ~2σ px outside it
    (values below 1/64, which would change no uint8 pixel by more than 4 levels, are cut to 0)."""
    a = region.astype(np.float32)
    if sigma <= 0 or not region.any():
        return a
    soft = np.clip(2.0 * cv2.GaussianBlur(a, (0, 0), sigma), 0.0, 1.0)
    soft[soft < 1.0 / 64] = 0.0
    return np.maximum(a, soft)


#: How far :func:`feather` reaches outside a straight region edge, in σ: 2·Φ(−d/σ) = 1/64 (its cut).
FEATHER_REACH = -NormalDist().inv_cdf(1 / 128)


#: Cells a coarser grid's region already reaches beyond the changed pixels before its feather:
#: the one-cell growth, half a cell of rounding to whole cells, half a cell of the bilinear read.
GRID_REACH_CELLS = 2.0


def grid_feather_sigma(sigma_cells: float) -> float:
    """The feather σ (cells) on a coarser mask grid: σ less the :data:`GRID_REACH_CELLS` the grid
    already reaches, so α reaches about as far outside a region as ``sigma_cells`` alone does at
    the frame's own size.  (With the full σ a region reached ~1.5× as far at 2 px a cell; in a
    crowd of small people that took the still floor around them and tipped frames into the
    fallback.)"""
    return max(0.0, sigma_cells - GRID_REACH_CELLS / FEATHER_REACH)


@functools.lru_cache(maxsize=8)
def _hann(size: tuple[int, int]) -> np.ndarray:
    """The Hann window of ``size`` (w, h) for phase correlation (made once per size; read only)."""
    window = cv2.createHanningWindow(size, cv2.CV_32F)
    window.flags.writeable = False
    return window


def global_shift(a: np.ndarray, b: np.ndarray, width: int = 160) -> tuple[float, float]:
    """Global translation (dx, dy) in px of the given images with ``b(x) ≈ a(x − d)``, for grey
    images ``a``, ``b`` (H×W float32), by phase correlation on copies at most ``width`` px wide (Hann window)."""
    h, w = a.shape
    if min(h, w) < 8:
        return 0.0, 0.0  # too small to measure a shift (and to window)
    scale = min(1.0, width / w)
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    # copies always: OpenCV 4.11's phaseCorrelate applies the window to its inputs in place
    sa = cv2.resize(a, size, interpolation=cv2.INTER_AREA) if scale < 1 else a.copy()
    sb = cv2.resize(b, size, interpolation=cv2.INTER_AREA) if scale < 1 else b.copy()
    (dx, dy), _ = cv2.phaseCorrelate(sa, sb, _hann(size))
    factor = w / sa.shape[1]
    return float(dx * factor), float(dy * factor)


def tile_shares(mask: np.ndarray, tiles: int = 3) -> np.ndarray:
    """Each tile's share of set pixels (``tiles``×``tiles`` float64, 0–1) of ``mask`` (H×W bool,
    at least ``tiles`` px each way), tile edges at ⌊k·H/tiles⌋ and ⌊k·W/tiles⌋; counted from an
    integral image (four corners a tile)."""
    h, w = mask.shape
    ys, xs = (np.arange(tiles + 1) * h) // tiles, (np.arange(tiles + 1) * w) // tiles
    total = cv2.integral(np.ascontiguousarray(mask).view(np.uint8))  # (H+1)×(W+1) int32 running sums
    corners = total[np.ix_(ys, xs)]
    counts = corners[1:, 1:] - corners[:-1, 1:] - corners[1:, :-1] + corners[:-1, :-1]
    return counts / np.outer(np.diff(ys), np.diff(xs))


def change_spread(changed: np.ndarray, tiles: int = 3, min_share: float = 0.02) -> float:
    """Share of the ``tiles``×``tiles`` tiles of ``changed`` (H×W bool) in which more than
    ``min_share`` of the pixels changed (0–1).  The camera moving changes every textured tile at
    once; a person moving in front of a fixed camera changes the few tiles they are in."""
    h, w = changed.shape
    if h < tiles or w < tiles:
        return 1.0 if changed.any() else 0.0
    return float((tile_shares(changed, tiles) > min_share).mean())


def camera_moved(anchor: np.ndarray, grey: np.ndarray, threshold: float, motion_px: float,
                 explained: float = 0.75) -> bool:
    """Whether the camera, not something in front of it, moved between grey ``anchor`` and ``grey``.

    True when the global shift is at least ``motion_px`` px *and* shifting ``anchor`` by it
    explains the frame: the share of pixels differing by more than ``threshold`` grey levels
    (away from the border the shift exposes) drops below ``explained`` × its unshifted value.
    (Development clips: hand-held camera 0.35–0.5×, fixed cameras with people moving ≥ 0.95×.)  A person moving in front
    of a fixed camera fails the second test: shifting the whole frame only adds differences on
    the background.
    """
    dx, dy = global_shift(anchor, grey)
    if np.hypot(dx, dy) < motion_px:
        return False
    h, w = grey.shape
    m = int(np.ceil(max(abs(dx), abs(dy)))) + 1
    if 2 * m >= min(h, w):
        return False  # not verifiable; a jump this large changes most of the frame and falls back anyway
    # the shares are counted on the lattice of the inner part (every k-th row and column); only
    # those cells of the shifted anchor are sampled (bilinear)
    k = lattice_step((h - 2 * m) * (w - 2 * m))
    inner = (slice(m, h - m, k), slice(m, w - m, k))
    g, a = grey[inner], anchor[inner]
    # dst(i, j) = anchor(m + k·j − dx, m + k·i − dy): the anchor moved by (dx, dy), at the lattice
    shifted = cv2.warpAffine(anchor, np.float32([[k, 0, m - dx], [0, k, m - dy]]), (g.shape[1], g.shape[0]),
                             flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    before = float((np.abs(g - a) > threshold).mean())
    after = float((np.abs(g - shifted) > threshold).mean())
    return after < explained * before


def alpha_box(alpha: np.ndarray, context_px: int) -> Box | None:
    """Bounding :class:`Box` of α > 0 grown by ``context_px`` (clipped to the frame); None if α is 0."""
    ys, xs = np.nonzero(alpha.max(axis=1) > 0)[0], np.nonzero(alpha.max(axis=0) > 0)[0]
    if ys.size == 0:
        return None
    return grow(Box(int(ys[0]), int(ys[-1]) + 1, int(xs[0]), int(xs[-1]) + 1), context_px, *alpha.shape)


@dataclass(frozen=True)
class MaskGrid:
    """The grid the masks are computed on: a frame of ``height``×``width`` px seen at
    ``grid_h``×``grid_w`` cells (at most ``side`` on the longer side; the frame's own size when it
    is smaller or ``side`` is 0)."""

    height: int
    width: int
    grid_h: int
    grid_w: int

    @classmethod
    def for_frame(cls, height: int, width: int, side: int) -> MaskGrid:
        scale = 1.0 if side <= 0 else min(1.0, side / max(height, width))
        return cls(height, width, max(1, round(height * scale)), max(1, round(width * scale)))

    @property
    def scale(self) -> float:
        """Grid cells per frame px (≤ 1)."""
        return self.grid_w / self.width

    @property
    def identity(self) -> bool:
        return self.grid_h == self.height and self.grid_w == self.width

    def shrink(self, image: np.ndarray) -> np.ndarray:
        """``image`` (H×W[×C]) on the grid: each cell the mean of the frame pixels it covers."""
        if self.identity:
            return image
        return cv2.resize(image, (self.grid_w, self.grid_h), interpolation=cv2.INTER_AREA)

    def shrink_mask(self, mask: np.ndarray) -> np.ndarray:
        """A frame mask (H×W bool) on the grid: a cell is set when at least half of it is."""
        if self.identity:
            return mask
        return self.shrink(mask.astype(np.float32)) >= 0.5

    def frame_box(self, box: Box, margin_px: int) -> Box:
        """A grid :class:`Box` in frame px — on a coarser grid grown by one cell (bilinear α reaches
        that far) — and by ``margin_px``, clipped to the frame."""
        if not self.identity:
            sy, sx = self.height / self.grid_h, self.width / self.grid_w
            box = Box(int(np.floor((box.y0 - 1) * sy)), int(np.ceil((box.y1 + 1) * sy)),
                      int(np.floor((box.x0 - 1) * sx)), int(np.ceil((box.x1 + 1) * sx)))
        return grow(box, margin_px, self.height, self.width)

    def expand(self, alpha: np.ndarray, box: Box | None = None) -> np.ndarray:
        """Grid α (grid_h×grid_w float32) at the frame px of ``box`` (None = the whole frame),
        bilinearly, as OpenCV's ``resize`` samples: frame pixel x reads the grid at
        (x + ½)·s − ½ (s = :attr:`scale`), edges replicated.  Only the box is computed."""
        if box is None:
            box = Box(0, self.height, 0, self.width)
        if self.identity:
            return np.ascontiguousarray(alpha[box.slices()])
        fy, fx = self.height // self.grid_h, self.width // self.grid_w
        if (fy * self.grid_h, fx * self.grid_w) == (self.height, self.width) \
                and box.y0 % fy == 0 and box.y1 % fy == 0 and box.x0 % fx == 0 and box.x1 % fx == 0:
            # whole cells at a whole factor (320×240, 640×480 on 160×120): resize the cells plus one
            # around (what the box's edge pixels read), then cut — ~10× faster than the warp
            r0, r1 = max(0, box.y0 // fy - 1), min(self.grid_h, box.y1 // fy + 1)
            c0, c1 = max(0, box.x0 // fx - 1), min(self.grid_w, box.x1 // fx + 1)
            big = cv2.resize(alpha[r0:r1, c0:c1], ((c1 - c0) * fx, (r1 - r0) * fy), interpolation=cv2.INTER_LINEAR)
            return np.ascontiguousarray(big[box.y0 - r0 * fy:box.y1 - r0 * fy, box.x0 - c0 * fx:box.x1 - c0 * fx])
        sy, sx = self.grid_h / self.height, self.grid_w / self.width
        to_grid = np.float32([[sx, 0, (box.x0 + 0.5) * sx - 0.5], [0, sy, (box.y0 + 0.5) * sy - 0.5]])
        return cv2.warpAffine(alpha, to_grid, (box.width, box.height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)


# --------------------------------------------------------------------------- parameters


def _help(text: str) -> dict:
    return {"help": "adaptive: " + text}


@dataclass(frozen=True)
class AdaptiveParams:
    """Parameters of the adaptive stabilizer (see the module docstring); thresholds in grey levels."""

    auto_threshold: bool = field(default=True, metadata=_help("threshold from the camera noise measured in the clip"))
    noise_factor: float = field(default=4.0, metadata=_help("auto threshold = this × noise σ"))
    min_threshold: float = field(default=4.0, metadata=_help("lowest auto threshold, grey levels"))
    fixed_threshold: float = field(default=6.0, metadata=_help("threshold when --no-auto-threshold, grey levels"))
    blur_sigma: float = field(default=1.0, metadata=_help("Gaussian σ (px) of the grey level before comparing"))
    reference: bool = field(default=True, metadata=_help("compare with the input each pixel was last stylized from"))
    reference_factor: float = field(default=2.0, metadata=_help("the reference comparison's threshold, × the threshold"))
    regions: bool = field(default=True, metadata=_help("re-stylize whole moving regions with feathered edges"))
    min_region_px: int = field(default=24, metadata=_help("changed specks smaller than this are noise, px"))
    group_px: int = field(default=8, metadata=_help("moving pixels this close join one region, px"))
    feather_px: float = field(default=3.0, metadata=_help("soft edge of a region (Gaussian σ), px"))
    context_px: int = field(default=16, metadata=_help("context around the stylized box, px"))
    fallback: bool = field(default=True, metadata=_help("per-frame under camera motion, scene cuts, lighting jumps"))
    fallback_fraction: float = field(default=0.5, metadata=_help("share of the frame to update above which it is stylized whole"))
    motion_px: float = field(default=0.5, metadata=_help("global shift (px) that means the camera moved"))
    camera_spread: float = field(default=0.5, metadata=_help("test for camera motion only when the change reaches more "
                                                             "than this share of the 3x3 tiles (0 = every frame)"))
    hold_frames: int = field(default=8, metadata=_help("frames to stay per-frame after camera motion"))
    max_freeze_frames: int = field(default=150, metadata=_help("refresh pixels kept longer than this (0 = never)"))
    fade_frames: int = field(default=8, metadata=_help("frames over which a refresh cross-fades"))
    person: bool = field(default=False, metadata=_help("re-stylize the whole person when any of it moves (mediapipe)"))
    mask_side: int = field(default=160, metadata=_help("longer side (px) of the grid the masks are computed on "
                                                      "(0 = the frame's own size)"))

    def __post_init__(self) -> None:
        for name, (low, high, integer, unit) in _BOUNDS.items():
            check_bounded(name, getattr(self, name), low, high, integer=integer, unit=unit)
        if isinstance(self.fallback_fraction, bool) or not isinstance(self.fallback_fraction, (int, float)) \
                or not 0.0 < float(self.fallback_fraction) <= 1.0:
            raise SteadyStyleError(f"fallback_fraction must be in (0, 1] (got {self.fallback_fraction!r})")


#: name → (lowest, highest, integer?, unit) of every bounded AdaptiveParams field.  Sizes are
#: capped where they stop meaning anything and start costing (a Gaussian of σ px filters a
#: ~6σ-px window; group_px is a disc of radius group_px: the MAX_KERNEL of a closing).
_BOUNDS: dict[str, tuple[float, float, bool, str]] = {
    "noise_factor": (0, 100, False, ""),
    "min_threshold": (0, 255, False, "grey levels"),
    "fixed_threshold": (0, 255, False, "grey levels"),
    "reference_factor": (0, 100, False, ""),
    "blur_sigma": (0, 16, False, "px"),
    "feather_px": (0, 32, False, "px"),
    "motion_px": (0, 1000, False, "px"),
    "camera_spread": (0, 1, False, ""),
    "min_region_px": (0, 10_000_000, True, "px"),
    "group_px": (0, (MAX_KERNEL - 1) // 2, True, "px"),
    "context_px": (0, 4096, True, "px"),
    "hold_frames": (0, 1_000_000, True, "frames"),
    "max_freeze_frames": (0, 1_000_000, True, "frames"),
    "fade_frames": (1, 10_000, True, "frames"),
    "mask_side": (0, 100_000, True, "px"),
}


# --------------------------------------------------------------------------- the stabilizer


@register("adaptive", AdaptiveParams,
          "frame-diff without its failures: per-pixel reference, feathered regions, auto threshold, fallback, refresh")
class AdaptiveStabilizer:
    """See the module docstring.  H×W×3 uint8 RGB frames in, H×W×3 uint8 RGB output out.

    After each call: ``last_mode`` is "first", "full" (fallback), "keep" (no network) or
    "regions"; ``last_alpha`` (H×W float32) how much new stylization each pixel took;
    ``last_threshold`` the threshold used (grey levels, on the mask grid); ``last_foreground_fraction``
    the share of the frame with α > 0.
    """

    def __init__(self, params: AdaptiveParams = AdaptiveParams()) -> None:
        if not isinstance(params, AdaptiveParams):
            raise SteadyStyleError(f"params must be AdaptiveParams, got {type(params).__name__}")
        self.params = params
        self._person = None
        if params.person:
            from .person import PersonSegmenter

            self._person = PersonSegmenter()
        self.reset()

    def reset(self) -> None:
        self._grid: MaskGrid | None = None
        self._out: np.ndarray | None = None
        self._ref: np.ndarray | None = None      # per grid cell: grey of the frame it was last stylized from
        self._prev: np.ndarray | None = None     # grey of the last frame, on the grid
        self._anchor: np.ndarray | None = None
        self._age: np.ndarray | None = None
        self._prev_person: np.ndarray | None = None
        self._sigmas: deque[float] = deque(maxlen=25)
        self._hold = 0
        self._fade_set: np.ndarray | None = None
        self._fade_left = 0
        self._alpha: np.ndarray | None = None    # the last α, on the grid
        self.last_mode = "first"
        self.last_threshold = float("nan")
        self.last_foreground_fraction = 1.0

    @property
    def last_alpha(self) -> np.ndarray | None:
        """α of the last frame at frame px (H×W float32), brought back from the grid on request."""
        if self._alpha is None or self._grid is None:
            return None
        return self._grid.expand(self._alpha)

    # -- pieces

    def _grey(self, frame: np.ndarray) -> np.ndarray:
        """The grey level of ``frame`` on the mask grid, blurred by ``blur_sigma`` frame px."""
        assert self._grid is not None
        g = grey_level(self._grid.shrink(frame))
        s = self.params.blur_sigma * self._grid.scale
        return cv2.GaussianBlur(g, (0, 0), s) if s > 0 else g

    def _threshold(self, g: np.ndarray) -> float:
        p = self.params
        if not p.auto_threshold:
            return float(p.fixed_threshold)
        assert self._prev is not None
        self._sigmas.append(noise_sigma(g - self._prev))
        return max(float(p.min_threshold), float(p.noise_factor) * float(np.median(self._sigmas)))

    def _camera_moved(self, g: np.ndarray, threshold: float, changed: np.ndarray) -> bool:
        p = self.params
        if not p.fallback:
            return False
        assert self._anchor is not None and self._grid is not None
        # the phase correlation is the costliest step: only where the change could be the camera's
        moved = (p.camera_spread <= 0 or change_spread(changed) > p.camera_spread) \
            and camera_moved(self._anchor, g, threshold, p.motion_px * self._grid.scale)
        if moved:
            self._hold = p.hold_frames
            self._anchor = g
            return True
        if self._hold > 0:
            self._hold -= 1
            return True
        return False

    def _person_mask(self, frame: np.ndarray) -> np.ndarray:
        assert self._person is not None and self._grid is not None
        return self._grid.shrink_mask(self._person(frame))

    def _region_alpha(self, frame: np.ndarray, changed: np.ndarray) -> np.ndarray:
        p = self.params
        assert self._grid is not None
        k = self._grid.scale
        if not p.regions:
            background = close_mask((~changed).astype(np.uint8))
            region = background == 0
        else:
            # px sizes on the grid: an area by k², a distance by k; a size asked for stays ≥ 1 cell
            specks = max(1, round(p.min_region_px * k * k)) if p.min_region_px > 0 else 0
            group = max(1, round(p.group_px * k)) if p.group_px > 0 else 0
            region = group_regions(drop_specks(changed, specks), group)
        if self._person is not None:
            person = self._person_mask(frame)
            both = person | self._prev_person if self._prev_person is not None else person
            self._prev_person = person
            if (region & both).any():
                region = fill_holes(region | both)
        sigma = p.feather_px * k
        if not self._grid.identity:  # grown by a cell: every frame px of a region cell then reads α = 1 exactly
            region = cv2.dilate(region.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
            sigma = grid_feather_sigma(sigma)
        return feather(region, sigma) if p.regions else region.astype(np.float32)

    def _freeze_alpha(self) -> np.ndarray | None:
        """α of the running cross-fade of stale pixels (None when no refresh is due)."""
        p = self.params
        assert self._age is not None
        if self._fade_left == 0 and p.max_freeze_frames > 0:
            stale = self._age >= p.max_freeze_frames
            if stale.any():
                self._fade_set, self._fade_left = stale, int(p.fade_frames)
        if self._fade_left == 0 or self._fade_set is None:
            return None
        alpha = self._fade_set.astype(np.float32) / self._fade_left
        self._fade_left -= 1
        return alpha

    def _full(self, frame: np.ndarray, g: np.ndarray, stylize: Stylize, mode: str) -> np.ndarray:
        self._out = np.array(stylize(), copy=True, order="C")  # C order: the box blend writes into it in place
        if self._out.shape != frame.shape:
            raise SteadyStyleError(f"stylize() must return a {frame.shape} frame, got {self._out.shape}")
        self._ref, self._prev = g, g
        if mode == "first":
            self._anchor = g  # a fallback keeps the anchor its trigger set, so slow camera motion adds up
        self._age = np.zeros(g.shape, np.int32)
        self._fade_left, self._fade_set = 0, None
        if self._person is not None:
            self._prev_person = self._person_mask(frame)
        self.last_mode, self._alpha, self.last_foreground_fraction = mode, np.ones(g.shape, np.float32), 1.0
        return self._out.copy()

    # -- the step

    def __call__(self, frame: np.ndarray, stylize: Stylize) -> np.ndarray:
        h, w = check_frame(frame).shape[:2]
        if self._grid is None or (self._grid.height, self._grid.width) != (h, w):
            self._grid = MaskGrid.for_frame(h, w, self.params.mask_side)
            self._out = None
        g = self._grey(frame)
        if self._out is None or self._prev is None or g.shape != self._prev.shape:
            return self._full(frame, g, stylize, "first")
        p = self.params
        threshold = self._threshold(g)
        self.last_threshold = threshold
        assert self._prev is not None and self._age is not None and self._ref is not None
        changed = np.abs(g - self._prev) > threshold
        if p.reference:
            changed |= np.abs(g - self._ref) > p.reference_factor * threshold
        if self._camera_moved(g, threshold, changed):
            return self._full(frame, g, stylize, "full")
        alpha = self._region_alpha(frame, changed)
        if p.fallback and float((alpha > 0).mean()) > p.fallback_fraction:
            return self._full(frame, g, stylize, "full")  # most of the frame is new: a cut, a jump, a close-up
        fade = self._freeze_alpha()
        if fade is not None:
            alpha = np.maximum(alpha, fade)
        self._prev = g
        self._alpha = alpha
        grid_box = alpha_box(alpha, 0)
        self._age += 1
        if grid_box is None:
            self.last_mode, self.last_foreground_fraction = "keep", 0.0
            return self._out.copy()
        box = self._grid.frame_box(grid_box, p.context_px)
        part = stylize(box)  # region or full pass: the stylizer's one region policy decides
        if part.shape != self._out[box.slices()].shape:
            raise SteadyStyleError(f"stylize(box) must return a {self._out[box.slices()].shape} region, got {part.shape}")
        inner = self._grid.frame_box(grid_box, 0)  # where α > 0: the context around it only feeds the network
        cut = (slice(inner.y0 - box.y0, inner.y1 - box.y0), slice(inner.x0 - box.x0, inner.x1 - box.x0))
        target = self._out[inner.slices()]
        blend(target, part[cut], self._grid.expand(alpha, inner), out=target)
        new = alpha >= 0.5
        self._ref = np.where(new, g, self._ref)
        self._age[new] = 0
        if self._fade_left == 0 and self._fade_set is not None:  # a cross-fade just finished
            self._ref = np.where(self._fade_set, g, self._ref)
            self._age[self._fade_set] = 0
            self._fade_set = None
        self.last_mode = "regions"
        self.last_foreground_fraction = float((alpha > 0).mean())
        return self._out.copy()
