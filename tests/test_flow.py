"""The flow primitives (warp, occlusion test) and the flow-warping stabilizer."""

import cv2
import numpy as np
import pytest

from steadystyle.errors import SteadyStyleError
from steadystyle.stabilize.base import make_stabilizer
from steadystyle.stabilize.flow import FlowParams, dis_flow, make_dis, unreliable, warp


def texture(h=48, w=64, seed=0):
    noise = np.random.default_rng(seed).integers(0, 256, (h, w, 3)).astype(np.float32)
    return np.clip(cv2.GaussianBlur(noise, (0, 0), 2.0) * 3 - 255, 0, 255).astype(np.uint8)


def test_warp_by_an_integer_flow_is_a_shift():
    img = np.arange(8 * 8, dtype=np.float32).reshape(8, 8)
    flow = np.zeros((8, 8, 2), np.float32)
    flow[..., 0] = 1  # sample one pixel to the right
    assert np.array_equal(warp(img, flow)[:, :-1], img[:, 1:])
    assert np.array_equal(warp(img, flow)[:, -1], img[:, -1])  # border replicated


def test_forward_backward_check_of_ruder_et_al():
    wf = np.zeros((8, 8, 2), np.float32)
    wf[..., 0] = 2
    consistent = -wf
    assert not unreliable(wf, consistent).any()
    wrong = np.zeros_like(wf)  # backward flow says nothing moved: |wf + ŵb|² = 4 > 0.01·4 + 0.5
    assert unreliable(wf, wrong).all()
    edge = wf.copy()
    edge[:, 4:, 0] = 0  # a motion boundary between columns 3 and 4
    back = -edge
    bad = unreliable(edge, back)
    assert bad[:, 3:5].all() and not bad[:, :2].any() and not bad[:, 6:].any()


@pytest.mark.parametrize("preset", ["medium", "lean"])
def test_every_preset_finds_a_two_pixel_shift(preset):
    wide = texture(48, 72, seed=3)
    a = cv2.cvtColor(np.ascontiguousarray(wide[:, 2:66]), cv2.COLOR_RGB2GRAY)
    b = cv2.cvtColor(np.ascontiguousarray(wide[:, 4:68]), cv2.COLOR_RGB2GRAY)  # a(x) = b(x − 2)
    flow = dis_flow(a, b, preset)
    inner = flow[12:36, 16:48]
    assert abs(np.median(inner[..., 0]) + 2.0) < 0.25 and abs(np.median(inner[..., 1])) < 0.25


def test_the_lean_preset_is_medium_with_fewer_iterations():
    lean, medium = make_dis("lean"), make_dis("medium")
    assert lean.getFinestScale() == medium.getFinestScale()
    assert (lean.getPatchStride(), lean.getGradientDescentIterations(), lean.getVariationalRefinementIterations()) \
        == (4, 12, 2)


def test_dis_flow_rejects_bad_input():
    with pytest.raises(SteadyStyleError, match="preset"):
        dis_flow(np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.uint8), "slowest")
    with pytest.raises(SteadyStyleError):
        FlowParams(blend=2.0)


def invert(frame, box=None):
    out = 255 - frame
    return out if box is None else out[box.slices()]


def test_flow_stabilizer_keeps_a_still_scene_still():
    rng = np.random.default_rng(3)
    base = texture().astype(np.float32)
    flow, per_frame = make_stabilizer("flow"), []
    outs = []
    for _ in range(6):
        f = np.clip(base + rng.normal(0, 2, base.shape), 0, 255).astype(np.uint8)
        outs.append(flow(f, lambda box=None, f=f: invert(f, box)))
        per_frame.append(invert(f))
    change = np.mean([np.abs(outs[t].astype(int) - outs[t - 1]).mean() for t in range(1, 6)])
    noise = np.mean([np.abs(per_frame[t].astype(int) - per_frame[t - 1]).mean() for t in range(1, 6)])
    assert change < 0.5 * noise


def test_flow_stabilizer_carries_the_output_along_the_motion():
    big = texture(64, 112)
    flow = make_stabilizer("flow")
    kept = None
    for s in range(0, 12, 3):
        f = np.ascontiguousarray(big[8:56, 8 + s:72 + s])
        stylized = invert(f)
        stylized[:, :] = np.where(s == 0, stylized, 0)  # later stylizations are black: only warping can keep the pattern
        kept = flow(f, lambda box=None, st=stylized: st if box is None else st[box.slices()])
    inner = (slice(8, -8), slice(8, -16))
    assert np.abs(kept[inner].astype(int) - invert(f)[inner]).mean() < 12
    assert flow.last_foreground_fraction < 0.3  # the newly uncovered strip on the right takes S(t)
