"""A synthetic video-call clip, drawn in code, with ground-truth masks.

The scene is what a fixed webcam sees during a call:

* **The room** (static, rendered once per clip): a beige wall with real texture
  (low-frequency blotches, faint wallpaper stripes, fine grain), a crown moulding
  at the top, a lamp glow, and a mild vignette; on the left a wooden bookshelf full
  of coloured books with a table lamp on top; a framed landscape picture on the
  wall; on the right a door in a white frame with panels and a handle, a light
  switch, and a potted plant with leaves in several greens.
* **The person** (re-drawn every frame): head and shoulders in a striped shirt
  with a collar, neck, ears, an oval face, hair with a fringe, eyebrows, eyes that
  blink every few seconds, a nose, and a mouth that opens and closes at a syllable
  rate (about 4 Hz, with pauses). The figure sways gently left/right (a few pixels,
  sinusoidal; the head a little more than the body) and nods slightly. Around the
  middle of the clip a forearm and hand rise from the bottom edge beside the body,
  wave for about a second and a half, and go down again.
* **The camera**: Gaussian noise (``noise_sigma`` grey levels, independent per
  pixel, channel and frame) is added to the rendered image, which is then rounded
  and clipped to ``uint8``. An optional global lighting flicker (off by default)
  scales the whole rendered image per frame.

The figure is drawn at ``supersample`` times the output resolution without
antialiasing and reduced with area averaging, which gives each pixel its exact
coverage (alpha) by the figure. The noise-free frame is ``room * (1 - alpha) +
figure``; the ground-truth foreground is ``alpha >= 0.5``. Because drawing is a pure
function of the pose, pixels the figure does not touch are bit-for-bit the room in
every clean frame, and flat figure regions that stay put keep identical values.

Conventions: frames are ``H x W x 3`` ``uint8`` in **RGB** order; masks are
``H x W`` ``bool``; time is in seconds, sizes in pixels of the output frame, and
intensities in grey levels (0-255). Everything is deterministic given the seed;
no files or network are used.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Iterator

import cv2
import numpy as np

from steadystyle.errors import SteadyStyleError

__all__ = [
    "CallClipConfig",
    "CallClip",
    "make_call_clip",
    "iter_call_clip",
    "write_call_clip",
    "describe",
]


# ----------------------------------------------------------------------------
# Configuration and result types
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CallClipConfig:
    """Parameters of the synthetic call clip.

    Sizes of motions are in pixels *at 240 rows* and scale with ``height``;
    times are in seconds; intensities in grey levels (0-255).
    """

    width: int = 320
    """Frame width in pixels."""
    height: int = 240
    """Frame height in pixels."""
    fps: int = 25
    """Frames per second."""
    seconds: float = 4.0
    """Clip length; the clip has ``round(seconds * fps)`` frames."""
    noise_sigma: float = 2.0
    """Standard deviation of the camera noise, grey levels (0 disables it)."""
    seed: int = 0
    """Seed for the room texture, books, leaves, talking, blinking and noise."""

    sway_px: float = 4.0
    """Amplitude of the head's left/right sway (the body sways 60 % of it)."""
    sway_period: float = 3.7
    """Period of the sway, seconds."""
    nod_px: float = 2.0
    """Amplitude of the head's up/down nod."""
    nod_period: float = 2.3
    """Period of the nod, seconds."""
    talk_rate: float = 4.0
    """Syllables per second (mouth open/close cycles)."""
    talk_pause_fraction: float = 0.2
    """Fraction of syllables that are silent (mouth stays closed)."""
    blink_interval: float = 2.5
    """Mean time between blinks, seconds (each blink lasts about 0.16 s)."""
    wave_start: float | None = None
    """When the hand starts rising, seconds; ``None`` centres the wave in the clip."""
    wave_duration: float = 1.5
    """How long the hand is up (including rising and lowering); 0 disables the wave."""
    wave_rate: float = 2.0
    """Hand wave oscillations per second."""
    flicker: float = 0.0
    """Relative amplitude of a global lighting flicker (e.g. 0.03 = +-3 %); 0 = off.
    When on, every clean pixel changes from frame to frame, so ``moving`` covers
    (almost) the whole frame and the room is no longer constant."""
    supersample: int = 4
    """Supersampling factor used to antialias the figure (1 = hard edges)."""

    def __post_init__(self) -> None:
        if self.width < 64 or self.height < 48:
            raise SteadyStyleError(
                f"synthetic clip size {self.width}x{self.height} is too small (need at least 64x48)"
            )
        if self.fps <= 0:
            raise SteadyStyleError(f"synthetic clip fps must be positive, got {self.fps}")
        if self.seconds <= 0:
            raise SteadyStyleError(f"synthetic clip length must be positive, got {self.seconds} s")
        if self.noise_sigma < 0:
            raise SteadyStyleError(f"noise_sigma must be >= 0, got {self.noise_sigma}")
        if self.supersample < 1:
            raise SteadyStyleError(f"supersample must be >= 1, got {self.supersample}")
        if self.wave_duration < 0:
            raise SteadyStyleError(f"wave_duration must be >= 0, got {self.wave_duration}")

    @property
    def n_frames(self) -> int:
        """Number of frames in the clip (at least 1)."""
        return max(1, int(round(self.seconds * self.fps)))

    @property
    def wave_window(self) -> tuple[float, float]:
        """``(start, end)`` of the hand wave in seconds (empty if disabled)."""
        if self.wave_duration <= 0:
            return (0.0, 0.0)
        start = self.wave_start
        if start is None:
            start = max(0.0, (self.seconds - self.wave_duration) / 2.0)
        return (float(start), float(start) + self.wave_duration)


