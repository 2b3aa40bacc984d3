"""The OpenVINO backend: the exported ONNX graphs compiled for the CPU, bf16 where it can.

The graphs are the ones :mod:`steadystyle.backends.onnx` exports and caches
(:func:`~steadystyle.backends.onnx.cached_graph`): ``plain`` for full frames whose statistics
nobody needs, ``record`` for full frames while region passes are in use (it also returns the
instance-norm statistics, 2×ΣC float32), ``frozen`` for region crops.  Each is read once and
given a pre/post-processing stage inside the graph, so NumPy does no per-pixel work:

- in: 1×H×W×3 uint8 RGB (H, W multiples of 4: the stylizer reflect-pads and crops back) →
  float32 N×C×H×W 0–255 as the network expects;
- out (``plain``/``record``): clamp to 0–255, round half to even, uint8, 1×H×W×3 — the PyTorch
  stylizer's conversion; ``frozen`` keeps its float32 1×3×h×w output (the region policy rounds).

Precision: ``bf16`` (OpenVINO's ``INFERENCE_PRECISION_HINT``) where the CPU lists ``BF16`` in
``OPTIMIZATION_CAPABILITIES``, else ``f32``; ``precision=`` or ``$STEADYSTYLE_OPENVINO_PRECISION``
(``auto``, ``bf16``, ``f32``, ``int8``) chooses.  ``int8`` (opt-in, never ``auto``'s choice) runs
the graphs quantized by :mod:`steadystyle.backends.int8` (needs NNCF).
Always ``PERFORMANCE_HINT=LATENCY`` (batch 1, one stream).

Shapes: full frames run on a model compiled for their exact H×W (static shapes measured ~8 %
faster than a dynamic model here), kept in a small LRU (:data:`CACHE_SIZE` shapes per graph); a
new size costs one compile (~0.1–0.2 s for the light network).  Region crops change size every
frame, so they run on one model compiled with dynamic H and W.

Threads: compiled models are shared by a stylizer and every :meth:`~OpenVinoStylizer.view` of it
(OpenVINO's compiled models are thread-safe); infer requests are not, so each view creates and
keeps its own.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any

import cv2
import numpy as np

from ..errors import SteadyStyleError
from ..frames import check_frame
from ..network import receptive_radius
from ..weights import StyleModel
from .base import RegionStylizer, check_max_side, working_size
from .torch import load_model

#: Environment variable choosing the inference precision (``auto``, ``bf16``, ``f32``, ``int8``).
PRECISION_ENV = "STEADYSTYLE_OPENVINO_PRECISION"
PRECISIONS = ("auto", "bf16", "f32", "int8")
#: Compiled full-frame shapes kept per graph (least recently used dropped first).
CACHE_SIZE = 4
#: Input shapes the CPU plugin keeps prepared per compiled model (OpenVINO's default, 5000, let a
#: long stream's region crops grow memory without end; see ``steadystyle.web.memory``).
SHAPE_CACHE = 64

_CORE = None


def core():
    """The process's one ``openvino.Core`` (created on first use)."""
    global _CORE
    if _CORE is None:
        import openvino as ov

        _CORE = ov.Core()
    return _CORE


def cpu_supports_bf16() -> bool:
    """Whether OpenVINO's CPU plugin lists ``BF16`` among this CPU's optimization capabilities."""
    return "BF16" in core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def resolve_precision(precision: str | None = None) -> str:
    """``bf16`` or ``f32``: ``precision`` (else ``$STEADYSTYLE_OPENVINO_PRECISION``, else ``auto``);
    ``auto`` is bf16 where the CPU supports it.  bf16 asked for on a CPU without it is an error."""
    precision = (precision or os.environ.get(PRECISION_ENV) or "auto").lower()
    if precision not in PRECISIONS:
        raise SteadyStyleError(f"unknown OpenVINO precision {precision!r} (from ${PRECISION_ENV} or precision=); "
                               f"choose {', '.join(PRECISIONS)}")
    if precision == "int8":
        return precision
    if precision == "auto":
        return "bf16" if cpu_supports_bf16() else "f32"
    if precision == "bf16" and not cpu_supports_bf16():
        raise SteadyStyleError("OpenVINO bf16 needs a CPU with bf16 support (AVX512-BF16 or AMX); "
                               f"set {PRECISION_ENV}=f32")
    return precision


