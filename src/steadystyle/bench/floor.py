"""The floor of this machine for a style network, measured in the same run as the backends.

floor ms = the network's FLOPs (counted from its layer shapes) ÷ the best GEMM rate this
machine reaches (measured with PyTorch on square matrices, per precision).  No runtime can do a
pass in less; a backend's time ÷ its precision's floor says how close to the limit it runs.
"""

from __future__ import annotations

import os
import platform
import time
from typing import Any

#: Side of the square GEMM timed for the peak (n×n·n×n: 2n³ FLOPs).
GEMM_SIDE = 2048
#: Seconds each precision's GEMM is timed for (the best single product is kept).
GEMM_SECONDS = 0.6


def network_flops(network, height: int, width: int) -> int:
    """FLOPs (multiply and add counted separately) of one pass of ``network`` (a
    :class:`~steadystyle.network.TransformerNet`) on a 1×3×``height``×``width`` frame, counted
    from the layer shapes on PyTorch's meta device (nothing is computed).  Convolutions only:
    norms, activations, padding and upsampling are < 1 % of it."""
    import copy

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    net = copy.deepcopy(network).to("meta")
    x = torch.empty(1, 3, height + (-height) % 4, width + (-width) % 4, device="meta")
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(x)
    return int(counter.get_total_flops())


def gemm_peak(precision: str, device: str = "cpu", side: int = GEMM_SIDE, seconds: float = GEMM_SECONDS) -> float:
    """The best rate (GFLOP/s) of one ``side``×``side`` matrix product in ``precision``
    (``fp32``, ``bf16``, ``fp16``) with PyTorch on ``device``, at PyTorch's thread count, over
    ``seconds`` of repeats after one warm-up."""
    import torch

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    a = torch.randn(side, side, device=device).to(dtype)
    b = torch.randn(side, side, device=device).to(dtype)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    torch.mm(a, b)
    sync()
    best, end = float("inf"), time.perf_counter() + seconds
    while time.perf_counter() < end or best == float("inf"):
        start = time.perf_counter()
        torch.mm(a, b)
        sync()
        best = min(best, time.perf_counter() - start)
    return 2.0 * side ** 3 / best / 1e9


def floor_precisions(device: str) -> tuple[str, ...]:
    """The precisions whose GEMM peak the bench measures on ``device``."""
    return ("fp32", "fp16") if device.startswith("cuda") else ("fp32", "bf16")


def measure_peaks(device: str = "cpu", seconds: float = GEMM_SECONDS) -> dict[str, float]:
    """GFLOP/s per precision of :func:`floor_precisions` (rounded to 1)."""
    return {p: round(gemm_peak(p, device, seconds=seconds), 1) for p in floor_precisions(device)}


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else :func:`platform.processor`)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_features() -> list[str]:
    """Which of the instruction sets the runtimes use this CPU has (Linux flags)."""
    wanted = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "avx_vnni", "amx_bf16", "amx_int8")
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return []
    return [w for w in wanted if w in flags]


def load_average() -> list[float] | None:
    """The 1, 5 and 15-minute load averages (None where the OS has none)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def runtime_versions() -> dict[str, Any]:
    """Versions of the installed runtimes (absent ones left out)."""
    import importlib.metadata

    out = {}
    for name in ("torch", "onnxruntime", "openvino", "numpy", "opencv-python-headless"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


__all__ = ["GEMM_SIDE", "GEMM_SECONDS", "network_flops", "gemm_peak", "floor_precisions", "measure_peaks", "cpu_model",
           "cpu_features", "load_average", "runtime_versions"]