@dataclass
class CallClip:
    """A rendered clip with ground truth; all lists have one entry per frame.

    Attributes:
        frames: ``H x W x 3`` ``uint8`` RGB frames as the camera delivers them
            (clean frame + Gaussian noise, rounded and clipped).
        foreground: ``H x W`` ``bool``; True where the person (body, head, hair,
            raised arm and hand) covers at least half of the pixel.
        moving: ``H x W`` ``bool``; True where the clean frame differs (in any
            channel) from the previous clean frame; all False for the first frame.
            This is the true motion. Because edges are antialiased, a moving pixel
            can lie just outside the foreground (coverage below 0.5) but always
            within one pixel of the foreground of frame t or t-1 (flicker off).
        clean: ``H x W x 3`` ``uint8`` RGB noise-free frames.
        fps: frames per second.
        config: the configuration that produced the clip.
    """

    frames: list[np.ndarray]
    foreground: list[np.ndarray]
    moving: list[np.ndarray]
    clean: list[np.ndarray]
    fps: int
    config: CallClipConfig = field(default_factory=CallClipConfig)

    def __len__(self) -> int:
        return len(self.frames)


# ----------------------------------------------------------------------------
# Palette (RGB)
# ----------------------------------------------------------------------------

WALL = (196, 184, 163)
MOULDING = (236, 232, 222)
WOOD = (128, 84, 48)
WOOD_DARK = (74, 46, 26)
DOOR = (176, 132, 88)
DOOR_TRIM = (232, 228, 216)
SKIN = (226, 176, 142)
SKIN_SHADE = (196, 140, 108)
HAIR = (64, 40, 26)
HAIR_LIGHT = (96, 62, 38)
SHIRT = (58, 96, 150)
SHIRT_STRIPE = (88, 128, 182)
SHIRT_SHADE = (40, 70, 112)
COLLAR = (236, 238, 242)
LIPS = (176, 86, 86)
MOUTH_IN = (92, 30, 38)
TEETH = (244, 240, 230)
EYE_WHITE = (246, 244, 240)
IRIS = (70, 52, 30)
PUPIL = (18, 14, 12)

# figure layout, as fractions of the frame height
HEAD_Y = 0.47       # centre of the face oval at rest
SHOULDER_Y = 0.71   # top of the shoulders

BOOK_COLOURS = [
    (160, 40, 40), (40, 80, 140), (200, 170, 60), (50, 110, 70), (120, 60, 120),
    (220, 120, 40), (30, 30, 40), (180, 180, 170), (90, 140, 160), (140, 90, 50),
]


# ----------------------------------------------------------------------------
# Drawing helper: draws at supersampled resolution in output-pixel coordinates
# ----------------------------------------------------------------------------


class _Painter:
    """Draws filled shapes on a supersampled RGB canvas and (optionally) a coverage mask.

    The canvas covers the output-pixel box ``[ox, ox + width) x [oy, oy + height)``
    (integers) at ``ss`` times the resolution. Coordinates passed to the drawing
    methods are floats in output pixels of the whole frame; they are scaled by ``ss``
    and rounded half up *before* the box offset is subtracted, so a shape lands on
    exactly the same sub-pixels whatever box is used. Shapes are drawn without
    antialiasing; area-downsampling (:meth:`downsample`) then yields each output
    pixel's coverage.
    """

    def __init__(self, width: int, height: int, ss: int, with_mask: bool,
                 ox: int = 0, oy: int = 0, workspace: dict | None = None):
        self.ss, self.width, self.height = ss, width, height
        self._off = np.array([ox * ss, oy * ss], np.int64)
        hh, ww = height * ss, width * ss
        ws = workspace if workspace is not None else {}
        # reuse flat buffers between frames (views of a prefix stay C-contiguous for cv2)
        if ws.get("color") is None or ws["color"].size < hh * ww * 3:
            ws["color"] = np.zeros(hh * ww * 3, np.uint8)
            ws["mask"] = np.zeros(hh * ww, np.uint8)
        self.color = ws["color"][: hh * ww * 3].reshape(hh, ww, 3)
        self.color.fill(0)
        self.mask = None
        if with_mask:
            self.mask = ws["mask"][: hh * ww].reshape(hh, ww)
            self.mask.fill(0)

    def _p(self, x: float, y: float) -> tuple[int, int]:
        return (math.floor(x * self.ss + 0.5) - int(self._off[0]),
                math.floor(y * self.ss + 0.5) - int(self._off[1]))

    def _pts(self, pts) -> np.ndarray:
        q = np.floor(np.asarray(pts, np.float64) * self.ss + 0.5).astype(np.int64) - self._off
        return q.astype(np.int32)

    def ellipse(self, cx, cy, ax, ay, color, angle=0.0, mask=True, start=0, end=360):
        center = self._p(cx, cy)
        axes = (max(1, int(round(ax * self.ss))), max(1, int(round(ay * self.ss))))
        cv2.ellipse(self.color, center, axes, angle, start, end, color, -1, cv2.LINE_8)
        if mask and self.mask is not None:
            cv2.ellipse(self.mask, center, axes, angle, start, end, 255, -1, cv2.LINE_8)

    def arc(self, cx, cy, ax, ay, thickness, color, start=0, end=360):
        """An elliptic arc outline (colour canvas only)."""
        t = max(1, int(round(thickness * self.ss)))
        axes = (max(1, int(round(ax * self.ss))), max(1, int(round(ay * self.ss))))
        cv2.ellipse(self.color, self._p(cx, cy), axes, 0, start, end, color, t, cv2.LINE_8)

    def poly(self, pts, color, mask=True):
        p = [self._pts(pts)]
        cv2.fillPoly(self.color, p, color, cv2.LINE_8)
        if mask and self.mask is not None:
            cv2.fillPoly(self.mask, p, 255, cv2.LINE_8)

    def rect(self, x0, y0, x1, y1, color, mask=True):
        self.poly([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], color, mask)

    def line(self, x0, y0, x1, y1, thickness, color, mask=True):
        t = max(1, int(round(thickness * self.ss)))
        a, b = self._p(x0, y0), self._p(x1, y1)
        cv2.line(self.color, a, b, color, t, cv2.LINE_8)
        if mask and self.mask is not None:
            cv2.line(self.mask, a, b, 255, t, cv2.LINE_8)

    def polyline(self, pts, thickness, color, closed=False, mask=True):
        t = max(1, int(round(thickness * self.ss)))
        p = [self._pts(pts)]
        cv2.polylines(self.color, p, closed, color, t, cv2.LINE_8)
        if mask and self.mask is not None:
            cv2.polylines(self.mask, p, closed, 255, t, cv2.LINE_8)

    def segment(self, x0, y0, x1, y1, w0, w1, color, mask=True):
        """A tapered limb: quadrilateral from width ``w0`` at (x0,y0) to ``w1`` at (x1,y1)."""
        dx, dy = x1 - x0, y1 - y0
        n = math.hypot(dx, dy) or 1.0
        nx, ny = -dy / n, dx / n
        pts = [
            (x0 + nx * w0 / 2, y0 + ny * w0 / 2),
            (x1 + nx * w1 / 2, y1 + ny * w1 / 2),
            (x1 - nx * w1 / 2, y1 - ny * w1 / 2),
            (x0 - nx * w0 / 2, y0 - ny * w0 / 2),
        ]
        self.poly(pts, color, mask)

    def clip_color_to_mask(self) -> None:
        """Zero the colour canvas wherever the mask is empty.

        Details drawn with ``mask=False`` (stripes, creases) are thereby cut to the
        silhouette, which keeps the downsampled colour premultiplied by coverage.
        """
        assert self.mask is not None
        # (with a mask, cv2 leaves dst untouched where the mask is 0, so use a fresh dst)
        self.color = cv2.bitwise_and(self.color, self.color, mask=self.mask)

    def downsample(self):
        """Area-average to output resolution.

        Returns ``(colour, mask)``: ``height x width x 3`` uint8 (premultiplied by
        coverage, since the canvas is black outside the shapes) and ``height x width``
        uint8 coverage (255 = fully covered), or None without a mask. Copies.
        """
        size = (self.width, self.height)
        if self.ss == 1:
            return self.color.copy(), None if self.mask is None else self.mask.copy()
        col = cv2.resize(self.color, size, interpolation=cv2.INTER_AREA)
        msk = None
        if self.mask is not None:
            msk = cv2.resize(self.mask, size, interpolation=cv2.INTER_AREA)
        return col, msk


