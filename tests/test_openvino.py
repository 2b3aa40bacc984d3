"""The OpenVINO backend agrees with PyTorch fp32 (PSNR), on full frames, odd sizes, ``max_side``
and region passes with frozen statistics; ``auto`` and the CLI reach it.

Bounds are a little below what was measured with the tiny network and the shipped ``scream``
(bf16 full frames 54.8–57.7 dB, regions 52–54 dB; f32 86–90 dB or identical).
"""

from __future__ import annotations

import numpy as np
import pytest

from steadystyle.backends import CPU_PREFERENCE, REGISTRY, make_stylizer, resolve_backend
from steadystyle.errors import SteadyStyleError
from steadystyle.geometry import Box

from test_backends import photo_like

needs_openvino = pytest.mark.skipif(not REGISTRY["openvino"].available(), reason="openvino/onnx/onnxscript not installed")
pytestmark = needs_openvino

BF16_PSNR = 52.0
BF16_REGION_PSNR = 50.0
F32_PSNR = 80.0
INT8_PSNR = 36.0  # int8 vs torch fp32: 42.5 dB measured on the tiny network; the shipped scream 30.6–44 dB (tools/quantize_openvino_int8.py)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio (dB) of two uint8 images of one shape; inf when identical."""
    assert a.shape == b.shape and a.dtype == b.dtype == np.uint8
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def bf16_here() -> bool:
    from steadystyle.backends.openvino import cpu_supports_bf16

    return cpu_supports_bf16()


@pytest.fixture(scope="module")
def reference(tiny_style):
    return make_stylizer(tiny_style, backend="torch", device="cpu")


@pytest.fixture(scope="module", params=["bf16", "f32"])
def ov_stylizer(request, tiny_style):
    from steadystyle.backends.openvino import OpenVinoStylizer

    if request.param == "bf16" and not bf16_here():
        pytest.skip("this CPU has no bf16")
    return OpenVinoStylizer(tiny_style, device="cpu", precision=request.param)


def bound(stylizer, region: bool = False) -> float:
    if stylizer.precision == "f32":
        return F32_PSNR
    return BF16_REGION_PSNR if region else BF16_PSNR


@pytest.mark.parametrize("size", [(240, 320), (37, 53), (61, 90)])
def test_full_frames_match_torch_fp32_on_any_size(ov_stylizer, reference, size):
    image = photo_like(*size, seed=size[0])
    out = ov_stylizer(image)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert psnr(out, reference(image)) >= bound(ov_stylizer)


def test_frames_thinner_than_the_network_needs_run_scaled_up(ov_stylizer, reference):
    image = photo_like(6, 9, seed=6)
    out = ov_stylizer(image)
    assert out.shape == image.shape
    # both scale to 16×24 and back, torch on floats, OpenCV on uint8: 34.9 dB measured (ONNX Runtime the same)
    assert psnr(out, reference(image)) >= 30


def test_max_side_runs_small_and_scales_back(tiny_style, reference):
    from steadystyle.backends.openvino import OpenVinoStylizer

    small = OpenVinoStylizer(tiny_style, max_side=64, precision="f32")
    torch_small = make_stylizer(tiny_style, backend="torch", device="cpu", max_side=64)
    image = photo_like(120, 160, seed=5)
    out = small(image)
    assert out.shape == image.shape
    assert [shape for _, shape in small.compiled_shapes()] == [(48, 64)]  # ran at 64×48, not 160×120
    # torch scales down by area on floats, OpenCV on uint8 (as the ONNX backend): 40-41.8 dB measured
    assert psnr(out, torch_small(image)) >= 37
    assert psnr(out, reference(image)) < 30  # and it is not the full-size result (25.7 dB measured)


def test_region_passes_equal_the_full_frame_inside_the_box(ov_stylizer, reference):
    image = photo_like(120, 160, seed=3)
    box = Box(50, 70, 60, 84)
    ov_stylizer.stylize_region(image, box)  # no statistics yet: a full pass that records them
    full = ov_stylizer(image)
    region = ov_stylizer.stylize_region(image, box)
    assert region.shape == (20, 24, 3)
    assert ("frozen", None) in ov_stylizer.compiled_shapes()  # it really ran the frozen graph on a crop
    assert np.abs(region.astype(int) - full[box.slices()]).max() <= (0 if ov_stylizer.precision == "f32" else 3)
    reference.stylize_region(image, box)
    assert psnr(region, reference.stylize_region(image, box)) >= bound(ov_stylizer, region=True)


def test_recorded_statistics_are_torchs(tiny_style):
    import torch

    from steadystyle.backends.openvino import OpenVinoStylizer
    from steadystyle.backends.onnx import pack_stats
    from steadystyle.backends.torch import image_to_tensor, load_model

    stylizer = OpenVinoStylizer(tiny_style, precision="f32")
    image = photo_like(64, 96, seed=9)
    stylizer.track_stats = True
    stylizer(image)
    net = load_model(tiny_style).network
    with torch.no_grad():
        _, stats = net.forward_recording(image_to_tensor(image))
    expected = pack_stats(stats).numpy()
    assert stylizer.region_stats.size == (64, 96) and stylizer.region_stats.values.shape == expected.shape
    np.testing.assert_allclose(stylizer.region_stats.values, expected, rtol=1e-3, atol=1e-3)


def test_shapes_are_compiled_once_and_bounded(tiny_style, reference):
    from steadystyle.backends.openvino import CACHE_SIZE, OpenVinoStylizer

    stylizer = OpenVinoStylizer(tiny_style, precision="f32")
    sizes = [(16 + 4 * i, 20 + 4 * i) for i in range(CACHE_SIZE + 2)]
    images = {s: photo_like(*s, seed=i) for i, s in enumerate(sizes)}
    for s in sizes + sizes[-2:]:  # the last two again: cache hits, not new compilations
        assert psnr(stylizer(images[s]), reference(images[s])) >= F32_PSNR
    held = stylizer.compiled_shapes()
    assert len(held) == CACHE_SIZE and held[-2:] == [("plain", s) for s in sizes[-2:]]


