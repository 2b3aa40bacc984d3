"""Every backend's network time per frame size, side by side in one run, beside the floor.

For one size, every backend is built (through :class:`~steadystyle.spec.RunSpec`, i.e. the one
factory), warmed up, and then timed **interleaved** in blocks: :data:`BLOCK` passes of one
backend, then of the next, round after round, on the same frames of the synthetic call, so a busy
moment of a shared machine falls on all of them alike (pass-by-pass interleaving was tried: each
runtime's worker threads keep spinning after a pass and slowed the next runtime's pass up to 10×).  Each pass waits for the device (``synchronize``).  Two modes:
``plain`` (a full pass, as ``per-frame`` runs it) and ``record`` (a full pass that also records
the instance-norm statistics region passes freeze, as ``adaptive`` runs its full passes).
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from typing import Any, Iterator

import numpy as np

from ..errors import SteadyStyleError

#: Backend labels: a name in the backend table, or ``openvino:bf16`` / ``openvino:f32`` for one
#: OpenVINO precision (``$STEADYSTYLE_OPENVINO_PRECISION`` while it is built).
DEFAULT_BACKENDS = ("torch", "onnx", "openvino:bf16", "openvino:f32")
MODES = ("plain", "record")
#: Passes of one backend timed in a row before the next backend's turn.
BLOCK = 5


@contextlib.contextmanager
def _precision(name: str, precision: str) -> Iterator[None]:
    if not precision:
        yield
        return
    if name != "openvino":
        raise SteadyStyleError(f"backend {name}:{precision}: only openvino takes a precision (openvino:bf16, openvino:f32, openvino:int8)")
    from ..backends.openvino import PRECISION_ENV

    old = os.environ.get(PRECISION_ENV)
    os.environ[PRECISION_ENV] = precision
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(PRECISION_ENV, None)
        else:
            os.environ[PRECISION_ENV] = old


def build(style: Any, label: str, device: str):
    """The stylizer ``label`` names (see :data:`DEFAULT_BACKENDS`), built through RunSpec, or the
    reason it cannot be had (str).  ``style`` may be a stylizer already built (then it is used)."""
    from ..spec import RunSpec

    name, _, precision = label.partition(":")
    try:
        with _precision(name, precision):
            return RunSpec(style=style, backend=name, device=device).stylizer()
    except (SteadyStyleError, ImportError) as exc:
        return str(exc)


def precision_of(stylizer) -> str:
    """The arithmetic a stylizer's network runs in: ``int8``, ``bf16``, ``fp16`` or ``fp32`` (int8 has
    no floor: no int8 peak is measured, so its rows show none rather than the fp32 one)."""
    precision = getattr(stylizer, "precision", None)
    if precision in ("int8", "bf16", "f32", "fp32", "fp16"):
        return "fp32" if precision == "f32" else precision
    return "fp16" if getattr(stylizer, "half", False) else "fp32"


def spread(values: list[float]) -> float:
    """Interquartile range ÷ median of ``values`` (0 for fewer than 4 values)."""
    if len(values) < 4:
        return 0.0
    q1, q3 = np.percentile(values, [25, 75])
    return float((q3 - q1) / max(statistics.median(values), 1e-9))


def time_interleaved(stylizers: dict[str, Any], frames: list[np.ndarray], passes: int, warmup: int,
                     record: bool, block: int = BLOCK) -> dict[str, list[float]]:
    """ms of each of ``passes`` full passes per stylizer, interleaved in blocks of ``block``
    passes (see the module docstring), after ``warmup`` untimed passes each; every block starts
    with one more untimed pass, so the threads another runtime left spinning do not land on
    this one's first timed pass.  ``record``: with statistics tracking on."""
    for stylizer in stylizers.values():
        stylizer.track_stats = record
        stylizer.record_every = 1  # record mode: every pass records
        stylizer.region_stats = None
        for i in range(warmup):
            stylizer(frames[i % len(frames)])
        stylizer.synchronize()
    times: dict[str, list[float]] = {label: [] for label in stylizers}
    done = 0
    while done < passes:
        n = min(block, passes - done)
        for label, stylizer in stylizers.items():
            stylizer(frames[done % len(frames)])  # untimed: the previous runtime's threads settle
            stylizer.synchronize()
            for i in range(done, done + n):
                start = time.perf_counter()
                stylizer(frames[i % len(frames)])
                stylizer.synchronize()
                times[label].append((time.perf_counter() - start) * 1000.0)
        done += n
    for stylizer in stylizers.values():
        stylizer.track_stats = False
    return times


def build_all(style: Any, labels: tuple[str, ...], device: str, notes: list[str]) -> dict[str, Any]:
    """``{label: stylizer}`` for every label that can be built; a note for each that cannot."""
    stylizers = {}
    for label in labels:
        built = build(style, label, device)
        if isinstance(built, str):
            notes.append(f"{label} skipped: {built}")
        else:
            stylizers[label] = built
    return stylizers


def network_rows(stylizers: dict[str, Any], size: tuple[int, int], frames: list[np.ndarray], passes: int,
                 warmup: int, floors: dict[str, float], flops: int, modes: tuple[str, ...] = MODES) -> list[dict[str, Any]]:
    """One row per backend and mode at ``size`` (width, height): median ms, p10/p90, spread, ×
    the fastest backend of that mode, × torch, and × its precision's floor (``floors``: ms)."""
    rows: list[dict[str, Any]] = []
    for mode in modes:
        times = time_interleaved(stylizers, frames, passes, warmup, record=mode == "record")
        medians = {label: statistics.median(v) for label, v in times.items()}
        fastest = min(medians.values()) if medians else None
        for label, values in times.items():
            stylizer = stylizers[label]
            precision = precision_of(stylizer)
            floor = floors.get(precision)
            row = {"size": f"{size[0]}x{size[1]}", "backend": label, "ran_on": stylizer.backend, "precision": precision,
                   "mode": mode, "passes": len(values), "median_ms": round(medians[label], 3),
                   "p10_ms": round(float(np.percentile(values, 10)), 3),
                   "p90_ms": round(float(np.percentile(values, 90)), 3), "spread": round(spread(values), 3),
                   "x_fastest": round(medians[label] / fastest, 3),
                   "x_torch": round(medians[label] / medians["torch"], 3) if "torch" in medians else None,
                   "style": getattr(stylizer, "name", ""),
                   "gflop": round(flops / 1e9, 3), "achieved_gflops": round(flops / 1e6 / medians[label], 1),
                   "floor_ms": floor, "x_floor": round(medians[label] / floor, 2) if floor else None}
            rows.append(row)
    return rows


__all__ = ["DEFAULT_BACKENDS", "MODES", "build", "build_all", "precision_of", "spread", "time_interleaved", "network_rows"]
