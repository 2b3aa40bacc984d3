"""Stabilizers: objects with ``reset()`` and ``__call__(frame, stylize) -> output`` (see ``base``).

Methods register by name (``base.register``); ``make_stabilizer(name, **params)`` builds one.
``framediff`` is the paper's method (Xiong, Weber & Hu, ICICIP 2018); ``perframe`` the baseline.
``masks`` holds the one implementation of each of the paper's equations (1–5) and the one blend
``lerp``, which every method imports.
"""

from .base import METHODS, Box, Stabilizer, get_method, make_params, make_stabilizer, method_names, params_dict, register
from .perframe import PerFrame  # isort: skip  (registration order: per-frame first)
from .framediff import FrameDiffParams, FrameDiffStabilizer
from .masks import background_mask, close_mask, composite, grey_level, lerp

__all__ = [
    "METHODS", "Box", "Stabilizer", "get_method", "make_params", "make_stabilizer", "method_names", "params_dict",
    "register", "FrameDiffParams", "FrameDiffStabilizer", "PerFrame", "background_mask", "close_mask", "composite",
    "grey_level", "lerp",
]
