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


def box_within(box: Box, height: int, width: int) -> bool:
    """Whether ``box`` is non-empty and inside an H×W frame."""
    return 0 <= box.y0 < box.y1 <= height and 0 <= box.x0 < box.x1 <= width


__all__ = ["Box", "grow", "align", "context_box", "box_within"]
