"""The style network as ONNX: export (``steadystyle export-onnx``) and an ONNX Runtime stylizer.

Three graphs can be exported from one :class:`~steadystyle.network.TransformerNet`
(:func:`export_graph`), all with dynamic height and width (multiples of 4; the stylizer pads):

- ``plain``: ``input`` N×3×H×W float32 RGB 0–255 → ``output`` N×3×H×W (unclamped); what
  ``export-onnx`` writes, for anyone's ONNX runtime;
- ``record``: batch 1, ``input`` → ``output`` and ``stats``, 2×ΣC float32: every instance
  norm's per-channel mean (row 0) and 1/std (row 1), layers concatenated in order — the
  statistics a region pass freezes (:func:`pack_stats`);
- ``frozen``: batch 1, ``input`` and ``stats`` → ``output``, each instance norm using the given
  statistics instead of its input's own.

The stylizer exports ``record`` when built and ``frozen`` on its first region, and caches both
under :func:`~steadystyle.backends.cache_dir` keyed by a hash of the weights (an unwritable cache
only costs the export time, a few seconds, on every start).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from ..atomic import atomic_write_bytes
from ..errors import SteadyStyleError
from ..network import TransformerNet
from ..frames import check_frame
from ..network import receptive_radius
from ..weights import METADATA_KEY, StyleModel, variant_of
from .base import RegionStylizer, check_max_side, working_size
from .cache import cache_dir
from .torch import load_model

#: ONNX opset of every exported graph (≥ 17 for a standard InstanceNormalization and Pad).
OPSET = 18
#: Bumped when the exported graphs change, so stale cache entries are not reused.
EXPORT_VERSION = 1
GRAPHS = ("plain", "record", "frozen")

__all__ = ["OPSET", "GRAPHS", "export_graph", "write_onnx", "check_output", "model_metadata", "OnnxStylizer", "cached_graph", "pack_stats",
           "unpack_stats"]


class _Plain(torch.nn.Module):
    def __init__(self, net: TransformerNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def pack_stats(stats: list) -> torch.Tensor:
    """Per-layer (mean, 1/std) pairs, each 1×C×1×1 → one 2×ΣC tensor (row 0 means, row 1 1/std)."""
    return torch.stack([torch.cat([m.reshape(-1) for m, _ in stats]), torch.cat([s.reshape(-1) for _, s in stats])])


def unpack_stats(packed: torch.Tensor, net: TransformerNet) -> list:
    """Inverse of :func:`pack_stats` for ``net``'s instance norms, in layer order."""
    out, start = [], 0
    for module in net.modules():
        if isinstance(module, torch.nn.InstanceNorm2d):
            c = module.num_features
            out.append((packed[0, start:start + c].view(1, c, 1, 1), packed[1, start:start + c].view(1, c, 1, 1)))
            start += c
    return out


class _Record(_Plain):
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y, stats = self.net.forward_recording(x)
        return y, pack_stats(stats)


class _Frozen(_Plain):
    def forward(self, x: torch.Tensor, stats: torch.Tensor) -> torch.Tensor:
        return self.net.forward_frozen(x, unpack_stats(stats, self.net))


def model_metadata(model: StyleModel) -> dict[str, str]:
    """The ONNX ``metadata_props`` for ``model``: our metadata JSON (key ``steadystyle``, as in the
    safetensors file) plus ``name``, ``variant`` and the input convention, as plain strings."""
    meta = dict(model.metadata)
    meta.setdefault("variant", variant_of(model.network.config))
    meta["architecture"] = model.network.config.to_dict()
    return {
        METADATA_KEY: json.dumps(meta, sort_keys=True),
        "name": model.name,
        "variant": str(meta["variant"]),
        "input": "N×3×H×W float32 RGB 0–255, H and W multiples of 4 (reflect-pad and crop back); "
                 "output same shape, unclamped: clamp to 0–255",
    }


