"""Tests for the built-in synthetic video-call clip (steadystyle.evaluate.synthetic)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from steadystyle.errors import SteadyStyleError
from steadystyle.evaluate import synthetic
from steadystyle.evaluate.synthetic import (
    CallClip,
    CallClipConfig,
    describe,
    iter_call_clip,
    make_call_clip,
    write_call_clip,
)

KERNEL3 = np.ones((3, 3), np.uint8)


def _dilate(mask: np.ndarray) -> np.ndarray:
    return cv2.dilate(mask.astype(np.uint8), KERNEL3).astype(bool)


@pytest.fixture(scope="module")
def clip() -> CallClip:
    return make_call_clip(CallClipConfig())


@pytest.fixture(scope="module")
def background(clip: CallClip) -> np.ndarray:
    """Pixels never touched by the figure (one pixel of margin for antialiased edges)."""
    return ~_dilate(np.logical_or.reduce(clip.foreground))


def test_shapes_and_dtypes(clip: CallClip) -> None:
    cfg = clip.config
    n = cfg.n_frames
    assert n == 100 and len(clip) == n
    assert clip.fps == 25
    for name in ("frames", "foreground", "moving", "clean"):
        assert len(getattr(clip, name)) == n, name
    for f, fg, mv, c in zip(clip.frames, clip.foreground, clip.moving, clip.clean):
        assert f.shape == (240, 320, 3) and f.dtype == np.uint8
        assert c.shape == (240, 320, 3) and c.dtype == np.uint8
        assert fg.shape == (240, 320) and fg.dtype == np.bool_
        assert mv.shape == (240, 320) and mv.dtype == np.bool_


@pytest.mark.parametrize("size", [(160, 120), (426, 240)])
def test_other_sizes(size: tuple[int, int]) -> None:
    w, h = size
    c = make_call_clip(CallClipConfig(width=w, height=h, seconds=0.4))
    assert len(c) == 10
    assert c.frames[0].shape == (h, w, 3) and c.foreground[0].shape == (h, w)
    assert 0.08 < c.foreground[0].mean() < 0.4


def test_deterministic_for_a_seed_and_different_across_seeds() -> None:
    cfg = CallClipConfig(seconds=0.4)
    a, b = make_call_clip(cfg), make_call_clip(cfg)
    for name in ("frames", "foreground", "moving", "clean"):
        for x, y in zip(getattr(a, name), getattr(b, name)):
            assert np.array_equal(x, y), name
    c = make_call_clip(CallClipConfig(seconds=0.4, seed=1))
    assert not np.array_equal(a.frames[0], c.frames[0])
    assert not np.array_equal(a.clean[0], c.clean[0])  # the room texture depends on the seed
    # the noise is not the same pattern frame after frame
    assert not np.array_equal(a.frames[1].astype(int) - a.clean[1], a.frames[2].astype(int) - a.clean[2])


def test_iter_matches_make() -> None:
    cfg = CallClipConfig(seconds=0.4, seed=3)
    made = make_call_clip(cfg)
    streamed = list(iter_call_clip(cfg))
    assert len(streamed) == len(made) == 10
    for i, (f, fg, mv) in enumerate(streamed):
        assert np.array_equal(f, made.frames[i])
        assert np.array_equal(fg, made.foreground[i])
        assert np.array_equal(mv, made.moving[i])


def test_clean_background_is_identical_in_all_frames(clip: CallClip, background: np.ndarray) -> None:
    assert background.mean() > 0.5
    ref = clip.clean[0][background]
    for c in clip.clean[1:]:
        assert np.array_equal(c[background], ref)


def test_room_has_texture_and_edges(clip: CallClip, background: np.ndarray) -> None:
    grey = cv2.cvtColor(clip.clean[0], cv2.COLOR_RGB2GRAY).astype(np.float32)
    # plenty of strong edges (shelf, books, picture, door) ...
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    strong = np.hypot(gx, gy) > 100
    assert strong[background].mean() > 0.03
    # ... and the plain wall is not flat: fine grain and blotches
    wall = grey[int(0.1 * 240):int(0.3 * 240), int(0.3 * 320):int(0.55 * 320)]
    assert wall.std() > 2.0
    assert np.abs(cv2.Laplacian(wall, cv2.CV_32F)).mean() > 1.0
    # several distinct colours
    q = (clip.clean[0][background] // 32).astype(np.int32)
    assert len(np.unique(q[:, 0] * 64 + q[:, 1] * 8 + q[:, 2])) > 25


def test_foreground_fraction_and_wave(clip: CallClip) -> None:
    frac = np.array([m.mean() for m in clip.foreground])
    assert np.all(frac > 0.10) and np.all(frac < 0.40)
    t = np.arange(len(clip)) / clip.fps
    w0, w1 = clip.config.wave_window
    assert 1.0 < w0 < w1 < 3.0 and w1 - w0 == pytest.approx(1.5)
    during = (t > w0 + 0.4) & (t < w1 - 0.4)
    outside = (t < w0) | (t > w1)
    assert during.sum() >= 10 and outside.sum() >= 40
    assert frac[during].min() > frac[outside].max() + 0.01
    # without a wave the foreground stays at the resting size
    still = make_call_clip(CallClipConfig(seconds=1.0, wave_duration=0.0))
    assert max(m.mean() for m in still.foreground) < frac[during].min()


def test_foreground_is_the_person(clip: CallClip) -> None:
    h, w = clip.foreground[0].shape
    fg = clip.foreground[0]
    assert fg[int(0.47 * h), w // 2]            # the face
    assert fg[h - 1, w // 2]                    # the shirt at the bottom edge
    assert not fg[5, 5] and not fg[5, w - 6]    # the top corners are room
    assert not fg[:, : int(0.15 * w)].any()     # the bookshelf side
    # one connected figure
    n, _ = cv2.connectedComponents(fg.astype(np.uint8))
    assert n == 2


def test_moving_is_true_motion(clip: CallClip) -> None:
    assert not clip.moving[0].any()
    for i in range(1, len(clip)):
        expect = np.any(clip.clean[i] != clip.clean[i - 1], axis=2)
        assert np.array_equal(clip.moving[i], expect), i
    with_motion = sum(bool(m.any()) for m in clip.moving[1:])
    assert with_motion >= 0.9 * (len(clip) - 1)
    # the figure sways: the moving area is not a handful of pixels
    assert np.mean([m.mean() for m in clip.moving[1:]]) > 0.01


def test_moving_stays_on_the_figure(clip: CallClip) -> None:
    for i in range(1, len(clip)):
        union = clip.foreground[i] | clip.foreground[i - 1]
        # antialiased edge pixels (coverage < 0.5) may change just outside the foreground
        assert not (clip.moving[i] & ~_dilate(union)).any(), i


def test_moving_strictly_inside_foreground_without_antialiasing() -> None:
    c = make_call_clip(CallClipConfig(seconds=1.0, supersample=1))
    assert sum(bool(m.any()) for m in c.moving) >= 20
    for i in range(1, len(c)):
        assert not (c.moving[i] & ~(c.foreground[i] | c.foreground[i - 1])).any(), i


def test_talking_and_blinking_move_the_face(clip: CallClip) -> None:
    h, w = clip.foreground[0].shape
    cfg = CallClipConfig(seconds=1.2, sway_px=0.0, nod_px=0.0, wave_duration=0.0, blink_interval=0.8)
    c = make_call_clip(cfg)
    mouth_rows = slice(int(0.47 * h + 14), int(0.47 * h + 34))
    eye_rows = slice(int(0.47 * h - 10), int(0.47 * h + 2))
    mouth_moves = sum(bool(m[mouth_rows].any()) for m in c.moving[1:])
    assert mouth_moves >= 0.5 * (len(c) - 1)
    # with the head still, nothing moves outside the face
    face = np.zeros((h, w), bool)
    face[int(0.47 * h - 40): int(0.47 * h + 40), w // 2 - 32: w // 2 + 32] = True
    for m in c.moving:
        assert not (m & ~face).any()
    assert any(m[eye_rows].any() for m in c.moving)  # a blink starts within 0.8 s


def _noise_std(cfg: CallClipConfig) -> float:
    c = make_call_clip(cfg)
    bg = ~_dilate(np.logical_or.reduce(c.foreground))
    d = np.stack([f.astype(np.float32) - k for f, k in zip(c.frames, c.clean)])
    return float(d[:, bg].std())


@pytest.mark.parametrize("sigma", [2.0, 6.0])
def test_noise_level(sigma: float) -> None:
    measured = _noise_std(CallClipConfig(seconds=0.2, noise_sigma=sigma))
    assert measured == pytest.approx(sigma, rel=0.2)


def test_noise_is_independent_between_frames(clip: CallClip, background: np.ndarray) -> None:
    n1 = clip.frames[1].astype(np.float32)[background] - clip.clean[1][background]
    n2 = clip.frames[2].astype(np.float32)[background] - clip.clean[2][background]
    assert abs(np.corrcoef(n1.ravel(), n2.ravel())[0, 1]) < 0.05
    assert abs(n1.mean()) < 0.1


def test_zero_noise_gives_clean_frames() -> None:
    c = make_call_clip(CallClipConfig(seconds=0.2, noise_sigma=0.0))
    for f, k in zip(c.frames, c.clean):
        assert np.array_equal(f, k)


def test_flicker_changes_everything_when_on() -> None:
    c = make_call_clip(CallClipConfig(seconds=0.4, flicker=0.05))
    assert np.mean([m.mean() for m in c.moving[1:]]) > 0.5
    off = make_call_clip(CallClipConfig(seconds=0.4))
    assert np.mean([m.mean() for m in off.moving[1:]]) < 0.1


def test_figure_colour_is_premultiplied() -> None:
    """Figure colour must be zero where coverage is zero, or the room would change there."""
    cfg = CallClipConfig()
    motion = synthetic._Motion(cfg, np.random.default_rng([cfg.seed, 2]))
    w0, w1 = cfg.wave_window
    for t in (0.0, 0.5, (w0 + w1) / 2, w0 + 0.2, w1 - 0.1):
        _, col, cov = synthetic._render_person(motion.pose(t), cfg.width, cfg.height, cfg.supersample)
        assert not col[cov == 0].any()


def test_invalid_config_raises() -> None:
    with pytest.raises(SteadyStyleError):
        CallClipConfig(width=10)
    with pytest.raises(SteadyStyleError):
        CallClipConfig(noise_sigma=-1)
    with pytest.raises(SteadyStyleError):
        CallClipConfig(fps=0)


def test_describe(clip: CallClip) -> None:
    text = describe(clip)
    assert "\n" not in text
    assert "100 frames" in text and "320x240" in text and "25 fps" in text


def test_write_call_clip(tmp_path) -> None:
    cfg = CallClipConfig(seconds=0.2)
    n = write_call_clip(tmp_path / "clip", cfg)
    assert n == 5
    made = make_call_clip(cfg)
    back = cv2.cvtColor(cv2.imread(str(tmp_path / "clip" / "frame_00003.png")), cv2.COLOR_BGR2RGB)
    assert np.array_equal(back, made.frames[3])
    mask = cv2.imread(str(tmp_path / "clip" / "foreground_00003.png"), cv2.IMREAD_GRAYSCALE)
    assert np.array_equal(mask > 127, made.foreground[3])


def test_rendering_does_not_depend_on_the_drawing_box() -> None:
    """The figure is drawn in a per-frame box; a full-frame box must give the same pixels."""
    cfg = CallClipConfig(width=426, height=240)
    motion = synthetic._Motion(cfg, np.random.default_rng([cfg.seed, 2]))
    w0, w1 = cfg.wave_window
    for t in (0.3, (w0 + w1) / 2):
        pose = motion.pose(t)
        (x0, y0, x1, y1), col, cov = synthetic._render_person(pose, cfg.width, cfg.height, 4)
        _, col_full, cov_full = synthetic._render_person(
            pose, cfg.width, cfg.height, 4, box=(0, 0, cfg.width, cfg.height))
        assert not cov_full[:y0].any() and not cov_full[:, :x0].any() and not cov_full[:, x1:].any()
        assert np.array_equal(cov_full[y0:y1, x0:x1], cov)
        assert np.array_equal(col_full[y0:y1, x0:x1], col)
