"""Done-markers: how a rerun knows a finished output still fits its input and settings.

A finished output has a sidecar ``.NAME.mp4.done.json`` written after the output's atomic
rename; it records a hash of the settings (:meth:`~steadystyle.batch.settings.BatchSettings.describe`)
and of the input (size, mtime), and the output's size and mtime.  A rerun skips a job only when
all of these still match, so a changed style, backend or method re-runs.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text
from .plan import Job

MARKER_VERSION = 1


def job_digest(settings: dict[str, Any], input: str | os.PathLike) -> str:
    """Hash of the settings and of the input's identity (resolved path, size, mtime)."""
    path = Path(input)
    st = path.stat()
    if path.is_dir():  # an image sequence: its files' names, sizes and times
        entries = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in path.iterdir() if p.is_file())
        identity: Any = entries
    else:
        identity = [st.st_size, st.st_mtime_ns]
    text = json.dumps({"settings": settings, "input": str(path.resolve()), "identity": identity}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def marker_path(output: str | os.PathLike) -> Path:
    """The done-marker beside an output: ``.NAME.mp4.done.json``."""
    out = Path(output)
    return out.parent / f".{out.name}.done.json"


def read_marker(job: Job) -> dict[str, Any] | None:
    """The marker of ``job.output`` as a dict, or None when there is none or it is unreadable."""
    try:
        marker = json.loads(marker_path(job.output).read_text())
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def is_finished(job: Job, digest: str) -> bool:
    """True when ``job.output`` was completed with exactly these settings and this input, and the
    output file is still the one the marker describes (same size and mtime)."""
    marker = read_marker(job)
    try:
        st = Path(job.output).stat()
    except OSError:
        return False
    return (marker is not None and marker.get("version") == MARKER_VERSION and marker.get("digest") == digest
            and marker.get("output_size") == st.st_size and marker.get("output_mtime_ns") == st.st_mtime_ns)


def write_marker(job: Job, digest: str, extra: dict[str, Any]) -> None:
    """Write the done-marker atomically (:func:`~steadystyle.atomic.atomic_write_text`: a temporary
    ``..NAME.mp4.done.json.tmp-*``, then rename), after the output exists."""
    st = Path(job.output).stat()
    data = {"version": MARKER_VERSION, "digest": digest, "input": job.input, "output": job.output,
            "output_size": st.st_size, "output_mtime_ns": st.st_mtime_ns, **extra}
    atomic_write_text(marker_path(job.output), json.dumps(data, indent=1))


def remove_temporaries(jobs: Iterable[Job]) -> list[Path]:
    """Delete temporaries that writers of these jobs' outputs may have left (``.NAME.mp4.tmp-*``
    and marker temporaries, also those of earlier versions); returns what was removed.  Finished
    outputs are not touched."""
    removed = []
    for job in jobs:
        out = Path(job.output)
        if not out.parent.is_dir():
            continue
        marker = marker_path(out).name
        for pattern in (f".{glob.escape(out.name)}.tmp-*", f".{glob.escape(marker)}.tmp-*",
                        f"{glob.escape(marker)}.tmp-*"):
            for temp in out.parent.glob(pattern):
                try:
                    temp.unlink()
                    removed.append(temp)
                except OSError:
                    pass
    return removed


__all__ = ["MARKER_VERSION", "job_digest", "marker_path", "read_marker", "is_finished", "write_marker",
           "remove_temporaries"]
