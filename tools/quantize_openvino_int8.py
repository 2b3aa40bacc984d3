"""OpenVINO int8 (``STEADYSTYLE_OPENVINO_PRECISION=int8``) against bf16/f32: PSNR vs PyTorch fp32 on
frames of real clips, and full-pass ms of both precisions interleaved in one run.

    python tools/quantize_openvino_int8.py --styles scream udnie \
        --clips ../shared/data/videos/asl_gestures/milk.mkv ../shared/data/videos/intel_head_pose_female.gif \
        --sizes 320x240,640x480 -o /tmp/int8.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import cv2
import numpy as np

from steadystyle.backends.openvino import OpenVinoStylizer, resolve_precision
from steadystyle.backends.torch import TorchStylizer
from steadystyle.bench.floor import cpu_model, load_average


def clip_frames(path: str, n: int, size: tuple[int, int]) -> list[np.ndarray]:
    """``n`` frames spread over the first 60 of ``path``, RGB at ``size`` (width, height)."""
    cap, frames = cv2.VideoCapture(path), []
    while len(frames) < 60:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(cv2.resize(frame, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB))
    return frames[::max(1, len(frames) // n)][:n]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", nargs="+", default=["scream"])
    parser.add_argument("--clips", nargs="+", required=True)
    parser.add_argument("--sizes", default="320x240,640x480")
    parser.add_argument("--frames", type=int, default=5, help="frames per clip for PSNR")
    parser.add_argument("--passes", type=int, default=20, help="timed passes per precision and size")
    parser.add_argument("-o", "--output", default="int8.json")
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    base = resolve_precision("auto")
    out = {"machine": cpu_model(), "load_start": load_average(), "float_precision": base, "rows": []}
    for style in args.styles:
        ref = TorchStylizer(style, device="cpu")
        stylizers = {p: OpenVinoStylizer(style, precision=p) for p in (base, "int8")}
        w, h = sizes[0]
        quality = {p: [] for p in stylizers}
        for clip in args.clips:
            for frame in clip_frames(clip, args.frames, (w, h)):
                expected = ref(frame)
                for p, s in stylizers.items():
                    quality[p].append(psnr(s(frame), expected))
        for size in sizes:
            frame = clip_frames(args.clips[0], 1, size)[0]
            times = {p: [] for p in stylizers}
            for s in stylizers.values():
                for _ in range(3):
                    s(frame)
            for block in range(0, args.passes, 5):  # interleaved in blocks of 5
                for p, s in stylizers.items():
                    for _ in range(min(5, args.passes - block)):
                        t = time.perf_counter()
                        s(frame)
                        times[p].append((time.perf_counter() - t) * 1000)
            row = {"style": style, "size": f"{size[0]}x{size[1]}"}
            for p in stylizers:
                row[f"{p}_ms"] = round(statistics.median(times[p]), 2)
                row[f"{p}_psnr_min"] = round(min(quality[p]), 1)
                row[f"{p}_psnr_median"] = round(statistics.median(quality[p]), 1)
            row["int8_speedup"] = round(row[f"{base}_ms"] / row["int8_ms"], 2)
            out["rows"].append(row)
            print(json.dumps(row), flush=True)
    out["load_end"] = load_average()
    with open(args.output, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
