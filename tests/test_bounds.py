"""No size a user or a file gives can exhaust the machine (issue 22): every one is bounded, in one line.

Method parameters (kernels, iterations, Gaussian widths, region sizes) and the architecture a model
file claims are checked before anything is allocated for them.
"""

from __future__ import annotations

import json

import pytest
import torch
from helpers import make_clip
from safetensors.torch import load_file, save_file

from steadystyle import weights
from steadystyle.cli import main
from steadystyle.errors import SteadyStyleError
from steadystyle.network import LIMITS, VARIANTS, TransformerNet
from steadystyle.stabilize.adaptive import AdaptiveParams
from steadystyle.stabilize.flow import FlowParams
from steadystyle.stabilize.framediff import FrameDiffParams
from steadystyle.stabilize.masks import MAX_ITERATIONS, MAX_KERNEL
from steadystyle.weights import METADATA_KEY, load_model, save_model


@pytest.mark.parametrize("field, value, phrase", [
    ("erode_kernel", 99999, f"erode_kernel must be an odd integer from 1 to {MAX_KERNEL} px"),
    ("dilate_kernel", MAX_KERNEL + 2, f"from 1 to {MAX_KERNEL}"),
    ("dilate_iterations", 10**6, f"dilate_iterations must be an integer from 0 to {MAX_ITERATIONS}"),
    ("erode_iterations", MAX_ITERATIONS + 1, f"from 0 to {MAX_ITERATIONS}"),
])
def test_closing_sizes_are_bounded(field, value, phrase):
    with pytest.raises(SteadyStyleError, match=phrase):
        FrameDiffParams(**{field: value})
    FrameDiffParams(**{field: MAX_KERNEL if "kernel" in field else MAX_ITERATIONS})  # the bound itself is fine


@pytest.mark.parametrize("field, value", [
    ("blur_sigma", 1e9), ("feather_px", 1e6), ("group_px", 10**6), ("context_px", 10**9),
    ("min_region_px", 10**12), ("fade_frames", 10**9), ("blur_sigma", float("nan")), ("noise_factor", float("inf")),
    ("group_px", 2.5), ("hold_frames", "8"),
])
def test_adaptive_sizes_are_bounded(field, value):
    with pytest.raises(SteadyStyleError, match=f"{field} must be"):
        AdaptiveParams(**{field: value})


def test_flow_blend_of_the_wrong_type_is_one_line():
    for value in ("half", float("nan"), 2.0):
        with pytest.raises(SteadyStyleError, match="blend must be"):
            FlowParams(blend=value)


@pytest.mark.parametrize("flags", [["--method", "frame-diff", "--erode-kernel", "99999"],
                                   ["--method", "frame-diff", "--dilate-iterations", "1000000"],
                                   ["--method", "adaptive", "--blur-sigma", "1e9"]])
def test_the_cli_refuses_huge_sizes_in_one_line_before_work(tmp_path, tiny_style, capsys, flags):
    src = make_clip(tmp_path / "in.mp4", frames=2)
    status = main(["stylize", str(src), "-o", str(tmp_path / "out.mp4"), "--style", str(tiny_style), "--quiet",
                   *flags])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert status == 2 and len(lines) == 1 and lines[0].startswith("steadystyle: error: ") and " must be " in lines[0]
    assert not (tmp_path / "out.mp4").exists()


def _with_architecture(tmp_path, architecture: dict, name: str = "m.safetensors"):
    path = tmp_path / name
    save_model(TransformerNet(VARIANTS["light"]), path, {"name": "m"})
    tensors = load_file(str(path))
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = json.loads(f.metadata()[METADATA_KEY])
    meta["architecture"] = architecture
    save_file(tensors, str(path), metadata={METADATA_KEY: json.dumps(meta)})
    return path


@pytest.mark.parametrize("architecture, phrase", [
    ({"channels": [16, 32, 100000], "residual_blocks": 2, "outer_kernel": 5}, "channels"),
    ({"channels": [16, 32, 64], "residual_blocks": 40000, "outer_kernel": 5}, "40000 residual blocks"),
    ({"channels": [16, 32, 64], "residual_blocks": 2, "outer_kernel": 999}, "outer kernel"),
    ({"channels": [16, 32, 64], "residual_blocks": 2, "outer_kernel": 10**400}, r"outer kernel of 1000… \(401 digits\)"),
    ({"channels": [16, 32], "residual_blocks": 2, "outer_kernel": 5}, "each of the three"),
    ({"channels": "wide", "residual_blocks": 2, "outer_kernel": 5}, "no valid architecture"),
])
def test_a_model_claiming_a_huge_network_is_refused_before_it_is_built(tmp_path, monkeypatch, architecture, phrase):
    path = _with_architecture(tmp_path, architecture)

    def never(*args, **kwargs):
        raise AssertionError("the network was built before its size was checked")

    monkeypatch.setattr(weights, "TransformerNet", never)
    with pytest.raises(SteadyStyleError, match=phrase) as caught:
        load_model(path)
    assert "\n" not in str(caught.value)


def test_metadata_that_does_not_match_the_tensors_is_refused_before_building(tmp_path, monkeypatch):
    blocks = _with_architecture(tmp_path, {"channels": [16, 32, 64], "residual_blocks": 5, "outer_kernel": 5}, "b.safetensors")
    width = _with_architecture(tmp_path, {"channels": [16, 32, 512], "residual_blocks": 2, "outer_kernel": 5}, "w.safetensors")
    monkeypatch.setattr(weights, "TransformerNet", lambda *a, **k: (_ for _ in ()).throw(AssertionError("built")))
    with pytest.raises(SteadyStyleError, match="claims 5 residual blocks, the weights hold 2"):
        load_model(blocks)
    with pytest.raises(SteadyStyleError, match=r"conv3.conv2d.weight: 64x32x3x3, expected 512x32x3x3"):
        load_model(width)


def test_a_foreign_checkpoint_with_huge_shapes_is_refused(tmp_path):
    state = {"conv1.conv2d.weight": torch.zeros(2, 3, 31, 31), "conv2.conv2d.weight": torch.zeros(4, 2, 3, 3),
             "conv3.conv2d.weight": torch.zeros(LIMITS["channels"] + 1, 4, 1, 1)}
    torch.save(state, tmp_path / "huge.pth")
    with pytest.raises(SteadyStyleError, match="architecture claims"):
        load_model(tmp_path / "huge.pth")
