"""Warping error (Lai et al., ECCV 2018) with OpenCV DIS flow of the *input* frames.

For consecutive input frames I(t), I(t+1) we compute the forward flow wf (t → t+1) and backward
flow wb (t+1 → t) with OpenCV DIS (preset and resolution are part of every reported number), and
the unreliable pixels of wf (forward–backward check and motion boundaries, see
:func:`steadystyle.stabilize.flow.unreliable`).  The error of the output pair is

    E(t) = Σ_x M(x) ‖O(t)(x) − O(t+1)(x + wf(x))‖² / Σ_x M(x),   M = 1 − unreliable,

with RGB in [0, 1] and ‖·‖² summed over the three channels — as in Lai et al.'s released code
(``evaluate_WarpError.py``), whose numbers field reports quote; the clip's error is the mean of
E(t) over its pairs.  Divide by 3 for a per-channel mean.

The **moving-region** error is the same sum over the reliable pixels whose input flow is at least
:data:`MOVING_PX` px long (|wf(x)| ≥ 0.5 px): the moving person, the part a caller looks at, where
a frozen background cannot help.  A pair with no such pixel has no value (NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..stabilize.flow import dis_flow, grey_u8, unreliable, warp

__all__ = ["MOVING_PX", "PairFlow", "input_flows", "warping_error", "warping_errors"]

#: Input flow (px per frame) at and above which a pixel counts as moving.
MOVING_PX = 0.5


@dataclass
class PairFlow:
    """Flow of one input pair (t, t+1): forward flow H×W×2 float32 px on I(t), and its reliable pixels (H×W bool)."""

    forward: np.ndarray
    reliable: np.ndarray

    @property
    def moving(self) -> np.ndarray:
        """Reliable pixels whose input flow is at least :data:`MOVING_PX` px long (H×W bool)."""
        f = self.forward
        return self.reliable & (f[..., 0] ** 2 + f[..., 1] ** 2 >= MOVING_PX ** 2)


def input_flows(frames: list[np.ndarray], preset: str = "medium") -> list[PairFlow]:
    """DIS flow and reliability for every consecutive pair of input frames (len(frames) − 1 entries)."""
    greys = [grey_u8(f) for f in frames]
    out = []
    for a, b in zip(greys, greys[1:]):
        wf, wb = dis_flow(a, b, preset), dis_flow(b, a, preset)
        out.append(PairFlow(wf, ~unreliable(wf, wb)))
    return out


def warping_error(out_t: np.ndarray, out_next: np.ndarray, pair: PairFlow, moving: bool = False) -> float:
    """E(t) for outputs O(t), O(t+1) (H×W×3 uint8 RGB) and the input pair's flow, over the reliable
    pixels (``moving``: only those whose input moved, :attr:`PairFlow.moving`); NaN if there are none."""
    mask = pair.moving if moving else pair.reliable
    if not mask.any():
        return float("nan")
    a = out_t.astype(np.float32) / 255.0
    b = warp(out_next.astype(np.float32) / 255.0, pair.forward)
    sq = ((a - b) ** 2).sum(axis=2)
    return float(sq[mask].mean())


def warping_errors(outputs: list[np.ndarray], flows: list[PairFlow], moving: bool = False) -> list[float]:
    """E(t) for every consecutive output pair (len(outputs) − 1 values); ``moving``: the moving-region error."""
    return [warping_error(outputs[t], outputs[t + 1], flows[t], moving) for t in range(len(outputs) - 1)]
