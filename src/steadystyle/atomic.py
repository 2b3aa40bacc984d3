"""Writing a file so that nothing the user had is overwritten by half a file: the one helper.

Everything is written to a hidden temporary in the output's own folder,
``.NAME.tmp-PID-HOST-XXXXXX`` (the writer's process id, 6 hex digits of its host name's hash, 6
random hex digits; :func:`temp_name` can keep the real extension last for tools that pick a format
from it), and renamed over ``NAME`` only when writing finished.  On any exception —
including ``KeyboardInterrupt`` — the temporary is deleted and an existing ``NAME`` is left
byte-identical.  The rename is atomic on one file system, so a reader sees the old file or the
new one, never a mix.  The data is flushed to disk (``fsync``) before the rename.

- :func:`atomic_output`: a context manager giving an open file object (``"wb"`` or ``"w"``);
- :func:`atomic_path`: the same for libraries that write by file name (a ``Path`` to the
  temporary, already created empty with normal permissions);
- :func:`atomic_write_bytes` / :func:`atomic_write_text`: one call for data already in memory;
- :class:`Staged`: the same for an output written over many calls (commit / discard).

Temporaries follow one pattern, so the leftovers of a killed process (``kill -9``, a power cut)
are found: every new write to ``NAME`` first removes (:func:`sweep_stale`) the ``.NAME.tmp-*``
beside it whose writer is gone — written on this host by a process id that no longer runs — or
that nobody touched for :data:`STALE_SECONDS` (a day; this also covers temporaries of older
versions, which carried no process id).  A temporary of a live writer is never touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["temp_name", "sweep_stale", "STALE_SECONDS", "Staged", "atomic_path", "atomic_output", "atomic_write_bytes", "atomic_write_text"]


STALE_SECONDS = 24 * 3600
"""A temporary untouched this long (seconds) is stale whoever wrote it."""

_TAGGED = re.compile(r"\A(\d+)-([0-9a-f]{6})-[0-9a-f]{6}")  # PID-HOST-RANDOM after ".NAME.tmp-"


def _host_tag() -> str:
    """6 hex digits naming this host (a process id means something only on its own host)."""
    return hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:6]


def temp_name(final: str | os.PathLike, *, keep_suffix: bool = False) -> Path:
    """A fresh hidden name beside ``final``: ``.NAME.tmp-4242-a1b2c3-9f8e7d`` (process id, host,
    random), or with ``keep_suffix`` ``.NAME.tmp-4242-a1b2c3-9f8e7d.mp4`` (the real extension
    last, for FFmpeg).  Nothing is created."""
    final = Path(final)
    tag = f"{os.getpid()}-{_host_tag()}-{secrets.token_hex(3)}"
    return final.parent / f".{final.name}.tmp-{tag}{final.suffix if keep_suffix else ''}"


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (one we may not signal counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return pid > 0
    return True


def _is_stale(entry: os.DirEntry, prefix: str, now: float) -> bool:
    try:
        age = now - entry.stat(follow_symlinks=False).st_mtime
    except OSError:
        return False
    if age > STALE_SECONDS:
        return True
    tagged = _TAGGED.match(entry.name[len(prefix):])
    if not tagged or tagged.group(2) != _host_tag():
        return False  # an older version's temporary, or another host's: only by age
    pid = int(tagged.group(1))
    return pid != os.getpid() and not _pid_alive(pid)


def sweep_stale(final: str | os.PathLike) -> list[Path]:
    """Remove the stale temporaries of ``final`` (see the module docstring) and return them.
    Best effort: an entry that cannot be removed is left; links are removed, never followed."""
    final = Path(final)
    prefix = f".{final.name}.tmp-"
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(final.parent if str(final.parent) else "."))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix) or not _is_stale(entry, prefix, now):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


def _fsync(path: Path) -> None:
    """Flush a written file's data to disk (best effort: some file systems refuse)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class Staged:
    """An output written over many calls (a video encoder, a folder of frames), staged in a hidden
    temporary beside ``final``: :meth:`commit` renames it into place, :meth:`discard` deletes it.

    ``path``: the temporary, created on construction — an empty file (``0o666`` less the umask)
    or, with ``folder``, an empty folder (``final`` must then not exist at commit).
    ``keep_suffix``: keep ``final``'s extension last (see :func:`temp_name`).  Raises ``OSError``
    when the folder is missing or not writable.
    """

    def __init__(self, final: str | os.PathLike, *, keep_suffix: bool = False, folder: bool = False) -> None:
        self.final = Path(final)
        self.path = temp_name(self.final, keep_suffix=keep_suffix)
        self.folder = folder
        self.done = False
        sweep_stale(self.final)  # what a killed earlier write to this name left behind
        if folder:
            self.path.mkdir()
        else:
            open(self.path, "xb").close()  # reserve the name, with normal permissions
        self._mode = stat.S_IMODE(self.path.stat().st_mode)  # read without touching the umask

    def commit(self) -> Path:
        """Rename the finished temporary to ``final`` (a file's data is flushed to disk first)."""
        if self.done:
            raise RuntimeError(f"{self.final}: already committed or discarded")
        if not self.folder:
            if stat.S_IMODE(self.path.stat().st_mode) != self._mode:  # a writer re-created it (safetensors: 0o600)
                os.chmod(self.path, self._mode)
            _fsync(self.path)
        os.replace(self.path, self.final)
        self.done = True
        return self.final

    def discard(self) -> None:
        """Delete the temporary (best effort); ``final`` is not touched.  Safe to call twice."""
        if self.done:
            return
        self.done = True
        if self.path.is_dir():
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            self.path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, keep_suffix: bool = False) -> Iterator[Path]:
    """Context manager: a temporary ``Path`` beside ``path`` to write by name; renamed to ``path``
    when the block ends normally, deleted when it raises (the exception propagates).

    The temporary exists (empty, ``0o666`` less the umask) when the block starts, and is given
    those permissions back if the writer re-created it with others.  Raises ``OSError`` when the
    folder is missing or not writable.
    """
    staged = Staged(path, keep_suffix=keep_suffix)
    try:
        yield staged.path
        staged.commit()
    except BaseException:
        staged.discard()
        raise


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, mode: str = "wb", *, encoding: str | None = None) -> Iterator[IO]:
    """Context manager: a file object open on a temporary beside ``path``; renamed to ``path``
    when the block ends normally, deleted when it raises.

    mode: ``"wb"`` (bytes) or ``"w"``/``"wt"`` (text; ``encoding`` defaults to UTF-8).
    """
    if mode not in ("wb", "w", "wt"):
        raise ValueError(f"atomic_output writes a new file: mode must be 'wb', 'w' or 'wt', got {mode!r}")
    if "b" not in mode and encoding is None:
        encoding = "utf-8"
    with atomic_path(path) as tmp:
        with open(tmp, mode, encoding=encoding) as f:
            yield f


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see the module docstring); returns ``path`` as a Path."""
    with atomic_output(path, "wb") as f:
        f.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see the module docstring); returns ``path`` as a Path."""
    with atomic_output(path, "w", encoding=encoding) as f:
        f.write(text)
    return Path(path)
