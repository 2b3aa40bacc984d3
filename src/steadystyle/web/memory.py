"""A long call's memory stays flat (#23): what keeps it so, and the one setting the server applies.

Found with the soak (``python -m steadystyle.web.latency``, docs/web-call.md) and glibc's
``mallinfo2`` sampled beside the server's resident memory, while the Python objects stayed as
many (within 0.8 %; the per-call log and deques are bounded):

1. **glibc's dynamic mmap threshold** (:func:`pin_mmap_threshold`).  A call moves a few
   picture-sized buffers per camera frame through several threads (aiortc's decoder and encoder,
   the call's worker, the event loop): decoded frames, ``to_ndarray``/``from_ndarray`` copies,
   the stylizer's input and output — 225 KiB each at 320×240, 900 KiB at 640×480.  glibc serves
   a block above its mmap threshold (128 KiB) with a mapping of its own, given back whole on
   ``free``; but the threshold is dynamic: once a mapped block is freed it rises to that block's
   size (up to 32 MiB), and from then on the pictures come from the per-thread heaps, between
   long-lived small blocks, leaving holes that are never given back.  In a 3-min soak at 320×240
   the heaps' free bytes rose 37 → 57 MiB; with the threshold pinned (``mallopt``, glibc's own
   128 KiB, which also switches the dynamic rise off) they stayed at 7–10 MiB.
2. **OpenVINO's per-shape cache**.  Region crops run on one model compiled with dynamic H×W;
   the CPU plugin keeps what it prepared for each input shape it has seen in a cache of
   ``CPU_RUNTIME_CACHE_CAPACITY`` shapes, 5000 by default — measured 0.25 to 0.75 MiB a shape
   for crops of a 320×240 frame, 0.6 MiB at 640×480 (593 crop shapes: +360 MiB).  A call meets
   new crop sizes for as long as it runs, so memory rose with every new one.  Every OpenVINO
   stylizer (the server's, live's and files' alike) is built with a cache of
   :data:`~steadystyle.backends.openvino.SHAPE_CACHE` shapes (the same 593 shapes: +51 MiB by
   the 200th, +4 MiB over the other 393), so the server sets nothing here.  A shape that fell out
   costs one preparation again, as a new shape always did.
3. **New crop shapes themselves**.  The cache bound did not stop it: with a capacity of 1, the
   first 50 random crop shapes of a 320×240 frame still took +53 MiB and growth went on to ~150
   shapes; in a call RSS rose exactly when a new shape came (43 shapes in 5 minutes, +19 MiB) and
   stayed flat between them.  Region crops are therefore widened to a ladder of
   :data:`~steadystyle.backends.base.REGION_STEPS` sizes per axis (at most 64 shapes per frame
   size, :func:`~steadystyle.geometry.snap_to_ladder`): the same call met 5 shapes in 5 minutes.

Not glibc (macOS, musl): the first does nothing; the second applies to OpenVINO stylizers only.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("steadystyle.serve")

#: glibc's ``mallopt`` parameter numbers (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: The threshold pinned: glibc's default, 128 KiB (every picture buffer of a call is above it).
MMAP_THRESHOLD = 128 * 1024
_pinned = False


def _glibc():
    """glibc's ``libc`` (a ``ctypes.CDLL``), or None where the C library is not glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        version = libc.gnu_get_libc_version  # glibc only
    except (OSError, AttributeError):
        return None
    version.restype = ctypes.c_char_p
    return libc


def pin_mmap_threshold(threshold: int = MMAP_THRESHOLD) -> bool:
    """Pin glibc's mmap threshold (and trim threshold) at ``threshold`` bytes for this process;
    True when set (or set before), False where the C library is not glibc or refused it."""
    global _pinned
    if _pinned:
        return True
    libc = _glibc()
    if libc is None:
        return False
    libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    libc.mallopt.restype = ctypes.c_int
    ok = libc.mallopt(M_MMAP_THRESHOLD, threshold) == 1 and libc.mallopt(M_TRIM_THRESHOLD, threshold) == 1
    if not ok:
        log.warning("could not pin the C allocator's mmap threshold; a long call's memory may grow")
    _pinned = ok
    return ok


__all__ = ["pin_mmap_threshold", "MMAP_THRESHOLD", "M_MMAP_THRESHOLD", "M_TRIM_THRESHOLD"]
