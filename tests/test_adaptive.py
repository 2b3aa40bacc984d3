"""The adaptive stabilizer, part by part, on small hand-made frames."""

import cv2
import numpy as np
import pytest

from steadystyle.errors import SteadyStyleError
from steadystyle.stabilize.adaptive import (AdaptiveParams, AdaptiveStabilizer, camera_moved, change_spread, drop_specks,
                                             feather, fill_holes, group_regions, tile_shares)
from steadystyle.stabilize.base import make_stabilizer
from steadystyle.stabilize.person import person_available

FIXED = dict(auto_threshold=False, fixed_threshold=6.0, blur_sigma=0.0)


def texture(h=48, w=64, seed=0):
    noise = np.random.default_rng(seed).integers(0, 256, (h, w, 3)).astype(np.float32)
    return np.clip(cv2.GaussianBlur(noise, (0, 0), 2.0) * 3 - 255, 0, 255).astype(np.uint8)


class Net:
    """A stand-in network: S(t) = 255 − I(t) + ``shift``; counts the pixels it was asked for."""

    def __init__(self):
        self.calls, self.shift = 0, 0

    def bind(self, frame):
        def stylize(box=None):
            self.calls += 1
            out = np.clip(255 - frame.astype(int) + self.shift, 0, 255).astype(np.uint8)
            return out if box is None else out[box.slices()]
        return stylize


def step(stab, net, frame):
    return stab(frame, net.bind(frame))


def test_pure_steps():
    m = np.zeros((20, 20), bool)
    m[2, 2] = True
    m[10:12, 3:17] = True  # a thin strip of 28 px survives the speck filter
    kept = drop_specks(m, 5)
    assert not kept[2, 2] and kept[10:12, 3:17].all()
    ring = np.zeros((20, 20), bool)
    ring[5:15, 5:15] = True
    ring[7:13, 7:13] = False
    assert fill_holes(ring)[5:15, 5:15].all() and not fill_holes(ring)[0].any()
    two = np.zeros((20, 40), bool)
    two[5:10, 5:10] = two[5:10, 14:19] = True  # 4 px apart
    joined = group_regions(two, 3)
    assert cv2.connectedComponents(joined.astype(np.uint8))[0] == 2 and joined[6:9, 5:19].all()  # one region
    a = feather(ring | fill_holes(ring), 2.0)
    assert (a[5:15, 5:15] == 1).all() and 0 < a[5, 3] < 1 and a[0, 0] == 0


def test_thin_strip_that_the_paper_erases_is_restylized():
    """A lip-like strip 2 px high changes: the paper's closing erases it, adaptive updates it."""
    a = np.full((48, 64, 3), 120, np.uint8)
    b = a.copy()
    b[20:22, 10:40] = 200
    paper, ours, net = make_stabilizer("frame-diff"), AdaptiveStabilizer(AdaptiveParams(**FIXED)), Net()
    for f in (a, b):
        out_paper = step(paper, net, f)
        out_ours = step(ours, net, f)
    assert paper.last_foreground_fraction == 0 and np.array_equal(out_paper[20:22, 10:40], 255 - a[20:22, 10:40])
    assert np.array_equal(out_ours[20:22, 10:40], 255 - b[20:22, 10:40])
    assert ours.last_mode == "regions" and np.array_equal(out_ours[40:], 255 - a[40:])  # the rest is kept


def test_per_pixel_reference_catches_slow_change():
    """A patch brightens by 4 grey levels a frame, below T = 6: only the reference (bound 2T = 12) sees it add up."""
    stabs = {on: AdaptiveStabilizer(AdaptiveParams(reference=on, **FIXED)) for on in (True, False)}
    net = Net()
    outs = {}
    for t in range(5):
        f = np.full((48, 64, 3), 100, np.uint8)
        f[10:30, 10:30] += 4 * t
        outs = {on: step(s, net, f) for on, s in stabs.items()}
    assert np.array_equal(outs[True][15, 15], 255 - f[15, 15])  # re-stylized at t=4, when it had changed by 16 > 2T
    assert np.array_equal(outs[False][15, 15], [155, 155, 155])  # still the first frame's stylization


