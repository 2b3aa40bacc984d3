"""The transformer network and its compatibility with pytorch/examples checkpoints."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from steadystyle.errors import SteadyStyleError
from steadystyle.network import VARIANTS, NetworkConfig, TransformerNet
from steadystyle.stylizer import Stylizer, image_to_tensor, tensor_to_image
from steadystyle.weights import StyleModel, infer_config, load_model, read_metadata, save_model


def reference_forward(state: dict, x: torch.Tensor) -> torch.Tensor:
    """pytorch/examples fast_neural_style TransformerNet, written out with functional ops from
    the state dict alone (an independent reading of its architecture)."""

    def conv(name, y, stride=1, upsample=False):
        w = state[f"{name}.conv2d.weight"]
        if upsample:
            y = F.interpolate(y, scale_factor=2, mode="nearest")
        y = F.pad(y, [w.shape[-1] // 2] * 4, mode="reflect")
        return F.conv2d(y, w, state[f"{name}.conv2d.bias"], stride=stride)

    def inorm(name, y):
        return F.instance_norm(y, weight=state[f"{name}.weight"], bias=state[f"{name}.bias"], eps=1e-5)

    y = F.relu(inorm("in1", conv("conv1", x)))
    y = F.relu(inorm("in2", conv("conv2", y, 2)))
    y = F.relu(inorm("in3", conv("conv3", y, 2)))
    for i in range(1, 6):
        r = y
        y = F.relu(inorm(f"res{i}.in1", conv(f"res{i}.conv1", y)))
        y = inorm(f"res{i}.in2", conv(f"res{i}.conv2", y)) + r
    y = F.relu(inorm("in4", conv("deconv1", y, upsample=True)))
    y = F.relu(inorm("in5", conv("deconv2", y, upsample=True)))
    return conv("deconv3", y)


def examples_checkpoint(seed: int = 0) -> dict:
    """A state dict shaped like pytorch/examples' saved models, old format (with running stats)."""
    torch.manual_seed(seed)
    state = {k: torch.randn_like(v) * 0.1 if "weight" in k and v.dim() == 4 else v + 0.05 * torch.randn_like(v)
             for k, v in TransformerNet(VARIANTS["full"]).state_dict().items()}
    for k in list(state):
        if k.endswith(".weight") and state[k].dim() == 1:  # instance-norm affine → old running stats too
            prefix = k[: -len(".weight")]
            state[f"{prefix}.running_mean"] = torch.zeros_like(state[k])
            state[f"{prefix}.running_var"] = torch.ones_like(state[k])
    return state


def test_full_and_light_shapes_keep_size():
    x = torch.rand(2, 3, 36, 44) * 255
    for name, config in VARIANTS.items():
        y = TransformerNet(config)(x)
        assert y.shape == x.shape, name


def test_light_is_half_width_of_full():
    assert VARIANTS["light"].channels == tuple(c // 2 for c in VARIANTS["full"].channels)
    assert VARIANTS["full"] == NetworkConfig((32, 64, 128), 5, 9)


def test_examples_checkpoint_loads_and_matches_reference(tmp_path):
    state = examples_checkpoint()
    path = tmp_path / "mosaic.pth"
    torch.save(state, path)
    model = load_model(path)
    assert model.network.config == VARIANTS["full"]
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, size=(32, 48, 3), dtype=np.uint8)
    ours = Stylizer(model, device="cpu")(image)
    clean = {k: v for k, v in state.items() if "running" not in k}
    with torch.no_grad():
        ref = reference_forward(clean, image_to_tensor(image)).clamp(0, 255)[0]
    ref_uint8 = ref.permute(1, 2, 0).numpy().astype(np.uint8)  # examples' save_image truncates
    assert np.abs(ours.astype(int) - ref_uint8.astype(int)).max() <= 1


def test_examples_checkpoint_with_module_prefix_and_state_dict_wrapper(tmp_path):
    state = {"state_dict": {f"module.{k}": v for k, v in examples_checkpoint().items()}}
    torch.save(state, tmp_path / "w.pth")
    assert load_model(tmp_path / "w.pth").network.config == VARIANTS["full"]


