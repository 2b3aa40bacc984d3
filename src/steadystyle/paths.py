"""One check of every path a command will touch, before any work starts.

A command names the files it reads and the files it writes (by the option that names them);
:func:`check_paths` refuses, in one line naming the options, any written file that is also read
or written under another option (through links and ``..`` too), a written file whose folder is
missing or not writable, and a written file that is an existing folder.  Run it first, so a bad
``--stats`` can never cost the video just written, and an input can never become an output.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from .errors import SteadyStyleError

PathLike = str | os.PathLike


def _norm(path: PathLike) -> Path:
    return Path(os.path.realpath(os.path.expanduser(os.fspath(path))))


def same_file(a: PathLike, b: PathLike) -> bool:
    """Whether ``a`` and ``b`` name one file (after ``~``, ``..`` and links; hard links too)."""
    na, nb = _norm(a), _norm(b)
    if na == nb:
        return True
    try:
        return os.path.samefile(na, nb)
    except OSError:
        return False


def check_writable_file(label: str, path: PathLike) -> Path:
    """``path`` (named by option ``label``) as a Path that a file can be written to: its folder
    exists and is writable, and it is not a folder itself; a one-line error otherwise."""
    p = Path(os.path.expanduser(os.fspath(path)))
    if p.is_dir():
        raise SteadyStyleError(f"{label} {p}: is a folder; give a file name")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise SteadyStyleError(f"{label} {p}: no such folder {parent}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SteadyStyleError(f"{label} {p}: folder {parent} is not writable")
    if p.exists() and not os.access(p, os.W_OK) and not os.access(parent, os.W_OK):
        raise SteadyStyleError(f"{label} {p}: is not writable")
    return p


def _identity(path: PathLike) -> tuple[Path, tuple[int, int] | None]:
    """(resolved path, (device, inode) when it exists): two paths name one file when either matches."""
    norm = _norm(path)
    try:
        st = os.stat(norm)
    except OSError:
        return norm, None
    return norm, (st.st_dev, st.st_ino)


def check_paths(reads: Mapping[str, PathLike | None], writes: Mapping[str, PathLike | None],
                folders: Mapping[str, PathLike | None] | None = None) -> None:
    """Refuse a plan of paths that would lose a user's file (see the module docstring).

    reads / writes: option label → path (None = not used).  folders: outputs that are folders
    (checked for collisions only; their own rules are the writer's).  An image-sequence input's
    frames are reads of their own (:func:`sequence_reads`).
    """
    reads = {k: v for k, v in reads.items() if v is not None}
    files = {k: v for k, v in writes.items() if v is not None}
    dirs = {k: v for k, v in (folders or {}).items() if v is not None}
    for label, path in files.items():
        check_writable_file(label, path)
    by_name: dict[Path, tuple[str, PathLike]] = {}
    by_inode: dict[tuple[int, int], tuple[str, PathLike]] = {}
    for rlabel, rpath in reads.items():  # one stat per read: thousands of frames stay fast
        norm, inode = _identity(rpath)
        by_name.setdefault(norm, (rlabel, rpath))
        if inode is not None:
            by_inode.setdefault(inode, (rlabel, rpath))
    outputs = list(files.items()) + list(dirs.items())
    seen: dict[Path, str] = {}
    seen_inode: dict[tuple[int, int], str] = {}
    for label, path in outputs:
        norm, inode = _identity(path)
        hit = by_name.get(norm) or (by_inode.get(inode) if inode is not None else None)
        if hit is not None:
            rlabel, rpath = hit
            raise SteadyStyleError(f"{label} {path}: is the {rlabel} {rpath}; choose another file, "
                                   f"nothing was written")
        other = seen.get(norm) or (seen_inode.get(inode) if inode is not None else None)
        if other is not None:
            raise SteadyStyleError(f"{other} and {label} name the same file {path}; choose two files, "
                                   f"nothing was written")
        seen[norm] = label
        if inode is not None:
            seen_inode[inode] = label


def sequence_reads(label: str, path: PathLike | None) -> dict[str, PathLike]:
    """``{label: path}`` for :func:`check_paths`, and when ``path`` is an image sequence (a folder
    of images, a pattern like ``frames/%05d.png``) each of its frames as ``"{label} frame N"``:
    ``--stats frames/00001.png`` must not replace a frame the run reads."""
    if path is None:
        return {}
    reads: dict[str, PathLike] = {label: path}
    from .video.sequences import is_image_sequence, sequence_files

    if is_image_sequence(path):
        try:
            frames = sequence_files(Path(os.path.expanduser(os.fspath(path))))
        except (SteadyStyleError, OSError):
            return reads  # the reader says what is wrong with it
        reads |= {f"{label} frame {n}": frame for n, frame in enumerate(frames, 1)}
    return reads


__all__ = ["same_file", "check_writable_file", "check_paths", "sequence_reads"]
