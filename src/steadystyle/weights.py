"""Reading and writing style-network weights.

Our own files are safetensors with a JSON metadata entry (key ``steadystyle``) holding the
architecture and provenance. Foreign pytorch/examples ``fast_neural_style`` checkpoints
(``.pth`` / ``.model``) are read with ``torch.load(..., weights_only=True)``; their obsolete
``in*.running_mean/var`` keys are dropped and the architecture is inferred from the shapes.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from safetensors.torch import save as safetensors_bytes

from .atomic import atomic_write_bytes
from .errors import SteadyStyleError
from .network import VARIANTS, NetworkConfig, TransformerNet

#: Version of our file layout; bumped when the metadata schema changes incompatibly.
FORMAT_VERSION = 1
METADATA_KEY = "steadystyle"
_OBSOLETE_KEY = re.compile(r"(^|\.)in\d+\.(running_mean|running_var|num_batches_tracked)$")


@dataclass
class StyleModel:
    """A loaded style network with its metadata.

    metadata holds at least ``name``, ``painting`` (file name of the style image), ``variant``
    (``full``/``light``/``custom``) and ``architecture`` (see :class:`NetworkConfig`).
    """

    network: TransformerNet
    metadata: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", self.path.stem if self.path else "unnamed"))


def variant_of(config: NetworkConfig) -> str:
    """``full``/``light`` when the config is a named variant, else ``custom``."""
    for name, cfg in VARIANTS.items():
        if cfg == config:
            return name
    return "custom"


def save_model(network: TransformerNet, path: str | os.PathLike, metadata: dict[str, Any],
               dtype: torch.dtype = torch.float16) -> Path:
    """Write ``network`` as safetensors (fp16 by default) with JSON metadata, atomically."""
    path = Path(path)
    meta = dict(metadata)
    meta.setdefault("variant", variant_of(network.config))
    meta["architecture"] = network.config.to_dict()
    meta["format_version"] = FORMAT_VERSION
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in network.state_dict().items()}
    bad = sorted(k for k, v in tensors.items() if v.is_floating_point() and not torch.isfinite(v).all())
    if bad:  # a diverged network, or weights beyond the file's precision (fp16: |w| > 65504)
        raise SteadyStyleError(f"{path}: refusing to save weights with NaN or infinite values ({bad[0]})")
    data = safetensors_bytes(tensors, metadata={METADATA_KEY: json.dumps(meta, sort_keys=True)})
    atomic_write_bytes(path, data)  # a Python write: a full disk is an OSError, the temporary removed
    return path


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """Metadata of one of our safetensors files without loading the tensors."""
    from safetensors import safe_open

    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(METADATA_KEY)
    except (SafetensorError, OSError, ValueError) as exc:
        raise SteadyStyleError(f"{path}: not a readable safetensors file ({_short(exc)})") from None
    if raw is None:
        raise SteadyStyleError(f"{path}: safetensors file has no steadystyle metadata")
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        raise SteadyStyleError(f"{path}: steadystyle metadata is not valid JSON") from None


def load_model(path: str | os.PathLike) -> StyleModel:
    """Load a style network from our ``.safetensors`` or a pytorch/examples ``.pth``/``.model``.

    Raises SteadyStyleError (one line, naming the file) for a missing or corrupt file, a pickle
    holding more than plain weights, or weights that do not fit the architecture.
    """
    path = Path(path)
    if path.is_dir():
        raise SteadyStyleError(f"{path}: is a folder, not a model file (give a .safetensors or .pth file)")
    if not path.is_file():
        raise SteadyStyleError(f"{path}: no such model file")
    if path.suffix == ".safetensors" or _looks_like_safetensors(path):  # whatever the file is called
        meta = read_metadata(path)
        if int(meta.get("format_version", 0)) > FORMAT_VERSION:
            raise SteadyStyleError(f"{path}: made by a newer steadystyle (format {meta['format_version']})")
        try:
            config = NetworkConfig.from_dict(meta["architecture"])
        except (KeyError, TypeError, ValueError, OverflowError):
            raise SteadyStyleError(f"{path}: metadata has no valid architecture") from None
        config.check(path)  # before anything is allocated for it
        try:
            state = load_file(str(path))
        except (SafetensorError, OSError, ValueError) as exc:
            raise SteadyStyleError(f"{path}: not a readable safetensors file ({_short(exc)})") from None
        _check_shapes(state, config, path)
    else:
        state = _load_foreign(path)
        config = infer_config(state, path).check(path)
        meta = {"name": path.stem, "painting": "unknown", "variant": variant_of(config),
                "source": "pytorch/examples fast_neural_style checkpoint"}
    network = TransformerNet(config)
    state = {k: v.float() for k, v in state.items()}
    bad = sorted(k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all())
    if bad:
        raise SteadyStyleError(f"{path}: weights contain NaN or infinite values ({bad[0]}"
                               f"{f' and {len(bad) - 1} more' if len(bad) > 1 else ''}): a corrupt or diverged model")
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "mismatch"
        raise SteadyStyleError(f"{path}: weights do not fit the style network ({first.strip()})") from None
    network.eval()
    meta.setdefault("name", path.stem)
    meta.setdefault("variant", variant_of(config))
    return StyleModel(network, meta, path)


def _looks_like_safetensors(path: Path) -> bool:
    """True when the file starts like safetensors: an 8-byte little-endian header length that fits
    the file, then a JSON object."""
    try:
        with open(path, "rb") as f:
            head = f.read(9)
        size = path.stat().st_size
    except OSError:
        return False
    return len(head) == 9 and head[8:9] == b"{" and 0 < int.from_bytes(head[:8], "little") <= size - 8


def torch_load(path: str | os.PathLike, what: str = "PyTorch weights file", map_location: Any = "cpu") -> Any:
    """``torch.load(path, weights_only=True)`` without torch's warnings (a pickle-protocol
    warning would print two lines before our one), its failures as one line: ``PATH: refusing to
    load: …`` for a pickle holding more than plain weights, else ``PATH: not a readable WHAT (…)``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(str(path), map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError, ...
        text = str(exc)
        if "weights_only" in text or "Unsupported global" in text:
            raise SteadyStyleError(f"{path}: refusing to load: the file holds more than plain weights") from None
        raise SteadyStyleError(f"{path}: not a readable {what} ({_short(exc)})") from None


def _load_foreign(path: Path) -> dict[str, torch.Tensor]:
    obj = torch_load(path)
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise SteadyStyleError(f"{path}: not a state dict of tensors")
    return {k.removeprefix("module."): v for k, v in obj.items() if not _OBSOLETE_KEY.search(k)}


def infer_config(state: dict[str, torch.Tensor], path: Path | str = "weights") -> NetworkConfig:
    """Architecture from a pytorch/examples-style state dict's shapes."""
    try:
        c1, _, k, _ = state["conv1.conv2d.weight"].shape
        c2 = state["conv2.conv2d.weight"].shape[0]
        c3 = state["conv3.conv2d.weight"].shape[0]
    except (KeyError, ValueError, IndexError):
        raise SteadyStyleError(f"{path}: not fast_neural_style transformer weights (no conv1/conv2/conv3)") from None
    blocks = len({m.group(1) for key in state if (m := re.match(r"res(\d+)\.", key))})
    return NetworkConfig((int(c1), int(c2), int(c3)), blocks, int(k))


def _check_shapes(state: dict[str, torch.Tensor], config: NetworkConfig, path: Path) -> None:
    """One line when the tensors are not the architecture the metadata claims (checked on the
    layers that fix it, before the network is built)."""
    blocks = len({m.group(1) for key in state if (m := re.match(r"res(\d+)\.", key))})
    if blocks != config.residual_blocks:
        raise SteadyStyleError(f"{path}: metadata claims {config.residual_blocks} residual blocks, the weights hold "
                               f"{blocks}")
    for key, shape in config.parameter_shapes().items():
        got = tuple(state[key].shape) if key in state else None
        if got != shape:
            raise SteadyStyleError(f"{path}: metadata's architecture does not fit the weights ({key}: "
                                   f"{'missing' if got is None else 'x'.join(map(str, got))}, expected "
                                   f"{'x'.join(map(str, shape))})")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:160] if text else type(exc).__name__
