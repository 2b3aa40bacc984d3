"""Planning a batch: files, folders and globs → :class:`Job` s whose outputs mirror the input
names under the output folder (extension ``.mp4``)."""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import SteadyStyleError

#: Extensions a folder or glob is searched for (anything FFmpeg reads can be named directly).
INPUT_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".gif", ".264", ".h264", ".ts", ".mpg",
                    ".mpeg", ".wmv", ".flv", ".3gp")


@dataclass(frozen=True)
class Job:
    """One video to stylize: ``input`` → ``output`` (``relative``: the output's path under OUTDIR)."""

    input: str
    output: str
    relative: str


_MAGIC = set("*?[")


def _glob_base(pattern: str) -> Path:
    """The folder part of a glob before its first wildcard (output names are relative to it)."""
    parts = Path(pattern).parts
    base: list[str] = []
    for part in parts:
        if _MAGIC & set(part):
            break
        base.append(part)
    return Path(*base) if base else Path(".")


def _is_video_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in INPUT_EXTENSIONS and not path.name.startswith(".")


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _folder_videos(folder: Path, outdir: Path) -> list[Path]:
    """Video files under ``folder`` (recursive, hidden names and the output folder left out)."""
    found = []
    for root, dirs, files in os.walk(folder):
        root_path = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not _inside(root_path / d, outdir))
        found.extend(root_path / f for f in sorted(files) if _is_video_file(root_path / f))
    return found


def plan(inputs: Sequence[str | os.PathLike], outdir: str | os.PathLike) -> list[Job]:
    """Jobs for ``inputs`` (files, folders, globs) with outputs under ``outdir``.

    A file ``x/clip.mkv`` → ``OUTDIR/clip.mp4``; a folder's videos (searched recursively for
    :data:`INPUT_EXTENSIONS`) keep their path relative to the folder; a glob's matches keep
    their path relative to the glob's folder part.  A folder holding images and no videos is one
    image-sequence input named after the folder.  Files inside ``outdir`` are never inputs.
    Raises :class:`SteadyStyleError` for an input that matches nothing, for no inputs at all, and
    when two inputs would write the same output.
    """
    out = Path(os.path.expanduser(os.fspath(outdir)))
    pairs: list[tuple[Path, Path]] = []  # (input, relative output without extension change)
    for item in inputs:
        text = os.path.expanduser(os.fspath(item))
        path = Path(text)
        if path.is_dir():
            videos = _folder_videos(path, out)
            if videos:
                pairs.extend((v, v.relative_to(path)) for v in videos)
                continue
            from ..video import IMAGE_EXTENSIONS

            if any(p.suffix.lower() in IMAGE_EXTENSIONS for p in path.iterdir() if p.is_file()):
                pairs.append((path, Path(path.resolve().name)))
                continue
            raise SteadyStyleError(f"{path}: no video files found in this folder")
        if path.exists():
            pairs.append((path, Path(path.name)))
            continue
        if _MAGIC & set(text):
            base = _glob_base(text)
            matches = sorted(Path(m) for m in glob.glob(text, recursive=True))
            files = [m for m in matches if (m.is_file() and not m.name.startswith(".") and not _inside(m, out))]
            if not files:
                raise SteadyStyleError(f"{text}: no files match")
            pairs.extend((m, m.relative_to(base)) for m in files)
            continue
        raise SteadyStyleError(f"{text}: no such file or folder")
    jobs: list[Job] = []
    seen_inputs: set[Path] = set()
    seen_outputs: dict[Path, Path] = {}
    for source, relative in pairs:
        key = source.resolve()
        if key in seen_inputs:
            continue
        seen_inputs.add(key)
        relative = relative.with_suffix(".mp4")
        target = out / relative
        if target.resolve() in seen_outputs:
            other = seen_outputs[target.resolve()]
            raise SteadyStyleError(f"{source} and {other} would both write {target}; rename one or run them separately")
        seen_outputs[target.resolve()] = source
        jobs.append(Job(str(source), str(target), str(relative)))
    if not jobs:
        raise SteadyStyleError("no input videos given")
    return jobs


__all__ = ["INPUT_EXTENSIONS", "Job", "plan"]