def test_still_frames_and_noise_specks_cost_no_network_pass():
    a = texture()
    stab, net = AdaptiveStabilizer(AdaptiveParams(**FIXED)), Net()
    step(stab, net, a)
    b = a.copy()
    b[5, 5] = 255 - b[5, 5]  # one hot pixel
    out = step(stab, net, b)
    out = step(stab, net, a)
    assert net.calls == 1 and stab.last_mode == "keep" and np.array_equal(out, 255 - a)


def test_regions_get_feathered_edges_and_only_their_box_is_stylized():
    a = np.full((64, 96, 3), 90, np.uint8)
    b = a + 5  # the background changes below T = 6 …
    b[20:40, 20:40] = 200  # … and a square appears
    stab, net = AdaptiveStabilizer(AdaptiveParams(context_px=4, **FIXED)), Net()
    step(stab, net, a)
    regions = []
    out = stab(b, lambda box=None: (regions.append(box), net.bind(b)(box))[1])
    assert regions and regions[0] is not None and regions[0].area < 0.5 * 64 * 96
    alpha = stab.last_alpha
    assert (alpha[20:40, 20:40] == 1).all() and 0 < alpha[30, 17] < 1 and alpha[30, 60] == 0
    assert 255 - 95 < out[30, 18, 0] < 255 - 90  # between the new and the kept stylization
    assert out[30, 60, 0] == 255 - 90 and out[30, 30, 0] == 255 - 200


def test_camera_motion_falls_back_to_per_frame():
    big = texture(64, 112)
    stab, net = AdaptiveStabilizer(AdaptiveParams(**FIXED)), Net()
    modes = []
    for s in range(6):
        f = np.ascontiguousarray(big[8:56, 8 + s:72 + s])  # the camera pans 1 px a frame
        out = step(stab, net, f)
        modes.append(stab.last_mode)
    assert modes[0] == "first" and modes[-1] == "full" and np.array_equal(out, 255 - f)


def test_camera_moved_tells_a_pan_from_a_moving_object():
    big = texture(64, 112).astype(np.float32).mean(axis=2)
    a, pan = big[8:56, 8:72], big[8:56, 11:75]
    assert camera_moved(a, pan, 6.0, 0.5)
    obj = a.copy()
    moved = a.copy()
    obj[10:30, 10:30] = 250
    moved[10:30, 13:33] = 250
    assert not camera_moved(obj, moved, 6.0, 0.5)


def test_change_spread_counts_the_tiles_that_changed():
    m = np.zeros((9, 12), bool)
    assert change_spread(m) == 0.0
    m[4, 5] = True  # one pixel of the middle tile (3x4 = 12 pixels: 1/12 > 2 %)
    assert change_spread(m) == pytest.approx(1 / 9)
    m[:, :4] = True  # the left column of tiles as well
    assert change_spread(m) == pytest.approx(4 / 9)
    assert np.allclose(tile_shares(m), [[1, 0, 0], [1, 1 / 12, 0], [1, 0, 0]])
    assert change_spread(np.ones((9, 12), bool)) == 1.0


def test_something_moving_in_front_of_a_plain_wall_is_not_camera_motion():
    # one textured thing moving over a flat wall: a single global shift explains all the change,
    # but it is in a few tiles only, so it is re-stylized as a region, not taken for a pan
    wall = np.full((48, 64, 3), 120, np.uint8)
    thing = texture(16, 22, seed=3)

    def modes(**extra):
        stab, net = AdaptiveStabilizer(AdaptiveParams(**FIXED, **extra)), Net()
        seen = []
        for s in range(5):
            frame = wall.copy()
            frame[16:32, 18 + 2 * s:40 + 2 * s] = thing
            step(stab, net, frame)
            seen.append(stab.last_mode)
        return seen

    assert modes() == ["first"] + ["regions"] * 4
    assert "full" in modes(camera_spread=0)  # testing every frame: the one shift reads as a pan


def test_scene_cut_is_stylized_whole():
    stab, net = AdaptiveStabilizer(AdaptiveParams(**FIXED)), Net()
    step(stab, net, texture(seed=1))
    out = step(stab, net, texture(seed=2))
    assert stab.last_mode == "full" and np.array_equal(out, 255 - texture(seed=2))