def _with_uint8_io(model, graph: str):
    """``model`` (an ``openvino.Model`` of one exported graph) taking 1×H×W×3 uint8 RGB, and for
    ``plain``/``record`` returning 1×H×W×3 uint8 (clamped, rounded half to even)."""
    import openvino as ov
    import openvino.opset13 as ops
    from openvino.preprocess import PrePostProcessor

    ppp = PrePostProcessor(model)
    image = ppp.input("input")
    image.tensor().set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC"))
    image.model().set_layout(ov.Layout("NCHW"))
    image.preprocess().convert_element_type(ov.Type.f32)
    if graph != "frozen":
        out = ppp.output("output")
        out.model().set_layout(ov.Layout("NCHW"))
        out.postprocess().custom(lambda node: ops.round(ops.clamp(node, 0.0, 255.0), "half_to_even").output(0))
        out.postprocess().convert_element_type(ov.Type.u8)
        out.tensor().set_layout(ov.Layout("NHWC"))
    return ppp.build()


class _CompiledModels:
    """Compiled models by (graph, padded H×W or None for dynamic), shared by a stylizer and its
    views; at most :data:`CACHE_SIZE` static shapes per graph (least recently used dropped first).
    Thread-safe: two views missing the same key at once may both compile it (the later one is kept)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: OrderedDict[tuple, Any] = OrderedDict()

    def get(self, key: tuple, compile_model) -> Any:
        """The compiled model for ``key``; ``compile_model()`` makes it on a miss (outside the lock)."""
        with self._lock:
            model = self._models.get(key)
            if model is not None:
                self._models.move_to_end(key)
                return model
        model = compile_model()
        with self._lock:
            self._models[key] = model
            _drop_oldest_static(self._models, key[0])
        return model


def _drop_oldest_static(cache: OrderedDict, graph: str) -> None:
    """Drop ``cache``'s least recently used static shapes of ``graph`` beyond :data:`CACHE_SIZE`."""
    static = [k for k in cache if k[0] == graph and k[1] is not None]
    for key in static[:max(0, len(static) - CACHE_SIZE)]:
        del cache[key]


def _pad_to_4(image: np.ndarray) -> np.ndarray:
    """H×W×3 uint8 padded at the bottom/right to multiples of 4 (reflect; edge when too small),
    C-contiguous, as 1×H'×W'×3."""
    h, w = image.shape[:2]
    ph, pw = (-h) % 4, (-w) % 4
    if ph or pw:
        image = np.pad(image, ((0, ph), (0, pw), (0, 0)), mode="reflect" if h > ph and w > pw else "edge")
    return np.ascontiguousarray(image)[None]