def _jitter(rng: np.random.Generator, color, amount: int) -> tuple[int, int, int]:
    c = np.clip(np.asarray(color) + rng.integers(-amount, amount + 1, 3), 0, 255)
    return tuple(int(v) for v in c)


def _shade(color, factor: float) -> tuple[int, int, int]:
    return tuple(int(np.clip(round(c * factor), 0, 255)) for c in color)


# ----------------------------------------------------------------------------
# The room (static)
# ----------------------------------------------------------------------------


def _wall_texture(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """H x W x 3 float32 wall: base colour, blotches, wallpaper stripes, grain, glow, vignette."""
    s = h / 240.0
    base = np.empty((h, w, 3), np.float32)
    base[:] = WALL
    # low-frequency blotches (shared across channels, slightly tinted)
    coarse = rng.standard_normal((7, 9)).astype(np.float32)
    blot = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC) * 6.0
    base += blot[..., None] * np.array([1.0, 0.95, 0.85], np.float32)
    # faint wallpaper stripes with a gentle wobble
    xs = np.arange(w, dtype=np.float32)[None, :]
    ys = np.arange(h, dtype=np.float32)[:, None]
    period = 14.0 * s
    stripes = 3.0 * np.sin(2 * np.pi * (xs + 1.5 * s * np.sin(ys / (9.0 * s))) / period)
    base += stripes[..., None]
    # fine grain (static plaster texture)
    grain = rng.standard_normal((h, w)).astype(np.float32)
    grain = cv2.GaussianBlur(grain, (0, 0), 0.7) * 5.0
    base += grain[..., None]
    # warm lamp glow near the top-left (lamp on the bookshelf)
    lx, ly = 0.13 * w, 0.12 * h
    d2 = ((xs - lx) ** 2 + (ys - ly) ** 2) / (70.0 * s) ** 2
    glow = np.exp(-d2)
    base += glow[..., None] * np.array([28.0, 20.0, 6.0], np.float32)
    # vignette
    r2 = ((xs - w / 2) / (w / 2)) ** 2 + ((ys - h / 2) / (h / 2)) ** 2
    base *= (1.0 - 0.12 * r2)[..., None]
    return base


def _draw_bookshelf(p: _Painter, w: int, h: int, rng: np.random.Generator) -> None:
    s = h / 240.0
    x0, x1 = -2.0, 0.27 * w
    top = 0.30 * h
    p.rect(x0, top, x1, h + 2, WOOD)
    inner0, inner1 = x0 + 6 * s, x1 - 6 * s
    p.rect(inner0, top + 6 * s, inner1, h + 2, WOOD_DARK)
    shelf_ys = [top + 6 * s + k * 0.22 * h for k in range(4)]
    for k, sy in enumerate(shelf_ys):
        # shelf board
        board_top = sy + 0.22 * h - 5 * s
        p.rect(inner0, board_top, inner1, board_top + 5 * s, _shade(WOOD, 1.1))
        p.line(inner0, board_top, inner1, board_top, 1.0, _shade(WOOD, 1.35))
        # books standing on the board
        x = inner0 + 2 * s + rng.uniform(0, 4 * s)
        gap = board_top - sy
        while x < inner1 - 6 * s:
            bw = rng.uniform(4.0, 9.0) * s
            if x + bw > inner1 - 1 * s:
                break
            bh = rng.uniform(0.6, 0.92) * gap
            col = _jitter(rng, BOOK_COLOURS[rng.integers(len(BOOK_COLOURS))], 18)
            if rng.random() < 0.08 and x + bw + bh * 0.5 + 2 * s < inner1:
                # a book leaning right: it rests on its bottom-right corner
                lean = rng.uniform(0.2, 0.4)
                ux, uy = math.sin(lean), -math.cos(lean)      # up along the spine
                ax, ay = math.cos(lean), math.sin(lean)       # across the cover
                px, py = x + bw * ax, board_top
                pts = [(px, py), (px - bw * ax, py - bw * ay),
                       (px - bw * ax + bh * ux, py - bw * ay + bh * uy), (px + bh * ux, py + bh * uy)]
                p.poly(pts, col)
                x = px + bh * ux + 0.5 * s
                continue
            p.rect(x, board_top - bh, x + bw, board_top, col)
            # spine bands
            band = _shade(col, 1.45 if sum(col) < 300 else 0.6)
            by = board_top - bh * rng.uniform(0.65, 0.85)
            p.line(x + 0.5 * s, by, x + bw - 0.5 * s, by, 1.0 * s, band)
            if rng.random() < 0.5:
                by2 = board_top - bh * rng.uniform(0.15, 0.3)
                p.line(x + 0.5 * s, by2, x + bw - 0.5 * s, by2, 1.0 * s, band)
            x += bw + rng.uniform(0.3, 1.2) * s
            if rng.random() < 0.07:
                x += rng.uniform(4, 10) * s  # a gap
    # top surface edge
    p.rect(x0, top, x1 + 3 * s, top + 4 * s, _shade(WOOD, 1.2))
    # table lamp on top
    lx = 0.13 * w
    p.ellipse(lx, top - 1.5 * s, 12 * s, 3 * s, (60, 60, 64))
    p.rect(lx - 1.5 * s, top - 32 * s, lx + 1.5 * s, top - 2 * s, (150, 150, 156))
    p.poly([(lx - 11 * s, top - 30 * s), (lx + 11 * s, top - 30 * s),
            (lx + 7 * s, top - 54 * s), (lx - 7 * s, top - 54 * s)], (246, 232, 196))
    p.line(lx - 11 * s, top - 30 * s, lx + 11 * s, top - 30 * s, 1.5 * s, (220, 200, 160))


