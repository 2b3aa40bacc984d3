"""Evaluation measures on hand-made frames, and the base-vs-fine-tuned model comparison."""

import cv2
import numpy as np
import pytest
import torch

from steadystyle.evaluate.groundtruth import exact_ghosts, output_ages
from steadystyle.evaluate.metrics import (ghost_fraction, mean_static_flicker, seam_energy, sharpness, static_flicker,
                                          static_mask)
from steadystyle.evaluate.synthetic import CallClipConfig, make_call_clip
from steadystyle.evaluate.temporal import compare_models, markdown_table, static_masks
from steadystyle.evaluate.warping import PairFlow, input_flows, warping_error
from steadystyle.network import VARIANTS, TransformerNet
from steadystyle.video import VideoWriter
from steadystyle.weights import save_model


def texture(h=48, w=64, seed=0):
    """Smooth random texture (H×W×3 uint8) that optical flow can track."""
    noise = np.random.default_rng(seed).integers(0, 256, (h, w, 3)).astype(np.float32)
    return np.clip(cv2.GaussianBlur(noise, (0, 0), 2.0) * 3 - 255, 0, 255).astype(np.uint8)


def test_static_flicker_counts_only_static_pixels():
    a = np.zeros((2, 2, 3), np.uint8)
    b = a.copy()
    b[0, 0] = 30  # changed, but not static
    b[1, 1] = 6   # changed and static
    static = np.array([[False, True], [True, True]])
    assert static_flicker(a, b, static) == 18 / 9  # 3 static pixels × 3 channels; one is off by 6
    assert np.isnan(static_flicker(a, b, np.zeros((2, 2), bool)))
    assert mean_static_flicker([a, b, b], [static, static, static]) == (2.0 + 0.0) / 2


def test_static_mask_comes_from_the_input_alone():
    rng = np.random.default_rng(1)
    base = np.full((40, 40, 3), 120.0)
    a = np.clip(base + rng.normal(0, 2, base.shape), 0, 255).astype(np.uint8)  # camera noise only
    b = np.clip(base + rng.normal(0, 2, base.shape), 0, 255).astype(np.uint8)
    assert static_mask(a, b).all()
    b[10:20, 10:20] = 250  # something moved
    m = static_mask(a, b)
    assert not m[8:22, 8:22].any()  # the change and its surroundings are not static
    assert m[:, 32:].all() and m[34:, :].all()


def test_ghost_fraction_counts_blurred_stale_patches():
    s = np.full((40, 40, 3), 100, np.uint8)
    assert ghost_fraction(s, s) == 0.0
    o = s.copy()
    o[10:20, 10:20] = 220  # a stale 10×10 patch, 6.25 % of the frame
    g = ghost_fraction(o, s)
    assert 0.0625 < g < (16 * 16) / 1600  # the patch, grown by the blur by less than 3 px each side
    speck = s.copy()
    speck[5, 5] = 255  # brush texture of one pixel is blurred away
    assert ghost_fraction(speck, s) == 0.0


def test_seams_measure_the_edge_a_composite_adds():
    old = np.full((32, 32, 3), 100, np.uint8)
    new = np.full((32, 32, 3), 160, np.uint8)          # per-frame stylization: flat
    hard = old.copy()
    hard[:, :16] = 160                                  # left half updated, right half kept
    assert seam_energy(old, hard, new) > 0
    ramp = old.astype(np.float32)
    ramp[:, :24] += 60 * np.clip((24 - np.arange(24)) / 16, 0, 1)[None, :, None]  # feathered update
    soft = np.rint(ramp).astype(np.uint8)
    assert 0 < seam_energy(old, soft, new) < seam_energy(old, hard, new)
    assert seam_energy(old, new, new) == 0.0            # everything updated: no boundary, no seam
    assert seam_energy(old, old, new) == 0.0            # nothing updated


def test_warping_error_of_a_constant_offset_on_a_still_scene():
    f = texture()
    flows = input_flows([f, f])
    assert flows[0].reliable.all() and np.abs(flows[0].forward).max() < 0.05
    brighter = np.clip(f.astype(int) + 10, 0, 255).astype(np.uint8)
    unclipped = f <= 245
    expected = ((brighter.astype(float) - f) / 255) ** 2
    e = warping_error(f, brighter, PairFlow(np.zeros((48, 64, 2), np.float32), np.ones((48, 64), bool)))
    assert e == pytest.approx(expected.sum(axis=2).mean(), rel=1e-5)
    assert unclipped.mean() > 0.5 and e == pytest.approx(3 * (10 / 255) ** 2, rel=0.5)


def test_warping_error_follows_the_motion_of_the_input():
    big = texture(64, 96)
    frames = [big[8:56, 8 + s:72 + s] for s in (0, 2)]  # the camera pans: content moves 2 px left
    pair = input_flows(frames)[0]
    inner = (slice(8, -8), slice(8, -8))
    assert np.allclose(pair.forward[inner][..., 0], -2, atol=0.5) and pair.reliable[inner].mean() > 0.9
    assert warping_error(frames[0], frames[1], pair) < 0.2 * warping_error(frames[0], frames[0] * 0 + frames[1][:, ::-1], pair)
    assert warping_error(frames[0], frames[1], pair) < 2e-3  # a consistent output warps onto itself


