"""Observers of the frame loop: run statistics, progress bars, live status — none in the hot path.

Each observer gets every :class:`~steadystyle.loop.FrameResult` through ``on_frame`` and the
:class:`~steadystyle.loop.LoopSummary` through ``on_end``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_write_text
from .errors import SteadyStyleError
from .loop import FrameResult, LoopSummary


def machine_memory() -> int | None:
    """This machine's memory in bytes (the cgroup's limit where it is lower); None if unknown."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = None
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            total = min(total or int(limit), int(limit))
    except OSError:
        pass
    return total


def machine_description() -> dict[str, Any]:
    """The machine a number was measured on: platform, processor, cores, torch threads, GPU."""
    import torch

    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def summarize_ms(values: list[float]) -> dict[str, float]:
    """Median, mean and total of per-frame times in ms (zeros when empty)."""
    values = values or [0.0]
    return {"median_ms": round(statistics.median(values), 3), "mean_ms": round(statistics.fmean(values), 3),
            "total_s": round(sum(values) / 1000.0, 3)}


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50, p95 and max of ``values`` (None when empty)."""
    if not values:
        return {"p50": None, "p95": None, "max": None}
    a = np.asarray(values, dtype=np.float64)
    return {"p50": round(float(np.percentile(a, 50)), 3), "p95": round(float(np.percentile(a, 95)), 3),
            "max": round(float(a.max()), 3)}


class FrameLog:
    """Records per-frame foreground fraction, network and stabilizer time, latency (ms)."""

    def __init__(self) -> None:
        self.foreground: list[float] = []
        self.stylize_ms: list[float] = []
        self.stabilize_ms: list[float] = []
        self.latency_ms: list[float] = []
        self.done: list[float] = []
        self.summary: LoopSummary | None = None

    def on_frame(self, result: FrameResult) -> None:
        self.foreground.append(result.foreground)
        self.stylize_ms.append(result.stylize_ms)
        self.stabilize_ms.append(result.stabilize_ms)
        self.latency_ms.append(result.latency_ms)
        self.done.append(result.done)

    def on_end(self, summary: LoopSummary) -> None:
        self.summary = summary

    def delivered_fps(self, last_seconds: float | None = None) -> float:
        """Frames delivered per second (over the last ``last_seconds`` when given)."""
        done = self.done
        if last_seconds is not None and done:
            done = [t for t in done if t >= done[-1] - last_seconds]
        if len(done) < 2 or done[-1] <= done[0]:
            return 0.0
        return (len(done) - 1) / (done[-1] - done[0])


class Progress:
    """A tqdm bar over the frames (``total`` when known)."""

    def __init__(self, total: int | None, desc: str, enabled: bool = True) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, disable=not enabled, unit="frame", desc=desc, dynamic_ncols=True)

    def on_frame(self, result: FrameResult) -> None:
        self.bar.update(1)

    def on_end(self, summary: LoopSummary) -> None:
        self.bar.close()

    def close(self) -> None:
        self.bar.close()


class StatusLine:
    """A live status line on stderr about once a second: fps, latency p50/p95, drops, network ms."""

    def __init__(self, log: FrameLog, dropped=lambda: 0, stream=None, every: float = 1.0) -> None:
        self.log = log
        self.dropped = dropped
        self.stream = stream or sys.stderr
        self.every = every
        self._next = time.perf_counter() + every

    def line(self) -> str:
        lat = percentiles(self.log.latency_ms[-100:])
        net = self.log.stylize_ms[-30:]
        fg = self.log.foreground[-30:]
        return (f"{self.log.delivered_fps(3.0):5.1f} fps | latency p50 {lat['p50'] or 0:.0f} ms p95 {lat['p95'] or 0:.0f}"
                f" ms | dropped {self.dropped()} | network {np.mean(net) if net else 0:.1f} ms"
                f" | foreground {np.mean(fg) if fg else 0:.0%}")

    def on_frame(self, result: FrameResult) -> None:
        now = time.perf_counter()
        if now >= self._next:
            self._next = now + self.every
            print("\r" + self.line(), end="", file=self.stream, flush=True)

    def on_end(self, summary: LoopSummary) -> None:
        print("", file=self.stream)


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as indented JSON, atomically (:func:`~steadystyle.atomic.atomic_write_text`)."""
    path = Path(path)
    if not path.parent.is_dir():
        raise SteadyStyleError(f"{path.parent}: folder for the stats file does not exist")
    try:
        atomic_write_text(path, json.dumps(data, indent=1) + "\n")
    except OSError as exc:
        raise SteadyStyleError(f"{path}: cannot write ({exc.strerror})") from None


__all__ = ["machine_description", "summarize_ms", "percentiles", "FrameLog", "Progress", "StatusLine", "write_json"]
