"""Perceptual losses (Johnson et al. 2016) and the frame-difference temporal loss.

All inputs are N×3×H×W float RGB 0–255; features are dicts from a loss network
(:mod:`steadystyle.train.vgg`).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def gram(features: torch.Tensor) -> torch.Tensor:
    """Gram matrix of N×C×H×W features, normalised by C·H·W (as in Johnson et al.): N×C×C."""
    n, c, h, w = features.shape
    f = features.reshape(n, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


def content_loss(out_features: torch.Tensor, target_features: torch.Tensor) -> torch.Tensor:
    """Feature reconstruction loss, relative: MSE(φ(y), φ(x)) / mean(φ(x)²).

    Johnson et al. use the plain MSE; dividing by the target's mean square makes the loss
    unitless (≈1 for an unrelated image), so one set of weights suits every loss network.
    """
    return F.mse_loss(out_features, target_features) / target_features.detach().pow(2).mean().clamp_min(1e-8)


def style_loss(out_features: dict[str, torch.Tensor], style_grams: dict[str, torch.Tensor]) -> torch.Tensor:
    """Sum over layers of the relative Gram error MSE(G(y), G_s) / mean(G_s²) (targets 1×C×C, broadcast).

    With the plain MSE of Johnson et al. the deepest layer outweighs the first by 10³–10⁴ (its
    Gram entries are that much larger), so colour and fine texture are barely learnt, and the right
    style weight changes from painting to painting by 50×. Normalising each layer by its target's
    mean square gives every layer an equal say and makes one style weight fit all paintings.
    """
    total = out_features[next(iter(style_grams))].new_zeros(())
    for name, target in style_grams.items():
        g = gram(out_features[name])
        total = total + F.mse_loss(g, target.expand_as(g)) / target.pow(2).mean().clamp_min(1e-8)
    return total


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of neighbouring pixels (anisotropic TV), grey levels."""
    return (image[..., 1:, :] - image[..., :-1, :]).abs().mean() + (image[..., :, 1:] - image[..., :, :-1]).abs().mean()


def frame_difference_loss(y_prev: torch.Tensor, y_cur: torch.Tensor, x_prev: torch.Tensor, x_cur: torch.Tensor,
                          feat_y_prev: torch.Tensor | None = None, feat_y_cur: torch.Tensor | None = None,
                          feat_x_prev: torch.Tensor | None = None, feat_x_cur: torch.Tensor | None = None,
                          pixel_weight: float = 5e-4, feature_weight: float = 3e-2,
                          feature_distance: str = "l1") -> tuple[torch.Tensor, torch.Tensor]:
    """Frame-difference loss (Xu, Xiong & Hu, arXiv 2102.05822): (pixel term, feature term).

    The change of the output between consecutive frames should equal the change of the input:
    pixel term = pixel_weight · MSE(y(t) − y(t−1), x(t) − x(t−1)) on 0–255 pixels;
    feature term = feature_weight · dist(φ(y(t)) − φ(y(t−1)), φ(x(t)) − φ(x(t−1))) with φ a
    relu3 feature map, the input features taken without gradient. The authors' code (``fdb.py``)
    uses L1 for the feature term ("C-FDB", weights 10 and 600 beside a raw content MSE; ours are
    rescaled to our relative content/style losses, same 1 : 60 ratio, see
    ``steadystyle.train.trainer.CFDB_PIXEL_WEIGHT``); ``feature_distance='mse'`` gives the
    squared form of the paper's equation. With no features given, only the pixel term
    ("P-FDB") is non-zero.
    """
    pix = pixel_weight * F.mse_loss(y_cur - y_prev, x_cur - x_prev)
    if feat_y_cur is None or feature_weight == 0:
        return pix, pix.new_zeros(())
    dist = F.l1_loss if feature_distance == "l1" else F.mse_loss
    target = (feat_x_cur - feat_x_prev).detach()
    return pix, feature_weight * dist(feat_y_cur - feat_y_prev, target)