def test_moving_region_error_counts_only_the_pixels_whose_input_moved():
    bg, patch = texture(64, 96, seed=3), texture(24, 24, seed=4)
    frames = []
    for x in (30, 33):  # a patch moves 3 px right over a still background
        f = bg.copy()
        f[20:44, x:x + 24] = patch
        frames.append(f)
    pair = input_flows(frames)[0]
    assert pair.moving[26:38, 40:50].all() and not pair.moving[:12].any() and not pair.moving[:, 70:].any()
    frozen = [frames[0], frames[0]]  # an output that never changes: no error on the still background …
    assert warping_error(*frozen, pair) < warping_error(*frozen, pair, moving=True)
    assert warping_error(*frames, pair, moving=True) < 0.1 * warping_error(*frozen, pair, moving=True)  # … the moving part
    still = PairFlow(np.zeros((64, 96, 2), np.float32), np.ones((64, 96), bool))
    assert np.isnan(warping_error(frames[0], frames[0], still, moving=True))  # nothing moved: no value


def test_sharpness_falls_with_blur_and_with_a_blend_of_two_textures():
    a, b = texture(64, 96, seed=5), texture(64, 96, seed=6)
    crisp = sharpness(a)
    assert crisp > 0 and sharpness(np.full_like(a, 128)) == 0.0
    assert sharpness(cv2.GaussianBlur(a, (0, 0), 1.0)) < 0.7 * crisp
    mix = ((a.astype(np.uint16) + b) // 2).astype(np.uint8)  # two unrelated textures averaged
    assert sharpness(mix) < 0.75 * 0.5 * (crisp + sharpness(b))


def test_exact_ghosts_and_lag_on_hand_made_ground_truth():
    clean = [np.zeros((10, 10, 3), np.uint8) for _ in range(3)]
    clean[2][:5, :5] = 200  # the true scene changes in a quarter of the frame at t=2
    foreground = [np.zeros((10, 10), bool)] * 2 + [clean[2][..., 0] > 0]
    frozen = [np.full((10, 10, 3), 50, np.uint8)] * 3
    ghosts, lags = exact_ghosts(frozen, clean, foreground)
    assert ghosts == [0.0, 0.0, 0.25] and lags == [0.0, 0.0, 2.0]
    following = [frozen[0], frozen[0], np.where(clean[2] > 0, 90, 50).astype(np.uint8)]
    ghosts, lags = exact_ghosts(following, clean, foreground)
    assert ghosts == [0.0, 0.0, 0.0] and lags == [0.0, 0.0, 0.0]
    assert [a.max() for a in output_ages(frozen)] == [0, 1, 2]


def _constant_model(path):
    """A light network whose output does not depend on its input (zero last layer)."""
    torch.manual_seed(1)
    net = TransformerNet(VARIANTS["light"])
    with torch.no_grad():
        net.deconv3.conv2d.weight.zero_()
        net.deconv3.conv2d.bias.fill_(100.0)
    return save_model(net.eval(), path, {"name": "constant", "painting": "none.jpg"})


def test_compare_models_tells_a_flickering_model_from_a_steady_one(tmp_path, tiny_style):
    clip = make_call_clip(CallClipConfig(seconds=0.3))
    with VideoWriter(tmp_path / "call.mkv", 320, 240, 25, crf=0) as writer:
        for f in clip.frames:
            writer.write(f)
    style = tmp_path / "style.png"
    cv2.imwrite(str(style), np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    steady = _constant_model(tmp_path / "steady.safetensors")
    report = compare_models({"tiny": tiny_style, "steady": steady}, style, [tmp_path / "call.mkv"], max_frames=5,
                            max_side=160, style_every=2)
    row = report["clips"][0]
    assert row["frames"] == 5 and row["size"] == "160×120" and row["static_share"] > 0.5
    assert row["steady"]["static_flicker"] == 0.0 < row["tiny"]["static_flicker"]
    assert row["tiny"]["style_loss"] > 0 and row["steady"]["style_loss"] != row["tiny"]["style_loss"]
    assert "| call.mkv | 5 |" in markdown_table(report)


def test_static_masks_exclude_a_jumping_square():
    background = np.random.default_rng(0).integers(60, 180, (48, 64, 3), dtype=np.uint8)
    frames = []
    for t in range(3):
        f = background.copy()
        f[10:30, 5 + 15 * t:25 + 15 * t] = 255
        frames.append(f)
    masks = static_masks(frames)
    assert len(masks) == 3 and not masks[0].any()
    for t in (1, 2):
        moved = np.zeros((48, 64), bool)
        moved[10:30, 5 + 15 * (t - 1):25 + 15 * t] = True
        assert not (masks[t] & moved).any()
        assert masks[t][40:, :].all()
