"""The steady stabilizer on small hand-made frames: what the method promises, claim by claim."""

import cv2
import numpy as np
import pytest

from steadystyle.errors import SteadyStyleError
from steadystyle.stabilize.base import make_stabilizer, method_names
from steadystyle.evaluate.metrics import sharpness
from steadystyle.stabilize.steady import (SteadyParams, SteadyStabilizer, _faded, camera_moved_everywhere,
                                          compose_flow)
from steadystyle.geometry import Box


def texture(h, w, seed, sigma=3.0):
    """Smooth random texture (H×W×3 uint8) that optical flow can track."""
    noise = np.random.default_rng(seed).integers(0, 256, (h, w, 3)).astype(np.float32)
    return np.clip(cv2.GaussianBlur(noise, (0, 0), sigma) * 3 - 255, 0, 255).astype(np.uint8)


BACKGROUND = texture(96, 128, 1)
PATCH = texture(32, 32, 2)


def scene(x, y=32, patch=PATCH):
    """The still background with the patch at column ``x`` (96×128×3 uint8)."""
    f = BACKGROUND.copy()
    f[y:y + patch.shape[0], x:x + patch.shape[1]] = patch
    return f


class Net:
    """A stand-in network whose texture changes every frame: S(t) = 255 − I(t) + 12·(t mod 2).

    A method that re-stylizes a pixel shows the jump of 12 grey levels; one that keeps or carries
    it does not.  Counts the pixels it was asked for."""

    def __init__(self):
        self.t, self.pixels, self.calls = 0, 0, 0

    def bind(self, frame):
        t = self.t
        self.t += 1

        def stylize(box=None):
            self.calls += 1
            out = np.clip(255 - frame.astype(int) + 12 * (t % 2), 0, 255).astype(np.uint8)
            self.pixels += out.shape[0] * out.shape[1] if box is None else box.area
            return out if box is None else out[box.slices()].copy()
        return stylize

    def frame_output(self, frame, t):
        return np.clip(255 - frame.astype(int) + 12 * (t % 2), 0, 255).astype(np.uint8)


def play(stab, frames, net=None):
    net = net or Net()
    return [stab(f, net.bind(f)) for f in frames], net


def test_is_registered_and_checks_its_parameters():
    assert "steady" in method_names()
    assert isinstance(make_stabilizer("steady", key_frames=6), SteadyStabilizer)
    for bad in (dict(flow_preset="slow"), dict(key_frames=0),
                dict(flow_side=8), dict(photo_factor=float("nan"))):
        with pytest.raises(SteadyStyleError):
            SteadyParams(**bad)


def test_still_background_stays_bit_frozen_and_costs_only_the_moving_box():
    frames = [scene(16 + 2 * t) for t in range(10)]
    outs, net = play(SteadyStabilizer(), frames)
    keep = np.ones((96, 128), bool)
    keep[8:88, :] = False  # 24 px above and below the patch's rows stay out
    for o in outs[1:]:
        assert np.array_equal(o[keep], outs[0][keep])  # the paper's exact freeze: not one level off
    assert net.pixels < 0.5 * 10 * 96 * 128  # far less than a full pass per frame


def test_a_translated_patch_carries_its_strokes_along():
    frames = [scene(16 + 2 * t) for t in range(6)]
    outs, net = play(SteadyStabilizer(), frames)
    inner = np.s_[36:60, 20:44]  # the patch's interior at t = 0
    first = outs[0][inner].astype(int)
    for t in range(1, 6):
        moved = np.s_[36:60, 20 + 2 * t:44 + 2 * t]
        carried = np.abs(outs[t][moved].astype(int) - first).mean()
        restylized = np.abs(net.frame_output(frames[t], t)[moved].astype(int) - first).mean()
        assert carried < 4.0, (t, carried)  # the strokes moved with the patch (the flow is off by < 0.1 px/frame)
        if t % 2:
            assert restylized > 10.0  # per-frame stylization would have jumped by 12 levels


def test_a_scene_cut_falls_back_to_per_frame():
    stab, net = SteadyStabilizer(), Net()
    stab(scene(16), net.bind(scene(16)))
    cut = texture(96, 128, 9)  # another scene
    out = stab(cut, net.bind(cut))
    assert stab.last_mode == "full" and np.array_equal(out, net.frame_output(cut, 1))


def pan(frames=6, px=3):
    """A textured wall seen by a camera panning ``px`` px a frame (96×128×3 uint8 each)."""
    wide = texture(96, 128 + px * frames, 4)
    return [np.ascontiguousarray(wide[:, px * t:px * t + 128]) for t in range(frames)]