def export_graph(model: StyleModel, graph: str = "plain"):
    """``model``'s network as an ``onnx.ModelProto`` of kind ``graph`` (see the module docstring),
    exported with the dynamo exporter at opset :data:`OPSET`, metadata attached."""
    import onnx

    if graph not in GRAPHS:
        raise SteadyStyleError(f"unknown graph {graph!r}; choose {', '.join(GRAPHS)}")
    net = model.network.float().cpu().eval()
    h, w = torch.export.Dim("h4", min=1, max=4096), torch.export.Dim("w4", min=1, max=4096)
    spatial = {2: 4 * h, 3: 4 * w}
    x = torch.rand(2 if graph == "plain" else 1, 3, 64, 96) * 255
    if graph == "plain":
        module, args = _Plain(net), (x,)
        shapes: Any = {"x": {0: torch.export.Dim("batch", min=1, max=1024), **spatial}}
        inputs, outputs = ["input"], ["output"]
    elif graph == "record":
        module, args = _Record(net), (x,)
        shapes = {"x": spatial}
        inputs, outputs = ["input"], ["output", "stats"]
    else:
        with torch.no_grad():
            _, stats = net.forward_recording(x)
        module, args = _Frozen(net), (x, pack_stats(stats))
        shapes = {"x": spatial, "stats": None}
        inputs, outputs = ["input", "stats"], ["output"]
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "onnx_ir", "onnxscript")]  # INFO lines otherwise
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(module, args, dynamo=True, opset_version=OPSET, dynamic_shapes=shapes,
                                        input_names=inputs, output_names=outputs, verbose=False)
    except Exception as exc:  # the exporter raises many types; the user needs one line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise SteadyStyleError(f"exporting {model.name} to ONNX failed: {first}") from None
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
    proto = program.model_proto
    for value in (proto.graph.input[0], proto.graph.output[0]):  # readable names for the dynamic axes
        for dim, label in zip(value.type.tensor_type.shape.dim, ("batch", "channels", "height", "width")):
            if dim.dim_param:
                dim.dim_param = label
    onnx.helper.set_model_props(proto, {**model_metadata(model), "graph": graph})
    return proto


def check_output(path: str | os.PathLike) -> Path:
    """``path`` as a Path, or a one-line error when it cannot be written as a file."""
    path = Path(path)
    if path.is_dir():
        raise SteadyStyleError(f"{path}: is a folder; give a file name like style.onnx")
    if path.suffix.lower() != ".onnx":
        raise SteadyStyleError(f"{path}: an ONNX model is written to a .onnx file; name it "
                               f"{path.with_suffix('.onnx').name}")
    if not path.parent.is_dir():
        raise SteadyStyleError(f"{path.parent}: no such folder")
    return path


def write_onnx(proto, path: str | os.PathLike) -> Path:
    """Write an ``onnx.ModelProto`` to ``path`` atomically (:func:`~steadystyle.atomic.atomic_write_bytes`)."""
    path = check_output(path)
    return atomic_write_bytes(path, proto.SerializeToString())


def _weights_key(model: StyleModel, graph: str) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([EXPORT_VERSION, OPSET, torch.__version__, graph,
                              model.network.config.to_dict(), model_metadata(model)], sort_keys=True).encode())
    for key, value in model.network.state_dict().items():
        digest.update(key.encode())
        digest.update(value.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:32]


