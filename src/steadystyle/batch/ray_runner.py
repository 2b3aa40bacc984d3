"""Running a batch's jobs on Ray: the cluster (a local Ray or an existing one), one task per
video, a shared progress board, cancelling on Ctrl-C.  Nothing here schedules: Ray places the
tasks on the cores (or GPUs) of this machine or of a cluster."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import Interrupted, SteadyStyleError
from .job import failed_row, stylize_job
from .markers import is_finished, job_digest, read_marker, remove_temporaries
from .plan import Job
from .report import BatchResult, Display
from .settings import BatchSettings, file_sha256, style_file

INSTALL_HINT = 'steadystyle batch needs Ray: pip install "steadystyle[batch]"'


def import_ray():
    """The ``ray`` module, or a one-line :class:`SteadyStyleError` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise SteadyStyleError(INSTALL_HINT) from None
    return ray


@dataclass
class RayOptions:
    """Where to run: ``address`` None → a local Ray started here (and stopped at the end);
    ``"auto"`` or ``"ray://host:port"`` → an existing cluster.  ``workers``: videos at once
    (default: one per CPU of the cluster; never more than the videos to run or the CPUs).  ``gpus_per_worker``: GPUs each task asks Ray for."""

    address: str | None = None
    workers: int | None = None
    gpus_per_worker: float = 0.0
    num_cpus: int | None = None  # for a local Ray only (default: this machine's cores)
    threads_per_worker: int | None = None  # network threads (and CPUs asked of Ray) per video; default CPUs / workers


def connect(options: RayOptions) -> bool:
    """Connect to Ray (an already initialized Ray in this process is used as it is).  Returns True
    when this call started it (so the caller shuts it down).

    A stop signal (Ctrl-C, SIGTERM, SIGHUP) while ``ray.init`` runs is held until it returns:
    an exception raised in the middle of it (once its core worker exists) leaves a half-started
    Ray that crashes the process at exit and orphans its agents.  Then Ray is shut down and the
    signal raised as :class:`Interrupted`; a second signal while Ray starts stops it at once.
    Ray's C++ crash handler is kept out of this process, so no signal ever reaches it (it would
    print a stack, abort, or kill the process 3 s later by an alarm)."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    quiet = {"log_to_driver": False, "configure_logging": True, "logging_level": "ERROR"}
    handlers = _signal_handlers()
    undo = [_keep_our_sigterm_handler(ray), _without_ray_failure_signal_handler()]
    held = _HeldSignals(handlers)
    failure: SteadyStyleError | None = None
    try:
        try:
            if options.address:
                ray.init(address=options.address, **quiet)
            else:
                cpus = options.num_cpus or os.cpu_count() or 1  # more --workers than cores: capped, not more CPUs
                # Ray resolves 127.0.0.1 to this host's address; the dashboard is off.
                ray.init(num_cpus=cpus, include_dashboard=False, _node_ip_address="127.0.0.1", **quiet)
        finally:
            for step in undo:
                step()
            signum = held.release()  # our own handlers again
            _restore_signal_handlers(handlers)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = options.address or "a local Ray"
        failure = SteadyStyleError(f"cannot start or reach {where}: {' '.join(str(exc).split())[:200]}")
    except SystemExit:  # only Ray's own SIGTERM handlers exit while it starts (sys.exit(15), or (1))
        import signal

        _stop_ray(ray)
        raise Interrupted(held.signum or signal.SIGTERM) from None
    except KeyboardInterrupt:  # a second stop signal while Ray starts: what it started goes too
        _stop_ray(ray)
        raise
    if signum is not None:  # held while Ray started: now it stops whole
        _stop_ray(ray)
        raise Interrupted(signum)
    if failure is not None:
        _stop_ray(ray)
        raise failure from None
    return True


class _HeldSignals:
    """Stop signals recorded, not acted on, until :meth:`release` (the first one; a second one
    goes to the handler it replaced, as if nothing were held).  ``handlers``: the handlers now
    (:func:`_signal_handlers`); SIGINT is held too."""

    def __init__(self, handlers: dict[int, Any]) -> None:
        import signal

        self.signum: int | None = None
        self.previous: dict[int, Any] = {}
        for number, handler in handlers.items():
            try:
                signal.signal(number, self._hold)
            except (OSError, ValueError, TypeError):
                continue
            self.previous[number] = handler

    def _hold(self, signum: int, frame: Any) -> None:
        if self.signum is None:
            self.signum = signum
            return
        import signal

        previous = self.previous.get(signum)
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            raise Interrupted(signum)

    def release(self) -> int | None:
        """Put the replaced handlers back; the first signal that came meanwhile, or None."""
        _restore_signal_handlers(self.previous)
        return self.signum


def _without_ray_failure_signal_handler() -> Callable[[], None]:
    """While ``ray.init`` runs, the core worker it starts in this process installs no C++ crash
    handler (absl's, which also takes SIGTERM: it prints a stack trace, and aborts or lets an
    alarm kill the process).  Ray's processes (raylet, workers) keep theirs.  Returns the undo."""
    try:
        from ray._private import ray_constants
    except ImportError:
        return lambda: None
    if not hasattr(ray_constants, "RAY_DISABLE_FAILURE_SIGNAL_HANDLER"):
        return lambda: None
    before = ray_constants.RAY_DISABLE_FAILURE_SIGNAL_HANDLER
    ray_constants.RAY_DISABLE_FAILURE_SIGNAL_HANDLER = True

    def undo() -> None:
        ray_constants.RAY_DISABLE_FAILURE_SIGNAL_HANDLER = before

    return undo