def test_precision_choice_and_bad_values(tiny_style, monkeypatch):
    from steadystyle.backends.openvino import PRECISION_ENV, OpenVinoStylizer, resolve_precision

    monkeypatch.setenv(PRECISION_ENV, "f32")
    assert resolve_precision() == "f32" and OpenVinoStylizer(tiny_style).config["INFERENCE_PRECISION_HINT"] == "f32"
    monkeypatch.delenv(PRECISION_ENV)
    assert resolve_precision("auto") == ("bf16" if bf16_here() else "f32")
    monkeypatch.setenv(PRECISION_ENV, "int4")
    with pytest.raises(SteadyStyleError, match="unknown OpenVINO precision 'int4'") as err:
        OpenVinoStylizer(tiny_style)
    assert "\n" not in str(err.value)
    with pytest.raises(SteadyStyleError, match="runs on the CPU"):
        OpenVinoStylizer(tiny_style, device="cuda", precision="f32")
    assert OpenVinoStylizer(tiny_style, precision="f32", threads=1).config["INFERENCE_NUM_THREADS"] == 1
    monkeypatch.setenv(PRECISION_ENV, "f32")
    assert make_stylizer(tiny_style, backend="openvino", device="cpu", threads=1).config["INFERENCE_NUM_THREADS"] == 1


def test_auto_on_the_cpu_picks_the_first_installed_preference(tiny_style):
    first = next(name for name in CPU_PREFERENCE if REGISTRY[name].available())
    assert resolve_backend("auto", "cpu") == first
    assert make_stylizer(tiny_style, backend="auto", device="cpu").backend == first
    assert make_stylizer(tiny_style, backend="openvino", device="cpu").backend == "openvino"


def test_auto_prefers_openvino_when_installed():
    assert CPU_PREFERENCE[0] == "openvino", "measured fastest on the CPU (docs/bench.md)"
    assert resolve_backend("auto", "cpu") == "openvino"


def test_stylize_command_runs_on_openvino(tiny_style, tmp_path):
    import json

    from helpers import make_clip

    from steadystyle.cli import main

    clip = make_clip(tmp_path / "in.mp4", frames=4, size=(48, 36))
    out, stats = tmp_path / "out.mp4", tmp_path / "stats.json"
    assert main(["stylize", str(clip), "-o", str(out), "--style", str(tiny_style), "--backend", "openvino",
                 "--stats", str(stats)]) == 0
    data = json.loads(stats.read_text())
    assert data["backend"] == "openvino" and data["frames"] == 4 and out.stat().st_size > 0


def test_every_openvino_stylizer_bounds_the_plugins_shape_cache():
    """A long stream meets new crop shapes for as long as it runs: OpenVINO's default cache of 5000
    prepared shapes grew memory with each (live and files too, not only the web call)."""
    from steadystyle.backends.openvino import SHAPE_CACHE

    stylizer = make_stylizer("scream", backend="openvino", device="cpu")
    assert stylizer.config["CPU_RUNTIME_CACHE_CAPACITY"] == str(SHAPE_CACHE) and 0 < SHAPE_CACHE < 5000


def _nncf_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("nncf") is not None


@pytest.mark.skipif(not _nncf_installed(), reason="nncf not installed (the int8 extra)")
def test_int8_is_quantized_close_to_torch_cached_and_regions_fit_the_full_frame(tiny_style, reference, tmp_path,
                                                                                 monkeypatch):
    from steadystyle.backends.openvino import OpenVinoStylizer

    monkeypatch.setenv("STEADYSTYLE_CACHE", str(tmp_path))
    stylizer = OpenVinoStylizer(tiny_style, precision="int8")
    assert stylizer.config["INFERENCE_PRECISION_HINT"] == "f32"  # what is not quantized runs f32
    image = photo_like(120, 160, seed=3)
    out = stylizer(image)
    ops = {op.get_type_name() for op in stylizer._graph("plain").get_ordered_ops()}
    assert "FakeQuantize" in ops  # really quantized
    quality = psnr(out, reference(image))
    assert INT8_PSNR <= quality < F32_PSNR  # close to torch, and not simply the float graph
    cached = sorted(p.name for p in (tmp_path / "openvino-int8").iterdir())
    assert len(cached) == 2 and cached[0].endswith(".bin") and cached[1].endswith(".xml")
    again = OpenVinoStylizer(tiny_style, precision="int8")
    np.testing.assert_array_equal(again(image), out)  # read back from the cache, the same graph
    box = Box(50, 70, 60, 84)
    stylizer.stylize_region(image, box)  # records statistics (the float record graph)
    full = stylizer(image)
    region = stylizer.stylize_region(image, box)
    assert ("frozen", None) in stylizer.compiled_shapes()
    assert psnr(region, full[box.slices()]) >= INT8_PSNR - 3


def test_int8_without_nncf_is_one_line(tiny_style, monkeypatch):
    import builtins

    from steadystyle.backends.openvino import OpenVinoStylizer

    real = builtins.__import__

    def no_nncf(name, *args, **kwargs):
        if name == "nncf" or name.startswith("nncf."):
            raise ImportError("no nncf")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_nncf)
    with pytest.raises(SteadyStyleError, match=r"int8 needs NNCF: pip install 'steadystyle\[int8\]'") as err:
        OpenVinoStylizer(tiny_style, precision="int8")
    assert "\n" not in str(err.value)