def _content_tag(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def cached_graph(model: StyleModel, graph: str) -> bytes:
    """The serialized ``graph`` for ``model``: from the cache when there and whole, else exported
    (and cached when the cache folder is writable).

    A cache entry is named ``KEY.CONTENT.onnx``: KEY hashes the weights and export settings,
    CONTENT is the SHA-256 of the file's own bytes, checked on every read — a truncated or
    damaged entry (a killed export, a full disk) is removed and exported again."""
    folder = Path(cache_dir()) / "onnx"
    key = _weights_key(model, graph)
    for entry in sorted(folder.glob(f"{key}.*.onnx")) if folder.is_dir() else []:
        try:
            data = entry.read_bytes()
        except OSError:
            continue
        if entry.name == f"{key}.{_content_tag(data)}.onnx":
            return data
        with contextlib.suppress(OSError):
            entry.unlink()  # damaged: never used again
    data = export_graph(model, graph).SerializeToString()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(folder / f"{key}.{_content_tag(data)}.onnx", data)
    except OSError:
        pass  # an unwritable cache only costs time
    return data


class OnnxStylizer(RegionStylizer):
    """A style network on ONNX Runtime, with the interface of :class:`~steadystyle.stylizer.Stylizer`.

    ``__call__``: H×W×3 uint8 RGB → stylized H×W×3 uint8 RGB of the same size (reflect-padded to
    multiples of 4 and cropped back; ``max_side`` as in the PyTorch stylizer).
    ``stylize_region``: as in the PyTorch stylizer — the crop plus ``context`` pixels through the
    ``frozen`` graph with the statistics of the last full-frame pass.
    device: ``cpu`` (or ``auto``, the same here); ``cuda`` uses ONNX Runtime's CUDA provider when
    the installed build has one.  threads: intra-op threads (None: ONNX Runtime's default).
    """

    backend = "onnx"

    def __init__(self, model: StyleModel | str | os.PathLike, device: str = "auto", max_side: int | None = None,
                 threads: int | None = None) -> None:
        import onnxruntime as ort

        super().__init__()
        model = load_model(model)
        max_side = check_max_side(max_side)
        if device in ("auto", "cpu"):
            self.providers = ["CPUExecutionProvider"]
            self.device = "cpu"
        elif device.startswith("cuda"):
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise SteadyStyleError("--backend onnx on CUDA needs onnxruntime-gpu; use --backend torch for the GPU")
            self.providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
            self.device = "cuda"
        else:
            raise SteadyStyleError(f"unknown device {device!r}; choose auto, cpu or cuda")
        self.model = model
        self.max_side = max_side
        self.options = ort.SessionOptions()
        self.options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.options.log_severity_level = 3
        if threads:
            self.options.intra_op_num_threads = int(threads)
        self._ort = ort
        self.session = ort.InferenceSession(cached_graph(model, "record"), self.options, providers=self.providers)
        self._frozen_session = None
        self.context = -(-receptive_radius(model.network.config) // 4) * 4

    @property
    def name(self) -> str:
        return self.model.name

    @staticmethod
    def _to_input(image: np.ndarray) -> np.ndarray:
        """H×W×3 uint8 → 1×3×H'×W' float32, H' and W' padded up to multiples of 4 at the bottom/right."""
        h, w = image.shape[:2]
        ph, pw = (-h) % 4, (-w) % 4
        if ph or pw:
            image = np.pad(image, ((0, ph), (0, pw), (0, 0)), mode="reflect" if h > ph and w > pw else "edge")
        return np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32)

    @staticmethod
    def _to_image(y: np.ndarray) -> np.ndarray:
        """H×W×3 float → uint8, clamped and rounded half to even (as the PyTorch stylizer)."""
        return np.rint(np.clip(y, 0, 255)).astype(np.uint8)

    def _run_full(self, image: np.ndarray) -> np.ndarray:
        """H×W×3 uint8 → stylized H×W×3 float32 (unrounded), recording statistics when tracked."""
        h, w = image.shape[:2]
        record = self._record_now((h, w))
        outs = self.session.run(None if record else ["output"], {"input": self._to_input(image)})
        if record:
            self._record((h, w), outs[1])
        return outs[0][0, :, :h, :w].transpose(1, 2, 0)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """H×W×3 uint8 RGB → stylized H×W×3 uint8 RGB of the same size."""
        check_frame(image)
        h, w = image.shape[:2]
        wh, ww = working_size(h, w, self.max_side)
        if (wh, ww) == (h, w):
            return self._to_image(self._run_full(image))
        small = cv2.resize(image, (ww, wh), interpolation=cv2.INTER_AREA)
        saved, self.track_stats = self.track_stats, False  # statistics of a rescaled frame do not fit crops
        try:
            y = self._run_full(small)
        finally:
            self.track_stats = saved
        return self._to_image(cv2.resize(y, (w, h), interpolation=cv2.INTER_LINEAR))

    def _frozen(self, crop: np.ndarray, stats: np.ndarray) -> np.ndarray:
        if self._frozen_session is None:
            self._frozen_session = self._ort.InferenceSession(cached_graph(self.model, "frozen"), self.options,
                                                              providers=self.providers)
        y = self._frozen_session.run(["output"], {"input": self._to_input(crop), "stats": stats})[0][0]
        return y[:, :crop.shape[0], :crop.shape[1]].transpose(1, 2, 0)
