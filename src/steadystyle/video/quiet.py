"""OpenCV's own log lines (``[ WARN:0@0.1] global grfmt_png.cpp …``) kept off the user's terminal.

OpenCV prints warnings for every unreadable image or camera it is asked about; we report those
problems ourselves, in one line.  :func:`quiet_opencv` (called when :mod:`steadystyle.video` is
imported) lowers OpenCV's log level to errors; :func:`opencv_silent` silences it completely for a
call whose failure we report (an image we cannot decode).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import cv2

__all__ = ["quiet_opencv", "opencv_silent"]


# OpenCV's log levels (opencv2/core/utils/logger.defines.hpp): the same numbers in 4.x and 5.x
_SILENT, _ERROR = 0, 2


def _get() -> int | None:
    log = getattr(getattr(cv2, "utils", None), "logging", None)
    if log is not None:
        return int(log.getLogLevel())
    getter = getattr(cv2, "getLogLevel", None)  # OpenCV 4.x wheels without cv2.utils.logging
    return int(getter()) if getter is not None else None


def _set(level: int) -> None:
    log = getattr(getattr(cv2, "utils", None), "logging", None)
    if log is not None:
        log.setLogLevel(level)
    elif hasattr(cv2, "setLogLevel"):
        cv2.setLogLevel(level)


def quiet_opencv() -> None:
    """OpenCV logs errors only (its default also prints warnings and information)."""
    _set(_ERROR)


@contextlib.contextmanager
def opencv_silent() -> Iterator[None]:
    """No OpenCV log lines at all inside the block (the previous level comes back after)."""
    previous = _get()
    if previous is None:
        yield
        return
    _set(_SILENT)
    try:
        yield
    finally:
        _set(previous)
