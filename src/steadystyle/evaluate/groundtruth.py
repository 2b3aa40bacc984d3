"""Exact staleness on a clip with ground truth (the built-in synthetic call).

The *age* of an output pixel is the number of frames since the output last took a new value
there (mean-over-channels |O(t) − O(t−1)| > ``change`` grey levels; every pixel is new at frame 0).
A pixel is a **ghost** at frame t when the true, noise-free scene there changed since the frame
its output was made from: max over channels |clean(t) − clean(t − age)| > ``bound`` grey levels.
**Foreground lag** is the mean age, in frames, of the pixels the person covers at frame t.

Limits: a method that resamples every pixel every frame (flow warping) has age 0 everywhere and
scores no ghosts here even when it drags stale content along; use the ghost proxy for it.
"""

from __future__ import annotations

import numpy as np

from .metrics import update_map

__all__ = ["output_ages", "exact_ghosts"]


def output_ages(outputs: list[np.ndarray], change: float = 2.0) -> list[np.ndarray]:
    """Per-frame H×W int32 ages (frames since the output last changed by > ``change`` grey levels)."""
    ages = [np.zeros(outputs[0].shape[:2], np.int32)]
    for prev, cur in zip(outputs, outputs[1:]):
        age = ages[-1] + 1
        age[update_map(prev, cur, change)] = 0
        ages.append(age)
    return ages


def exact_ghosts(outputs: list[np.ndarray], clean: list[np.ndarray], foreground: list[np.ndarray],
                 bound: float = 16.0, change: float = 2.0) -> tuple[list[float], list[float]]:
    """(ghost rate per frame (0–1), foreground lag per frame (frames)) from the ground truth.

    outputs, clean: H×W×3 uint8 RGB per frame; foreground: H×W bool per frame.
    """
    ghosts, lags = [], []
    stack = np.stack(clean).astype(np.int16)
    ys, xs = np.mgrid[0:stack.shape[1], 0:stack.shape[2]]
    for t, age in enumerate(output_ages(outputs, change)):
        source = stack[t - age, ys, xs]  # clean frame each output pixel was made from
        stale = np.abs(stack[t] - source).max(axis=2) > bound
        ghosts.append(float(stale.mean()))
        fg = foreground[t]
        lags.append(float(age[fg].mean()) if fg.any() else 0.0)
    return ghosts, lags
