#!/usr/bin/env python3
"""Time candidate style-network architectures at 320×240 on this CPU (torch and ONNX Runtime).

Writes JSON (median ms per frame over --repeats runs, after 3 warm-ups) and prints a table.
This is how the ``light`` variant was chosen: see README, "Choosing the light network".
"""

import argparse
import io
import json
import os
import platform
import statistics
import sys
import time

import torch

from steadystyle.network import NetworkConfig, TransformerNet

CANDIDATES = [((32, 64, 128), 5, 9), ((16, 32, 64), 5, 9), ((16, 32, 64), 3, 9), ((16, 32, 64), 3, 5),
              ((16, 32, 64), 4, 5), ((12, 24, 48), 4, 5), ((16, 32, 64), 2, 5)]


def median_ms(fn, repeats: int) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--json", default="bench-networks.json")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    try:
        import onnxruntime as ort
    except ImportError:
        ort = None
    x = torch.rand(1, 3, 240, 320) * 255
    rows = []
    for channels, blocks, kernel in CANDIDATES:
        net = TransformerNet(NetworkConfig(channels, blocks, kernel)).eval()
        with torch.inference_mode():
            t_torch = median_ms(lambda: net(x), args.repeats)
        t_ort = None
        if ort is not None:
            buf = io.BytesIO()
            torch.onnx.export(net, x, buf, input_names=["x"], output_names=["y"], opset_version=17, dynamo=False)
            so = ort.SessionOptions()
            so.intra_op_num_threads = args.threads
            session = ort.InferenceSession(buf.getvalue(), so, providers=["CPUExecutionProvider"])
            xn = x.numpy()
            t_ort = median_ms(lambda: session.run(None, {"x": xn}), args.repeats)
        rows.append({"channels": list(channels), "residual_blocks": blocks, "outer_kernel": kernel,
                     "parameters": sum(q.numel() for q in net.parameters()),
                     "torch_ms": round(t_torch, 1), "onnxruntime_ms": round(t_ort, 1) if t_ort else None})
        print(f"{'/'.join(map(str, channels)):>10} × {blocks} blocks, {kernel}×{kernel} outer: "
              f"torch {t_torch:6.1f} ms  ort {t_ort or float('nan'):6.1f} ms", flush=True)
    report = {"size": "320x240", "threads": args.threads, "repeats": args.repeats, "torch": torch.__version__,
              "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                          "load_average": os.getloadavg()}, "candidates": rows}
    with open(args.json, "w") as f:
        json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
