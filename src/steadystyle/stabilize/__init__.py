"""Stabilizers: objects with ``reset()`` and ``__call__(frame, stylize) -> output`` (see ``base``).

Methods register by name (``base.register``); ``make_stabilizer(name, **params)`` builds one.
``framediff`` is the paper's method (Xiong, Weber & Hu, ICICIP 2018); ``perframe`` the baseline.
"""

from .base import METHODS, Box, Stabilizer, get_method, make_params, make_stabilizer, method_names, params_dict, register
from .perframe import PerFrame  # isort: skip  (registration order: per-frame first)
from .framediff import FrameDiffParams, FrameDiffStabilizer, background_mask, close_mask, composite, grey_level

__all__ = [
    "METHODS", "Box", "Stabilizer", "get_method", "make_params", "make_stabilizer", "method_names", "params_dict",
    "register", "FrameDiffParams", "FrameDiffStabilizer", "PerFrame", "background_mask", "close_mask", "composite",
    "grey_level",
]
