"""Boxes: rectangular regions of a frame, in pixels, shared by the stabilizers and the backends.

A :class:`Box` holds rows ``y0:y1`` and columns ``x0:x1`` (end exclusive).  The helpers are pure
functions of boxes and frame sizes; nothing here knows about networks or masks.
"""

from __future__ import annotations

from typing import NamedTuple


class Box(NamedTuple):
    """A region of a frame in pixels: rows ``y0:y1``, columns ``x0:x1`` (end exclusive)."""

    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def area(self) -> int:
        return max(0, self.height) * max(0, self.width)

    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)


def grow(box: Box, margin: int, height: int, width: int) -> Box:
    """``box`` grown by ``margin`` pixels on every side, clipped to the H×W frame."""
    return Box(max(0, box.y0 - margin), min(height, box.y1 + margin), max(0, box.x0 - margin), min(width, box.x1 + margin))


def align(box: Box, multiple: int, height: int, width: int) -> Box:
    """``box`` with its start rounded down and its end rounded up to a multiple of ``multiple``
    (the end clipped to the frame, so a box touching the right or bottom edge keeps that edge)."""
    m = multiple
    return Box(box.y0 - box.y0 % m, min(height, -(-box.y1 // m) * m), box.x0 - box.x0 % m, min(width, -(-box.x1 // m) * m))


def context_box(box: Box, height: int, width: int, context: int, multiple: int = 4) -> Box:
    """The crop a network must see to compute ``box`` exactly: ``box`` grown by ``context``
    pixels (its receptive radius), clipped to the H×W frame, start aligned down to ``multiple``
    (so the crop's stride-2 grid is the full frame's) and end aligned up (clipped to the frame)."""
    return align(grow(box, context, height, width), multiple, height, width)


def _snap_axis(start: int, end: int, size: int, steps: int, multiple: int) -> tuple[int, int]:
    """One axis of :func:`snap_to_ladder`: [start, end) of a ``size``-px axis → [start', end')."""
    step = multiple * -(-size // (multiple * steps))
    length = min(size, -(-(end - start) // step) * step)
    if length >= size:
        return 0, size
    if start + length <= size:
        return start, start + length
    moved = (size - length) // multiple * multiple  # the start moves back, still aligned
    return moved, max(end, moved + length)  # (an unaligned frame edge can leave one short rung)


def snap_to_ladder(box: Box, height: int, width: int, steps: int, multiple: int = 4) -> Box:
    """``box`` (start aligned to ``multiple``) widened to the next rung of a ladder of ``steps``
    sizes per axis — multiples of ``multiple`` × ⌈side / (``multiple`` × ``steps``)⌉ px, capped at the
    frame's side — by moving its end, or its start back (kept aligned) where the frame ends.

    The result contains ``box``.  A frame's crops then come in at most ``steps``² shapes (nearly
    always), whatever the boxes: a runtime that prepares each new input shape (OpenVINO's dynamic
    model, ONNX Runtime) meets few, and its memory for them stops growing after the first ones.
    """
    y0, y1 = _snap_axis(box.y0, box.y1, height, steps, multiple)
    x0, x1 = _snap_axis(box.x0, box.x1, width, steps, multiple)
    return Box(y0, y1, x0, x1)


def box_within(box: Box, height: int, width: int) -> bool:
    """Whether ``box`` is non-empty and inside an H×W frame."""
    return 0 <= box.y0 < box.y1 <= height and 0 <= box.x0 < box.x1 <= width


__all__ = ["Box", "grow", "align", "context_box", "snap_to_ladder", "box_within"]
