"""ROI mode: the box maths on hand-made masks, compositing, and the bound against full frames."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from steadystyle.backends.base import REGION_STEPS
from steadystyle.cli import build_parser, method_params
from steadystyle.errors import SteadyStyleError
from steadystyle.geometry import snap_to_ladder
from steadystyle.evaluate.synthetic import CallClipConfig, iter_call_clip
from steadystyle.network import VARIANTS, receptive_radius
from steadystyle.stabilize.base import Box
from steadystyle.stabilize.framediff import FrameDiffParams, FrameDiffStabilizer
from steadystyle.stabilize.roi import (align, context_box, foreground_boxes, grow, merge_boxes, plan_regions)
from steadystyle.stylizer import Stylizer


def blobs(*boxes: Box, shape=(60, 80)) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    for b in boxes:
        mask[b.slices()] = 1
    return mask


def test_foreground_boxes_one_per_component():
    mask = blobs(Box(2, 5, 3, 9), Box(30, 41, 50, 52))
    mask[10, 10] = 1
    mask[11, 11] = 1  # diagonal neighbour: the same (8-connected) component
    assert foreground_boxes(mask) == [Box(2, 5, 3, 9), Box(10, 12, 10, 12), Box(30, 41, 50, 52)]
    assert foreground_boxes(np.zeros((5, 5), np.uint8)) == []


def test_grow_align_and_context_clip_to_the_frame():
    assert grow(Box(2, 10, 70, 78), 5, 60, 80) == Box(0, 15, 65, 80)
    assert align(Box(5, 11, 6, 77), 4, 60, 79) == Box(4, 12, 4, 79)  # end clipped, not past the frame
    c = context_box(Box(20, 30, 40, 50), 60, 80, context=8)
    assert c == Box(12, 40, 32, 60) and c.y0 % 4 == 0 and c.x0 % 4 == 0


def test_merge_boxes_overlapping_or_near():
    a, b, far = Box(0, 10, 0, 10), Box(5, 15, 5, 15), Box(0, 10, 40, 50)
    assert merge_boxes([a, b, far]) == [Box(0, 15, 0, 15), far]
    assert merge_boxes([a, far], gap=30) == [Box(0, 10, 0, 50)]
    assert merge_boxes([a, far], gap=29) == [a, far]
    # merging can make a new overlap: all three end up as one
    assert merge_boxes([Box(0, 4, 0, 4), Box(0, 4, 20, 24), Box(0, 4, 3, 21)]) == [Box(0, 4, 0, 24)]


def test_plan_regions_empty_boxes_or_full_frame():
    assert plan_regions(np.zeros((60, 80), np.uint8)) == []
    small = blobs(Box(10, 20, 10, 20), Box(40, 50, 60, 70))
    assert plan_regions(small, pad=0, merge_gap=0) == [Box(10, 20, 10, 20), Box(40, 50, 60, 70)]
    assert plan_regions(small, pad=2, merge_gap=100, max_fraction=0.8) == [Box(8, 52, 8, 72)]
    assert plan_regions(blobs(Box(0, 50, 0, 60)), max_fraction=0.5) is None  # 62 % of the frame
    with pytest.raises(SteadyStyleError):
        plan_regions(small, max_fraction=1.5)


def test_receptive_radius_covers_the_measured_reach():
    # measured by perturbing one pixel (frozen statistics): full reaches 54 px, light 28 px
    assert receptive_radius(VARIANTS["full"]) == 58 and receptive_radius(VARIANTS["light"]) == 30


def local_stylize(frame: np.ndarray, calls: list):
    """A per-pixel 'stylization' (so a region equals the full frame's crop), recording its calls."""

    def stylize(box: Box | None = None) -> np.ndarray:
        calls.append(box)
        s = (255 - frame) // 2 + 7
        return s if box is None else s[box.slices()]

    return stylize


def moving_square_clip(n: int = 12, shape=(60, 80)) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    background = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    frames = []
    for t in range(n):
        f = background.copy()
        f[20:32, 2 + 6 * t:14 + 6 * t] = 255  # moves 6 px a frame: edges wider than the closing erases
        frames.append(f)
    return frames


def test_roi_compositing_equals_the_paper_for_a_local_stylization():
    plain, roi = FrameDiffStabilizer(), FrameDiffStabilizer(FrameDiffParams(roi=True, roi_refresh=5))
    calls: list = []
    region_frames = 0
    for frame in moving_square_clip():
        expected = plain(frame, local_stylize(frame, []))
        calls.clear()
        got = roi(frame, local_stylize(frame, calls))
        assert np.array_equal(got, expected)
        if roi.last_regions:
            region_frames += 1
            assert calls == roi.last_regions and all(b.area < frame.shape[0] * frame.shape[1] / 2 for b in calls)
    assert region_frames >= 6


def test_roi_refreshes_with_a_full_pass_every_n_stylized_frames():
    stabilizer = FrameDiffStabilizer(FrameDiffParams(roi=True, roi_refresh=3))
    kinds = []
    for frame in moving_square_clip(10):
        calls: list = []
        stabilizer(frame, local_stylize(frame, calls))
        kinds.append("full" if calls == [None] else "region")
    assert kinds == ["full", "region", "region", "full", "region", "region", "full", "region", "region", "full"]


def test_roi_refreshes_when_the_picture_changed_a_lot():
    stabilizer = FrameDiffStabilizer(FrameDiffParams(roi=True, roi_refresh=100, roi_refresh_change=0.25))
    frames = moving_square_clip(6)
    for f in frames[:3]:
        stabilizer(f, local_stylize(f, []))
    brighter = frames[3].copy()
    brighter[:, :40] = np.clip(brighter[:, :40].astype(int) + 60, 0, 255).astype(np.uint8)  # half the frame changes
    calls: list = []
    stabilizer(brighter, local_stylize(brighter, calls))
    assert calls == [None]


def test_roi_params_are_validated_and_on_the_command_line():
    with pytest.raises(SteadyStyleError, match="roi_refresh"):
        FrameDiffParams(roi_refresh=0)
    with pytest.raises(SteadyStyleError, match="roi_max_fraction"):
        FrameDiffParams(roi_max_fraction=0)
    parser = build_parser()
    args = parser.parse_args(["live", "--method", "frame-diff", "--roi", "--roi-refresh", "4"])
    params = method_params(args)
    assert params.roi is True and params.roi_refresh == 4
    assert method_params(parser.parse_args(["live", "--method", "frame-diff", "--no-roi"])).roi is False


def test_crops_snap_to_a_ladder_of_few_shapes_and_keep_their_box():
    # 320x240 with 8 rungs: widths are multiples of 40, heights of 32 (the frame's side at the top)
    assert snap_to_ladder(Box(100, 130, 48, 100), 240, 320, 8) == Box(100, 132, 48, 128)
    assert snap_to_ladder(Box(220, 240, 300, 320), 240, 320, 8) == Box(208, 240, 280, 320)  # start moved back
    assert snap_to_ladder(Box(0, 230, 0, 300), 240, 320, 8) == Box(0, 240, 0, 320)
    rng = np.random.default_rng(0)
    shapes = set()
    for h, w in ((240, 320), (150, 203), (480, 640)):
        for _ in range(2000):
            y0, x0 = (int(v) * 4 for v in rng.integers(0, (h // 4, w // 4)))
            box = Box(y0, int(rng.integers(y0 + 1, h + 1)), x0, int(rng.integers(x0 + 1, w + 1)))
            out = snap_to_ladder(box, h, w, 8)
            assert out.y0 <= box.y0 and out.x0 <= box.x0 and out.y1 >= box.y1 and out.x1 >= box.x1
            assert out.y0 % 4 == 0 and out.x0 % 4 == 0 and out.y1 <= h and out.x1 <= w
            shapes.add((h, w, out.height, out.width))
    count = {size: sum(1 for s in shapes if s[:2] == size) for size in ((240, 320), (150, 203), (480, 640))}
    assert count[240, 320] <= 64 and count[480, 640] <= 64  # sides that are multiples of 4: 8 x 8 shapes
    assert count[150, 203] <= 17 * 17  # an unaligned edge: a crop touching it may end there instead


def test_the_network_sees_only_the_crop(tiny_style):
    stylizer = Stylizer(tiny_style, device="cpu")
    seen = []
    stylizer.network.register_forward_pre_hook(lambda module, inputs: seen.append(tuple(inputs[0].shape)))
    frame = np.random.default_rng(1).integers(0, 256, (150, 203, 3), dtype=np.uint8)
    box = Box(61, 83, 97, 118)
    stylizer.stylize_region(frame, box)  # no statistics yet: one full pass that records them
    assert seen == [(1, 3, 152, 204)]
    out = stylizer.stylize_region(frame, box)
    crop = snap_to_ladder(context_box(box, 150, 203, stylizer.context), 150, 203, REGION_STEPS)
    assert stylizer.context >= receptive_radius(stylizer.network.config)
    assert seen[1] == (1, 3, crop.height + (-crop.height) % 4, crop.width + (-crop.width) % 4)
    assert seen[1][2] * seen[1][3] < 0.6 * 150 * 203
    assert out.shape == (22, 21, 3)
    assert np.abs(out.astype(int) - stylizer(frame)[box.slices()]).max() <= 1  # same frame's statistics


def test_roi_stays_within_35_db_of_full_frames_inside_the_mask(tiny_style):
    """The ROI bound on the synthetic call clip: each region's stylization (frozen statistics of
    the last full pass) against a full-frame stylization of the same frame, on the pixels the mask
    composites; pooled PSNR ≥ 35 dB and most stylized frames served by regions."""
    roi, reference = Stylizer(tiny_style, device="cpu"), Stylizer(tiny_style, device="cpu")
    stabilizer = FrameDiffStabilizer(FrameDiffParams(roi=True))
    frames = [f for f, _fg, _moving in iter_call_clip(CallClipConfig(width=160, height=120, seconds=1.2))]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small frames: one thread is faster than two on a busy machine
    try:
        check_clip(frames, roi, reference, stabilizer)
    finally:
        torch.set_num_threads(threads)


def check_clip(frames, roi, reference, stabilizer) -> None:
    """Run ``frames`` through ``stabilizer`` in ROI mode; assert the pooled PSNR bound."""
    sq, count, region_frames = 0.0, 0, 0
    for frame in frames:
        pending = []

        def stylize(box=None):
            if box is None:
                return roi(frame)
            out = roi.stylize_region(frame, box)
            pending.append((box, out, reference(frame)[box.slices()]))
            return out

        stabilizer(frame, stylize)
        region_frames += bool(pending)
        for box, out, ref in pending:
            inside = stabilizer.last_mask[box.slices()] == 0
            d = out[inside].astype(float) - ref[inside]
            sq, count = sq + float((d * d).sum()), count + d.size
    assert region_frames >= 15 and count > 0
    psnr = 10 * math.log10(255 ** 2 / (sq / count))
    assert psnr >= 35.0, f"ROI PSNR inside the mask {psnr:.1f} dB < 35 dB"
