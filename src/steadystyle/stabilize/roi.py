"""Box maths for compute that follows the motion: which regions of a frame to re-stylize.

Pure functions on masks and :class:`~steadystyle.geometry.Box` es, shared by any stabilizer
that asks ``stylize(box)`` for regions instead of the whole frame, and by the stylizers that
add network context around a region.  Coordinates are pixels, boxes end-exclusive.

The plan for one frame (:func:`plan_regions`):

1. the bounding box of each connected foreground component (8-connected) of the closed mask;
2. each grown by ``pad`` pixels and clipped to the frame;
3. boxes merged while any two overlap or lie within ``merge_gap`` pixels of each other (two
   regions that close share most of their network context, so one pass is cheaper);
4. ``None`` (= stylize the whole frame) when the merged boxes cover more than ``max_fraction``
   of the frame: a region pass costs its area plus the network's context around it, so large
   regions are no faster than the full frame.

``max_fraction`` is a stabilizer's *planning* knob (several boxes or one full pass?).  How one
requested box is computed — a region pass, or cut from a full pass — is decided by the stylizer's
one region policy, :func:`steadystyle.backends.base.region_crop`.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import SteadyStyleError
from ..geometry import Box, align, box_within, context_box, grow

__all__ = ["foreground_boxes", "grow", "align", "merge_boxes", "boxes_area", "plan_regions", "context_box",
           "box_within"]


def foreground_boxes(foreground: np.ndarray) -> list[Box]:
    """Bounding box of each 8-connected component of ``foreground`` (H×W, nonzero = foreground),
    in top-to-bottom, left-to-right order of the components' first pixels."""
    if foreground.ndim != 2:
        raise SteadyStyleError(f"expected an H×W mask, got shape {foreground.shape}")
    count, _labels, stats, _centroids = cv2.connectedComponentsWithStats((foreground != 0).astype(np.uint8),
                                                                         connectivity=8)
    boxes = []
    for i in range(1, count):  # label 0 is the background
        x, y, w, h = (int(v) for v in stats[i, :4])
        boxes.append(Box(y, y + h, x, x + w))
    return boxes




def _close(a: Box, b: Box, gap: int) -> bool:
    """Whether two boxes overlap, touch, or are at most ``gap`` pixels apart along both axes."""
    return a.y0 <= b.y1 + gap and b.y0 <= a.y1 + gap and a.x0 <= b.x1 + gap and b.x0 <= a.x1 + gap


def merge_boxes(boxes: list[Box], gap: int = 0) -> list[Box]:
    """Replace any two boxes that overlap, touch or lie within ``gap`` pixels by their bounding box,
    until no two do.  The result covers every input box; its order is by (y0, x0)."""
    out = [b for b in boxes if b.area > 0]
    merged = True
    while merged:
        merged = False
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                a, b = out[i], out[j]
                if _close(a, b, gap):
                    out[i] = Box(min(a.y0, b.y0), max(a.y1, b.y1), min(a.x0, b.x0), max(a.x1, b.x1))
                    del out[j]
                    merged = True
                    break
            if merged:
                break
    return sorted(out, key=lambda b: (b.y0, b.x0))


def boxes_area(boxes: list[Box]) -> int:
    """Total area of ``boxes`` in pixels (they do not overlap after :func:`merge_boxes`)."""
    return sum(b.area for b in boxes)


def plan_regions(foreground: np.ndarray, pad: int = 8, merge_gap: int = 32,
                 max_fraction: float = 0.5) -> list[Box] | None:
    """The regions to re-stylize for the H×W ``foreground`` mask (nonzero = foreground).

    Returns ``[]`` when there is no foreground, ``None`` when the whole frame should be
    stylized (merged boxes cover more than ``max_fraction`` of it), else the merged boxes.
    pad, merge_gap: pixels (see the module docstring).  max_fraction: 0–1.
    """
    if pad < 0 or merge_gap < 0 or not 0.0 <= max_fraction <= 1.0:
        raise SteadyStyleError(f"bad region plan: pad {pad}, merge_gap {merge_gap} (≥ 0), "
                               f"max_fraction {max_fraction} (0–1)")
    height, width = foreground.shape[:2]
    boxes = merge_boxes([grow(b, pad, height, width) for b in foreground_boxes(foreground)], merge_gap)
    if not boxes:
        return []
    if boxes_area(boxes) > max_fraction * height * width:
        return None
    return boxes
