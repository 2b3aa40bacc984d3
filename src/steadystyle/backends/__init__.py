"""Where the style network runs, and the only place a stylizer is built (:func:`make_stylizer`).

Every backend implements the :class:`~steadystyle.backends.base.Stylizer` protocol.  The table
:data:`REGISTRY` names each one: adding a backend is a new module here plus one row in it.

``auto`` picks, for the device asked for:

- CUDA (``--device cuda``, or ``auto`` with a GPU): PyTorch, fp16 + channels_last;
- CPU: the first installed of :data:`CPU_PREFERENCE` (fastest first, measured with
  ``steadystyle bench``), PyTorch when none is.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass

from ..errors import SteadyStyleError
from .base import REGION_FULL_FRACTION, RegionStylizer, Stylizer, working_size
from .cache import cache_dir


@dataclass(frozen=True)
class Backend:
    """A registered backend: ``module:cls`` builds it; ``needs`` are the importable modules it
    requires (``pip`` hint in ``install``); ``cuda``: whether it can run on a CUDA device."""

    name: str
    target: str
    needs: tuple[str, ...] = ()
    install: str = ""
    cuda: bool = True

    def available(self) -> bool:
        return all(importlib.util.find_spec(m) is not None for m in self.needs)

    def load(self) -> type:
        module, cls = self.target.split(":")
        return getattr(importlib.import_module(module, __name__), cls)


REGISTRY: dict[str, Backend] = {
    "torch": Backend("torch", ".torch:TorchStylizer"),
    "onnx": Backend("onnx", ".onnx:OnnxStylizer", ("onnxruntime", "onnx", "onnxscript"),
                    "pip install onnxruntime onnx onnxscript"),
    "openvino": Backend("openvino", ".openvino:OpenVinoStylizer", ("openvino", "onnx", "onnxscript"),
                        "pip install openvino onnx onnxscript", cuda=False),
}

#: The CPU backends ``auto`` tries, fastest first.
CPU_PREFERENCE = ("openvino", "onnx", "torch")

#: Backend names users may type (``auto`` chooses among the others).
BACKENDS = ("auto", *REGISTRY)


def onnx_available() -> bool:
    """Whether ONNX Runtime and the ONNX exporter's dependencies are installed."""
    return REGISTRY["onnx"].available()


def _wants_cuda(device: str) -> bool:
    if device.startswith("cuda"):
        return True
    if device == "auto":
        import torch

        return torch.cuda.is_available()
    return False


def resolve_backend(backend: str, device: str = "auto") -> str:
    """The concrete backend ``backend`` means on ``device`` (``auto`` → the fastest installed)."""
    if backend not in BACKENDS:
        raise SteadyStyleError(f"unknown backend {backend!r}; choose {', '.join(BACKENDS)}")
    if backend != "auto":
        return backend
    if _wants_cuda(device):
        return "torch"
    return next((name for name in CPU_PREFERENCE if REGISTRY[name].available()), "torch")


def make_stylizer(style, backend: str = "auto", device: str = "auto", max_side: int | None = None,
                  threads: int | None = None) -> Stylizer:
    """A stylizer for ``style`` (shipped name, model file, loaded model, or a stylizer already
    built, returned as it is) on ``backend``; the only place a stylizer is constructed.
    ``threads``: CPU threads for the network (None: the backend's default, all cores)."""
    if callable(style) and hasattr(style, "stylize_region"):  # already a stylizer
        return style
    spec = REGISTRY[resolve_backend(backend, device)]
    if not spec.available():
        raise SteadyStyleError(f"backend {spec.name!r} needs {', '.join(spec.needs)}: {spec.install}")
    if threads is not None and int(threads) < 1:
        raise SteadyStyleError(f"threads must be at least 1, got {threads}")
    extra = {} if threads is None else {"threads": int(threads)}
    return spec.load()(style, device=device, max_side=max_side, **extra)


__all__ = ["BACKENDS", "REGISTRY", "CPU_PREFERENCE", "Backend", "Stylizer", "RegionStylizer", "REGION_FULL_FRACTION",
           "working_size", "onnx_available", "resolve_backend", "make_stylizer", "cache_dir"]
