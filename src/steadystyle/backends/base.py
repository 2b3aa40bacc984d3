"""What every backend is: the :class:`Stylizer` protocol, and the one region policy.

A stylizer applies one style network to frames:

- ``stylizer(image)``: H×W×3 uint8 RGB → stylized H×W×3 uint8 RGB of the same size;
- ``stylizer.stylize_region(image, box)``: S(t) inside ``box`` only → box-sized h×w×3 uint8,
  computed on the crop ``box`` + ``context`` pixels with every instance norm frozen at the
  statistics of the last full-frame pass (:attr:`region_stats`), so inside the box the result
  equals a full pass up to the change of statistics since then;
- ``name``, ``backend``, ``device``, ``max_side``, ``context`` and ``synchronize()``.

:class:`RegionStylizer` implements the region half once for every backend: a backend supplies
``_full(image, record)`` and ``_frozen(crop, stats)``, and :func:`region_crop` — the only place
that decides between a region pass and a full-frame pass — does the rest.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import SteadyStyleError
from ..frames import check_frame
from ..geometry import Box, box_within, context_box, snap_to_ladder

#: A region pass whose crop (region plus network context) covers at least this fraction of the
#: frame runs as a full-frame pass instead: it costs about the same and refreshes the statistics.
REGION_FULL_FRACTION = 0.7

#: A region pass's crop is widened (with more of the frame as context) to one of this many sizes
#: per axis (:func:`~steadystyle.geometry.snap_to_ladder`): at most this² crop shapes per frame
#: size.  OpenVINO's dynamic crop model prepares every new input shape (on this VM 10–20 ms for a
#: small crop that then runs in 2 ms) and keeps memory for the shapes it met (+53 MiB for the first
#: 50 random shapes of a 320×240 frame, still rising past 300): a call met a new shape every
#: 8 region passes and grew +2.4 MiB/min.  0 = no ladder (crops aligned to 4 only).
REGION_STEPS = 8

#: While region passes are in use, every this many full-frame passes one records the statistics
#: (the ``record`` graph, 1.6–1.8× a plain pass on OpenVINO, whose plain graph fuses the norms);
#: the others run plain.  Region passes freeze statistics at most this many full passes old —
#: at 30 fps a tenth of a second of a call, where they drift far less than between the full
#: passes themselves.
RECORD_EVERY = 4

#: The smallest ``max_side`` (pixels) any backend accepts.
MIN_MAX_SIDE = 16
#: Frames whose shorter side is below this (pixels) run the network scaled up to it and are
#: scaled back: the network's reflection padding needs a few pixels on every side.
MIN_WORK_SIDE = 5


@runtime_checkable
class Stylizer(Protocol):
    """What the frame loop needs from a backend (see the module docstring)."""

    name: str
    backend: str
    max_side: int | None
    context: int

    def __call__(self, image: np.ndarray) -> np.ndarray: ...

    def stylize_region(self, image: np.ndarray, box: Box) -> np.ndarray: ...

    def region_plan(self, image: np.ndarray, box: Box) -> Box | None: ...

    def synchronize(self) -> None: ...


@dataclass(frozen=True)
class RegionStats:
    """The instance-norm statistics of one full-frame pass, as a region pass freezes them.

    size: (H, W) of the frame they were recorded on (pixels).  values: the backend's own form
    (a list of per-layer (mean, 1/std) tensors for torch, a packed 2×ΣC array for the others).
    """

    size: tuple[int, int]
    values: Any


#: The working size (longer side, pixels) when none is given: frames larger than this (beyond
#: 1080p) are stylized at this size and scaled back, so a 7000×7000 image cannot take the
#: machine's memory; ``--max-side`` sets another.
DEFAULT_MAX_SIDE = 1920


def working_size(height: int, width: int, max_side: int | None) -> tuple[int, int]:
    """(h, w) the network runs at: scaled so the longer side ≤ ``max_side`` (None:
    :data:`DEFAULT_MAX_SIDE`), aspect kept."""
    max_side = max_side or DEFAULT_MAX_SIDE
    if min(height, width) < MIN_WORK_SIDE:  # too small for the network's padding: scale up
        s = MIN_WORK_SIDE / min(height, width)
        up = max(MIN_WORK_SIDE, round(height * s)), max(MIN_WORK_SIDE, round(width * s))
        if max(up) > max(max_side, MIN_WORK_SIDE):
            raise SteadyStyleError(f"a {width}×{height} frame is too thin to stylize (each side scaled to at least "
                                   f"{MIN_WORK_SIDE} px would exceed {max_side} px)")
        return up
    if max(height, width) <= max_side:
        return height, width
    s = max_side / max(height, width)
    return max(1, round(height * s)), max(1, round(width * s))


def check_max_side(max_side: int | None) -> int | None:
    """``max_side`` when None or ≥ :data:`MIN_MAX_SIDE`; a one-line error otherwise."""
    if max_side is not None and int(max_side) < MIN_MAX_SIDE:
        raise SteadyStyleError(f"--max-side must be at least {MIN_MAX_SIDE} pixels")
    return None if max_side is None else int(max_side)


def check_region(image: np.ndarray, box: Box) -> Box:
    """``box`` as a :class:`Box` inside ``image`` (H×W×3 uint8); a one-line error otherwise."""
    check_frame(image)
    box = Box(*(int(v) for v in box))
    if not box_within(box, *image.shape[:2]):
        raise SteadyStyleError(f"region {tuple(box)} is empty or outside the {image.shape[1]}×{image.shape[0]} frame")
    return box


def region_crop(box: Box, height: int, width: int, context: int, max_side: int | None,
                stats: RegionStats | None) -> Box | None:
    """The crop a region pass runs the network on (``box`` + ``context``, aligned to 4, on the
    :data:`REGION_STEPS` ladder of sizes), or None
    when a full-frame pass is needed instead: no statistics for this H×W frame yet, a crop
    covering ≥ :data:`REGION_FULL_FRACTION` of the frame, or ``max_side`` rescaling frames."""
    if working_size(height, width, max_side) != (height, width) or stats is None or stats.size != (height, width):
        return None
    crop = context_box(box, height, width, context)
    if REGION_STEPS > 0:
        crop = snap_to_ladder(crop, height, width, REGION_STEPS)
    if crop.area >= REGION_FULL_FRACTION * height * width:
        return None
    return crop


class RegionStylizer:
    """The region half of every backend, written once.

    Subclasses set ``name``, ``backend``, ``device``, ``max_side`` and ``context`` and implement
    ``__call__`` (full frames) and :meth:`_frozen`.  Their full-frame pass of an unscaled frame
    asks :meth:`_record_now` and, when it says so, calls :meth:`_record` with the statistics.
    """

    name: str
    backend: str
    max_side: int | None
    context: int

    def __init__(self) -> None:
        self.record_every = RECORD_EVERY
        self._new_pass_state()

    def _new_pass_state(self) -> None:
        """Start this stylizer's per-pass state afresh: no statistics, tracking off, the record
        cadence at its start.  Backends with more mutable per-pass state (OpenVINO: its infer
        requests, not thread-safe) extend it."""
        self.track_stats = False
        self.region_stats: RegionStats | None = None
        self._plain_since = 0

    def view(self):
        """A view of this stylizer for one stream: the same network, weights and compiled models
        (nothing is loaded again), but its own per-pass state (:meth:`_new_pass_state`), so
        views may run in different threads at once."""
        view = copy.copy(self)
        view._new_pass_state()
        return view

    def _record_now(self, size: tuple[int, int]) -> bool:
        """Whether the full-frame pass of an unscaled H×W ``size`` frame about to run records
        statistics: while tracked, when none fit this size or :attr:`record_every` full passes
        have run since the last recording (counts this pass otherwise)."""
        if not self.track_stats:
            return False
        stats = self.region_stats
        if stats is None or stats.size != (int(size[0]), int(size[1])) or self._plain_since + 1 >= self.record_every:
            return True
        self._plain_since += 1
        return False

    def synchronize(self) -> None:
        """Wait for the device to finish queued work (for honest timings); a no-op by default."""

    def _record(self, size: tuple[int, int], values: Any) -> None:
        self.region_stats = RegionStats((int(size[0]), int(size[1])), values)
        self._plain_since = 0

    def _frozen(self, crop: np.ndarray, stats: Any) -> np.ndarray:
        """The network on a crop (h×w×3 uint8) with frozen ``stats`` → h×w×3 float32 0–255."""
        raise NotImplementedError

    def region_plan(self, image: np.ndarray, box: Box) -> Box | None:
        """The crop a region pass for ``box`` would run on, or None when it would be a full-frame
        pass (see :func:`region_crop`).  Turns statistics tracking on."""
        self.track_stats = True
        return region_crop(box, *image.shape[:2], self.context, self.max_side, self.region_stats)

    def stylize_region(self, image: np.ndarray, box: Box) -> np.ndarray:
        """S(t) inside ``box`` only: H×W×3 uint8 frame and a :class:`Box` → box-sized h×w×3 uint8.

        Falls back to a full-frame pass (which records fresh statistics) when :func:`region_crop`
        says so.  The first call turns statistics tracking on.
        """
        box = check_region(image, box)
        crop = self.region_plan(image, box)
        if crop is None:
            return self(image)[box.slices()]
        y = self._frozen(image[crop.slices()], self.region_stats.values)
        y = y[box.y0 - crop.y0:box.y1 - crop.y0, box.x0 - crop.x0:box.x1 - crop.x0]
        return np.rint(np.clip(y, 0, 255)).astype(np.uint8)


__all__ = ["Stylizer", "RegionStylizer", "RegionStats", "REGION_FULL_FRACTION", "REGION_STEPS", "RECORD_EVERY", "MIN_MAX_SIDE", "DEFAULT_MAX_SIDE", "working_size",
           "check_max_side", "check_region", "region_crop"]