def test_pickle_that_is_not_plain_weights_is_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"model": TransformerNet(VARIANTS["light"])}, path)  # a pickled module object
    with pytest.raises(SteadyStyleError, match="evil.pth.*more than plain weights"):
        load_model(path)


def test_corrupt_and_wrong_architecture_files(tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(SteadyStyleError, match="bad.pth"):
        load_model(bad)
    torch.save({"fc.weight": torch.zeros(3, 3)}, tmp_path / "other.pth")
    with pytest.raises(SteadyStyleError, match="other.pth"):
        load_model(tmp_path / "other.pth")
    state = examples_checkpoint()
    del state["res5.conv2.conv2d.weight"]
    torch.save(state, tmp_path / "partial.pth")
    with pytest.raises(SteadyStyleError, match="partial.pth.*do not fit"):
        load_model(tmp_path / "partial.pth")
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 20)
    with pytest.raises(SteadyStyleError, match="bad.safetensors"):
        load_model(tmp_path / "bad.safetensors")
    with pytest.raises(SteadyStyleError, match="no such model file"):
        load_model(tmp_path / "missing.safetensors")


def test_safetensors_round_trip_fp16_with_metadata(tmp_path):
    torch.manual_seed(0)
    net = TransformerNet(VARIANTS["light"]).eval()
    path = save_model(net, tmp_path / "s.safetensors", {"name": "s", "painting": "p.jpg"})
    meta = read_metadata(path)
    assert meta["variant"] == "light" and meta["painting"] == "p.jpg" and meta["format_version"] == 1
    assert NetworkConfig.from_dict(meta["architecture"]) == VARIANTS["light"]
    loaded = load_model(path)
    x = torch.rand(1, 3, 24, 24) * 255
    with torch.no_grad():
        assert torch.allclose(loaded.network(x), net(x), atol=2.0)  # fp16 weights
    assert not list(tmp_path.glob(".*tmp"))


def test_infer_config_of_light_state():
    state = TransformerNet(VARIANTS["light"]).state_dict()
    assert infer_config(state) == VARIANTS["light"]


@pytest.mark.parametrize("size", [(17, 23), (5, 6), (240, 322), (33, 32)])
def test_stylizer_keeps_any_size(size):
    torch.manual_seed(0)
    stylizer = Stylizer(StyleModel(TransformerNet(VARIANTS["light"]).eval(), {"name": "t"}), device="cpu")
    image = np.random.default_rng(0).integers(0, 256, size=(*size, 3), dtype=np.uint8)
    out = stylizer(image)
    assert out.shape == image.shape and out.dtype == np.uint8


def test_stylizer_max_side_runs_smaller_and_returns_input_size():
    seen = []
    net = TransformerNet(VARIANTS["light"]).eval()
    net.register_forward_hook(lambda m, i, o: seen.append(tuple(i[0].shape[-2:])))
    stylizer = Stylizer(StyleModel(net, {"name": "t"}), device="cpu", max_side=64)
    out = stylizer(np.zeros((120, 160, 3), np.uint8))
    assert out.shape == (120, 160, 3)
    assert seen == [(48, 64)]


def test_tensor_conversions_round_trip():
    image = np.random.default_rng(3).integers(0, 256, size=(7, 9, 3), dtype=np.uint8)
    t = image_to_tensor(image)
    assert t.shape == (1, 3, 7, 9) and t.dtype == torch.float32 and t.max() <= 255
    assert np.array_equal(tensor_to_image(t), image)


def test_saved_model_has_normal_permissions(tmp_path):
    import os

    path = save_model(TransformerNet(VARIANTS["light"]), tmp_path / "p.safetensors", {"name": "p"})
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_out_of_memory_becomes_one_line_advice():
    class Exploding(torch.nn.Module):
        def forward(self, x):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")

    model = StyleModel(TransformerNet(VARIANTS["light"]), {"name": "t"})
    stylizer = Stylizer(model, device="cpu")
    stylizer.network = Exploding()
    with pytest.raises(SteadyStyleError, match="out of cpu memory stylizing 64×48.*--max-side 32"):
        stylizer(np.zeros((48, 64, 3), np.uint8))
