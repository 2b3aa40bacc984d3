"""Many videos on Ray: ``steadystyle batch``.

One Ray task per video runs :func:`~steadystyle.pipeline.stylize_video` — the same frame loop,
sources and sinks as ``steadystyle stylize`` — so each output is the file ``stylize`` would
write for that input.  Ray (an optional extra, ``pip install "steadystyle[batch]"``) places the
tasks on the cores (or GPUs) of this machine or of a cluster; nothing here schedules.

- :func:`plan` turns files, folders and globs into :class:`Job` s whose outputs mirror the
  input names under the output folder (extension ``.mp4``).
- A finished output has a sidecar done-marker ``.NAME.mp4.done.json`` written after the
  output's atomic rename; it records a hash of the settings (style weights, method, params,
  controls, crf, max side) and of the input (size, mtime), and the output's size and mtime.  A
  rerun skips a job only when all of these still match, so a changed style or method re-runs.
- One bad video is a failed row in the results; the others go on.
- Ctrl-C (or any error in the driver) cancels the running tasks (they abort their writers,
  which delete their temporaries), sweeps any temporary left beside this batch's outputs, and
  leaves every finished output and its marker as they were.

Assumes the inputs and the output folder are on a file system every Ray worker sees (always
true on one machine); the style weights travel through Ray's object store.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import SteadyStyleError

INSTALL_HINT = 'steadystyle batch needs Ray: pip install "steadystyle[batch]"'

#: Extensions a folder or glob is searched for (anything FFmpeg reads can be named directly).
INPUT_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".gif", ".264", ".h264", ".ts", ".mpg",
                    ".mpeg", ".wmv", ".flv", ".3gp")
MARKER_VERSION = 1


def import_ray():
    """The ``ray`` module, or a one-line :class:`SteadyStyleError` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise SteadyStyleError(INSTALL_HINT) from None
    return ray


# ----------------------------------------------------------------------------------------------
# Planning: inputs → jobs


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
            from .video import IMAGE_EXTENSIONS

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


# ----------------------------------------------------------------------------------------------
# Settings, hashes and done-markers


@dataclass
class BatchSettings:
    """What every video of a batch is stylized with (the arguments of ``stylize_video``)."""

    style: str
    method: str = "frame-diff"
    params: Any = None
    strength: float = 1.0
    preserve_colors: bool = False
    max_side: int | None = None
    crf: int = 18
    device: str = "auto"

    def resolved_params(self) -> Any:
        from .stabilize.base import get_method

        return self.params if self.params is not None else get_method(self.method).params()

    def describe(self, style_sha256: str) -> dict[str, Any]:
        """The settings that decide an output's pixels, as JSON (the device is not one of them)."""
        from .stabilize.base import params_dict

        return {"style_sha256": style_sha256, "method": self.method, "params": params_dict(self.resolved_params()),
                "strength": float(self.strength), "preserve_colors": bool(self.preserve_colors),
                "max_side": self.max_side, "crf": int(self.crf)}


def style_file(style: str) -> Path:
    """The model file of a shipped style name or a path (one-line error when there is none)."""
    from .styles import style_paths

    shipped = style_paths()
    if style in shipped:
        return shipped[style]
    path = Path(style).expanduser()
    if not path.is_file():
        known = ", ".join(shipped) or "none installed"
        raise SteadyStyleError(f"unknown style {style!r} (shipped styles: {known}; or give a path to a model file)")
    return path


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def is_finished(job: Job, digest: str) -> bool:
    """True when ``job.output`` was completed with exactly these settings and this input, and the
    output file is still the one the marker describes (same size and mtime)."""
    try:
        marker = json.loads(marker_path(job.output).read_text())
        st = Path(job.output).stat()
    except (OSError, ValueError):
        return False
    return (isinstance(marker, dict) and marker.get("version") == MARKER_VERSION and marker.get("digest") == digest
            and marker.get("output_size") == st.st_size and marker.get("output_mtime_ns") == st.st_mtime_ns)


