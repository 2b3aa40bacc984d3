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

from .backends import make_stylizer
from .errors import SteadyStyleError
from .network import VARIANTS, NetworkConfig, TransformerNet
from .loop import FrameResult, Processor, run
from .pipeline import RunStats, stylize_video
from .spec import DEFAULT_METHOD, RunSpec
from .stabilize import FrameDiffParams, FrameDiffStabilizer, PerFrame, Stabilizer, make_stabilizer, method_names, register
from .styles import list_styles, load_style
from .stylizer import Stylizer
from .weights import StyleModel, load_model, save_model

__all__ = [
    "SteadyStyleError", "VARIANTS", "NetworkConfig", "TransformerNet", "RunStats", "make_stabilizer", "stylize_video",
    "FrameDiffParams", "FrameDiffStabilizer", "PerFrame", "Stabilizer", "method_names", "register", "FrameResult",
    "Processor", "run", "list_styles", "load_style",
    "Stylizer", "StyleModel", "load_model", "save_model", "RunSpec", "DEFAULT_METHOD", "make_stylizer",
]
__version__ = "0.1.0"
