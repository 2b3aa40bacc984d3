"""Every registered stabilization method through the one frame loop: ms/frame and × per-frame.

The built-in synthetic call is run through the loop (array source, no sink) ``repeats`` times
per cell; a run's time per frame is its wall time over its frames, and a cell keeps the median
over runs.  Ratios are to ``per-frame`` on the same size and backend, measured in the same run.
A stabilizer's overhead is its own median time per frame over the median time of one full-frame
network pass (``per-frame``'s, same size and backend, same run): a method's own passes may be
small region passes, and a ratio to those would not say what share of a frame's budget it takes.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from typing import Any

import numpy as np

from ..loop import run
from ..sources import ArraySource
from ..stabilize.base import METHODS, make_params, method_names
from ..stats import FrameLog


def method_rows(methods: tuple[str, ...] | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, method, params values) for each method, plus ``METHOD+roi`` where a method has a
    boolean ``roi`` parameter."""
    rows = []
    for name in methods or tuple(method_names()):
        fields = {f.name: f for f in dataclasses.fields(METHODS[name].params)} if name in METHODS else {}
        if "roi" in fields:
            rows.append((name, name, {"roi": False}))
            rows.append((f"{name}+roi", name, {"roi": True}))
        else:
            rows.append((name, name, {}))
    return rows


def clip_frames(width: int, height: int, frames: int, fps: int = 25) -> list[np.ndarray]:
    """The first ``frames`` frames of the built-in call clip at ``width``×``height`` (H×W×3 uint8)."""
    from ..evaluate.synthetic import CallClipConfig, iter_call_clip

    out = []
    for frame, _fg, _moving in iter_call_clip(CallClipConfig(width=width, height=height, fps=fps,
                                                             seconds=max(1.0, frames / fps + 1))):
        out.append(frame)
        if len(out) >= frames:
            break
    return out


def time_method(stylizer, method: str, values: dict[str, Any], frames: list[np.ndarray], repeats: int) -> dict[str, Any]:
    """Run ``frames`` through the loop ``repeats`` times with ``stylizer`` and a fresh ``method``
    stabilizer (params ``values``) each time, built through RunSpec; ms/frame per run and
    per-stage medians."""
    from ..spec import RunSpec

    spec = RunSpec(style=stylizer, method=method, params=make_params(method, **values))
    runs, network, stabilize, network_frames = [], [], [], []
    for _ in range(repeats):
        log = FrameLog()
        processor = spec.processor(stylizer=stylizer, timed=True)
        start = time.perf_counter()
        summary = run(ArraySource(frames), processor, None, [log])
        runs.append((time.perf_counter() - start) * 1000.0 / summary.frames)
        network += [v for v in log.stylize_ms if v > 0]
        stabilize += log.stabilize_ms
        network_frames.append(summary.stylized_frames / summary.frames)
    return {"ms_per_frame": round(statistics.median(runs), 3), "runs_ms_per_frame": [round(r, 3) for r in runs],
            "network_ms_median": round(statistics.median(network), 3) if network else None,
            "stabilize_ms_median": round(statistics.median(stabilize), 3),
            "network_ran_on": round(statistics.fmean(network_frames), 4)}


def method_table(stylizer, label: str, size: tuple[int, int], frames: list[np.ndarray], repeats: int,
                 methods: tuple[str, ...] | None, progress: bool = False) -> list[dict[str, Any]]:
    """One row per method (see :func:`method_rows`) on ``stylizer`` at ``size``, with the ratio to
    ``per-frame`` from the same call and the stabilizer's overhead."""
    rows = []
    for name, method, values in method_rows(methods):
        cell = time_method(stylizer, method, values, frames, repeats)
        rows.append({"size": f"{size[0]}x{size[1]}", "style": getattr(stylizer, "name", ""), "backend": label,
                     "method": name, **cell})
        if progress:
            print(f"{rows[-1]['size']:>9} {label:<14} {name:<16} {cell['ms_per_frame']:8.2f} ms/frame", flush=True)
    per_frame = next((r for r in rows if r["method"] == "per-frame"), None)
    base = per_frame["ms_per_frame"] if per_frame else None
    full_pass = per_frame["network_ms_median"] if per_frame else None
    for row in rows:
        if base:
            row["ratio_to_per_frame"] = round(row["ms_per_frame"] / base, 3)
        # over one full-frame pass (per-frame's network time, same run); a method's own passes may be regions
        reference = full_pass or row["network_ms_median"]
        if reference:
            row["stabilizer_overhead"] = round(row["stabilize_ms_median"] / reference, 4)
    return rows


__all__ = ["method_rows", "clip_frames", "time_method", "method_table"]