def write_marker(job: Job, digest: str, extra: dict[str, Any]) -> None:
    """Write the done-marker atomically (temporary file, then rename), after the output exists."""
    st = Path(job.output).stat()
    data = {"version": MARKER_VERSION, "digest": digest, "input": job.input, "output": job.output,
            "output_size": st.st_size, "output_mtime_ns": st.st_mtime_ns, **extra}
    final = marker_path(job.output)
    temp = final.with_name(final.name + f".tmp-{os.getpid()}")
    temp.write_text(json.dumps(data, indent=1))
    os.replace(temp, final)


def remove_temporaries(jobs: Iterable[Job]) -> list[Path]:
    """Delete temporaries that writers of these jobs' outputs may have left (``.NAME.mp4.tmp-*``
    and marker temporaries); returns what was removed.  Finished outputs are not touched."""
    removed = []
    for job in jobs:
        out = Path(job.output)
        if not out.parent.is_dir():
            continue
        for pattern in (f".{glob.escape(out.name)}.tmp-*", f".{glob.escape(out.name)}.done.json.tmp-*"):
            for temp in out.parent.glob(pattern):
                try:
                    temp.unlink()
                    removed.append(temp)
                except OSError:
                    pass
    return removed


# ----------------------------------------------------------------------------------------------
# The work of one video (runs in a Ray task, or in-process for tests)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if isinstance(error, SteadyStyleError) else f"{type(error).__name__}: {text}"


def estimate_frames(path: str | os.PathLike) -> int | None:
    """Frames in a video, from its header, else from duration × frame rate (None if unknown);
    for the progress line only."""
    from .video import VideoReader

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
    """Stylize one job with :func:`stylize_video`, then write its done-marker.

    ``model``: the :class:`~steadystyle.weights.StyleModel`.  ``threads``: torch CPU threads.
    ``report(relative, frames_done_since_last, total_or_None)`` is called about twice a second.
    Returns a result row; an error is a ``failed`` row with a one-line message, never raised
    (KeyboardInterrupt — a cancelled task — is raised after the writer removed its temporary).
    """
    from .pipeline import stylize_video
    from .stylizer import Stylizer

    if threads:
        import torch

        torch.set_num_threads(int(threads))
    row: dict[str, Any] = {"input": job.input, "output": job.output, "status": "failed", "frames": 0,
                           "stylized_frames": 0, "seconds": 0.0, "fps": None, "error": None}
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
        stylizer = Stylizer(model, device=settings.device, max_side=settings.max_side)
        stats = stylize_video(job.input, job.output, stylizer, settings.method, settings.params,
                              max_side=settings.max_side, device=settings.device, progress=False, crf=settings.crf,
                              on_frame=on_frame, strength=settings.strength, preserve_colors=settings.preserve_colors)
        write_marker(job, digest, {"frames": stats.frames, "stylized_frames": stats.stylized_frames,
                                   "style": stats.style, "method": stats.method, "params": stats.params,
                                   "controls": stats.controls})
        row.update(status="done", frames=stats.frames, stylized_frames=stats.stylized_frames,
                   width=stats.width, height=stats.height, device=stats.device)
    except Exception as exc:  # one bad video is a row, not the end of the batch
        row["error"] = _one_line(exc)
        row["frames"] = counter["done"]
    finally:  # the exact count replaces the estimate
        if report is not None:
            report(job.relative, counter["done"] - counter["sent"], counter["done"])
    row["seconds"] = round(time.perf_counter() - start, 3)
    if row["status"] == "done" and row["seconds"] > 0:
        row["fps"] = round(row["frames"] / row["seconds"], 2)
    return row


# ----------------------------------------------------------------------------------------------
# Ray: the cluster, the tasks, progress


class _ProgressBoard:
    """Frames done and totals per video, shared by the tasks (a Ray actor)."""

    def __init__(self) -> None:
        self.frames = 0
        self.totals: dict[str, int | None] = {}

    def report(self, key: str, frames: int, total: int | None) -> None:
        self.frames += int(frames)
        if key not in self.totals or total is not None:
            self.totals[key] = total

    def snapshot(self) -> tuple[int, dict[str, int | None]]:
        return self.frames, dict(self.totals)


