"""The paper's stabilizer (Xiong, Weber & Hu, ICICIP 2018), step by step on hand-made frames.

Masks are written with 1 = background (keep the previous output), 0 = foreground (re-stylize).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from steadystyle.errors import SteadyStyleError
from steadystyle.stabilize import FrameDiffParams, FrameDiffStabilizer, background_mask, close_mask, composite, grey_level

# An independent PyTorch implementation, kept as a test oracle for the one real implementation.
from framediff_oracle import (
    TorchFrameDiffStabilizer,
    background_mask_torch,
    close_mask_torch,
    composite_torch,
    grey_level_torch,
)

RAW = {"dilate_iterations": 0, "erode_iterations": 0}  # no closing: the raw mask B


def grid(text: str) -> np.ndarray:
    """A 0/1 mask written as rows of digits."""
    return np.array([[int(c) for c in row] for row in text.split()], dtype=np.uint8)


def rgb(grey: np.ndarray) -> np.ndarray:
    """H×W grey values -> H×W×3 uint8 frame with R = G = B (so F equals the value exactly)."""
    return np.repeat(np.asarray(grey, dtype=np.uint8)[..., None], 3, axis=2)


def to_torch(frame: np.ndarray) -> torch.Tensor:
    """H×W×3 uint8 -> 1×3×H×W float32 0–255."""
    return torch.from_numpy(frame).permute(2, 0, 1)[None].to(torch.float32)


class Painter:
    """A stylize() stand-in: returns a uniform frame of value 10·t at call t and counts calls."""

    def __init__(self, shape: tuple[int, ...]):
        self.shape = shape
        self.calls = 0

    def __call__(self) -> np.ndarray:
        self.calls += 1
        return np.full(self.shape, 10 * self.calls, np.uint8)


# ----------------------------------------------------------------- Eq. 1: grey level


def test_grey_level_is_the_mean_of_r_g_b():
    frame = np.array([[[0, 0, 0], [255, 255, 255]], [[10, 20, 60], [1, 1, 2]]], dtype=np.uint8)
    f = grey_level(frame)
    assert f.dtype == np.float32 and f.shape == (2, 2)
    np.testing.assert_array_equal(f, np.array([[0, 255], [30, np.float32(4) / np.float32(3)]], np.float32))


def test_grey_level_torch_equals_numpy_bit_for_bit_for_every_channel_sum():
    # every channel sum 0..765 occurs, plus random pixels
    sums = np.arange(766)
    r = np.minimum(sums, 255)
    g = np.minimum(sums - r, 255)
    b = sums - r - g
    frame = np.stack([r, g, b], axis=-1).astype(np.uint8).reshape(1, 766, 3)
    rand = np.random.default_rng(1).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    for f in (frame, rand):
        expected = grey_level(f)
        got = grey_level_torch(to_torch(f))[0, 0].numpy()
        assert got.tobytes() == expected.tobytes()


# ----------------------------------------------------------------- Eqs. 2–3: D and B


def test_frame_difference_and_background_mask_on_an_8x8_frame():
    prev = np.array([[50 + 10 * i + j for j in range(8)] for i in range(8)])
    d = np.array(
        [
            [0, 0, 0, 0, 0, 0, 0, 0],
            [0, 4, 5, 0, 0, 0, 0, 0],
            [0, -4, -5, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 3, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 90, 90, 0],
            [0, 0, 0, 0, 0, 90, -60, 0],
            [0, 0, 0, 0, 0, 0, 0, 1],
        ]
    )
    cur = prev + d
    f_prev, f_cur = grey_level(rgb(prev)), grey_level(rgb(cur))
    np.testing.assert_array_equal(f_cur - f_prev, d.astype(np.float32))  # D = F(t) − F(t−1)
    expected_b = np.array(
        [
            [1, 1, 1, 1, 1, 1, 1, 1],
            [1, 1, 0, 1, 1, 1, 1, 1],
            [1, 1, 0, 1, 1, 1, 1, 1],
            [1, 1, 1, 1, 1, 1, 1, 1],
            [1, 1, 1, 1, 1, 1, 1, 1],
            [1, 1, 1, 1, 1, 0, 0, 1],
            [1, 1, 1, 1, 1, 0, 0, 1],
            [1, 1, 1, 1, 1, 1, 1, 1],
        ],
        dtype=np.uint8,
    )
    b = background_mask(f_prev, f_cur, threshold=4)
    assert b.dtype == np.uint8
    np.testing.assert_array_equal(b, expected_b)
    bt = background_mask_torch(torch.from_numpy(f_prev)[None, None], torch.from_numpy(f_cur)[None, None], 4)
    np.testing.assert_array_equal(bt[0, 0].numpy().astype(np.uint8), expected_b)


def test_threshold_edge_equal_is_background_a_hair_above_is_foreground():
    t = 4.0
    zero = np.zeros((1, 3), np.float32)
    cur = np.array([[t, -t, np.nextafter(np.float32(t), np.float32(np.inf))]], np.float32)
    np.testing.assert_array_equal(background_mask(zero, cur, t), [[1, 1, 0]])
    bt = background_mask_torch(torch.from_numpy(zero)[None, None], torch.from_numpy(cur)[None, None], t)
    np.testing.assert_array_equal(bt[0, 0].numpy(), [[True, True, False]])
    # on real frames: grey 100 -> 104 is |D| = T, 100 -> 105 (or 104⅓: one channel +1) is above
    prev = rgb(np.full((1, 3), 100))
    cur = rgb(np.array([[104, 105, 104]]))
    cur[0, 2, 0] += 1
    np.testing.assert_array_equal(background_mask(grey_level(prev), grey_level(cur), t), [[1, 0, 0]])
    # T = 0: only exactly unchanged pixels are background
    np.testing.assert_array_equal(background_mask(zero, np.array([[0, 1e-6, 0]], np.float32), 0), [[1, 0, 1]])


# ----------------------------------------------------------------- Eq. 4: closing


def test_closing_with_3x3_kernels_removes_specks_and_keeps_blocks():
    b = grid(
        """
        11111111
        10111111
        11111111
        11100011
        11100011
        11100011
        11111111
        00111111
        """
    )
    expected = grid(
        """
        11111111
        11111111
        11111111
        11100011
        11100011
        11100011
        11111111
        11111111
        """
    )
    kw = {"dilate_kernel": 3, "dilate_iterations": 1, "erode_kernel": 3, "erode_iterations": 1}
    np.testing.assert_array_equal(close_mask(b, **kw), expected)
    np.testing.assert_array_equal(close_mask_torch(torch.from_numpy(b)[None, None], **kw)[0, 0].numpy(), expected)


def test_paper_closing_shrinks_by_2_then_grows_by_10():
    # 5×5 foreground block in the corner, one noise pixel at (14, 14).  Dilating B by 3×3 twice
    # leaves the block's 3×3 core (the frame edge does not eat it) and removes the speck;
    # eroding B by 5×5 five times grows the core by 10 pixels: rows and columns 0..12.
    b = np.ones((16, 16), np.uint8)
    b[0:5, 0:5] = 0
    b[14, 14] = 0
    expected = grid(
        """
        0000000000000111
        0000000000000111
        0000000000000111
        0000000000000111
        0000000000000111
        0000000000000111
        0000000000000111
        0000000000000111
        0000000000000111
        0000000000000111
        0000000000000111
        0000000000000111
        0000000000000111
        1111111111111111
        1111111111111111
        1111111111111111
        """
    )
    np.testing.assert_array_equal(close_mask(b), expected)
    np.testing.assert_array_equal(close_mask_torch(torch.from_numpy(b)[None, None])[0, 0].numpy(), expected)


def test_border_outside_the_frame_is_neither_foreground_nor_background():
    # A 3-row foreground band on the top edge (rows 0–2, columns 5–10).  If the outside counted as
    # background, dilating B twice would erase it; as in OpenCV it counts as nothing, so row 0,
    # columns 7–8 survive and five 5×5 erosions grow them to rows 0–10, the full width.
    b = np.ones((16, 16), np.uint8)
    b[0:3, 5:11] = 0
    expected = np.vstack([np.zeros((11, 16), np.uint8), np.ones((5, 16), np.uint8)])
    np.testing.assert_array_equal(close_mask(b), expected)
    np.testing.assert_array_equal(close_mask_torch(torch.from_numpy(b)[None, None])[0, 0].numpy(), expected)
    # and it is what OpenCV's default border gives
    k3, k5 = np.ones((3, 3), np.uint8), np.ones((5, 5), np.uint8)
    np.testing.assert_array_equal(cv2.erode(cv2.dilate(b, k3, iterations=2), k5, iterations=5), expected)
    # the erosion's side: a background pixel on the edge stays background (outside is not foreground)
    top = np.ones((16, 16), np.uint8)
    np.testing.assert_array_equal(close_mask(top), top)
    np.testing.assert_array_equal(close_mask_torch(torch.from_numpy(top)[None, None])[0, 0].numpy(), top)


def test_closing_accepts_bool_masks_and_zero_iterations_is_identity():
    b = np.random.default_rng(2).random((9, 11)) < 0.5
    np.testing.assert_array_equal(close_mask(b, **RAW), b.astype(np.uint8))
    t = torch.from_numpy(b)[None, None]
    np.testing.assert_array_equal(close_mask_torch(t, **RAW).numpy(), t.numpy())
    np.testing.assert_array_equal(close_mask(b), close_mask(b.astype(np.uint8)))


# ----------------------------------------------------------------- Eq. 5: composite


def test_composite_takes_previous_output_on_background_and_stylization_elsewhere():
    prev = np.array([[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]], np.uint8)
    sty = np.array([[[101, 102, 103], [104, 105, 106]], [[107, 108, 109], [110, 111, 112]]], np.uint8)
    mask = np.array([[1, 0], [0, 1]], np.uint8)
    expected = np.array([[[1, 2, 3], [104, 105, 106]], [[107, 108, 109], [10, 11, 12]]], np.uint8)
    np.testing.assert_array_equal(composite(prev, sty, mask), expected)
    got = composite_torch(to_torch(prev), to_torch(sty), torch.from_numpy(mask)[None, None].bool())
    np.testing.assert_array_equal(got[0].permute(1, 2, 0).numpy().astype(np.uint8), expected)


# ----------------------------------------------------------------- the stabilizer over time


def test_output_follows_the_paper_over_three_frames():
    # a bright pixel moves right one pixel per frame over a flat background; no closing
    frames = []
    for col in (2, 3, 4):
        g = np.full((8, 8), 50)
        g[2, col] = 200
        frames.append(rgb(g))
    stab = FrameDiffStabilizer(FrameDiffParams(threshold=8, **RAW))
    paint = Painter(frames[0].shape)  # S(t) = 10·t everywhere
    outs = [stab(f, paint) for f in frames]
    expected_o3 = np.full((8, 8), 10)
    expected_o3[2] = [10, 10, 20, 30, 30, 10, 10, 10]  # (2,2) changed at t=2 only: keeps S(2)
    np.testing.assert_array_equal(outs[0], rgb(np.full((8, 8), 10)))  # O(1) = S(1)
    np.testing.assert_array_equal(outs[2], rgb(expected_o3))
    assert stab.last_foreground_fraction == 2 / 64
    np.testing.assert_array_equal(stab.last_mask[2], [1, 1, 1, 0, 0, 1, 1, 1])


def _moving_square_clip(n: int, h: int = 32, w: int = 64, seed: int = 3) -> list[np.ndarray]:
    """Textured static background with ±2 grey-level noise; a flat bright 10×10 square moving right 6 px/frame.

    The paper's closing first dilates B by 3×3 twice, which erases any foreground thinner than
    5 px: the square's leading and trailing strips (6 px) must be wider than that to register.
    """
    rng = np.random.default_rng(seed)
    background = rng.integers(40, 100, (h, w, 3)).astype(np.int16)
    frames = []
    for t in range(n):
        f = background + rng.integers(-2, 3, (h, w, 3))
        f[10:20, 2 + 6 * t : 12 + 6 * t] = 250
        frames.append(np.clip(f, 0, 255).astype(np.uint8))
    return frames


def test_static_background_keeps_the_first_stylization_moving_pixels_take_the_new_one():
    frames = _moving_square_clip(5)
    stab = FrameDiffStabilizer()  # the paper's defaults
    paint = Painter(frames[0].shape)  # S(t) = 10·t everywhere
    for f in frames:
        out = stab(f, paint)
    assert paint.calls == 5
    # the last step's foreground: strips at columns 20–25 (uncovered) and 30–35 (covered), cores
    # 22–23 and 32–33 after the dilations, grown by 10 by the erosions: columns 12–43, rows 2–27
    expected = np.full((32, 64), 10)
    expected[2:28, 12:44] = 50
    # columns 44– never moved: S(1) = 10 there, although S(t) changed at every frame;
    # columns 0–11 were foreground at earlier steps only and keep that step's stylization
    np.testing.assert_array_equal(out[:, 12:], rgb(expected)[:, 12:])
    assert set(np.unique(out[:, :12]).tolist()) <= {10, 20, 30, 40}
    assert (out[10:20, 2:12] >= 20).all()  # the square's first position was re-stylized after it left
    np.testing.assert_array_equal(stab.last_mask, (expected != 50).astype(np.uint8))
    assert 0 < stab.last_foreground_fraction < 1


def test_stylize_is_not_called_when_nothing_moves():
    rng = np.random.default_rng(4)
    still = rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)
    paint = Painter(still.shape)
    stab = FrameDiffStabilizer()
    first = stab(still, paint)
    for _ in range(4):  # identical frames, then sub-threshold noise (|D| ≤ 2 < T)
        np.testing.assert_array_equal(stab(still, paint), first)
    noisy = np.clip(still.astype(np.int16) + rng.integers(-2, 3, still.shape), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(stab(noisy, paint), first)
    assert paint.calls == 1
    assert stab.last_foreground_fraction == 0.0 and stab.last_mask.all()
    moved = still.copy()
    moved[3:9, 2:8] = 255 - moved[3:9, 2:8]  # a 6×6 patch changes (a single pixel would be closed away)
    moved[3:9, 2:8, 0] = np.where(still[3:9, 2:8, 0] > 127, 0, 255)
    stab(moved, paint)
    assert paint.calls == 2 and stab.last_foreground_fraction > 0


def test_torch_stylize_is_not_called_when_nothing_moves():
    still = to_torch(np.random.default_rng(5).integers(0, 256, (12, 10, 3), dtype=np.uint8))
    calls = []

    def paint() -> torch.Tensor:
        calls.append(1)
        return torch.full_like(still, 10.0 * len(calls))

    stab = TorchFrameDiffStabilizer()
    first = stab(still, paint)
    for _ in range(3):
        assert torch.equal(stab(still.clone(), paint), first)
    assert len(calls) == 1 and stab.last_foreground_fraction == 0.0


def test_first_frame_reset_and_returned_frames_are_independent():
    frames = _moving_square_clip(3)
    stab = FrameDiffStabilizer()
    paint = Painter(frames[0].shape)
    out = stab(frames[0], paint)
    assert stab.last_mask is None and stab.last_foreground_fraction == 1.0
    out[:] = 0  # scribbling on a returned frame does not touch the stabilizer's state
    np.testing.assert_array_equal(stab(frames[0], paint), np.full(frames[0].shape, 10, np.uint8))
    stab.reset()
    small = np.zeros((4, 4, 3), np.uint8)
    np.testing.assert_array_equal(stab(small, lambda: np.full((4, 4, 3), 7, np.uint8)), np.full((4, 4, 3), 7))
    assert stab.last_mask is None


# ----------------------------------------------------------------- NumPy and torch agree


def _noisy_clip(rng: np.random.Generator, h: int, w: int, n: int, noise: int) -> list[np.ndarray]:
    base = rng.integers(0, 256, (h, w, 3)).astype(np.int16)
    frames = []
    for t in range(n):
        f = base + rng.integers(-noise, noise + 1, (h, w, 3))
        y, x = rng.integers(0, h), rng.integers(0, w)
        f[y : y + max(1, h // 4), x : x + max(1, w // 4)] = rng.integers(0, 256, 3)  # a moving patch
        frames.append(np.clip(f, 0, 255).astype(np.uint8))
    return frames


PARAM_SETS = [
    FrameDiffParams(),
    FrameDiffParams(threshold=0),
    FrameDiffParams(threshold=2.5, **RAW),
    FrameDiffParams(threshold=4, dilate_kernel=3, dilate_iterations=1, erode_kernel=3, erode_iterations=1),
    FrameDiffParams(threshold=6, dilate_kernel=5, dilate_iterations=2, erode_kernel=7, erode_iterations=1),
    FrameDiffParams(threshold=13, dilate_kernel=1, dilate_iterations=3, erode_kernel=3, erode_iterations=3),
]


def _run_both(params: FrameDiffParams, clips: list[list[np.ndarray]], device: str) -> int:
    """Run one NumPy stabilizer per stream and one torch stabilizer on the batch; return foreground count."""
    rng = np.random.default_rng(7)
    n, (h, w, _) = len(clips), clips[0][0].shape
    numpy_stabs = [FrameDiffStabilizer(params) for _ in range(n)]
    torch_stab = TorchFrameDiffStabilizer(params)
    foreground = 0
    for t in range(len(clips[0])):
        stylized = rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8)
        outs = [s(clips[i][t], lambda i=i: stylized[i]) for i, s in enumerate(numpy_stabs)]
        batch = torch.cat([to_torch(c[t]) for c in clips]).to(device)
        sty_t = torch.from_numpy(stylized).permute(0, 3, 1, 2).to(torch.float32).to(device)
        out_t = torch_stab(batch, lambda: sty_t).cpu()
        np.testing.assert_array_equal(out_t.permute(0, 2, 3, 1).numpy(), np.stack(outs).astype(np.float32))
        if t:
            mask_t = torch_stab.last_mask.cpu()[:, 0].numpy().astype(np.uint8)
            np.testing.assert_array_equal(mask_t, np.stack([s.last_mask for s in numpy_stabs]))
            foreground += int((mask_t == 0).sum())
    return foreground


@pytest.mark.parametrize("params", PARAM_SETS, ids=lambda p: f"T{p.threshold:g}")
def test_numpy_and_torch_give_identical_masks_and_outputs(params):
    rng = np.random.default_rng(int(params.threshold * 10) + params.erode_kernel)
    total = 0
    for h, w in [(1, 1), (7, 5), (16, 16), (23, 41)]:
        noise = max(1, int(params.threshold))  # |D| straddles T
        clips = [_noisy_clip(rng, h, w, 5, noise) for _ in range(2)]
        total += _run_both(params, clips, "cpu")
    assert total > 0  # something moved: the comparison is not vacuous


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_numpy_and_torch_agree_on_cuda():
    rng = np.random.default_rng(8)
    for params in PARAM_SETS:
        clips = [_noisy_clip(rng, 37, 53, 4, max(1, int(params.threshold))) for _ in range(2)]
        _run_both(params, clips, "cuda")


# ----------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threshold": -1},
        {"threshold": float("nan")},
        {"threshold": float("inf")},
        {"threshold": "8"},
        {"threshold": True},
        {"dilate_kernel": 0},
        {"dilate_kernel": 2},
        {"erode_kernel": 4},
        {"erode_kernel": 3.0},
        {"dilate_iterations": -1},
        {"erode_iterations": 1.5},
    ],
)
def test_bad_parameters_raise_one_line_errors(kwargs):
    with pytest.raises(SteadyStyleError) as info:
        FrameDiffParams(**kwargs)
    assert "\n" not in str(info.value) and next(iter(kwargs)) in str(info.value)


def test_even_kernels_are_refused_by_the_functions_too():
    with pytest.raises(SteadyStyleError, match="odd"):
        close_mask(np.ones((4, 4), np.uint8), dilate_kernel=2)
    with pytest.raises(SteadyStyleError, match="odd"):
        close_mask_torch(torch.ones(1, 1, 4, 4), erode_kernel=6)
    with pytest.raises(SteadyStyleError, match="threshold"):
        background_mask(np.zeros((2, 2), np.float32), np.zeros((2, 2), np.float32), -0.5)


def test_bad_frames_and_stylizations_raise():
    stab = FrameDiffStabilizer()
    ok = np.zeros((4, 4, 3), np.uint8)
    for bad in (np.zeros((4, 4, 3), np.float32), np.zeros((4, 4), np.uint8), np.zeros((4, 4, 4), np.uint8)):
        with pytest.raises(SteadyStyleError):
            stab(bad, lambda: ok)
    with pytest.raises(SteadyStyleError, match="stylize"):
        stab(ok, lambda: np.zeros((4, 5, 3), np.uint8))
    stab(ok, lambda: ok)
    with pytest.raises(SteadyStyleError):
        FrameDiffStabilizer(params={"threshold": 8})
    tstab = TorchFrameDiffStabilizer()
    with pytest.raises(SteadyStyleError):
        tstab(torch.zeros(3, 4, 4), lambda: torch.zeros(3, 4, 4))
    with pytest.raises(SteadyStyleError, match="stylize"):
        tstab(torch.zeros(1, 3, 4, 4), lambda: torch.zeros(1, 3, 4, 5))


def test_a_new_frame_size_starts_a_new_clip():
    stab = FrameDiffStabilizer()
    small, big = np.full((4, 4, 3), 10, np.uint8), np.full((6, 5, 3), 200, np.uint8)
    assert stab(small, lambda: small).shape == (4, 4, 3)
    calls = []
    out = stab(big, lambda: calls.append(1) or big)
    assert calls == [1] and np.array_equal(out, big) and stab.last_foreground_fraction == 1.0
