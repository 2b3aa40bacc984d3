"""The synthetic call's person: pose, motion (sway, nod, blinks, talking, a wave) and its
rendering with exact coverage (see ``synthetic``).
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .scene_paint import (
    SKIN, SKIN_SHADE, HAIR, HAIR_LIGHT, SHIRT, SHIRT_STRIPE, SHIRT_SHADE, COLLAR, LIPS, MOUTH_IN,
    TEETH, EYE_WHITE, IRIS, PUPIL, HEAD_Y, SHOULDER_Y, _Painter, _shade,
)

if TYPE_CHECKING:
    from .synthetic import CallClipConfig


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
