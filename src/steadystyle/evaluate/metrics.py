"""Temporal-consistency measures on stylized frames.

Frames are H×W×3 uint8 RGB; masks are H×W bool. Differences are in grey levels (0–255).
"""

from __future__ import annotations

import numpy as np


def static_flicker(prev: np.ndarray, cur: np.ndarray, static: np.ndarray) -> float:
    """Mean |cur − prev| over the pixels (and channels) where ``static`` is True, grey levels.

    With ``static`` the pixels whose *input* did not change, any change of the output there
    is flicker: 0 is perfectly stable. NaN when no pixel is static.
    """
    if not static.any():
        return float("nan")
    diff = np.abs(cur.astype(np.int16) - prev.astype(np.int16))
    return float(diff[static].mean())


def mean_static_flicker(outputs: list[np.ndarray], static_masks: list[np.ndarray]) -> float:
    """Average of :func:`static_flicker` over consecutive pairs; ``static_masks[t]`` belongs to
    the pair (t−1, t), so ``static_masks[0]`` is unused."""
    values = [static_flicker(outputs[t - 1], outputs[t], static_masks[t]) for t in range(1, len(outputs))]
    values = [v for v in values if v == v]
    return float(np.mean(values)) if values else float("nan")