def test_under_camera_motion_the_strokes_move_with_the_picture():
    frames = pan()
    outs, net = play(SteadyStabilizer(), frames)
    inner = np.s_[12:84, 12:80]
    for t in range(1, len(frames)):
        back = np.s_[12:84, 12 + 3 * t:80 + 3 * t]  # where frame t's inner pixels were at t = 0
        carried = np.abs(outs[t][inner].astype(int) - outs[0][back].astype(int)).mean()
        restylized = np.abs(net.frame_output(frames[t], t)[inner].astype(int) - outs[0][back].astype(int)).mean()
        assert carried < 4.0, (t, carried)  # the painting moved with the camera
        if t % 2:
            assert restylized > 10.0  # per-frame stylization would have jumped by 12 levels
    assert net.pixels < 0.5 * len(frames) * 96 * 128  # the strip that came into view, not the whole frame


def test_camera_carry_off_stylizes_a_panning_frame_whole():
    frames = pan(4)
    stab, net = make_stabilizer("steady", camera_carry=False), Net()
    outs = [stab(f, net.bind(f)) for f in frames]
    assert stab.last_mode == "full" and np.array_equal(outs[-1], net.frame_output(frames[-1], 3))


def test_a_head_that_turns_in_front_of_a_plain_wall_is_not_camera_motion():
    wall = np.full((96, 128), 200.0, np.float32)
    a, b = wall.copy(), wall.copy()
    a[30:70, 50:80] = 90.0 + np.float32(cv2.cvtColor(texture(40, 30, 3), cv2.COLOR_RGB2GRAY)) * 0.3  # a head
    b[30:70, 53:83] = a[30:70, 50:80]  # the head moved 3 px; the wall did not
    assert not camera_moved_everywhere(a, b, threshold=6.0, motion_px=0.5)
    pan_a = np.float32(cv2.cvtColor(texture(96, 140, 5), cv2.COLOR_RGB2GRAY))
    assert camera_moved_everywhere(pan_a[:, :128], pan_a[:, 3:131], threshold=6.0, motion_px=0.5)


def test_where_the_flow_cannot_explain_the_frame_the_output_takes_fresh_stylization():
    stab, net = SteadyStabilizer(), Net()
    dark = np.full((32, 32, 3), 10, np.uint8)
    frames = [scene(40), scene(40), scene(40, patch=dark)]  # the patch is replaced: no flow explains it
    outs = [stab(f, net.bind(f)) for f in frames]
    inner = np.s_[36:60, 44:68]
    assert np.array_equal(outs[1], outs[0])  # nothing moved: nothing changed
    assert net.calls == 2  # … and no network pass: S(0) and one pass for the replaced patch
    fresh = np.abs(outs[2][inner].astype(int) - net.frame_output(frames[2], 2)[inner].astype(int)).max(axis=2) <= 1
    assert fresh.mean() > 0.9  # S(t) at once, no fade from the old patch (a ghost)
    assert stab.last_foreground_fraction > 0


def test_camera_noise_and_dithering_cost_no_network_pass():
    rng = np.random.default_rng(3)
    base = BACKGROUND.astype(np.int16)
    frames = [np.clip(base + rng.integers(-3, 4, base.shape), 0, 255).astype(np.uint8) for _ in range(6)]
    stab, net = SteadyStabilizer(), Net()
    outs = [stab(f, net.bind(f)) for f in frames]
    assert net.calls == 1 and all(np.array_equal(o, outs[0]) for o in outs)
    assert stab.last_mode == "keep"


def test_compose_flow_adds_a_step_to_the_offsets_it_lands_on():
    offsets = np.zeros((8, 8, 2), np.float32)
    offsets[..., 0] = -1.0  # every pixel came 1 px from the right... of the keyframe
    step = np.full((4, 4, 2), 0.5, np.float32)
    composed, (mx, my) = compose_flow(step, offsets, Box(2, 6, 2, 6))
    assert np.allclose(composed[..., 0], -0.5) and np.allclose(composed[..., 1], 0.5)
    assert mx[0, 0] == 2.5 and my[0, 0] == 2.5


def test_a_fade_between_two_textures_keeps_their_contrast():
    a, b = texture(64, 96, 11, sigma=1.0), texture(64, 96, 12, sigma=1.0)
    half = np.full((64, 96), 0.5, np.float32)
    plain, kept = _faded(a, b, half, rho=1.0), _faded(a, b, half, rho=0.0)
    crisp = 0.5 * (sharpness(a) + sharpness(b))
    assert sharpness(plain) < 0.7 * crisp  # a plain cross-fade of unrelated textures is flat
    assert 0.85 * crisp < sharpness(kept) < 1.15 * crisp  # the fade that keeps contrast is not
    assert np.array_equal(_faded(a, b, np.zeros_like(half), 0.0), a)  # no fade: nothing touched
    assert np.abs(cv2.blur(kept, (9, 9)).astype(int) - cv2.blur(plain, (9, 9)).astype(int)).mean() < 2  # same colours


