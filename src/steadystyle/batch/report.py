"""What a batch tells: the per-video result rows and their totals, the one progress line, the
plain-text table and the JSON report."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class BatchResult:
    """Rows (one per job, in input order), counts and timing of a batch (seconds)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    wall_seconds: float = 0.0
    startup_seconds: float = 0.0  # connecting to (or starting) Ray, part of wall_seconds
    workers: int = 0
    threads_per_worker: int = 0

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r["status"] == status)

    @property
    def frames(self) -> int:
        return sum(r["frames"] for r in self.rows if r["status"] == "done")

    def to_json(self, settings: dict[str, Any] | None = None) -> dict[str, Any]:
        from ..stats import machine_description

        return {"videos": len(self.rows), "done": self.count("done"), "skipped": self.count("skipped"),
                "failed": self.count("failed"), "frames": self.frames, "wall_seconds": round(self.wall_seconds, 3),
                "ray_startup_seconds": round(self.startup_seconds, 3),
                "frames_per_second": round(self.frames / self.wall_seconds, 3) if self.wall_seconds else None,
                "workers": self.workers, "threads_per_worker": self.threads_per_worker,
                "machine": machine_description(), "settings": settings, "results": self.rows}


class Display:
    """One progress line for the whole batch: videos done, frames, frames/s, ETA (tqdm)."""

    def __init__(self, videos: int, enabled: bool) -> None:
        self.videos = videos
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=0, unit="frame", desc="batch", dynamic_ncols=True, file=sys.stderr)

    def update(self, frames: int, totals: dict[str, int | None], done: int, failed: int, skipped: int) -> None:
        """Redraw: ``frames`` done so far, ``totals`` frame counts of the videos started so far."""
        if self.bar is None:
            return
        known = [t for t in totals.values() if t]
        average = sum(known) / len(known) if known else 0
        not_started = self.videos - skipped - len(totals)  # their length is estimated by the average
        estimate = int(sum(known) + average * max(0, not_started))
        self.bar.total = max(estimate, frames)
        self.bar.n = frames
        self.bar.set_postfix_str(f"videos {done + failed + skipped}/{self.videos}"
                                 + (f", {failed} failed" if failed else ""), refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """The per-video result table (plain text)."""
    lines = [f"{'status':<8}{'frames':>7}{'network':>9}{'fps':>8}{'seconds':>9}  video"]
    for r in rows:
        fps = f"{r['fps']:.1f}" if r.get("fps") else "-"
        seconds = f"{r['seconds']:.1f}" if r["status"] != "skipped" else "-"
        error = r.get("error") or ""
        detail = r["output"] if r["status"] != "failed" else (error if r["input"] in error else f"{r['input']}: {error}")
        lines.append(f"{r['status']:<8}{r['frames']:>7}{r['stylized_frames']:>9}{fps:>8}{seconds:>9}  {detail}")
    return "\n".join(lines)


def summary_line(result: BatchResult) -> str:
    """The closing line: counts, frames, rate, workers and the part spent starting Ray."""
    rate = result.frames / result.wall_seconds if result.wall_seconds and result.frames else 0.0
    return (f"batch: {result.count('done')} done, {result.count('skipped')} skipped, {result.count('failed')} failed, "
            f"{result.frames} frames in {result.wall_seconds:.1f} s ({rate:.1f} frames/s, {result.workers} workers, "
            f"{result.startup_seconds:.1f} s of it starting Ray)")


__all__ = ["BatchResult", "Display", "format_table", "summary_line"]