def _draw_picture(p: _Painter, w: int, h: int) -> None:
    s = h / 240.0
    x0, y0, x1, y1 = 0.63 * w, 0.08 * h, 0.83 * w, 0.34 * h
    p.rect(x0, y0, x1, y1, (150, 112, 40))                      # gilded frame
    p.rect(x0 + 2 * s, y0 + 2 * s, x1 - 2 * s, y1 - 2 * s, (112, 80, 26))
    m = 5 * s
    p.rect(x0 + m, y0 + m, x1 - m, y1 - m, (240, 236, 226))     # mat
    ix0, iy0, ix1, iy1 = x0 + m + 4 * s, y0 + m + 4 * s, x1 - m - 4 * s, y1 - m - 4 * s
    # sky gradient as bands
    n = 12
    for k in range(n):
        t = k / (n - 1)
        col = (int(110 + 120 * t), int(160 + 60 * t), int(220 - 10 * t))
        ya = iy0 + (iy1 - iy0) * 0.6 * k / n
        yb = iy0 + (iy1 - iy0) * 0.6 * (k + 1) / n
        p.rect(ix0, ya, ix1, yb + 0.5, col)
    horizon = iy0 + (iy1 - iy0) * 0.6
    p.ellipse(ix0 + (ix1 - ix0) * 0.72, iy0 + (iy1 - iy0) * 0.25, 4 * s, 4 * s, (250, 220, 110))
    p.poly([(ix0, horizon), (ix0 + (ix1 - ix0) * 0.3, iy0 + (iy1 - iy0) * 0.22),
            (ix0 + (ix1 - ix0) * 0.55, horizon)], (110, 110, 130))
    p.poly([(ix0 + (ix1 - ix0) * 0.3, horizon), (ix0 + (ix1 - ix0) * 0.62, iy0 + (iy1 - iy0) * 0.3),
            (ix1, horizon)], (80, 90, 110))
    p.poly([(ix0 + (ix1 - ix0) * 0.24, iy0 + (iy1 - iy0) * 0.3),
            (ix0 + (ix1 - ix0) * 0.3, iy0 + (iy1 - iy0) * 0.22),
            (ix0 + (ix1 - ix0) * 0.36, iy0 + (iy1 - iy0) * 0.3)], (240, 240, 250))
    p.rect(ix0, horizon, ix1, iy1, (70, 130, 70))               # meadow
    p.rect(ix0, horizon + (iy1 - horizon) * 0.5, ix1, iy1, (60, 110, 150))  # lake


def _draw_door(p: _Painter, w: int, h: int) -> None:
    s = h / 240.0
    x0 = 0.87 * w
    p.rect(x0, 0.04 * h, w + 2, h + 2, DOOR_TRIM)
    p.line(x0 + 1 * s, 0.04 * h, x0 + 1 * s, h + 2, 1.0 * s, (200, 196, 186))
    d0 = x0 + 7 * s
    p.rect(d0, 0.04 * h + 7 * s, w + 2, h + 2, DOOR)
    p.line(d0, 0.04 * h + 7 * s, d0, h + 2, 1.5 * s, (120, 84, 52))  # gap shadow
    # raised panels
    for y0, y1 in ((0.15 * h, 0.48 * h), (0.56 * h, 0.98 * h)):
        p.rect(d0 + 6 * s, y0, w + 2, y1, _shade(DOOR, 0.86))
        p.rect(d0 + 8 * s, y0 + 2 * s, w + 2, y1 - 2 * s, _shade(DOOR, 1.06))
    # handle
    p.ellipse(d0 + 4 * s, 0.53 * h, 3 * s, 3 * s, (206, 190, 140))
    p.rect(d0 + 2 * s, 0.53 * h - 1.2 * s, d0 + 14 * s, 0.53 * h + 1.2 * s, (186, 170, 120))
    # light switch next to the door
    sx = 0.83 * w
    p.rect(sx - 4 * s, 0.40 * h, sx + 4 * s, 0.40 * h + 12 * s, (242, 240, 234))
    p.rect(sx - 1.5 * s, 0.40 * h + 3 * s, sx + 1.5 * s, 0.40 * h + 9 * s, (214, 210, 200))


