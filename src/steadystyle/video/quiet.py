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


def _logging():
    return getattr(getattr(cv2, "utils", None), "logging", None)


def quiet_opencv() -> None:
    """OpenCV logs errors only (its default also prints warnings and information)."""
    log = _logging()
    if log is not None:
        log.setLogLevel(log.LOG_LEVEL_ERROR)


@contextlib.contextmanager
def opencv_silent() -> Iterator[None]:
    """No OpenCV log lines at all inside the block (the previous level comes back after)."""
    log = _logging()
    if log is None:
        yield
        return
    previous = log.getLogLevel()
    log.setLogLevel(log.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        log.setLogLevel(previous)