def test_a_fade_in_one_corner_touches_only_that_corner_and_matches_the_whole_crop_formula():
    a, b = texture(64, 96, 13, sigma=1.0), texture(64, 96, 14, sigma=1.0)
    t = np.ones((64, 96), np.float32)
    t[4:14, 70:90] = 0.3  # only here do the two textures fade into each other
    got = _faded(a, b, t, rho=0.5)
    whole = a + t[..., None] * (b.astype(np.float32) - a)  # the docstring's formula on the whole crop
    whole = np.clip(np.rint(whole), 0, 255).astype(np.float32)
    gain = 1.0 / np.sqrt(0.7 ** 2 + 0.3 ** 2 + 2 * 0.5 * 0.3 * 0.7)
    mean = cv2.GaussianBlur(whole, (0, 0), 2.0)
    want = np.clip(np.rint(mean + gain * (whole - mean)), 0, 255).astype(np.uint8)
    assert np.abs(got[4:14, 70:90].astype(int) - want[4:14, 70:90]).max() <= 2  # the blend rounds within 1 level
    outside = np.ones((64, 96), bool)
    outside[4:14, 70:90] = False
    assert np.array_equal(got[outside], b[outside])  # γ = 1: the new key exactly


def test_edge_slack_allows_for_a_flow_error_only_where_the_grey_has_a_gradient():
    from steadystyle.stabilize.steady import edge_slack
    g = np.zeros((8, 8), np.uint8)
    g[:, 4:] = 80  # a vertical edge of 80 grey levels between columns 3 and 4
    slack = edge_slack(g, 0.5)
    # at the edge the 3×3 Sobel's unit slope is 8; 80 levels over the two columns either side → 40/px
    assert slack[4, 3] == pytest.approx(20.0) and slack[4, 4] == pytest.approx(20.0)
    assert slack[4, 0] == 0.0 and slack[4, 7] == 0.0  # flat: something appearing there is caught at T
    assert edge_slack(g, 0.0) == 0.0


def test_a_mismatch_the_flow_error_explains_does_not_add_up_as_drift():
    from steadystyle.stabilize.steady import _explained
    made_from = np.array([[100, 100, 100]], np.uint8)
    cur = np.array([[104, 130, 60]], np.uint8)
    # the grey a carried pixel counts as made from moves towards the frame by at most the slack
    assert _explained(made_from, cur, np.float32([[10.0, 10.0, 10.0]])).tolist() == [[104, 110, 90]]
    assert _explained(made_from, cur, 0.0) is made_from  # no slack: the key's grey, as before


def test_an_edge_in_only_one_of_the_two_greys_is_a_change_not_a_flow_error():
    from steadystyle.stabilize.steady import edge_slack
    edge = np.zeros((8, 8), np.uint8)
    edge[:, 4:] = 80
    moved = np.zeros((8, 8), np.uint8)
    moved[:, 5:] = 80  # the same edge one column over: a flow error of 1 px
    flat = np.full((8, 8), 40, np.uint8)  # a plain cheek where the edge (a mouth) appeared
    assert edge_slack(edge, 1.0, moved)[4, 4] == pytest.approx(40.0)  # both have it: allowed for
    assert edge_slack(edge, 1.0, flat)[4, 4] == 0.0  # only one has it: the bare threshold


def test_stretch_is_zero_for_a_shift_and_measures_how_far_strokes_are_drawn_out():
    from steadystyle.stabilize.steady import stretch
    shift = np.zeros((9, 9, 2), np.float32)
    shift[..., 0], shift[..., 1] = 3.0, -1.5
    assert np.abs(stretch(shift)[1:-1, 1:-1]).max() == 0.0
    xs = np.arange(9, dtype=np.float32)
    drawn = np.zeros((9, 9, 2), np.float32)
    drawn[..., 0] = -0.5 * xs[None, :]  # x + Φ(x) = 0.5 x: the key read at half speed, strokes twice as long
    assert stretch(drawn)[4, 4] == pytest.approx(0.5)


def test_strokes_carried_along_a_smooth_but_wrong_flow_are_renewed_not_stretched():
    stab = SteadyStabilizer(SteadyParams(max_stretch=0.5))
    net = Net()
    stab(scene(40), net.bind(scene(40)))
    stab._offsets[40:56, 44:60, 0] = -0.75 * (np.arange(16, dtype=np.float32) - 8)[None, :]  # a key pulled apart
    frame = scene(41)
    stab(frame, net.bind(frame))
    pulled = stab.last_fresh[40:56, 48:56]
    assert (pulled > 0).mean() > 0.9  # the stretched strokes take fresh stylization
