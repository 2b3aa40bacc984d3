"""The synthetic call's room: wall texture, bookshelf, picture, door and plant, rendered once
per clip (see ``synthetic``).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .scene_paint import (
    WALL, MOULDING, WOOD, WOOD_DARK, DOOR, DOOR_TRIM, BOOK_COLOURS, _Painter, _jitter, _shade,
)


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
