"""A PNG sequence written into a folder that already exists: only our own files change, all at once.

A folder may hold files the user cares about, some of them numbered (``2024.png``, ``7.png``).
The rules:

* The frames are staged in a hidden folder (``.steadystyle.tmp-…``) inside the output folder,
  so moving them in is a rename on one file system (even when the folder is a mount point).
* Which files steadystyle wrote there is recorded in a hidden manifest, ``.steadystyle-frames.json``
  (name → size in bytes and modification time in ns).  A file is *ours* while it is listed and
  unchanged since.
* Before any work (:func:`check_folder`), an existing file that a frame of this run could replace
  and that is not ours is refused in one line; nothing is written.
* At the end (:func:`move_in`), the frames are moved in, our frames of an earlier, longer run with
  the same pattern are removed, and the manifest is updated — as one transaction: on any failure
  (or Ctrl-C) every move already done is undone, and the folder is as it was.  Termination signals
  are held back for the few renames it takes.  Files that are not ours are never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

from ..atomic import Staged
from ..errors import SteadyStyleError
from .sequences import frame_name

__all__ = ["MANIFEST", "read_manifest", "file_record", "foreign_frames", "check_folder", "move_in"]

MANIFEST = ".steadystyle-frames.json"
"""The hidden file, in an output folder, listing the files steadystyle wrote there."""

_HELD_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


def file_record(path: Path) -> list[int]:
    """What identifies a file we wrote: ``[size in bytes, modification time in ns]``."""
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def read_manifest(folder: Path) -> dict[str, list[int]]:
    """The files steadystyle wrote into ``folder`` (name → :func:`file_record`); empty when there is
    no manifest or it cannot be read (then nothing counts as ours)."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files = data["files"]
        return {str(k): [int(v[0]), int(v[1])] for k, v in files.items()
                if isinstance(v, list) and len(v) == 2 and "/" not in str(k)}
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return {}


def _ours(folder: Path, name: str, manifest: dict[str, list[int]]) -> bool:
    try:
        return manifest.get(name) == file_record(folder / name)
    except OSError:
        return False


def foreign_frames(folder: Path, pattern: str, regex: re.Pattern[str]) -> list[str]:
    """Names in ``folder`` that a frame of ``pattern`` could take and that steadystyle did not
    write (or that changed since), sorted."""
    manifest = read_manifest(folder)
    names = []
    for entry in os.scandir(folder):
        match = regex.match(entry.name)
        number = int(match.group(1)) if match else 0
        if number >= 1 and frame_name(pattern, number) == entry.name and not _ours(folder, entry.name, manifest):
            names.append(entry.name)
    return sorted(names)


def check_folder(folder: Path, pattern: str, regex: re.Pattern[str], shown: Path) -> None:
    """Refuse, before any work, an output folder holding files a frame could replace that are not ours."""
    foreign = foreign_frames(folder, pattern, regex)
    if foreign:
        listed = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        where = f"{folder}:" if shown == folder else f"{shown}: {folder}"
        raise SteadyStyleError(
            f"{where} holds {listed}, not written by steadystyle, which frames of this run would "
            f"replace; write into a new or empty folder, or move {'it' if len(foreign) == 1 else 'them'} away "
            f"(nothing was written)")


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP back (delivered when the block ends) — main thread only."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def move_in(staged: Staged, folder: Path, pattern: str, regex: re.Pattern[str], shown: Path) -> None:
    """Move the frames staged in ``staged.path`` into ``folder`` as one transaction (see the module
    docstring); ``staged`` is discarded afterwards.  Raises :class:`SteadyStyleError` (nothing
    changed) when a file that is not ours took a frame's name during the run, ``OSError`` when a
    rename fails (undone first)."""
    check_folder(folder, pattern, regex, shown)
    manifest = read_manifest(folder)
    written = sorted(p.name for p in staged.path.iterdir())
    stale = sorted(name for name in manifest
                   if name not in written and regex.match(name) and _ours(folder, name, manifest))
    replaced = [name for name in written if (folder / name).exists()]
    kept = {name: record for name, record in manifest.items()
            if name not in stale and name not in written and _ours(folder, name, manifest)}
    new_manifest = kept | {name: file_record(staged.path / name) for name in written}
    (staged.path / MANIFEST).write_text(json.dumps({"files": new_manifest}, indent=0) + "\n", encoding="utf-8")
    backup = Staged(folder / "steadystyle-old", folder=True)
    done: list[tuple[Path, Path]] = []  # (from, to) renames, to undo in reverse
    try:
        with _signals_held():
            try:
                moving_out = replaced + stale + ([MANIFEST] if (folder / MANIFEST).exists() else [])
                for name in moving_out:
                    os.replace(folder / name, backup.path / name)
                    done.append((folder / name, backup.path / name))
                for name in [*written, MANIFEST]:
                    os.replace(staged.path / name, folder / name)
                    done.append((staged.path / name, folder / name))
            except BaseException:
                for source, target in reversed(done):
                    with contextlib.suppress(OSError):
                        os.replace(target, source)
                raise
    finally:
        backup.discard()
        staged.discard()
