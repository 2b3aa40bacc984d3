"""Backends agree with PyTorch fp32: ONNX Runtime on the CPU, PyTorch fp16 on CUDA; export-onnx
(OpenVINO: tests/test_openvino.py).

Tolerance (the issue's): mean |Δ| ≤ 1 grey level and ≤ 0.5 % of values off by more than 4.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from steadystyle.backends import make_stylizer, onnx_available, resolve_backend
from steadystyle.cli import main
from steadystyle.errors import SteadyStyleError
from steadystyle.stabilize.base import Box
from steadystyle.stylizer import Stylizer

needs_onnx = pytest.mark.skipif(not onnx_available(), reason="onnxruntime/onnx/onnxscript not installed")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")


def photo_like(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Smooth gradients plus blocks plus noise: H×W×3 uint8 with the statistics of a picture."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 / width, y * 255 / height, (x + y) * 127 / (width + height) + 60], -1)
    blocks = np.kron(rng.uniform(-50, 50, (height // 8 + 1, width // 8 + 1, 3)), np.ones((8, 8, 1)))[:height, :width]
    return np.clip(base + blocks + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)


def assert_close(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype == np.uint8
    d = np.abs(a.astype(np.int16) - b.astype(np.int16))
    assert d.mean() <= 1.0, f"mean |Δ| {d.mean():.3f} > 1 grey level"
    assert (d > 4).mean() <= 0.005, f"{(d > 4).mean():.2%} of values off by > 4"


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("STEADYSTYLE_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def pair(tiny_style, onnx_cache):
    if not onnx_available():
        pytest.skip("onnxruntime not installed")
    return Stylizer(tiny_style, device="cpu"), make_stylizer(tiny_style, backend="onnx", device="cpu")


@needs_onnx
@pytest.mark.parametrize("size", [(48, 64), (37, 53), (61, 90), (6, 9)])
def test_onnx_matches_torch_fp32_on_any_size(pair, size):
    torch_stylizer, ort_stylizer = pair
    image = photo_like(*size)
    out = ort_stylizer(image)
    assert out.shape == image.shape
    assert_close(out, torch_stylizer(image))


@needs_onnx
def test_onnx_stylizer_interface(pair):
    _, ort_stylizer = pair
    assert ort_stylizer.backend == "onnx" and ort_stylizer.device == "cpu" and ort_stylizer.name == "tiny"
    ort_stylizer.synchronize()
    with pytest.raises(ValueError, match="uint8"):
        ort_stylizer(np.zeros((8, 8, 3), np.float32))


@needs_onnx
def test_onnx_regions_match_torch_regions_and_the_full_frame(pair):
    torch_stylizer, ort_stylizer = pair
    image = photo_like(120, 160, seed=3)
    box = Box(50, 70, 60, 84)
    for s in pair:
        s.stylize_region(image, box)  # first region: no statistics yet → full pass that records them
    full_torch = torch_stylizer(image)
    region_torch = torch_stylizer.stylize_region(image, box)
    region_ort = ort_stylizer.stylize_region(image, box)
    assert region_torch.shape == region_ort.shape == (20, 24, 3)
    # frozen statistics of this very frame + context ≥ the receptive radius: the full frame's values
    assert np.abs(region_torch.astype(int) - full_torch[box.slices()]).max() <= 1
    assert_close(region_ort, region_torch)


@needs_onnx
def test_make_stylizer_and_auto(tiny_style, onnx_cache, monkeypatch):
    import importlib.util

    assert make_stylizer(tiny_style, backend="torch", device="cpu").backend == "torch"
    assert resolve_backend("auto", "cuda") == "torch"
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "openvino" else find_spec(name, *a))
    # without OpenVINO, auto on the CPU falls back to ONNX Runtime (measured next fastest, docs/bench.md)
    assert resolve_backend("auto", "cpu") == "onnx"
    assert make_stylizer(tiny_style, backend="auto", device="cpu").backend == "onnx"
    with pytest.raises(SteadyStyleError, match="backend 'openvino' needs openvino.*pip install openvino"):
        make_stylizer(tiny_style, backend="openvino", device="cpu")


def test_unknown_backend_is_one_line(tiny_style):
    with pytest.raises(SteadyStyleError, match="unknown backend 'tensorrt'; choose auto, torch, onnx, openvino") as err:
        make_stylizer(tiny_style, backend="tensorrt")
    assert "\n" not in str(err.value)


@needs_onnx
def test_export_onnx_writes_a_file_onnx_runtime_loads_with_metadata(tiny_style, tmp_path, capsys):
    import onnx
    import onnxruntime as ort

    out = tmp_path / "tiny.onnx"
    assert main(["export-onnx", str(tiny_style), "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert not [p for p in tmp_path.iterdir() if p.name != "tiny.onnx"], "temporary file left behind"
    model = onnx.load(str(out))
    assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= 17
    props = {p.key: p.value for p in model.metadata_props}
    meta = json.loads(props["steadystyle"])
    assert props["name"] == meta["name"] == "tiny" and meta["painting"] == "none.jpg" and meta["variant"] == "light"
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", 3, "height", "width"]
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    reference = Stylizer(tiny_style, device="cpu")
    for h, w in ((32, 48), (44, 60)):  # other sizes than the export's example, batch of 2
        images = [photo_like(h, w, seed) for seed in (1, 2)]
        x = np.stack([i.transpose(2, 0, 1) for i in images]).astype(np.float32)
        y = session.run(None, {"input": x})[0]
        assert y.shape == (2, 3, h, w)
        for image, out_image in zip(images, y):
            assert_close(np.rint(np.clip(out_image, 0, 255)).astype(np.uint8).transpose(1, 2, 0), reference(image))


def test_export_onnx_bad_inputs_are_one_line(tiny_style, tmp_path, capsys):
    assert main(["export-onnx", "no-such-style", "-o", str(tmp_path / "x.onnx")]) == 2
    assert main(["export-onnx", str(tiny_style), "-o", str(tmp_path / "missing" / "x.onnx")]) == 2
    assert main(["export-onnx", str(tiny_style), "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("steadystyle: error:") for line in err)
    assert "unknown style" in err[0] and "no such folder" in err[1] and "is a folder" in err[2]
    assert list(tmp_path.iterdir()) == []


@needs_cuda
def test_cuda_fp16_channels_last_matches_cpu_fp32(tiny_style):
    cpu = Stylizer(tiny_style, device="cpu")
    gpu = Stylizer(tiny_style, device="cuda")
    assert gpu.half and gpu.channels_last
    for size in ((48, 64), (37, 53)):
        image = photo_like(*size)
        assert_close(gpu(image), cpu(image))
    image = photo_like(120, 160)
    box = Box(50, 70, 60, 84)
    gpu.stylize_region(image, box)
    cpu.stylize_region(image, box)
    assert_close(gpu.stylize_region(image, box), cpu.stylize_region(image, box))


def test_fp16_on_the_cpu_is_refused(tiny_style):
    with pytest.raises(SteadyStyleError, match="fp16 needs a CUDA device"):
        Stylizer(tiny_style, device="cpu", precision="fp16")


@pytest.mark.parametrize("backend", ["torch", "onnx", "openvino"])
def test_statistics_are_recorded_every_few_full_passes_and_always_for_a_new_size(tiny_style, backend):
    from steadystyle.backends import REGISTRY
    from steadystyle.backends.base import RECORD_EVERY

    if not REGISTRY[backend].available():
        pytest.skip(f"{backend} not installed")
    stylizer = make_stylizer(tiny_style, backend=backend, device="cpu")
    frames = [photo_like(40, 56, seed=s) for s in range(2 * RECORD_EVERY + 1)]
    stylizer(frames[0])
    assert stylizer.region_stats is None  # nobody asked for statistics: plain passes only
    stylizer.track_stats = True
    recorded = []
    for frame in frames:
        before = stylizer.region_stats
        stylizer(frame)
        recorded.append(stylizer.region_stats is not before)
    assert recorded == ([True] + [False] * (RECORD_EVERY - 1)) * 2 + [True]
    stylizer(photo_like(44, 60, seed=99))  # another frame size: its statistics are recorded at once
    assert stylizer.region_stats.size == (44, 60)
    stylizer.record_every = 1
    before = stylizer.region_stats
    stylizer(frames[0])
    assert stylizer.region_stats is not before and stylizer.region_stats.size == (40, 56)
