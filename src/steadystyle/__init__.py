"""steadystyle — flicker-free neural style transfer for video and video calls.

Data flows one way: source → stylizer → stabilizer → sink.

>>> from steadystyle import RunSpec, stylize_video
>>> stylize_video("call.mp4", "painted.mp4", style="scream")                 # the default method
>>> stylize_video("call.mp4", "painted.mp4", spec=RunSpec(style="scream", backend="onnx", method="frame-diff"))

A :class:`RunSpec` describes a run (style, backend, device, working size, method and params,
strength, colours); :func:`make_stylizer` is the only place a stylizer is built.

Frames at the edges are H×W×3 uint8 RGB NumPy arrays; inside the network N×3×H×W float32
tensors, RGB, 0–255.
"""

import importlib
from typing import Any

#: Where each public name lives: imported on first use, so ``import steadystyle`` (and the
#: ``steadystyle`` command, which installs its signal handlers first) does not wait for torch.
_NAMES = {
    "make_stylizer": "backends", "SteadyStyleError": "errors", "VARIANTS": "network", "NetworkConfig": "network",
    "TransformerNet": "network", "FrameResult": "loop", "Processor": "loop", "run": "loop", "RunStats": "pipeline",
    "stylize_video": "pipeline", "DEFAULT_METHOD": "spec", "RunSpec": "spec", "FrameDiffParams": "stabilize",
    "FrameDiffStabilizer": "stabilize", "PerFrame": "stabilize", "Stabilizer": "stabilize",
    "make_stabilizer": "stabilize", "method_names": "stabilize", "register": "stabilize", "list_styles": "styles",
    "load_style": "styles", "Stylizer": "stylizer", "StyleModel": "weights", "load_model": "weights",
    "save_model": "weights",
}
__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'steadystyle' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_NAMES))


__version__ = "0.1.0"
