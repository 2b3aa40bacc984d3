"""Opening an input with PyAV, and FFmpeg's errors as one line (shared by the reader and the audio copy)."""

from __future__ import annotations

import os
from pathlib import Path

import av
import av.error

from ..errors import SteadyStyleError

__all__ = ["one_line", "open_container"]


def one_line(error: BaseException) -> str:
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return " ".join(str(text).split())


def open_container(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise SteadyStyleError(f"{path}: no such file")
    if path.is_dir():
        raise SteadyStyleError(f"{path}: is a directory without images")
    if path.stat().st_size == 0:
        raise SteadyStyleError(f"{path}: file is empty")
    if not os.access(path, os.R_OK):
        raise SteadyStyleError(f"{path}: permission denied")
    try:
        return av.open(str(path), mode="r")
    except (av.error.FFmpegError, OSError, ValueError, UnicodeDecodeError) as error:
        raise SteadyStyleError(
            f"{path}: not a video FFmpeg can read ({one_line(error)})"
        ) from None
