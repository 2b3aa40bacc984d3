"""The work of one video of a batch (in a Ray task, or in-process for tests): the file path of
``steadystyle stylize`` for one job, then its done-marker."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import SteadyStyleError
from .markers import write_marker
from .plan import Job
from .settings import BatchSettings


def one_line(error: BaseException) -> str:
    """An exception as one line (a SteadyStyleError's own message; others prefixed by their type)."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if isinstance(error, SteadyStyleError) else f"{type(error).__name__}: {text}"


def failed_row(job: Job, error: str | None) -> dict[str, Any]:
    """A result row (``failed`` until updated) for a job that produced nothing yet."""
    return {"input": job.input, "output": job.output, "status": "failed", "frames": 0, "stylized_frames": 0,
            "seconds": 0.0, "fps": None, "error": error}


def estimate_frames(path: str | os.PathLike) -> int | None:
    """Frames in a video, from its header, else from duration × frame rate (None if unknown);
    for the progress line only."""
    from ..video import VideoReader

    try:
        with VideoReader(path) as reader:
            info = reader.info
        if info.frame_count:
            return int(info.frame_count)
        import av

        with av.open(os.fspath(path)) as container:
            if container.duration and info.fps:
                return max(1, round(container.duration / 1_000_000 * float(info.fps)))
    except Exception:  # stylize_video reports the real problem
        pass
    return None


def stylize_job(job: Job, model: Any, settings: BatchSettings, digest: str, threads: int | None = None,
                report: Callable[[str, int, int | None], None] | None = None) -> dict[str, Any]:
    """Stylize one job with :func:`~steadystyle.pipeline.stylize_video`, then write its done-marker.

    ``model``: the loaded :class:`~steadystyle.weights.StyleModel` of ``settings.spec.style``
    (sent once through Ray's object store); the run is ``settings.spec`` with that model as its
    style, so the output is what ``stylize`` writes.  ``threads``: the network's CPU threads (any backend).
    ``report(relative, frames_done_since_last, total_or_None)`` is called about twice a second.
    Returns a result row; an error is a ``failed`` row with a one-line message, never raised
    (KeyboardInterrupt — a cancelled task — is raised after the writer removed its temporary).
    """
    from ..pipeline import stylize_video

    row = failed_row(job, None)
    start = time.perf_counter()
    counter = {"sent": 0, "done": 0, "last": start}

    def on_frame(index: int, output: Any) -> None:
        counter["done"] += 1
        now = time.perf_counter()
        if report is not None and now - counter["last"] >= 0.5:
            report(job.relative, counter["done"] - counter["sent"], None)
            counter["sent"], counter["last"] = counter["done"], now

    try:
        if report is not None:
            report(job.relative, 0, estimate_frames(job.input))
        Path(job.output).parent.mkdir(parents=True, exist_ok=True)
        run = settings.spec.replace(style=model, threads=int(threads) if threads else settings.spec.threads)
        stats = stylize_video(job.input, job.output, spec=run, progress=False,
                              crf=settings.crf, on_frame=on_frame)
        write_marker(job, digest, {"frames": stats.frames, "stylized_frames": stats.stylized_frames,
                                   "style": stats.style, "backend": stats.backend, "method": stats.method,
                                   "params": stats.params, "controls": stats.controls})
        row.update(status="done", frames=stats.frames, stylized_frames=stats.stylized_frames,
                   width=stats.width, height=stats.height, device=stats.device, backend=stats.backend)
    except Exception as exc:  # one bad video is a row, not the end of the batch
        row["error"] = one_line(exc)
        row["frames"] = counter["done"]
    finally:  # the exact count replaces the estimate
        if report is not None:
            report(job.relative, counter["done"] - counter["sent"], counter["done"])
    row["seconds"] = round(time.perf_counter() - start, 3)
    if row["status"] == "done" and row["seconds"] > 0:
        row["fps"] = round(row["frames"] / row["seconds"], 2)
    return row


__all__ = ["stylize_job", "estimate_frames", "one_line", "failed_row"]
