"""Output-path rules: what :class:`~steadystyle.video.VideoWriter` can write, checked before any work."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import SteadyStyleError
from .sequences import (PRINTF_FIELD, is_image_file, is_image_sequence, missing_folder,
                        pattern_regex, sequence_dir, sequence_files)

__all__ = ["VIDEO_EXTENSIONS", "IMAGE_OUTPUT_EXTENSIONS", "OUTPUT_FORMS", "is_sequence_output", "is_image_output",
           "check_output_path"]

VIDEO_EXTENSIONS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}
"""Output video extensions and the FFmpeg muxer each one uses (video codec: H.264)."""

IMAGE_OUTPUT_EXTENSIONS = (".png", ".jpg", ".jpeg")
"""Extensions of a single-image output (one image in, one image out); JPEG at quality 95."""

OUTPUT_FORMS = (".mp4, .mov or .mkv file, a PNG pattern like out/%06d.png, a folder ending in / (out/), "
                "or for one image in a .png or .jpg image")
"""The output forms :func:`check_output_path` accepts, as named in its error messages."""


def is_sequence_output(path: str | os.PathLike) -> bool:
    """Outputs are PNG sequences when :func:`is_image_sequence` says so: an existing folder, a
    name ending in ``/`` (a folder to be created) or a ``%d`` pattern.  A name without an
    extension is not guessed to be a folder (:func:`check_output_path` refuses it)."""
    return is_image_sequence(path)


def is_image_output(path: str | os.PathLike) -> bool:
    """A single-image output: a ``.png``/``.jpg``/``.jpeg`` name that is not a sequence (no
    ``%d`` field, not a folder)."""
    text = os.path.expanduser(os.fspath(path))
    return not is_sequence_output(text) and Path(text).suffix.lower() in IMAGE_OUTPUT_EXTENSIONS


def _single_frame_input(src: Path) -> bool:
    """Whether the input ``src`` holds one frame as far as its path tells: an image file, or a
    sequence of one image (a video is taken for many frames)."""
    if is_image_file(src):
        return True
    if is_image_sequence(src):
        try:
            return len(sequence_files(src)) == 1
        except SteadyStyleError:
            return True  # the reader names the problem
    return not src.exists()  # a missing input: the reader names the problem


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def check_output_path(
    output: str | os.PathLike, input: str | os.PathLike | None = None
) -> Path:
    """Check that ``output`` can be written and return it as a ``Path`` (``~`` expanded).

    Accepted outputs: ``.mp4``, ``.mov``, ``.mkv`` files, a PNG sequence (a pattern like
    ``out/%05d.png``, an existing directory, or a path ending in ``/``), or a single ``.png`` /
    ``.jpg`` image when the input (if given) is one image.  Raises
    :class:`SteadyStyleError` if the output is the input file (or the input sequence's folder),
    if the folder it goes into does not exist or is not writable, or if the name has no
    extension or an unsupported one (the message names :data:`OUTPUT_FORMS`).
    """
    text = os.path.expanduser(os.fspath(output))
    out = Path(text)
    sequence = is_sequence_output(text)
    if not sequence and not out.suffix:
        if out.exists():
            raise SteadyStyleError(f"{out}: is a file without an extension; write a {OUTPUT_FORMS}")
        raise SteadyStyleError(f"{out}: output has no extension; write a {OUTPUT_FORMS}")
    if sequence:
        if PRINTF_FIELD.search(out.name):
            pattern_regex(out.name, out)
            if out.suffix.lower() != ".png":
                raise SteadyStyleError(f"{out}: image sequence output must be .png")
        folder = sequence_dir(out)
        if folder.exists() and not folder.is_dir():
            raise missing_folder(out, folder)
        parent = folder if folder.is_dir() else folder.parent
    elif out.suffix.lower() in IMAGE_OUTPUT_EXTENSIONS:
        if out.is_dir():
            raise SteadyStyleError(f"{out}: is a directory")
        parent = out.parent
        if input is not None:
            src = Path(os.path.expanduser(os.fspath(input)))
            if not _single_frame_input(src):
                raise SteadyStyleError(
                    f"{out}: one image is written from one image, and {src} has more frames; write a "
                    f".mp4, .mov or .mkv file, or a PNG pattern like {out.with_name('%06d.png')}")
    else:
        if out.suffix.lower() not in VIDEO_EXTENSIONS:
            raise SteadyStyleError(
                f"{out}: unsupported output type {out.suffix!r}; write a {OUTPUT_FORMS}"
            )
        if out.is_dir():
            raise SteadyStyleError(f"{out}: is a directory")
        parent = out.parent
    if not parent.is_dir():
        raise missing_folder(out, parent)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SteadyStyleError(f"{out}: folder {parent} is not writable")
    if input is not None:
        src = Path(os.path.expanduser(os.fspath(input)))
        if sequence and is_image_sequence(src):
            if _same_file(sequence_dir(out), sequence_dir(src)):
                raise SteadyStyleError(
                    f"{out}: output would be written into the input folder {sequence_dir(src)}"
                )
        elif not sequence and _same_file(out, src):
            raise SteadyStyleError(f"{out}: output is the input file; choose another name")
    return out
