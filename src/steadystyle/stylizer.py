"""Compatibility names for the PyTorch stylizer, which lives in :mod:`steadystyle.backends.torch`.

Build stylizers with :func:`steadystyle.backends.make_stylizer` (or a
:class:`~steadystyle.spec.RunSpec`); ``Stylizer`` here is the PyTorch class, for code that
constructs it by name.
"""

from __future__ import annotations

from .backends.base import REGION_FULL_FRACTION, check_region, working_size
from .backends.torch import TorchStylizer as Stylizer
from .backends.torch import image_to_tensor, pad_to_4, pick_device, tensor_to_image
from .fit import resize_image
from .frames import check_frame


__all__ = ["Stylizer", "REGION_FULL_FRACTION", "pad_to_4", "check_frame", "check_region", "image_to_tensor",
           "tensor_to_image", "pick_device", "working_size", "resize_image"]