def _task(job: Job, model: Any, settings: BatchSettings, digest: str, threads: int, board: Any) -> dict[str, Any]:
    """The body of one Ray task (module-level, so workers import it by name)."""
    report = (lambda key, n, total: board.report.remote(key, n, total)) if board is not None else None
    return stylize_job(job, model, settings, digest, threads, report)


@dataclass
class RayOptions:
    """Where to run: ``address`` None → a local Ray started here (and stopped at the end);
    ``"auto"`` or ``"ray://host:port"`` → an existing cluster.  ``workers``: videos at once
    (default: one per CPU of the cluster).  ``gpus_per_worker``: GPUs each task asks Ray for."""

    address: str | None = None
    workers: int | None = None
    gpus_per_worker: float = 0.0
    num_cpus: int | None = None  # for a local Ray only (default: this machine's cores, at least workers)
    threads_per_worker: int | None = None  # torch threads (and CPUs asked of Ray) per video; default CPUs / workers


def connect(options: RayOptions) -> bool:
    """Connect to Ray (an already initialized Ray in this process is used as it is).  Returns True
    when this call started it (so the caller shuts it down)."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    quiet = {"log_to_driver": False, "configure_logging": True, "logging_level": "ERROR"}
    try:
        if options.address:
            ray.init(address=options.address, **quiet)
        else:
            cpus = options.num_cpus or max(os.cpu_count() or 1, options.workers or 1)
            # Ray resolves 127.0.0.1 to this host's address; the dashboard is off.
            ray.init(num_cpus=cpus, include_dashboard=False, _node_ip_address="127.0.0.1", **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = options.address or "a local Ray"
        raise SteadyStyleError(f"cannot start or reach {where}: {' '.join(str(exc).split())[:200]}") from None
    return True


def _workers_and_threads(options: RayOptions) -> tuple[int, int]:
    """(videos at once, torch threads per video): one video per CPU by default, or one per
    ``gpus_per_worker`` share of the cluster's GPUs; the CPUs are split evenly between them."""
    ray = import_ray()
    resources = ray.cluster_resources()
    cpus = max(1, int(resources.get("CPU", 1)))
    default = cpus
    if options.gpus_per_worker > 0:
        gpus = float(resources.get("GPU", 0))
        if gpus < options.gpus_per_worker:
            raise SteadyStyleError(f"--gpus-per-worker {options.gpus_per_worker:g}, but the Ray cluster has "
                                   f"{gpus:g} GPUs")
        default = max(1, int(gpus // options.gpus_per_worker))
    workers = options.workers or default
    return workers, options.threads_per_worker or max(1, cpus // workers)


# ----------------------------------------------------------------------------------------------
# The batch


@dataclass
class BatchResult:
    """Rows (one per job, in input order), counts and timing of a batch."""

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
        from .stats import machine_description

        return {"videos": len(self.rows), "done": self.count("done"), "skipped": self.count("skipped"),
                "failed": self.count("failed"), "frames": self.frames, "wall_seconds": round(self.wall_seconds, 3),
                "ray_startup_seconds": round(self.startup_seconds, 3),
                "frames_per_second": round(self.frames / self.wall_seconds, 3) if self.wall_seconds else None,
                "workers": self.workers, "threads_per_worker": self.threads_per_worker,
                "machine": machine_description(), "settings": settings, "results": self.rows}


class _Display:
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


def run_batch(jobs: Sequence[Job], settings: BatchSettings, options: RayOptions | None = None, *,
              progress: bool = True, on_result: Callable[[dict[str, Any]], None] | None = None) -> BatchResult:
    """Stylize ``jobs`` on Ray; skip finished ones; return one row per job.

    Rows: ``status`` done / skipped / failed, frames, frames the network ran on, seconds, fps,
    one-line error.  At most ``options.workers`` videos run at once.  ``on_result(row)`` is
    called as each row is known.  On KeyboardInterrupt (or any exception here) the running tasks
    are cancelled, temporaries of this batch removed, finished outputs kept, and the exception
    re-raised.
    """
    from .styles import load_style

    options = options or RayOptions()
    ray = import_ray()
    path = style_file(settings.style)
    model = load_style(str(path))
    described = settings.describe(file_sha256(path))
    rows: dict[int, dict[str, Any]] = {}
    digests: dict[int, str] = {}
    todo: list[int] = []
    for i, job in enumerate(jobs):
        try:
            digests[i] = job_digest(described, job.input)
        except OSError as exc:
            rows[i] = {"input": job.input, "output": job.output, "status": "failed", "frames": 0, "stylized_frames": 0,
                       "seconds": 0.0, "fps": None, "error": f"{job.input}: {exc.strerror or exc}"}
            continue
        if is_finished(job, digests[i]):
            marker = json.loads(marker_path(job.output).read_text())
            rows[i] = {"input": job.input, "output": job.output, "status": "skipped", "frames": marker.get("frames", 0),
                       "stylized_frames": marker.get("stylized_frames", 0), "seconds": 0.0, "fps": None,
                       "error": None}
        else:
            todo.append(i)
    for i in sorted(rows):
        if on_result:
            on_result(rows[i])

    result = BatchResult()
    started_ray = False
    start = time.perf_counter()
    display = _Display(len(jobs), False)
    in_flight: dict[Any, int] = {}
    try:
        if todo:
            started_ray = connect(options)
            result.startup_seconds = time.perf_counter() - start
            display = _Display(len(jobs), progress)
            workers, threads = _workers_and_threads(options)
            result.workers, result.threads_per_worker = workers, threads
            board = ray.remote(num_cpus=0)(_ProgressBoard).remote()
            task = ray.remote(_task).options(num_cpus=threads, num_gpus=options.gpus_per_worker, max_retries=1)
            model_ref = ray.put(model)
            queue = list(todo)
            last_draw = 0.0
            while queue or in_flight:
                while queue and len(in_flight) < workers:
                    i = queue.pop(0)
                    in_flight[task.remote(jobs[i], model_ref, settings, digests[i], threads, board)] = i
                ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=0.5)
                for ref in ready:
                    i = in_flight.pop(ref)
                    try:
                        row = ray.get(ref)
                    except ray.exceptions.RayError as exc:  # a crashed worker, a lost node
                        row = {"input": jobs[i].input, "output": jobs[i].output, "status": "failed", "frames": 0,
                               "stylized_frames": 0, "seconds": 0.0, "fps": None,
                               "error": f"Ray task failed: {' '.join(str(exc).split())[:300]}"}
                    rows[i] = row
                    if on_result:
                        on_result(row)
                now = time.perf_counter()
                if progress and (ready or now - last_draw >= 0.5):
                    frames, totals = ray.get(board.snapshot.remote())
                    statuses = [r["status"] for r in rows.values()]
                    display.update(frames, totals, statuses.count("done"), statuses.count("failed"),
                                   statuses.count("skipped"))
                    last_draw = now
    except BaseException:
        _cancel(ray, list(in_flight))
        remove_temporaries(jobs)
        raise
    finally:
        display.close()
        result.wall_seconds = time.perf_counter() - start
        if started_ray:
            ray.shutdown()
    result.rows = [rows[i] for i in range(len(jobs))]
    return result


def _cancel(ray: Any, refs: list[Any], wait_s: float = 20.0) -> None:
    """Cancel running tasks gently (KeyboardInterrupt inside: their writers delete temporaries)
    and wait a bounded time for them to stop."""
    if not refs:
        return
    for ref in refs:
        try:
            ray.cancel(ref, force=False)
        except Exception:
            pass
    try:
        ray.wait(refs, num_returns=len(refs), timeout=wait_s)
    except Exception:
        pass


# ----------------------------------------------------------------------------------------------
# Reporting


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


def settings_json(settings: BatchSettings) -> dict[str, Any]:
    """Settings for the JSON report (style name as given, plus the hashed description)."""
    return {"style": settings.style, "device": settings.device,
            **settings.describe(file_sha256(style_file(settings.style)))}


__all__ = ["Job", "plan", "BatchSettings", "BatchResult", "RayOptions", "run_batch", "stylize_job", "is_finished",
           "marker_path", "job_digest", "remove_temporaries", "format_table", "import_ray", "INSTALL_HINT",
           "INPUT_EXTENSIONS", "connect"]