def test_bounded_freeze_fades_to_the_current_stylization():
    a = texture()
    stab, net = AdaptiveStabilizer(AdaptiveParams(max_freeze_frames=3, fade_frames=2, **FIXED)), Net()
    step(stab, net, a)
    net.shift = 40  # the network's output drifts (new lighting, a new style …)
    outs = [step(stab, net, a) for _ in range(5)]
    target = np.clip(255 - a.astype(int) + 40, 0, 255)
    assert np.array_equal(outs[1], 255 - a)              # frozen for 3 frames
    assert 0 < np.abs(outs[3].astype(int) - target).mean() < np.abs(outs[1].astype(int) - target).mean()
    assert np.array_equal(outs[4], target)                # after the 2-frame cross-fade


def test_noise_sigma_of_a_sampled_lattice_matches_the_whole_grid():
    """Gaussian camera noise of σ = 3 on a 160×120 grid, a still frame's difference: the σ from
    every 2nd row and column is within 5 % of 3 and of the σ of all cells; a moving block on a
    tenth of the grid (the median is robust) barely moves it."""
    from steadystyle.stabilize.adaptive import noise_sigma

    rng = np.random.default_rng(0)
    diff = (rng.normal(0, 3.0, (120, 160)) - rng.normal(0, 3.0, (120, 160))).astype(np.float32) / np.sqrt(2)
    whole, sampled = noise_sigma(diff, samples=diff.size), noise_sigma(diff)
    assert abs(sampled - 3.0) < 0.15 and abs(sampled - whole) < 0.05 * whole
    diff[40:80, 60:108] += 80.0  # a hand moving across 10 % of the grid
    assert abs(noise_sigma(diff) - sampled) < 0.15 * sampled
    assert noise_sigma(np.zeros((2, 3), np.float32)) == 0.0  # tiny grids: every cell


def test_auto_threshold_follows_the_camera_noise():
    rng = np.random.default_rng(0)
    base = texture().astype(np.float32)
    stab, net = AdaptiveStabilizer(AdaptiveParams()), Net()
    for sigma in (2.0, 12.0):
        stab.reset()
        for _ in range(8):
            step(stab, net, np.clip(base + rng.normal(0, sigma, base.shape), 0, 255).astype(np.uint8))
        if sigma == 2.0:
            quiet = stab.last_threshold
            calls = net.calls
    assert stab.last_threshold > 2.5 * quiet and quiet == 4.0  # the floor, then 4σ of the measured noise
    assert net.calls - calls <= 2  # camera noise alone does not wake the network


def test_params_are_checked():
    with pytest.raises(SteadyStyleError):
        AdaptiveParams(fallback_fraction=0)
    with pytest.raises(SteadyStyleError):
        AdaptiveParams(feather_px=-1)


@pytest.mark.skipif(not person_available(), reason="mediapipe is not installed")
def test_person_segmentation_runs_offline():
    from steadystyle.stabilize.person import PersonSegmenter

    mask = PersonSegmenter()(np.full((48, 64, 3), 128, np.uint8))
    assert mask.shape == (48, 64) and mask.dtype == bool and mask.mean() < 0.5
    stab, net = AdaptiveStabilizer(AdaptiveParams(person=True, **FIXED)), Net()
    step(stab, net, texture())
    step(stab, net, texture())
    assert stab.last_mode == "keep"


def test_a_large_box_is_still_asked_for_as_a_region():
    """The stabilizer always asks ``stylize(box)``; whether a box that covers most of the frame runs
    as a full pass is the stylizer's one region policy, not a fraction in the stabilizer."""
    a = np.full((64, 96, 3), 90, np.uint8)
    b = a.copy()
    b[2:14, 2:14] = b[50:62, 82:94] = 200  # two small squares in opposite corners: their box is most of the frame
    stab, net = AdaptiveStabilizer(AdaptiveParams(context_px=0, **FIXED)), Net()
    step(stab, net, a)
    asked = []
    out = stab(b, lambda box=None: (asked.append(box), net.bind(b)(box))[1])
    assert stab.last_mode == "regions" and len(asked) == 1 and asked[0] is not None
    assert asked[0].area > 0.6 * 64 * 96  # the old in-stabilizer rule would have asked for the full frame
    assert out[5, 5, 0] == 255 - 200 and out[32, 48, 0] == 255 - 90


