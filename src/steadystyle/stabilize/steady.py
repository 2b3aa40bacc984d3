"""The steady stabilizer: a frozen background, and brush strokes that move with the caller.

The paper's stabilizer (Xiong, Weber & Hu 2018) freezes what did not move and re-stylizes what
did, so the background is steady but a talking face "boils" like per-frame stylization.  Flow
warping (Ruder et al.) makes texture follow motion, but warping the warped output every frame
blurs it, and it needs a network pass and two flows of the whole frame every frame.  This method
keeps the first for the still background and does the second only where something moves,
without the blur:

Per frame I(t) (H×W×3 uint8 RGB), with g(t) the BT.601 luma (uint8) and ĝ(t) = g(t) blurred by a
Gaussian of ``blur_sigma`` px (uint8, grey levels 0–255):

1. **Noise and threshold.**  σ = 1.4826 × median |ĝ(t) − ĝ(t−1)| (a robust σ: most pixels are
   still; the blur averages dithering and compression noise away), the median of the last 25
   estimates at most :data:`MAX_NOISE_SIGMA` (a larger one is a cut, not noise);
   T = max(``min_threshold``, ``noise_factor`` × σ).
2. **Moving regions.**  A pixel changed when |ĝ(t) − ĝ(t−1)| > T or |ĝ(t) − r| > 2T, with r the
   grey level the output at that pixel was made from (slow drift adds up until it is caught).
   Specks under ``min_region_px`` are noise; the rest are grouped (``group_px``), holes filled,
   and feathered (α, Gaussian σ ``feather_px``).  Where α = 0 the output is the previous output,
   bit for bit: the paper's freeze.
3. **Flow on the box only.**  The DIS flow (``flow_preset``) from g(t) to g(t−1) is computed on
   the bounding box of α > 0, at most ``flow_side`` px on its longer side, and scaled by α (it
   fades to zero at the region's edge).
4. **One resampling from the keyframe.**  Each pixel x holds an offset Φ(x) into the *keyframe*
   K — the stylization it was last given fresh — and its grey level K̂.  Φ is composed along the
   flow b: Φ(x) ← b(x) + Φ(x + b(x)); the strokes are W(x) = K(x + Φ(x)), read once from the
   fresh stylization, never from a warped copy, so they do not blur frame after frame.
5. **Fresh where the flow fails.**  A pixel takes the fresh stylization S(t) — it is *re-keyed*:
   K(x) ← S(t)(x), K̂(x) ← ĝ(t)(x), Φ(x) ← 0 — where the keyframe no longer explains the input,
   |ĝ(t) − K̂(x + Φ(x))| > ``photo_factor`` × T + ε min(|∇ĝ(t)|, |∇K̂(x + Φ)|) (occlusion, uncovered
   background, a flow error, the mouth opening; ε = ``flow_error_px``: near an edge both images
   have, a flow off by ε px moves the grey by ε |∇ĝ| without anything new to paint, while on a
   flat area, or at an edge only one of them has, the bare threshold holds),
   where x + Φ(x) left the frame or Φ pulls the strokes out of shape (:func:`stretch` >
   ``max_stretch``: a smooth but wrong flow, on a plain area, passes the photometric test but
   draws cracks), and at a bounded rate: keys older than
   ``key_frames`` frames are renewed, so the texture never drifts far from the painting.  The
   re-keyed set is feathered (σ ``feather_px``/2) so there is no patchwork.  A pixel whose
   keyframe was overwritten under it sees its own K̂ disagree and is re-keyed in turn.
6. **No pops, no ghosts.**  A re-keyed pixel cross-fades from the previous output carried one
   step along the flow, P(x) = O(t−1)(x + b(x)), to its new key over ``fade_frames`` frames:
   O = P + γ (W − P), γ rising by 1/``fade_frames`` a frame (γ = 1: O = W exactly).  A blend of two
   textures is flatter than either (its deviation from the local mean shrinks by
   √((1−γ)² + γ² + 2ργ(1−γ)) for textures correlated by ρ = ``fade_contrast``); during a fade that
   deviation is scaled back up, so the strokes stay as crisp as per-frame.  Where P is
   itself wrong (|ĝ(t) − ĝ(t−1)(x + b)| > ``appear_factor`` × T + ε min(|∇ĝ(t)|, |∇ĝ(t−1)(x + b)|):
   something appeared)
   γ = 1 at once.  A carried pixel's r (step 2) is K̂(x + Φ) moved towards ĝ(t) by at most
   ε |∇ĝ(t)|, so a mismatch the flow error explains does not add up as "drift" until the whole
   crowd of a busy scene counts as moving.
7. **Camera motion.**  When the camera moved (a global shift by phase correlation explains the
   change in most of the frame; then for ``hold_frames`` frames more) the whole frame is the moving
   region, α = 1: steps 3–6 run on all of it, so the painting moves with the picture and only what
   came into view, or what the flow cannot explain, is stylized fresh (``camera_carry``; false
   stylizes such frames whole, per-frame).
8. **Fallback.**  The whole frame is stylized and every key reset when the moving regions of a
   still camera cover more than ``fallback_fraction`` of the frame (a cut, a jump).

Steadiness below 1 (less consistency, fresher texture) is not this method's: it is the frame
loop's control for every method (:class:`steadystyle.loop.Processor`, ``--steadiness``).

The network is asked only for the box of the pixels that take fresh values (``stylize(box)``);
a still frame, or motion the keyframe explains, costs no network pass at all.  The method's own
work is uint8 on the whole frame (steps 1–2) and float only inside the box (steps 3–6).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..errors import SteadyStyleError
from ..frames import check_frame
from ..geometry import Box, grow
from .adaptive import drop_specks, feather, global_shift, group_regions, tile_shares
from .base import Stylize, register
from .flow import DIS_PRESETS, make_dis
from .masks import lerp, put_where

__all__ = ["SteadyParams", "SteadyStabilizer", "box_flow", "compose_flow", "stretch", "noise_sigma_u8", "changed_box",
           "camera_moved_everywhere"]


#: The largest σ (grey levels, after the blur) taken as camera noise; a frame difference with a
#: larger median is a cut or a camera jump, and is left out of the noise estimate.
MAX_NOISE_SIGMA = 6.0

# --------------------------------------------------------------------------- pure steps


def noise_sigma_u8(diff: np.ndarray) -> float:
    """Robust σ (grey levels) of an absolute uint8 frame difference (H×W): 1.4826 × its median.

    Computed from a histogram of every second pixel in each direction (integer work)."""
    sample = np.ascontiguousarray(diff[::2, ::2]).ravel()
    counts = np.bincount(sample, minlength=256)
    median = int(np.searchsorted(np.cumsum(counts), (sample.size + 1) // 2))
    return 1.4826 * median


def changed_box(mask: np.ndarray, margin: int) -> Box | None:
    """Bounding :class:`Box` of ``mask`` (H×W bool) grown by ``margin`` px (clipped); None if empty."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    h, w = mask.shape
    return grow(Box(int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1), margin, h, w)


