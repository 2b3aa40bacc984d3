"""int8 for the OpenVINO backend: the exported graphs quantized after training with NNCF.

An opt-in speed mode (``STEADYSTYLE_OPENVINO_PRECISION=int8``, or ``openvino:int8`` in
``bench``): every convolution's weights and inputs become int8 (NNCF's post-training
``quantize``, performance preset: symmetric per-channel weights), the instance norms, padding and
upsampling stay f32.  The compiled model runs with ``INFERENCE_PRECISION_HINT=f32`` for what is
not quantized (measured faster than bf16 there: 24.7 vs 33.2 ms at 640×480).

Calibration needs no data of the user's: :data:`CALIBRATION_FRAMES` frames of the built-in
synthetic call (:mod:`steadystyle.evaluate.synthetic`) at 320×240; the ``frozen`` graph (region
passes) is calibrated on crops of those frames with the statistics the ``record`` graph measured
on them.  A quantized graph is cached as OpenVINO IR beside the ONNX cache, keyed by the ONNX
graph's bytes and NNCF's version, so a style is quantized once per machine (~4 s).

Measured (tools/quantize_openvino_int8.py, docs/bench.md; 2-core Xeon with AMX): full passes
1.37–1.6× faster than bf16 at 320×240 and 640×480, but PSNR against PyTorch fp32 on frames of
four development clips is 30.5 / 38.0 dB (min / median) for ``scream``, 25.2 / 37.1 for
``udnie``, 23.4 / 30.0 for ``starry-night`` (bf16: 49–56 dB).  Not a default for that reason;
and ``live`` gained nothing from it (its region passes and the float ``record`` passes dominate).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SteadyStyleError
from .cache import cache_dir

#: Frames of the built-in call the quantizer measures activation ranges on.
CALIBRATION_FRAMES = 24
#: The size (width, height) they are drawn at.
CALIBRATION_SIZE = (320, 240)
#: Bumped when the calibration or quantization settings change (a new cache key).
QUANT_VERSION = 1


def nncf_module():
    """The ``nncf`` package, or a one-line error saying how to install it."""
    try:
        import nncf
    except ImportError:
        raise SteadyStyleError("OpenVINO int8 needs NNCF: pip install 'steadystyle[int8]'") from None
    return nncf


def calibration_frames(n: int = CALIBRATION_FRAMES, size: tuple[int, int] = CALIBRATION_SIZE) -> list[np.ndarray]:
    """``n`` frames (H×W×3 uint8 RGB) spread over the first 4 s of the built-in call at ``size``."""
    from ..evaluate.synthetic import CallClipConfig, iter_call_clip

    frames = [f for f, _fg, _moving in iter_call_clip(CallClipConfig(width=size[0], height=size[1], fps=25,
                                                                      seconds=4.0))]
    step = max(1, len(frames) // n)
    return frames[::step][:n]


def calibration_crops(frames: list[np.ndarray], seed: int = 0) -> list[tuple[int, int, int, int]]:
    """One crop box (y0, x0, y1, x1), multiples of 4 in size, per frame: the region passes' inputs."""
    rng = np.random.default_rng(seed)
    boxes = []
    for frame in frames:
        h, w = frame.shape[:2]
        ch, cw = 4 * int(rng.integers(h // 16, h // 4 + 1)), 4 * int(rng.integers(w // 16, w // 4 + 1))
        y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        boxes.append((y0, x0, y0 + ch, x0 + cw))
    return boxes


def _key(graph_bytes: bytes, graph: str) -> str:
    nncf = nncf_module()
    digest = hashlib.sha256(graph_bytes)
    digest.update(f"{graph}/{QUANT_VERSION}/{nncf.__version__}/{CALIBRATION_FRAMES}/{CALIBRATION_SIZE}".encode())
    return digest.hexdigest()[:32]


def _dataset(model, graph: str, record_model) -> list[Any]:
    """Calibration inputs of ``graph``: whole frames, or (crop, statistics) pairs for ``frozen``."""
    from .openvino import _pad_to_4, core

    frames = calibration_frames()
    if graph != "frozen":
        return [_pad_to_4(f) for f in frames]
    request = core().compile_model(record_model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"}).create_infer_request()
    items = []
    for frame, (y0, x0, y1, x1) in zip(frames, calibration_crops(frames)):
        request.infer({"input": _pad_to_4(frame)})
        stats = request.get_tensor("stats").data.copy()
        items.append({"input": _pad_to_4(frame[y0:y1, x0:x1]), "stats": stats})
    return items


def quantize(model, graph: str, graph_bytes: bytes, record_model=None):
    """``model`` (an ``openvino.Model`` of ``graph`` with uint8 input) quantized to int8, from the
    cache when there; ``record_model`` (the float ``record`` graph) calibrates ``frozen``."""
    import openvino as ov

    from .openvino import core

    nncf = nncf_module()
    folder = Path(cache_dir()) / "openvino-int8"
    xml = folder / f"{_key(graph_bytes, graph)}.xml"
    if xml.is_file() and xml.with_suffix(".bin").is_file():
        try:
            return core().read_model(str(xml))
        except RuntimeError:  # damaged entry: quantize again
            for path in (xml, xml.with_suffix(".bin")):
                with contextlib.suppress(OSError):
                    path.unlink()
    items = _dataset(model, graph, record_model)
    nncf.set_log_level(logging.WARNING)
    with contextlib.redirect_stdout(io.StringIO()):  # NNCF's progress bars would break the CLI's output
        quantized = nncf.quantize(model, nncf.Dataset(items), subset_size=len(items),
                                  preset=nncf.QuantizationPreset.PERFORMANCE)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{xml.stem}.{os.getpid()}.xml"
        ov.save_model(quantized, str(tmp), compress_to_fp16=False)
        os.replace(tmp.with_suffix(".bin"), xml.with_suffix(".bin"))
        os.replace(tmp, xml)  # the .xml last: an entry is read only when whole
    except OSError:
        pass  # an unwritable cache only costs time
    return quantized


__all__ = ["quantize", "calibration_frames", "calibration_crops", "nncf_module", "CALIBRATION_FRAMES",
           "CALIBRATION_SIZE"]
