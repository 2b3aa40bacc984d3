"""Image sequences: which paths name one, their files in frame order, gaps in their numbering.

A sequence is a folder of images (sorted by name, numbers in numeric order: ``frame2`` before
``frame10``; hidden files skipped) or a printf pattern with one integer field such as
``frames/%05d.png``.  A name is a pattern only when it is not an existing file, ends in an image
extension and holds a real field (``%d`` or ``%0Nd`` not followed by a letter or digit), so a file
called ``50%done.mp4`` or ``50%done.png`` is a file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import cv2
import numpy as np

from ..errors import SteadyStyleError
from .container import one_line
from .quiet import opencv_silent

__all__ = ["IMAGE_EXTENSIONS", "PRINTF_FIELD", "is_image_sequence", "is_image_file", "frame_name", "pattern_regex", "missing_folder",
           "sequence_files", "frame_numbers", "number_ranges", "sequence_gaps", "sequence_dir", "read_image"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
"""File extensions read as images in a folder or pattern sequence."""

PRINTF_FIELD = re.compile(r"%(?:0([1-9][0-9]?))?d(?![0-9A-Za-z])")
"""A printf integer field in a file name pattern: ``%d`` or ``%0Nd`` (group 1: the width N), not
followed by a letter or digit (``50%done`` holds none)."""

_NUMBERED = re.compile(r"\A(.*?)(\d+)(\D*)\Z")


def is_image_sequence(path: str | os.PathLike) -> bool:
    """True if ``path`` names an image sequence: an existing directory, a path ending in a
    separator, or a name that is not an existing file, ends in an image extension and contains a
    printf integer field such as ``%05d`` or ``%d``."""
    text = os.fspath(path)
    if os.path.isdir(text) or text.endswith(("/", os.sep)):
        return True
    if os.path.lexists(text):
        return False  # a file that exists is a file, whatever its name
    name = os.path.basename(text)
    return PRINTF_FIELD.search(name) is not None and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def is_image_file(path: str | os.PathLike) -> bool:
    """True if ``path`` is an existing file (not a folder) with an image extension: a one-frame input."""
    text = os.fspath(path)
    return os.path.isfile(text) and os.path.splitext(text)[1].lower() in IMAGE_EXTENSIONS


def frame_name(pattern: str, number: int) -> str:
    """The file name of frame ``number`` of the pattern ``pattern`` (one field, see
    :data:`PRINTF_FIELD`); any other ``%`` in the name stays as it is."""
    field = PRINTF_FIELD.search(pattern)
    if field is None:
        raise ValueError(f"{pattern!r} holds no %d field")
    width = int(field.group(1) or 0)
    return pattern[: field.start()] + f"{number:0{width}d}" + pattern[field.end():]


def _natural_key(name: str) -> list[object]:
    """Sort key that orders ``frame2`` before ``frame10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def pattern_regex(pattern_name: str, where: Path) -> re.Pattern[str]:
    """Regex for the file names matched by a printf pattern with one ``%d`` field; group 1 is the
    frame number."""
    fields = list(PRINTF_FIELD.finditer(pattern_name))
    if len(fields) != 1:
        raise SteadyStyleError(
            f"{where}: the file name pattern must contain exactly one integer field like %05d"
        )
    field = fields[0]
    prefix, suffix = pattern_name[: field.start()], pattern_name[field.end() :]
    return re.compile(re.escape(prefix) + r"(\d+)" + re.escape(suffix) + r"\Z")


def missing_folder(path: Path, folder: Path) -> SteadyStyleError:
    """The error for a sequence whose folder is not there: missing, or a file in its place."""
    if folder.exists():
        return SteadyStyleError(f"{path}: {folder} is a file, not a folder")
    return SteadyStyleError(f"{path}: folder {folder} does not exist")


def sequence_files(path: Path) -> list[Path]:
    """The image files of a sequence input, in frame order."""
    if path.is_dir():
        files = [p for p in path.iterdir()
                 if p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".") and p.is_file()]
        return sorted(files, key=lambda p: _natural_key(p.name))
    if not PRINTF_FIELD.search(path.name):  # "name/" given for a folder that is not one
        raise missing_folder(path, path)
    regex = pattern_regex(path.name, path)
    folder = path.parent
    if not folder.is_dir():
        raise missing_folder(path, folder)
    numbered = []
    for entry in folder.iterdir():
        match = regex.match(entry.name)
        if match and not entry.name.startswith(".") and entry.is_file():
            numbered.append((int(match.group(1)), entry))
    return [entry for _, entry in sorted(numbered)]


def frame_numbers(files: list[Path]) -> list[int] | None:
    """The frame numbers of a sequence's files when all share one ``prefix<number>suffix``
    pattern (``f1.png`` … ``f10.png``), else ``None``."""
    parts = [_NUMBERED.match(f.name) for f in files]
    if not parts or not all(parts):
        return None
    if len({(m.group(1), m.group(3).lower()) for m in parts if m}) != 1:
        return None
    return [int(m.group(2)) for m in parts if m]


def number_ranges(numbers: list[int], limit: int = 8) -> str:
    """``[5, 7, 8, 9]`` → ``"5, 7–9"`` (at most ``limit`` runs, then ``…``)."""
    runs: list[tuple[int, int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    text = [str(a) if a == b else f"{a}–{b}" for a, b in runs[:limit]]
    return ", ".join(text) + (", …" if len(runs) > limit else "")


def sequence_gaps(files: list[Path]) -> list[int]:
    """Frame numbers missing between the first and last file of a numbered sequence (sorted);
    empty when the numbering is complete or the names carry no common numbering."""
    numbers = frame_numbers(files)
    if not numbers:
        return []
    present = set(numbers)
    return [n for n in range(min(numbers), max(numbers) + 1) if n not in present]


def sequence_dir(path: Path) -> Path:
    """The folder an image sequence lives in (the path itself for a folder, else its parent)."""
    return path.parent if PRINTF_FIELD.search(path.name) else path


def read_image(file: Path, index: int) -> np.ndarray:
    """Frame ``index`` of a sequence, the image ``file``, as H×W×3 uint8 RGB; a one-line error
    naming the file when it cannot be read or decoded."""
    try:
        data = np.fromfile(file, dtype=np.uint8)
    except OSError as error:
        message = f"{file}: cannot read frame {index} ({one_line(error)})"
        raise SteadyStyleError(message) from None
    with opencv_silent():  # its WARN lines would precede our one line
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise SteadyStyleError(f"{file}: frame {index} is not a readable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