def camera_moved_everywhere(anchor: np.ndarray, grey: np.ndarray, threshold: float, motion_px: float,
                            tiles: int = 3, explained: float = 0.75, min_changed: float = 0.02,
                            spread: float = 0.5) -> bool:
    """Whether the camera, not something in front of it, moved between grey ``anchor`` and ``grey``
    (H×W float32, grey levels).

    The global shift (phase correlation) must be at least ``motion_px`` px, and the change must be
    the camera's *everywhere*: on a ``tiles``×``tiles`` grid (away from the border the shift
    exposes), at least ``spread`` of the tiles changed (more than ``min_changed`` of their pixels
    off by > ``threshold``), and shifting ``anchor`` brings the changed share below ``explained`` ×
    its unshifted value in at least two thirds of those tiles.  A head that turns in front of a
    plain wall changes a few tiles only, however well one shift explains it.
    """
    dx, dy = global_shift(anchor, grey)
    if np.hypot(dx, dy) < motion_px:
        return False
    h, w = grey.shape
    m = int(np.ceil(max(abs(dx), abs(dy)))) + 1
    if 2 * m + tiles >= min(h, w):
        return False  # not verifiable; a jump this large changes most of the frame and falls back anyway
    before = tile_shares((np.abs(grey - anchor) > threshold)[m:h - m, m:w - m], tiles)
    changed = before > min_changed
    if int(changed.sum()) < spread * tiles * tiles:
        return False  # a local change (the common case): no need to shift the anchor
    shifted = cv2.warpAffine(anchor, np.float32([[1, 0, dx], [0, 1, dy]]), (w, h), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)
    after = tile_shares((np.abs(grey - shifted) > threshold)[m:h - m, m:w - m], tiles)
    fits = int((changed & (after < explained * before)).sum())
    return fits * 3 >= 2 * int(changed.sum())


