"""Measure ONNX Runtime int8 static quantization of a style network on this CPU.

Exports the style's ``plain`` graph (``steadystyle export-onnx``), quantizes it statically with
ONNX Runtime (QDQ format, per-channel int8 weights, uint8 activations, MinMax calibration on
``--calibrate`` frames of the built-in synthetic call clip), then at ``--size`` in one process:

- speed: median ms/frame of PyTorch fp32 (eager), ORT fp32 and ORT int8, runs interleaved;
- quality: PSNR (dB, RGB 0–255, after clamping and rounding) of ORT int8 and ORT fp32 against
  PyTorch fp32 on held-out frames: later synthetic frames (not used for calibration) and, when
  given, frames of real clips (``--clips``).

Rule (issue 11): int8 becomes a backend only if ≥ 1.5× faster than ORT fp32 at ≥ 30 dB.

    python tools/quantize_int8.py --styles scream scream-full --clips /work/shared/data/videos/asl_gestures/again.mkv
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from steadystyle.backends.onnx import export_graph, write_onnx
from steadystyle.evaluate.synthetic import CallClipConfig, iter_call_clip
from steadystyle.stats import machine_description
from steadystyle.styles import load_style


def synthetic_frames(width: int, height: int, count: int) -> list[np.ndarray]:
    out = []
    for frame, _fg, _moving in iter_call_clip(CallClipConfig(width=width, height=height, seconds=count / 25 + 0.1)):
        out.append(frame)
        if len(out) == count:
            break
    return out


def clip_frames(path: str, width: int, height: int, count: int, step: int = 10) -> list[np.ndarray]:
    cap, out, i = cv2.VideoCapture(path), [], 0
    while len(out) < count:
        ok, bgr = cap.read()
        if not ok:
            break
        if i % step == 0:
            out.append(cv2.cvtColor(cv2.resize(bgr, (width, height), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB))
        i += 1
    return out


def to_input(image: np.ndarray) -> np.ndarray:
    """H×W×3 uint8 (H, W multiples of 4) → 1×3×H×W float32."""
    return np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32)


def to_image(y: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(y[0], 0, 255)).astype(np.uint8).transpose(1, 2, 0)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return float("inf") if mse == 0 else 10 * math.log10(255 ** 2 / mse)


def median_ms(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def measure(style: str, width: int, height: int, calibrate: int, held_out: list[np.ndarray], runs: int,
            workdir: Path) -> dict:
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    model = load_style(style)
    fp32 = write_onnx(export_graph(model, "plain"), workdir / f"{style}.onnx")
    pre = workdir / f"{style}.pre.onnx"
    quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
    calib = [to_input(f) for f in synthetic_frames(width, height, calibrate)]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter([{"input": x} for x in calib])

        def get_next(self):
            return next(self.items, None)

    int8 = workdir / f"{style}.int8.onnx"
    quantize_static(str(pre), str(int8), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    s32 = ort.InferenceSession(str(fp32), options, providers=["CPUExecutionProvider"])
    s8 = ort.InferenceSession(str(int8), options, providers=["CPUExecutionProvider"])
    net = model.network.eval()
    quality = {"int8": [], "fp32": []}
    with torch.inference_mode():
        for image in held_out:
            x = to_input(image)
            ref = to_image(net(torch.from_numpy(x)).numpy())
            quality["fp32"].append(psnr(to_image(s32.run(None, {"input": x})[0]), ref))
            quality["int8"].append(psnr(to_image(s8.run(None, {"input": x})[0]), ref))
        x = to_input(held_out[0])
        xt = torch.from_numpy(x)
        fns = {"torch_fp32": lambda: net(xt), "ort_fp32": lambda: s32.run(None, {"input": x}),
               "ort_int8": lambda: s8.run(None, {"input": x})}
        for fn in fns.values():
            fn()
            fn()
        times: dict[str, list[float]] = {k: [] for k in fns}
        for _ in range(runs):  # interleaved: each round runs every backend once
            for k, fn in fns.items():
                times[k] += median_ms(fn, 1)
    med = {k: round(statistics.median(v), 2) for k, v in times.items()}
    finite = {k: [p for p in v if math.isfinite(p)] for k, v in quality.items()}
    return {"style": style, "variant": model.metadata.get("variant"), "size": f"{width}x{height}", "ms": med,
            "int8_speedup_vs_ort_fp32": round(med["ort_fp32"] / med["ort_int8"], 2),
            "ort_fp32_speedup_vs_torch": round(med["torch_fp32"] / med["ort_fp32"], 2),
            "psnr_int8_db": {"min": round(min(finite["int8"]), 2), "median": round(statistics.median(finite["int8"]), 2)},
            "psnr_ort_fp32_db": {"min": round(min(finite["fp32"]), 2) if finite["fp32"] else "inf"},
            "held_out_frames": len(held_out), "int8_file_bytes": int8.stat().st_size, "fp32_file_bytes": fp32.stat().st_size}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--styles", nargs="+", default=["scream"])
    ap.add_argument("--size", default="320x240")
    ap.add_argument("--calibrate", type=int, default=8, help="synthetic frames for calibration")
    ap.add_argument("--clips", nargs="*", default=[], help="real clips for held-out frames")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("-o", "--output", default=None, help="JSON file to write")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    held = synthetic_frames(w, h, 60)[args.calibrate::8]
    for clip in args.clips:
        held += clip_frames(clip, w, h, 4)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for style in args.styles:
            row = measure(style, w, h, args.calibrate, held, args.runs, Path(tmp))
            rows.append(row)
            print(json.dumps(row), flush=True)
    result = {"machine": machine_description(), "torch_threads": torch.get_num_threads(), "rows": rows}
    if args.output:
        Path(args.output).write_text(json.dumps(result, indent=1))
    print(json.dumps(result["machine"]))


if __name__ == "__main__":
    main()