def test_mask_grid_maps_cells_to_frame_pixels_and_back():
    from steadystyle.stabilize.adaptive import MaskGrid
    from steadystyle.geometry import Box
    grid = MaskGrid.for_frame(480, 640, 160)
    assert (grid.grid_h, grid.grid_w, grid.scale) == (120, 160, 0.25) and not grid.identity
    assert MaskGrid.for_frame(120, 96, 160).identity and MaskGrid.for_frame(480, 640, 0).identity
    cells = np.zeros((120, 160), np.float32)
    cells[30:60, 40:80] = 1.0  # frame rows 120–240, columns 160–320
    box = grid.frame_box(Box(30, 60, 40, 80), 0)
    assert box.y0 <= 116 and box.y1 >= 244 and box.x0 <= 156 and box.x1 >= 324  # a cell of slack each side
    alpha = grid.expand(cells, box)
    full = grid.expand(cells)
    assert full.shape == (480, 640) and np.array_equal(alpha, full[box.slices()])
    assert (full[124:236, 164:316] == 1).all() and full[:box.y0].max() == 0 and full[:, box.x1:].max() == 0
    # any box, cut from α brought back whole as OpenCV's resize does (whole-cell boxes take a faster road)
    rng = np.random.default_rng(2)
    soft = cv2.GaussianBlur((rng.random((120, 160)) > 0.7).astype(np.float32), (0, 0), 1.5)
    whole = cv2.resize(soft, (640, 480), interpolation=cv2.INTER_LINEAR)
    for some in (Box(0, 480, 0, 640), Box(8, 100, 4, 64), Box(7, 101, 3, 65), Box(400, 480, 600, 640), box):
        assert np.abs(grid.expand(soft, some) - whole[some.slices()]).max() < 1e-5
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[::2, ::2] = 200  # a fine pattern: each cell is its mean
    assert np.abs(grid.shrink(frame).astype(int) - 50).max() <= 1


@pytest.mark.parametrize("side", [0, 160])
def test_on_the_grid_a_moving_hand_is_restylized_and_the_background_stays_exact(side):
    """640×480: a hand-sized patch and a 6×6 fingertip move; both take the new stylization on the
    160-cell grid as at full size, and every pixel away from them keeps its old value exactly."""
    a = texture(480, 640, seed=3) // 2  # a textured room, grey levels 0–127
    b = a.copy()
    b[200:300, 300:400] = 200  # the hand
    b[100:106, 100:106] += 120  # a fingertip
    stab, net = AdaptiveStabilizer(AdaptiveParams(mask_side=side, min_region_px=24, **FIXED)), Net()
    first = step(stab, net, a)
    net.shift = 7  # the network's output on the next pass differs everywhere
    out = step(stab, net, b)
    fresh = np.clip(255 - b.astype(int) + 7, 0, 255).astype(np.uint8)
    assert np.array_equal(out[205:295, 305:395], fresh[205:295, 305:395])
    assert np.abs(out[101:105, 101:105].astype(int) - fresh[101:105, 101:105]).max() <= 1
    far = np.ones((480, 640), bool)
    far[160:340, 260:440] = far[60:146, 60:146] = False
    assert np.array_equal(out[far], first[far])
    assert stab.last_alpha.shape == (480, 640) and stab.last_alpha[250, 350] == 1 and stab.last_alpha[450, 20] == 0


def _crowd(shift):
    """A 320×180 overhead crowd: 12 people of 6×12 px on a textured floor, each ``shift`` px along."""
    f = texture(180, 320, seed=5) // 2
    for k in range(12):
        y, x = 20 + 50 * (k // 4), 20 + 75 * (k % 4) + shift
        f[y:y + 12, x:x + 6] = 220
    return f


def test_on_a_coarser_grid_the_regions_reach_no_farther_than_at_full_size():
    """A grid region is grown by a cell so it reads α = 1 exactly; its feather is narrowed by what
    that cell covers, so a crowd of small people does not take ~1.5× the still floor around them."""
    share = {}
    for side in (0, 160):
        stab, net = AdaptiveStabilizer(AdaptiveParams(mask_side=side, **FIXED)), Net()
        step(stab, net, _crowd(0))
        step(stab, net, _crowd(2))
        share[side] = float((stab.last_alpha > 0).mean())
        if side:  # on the grid every pixel a person covered before or after takes the new stylization whole
            assert (stab.last_alpha[20:32, 20:28] == 1).all()
    assert 0.05 < share[0] < 0.3
    assert 0.8 * share[0] <= share[160] <= 1.2 * share[0], share  # was 1.8× before the feather was narrowed
