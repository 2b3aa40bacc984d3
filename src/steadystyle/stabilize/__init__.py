"""Stabilizers: objects with ``reset()`` and ``__call__(frame, stylize) -> output``.

``framediff`` is the paper's method (Xiong, Weber & Hu, ICICIP 2018), in NumPy/OpenCV and torch.
"""

from .framediff import (
    FrameDiffParams,
    FrameDiffStabilizer,
    TorchFrameDiffStabilizer,
    background_mask,
    background_mask_torch,
    close_mask,
    close_mask_torch,
    composite,
    composite_torch,
    grey_level,
    grey_level_torch,
)

__all__ = [
    "FrameDiffParams",
    "FrameDiffStabilizer",
    "TorchFrameDiffStabilizer",
    "background_mask",
    "background_mask_torch",
    "close_mask",
    "close_mask_torch",
    "composite",
    "composite_torch",
    "grey_level",
    "grey_level_torch",
]