def _draw_plant(p: _Painter, w: int, h: int, rng: np.random.Generator) -> None:
    s = h / 240.0
    cx = 0.86 * w
    pot_top = 0.82 * h
    # leaves first (behind the pot rim)
    for _ in range(16):
        ang = rng.uniform(-70, 70)
        length = rng.uniform(22, 40) * s
        rad = math.radians(ang)
        bx, by = cx + rng.uniform(-4, 4) * s, pot_top
        tx, ty = bx + math.sin(rad) * length, by - math.cos(rad) * length
        col = (int(rng.integers(30, 80)), int(rng.integers(100, 160)), int(rng.integers(35, 70)))
        mx, my = (bx + tx) / 2, (by + ty) / 2
        p.ellipse(mx, my, length / 2, length * 0.17, col, angle=ang - 90)
        p.line(bx, by, tx, ty, 0.7 * s, _shade(col, 0.7))
    p.poly([(cx - 17 * s, pot_top), (cx + 17 * s, pot_top), (cx + 13 * s, h + 2),
            (cx - 13 * s, h + 2)], (184, 92, 58))
    p.rect(cx - 19 * s, pot_top - 2 * s, cx + 19 * s, pot_top + 5 * s, (200, 106, 70))


def _render_room(w: int, h: int, ss: int, rng: np.random.Generator) -> np.ndarray:
    """The static room, H x W x 3 uint8 RGB."""
    s = h / 240.0
    wall = _wall_texture(w, h, rng)
    # objects are drawn on a supersampled canvas with a mask, then composited on the wall
    ss_bg = max(2, ss)
    p = _Painter(w, h, ss_bg, with_mask=True)
    p.rect(-2, -2, w + 2, 0.04 * h, MOULDING)                        # crown moulding
    p.line(-2, 0.04 * h, w + 2, 0.04 * h, 1.0 * s, (200, 196, 186))
    _draw_picture(p, w, h)
    _draw_door(p, w, h)
    _draw_plant(p, w, h, rng)
    _draw_bookshelf(p, w, h, rng)
    col, msk = p.downsample()
    a = msk.astype(np.float32)[..., None] / 255.0
    obj = col.astype(np.float32)
    # objects get a little grain too, so no region is perfectly flat
    grain = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 0.6) * 3.0
    room = wall * (1.0 - a) + (obj + grain[..., None]) * a
    return np.clip(np.round(room), 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------
# The person (animated)
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pose:
    body_x: float      # body centre x offset, px
    head_dx: float     # head x offset relative to frame centre, px
    head_dy: float     # head y offset (nod), px
    mouth: float       # mouth opening, 0..1
    eyes: float        # eye openness, 0..1
    arm_up: float      # 0 = hand hidden below the frame, 1 = fully raised
    arm_angle: float   # forearm angle from vertical, degrees (positive = tilted right)


class _Motion:
    """Deterministic motion schedule (talking syllables, blinks, wave) for one clip."""

    def __init__(self, cfg: CallClipConfig, rng: np.random.Generator):
        self.cfg = cfg
        self.sway_phase = rng.uniform(0, 2 * math.pi)
        self.nod_phase = rng.uniform(0, 2 * math.pi)
        self.talk_phase = rng.uniform(0, 1)
        self._syllable_seed = int(rng.integers(0, 2**31 - 1))
        # blinks: start times at roughly blink_interval, jittered
        blinks = []
        t = rng.uniform(0.3, max(0.31, cfg.blink_interval))
        while t < cfg.seconds + 1.0 and cfg.blink_interval > 0:
            blinks.append(t)
            t += cfg.blink_interval * rng.uniform(0.6, 1.4)
        self.blinks = np.asarray(blinks, np.float64)

    def _syllable_amp(self, k: int) -> float:
        # hash-like per-syllable amplitude, so it does not depend on the frame order
        r = np.random.default_rng([self._syllable_seed, k & 0x7FFFFFFF])
        if r.random() < self.cfg.talk_pause_fraction:
            return 0.0
        return float(r.uniform(0.35, 1.0))

    def pose(self, t: float) -> _Pose:
        cfg = self.cfg
        s = cfg.height / 240.0
        sway = math.sin(2 * math.pi * t / cfg.sway_period + self.sway_phase)
        head_dx = cfg.sway_px * s * sway
        body_x = 0.6 * head_dx
        nod = math.sin(2 * math.pi * t / cfg.nod_period + self.nod_phase)
        head_dy = cfg.nod_px * s * nod
        # talking: syllable k spans [k, k+1) / rate; mouth follows a half-sine bump
        mouth = 0.0
        if cfg.talk_rate > 0:
            u = t * cfg.talk_rate + self.talk_phase
            k = math.floor(u)
            mouth = self._syllable_amp(k) * math.sin(math.pi * (u - k)) ** 1.5
        # blinking: triangular close/open over 0.16 s
        eyes = 1.0
        if self.blinks.size:
            dt = np.min(np.abs(t - 0.08 - self.blinks))
            if dt < 0.08:
                eyes = float(dt / 0.08)
        # waving
        arm_up, arm_angle = 0.0, 0.0
        w0, w1 = cfg.wave_window
        if w1 > w0 and w0 <= t <= w1:
            ramp = min(0.35, (w1 - w0) / 3)
            r = min(1.0, (t - w0) / ramp, (w1 - t) / ramp)
            arm_up = r * r * (3 - 2 * r)  # smoothstep
            arm_angle = 8.0 + 24.0 * arm_up * math.sin(2 * math.pi * cfg.wave_rate * (t - w0))
        return _Pose(body_x, head_dx, head_dy, mouth, eyes, arm_up, arm_angle)


def _draw_torso(p: _Painter, cx: float, w: int, h: int) -> None:
    s = h / 240.0
    sh_y = SHOULDER_Y * h
    # shoulders: an ellipse top, and a flared trunk below it
    p.ellipse(cx, sh_y + 14 * s, 76 * s, 26 * s, SHIRT)
    p.poly([(cx - 76 * s, sh_y + 14 * s), (cx + 76 * s, sh_y + 14 * s),
            (cx + 84 * s, h + 4), (cx - 84 * s, h + 4)], SHIRT)
    # fine vertical stripes (clipped to the silhouette at the end of the frame)
    x = cx - 90 * s
    while x < cx + 90 * s:
        p.line(x, sh_y - 14 * s, x + 2 * s, h + 4, 1.6 * s, SHIRT_STRIPE, mask=False)
        x += 7 * s
    # arm creases (shade lines where the arms meet the chest)
    p.line(cx - 56 * s, sh_y + 18 * s, cx - 60 * s, h + 4, 2.0 * s, SHIRT_SHADE, mask=False)
    p.line(cx + 56 * s, sh_y + 18 * s, cx + 60 * s, h + 4, 2.0 * s, SHIRT_SHADE, mask=False)
    # placket and buttons
    p.rect(cx - 3 * s, sh_y + 10 * s, cx + 3 * s, h + 4, _shade(SHIRT, 1.12), mask=False)
    for k in range(4):
        p.ellipse(cx, sh_y + 22 * s + k * 16 * s, 1.6 * s, 1.6 * s, COLLAR, mask=False)


def _draw_neck_and_collar(p: _Painter, cx_body: float, cx_head: float, cy_head: float,
                          w: int, h: int) -> None:
    s = h / 240.0
    sh_y = SHOULDER_Y * h
    # neck: top follows the head, bottom the body
    p.poly([(cx_head - 13 * s, cy_head + 20 * s), (cx_head + 13 * s, cy_head + 20 * s),
            (cx_body + 15 * s, sh_y + 2 * s), (cx_body - 15 * s, sh_y + 2 * s)], SKIN)
    # V-neck of skin, and collar flaps
    p.poly([(cx_body - 15 * s, sh_y - 2 * s), (cx_body + 15 * s, sh_y - 2 * s),
            (cx_body, sh_y + 14 * s)], SKIN)
    p.poly([(cx_body - 17 * s, sh_y - 5 * s), (cx_body - 1 * s, sh_y + 14 * s),
            (cx_body - 11 * s, sh_y + 18 * s), (cx_body - 25 * s, sh_y + 1 * s)], COLLAR)
    p.poly([(cx_body + 17 * s, sh_y - 5 * s), (cx_body + 1 * s, sh_y + 14 * s),
            (cx_body + 11 * s, sh_y + 18 * s), (cx_body + 25 * s, sh_y + 1 * s)], COLLAR)


def _draw_head(p: _Painter, cx: float, cy: float, h: int) -> None:
    """Hair behind, ears and face oval (the features are drawn separately)."""
    s = h / 240.0
    p.ellipse(cx, cy - 6 * s, 33 * s, 38 * s, HAIR)                      # hair behind the head
    p.ellipse(cx - 30 * s, cy + 2 * s, 5 * s, 8 * s, SKIN_SHADE)         # ears
    p.ellipse(cx + 30 * s, cy + 2 * s, 5 * s, 8 * s, SKIN_SHADE)
    p.ellipse(cx, cy, 29 * s, 37 * s, SKIN)                              # face
    # jaw shadow on the neck side
    p.ellipse(cx, cy + 36 * s, 11 * s, 3 * s, SKIN_SHADE, mask=False, start=0, end=180)


def _draw_hair_fringe(p: _Painter, cx: float, cy: float, h: int) -> None:
    s = h / 240.0
    # upper arc of a slightly larger ellipse, closed by a wavy fringe line
    arc = cv2.ellipse2Poly((0, 0), (3300, 3900), 0, 180, 360, 6).astype(np.float64) / 100.0
    arc = arc * s + np.array([cx, cy - 3 * s])
    fringe_y = cy - 17 * s
    top = arc[arc[:, 1] <= fringe_y + 6 * s]
    xs = np.linspace(top[-1, 0], top[0, 0], 12)
    fringe = np.stack([xs, fringe_y + 3.5 * s * np.abs(np.sin((xs - cx) / (7.5 * s)))], axis=1)
    p.poly(np.concatenate([top, fringe]), HAIR)
    # a few lighter strands
    for k in (-2, -1, 0, 1, 2):
        x = cx + k * 9 * s
        p.polyline([(x, cy - 36 * s), (x + 3 * s, cy - 28 * s), (x + 1 * s, cy - 20 * s)],
                   1.2 * s, HAIR_LIGHT, mask=False)


def _draw_face(p: _Painter, cx: float, cy: float, eyes: float, mouth: float, h: int) -> None:
    s = h / 240.0
    # eyebrows
    for sgn in (-1, 1):
        ex = cx + sgn * 11.5 * s
        p.line(ex - 6 * s, cy - 12 * s + (1 * s if sgn < 0 else 0), ex + 6 * s, cy - 12.5 * s,
               2.2 * s, HAIR, mask=False)
    # eyes
    for sgn in (-1, 1):
        ex, ey = cx + sgn * 11.5 * s, cy - 4 * s
        if eyes > 0.15:
            p.ellipse(ex, ey, 6.5 * s, 3.8 * s * eyes, EYE_WHITE, mask=False)
            p.ellipse(ex + 0.5 * s, ey, 2.9 * s, min(2.9, 3.8 * eyes) * s, IRIS, mask=False)
            p.ellipse(ex + 0.5 * s, ey, 1.3 * s, min(1.3, 3.0 * eyes) * s, PUPIL, mask=False)
            p.arc(ex, ey, 6.5 * s, 3.8 * s * eyes, 1.3 * s, (80, 52, 44), start=180, end=360)
        else:
            p.line(ex - 6.5 * s, ey, ex + 6.5 * s, ey + 0.5 * s, 1.4 * s, (90, 60, 50), mask=False)
    # nose
    p.polyline([(cx + 0.5 * s, cy - 2 * s), (cx - 3 * s, cy + 10 * s), (cx + 2.5 * s, cy + 11.5 * s)],
               1.6 * s, SKIN_SHADE, mask=False)
    # mouth
    my = cy + 21 * s
    open_h = 7.0 * s * mouth
    if open_h < 0.9 * s:
        p.ellipse(cx, my, 10 * s, 2.2 * s, LIPS, mask=False)
        p.line(cx - 9 * s, my, cx + 9 * s, my, 1.0 * s, MOUTH_IN, mask=False)
    else:
        p.ellipse(cx, my + open_h / 2, 10.5 * s, 2.2 * s + open_h / 2 + 1.0 * s, LIPS, mask=False)
        p.ellipse(cx, my + open_h / 2, 8.5 * s, open_h / 2 + 0.6 * s, MOUTH_IN, mask=False)
        if mouth > 0.35:
            p.rect(cx - 6 * s, my - 0.2 * s, cx + 6 * s, my + 1.8 * s, TEETH, mask=False)


def _draw_arm(p: _Painter, cx_body: float, arm_up: float, arm_angle: float, w: int, h: int) -> None:
    """Forearm rising from the bottom edge beside the body, with a waving hand."""
    if arm_up <= 0.0:
        return
    s = h / 240.0
    reach = 140 * s  # elbow-to-fingertip extent; the arm is fully hidden at arm_up = 0
    ex = cx_body + 104 * s
    ey = (h - 12 * s) + (1.0 - arm_up) * (reach + 14 * s)
    th = math.radians(arm_angle)
    dx, dy = math.sin(th), -math.cos(th)
    nx, ny = math.cos(th), math.sin(th)
    fore = 82 * s
    wx, wy = ex + dx * fore, ey + dy * fore
    # upper arm (sleeve) going down-left out of the frame, forearm sleeve, bare forearm
    p.segment(ex, ey, cx_body + 70 * s, ey + 70 * s, 24 * s, 28 * s, SHIRT)
    p.ellipse(ex, ey, 12 * s, 12 * s, SHIRT)
    sx, sy = ex + dx * fore * 0.45, ey + dy * fore * 0.45
    p.segment(sx, sy, wx, wy, 17 * s, 14 * s, SKIN)
    p.segment(ex, ey, sx, sy, 24 * s, 21 * s, SHIRT)
    p.line(sx - nx * 8.5 * s, sy - ny * 8.5 * s, sx + nx * 8.5 * s, sy + ny * 8.5 * s,
           2.2 * s, SHIRT_SHADE, mask=False)  # cuff
    # palm, fingers, thumb
    px, py = wx + dx * 11 * s, wy + dy * 11 * s
    for k, (off, length) in enumerate(((-6.0, 14.0), (-2.0, 17.0), (2.0, 16.0), (6.0, 13.0))):
        spread = math.radians(arm_angle + (k - 1.5) * 7.0)
        fdx, fdy = math.sin(spread), -math.cos(spread)
        bx, by = px + nx * off * s + dx * 6 * s, py + ny * off * s + dy * 6 * s
        p.line(bx, by, bx + fdx * length * s, by + fdy * length * s, 4.4 * s, SKIN)
        p.ellipse(bx + fdx * length * s, by + fdy * length * s, 2.2 * s, 2.2 * s, SKIN)
    tdir = math.radians(arm_angle - 62.0)
    tbx, tby = px - nx * 8 * s, py - ny * 8 * s
    p.line(tbx, tby, tbx + math.sin(tdir) * 12 * s, tby - math.cos(tdir) * 12 * s, 5.0 * s, SKIN)
    p.ellipse(px, py, 10.5 * s, 12.5 * s, SKIN, angle=arm_angle)
    # palm crease lines for a bit of detail
    p.line(px - nx * 6 * s - dx * 2 * s, py - ny * 6 * s - dy * 2 * s,
           px + nx * 5 * s + dx * 1 * s, py + ny * 5 * s + dy * 1 * s, 1.0 * s, SKIN_SHADE, mask=False)


def _person_box(pose: _Pose, w: int, h: int) -> tuple[int, int, int, int]:
    """Integer output-pixel box ``(x0, y0, x1, y1)`` that surely contains the figure."""
    s = h / 240.0
    cx_body = w / 2 + pose.body_x
    cx_head = w / 2 + pose.head_dx
    cy_head = HEAD_Y * h + pose.head_dy
    x0 = min(cx_body - 96 * s, cx_head - 40 * s)
    x1 = max(cx_body + 96 * s, cx_head + 40 * s)
    if pose.arm_up > 0:
        x1 = max(x1, cx_body + 104 * s + 160 * s)
    y0 = cy_head - 50 * s
    return (max(0, math.floor(x0) - 1), max(0, math.floor(y0) - 1),
            min(w, math.ceil(x1) + 1), h)


def _render_person(pose: _Pose, w: int, h: int, ss: int, workspace: dict | None = None,
                   box: tuple[int, int, int, int] | None = None):
    """Render the figure inside ``box`` (default: :func:`_person_box`).

    Returns ``(box, colour, coverage)``: colour is premultiplied by coverage,
    ``(y1-y0) x (x1-x0) x 3`` uint8; coverage is ``(y1-y0) x (x1-x0)`` uint8, 255 = full.
    """
    x0, y0, x1, y1 = box if box is not None else _person_box(pose, w, h)
    p = _Painter(x1 - x0, y1 - y0, ss, with_mask=True, ox=x0, oy=y0, workspace=workspace)
    cx_body = w / 2 + pose.body_x
    cx_head = w / 2 + pose.head_dx
    cy_head = HEAD_Y * h + pose.head_dy
    _draw_torso(p, cx_body, w, h)
    _draw_neck_and_collar(p, cx_body, cx_head, cy_head, w, h)
    _draw_head(p, cx_head, cy_head, h)
    _draw_hair_fringe(p, cx_head, cy_head, h)
    _draw_face(p, cx_head, cy_head, pose.eyes, pose.mouth, h)
    _draw_arm(p, cx_body, pose.arm_up, pose.arm_angle, w, h)
    p.clip_color_to_mask()
    col, cov = p.downsample()
    return (x0, y0, x1, y1), col, cov


# ----------------------------------------------------------------------------
# Clip generation
# ----------------------------------------------------------------------------


_ONES_1x3 = np.ones((1, 3), np.float32)


def _iter_full(cfg: CallClipConfig) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Yield (frame, foreground, moving, clean) for every frame of the clip."""
    w, h, ss = cfg.width, cfg.height, cfg.supersample
    scene_rng = np.random.default_rng([cfg.seed, 1])
    room = _render_room(w, h, ss, scene_rng)
    room_f = room.astype(np.float32)
    motion = _Motion(cfg, np.random.default_rng([cfg.seed, 2]))
    noise_rng = np.random.default_rng([cfg.seed, 3])
    flicker_rng = np.random.default_rng([cfg.seed, 4])
    flicker_phase = flicker_rng.uniform(0, 2 * math.pi)
    prev_clean: np.ndarray | None = None
    prev_box = (0, 0, 0, 0)
    workspace: dict = {}
    for i in range(cfg.n_frames):
        t = i / cfg.fps
        pose = motion.pose(t)
        box, fig, cov = _render_person(pose, w, h, ss, workspace)
        x0, y0, x1, y1 = box
        foreground = np.zeros((h, w), bool)
        foreground[y0:y1, x0:x1] = cov >= 128
        # clean = room * (1 - alpha) + premultiplied figure, rounded; only inside the box
        inv_alpha = cv2.merge([255 - cov] * 3)
        if cfg.flicker > 0:
            img = room_f.copy()
            img[y0:y1, x0:x1] = cv2.multiply(room[y0:y1, x0:x1], inv_alpha, scale=1.0 / 255.0,
                                             dtype=cv2.CV_32F) + fig
            gain = 1.0 + cfg.flicker * (0.6 * math.sin(2 * math.pi * 1.3 * t + flicker_phase)
                                        + 0.4 * flicker_rng.uniform(-1.0, 1.0))
            img *= gain
            clean = np.clip(np.rint(img), 0, 255).astype(np.uint8)
        else:
            clean = room.copy()
            blend = cv2.multiply(room[y0:y1, x0:x1], inv_alpha, scale=1.0 / 255.0, dtype=cv2.CV_32F)
            clean[y0:y1, x0:x1] = cv2.add(blend, fig, dtype=cv2.CV_8U)
        moving = np.zeros((h, w), bool)
        if prev_clean is not None:
            if cfg.flicker > 0:
                ux0, uy0, ux1, uy1 = 0, 0, w, h
            else:  # outside both boxes both clean frames equal the room
                ux0, uy0 = min(x0, prev_box[0]), min(y0, prev_box[1])
                ux1, uy1 = max(x1, prev_box[2]), max(y1, prev_box[3])
            diff = cv2.absdiff(clean[uy0:uy1, ux0:ux1], prev_clean[uy0:uy1, ux0:ux1])
            # sum of absolute channel differences (saturating) > 0  <=>  any channel differs
            moving[uy0:uy1, ux0:ux1] = cv2.transform(diff, _ONES_1x3) > 0
        if cfg.noise_sigma > 0:
            noise = noise_rng.standard_normal((h, w, 3), dtype=np.float32)
            noise *= cfg.noise_sigma
            frame = cv2.add(clean, noise, dtype=cv2.CV_8U)  # rounds and saturates
        else:
            frame = clean.copy()
        prev_clean, prev_box = clean, box
        yield frame, foreground, moving, clean


def make_call_clip(config: CallClipConfig = CallClipConfig()) -> CallClip:
    """Render the whole clip into memory.

    Returns a :class:`CallClip` with ``config.n_frames`` frames; frames and ``clean``
    are ``H x W x 3`` ``uint8`` RGB, ``foreground`` and ``moving`` are ``H x W`` bool.
    Deterministic for a given config (including ``seed``).
    """
    frames, fgs, movs, cleans = [], [], [], []
    for frame, fg, mov, clean in _iter_full(config):
        frames.append(frame)
        fgs.append(fg)
        movs.append(mov)
        cleans.append(clean)
    return CallClip(frames=frames, foreground=fgs, moving=movs, clean=cleans, fps=config.fps,
                    config=config)


def iter_call_clip(config: CallClipConfig = CallClipConfig()) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Stream the clip frame by frame as ``(frame, foreground, moving)``.

    Same content as :func:`make_call_clip` for the same config, without keeping the
    clip in memory: ``frame`` is ``H x W x 3`` ``uint8`` RGB (noisy), ``foreground``
    and ``moving`` are ``H x W`` bool.
    """
    for frame, fg, mov, _clean in _iter_full(config):
        yield frame, fg, mov


def write_call_clip(path: str | os.PathLike, config: CallClipConfig = CallClipConfig(),
                    masks: bool = True) -> int:
    """Write the clip as PNG files into the folder ``path`` (created if needed).

    Files: ``frame_00000.png`` (RGB frame, stored by PNG as usual) and, if ``masks``,
    ``foreground_00000.png`` (0/255 greyscale). Returns the number of frames written.
    """
    out = os.fspath(path)
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise SteadyStyleError(f"cannot create folder {out}: {exc.strerror}") from exc
    n = 0
    for i, (frame, fg, _mov) in enumerate(iter_call_clip(config)):
        name = os.path.join(out, f"frame_{i:05d}.png")
        if not cv2.imwrite(name, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)):
            raise SteadyStyleError(f"cannot write {name}")
        if masks:
            mname = os.path.join(out, f"foreground_{i:05d}.png")
            if not cv2.imwrite(mname, fg.astype(np.uint8) * 255):
                raise SteadyStyleError(f"cannot write {mname}")
        n += 1
    return n


def describe(clip: CallClip) -> str:
    """One line of statistics about a clip (size, length, foreground and motion, noise)."""
    n = len(clip.frames)
    if n == 0:
        return "CallClip: empty"
    h, w = clip.frames[0].shape[:2]
    fg = np.array([m.mean() for m in clip.foreground]) * 100
    mv = np.array([m.mean() for m in clip.moving]) * 100
    with_motion = int(sum(bool(m.any()) for m in clip.moving))
    bg = ~np.logical_or.reduce(clip.foreground)
    diffs = [f.astype(np.float32)[bg] - c.astype(np.float32)[bg]
             for f, c in zip(clip.frames[:8], clip.clean[:8])]
    noise = float(np.std(np.concatenate(diffs))) if bg.any() else float("nan")
    return (f"CallClip: {n} frames {w}x{h} RGB @ {clip.fps} fps ({n / clip.fps:.2f} s); "
            f"foreground {fg.mean():.1f}% (min {fg.min():.1f}%, max {fg.max():.1f}%); "
            f"moving {mv.mean():.2f}% per frame, {with_motion}/{n} frames with motion; "
            f"noise sigma ~{noise:.2f}")
