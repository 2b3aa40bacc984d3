"""Where the style network runs: PyTorch (CPU, CUDA fp16) or ONNX Runtime (CPU).

Every backend is a stylizer with the same interface as :class:`~steadystyle.stylizer.Stylizer`:
``__call__(image)`` (H×W×3 uint8 RGB → same size), ``stylize_region(image, box)``, ``name``,
``device``, ``backend`` and ``synchronize()``.

``auto`` picks, for the device asked for:

- CUDA (``--device cuda``, or ``auto`` with a GPU): PyTorch, fp16 + channels_last;
- CPU: ONNX Runtime when it is installed, else PyTorch.  Measured on the development machine
  (2 shared cores, light network, 320×240, median of 15 runs in one process): ONNX Runtime 4–5×
  faster than PyTorch eager (``tools/quantize_int8.md`` has the numbers and the command).
"""

from __future__ import annotations

import importlib.util
import os

from ..errors import SteadyStyleError

#: Backend names users may type (``auto`` chooses among the others).
BACKENDS = ("auto", "torch", "onnx")


def onnx_available() -> bool:
    """Whether ONNX Runtime and the ONNX exporter's dependencies are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx", "onnxscript"))


def resolve_backend(backend: str, device: str = "auto") -> str:
    """The concrete backend ``backend`` means on ``device`` (``auto`` → the fastest installed)."""
    if backend not in BACKENDS:
        raise SteadyStyleError(f"unknown backend {backend!r}; choose {', '.join(BACKENDS)}")
    if backend != "auto":
        return backend
    if device.startswith("cuda"):
        return "torch"
    if device == "auto":
        import torch

        if torch.cuda.is_available():
            return "torch"
    return "onnx" if onnx_available() else "torch"


def make_stylizer(style, backend: str = "auto", device: str = "auto", max_side: int | None = None):
    """A stylizer for ``style`` (shipped name, model file or loaded model) on ``backend``."""
    concrete = resolve_backend(backend, device)
    if concrete == "torch":
        from ..stylizer import Stylizer

        return Stylizer(style, device=device, max_side=max_side)
    if not onnx_available():
        raise SteadyStyleError(f"backend {concrete!r} needs ONNX Runtime: pip install onnxruntime onnx onnxscript")
    from .onnx import OnnxStylizer

    return OnnxStylizer(style, device=device, max_side=max_side)


def cache_dir() -> str:
    """Folder for exported ONNX graphs: ``$STEADYSTYLE_CACHE`` or ``~/.cache/steadystyle``."""
    return os.environ.get("STEADYSTYLE_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "steadystyle")


__all__ = ["BACKENDS", "onnx_available", "resolve_backend", "make_stylizer", "cache_dir"]
