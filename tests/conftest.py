"""Fixtures shared across test modules."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))  # for `import helpers`


@pytest.fixture(scope="session", autouse=True)
def _model_cache(tmp_path_factory):
    """ONNX exports go to a temporary cache, not the user's home folder."""
    import os

    old = os.environ.get("STEADYSTYLE_CACHE")
    os.environ["STEADYSTYLE_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("STEADYSTYLE_CACHE", None)
    else:
        os.environ["STEADYSTYLE_CACHE"] = old

from steadystyle.network import VARIANTS, TransformerNet  # noqa: E402
from steadystyle.weights import save_model  # noqa: E402


@pytest.fixture(scope="session")
def tiny_style(tmp_path_factory) -> Path:
    """A fixed-seed (untrained) light network saved as our safetensors: fast and deterministic."""
    torch.manual_seed(0)
    net = TransformerNet(VARIANTS["light"])
    with torch.no_grad():  # spread the output over the 0–255 range like a trained model
        net.deconv3.conv2d.weight.mul_(30)
        net.deconv3.conv2d.bias.fill_(127.5)
    path = tmp_path_factory.mktemp("styles") / "tiny.safetensors"
    return save_model(net.eval(), path, {"name": "tiny", "painting": "none.jpg"})


@pytest.fixture(scope="session")
def two_styles(tiny_style, tmp_path_factory):
    """Two different tiny networks as served styles ``tiny`` and ``other``."""
    import torch

    from steadystyle.network import VARIANTS, TransformerNet
    from steadystyle.weights import save_model

    torch.manual_seed(7)
    net = TransformerNet(VARIANTS["light"])
    with torch.no_grad():
        net.deconv3.conv2d.weight.mul_(-30)
        net.deconv3.conv2d.bias.fill_(100.0)
    other = save_model(net.eval(), tmp_path_factory.mktemp("other") / "other.safetensors", {"name": "other"})
    return {"tiny": tiny_style, "other": other}
