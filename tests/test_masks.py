"""The one home of the equations: the blend, the one closing (square and disc), the composite of a
box, and the one frame check of every stabilization method."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from steadystyle.errors import SteadyStyleError
from steadystyle.frames import FrameError
from steadystyle.stabilize.base import make_stabilizer, method_names
from steadystyle.stabilize.masks import close_mask, composite, grey_level, lerp, put_where


def images(shape=(6, 7, 3), seed=0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, shape, dtype=np.uint8), rng.integers(0, 256, shape, dtype=np.uint8)


def test_lerp_ends_are_exact_and_the_middle_rounds_half_to_even():
    a, b = images()
    assert np.array_equal(lerp(a, b, 0.0), a) and np.array_equal(lerp(a, b, 1.0), b)
    zero, one, full = np.zeros((1, 1, 3), np.uint8), np.ones((1, 1, 3), np.uint8), np.full((1, 1, 3), 255, np.uint8)
    assert lerp(zero, full, 0.5)[0, 0, 0] == 128  # 127.5 → 128 (even)
    assert lerp(zero, one, 0.5)[0, 0, 0] == 0  # 0.5 → 0 (even)
    assert lerp(full, zero, 0.25)[0, 0, 0] == 191  # 255 − 63.75 = 191.25
    out = lerp(a, b, 0.3)
    assert out.dtype == np.uint8 and np.abs(out - (a + 0.3 * (b.astype(float) - a))).max() <= 0.5 + 1e-4


def test_lerp_takes_per_pixel_weights():
    a, b = images()
    t = np.zeros(a.shape[:2] + (1,), np.float32)
    t[2:4, 3:] = 1.0
    t[0, 0] = 0.5
    out = lerp(a, b, t)
    assert np.array_equal(out[2:4, 3:], b[2:4, 3:]) and np.array_equal(out[4:], a[4:])
    assert out[0, 0, 0] == np.rint((int(a[0, 0, 0]) + int(b[0, 0, 0])) / 2)


def test_lerp_refuses_images_of_different_shapes():
    a, _ = images()
    with pytest.raises(SteadyStyleError, match="blend"):
        lerp(a, a[:, :-1], 0.5)


def test_the_disc_closing_bridges_a_narrow_gap_and_keeps_the_outline():
    mask = np.zeros((30, 40), bool)
    mask[10:20, 5:15] = mask[10:20, 18:28] = True  # two squares 3 px apart
    closed = close_mask(mask, 7, 1, 7, 1, disc=True) > 0  # a disc of radius 3
    assert closed[11:19, 15:18].all()  # the gap is bridged (but for the rounded corners of the disc)
    assert (closed >= mask).all() and not closed[:9].any() and not closed[:, 29:].any()  # nothing grown outside
    assert np.array_equal(close_mask(closed, 7, 1, 7, 1, disc=True) > 0, closed)  # a closing is idempotent
    wide = np.zeros((30, 40), bool)
    wide[10:20, 5:15] = wide[10:20, 25:35] = True  # 10 px apart: not bridged
    assert not (close_mask(wide, 7, 1, 7, 1, disc=True) > 0)[10:20, 16:24].any()


def test_disc_and_square_closings_differ_only_by_their_element():
    rng = np.random.default_rng(4)
    mask = rng.random((24, 24)) < 0.2
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    by_hand = cv2.erode(cv2.dilate(mask.astype(np.uint8), disc), disc)
    assert np.array_equal(close_mask(mask, 5, 1, 5, 1, disc=True), by_hand)
    square = cv2.erode(cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)), np.ones((5, 5), np.uint8))
    assert np.array_equal(close_mask(mask, 5, 1, 5, 1), square)
    assert not np.array_equal(by_hand, square)  # the element matters on this mask


def test_the_composite_of_a_box_is_the_full_composite_cut_to_it():
    prev, sty = images((12, 10, 3), seed=1)
    mask = np.random.default_rng(2).integers(0, 2, (12, 10)).astype(np.uint8)
    sl = (slice(3, 9), slice(2, 7))
    assert np.array_equal(composite(prev[sl], sty[sl], mask[sl]), composite(prev, sty, mask)[sl])


@pytest.mark.parametrize("shape,dtype", [((12, 10, 3), np.uint8), ((12, 10, 2), np.float32), ((12, 10), np.uint8)])
def test_put_where_writes_the_masked_pixels_of_a_box_in_place_and_nothing_else(shape, dtype):
    rng = np.random.default_rng(3)
    frame = (rng.random(shape) * 200).astype(dtype)
    src = (rng.random((6, 5) + shape[2:]) * 200).astype(dtype)
    mask = rng.random((6, 5)) > 0.5
    want = frame.copy()
    np.copyto(want[3:9, 2:7], src, where=mask if len(shape) == 2 else mask[..., None])
    put_where(frame[3:9, 2:7], src, mask)  # a strided view of the frame
    assert np.array_equal(frame, want)
    with pytest.raises(SteadyStyleError):
        put_where(frame[3:9, 2:7], src[:5], mask)


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 3), np.float32), np.zeros((4, 4), np.uint8),
                                 np.zeros((4, 4, 4), np.uint8), [[0, 0, 0]]])
def test_grey_level_refuses_what_is_not_a_frame(bad):
    with pytest.raises(FrameError, match="H×W×3 uint8"):
        grey_level(bad)


@pytest.mark.parametrize("method", method_names())
def test_every_method_refuses_a_bad_frame_with_the_one_frame_error(method):
    stab = make_stabilizer(method)
    ok = np.zeros((8, 8, 3), np.uint8)
    for bad in (ok.astype(np.float32), ok[..., 0], np.zeros((8, 8, 4), np.uint8)):
        with pytest.raises(FrameError) as info:
            stab(bad, lambda box=None: ok if box is None else ok[box.slices()])
        assert "\n" not in str(info.value)


@pytest.mark.parametrize("method", method_names())
@pytest.mark.parametrize("shape", [(1, 1), (1, 30), (2, 3), (7, 9), (11, 11), (12, 5)])
def test_every_method_takes_a_moving_frame_of_a_few_pixels(method, shape):
    h, w = shape
    wide = np.random.default_rng(5).integers(0, 256, (h, w + 30, 3)).astype(np.uint8)
    stab = make_stabilizer(method)
    for t in range(8):  # a pan of 3 px a frame: the camera tests, the flows and the phase correlation run
        f = np.ascontiguousarray(wide[:, 3 * t:3 * t + w])
        out = stab(f, lambda box=None, f=f: (255 - f) if box is None else (255 - f)[box.slices()].copy())
        assert out.shape == f.shape and out.dtype == np.uint8


def test_blend_ends_are_exact_and_the_middle_is_within_one_level_of_lerp():
    from steadystyle.stabilize.masks import blend
    a, b = images((40, 50, 3))
    alpha = np.random.default_rng(1).random((40, 50)).astype(np.float32)
    alpha[:10] = 0.0
    alpha[10:20] = 1.0
    out = blend(a, b, alpha)
    assert out.dtype == np.uint8 and np.array_equal(out[:10], a[:10]) and np.array_equal(out[10:20], b[10:20])
    assert np.abs(out.astype(int) - lerp(a, b, alpha[..., None]).astype(int)).max() <= 1
    crop = (slice(5, 30), slice(7, 41))  # a strided view, as the stabilizer passes its box
    assert np.array_equal(blend(a[crop], b[crop], alpha[crop]), out[crop])
    with pytest.raises(SteadyStyleError, match="blend"):
        blend(a, b, alpha[:, :-1])


def test_blend_writes_in_place_into_a_crop_and_into_a_layout_opencv_cannot_write():
    from steadystyle.stabilize.masks import blend
    a, b = images((30, 40, 3))
    alpha = np.random.default_rng(2).random((30, 40)).astype(np.float32)
    want = blend(a, b, alpha)
    big = np.zeros((50, 60, 3), np.uint8)
    big[10:40, 5:45] = a
    crop = big[10:40, 5:45]
    assert blend(crop, b, alpha, out=crop) is crop and np.array_equal(big[10:40, 5:45], want)
    flipped = np.ascontiguousarray(a[::-1])[::-1]  # a negative row stride
    assert blend(flipped, b, alpha, out=flipped) is flipped and np.array_equal(flipped, want)


@pytest.mark.parametrize("bad", [256, 1e308, -1, float("nan")])
def test_a_threshold_beyond_the_grey_range_is_one_line(bad):
    from steadystyle.stabilize.masks import check_threshold
    with pytest.raises(SteadyStyleError, match="0 to 255 grey levels"):
        check_threshold(bad)
    assert check_threshold(255) == 255.0 and check_threshold(0) == 0.0
