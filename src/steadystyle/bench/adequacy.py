"""When a bench's settings are too small to measure, and what to use instead.

Too few network passes make a median of a few noisy values; too few warm-up passes time the
first passes' compilation and allocation; too few frames per method run let the first full pass
and the stabilizer's start dominate a method's ms/frame (``adaptive`` read 26× per-frame at
``--frames 4``); a cell whose interquartile range exceeds :data:`NOISY_SPREAD` of its median
was measured while something else used the machine.
"""

from __future__ import annotations

from typing import Any

#: The smallest settings whose numbers the bench stands behind.
MIN_PASSES = 20
MIN_WARMUP = 3
MIN_FRAMES = 48
MIN_REPEATS = 3
#: Interquartile range ÷ median above which a network cell is flagged as noisy.
NOISY_SPREAD = 0.25


def settings_warnings(passes: int, warmup: int, frames: int, repeats: int, methods: bool) -> list[str]:
    """One sentence per setting too small to measure, naming the option and what to use."""
    out = []
    if passes < MIN_PASSES:
        out.append(f"--passes {passes} is too few to measure network times (a median of {passes} noisy values); "
                   f"use --passes {MIN_PASSES} or more")
    if warmup < MIN_WARMUP:
        out.append(f"--warmup {warmup} times the first passes (shape compilation, allocation); "
                   f"use --warmup {MIN_WARMUP} or more")
    if methods and frames < MIN_FRAMES:
        out.append(f"--frames {frames} is too few to compare methods (the first full pass and the stabilizer's "
                   f"start dominate ms/frame); use --frames {MIN_FRAMES} or more")
    if methods and repeats < MIN_REPEATS:
        out.append(f"--repeats {repeats} gives no median of method runs; use --repeats {MIN_REPEATS} or more")
    return out


def noise_warnings(rows: list[dict[str, Any]]) -> list[str]:
    """A sentence for each network cell whose spread exceeds :data:`NOISY_SPREAD`."""
    noisy = [f"{r['backend']} {r['mode']} at {r['size']} ({r['spread']:.0%})" for r in rows
             if r.get("spread", 0) > NOISY_SPREAD]
    if not noisy:
        return []
    return [f"noisy cells (interquartile range > {NOISY_SPREAD:.0%} of the median: the machine was busy): "
            + ", ".join(noisy) + "; rerun on a quiet machine or with more --passes"]


__all__ = ["MIN_PASSES", "MIN_WARMUP", "MIN_FRAMES", "MIN_REPEATS", "NOISY_SPREAD", "settings_warnings",
           "noise_warnings"]