def _keep_our_sigterm_handler(ray: Any) -> Callable[[], None]:
    """While ``ray.init`` runs, Ray's Python SIGTERM handlers (a bare ``sys.exit``, which code on
    the way may swallow so the batch runs on) are not installed: ours stay.  Returns the undo.
    (Ray's C++ handler, installed as its core worker starts, is replaced right after init.)"""
    utils = getattr(getattr(ray, "_private", None), "utils", None)
    original = getattr(utils, "set_sigterm_handler", None)
    if original is None:
        return lambda: None
    utils.set_sigterm_handler = lambda handler: None

    def undo() -> None:
        utils.set_sigterm_handler = original

    return undo


_STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


def _signal_handlers() -> dict[int, Any]:
    """The Python handlers of SIGINT, SIGTERM and SIGHUP now (empty off the main thread)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}
    return {int(n): signal.getsignal(n) for n in (getattr(signal, name, None) for name in _STOP_SIGNALS)
            if n is not None and signal.getsignal(n) is not None}


def _restore_signal_handlers(handlers: dict[int, Any]) -> None:
    """Put back the handlers :func:`ray.init` replaced: Ray's driver makes SIGTERM a bare
    ``sys.exit`` and its core worker installs a C++ handler (exit status 1, nothing cleaned);
    ours make SIGTERM/SIGHUP behave like Ctrl-C (cancel, remove temporaries, shut Ray down)."""
    import signal

    for number, handler in handlers.items():
        try:
            signal.signal(number, handler)
        except (OSError, ValueError, TypeError):
            pass


class _SignalRecorder:
    """Remembers which stop signal arrived, around the handlers already installed (the CLI's
    raise :class:`~steadystyle.errors.Interrupted`).  Needed because an exception raised by a
    handler while Ray's C++ code waits (``ray.wait``, ``ray.get``) comes back from Ray as a bare
    ``KeyboardInterrupt``, without the signal's number; :meth:`exception` puts it back."""

    def __init__(self) -> None:
        import signal

        self.signum: int | None = None
        self.previous = {n: h for n, h in _signal_handlers().items() if n != signal.SIGINT}
        for number, handler in self.previous.items():
            signal.signal(number, self._handler(handler))

    def _handler(self, previous: Any) -> Callable[[int, Any], None]:
        import signal

        def handler(signum: int, frame: Any) -> None:
            first = self.signum is None
            if first:
                self.signum = signum
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL and first:  # the API without the CLI: clean up like Ctrl-C
                raise Interrupted(signum)

        return handler

    def exception(self, exc: BaseException) -> BaseException:
        """``exc``, or an :class:`Interrupted` of the recorded signal in place of a bare Ctrl-C."""
        if self.signum is not None and isinstance(exc, KeyboardInterrupt) and not hasattr(exc, "signum"):
            return Interrupted(self.signum)
        return exc

    def check(self) -> None:
        """Raise :class:`Interrupted` when a stop signal came whose exception was lost (raised
        inside code that swallowed it, e.g. while ``ray.init`` was starting processes)."""
        if self.signum is not None:
            raise Interrupted(self.signum)

    def restore(self) -> None:
        _restore_signal_handlers(self.previous)


