"""A live call: camera (or a file replayed at its own pace) → stylizer → stabilizer → window,
virtual camera and/or recording, through the one frame loop.

Threads: capture keeps only the newest frame (:class:`~steadystyle.sources.Newest`), the loop
runs the network in the calling thread, and each live output runs in its own newest-only sink
thread; a recording keeps every frame the loop produced (bounded queue).  Latency never builds
up: a slow network drops frames at the capture side instead of queueing them.

Stops on ``--duration``, end of a replayed file, ``q`` in the window, Ctrl-C or SIGTERM; a
camera that is missing or lost is a one-line error; the recording is finalized on every stop
(atomically: on an error it is discarded, any earlier file untouched).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import SteadyStyleError
from .loop import LoopSummary, Processor, run
from .paths import check_paths, sequence_reads
from .spec import RunSpec
from .sinks import Background, FileSink, Tee, VirtualCameraSink
from .window import WindowSink
from .sources import CameraSource, FileSource, Frame, Newest, Paced
from .stabilize.base import method_names, params_dict
from .stats import FrameLog, StatusLine, machine_description, percentiles, summarize_ms, write_json
from .fit import FIT_MODES, fit_image


@dataclass
class LiveOptions:
    """What ``steadystyle live`` does: the run (``spec``) and the live source and outputs.

    size: (width, height) the frames are processed at; fit: how a camera of another aspect
    ratio is fitted to it (``crop``, ``letterbox`` or ``stretch``).  styles: the styles keys 1–9 switch to in
    the window (each on the spec's backend and device).
    """

    spec: RunSpec = field(default_factory=RunSpec)
    camera: int = 0
    input: str | None = None
    size: tuple[int, int] | None = (320, 240)
    fit: str = "crop"
    window: bool = False
    virtual_camera: bool = False
    record: str | None = None
    duration: float | None = None
    stats: str | None = None
    status: bool = True
    styles: list[str] = field(default_factory=list)  # keys 1–9 in the window


class Resized:
    """Source adapter: frames fitted to ``size`` (width, height) when they differ, by ``fit``
    (:data:`~steadystyle.fit.FIT_MODES`: crop to fill, letterbox, or stretch)."""

    def __init__(self, source: Iterable[Frame], size: tuple[int, int] | None, fit: str = "crop") -> None:
        self.source = source
        self.size = size
        self.fit = fit

    def __iter__(self):
        for frame in self.source:
            if self.size and (frame.image.shape[1], frame.image.shape[0]) != self.size:
                frame.image = fit_image(frame.image, *self.size, self.fit)
            yield frame

    def close(self) -> None:
        close = getattr(self.source, "close", None)
        if close is not None:
            close()


def open_live_source(options: LiveOptions) -> tuple[Any, float]:
    """The capture side: a camera, or a file paced at its own frame rate; returns (source, fps)."""
    if options.input is not None:
        source = FileSource(options.input)
        fps = float(source.info.fps or 25)
        paced: Iterable[Frame] = Paced(source)
    else:
        source = CameraSource(options.camera, size=options.size)
        fps = source.fps
        paced = source
    return Newest(Resized(paced, options.size, options.fit)), fps


class EndOnError:
    """Source adapter: a source that fails with a user-facing error (a lost camera) ends the
    stream cleanly instead, so the outputs are closed and the recording finalized; the error is
    kept in ``error`` for the caller to report."""

    def __init__(self, source: Iterable[Frame]) -> None:
        self.source = source
        self.error: SteadyStyleError | None = None

    def __iter__(self):
        try:
            yield from self.source
        except SteadyStyleError as exc:
            self.error = exc

    def close(self) -> None:
        close = getattr(self.source, "close", None)
        if close is not None:
            close()


def check_live_options(options: LiveOptions) -> None:
    """Every path and number of ``options`` checked before any camera, model or file is opened:
    nothing read is written (``--record``/``--stats`` vs ``--input``), the outputs are distinct
    and writable, a camera number is ≥ 0, a recording has a size, a duration fits a timer, each of
    ``styles`` (keys 1–9) is a style."""
    if options.input is None and options.camera < 0:
        raise SteadyStyleError(f"--camera {options.camera}: camera numbers start at 0")
    if options.record and not options.size:
        raise SteadyStyleError("--record needs --size WxH")
    if options.size:
        check_size(*options.size)
    if options.fit not in FIT_MODES:
        raise SteadyStyleError(f"unknown fit {options.fit!r}; choose {', '.join(FIT_MODES)}")
    if options.duration is not None and not 0 <= options.duration <= MAX_DURATION:
        raise SteadyStyleError(f"--duration {options.duration:g}: give 0 to {MAX_DURATION:.0f} seconds (a year), or "
                               f"leave it out to run until stopped")
    styles = {}
    for name in options.styles:  # a key that would fail mid-call: one line now
        styles[f"--styles {name}"] = path = options.spec.replace(style=name).style_file()
        if path is None and isinstance(name, (str, os.PathLike)):
            from .styles import style_paths

            raise SteadyStyleError(f"--styles {name}: unknown style (shipped styles: {', '.join(style_paths()) or 'none'}; "
                                   f"or give a path to a model file)")
    check_paths(sequence_reads("--input", options.input) | {"--style": options.spec.style_file()} | styles,
                {"--record": options.record, "--stats": options.stats})
    if options.record:
        from .video import check_output_path

        check_output_path(options.record, options.input)


def check_size(width: int, height: int) -> None:
    """A processing size in pixels: 16–:data:`MAX_LIVE_SIDE` on each side."""
    if not (16 <= width <= MAX_LIVE_SIDE and 16 <= height <= MAX_LIVE_SIDE):
        raise SteadyStyleError(f"size {width}x{height} is out of range: each side must be 16–{MAX_LIVE_SIDE} pixels")


#: The longest ``--duration`` (seconds, a year): a timer cannot wait much longer than this.
MAX_DURATION = 365 * 24 * 3600.0

#: The largest live processing side (pixels): 8K; larger frames do not fit a live budget.
MAX_LIVE_SIDE = 7680


def _install_signal_handlers(stop: threading.Event) -> Callable[[], None]:
    """Ctrl-C, SIGTERM and SIGHUP set ``stop``: a clean stop like ``q``, the recording finalized.
    Returns a function restoring the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    old = {}
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            old[sig] = signal.signal(sig, lambda *_: stop.set())
    return lambda: [signal.signal(s, h) for s, h in old.items()]


def run_live(options: LiveOptions, *, source: Any = None, fps: float | None = None, sinks: list | None = None,
             stop: threading.Event | None = None, camera_factory: Callable[..., object] | None = None) -> dict[str, Any]:
    """Run a live session; returns the statistics (also written to ``options.stats``).

    ``source``/``fps``/``sinks``/``camera_factory`` replace the camera, outputs and virtual camera
    in tests.  Statistics: delivered fps, capture→output latency p50/p95/max (ms), frames
    dropped at capture and at the outputs, network and stabilizer ms, foreground fraction,
    backend, machine.
    """
    stop = stop or threading.Event()
    check_live_options(options)
    spec = options.spec
    stylizer = spec.stylizer()
    processor = spec.processor(stylizer=stylizer)
    if source is None:
        source, fps = open_live_source(options)
    fps = fps or 30.0
    outputs: list = list(sinks or [])
    live_sinks: list[Background] = []
    keys = LiveKeys(processor, spec, options.styles, stop)
    on_key = keys

    try:
        if options.window:
            live_sinks.append(Background(WindowSink(on_key=on_key), newest_only=True))
        if options.virtual_camera:
            live_sinks.append(Background(VirtualCameraSink(fps=fps, camera_factory=camera_factory), newest_only=True))
        record_sink = None
        if options.record:
            w, h = options.size
            record_sink = FileSink(options.record, w, h, fps)
            outputs.append(Background(record_sink))
    except BaseException:
        for s in live_sinks + outputs:
            s.abort()
        close = getattr(source, "close", None)
        if close:
            close()
        raise
    sink = Tee(live_sinks + outputs)
    log = FrameLog()
    observers: list = [log]
    if options.status:
        observers.append(StatusLine(log, dropped=lambda: getattr(source, "dropped", 0)))
    restore = _install_signal_handlers(stop)
    timer = None
    if options.duration is not None:
        timer = threading.Timer(options.duration, stop.set)
        timer.daemon = True
        timer.start()
    guarded = EndOnError(source)
    try:
        summary = run(guarded, processor, sink, observers, stop=stop)
    finally:
        restore()
        if timer is not None:
            timer.cancel()
    stats = live_stats(options, log, summary, source, live_sinks, processor.stylizer, keys.method, keys.params)
    if guarded.error is not None:
        stats["stopped"] = str(guarded.error)
    if options.stats:
        write_json(options.stats, stats)
    if guarded.error is not None:  # outputs were closed and the recording finalized; now say why
        raise guarded.error
    return stats


def live_stats(options: LiveOptions, log: FrameLog, summary: LoopSummary, source: Any, live_sinks: list,
               stylizer: Any, method: str, params: Any) -> dict[str, Any]:
    """The statistics of a live run as a JSON-ready dict."""
    fg = log.foreground
    spec = options.spec
    return {
        "frames": summary.frames, "stylized_frames": summary.stylized_frames,
        "wall_seconds": round(summary.wall_seconds, 3), "stopped": summary.stopped,
        "delivered_fps": round(log.delivered_fps(), 2),
        "latency_ms": percentiles(log.latency_ms),
        "dropped_at_capture": getattr(source, "dropped", 0),
        "dropped_at_outputs": sum(s.dropped for s in live_sinks),
        "network_ms": summarize_ms([v for v in log.stylize_ms if v > 0]),
        "stabilize_ms": summarize_ms(log.stabilize_ms),
        "foreground_fraction_mean": round(sum(fg) / len(fg), 4) if fg else None,
        "style": getattr(stylizer, "name", spec.style_name), "method": method, "params": params_dict(params),
        "backend": getattr(stylizer, "backend", "torch"), "device": str(getattr(stylizer, "device", "cpu")),
        "size": list(options.size) if options.size else None,
        "strength": spec.strength, "preserve_colors": spec.preserve_colors,
        "machine": machine_description(),
    }


class LiveKeys:
    """The window's keys: ``1``–``9`` switch to the n-th of ``styles``, ``m`` to the next
    registered method (with its defaults), ``q`` or Esc stop.  Switches go through the spec, so
    a new style runs on the same backend and device."""

    def __init__(self, processor: Processor, spec: RunSpec, styles: list[str], stop: threading.Event) -> None:
        self.processor, self.spec, self.styles, self.stop = processor, spec, list(styles), stop
        self.method, self.params = spec.method, spec.params

    def __call__(self, key: str) -> None:
        if key in ("q", "\x1b"):
            self.stop.set()
        elif key == "m":
            methods = method_names()
            self.spec = self.spec.replace(method=methods[(methods.index(self.method) + 1) % len(methods)])
            self.method, self.params = self.spec.method, self.spec.params
            self.processor.set_stabilizer(self.spec.stabilizer())
        elif key.isdigit() and 1 <= int(key) <= len(self.styles):
            self.spec = self.spec.replace(style=self.styles[int(key) - 1])
            self.processor.set_stylizer(self.spec.stylizer())


__all__ = ["LiveOptions", "LiveKeys", "run_live", "open_live_source", "live_stats", "Resized"]
