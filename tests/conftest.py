"""Fixtures shared across test modules."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))  # for `import helpers`

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
