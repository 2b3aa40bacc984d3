"""Evaluation: flicker metric and the base-vs-fine-tuned comparison on a clip."""

import cv2
import numpy as np

from steadystyle.evaluate.metrics import mean_static_flicker, static_flicker
from steadystyle.evaluate.synthetic import CallClipConfig, make_call_clip
from steadystyle.evaluate.temporal import compare_models, markdown_table, static_masks
from steadystyle.video import VideoWriter


def test_static_flicker_counts_only_static_pixels():
    a = np.zeros((2, 2, 3), np.uint8)
    b = a.copy()
    b[0, 0] = 30  # changed, but not static
    b[1, 1] = 6   # changed and static
    static = np.array([[False, True], [True, True]])
    assert static_flicker(a, b, static) == 18 / 9  # 3 static pixels × 3 channels; one is off by 6
    assert np.isnan(static_flicker(a, b, np.zeros((2, 2), bool)))
    assert mean_static_flicker([a, b, b], [static, static, static]) == (2.0 + 0.0) / 2


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
        assert masks[t][42:, :].all() and masks[t].mean() > 0.3  # the closing grows foreground by ~8 px


def test_compare_models_reports_flicker_and_style(tmp_path, tiny_style):
    clip = make_call_clip(CallClipConfig(seconds=0.3))
    with VideoWriter(tmp_path / "call.mkv", 320, 240, 25, crf=0) as writer:
        for f in clip.frames:
            writer.write(f)
    style = tmp_path / "style.png"
    cv2.imwrite(str(style), np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    report = compare_models({"a": tiny_style, "b": tiny_style}, style, [tmp_path / "call.mkv"], max_frames=5,
                            max_side=160, style_every=2)
    row = report["clips"][0]
    assert row["frames"] == 5 and row["size"] == "160×120"
    assert row["a"] == row["b"] and row["a"]["static_flicker"] > 0 and row["a"]["style_loss"] > 0
    assert "| call.mkv | 5 |" in markdown_table(report)
