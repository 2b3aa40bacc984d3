"""Writing a file so that nothing the user had is overwritten by half a file: the one helper.

Everything is written to a hidden temporary in the output's own folder, ``.NAME.tmp-XXXXXXXX``
(8 random hex digits; :func:`temp_name` can keep the real extension last for tools that pick a
format from it), and renamed over ``NAME`` only when writing finished.  On any exception —
including ``KeyboardInterrupt`` — the temporary is deleted and an existing ``NAME`` is left
byte-identical.  The rename is atomic on one file system, so a reader sees the old file or the
new one, never a mix.  The data is flushed to disk (``fsync``) before the rename.

- :func:`atomic_output`: a context manager giving an open file object (``"wb"`` or ``"w"``);
- :func:`atomic_path`: the same for libraries that write by file name (a ``Path`` to the
  temporary, already created empty with normal permissions);
- :func:`atomic_write_bytes` / :func:`atomic_write_text`: one call for data already in memory;
- :class:`Staged`: the same for an output written over many calls (commit / discard).

Temporaries follow one pattern, so a clean-up after a killed process can find them:
``.NAME.tmp-*`` beside ``NAME``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["temp_name", "Staged", "atomic_path", "atomic_output", "atomic_write_bytes", "atomic_write_text"]


def temp_name(final: str | os.PathLike, *, keep_suffix: bool = False) -> Path:
    """A fresh hidden name beside ``final``: ``.NAME.tmp-1a2b3c4d``, or with ``keep_suffix``
    ``.NAME.tmp-1a2b3c4d.mp4`` (the real extension last, for FFmpeg).  Nothing is created."""
    final = Path(final)
    tag = secrets.token_hex(4)
    return final.parent / f".{final.name}.tmp-{tag}{final.suffix if keep_suffix else ''}"


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
