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

from .scene_person import _Motion, _render_person  # the person (scene_paint: palette and painter)
from .scene_room import _render_room  # the room

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
