"""Is a long call flat?  The slope and first/last-minute medians of a series, and the server
process's resident memory sampled while a call runs (#23: latency and memory flat over 10 min).

Pure functions (:func:`slope_per_minute`, :func:`trend`) take (time s, value) pairs;
:class:`RssSampler` reads this process's ``VmRSS`` (Linux ``/proc/self/status``) every few
seconds in a thread of its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import SteadyStyleError


def slope_per_minute(samples: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (time s, value) pairs, in value units per minute (0 for fewer than
    two distinct times)."""
    if len(samples) < 2:
        return 0.0
    t = np.array([s[0] for s in samples], np.float64)
    v = np.array([s[1] for s in samples], np.float64)
    if np.ptp(t) == 0:
        return 0.0
    t = t - t.mean()
    return float((t * (v - v.mean())).sum() / (t * t).sum()) * 60.0


def trend(samples: Sequence[tuple[float, float]], window_s: float = 60.0) -> dict[str, Any]:
    """Slope (per minute, least squares), the median of the first and of the last ``window_s``
    seconds, their difference, and the count of samples.  Times in s (any origin), in order."""
    if not samples:
        raise SteadyStyleError("no samples to summarize")
    t0, t1 = samples[0][0], samples[-1][0]
    first = [v for t, v in samples if t - t0 <= window_s]
    last = [v for t, v in samples if t1 - t <= window_s]
    a, b = float(np.median(first)), float(np.median(last))
    return {"samples": len(samples), "span_s": round(t1 - t0, 1), "slope_per_min": slope_per_minute(samples),
            "first_median": a, "last_median": b, "change": b - a}


def by_minute(samples: Sequence[tuple[float, float]]) -> list[float]:
    """The median of each whole or partial minute of (time s, value) pairs, from the first time."""
    if not samples:
        return []
    t0 = samples[0][0]
    minutes: dict[int, list[float]] = {}
    for t, v in samples:
        minutes.setdefault(int((t - t0) // 60), []).append(v)
    return [float(np.median(minutes[m])) for m in sorted(minutes)]


def rss_mib(status: str = "/proc/self/status") -> float:
    """Resident memory (``VmRSS``) of this process, MiB; :class:`SteadyStyleError` where the
    system does not report it (not Linux)."""
    try:
        with open(status) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0  # reported in kB
    except OSError as exc:
        raise SteadyStyleError(f"cannot read resident memory from {status}: {exc.strerror or exc}") from None
    raise SteadyStyleError(f"{status} reports no VmRSS")


class RssSampler:
    """Samples :func:`rss_mib` every ``every_s`` seconds in a daemon thread, from :meth:`start`
    to :meth:`stop`; ``samples`` are (``time.perf_counter()`` s, MiB), the first taken at start."""

    def __init__(self, every_s: float = 5.0) -> None:
        if not every_s > 0:
            raise SteadyStyleError(f"the memory sampling interval must be positive (got {every_s!r})")
        self.every_s = every_s
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="steadystyle-rss", daemon=True)

    def _run(self) -> None:
        due = time.perf_counter()
        while True:
            self.samples.append((time.perf_counter(), rss_mib()))
            due += self.every_s
            if self._stop.wait(max(0.0, due - time.perf_counter())):
                break

    def start(self) -> RssSampler:
        rss_mib()  # fails here, in one line, where there is no VmRSS
        self._thread.start()
        return self

    def stop(self) -> list[tuple[float, float]]:
        """Stop (one last sample is taken) and return the samples."""
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join(10)
            self.samples.append((time.perf_counter(), rss_mib()))
        return list(self.samples)

    def __enter__(self) -> RssSampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["slope_per_minute", "trend", "by_minute", "rss_mib", "RssSampler"]
