"""The synthetic call's palette (RGB) and the drawing helper that paints at supersampled
resolution in output-pixel coordinates (see ``synthetic``).
"""

from __future__ import annotations

import math

import cv2
import numpy as np


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