def box_flow(dis: cv2.DISOpticalFlow, a: np.ndarray, b: np.ndarray, max_side: int) -> np.ndarray:
    """DIS flow from grey crop ``a`` to ``b`` (h×w uint8) → h×w×2 float32 px, ``a(x) ≈ b(x + w(x))``.

    Computed on copies at most ``max_side`` px on the longer side (area-averaged), the flow then
    scaled back up.  Crops under 16 px on a side get zero flow (DIS needs a few patches)."""
    h, w = a.shape
    if min(h, w) < 16:
        return np.zeros((h, w, 2), np.float32)
    scale = min(1.0, max_side / max(h, w))
    if scale < 1.0:
        size = (max(16, round(w * scale)), max(16, round(h * scale)))
        small = dis.calc(cv2.resize(a, size, interpolation=cv2.INTER_AREA),
                         cv2.resize(b, size, interpolation=cv2.INTER_AREA), None)
        flow = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        flow[..., 0] *= w / size[0]
        flow[..., 1] *= h / size[1]
        return flow
    return dis.calc(np.ascontiguousarray(a), np.ascontiguousarray(b), None)


def compose_flow(step: np.ndarray, offsets: np.ndarray, box: Box,
                 grid: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Compose one flow step with the offsets into the keyframe.

    step: h×w×2 float32 flow on ``box`` (current pixel → previous frame).  offsets: H×W×2 float32
    Φ on the previous frame's pixels (pixel → keyframe).  grid: the frame's pixel coordinates
    (xs, ys), two H×W float32 (made when not given).  Returns (Φ' = step + Φ(x + step) on ``box``,
    h×w×2; the sampling maps (X, Y) of x + step, two h×w float32 in frame pixels).
    """
    xs, ys = grid if grid is not None else _grid(*offsets.shape[:2])
    xs, ys = xs[box.slices()], ys[box.slices()]
    mx, my = xs + step[..., 0], ys + step[..., 1]
    carried = cv2.remap(offsets, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return step + carried, (mx, my)


def stretch(offsets: np.ndarray) -> np.ndarray:
    """How far the map x → x + Φ(x) pulls the keyframe out of shape: the L1 norm of the Jacobian
    of Φ (h×w×2 float32 px → h×w float32, px per px; central differences).  0 for a shift; a
    stroke 4 px long drawn out to 6 px scores 0.5.  A flow that is smooth but wrong — on a plain
    wall an arm uncovered — carries the strokes without a photometric error, but stretches them."""
    u, v = cv2.split(offsets)
    du_dx, du_dy, dv_dx, dv_dy = (cv2.absdiff(cv2.Sobel(c, cv2.CV_32F, dx, 1 - dx, ksize=1, scale=0.5), 0)
                                  for c in (u, v) for dx in (1, 0))
    return cv2.add(cv2.add(cv2.add(du_dx, du_dy), dv_dx), dv_dy)


def _gradient_l1(grey: np.ndarray) -> np.ndarray:
    """|∇grey| as the L1 norm of the 3×3 Sobel gradient (h×w float32, the Sobel's scale: 8 × grey levels per px)."""
    gx = cv2.Sobel(grey, cv2.CV_16S, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_16S, 0, 1, ksize=3)
    return cv2.add(cv2.absdiff(gx, 0), cv2.absdiff(gy, 0), dtype=cv2.CV_32F)


def edge_slack(grey: np.ndarray, error_px: float, other: np.ndarray | None = None,
               gradient: np.ndarray | None = None) -> np.ndarray | float:
    """How far (grey levels) a flow that is off by ``error_px`` px moves each pixel's grey level:
    ``error_px`` × |∇grey| (L1 norm of the 3×3 Sobel gradient, grey levels per px), h×w float32;
    0.0 when ``error_px`` is 0.  Near an edge a small flow error looks like a large change; on a
    flat area it does not, so something that appears there is still caught at the bare threshold.

    With ``other`` (the h×w uint8 grey it is compared with) the gradient is the smaller of the two:
    a flow error moves an edge that both images have, so an edge in only one of them — a mouth that
    opened on a plain cheek, an arm gone from a plain wall — is a change, not a flow error.
    ``gradient``: ``grey``'s :func:`_gradient_l1` when the caller already has it."""
    if error_px <= 0:
        return 0.0
    l1 = _gradient_l1(grey) if gradient is None else gradient
    if other is not None:
        l1 = cv2.min(l1, _gradient_l1(other))
    return l1 * np.float32(error_px / 8.0)  # the Sobel kernel weighs a unit slope by 8


def _explained(made_from: np.ndarray, cur: np.ndarray, slack: np.ndarray | float) -> np.ndarray:
    """The grey level a carried pixel's output counts as made from: ``made_from`` (the key's grey,
    h×w uint8) moved towards ``cur`` by at most ``slack`` (grey levels, see :func:`edge_slack`) —
    a mismatch the flow error explains is not left to add up as drift."""
    if isinstance(slack, float) and slack == 0.0:
        return made_from
    base = made_from.astype(np.float32)
    return np.rint(base + np.clip(cur.astype(np.float32) - base, -slack, slack)).astype(np.uint8)


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (xs, ys) of an H×W frame, two H×W float32."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return xs, ys


#: At least the radius (px) of OpenCV's Gaussian kernel for σ = 2 (uint8: 2·round(3σ)+1 = 13 taps).
_FADE_BLUR_RADIUS = 8


def _faded(a: np.ndarray, b: np.ndarray, t: np.ndarray, rho: float) -> np.ndarray:
    """a + t (b − a) for uint8 h×w×3 ``a``, ``b`` and h×w float32 ``t``, with the local contrast of
    the texture kept: a blend of two textures correlated by ρ has its deviation from the local
    mean (Gaussian, σ 2 px) shrunk by √((1−t)² + t² + 2ρt(1−t)); it is scaled back up by that
    factor where 0 < t < 1 (ρ = 1: a plain blend).  The contrast step runs only on the box of the
    fading pixels grown by the blur's radius, which gives the same values as on the whole crop."""
    out = cv2.blendLinear(a, b, 1.0 - t, t)  # OpenCV's fused blend: within 1 level of lerp, t = 0 or 1 exact
    fading = (t > 0) & (t < 1)
    box = changed_box(fading, _FADE_BLUR_RADIUS) if rho < 1.0 else None
    if box is None:
        return out
    sl = box.slices()
    tt = t[sl]
    gain = 1.0 / np.sqrt((1 - tt) ** 2 + tt ** 2 + 2 * rho * tt * (1 - tt))
    part = out[sl]
    mean = cv2.GaussianBlur(part, (0, 0), 2.0).astype(np.float32)  # uint8 (fixed point): within ~1 level
    f = part.astype(np.float32)
    f -= mean
    f *= gain[..., None]
    f += mean
    np.rint(f, out=f)
    np.clip(f, 0, 255, out=f)
    put_where(out[sl], f.astype(np.uint8), fading[sl])
    return out


# --------------------------------------------------------------------------- parameters


def _help(text: str) -> dict:
    return {"help": "steady: " + text}


@dataclass(frozen=True)
class SteadyParams:
    """Parameters of the steady stabilizer (see the module docstring); thresholds in grey levels."""

    noise_factor: float = field(default=4.0, metadata=_help("threshold = this × the measured noise σ"))
    min_threshold: float = field(default=4.0, metadata=_help("lowest threshold, grey levels"))
    blur_sigma: float = field(default=1.0, metadata=_help("Gaussian σ (px) of the grey level before comparing"))
    photo_factor: float = field(default=3.0, metadata=_help("flow fails where the keyframe's grey is off by "
                                                            "more than this × the threshold"))
    appear_factor: float = field(default=3.0, metadata=_help("something appeared (no fade) where the previous "
                                                              "frame carried along the flow is off by more than "
                                                              "this × the threshold"))
    flow_error_px: float = field(default=1.0, metadata=_help("flow error (px) the photometric tests allow for: "
                                                              "their threshold rises by this × the grey's gradient"))
    min_region_px: int = field(default=24, metadata=_help("changed specks smaller than this are noise, px"))
    group_px: int = field(default=8, metadata=_help("moving pixels this close join one region, px"))
    feather_px: float = field(default=3.0, metadata=_help("soft edge of a moving region (Gaussian σ), px"))
    flow_preset: str = field(default="lean", metadata=_help("DIS preset of the flow on the moving box (ultrafast, "
                                                            "fast, medium, lean)"))
    flow_side: int = field(default=320, metadata=_help("longer side (px) the moving box's flow is computed at"))
    key_frames: int = field(default=12, metadata=_help("renew keyframe pixels older than this many frames"))
    fade_frames: int = field(default=4, metadata=_help("frames over which a new keyframe fades in"))
    fade_contrast: float = field(default=0.5, metadata=_help("correlation assumed between the textures of a fade, "
                                                              "0–1; below 1 the fade keeps their contrast"))
    max_stretch: float = field(default=0.5, metadata=_help("re-key where the carried strokes are stretched: the "
                                                            "offsets' gradient (px per px, L1) above this; 0: off"))
    stale_share: float = field(default=0.1, metadata=_help("a new keyframe early when the flow fails on more "
                                                            "than this share of the moving pixels"))
    context_px: int = field(default=16, metadata=_help("context around the stylized box, px"))
    fallback_fraction: float = field(default=0.5, metadata=_help("moving share of the frame above which it is "
                                                                 "stylized whole"))
    motion_px: float = field(default=0.5, metadata=_help("global shift (px) that means the camera moved"))
    hold_frames: int = field(default=8, metadata=_help("frames to stay in camera mode after camera motion"))
    camera_carry: bool = field(default=True, metadata=_help("under camera motion carry the whole frame along its "
                                                            "flow (false: stylize it whole, per-frame)"))

    def __post_init__(self) -> None:
        for name in ("noise_factor", "min_threshold", "blur_sigma", "photo_factor", "appear_factor", "feather_px",
                     "motion_px", "flow_error_px", "max_stretch"):
            value = float(getattr(self, name))
            if not np.isfinite(value) or value < 0:
                raise SteadyStyleError(f"{name} must be a finite number ≥ 0 (got {getattr(self, name)!r})")
        for name in ("min_region_px", "group_px", "context_px", "hold_frames"):
            if int(getattr(self, name)) < 0:
                raise SteadyStyleError(f"{name} must be an integer ≥ 0 (got {getattr(self, name)!r})")
        for name in ("key_frames", "fade_frames"):
            if int(getattr(self, name)) < 1:
                raise SteadyStyleError(f"{name} must be an integer ≥ 1 (got {getattr(self, name)!r})")
        if int(self.flow_side) < 16:
            raise SteadyStyleError(f"flow_side must be at least 16 px (got {self.flow_side!r})")
        if self.flow_preset not in DIS_PRESETS:
            raise SteadyStyleError(f"unknown DIS preset {self.flow_preset!r}; choose {', '.join(DIS_PRESETS)}")
        if not 0.0 <= float(self.fade_contrast) <= 1.0:
            raise SteadyStyleError(f"fade_contrast must be from 0 to 1 (got {self.fade_contrast!r})")
        if not 0.0 <= float(self.stale_share) <= 1.0:
            raise SteadyStyleError(f"stale_share must be from 0 to 1 (got {self.stale_share!r})")
        if not 0.0 < float(self.fallback_fraction) <= 1.0:
            raise SteadyStyleError(f"fallback_fraction must be in (0, 1] (got {self.fallback_fraction!r})")


# --------------------------------------------------------------------------- the stabilizer


@register("steady", SteadyParams,
          "frozen background, brush strokes carried along the input's flow from the last fresh stylization")
class SteadyStabilizer:
    """See the module docstring.  H×W×3 uint8 RGB frames in, H×W×3 uint8 RGB output out.

    After each call: ``last_mode`` is "first", "full" (fallback), "keep" (nothing
    moved), "carry" (moving regions carried along the flow, no network pass) or "fresh" (some
    pixels re-keyed); ``last_moving`` (H×W float32) the moving regions' α; ``last_fresh``
    (H×W float32) how much fresh stylization each pixel's key took; ``last_threshold`` (grey
    levels); ``last_foreground_fraction`` the share of pixels with fresh stylization.
    """

    def __init__(self, params: SteadyParams = SteadyParams()) -> None:
        if not isinstance(params, SteadyParams):
            raise SteadyStyleError(f"params must be SteadyParams, got {type(params).__name__}")
        self.params = params
        self._dis = make_dis(params.flow_preset)
        self.reset()

    def reset(self) -> None:
        self._out: np.ndarray | None = None      # O(t−1), H×W×3 uint8
        self._key: np.ndarray | None = None      # K, H×W×3 uint8, in keyframe coordinates
        self._key_grey: np.ndarray | None = None  # K̂, H×W uint8 (blurred grey), keyframe coordinates
        self._offsets: np.ndarray | None = None  # Φ, H×W×2 float32: pixel → keyframe, px
        self._gamma: np.ndarray | None = None    # fade-in share of the key, H×W float32
        self._since_key = 0                      # frames since the last keyframe
        self._ref: np.ndarray | None = None      # r: grey the output was made from, H×W uint8
        self._prev: np.ndarray | None = None     # g(t−1), H×W uint8
        self._prev_blur: np.ndarray | None = None  # ĝ(t−1), H×W uint8
        self._anchor: np.ndarray | None = None   # float32 grey of the frame that last armed the camera test
        self._sigmas: deque[float] = deque(maxlen=25)
        self._grid: tuple[np.ndarray, np.ndarray] | None = None
        self._hold = 0
        self.last_mode = "first"
        self.last_moving: np.ndarray | None = None
        self.last_fresh: np.ndarray | None = None
        self.last_threshold = float("nan")
        self.last_foreground_fraction = 1.0

    # -- pieces

    def _blur(self, g: np.ndarray) -> np.ndarray:
        s = self.params.blur_sigma
        return cv2.GaussianBlur(g, (0, 0), s) if s > 0 else g

    def _threshold(self, diff: np.ndarray) -> float:
        sigma = noise_sigma_u8(diff)
        if sigma <= MAX_NOISE_SIGMA:  # larger: most pixels changed (a cut, a pan), not a noise measurement
            self._sigmas.append(sigma)
        p = self.params
        if not self._sigmas:
            return float(p.min_threshold)
        return max(float(p.min_threshold), float(p.noise_factor) * float(np.median(self._sigmas)))

    def _camera_moved(self, gb: np.ndarray, threshold: float) -> bool:
        p = self.params
        assert self._anchor is not None
        grey = gb.astype(np.float32)
        if camera_moved_everywhere(self._anchor, grey, threshold, p.motion_px):
            self._hold, self._anchor = p.hold_frames, grey
            return True
        if self._hold > 0:
            self._hold -= 1
            return True
        return False

    def _full(self, frame: np.ndarray, g: np.ndarray, gb: np.ndarray, stylize: Stylize, mode: str) -> np.ndarray:
        out = np.array(stylize(), copy=True)
        if out.shape != frame.shape:
            raise SteadyStyleError(f"stylize() must return a {frame.shape} frame, got {out.shape}")
        h, w = g.shape
        self._out, self._key = out, out.copy()
        self._key_grey, self._ref = gb.copy(), gb.copy()
        self._offsets = np.zeros((h, w, 2), np.float32)
        self._gamma = np.ones((h, w), np.float32)
        self._since_key = 0
        self._prev, self._prev_blur = g, gb
        self._grid = _grid(h, w)
        if mode == "first":
            self._anchor = gb.astype(np.float32)  # a fallback keeps the anchor its trigger set
        ones = np.ones((h, w), np.float32)
        self.last_mode, self.last_moving, self.last_fresh, self.last_foreground_fraction = mode, ones, ones, 1.0
        return out.copy()

    def _moving(self, gb: np.ndarray, threshold: float) -> np.ndarray:
        """α of the moving regions (H×W float32), computed on the box around the changed pixels."""
        p = self.params
        assert self._prev_blur is not None and self._ref is not None
        t = int(np.floor(threshold))
        changed = (cv2.absdiff(gb, self._prev_blur) > t) | (cv2.absdiff(gb, self._ref) > 2 * t)
        alpha = np.zeros(gb.shape, np.float32)
        box = changed_box(changed, p.group_px + int(np.ceil(3 * p.feather_px)) + 2)
        if box is None:
            return alpha
        sl = box.slices()
        region = group_regions(drop_specks(changed[sl], p.min_region_px), p.group_px)
        alpha[sl] = feather(region, p.feather_px)
        return alpha

    # -- the step

    def __call__(self, frame: np.ndarray, stylize: Stylize) -> np.ndarray:
        check_frame(frame)
        g = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        gb = self._blur(g)
        p = self.params
        if self._out is None or self._prev is None or g.shape != self._prev.shape:
            return self._full(frame, g, gb, stylize, "first")
        assert self._prev_blur is not None
        threshold = self._threshold(cv2.absdiff(gb, self._prev_blur))
        self.last_threshold = threshold
        if self._camera_moved(gb, threshold):
            if not p.camera_carry:
                return self._full(frame, g, gb, stylize, "full")
            moving = np.ones(g.shape, np.float32)  # everything moved: carry all of it along the frame's flow
        else:
            moving = self._moving(gb, threshold)
            if float((moving > 0).mean()) > p.fallback_fraction:
                return self._full(frame, g, gb, stylize, "full")  # a cut, a jump
        box = changed_box(moving > 0, 0)
        self.last_moving = moving
        if box is None:
            self._prev, self._prev_blur = g, gb
            self.last_mode, self.last_fresh, self.last_foreground_fraction = "keep", None, 0.0
            return self._out.copy()
        fresh = self._carry(g, gb, box, moving, stylize, threshold)
        self._prev, self._prev_blur = g, gb
        self.last_fresh = fresh
        self.last_foreground_fraction = float((fresh > 0).mean())
        return self._out.copy()


    def _fresh(self, stylize: Stylize, box: Box, sub: Box) -> np.ndarray:
        """S(t) on ``sub`` (a box in the coordinates of ``box``), h×w×3 uint8."""
        part = stylize(Box(sub.y0 + box.y0, sub.y1 + box.y0, sub.x0 + box.x0, sub.x1 + box.x0))
        if part.shape != (sub.height, sub.width, 3):
            raise SteadyStyleError(f"stylize(box) must return a {(sub.height, sub.width, 3)} region, got {part.shape}")
        return part

    def _carry(self, g: np.ndarray, gb: np.ndarray, box: Box, moving: np.ndarray, stylize: Stylize,
               threshold: float) -> np.ndarray:
        """Steps 3–6 on ``box``; updates the state; returns the fresh share per pixel (H×W float32)."""
        p = self.params
        assert (self._out is not None and self._key is not None and self._key_grey is not None
                and self._offsets is not None and self._gamma is not None and self._grid is not None
                and self._prev is not None and self._prev_blur is not None and self._ref is not None)
        h, w = g.shape
        sl = box.slices()
        a = moving[sl]
        inside = a > 0
        step = box_flow(self._dis, g[sl], self._prev[sl], p.flow_side) * a[..., None]
        offsets, (sx, sy) = compose_flow(step, self._offsets, box, self._grid)
        kx, ky = self._grid[0][sl] + offsets[..., 0], self._grid[1][sl] + offsets[..., 1]
        lin, rep = cv2.INTER_LINEAR, cv2.BORDER_REPLICATE
        warped = cv2.remap(self._key, kx, ky, cv2.INTER_CUBIC, borderMode=rep)
        warped_grey = cv2.remap(self._key_grey, kx, ky, lin, borderMode=rep)
        carried = cv2.remap(self._out, sx, sy, lin, borderMode=rep)
        carried_grey = cv2.remap(self._prev_blur, sx, sy, lin, borderMode=rep)
        cur = gb[sl]
        left = (kx < 0) | (kx > w - 1) | (ky < 0) | (ky > h - 1)
        if p.max_stretch > 0:
            left |= stretch(offsets) > p.max_stretch  # strokes pulled out of shape: not theirs any more
        cur_gradient = _gradient_l1(cur) if p.flow_error_px > 0 else None
        slack = edge_slack(cur, p.flow_error_px, warped_grey, cur_gradient)
        stale = ((cv2.absdiff(cur, warped_grey) > int(round(p.photo_factor * threshold)) + slack) | left) & inside
        appeared = (cv2.absdiff(cur, carried_grey) > int(round(p.appear_factor * threshold))
                    + edge_slack(cur, p.flow_error_px, carried_grey, cur_gradient)) & inside
        fresh = np.zeros(g.shape, np.float32)
        self._since_key += 1
        inside_px = max(1, int(inside.sum()))
        gamma = self._gamma[sl].copy()
        if self._since_key >= p.key_frames or int(stale.sum()) > p.stale_share * inside_px:
            # a keyframe: the moving region takes S(t) as its new key; every other offset is baked
            self._since_key = 0
            sub = changed_box(inside, 0)
            assert sub is not None
            part = warped.copy()  # S(t) on the moving pixels' box, the old key around it
            part[sub.slices()] = self._fresh(stylize, box, sub)
            a3 = a[..., None]
            new_key = lerp(warped, part, a3)  # α = 0 outside the moving pixels: the old key there, exactly
            new_grey = lerp(warped_grey, cur, a)
            self._bake(box, inside, new_key, new_grey)
            offsets[:] = 0.0
            warped, warped_grey = new_key, new_grey
            gamma = np.where(inside, gamma * (1.0 - a), gamma)
            stale[:] = False
            fresh[sl] = a
            self.last_mode = "key"
        else:
            self.last_mode = "carry"
        snap = feather(appeared, p.feather_px / 2) * a
        if self.last_mode == "carry" and (snap > 0).any():
            sub = changed_box(snap > 0, 0)
            assert sub is not None
            ssl = sub.slices()
            # what appeared is new to both the key and the previous output: S(t), carried from here on
            carried[ssl] = lerp(carried[ssl], self._fresh(stylize, box, sub), snap[ssl][..., None])
            fresh[sl] = np.maximum(fresh[sl], snap)
            self.last_mode = "fresh"
        gamma = np.where(stale, 0.0, np.minimum(gamma + 1.0 / p.fade_frames, 1.0)).astype(np.float32)
        if self.last_mode == "key":
            gamma = np.maximum(gamma, snap)  # no fade from a previous output that shows something else
        out = _faded(carried, warped, gamma, p.fade_contrast)
        put_where(self._out[sl], out, inside)
        self._offsets[sl] = offsets  # outside ``inside`` the step is 0, so these are the old offsets exactly
        put_where(self._gamma[sl], gamma, inside)
        put_where(self._ref[sl], np.where(stale, cur, _explained(warped_grey, cur, slack)), inside)
        return fresh

    def _bake(self, box: Box, inside: np.ndarray, key: np.ndarray, key_grey: np.ndarray) -> None:
        """Make a new keyframe: inside ``box`` the key is ``key``/``key_grey`` (h×w, current
        coordinates) where ``inside``; every other pixel with a non-zero offset keeps what it shows
        (its output and the grey it was made from) as its key.  All offsets become zero, so no
        pixel points at a key that changed under it."""
        assert (self._out is not None and self._key is not None and self._key_grey is not None
                and self._offsets is not None and self._ref is not None)
        h, w = self._offsets.shape[:2]
        moved = cv2.reduce(np.abs(self._offsets).reshape(-1, 2), 1, cv2.REDUCE_MAX).reshape(h, w) != 0.0
        moved[box.slices()] &= ~inside
        if moved.any():
            put_where(self._key, self._out, moved)
            put_where(self._key_grey, self._ref, moved)
            self._offsets[moved] = 0.0
        sl = box.slices()
        put_where(self._key[sl], key, inside)
        put_where(self._key_grey[sl], key_grey, inside)