def _ray_descendants() -> dict[int, str]:
    """This process's descendants that belong to Ray (gcs_server, raylet, its agents, workers),
    as pid → start time (from Linux ``/proc``; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    started: dict[int, str] = {}
    ray_like: set[int] = set()
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return {}
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                command = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        started[pid] = fields[19]
        if b"ray" in command:
            ray_like.add(pid)
    found: dict[int, str] = {}
    todo = list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        if pid in ray_like:
            found[pid] = started[pid]
        todo.extend(children.get(pid, []))
    return found


def _start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return None if fields[0] == "Z" else fields[19]


def _reap(processes: dict[int, str], wait_s: float = 5.0) -> None:
    """Stop what of ``processes`` (pid → start time) outlived ``ray.shutdown`` — a Ray stopped
    while it was starting leaves its dashboard and runtime-env agents orphaned: SIGTERM, and
    SIGKILL after ``wait_s``.  A pid now naming another process (another start time) is left."""
    import signal

    def alive() -> list[int]:
        return [pid for pid, start in processes.items() if _start_time(pid) == start]

    deadline = time.monotonic() + wait_s
    sent = False
    while (left := alive()) and time.monotonic() < deadline:
        if not sent and time.monotonic() > deadline - wait_s / 2:
            for pid in left:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGTERM)
            sent = True
        time.sleep(0.1)
    for pid in alive():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _stop_ray(ray: Any) -> None:
    """``ray.shutdown()`` of a Ray started here, and no process of it left behind."""
    processes = _ray_descendants()
    try:
        ray.shutdown()
    except Exception:
        pass
    _reap(processes)


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


def _workers_and_threads(options: RayOptions, videos: int) -> tuple[int, int, str | None]:
    """(videos at once, torch threads per video, a note or None): one video per CPU by default,
    or one per ``gpus_per_worker`` share of the cluster's GPUs; never more than ``videos`` (the
    videos to run) nor than the cluster's CPUs can run at once (each video asks Ray for its
    threads' CPUs), and the CPUs are split evenly between them.  The note says, in one line, why
    a ``--workers`` asked for was lowered (more would only start idle Ray workers)."""
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
    if options.threads_per_worker and options.threads_per_worker > cpus:  # Ray would wait for it forever
        raise SteadyStyleError(f"--threads-per-worker {options.threads_per_worker}, but the Ray cluster has "
                               f"{cpus} CPUs")
    at_once = cpus // (options.threads_per_worker or 1)  # ≥ 1, checked above
    videos = max(1, int(videos))
    workers = min(options.workers or default, videos, at_once)
    note = None
    if options.workers and workers < options.workers:
        why = [f"{videos} video{'s' * (videos != 1)} to run"] if videos < options.workers else []
        if at_once < options.workers:
            per = f" at {options.threads_per_worker} threads each" if options.threads_per_worker else ""
            why.append(f"the Ray cluster runs {at_once} at once on its {cpus} CPUs{per}")
        note = f"--workers {options.workers}: {' and '.join(why)}; using {workers}"
    return workers, options.threads_per_worker or max(1, cpus // workers), note


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


def _skipped_row(job: Job) -> dict[str, Any]:
    marker = read_marker(job) or {}
    return {"input": job.input, "output": job.output, "status": "skipped", "frames": marker.get("frames", 0),
            "stylized_frames": marker.get("stylized_frames", 0), "seconds": 0.0, "fps": None, "error": None}


def run_batch(jobs: Sequence[Job], settings: BatchSettings, options: RayOptions | None = None, *,
              progress: bool = True, on_result: Callable[[dict[str, Any]], None] | None = None) -> BatchResult:
    """Stylize ``jobs`` on Ray; skip finished ones; return one row per job.

    Rows: ``status`` done / skipped / failed, frames, frames the network ran on, seconds, fps,
    one-line error.  At most ``options.workers`` videos run at once.  ``on_result(row)`` is
    called as each row is known.  On KeyboardInterrupt, SIGTERM or SIGHUP (or any exception
    here) the running tasks are cancelled, temporaries of this batch removed, finished outputs
    kept, Ray shut down (when started here), and the exception re-raised — for a signal, an
    :class:`~steadystyle.errors.Interrupted` carrying its number.
    """
    from ..styles import load_style

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
            rows[i] = failed_row(job, f"{job.input}: {exc.strerror or exc}")
            continue
        if is_finished(job, digests[i]):
            rows[i] = _skipped_row(job)
        else:
            todo.append(i)
    for i in sorted(rows):
        if on_result:
            on_result(rows[i])

    result = BatchResult()
    started_ray = False
    start = time.perf_counter()
    display = Display(len(jobs), False)
    in_flight: dict[Any, int] = {}
    signals = _SignalRecorder()
    try:
        if todo:
            started_ray = not ray.is_initialized()  # before connect: a signal on its way out still stops it
            connect(options)
            signals.check()
            result.startup_seconds = time.perf_counter() - start
            workers, threads, note = _workers_and_threads(options, len(todo))
            if note:
                print(f"steadystyle: {note}", file=sys.stderr, flush=True)
            display = Display(len(jobs), progress)
            result.workers, result.threads_per_worker = workers, threads
            board = ray.remote(num_cpus=0)(_ProgressBoard).remote()
            task = ray.remote(_task).options(num_cpus=threads, num_gpus=options.gpus_per_worker, max_retries=1)
            model_ref = ray.put(model)
            queue = list(todo)
            last_draw = 0.0
            while queue or in_flight:
                signals.check()
                while queue and len(in_flight) < workers:
                    i = queue.pop(0)
                    in_flight[task.remote(jobs[i], model_ref, settings, digests[i], threads, board)] = i
                ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=0.5)
                for ref in ready:
                    i = in_flight.pop(ref)
                    try:
                        row = ray.get(ref)
                    except ray.exceptions.RayError as exc:  # a crashed worker, a lost node
                        row = failed_row(jobs[i], f"Ray task failed: {' '.join(str(exc).split())[:300]}")
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
    except BaseException as exc:
        _cancel(ray, list(in_flight))
        remove_temporaries(jobs)
        cause = signals.exception(exc)
        if cause is exc:
            raise
        raise cause from None
    finally:
        display.close()
        result.wall_seconds = time.perf_counter() - start
        if started_ray:
            _stop_ray(ray)
        signals.restore()
    result.rows = [rows[i] for i in range(len(jobs))]
    return result


__all__ = ["INSTALL_HINT", "import_ray", "RayOptions", "connect", "run_batch"]