class OpenVinoStylizer(RegionStylizer):
    """A style network on OpenVINO's CPU plugin (see the module docstring).

    ``__call__``: H×W×3 uint8 RGB → stylized H×W×3 uint8 RGB of the same size (``max_side`` as
    in the other backends: run scaled down, scale the result back up).  ``stylize_region``: the
    shared region policy, crops through the ``frozen`` graph with the last full pass's statistics.

    device: ``auto`` or ``cpu`` (OpenVINO's GPU plugin is Intel graphics, not CUDA: refused).
    threads: ``INFERENCE_NUM_THREADS`` (None: OpenVINO's default, every core).
    precision: ``auto``/``bf16``/``f32`` (None: ``$STEADYSTYLE_OPENVINO_PRECISION`` or ``auto``).
    """

    backend = "openvino"

    def __init__(self, model: StyleModel | str | os.PathLike, device: str = "auto", max_side: int | None = None,
                 threads: int | None = None, precision: str | None = None) -> None:
        super().__init__()
        if device not in ("auto", "cpu"):
            if device.startswith("cuda"):
                raise SteadyStyleError("--backend openvino runs on the CPU; use --backend torch for a CUDA GPU")
            raise SteadyStyleError(f"unknown device {device!r}; choose auto, cpu or cuda")
        self.model = load_model(model)
        self.max_side = check_max_side(max_side)
        self.device = "cpu"
        self.precision = resolve_precision(precision)
        if self.precision == "int8":
            from .int8 import nncf_module

            nncf_module()  # a missing NNCF is one line now, not at the first frame
        hint = "f32" if self.precision == "int8" else self.precision  # int8: what stays float runs f32
        # the region model meets a new crop shape every few frames for as long as a stream runs; the CPU
        # plugin keeps what it prepared for each of up to 5000 shapes (0.25–0.75 MiB each): bounded here
        self.config: dict[str, Any] = {"INFERENCE_PRECISION_HINT": hint, "PERFORMANCE_HINT": "LATENCY",
                                       "CPU_RUNTIME_CACHE_CAPACITY": str(SHAPE_CACHE)}
        if threads:
            self.config["INFERENCE_NUM_THREADS"] = int(threads)
        self.context = -(-receptive_radius(self.model.network.config) // 4) * 4
        self._graphs: dict[str, Any] = {}
        self._graphs_lock = threading.Lock()
        self._compiled = _CompiledModels()  # shared with every view
        self._graph("plain")  # export (or read from the cache) now: errors surface at construction

    @property
    def name(self) -> str:
        return self.model.name

    def _new_pass_state(self) -> None:
        """Also this stylizer's (or view's) own infer requests (they are not thread-safe); the
        compiled models stay shared."""
        super()._new_pass_state()
        self._requests: OrderedDict[tuple, Any] = OrderedDict()

    def _graph(self, graph: str):
        """The ``openvino.Model`` of ``graph`` with uint8 I/O (read once; quantized for int8)."""
        with self._graphs_lock:  # shared by the views: read (and quantized) once
            return self._graph_locked(graph)

    def _graph_locked(self, graph: str):
        if graph not in self._graphs:
            model = self._float_graph(graph)
            if self.precision == "int8" and graph != "record":  # record: quantized it ran 4× plain int8
                from .int8 import quantize
                from .onnx import cached_graph

                record = self._float_graph("record") if graph == "frozen" else None
                model = quantize(model, graph, cached_graph(self.model, graph), record)
            self._graphs[graph] = model
        return self._graphs[graph]

    def _float_graph(self, graph: str):
        """``graph`` with uint8 I/O, not quantized (calibrates the int8 ``frozen`` graph)."""
        import openvino as ov

        from .onnx import cached_graph

        data = cached_graph(self.model, graph)
        return _with_uint8_io(core().read_model(model=data, weights=ov.Tensor(np.empty(0, np.uint8))), graph)

    def _request(self, graph: str, shape: tuple[int, int] | None):
        """This stylizer's (or view's) infer request for ``graph`` compiled for padded input H×W
        ``shape`` (None: dynamic), on the compiled model shared with the other views."""
        key = (graph, shape)
        request = self._requests.get(key)
        if request is not None:
            self._requests.move_to_end(key)
            return request
        request = self._compiled.get(key, lambda: self._compile(graph, shape)).create_infer_request()
        self._requests[key] = request
        _drop_oldest_static(self._requests, graph)
        return request

    def _compile(self, graph: str, shape: tuple[int, int] | None):
        """``graph`` compiled for padded input H×W ``shape`` (None: dynamic)."""
        with self._graphs_lock:  # a private copy: views may compile the same graph at once
            model = self._graph_locked(graph).clone()
        if shape is not None:
            model.reshape({"input": [1, shape[0], shape[1], 3]})
        config = self.config
        if self.precision == "int8" and graph == "record":  # the float graph, at the CPU's best float
            config = config | {"INFERENCE_PRECISION_HINT": resolve_precision("auto")}
        return core().compile_model(model, "CPU", config)

    def compiled_shapes(self) -> list[tuple[str, tuple[int, int] | None]]:
        """(graph, padded H×W or None for dynamic) of every infer request this stylizer (or view)
        holds, least recently used first."""
        return list(self._requests)

    def _run_full(self, image: np.ndarray, record: bool) -> np.ndarray:
        """H×W×3 uint8 → stylized H×W×3 uint8; records the statistics when ``record``."""
        h, w = image.shape[:2]
        x = _pad_to_4(image)
        graph = "record" if record else "plain"
        request = self._request(graph, x.shape[1:3])
        request.infer({"input": x}, share_inputs=True)
        if record:
            self._record((h, w), request.get_tensor("stats").data.copy())
        return request.get_tensor("output").data[0, :h, :w].copy()

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """H×W×3 uint8 RGB → stylized H×W×3 uint8 RGB of the same size."""
        check_frame(image)
        h, w = image.shape[:2]
        wh, ww = working_size(h, w, self.max_side)
        if (wh, ww) == (h, w):
            return self._run_full(image, self._record_now((h, w)))
        small = cv2.resize(image, (ww, wh), interpolation=cv2.INTER_AREA)
        y = self._run_full(small, False)  # statistics of a rescaled frame do not fit crops
        return cv2.resize(y, (w, h), interpolation=cv2.INTER_LINEAR)

    def _frozen(self, crop: np.ndarray, stats: np.ndarray) -> np.ndarray:
        x = _pad_to_4(crop)
        request = self._request("frozen", None)
        request.infer({"input": x, "stats": stats}, share_inputs=True)
        y = request.get_tensor("output").data[0]
        return y[:, :crop.shape[0], :crop.shape[1]].transpose(1, 2, 0).copy()


__all__ = ["OpenVinoStylizer", "PRECISION_ENV", "PRECISIONS", "CACHE_SIZE", "core", "cpu_supports_bf16",
           "resolve_precision"]
