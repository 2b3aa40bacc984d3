"""Files in, files out: :func:`stylize_video` is ``steadystyle stylize``, a thin choice of source
(:class:`~steadystyle.sources.FileSource` read ahead in a thread) and sink (a
:class:`~steadystyle.sinks.FileSink` encoding in a thread) around the one frame loop.

Decoding, the network and encoding overlap, so throughput approaches 1 / network time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .errors import SteadyStyleError
from .loop import FrameResult, run
from .sinks import Background, FileSink, labelled_input_and_output
from .sources import FileSource, Frame, ReadAhead
from .spec import DEFAULT_METHOD, RunSpec
from .stats import FrameLog, Progress, machine_description, summarize_ms, write_json
from .paths import check_paths, sequence_reads
from .video import VIDEO_EXTENSIONS, check_output_path

STAGES = ("decode", "stylize", "stabilize", "encode")


@dataclass
class RunStats:
    """What a run did: per-frame foreground fractions and stage timings (ms).

    backend: the backend that ran the network (``torch``, ``onnx``, …, never ``auto``).
    """

    input: str
    output: str
    style: str
    method: str
    device: str
    backend: str = ""
    width: int = 0
    height: int = 0
    fps: float = 0.0
    frames: int = 0
    stylized_frames: int = 0
    wall_seconds: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)
    controls: dict[str, Any] = field(default_factory=dict)
    foreground_fraction: list[float] = field(default_factory=list)
    timings: dict[str, Any] = field(default_factory=dict)
    per_frame_ms: list[dict[str, float]] = field(default_factory=list)
    frames_announced: int | None = None  # what the input's container (or numbering) promised
    warnings: list[str] = field(default_factory=list)  # input problems (gaps, truncation), one line each

    def to_json(self) -> dict[str, Any]:
        return {
            "input": self.input, "output": self.output, "style": self.style, "method": self.method,
            "backend": self.backend, "device": self.device, "machine": machine_description(), "width": self.width, "height": self.height,
            "fps": self.fps, "frames": self.frames, "frames_announced": self.frames_announced,
            "warnings": self.warnings, "stylized_frames": self.stylized_frames,
            "wall_seconds": round(self.wall_seconds, 3),
            "frames_per_second": round(self.frames / self.wall_seconds, 3) if self.wall_seconds else None,
            "params": self.params, "controls": self.controls, "timings": self.timings,
            "foreground_fraction": [round(f, 5) for f in self.foreground_fraction],
            "per_frame_ms": self.per_frame_ms,
        }


def _checked(source: FileSource, strict: bool) -> Iterator[Frame]:
    """``source``'s frames; with ``strict``, a problem the reader found by the end (a truncated
    video) is raised as :class:`SteadyStyleError`, so the loop aborts the sink before closing it."""
    yield from source
    if strict and source.reader.warnings:
        raise SteadyStyleError(f"{source.reader.warnings[0]} (--strict)")


class _Callback:
    """Observer adapter for the ``on_frame(index, output)`` callback of :func:`stylize_video`."""

    def __init__(self, fn: Callable[[int, np.ndarray], None]) -> None:
        self.fn = fn

    def on_frame(self, result: FrameResult) -> None:
        self.fn(result.frame.index, result.output)


def _run_spec(spec: RunSpec | None, style: Any, method: str, params: Any, backend: str, device: str,
              max_side: int | None, strength: float, preserve_colors: bool) -> RunSpec:
    """``spec`` itself, or the :class:`RunSpec` the separate arguments describe (not both)."""
    if spec is None:
        return RunSpec(style=style, backend=backend, device=device, max_side=max_side, method=method, params=params,
                       strength=strength, preserve_colors=preserve_colors)
    if not isinstance(spec, RunSpec):
        raise SteadyStyleError(f"spec must be a RunSpec, got {type(spec).__name__}")
    given = {"style": style is not None, "method": method != DEFAULT_METHOD, "params": params is not None,
             "backend": backend != "auto", "device": device != "auto", "max_side": max_side is not None,
             "strength": strength != 1.0, "preserve_colors": bool(preserve_colors)}
    both = [name for name, set_ in given.items() if set_]
    if both:
        raise SteadyStyleError(f"give the run either as spec= or as arguments, not both ({', '.join(both)} "
                               f"given beside spec)")
    return spec


def stylize_video(
    input: str | os.PathLike,
    output: str | os.PathLike,
    style: Any = None,
    method: str = DEFAULT_METHOD,
    params: Any = None,
    *,
    spec: RunSpec | None = None,
    backend: str = "auto",
    max_side: int | None = None,
    device: str = "auto",
    strength: float = 1.0,
    preserve_colors: bool = False,
    side_by_side_output: bool = False,
    stats_path: str | os.PathLike | None = None,
    progress: bool = True,
    crf: int = 18,
    on_frame: Callable[[int, np.ndarray], None] | None = None,
    threads: bool = True,
    strict: bool = False,
) -> RunStats:
    """Stylize a video file (or image sequence) and write the result, audio and timestamps kept.

    input/output: paths understood by :class:`~steadystyle.video.VideoReader` / ``VideoWriter``
    (a video file, a folder or ``frames/%05d.png`` pattern).

    The run is a :class:`~steadystyle.spec.RunSpec`: pass it as ``spec``, or give its parts —
    ``style`` (a shipped name, a model file, a loaded ``StyleModel``, or a stylizer already
    built, e.g. an ONNX Runtime one; None = the default style), ``method`` (a registered method,
    default :data:`~steadystyle.spec.DEFAULT_METHOD`) with ``params`` its params dataclass (None =
    the method's defaults), ``backend`` (``auto`` or a name in
    :data:`~steadystyle.backends.BACKENDS`), ``device``, ``max_side`` (the network's working
    size, longer side in pixels), ``strength`` (0–1 blend with the input) and
    ``preserve_colors`` (keep the input's colours) — not both.

    With ``side_by_side_output`` the output is input | result, twice as wide, the panels
    labelled "input" and "STYLE, METHOD" like the demo's.  ``stats_path``
    receives :class:`RunStats` as JSON (network timings then wait for the device).  The output
    appears only when the whole video was written (temporary file, then rename).  ``crf``: H.264
    quality.  ``on_frame(index, output)`` is called with every output frame (H×W×3 uint8 RGB).
    ``threads``: decode and encode in their own threads (the default; False runs serially).
    An input that is not what it claims (a numbered sequence with gaps, a video shorter than its
    container announces) is reported in ``RunStats.warnings``; with ``strict`` it is a
    :class:`SteadyStyleError` instead and no output is written.
    """
    spec = _run_spec(spec, style, method, params, backend, device, max_side, strength, preserve_colors)
    with FileSource(input) as source:
        info = source.info
        out = check_output_path(output, input)
        video_out = out.suffix.lower() in VIDEO_EXTENSIONS
        check_paths(sequence_reads("input", input) | {"--style": spec.style_file()},
                    {"-o": out if video_out else None, "--stats": stats_path},
                    folders={"-o": None if video_out else output})
        if strict and source.reader.warnings:  # known on opening: fail before any output exists
            raise SteadyStyleError(f"{source.reader.warnings[0]} (--strict)")
        processor = spec.processor(timed=bool(stats_path))
        stylizer = processor.stylizer
        described = spec.describe()
        stats = RunStats(str(input), str(output), stylizer.name, spec.method, str(stylizer.device),
                         backend=str(stylizer.backend), width=info.width, height=info.height, fps=float(info.fps),
                         params=described["params"],
                         controls={"strength": processor.strength, "preserve_colors": processor.preserve_colors})
        file_sink = FileSink(output, info.width * (2 if side_by_side_output else 1), info.height, info.fps,
                             audio_from=input if info.has_audio else None, crf=crf,
                             compose=(labelled_input_and_output(f"{stylizer.name}, {spec.method}")
                                      if side_by_side_output else None))
        log = FrameLog()
        observers: list = [log, Progress(info.frame_count, Path(str(input)).name, progress)]
        if on_frame:
            observers.append(_Callback(on_frame))
        checked = _checked(source, strict)
        frames = ReadAhead(checked) if threads else checked
        sink = Background(file_sink) if threads else file_sink
        start = time.perf_counter()
        try:
            summary = run(frames, processor, sink, observers, name=str(input))
        finally:
            observers[1].close()
    stats.wall_seconds = time.perf_counter() - start
    stats.frames, stats.stylized_frames = summary.frames, summary.stylized_frames
    stats.frames_announced, stats.warnings = source.reader.frames_announced, list(source.reader.warnings)
    stats.foreground_fraction = log.foreground
    columns = {"decode": source.decode_ms, "stylize": log.stylize_ms, "stabilize": log.stabilize_ms,
               "encode": file_sink.encode_ms}
    stats.timings = {stage: summarize_ms(columns[stage]) for stage in STAGES}
    stats.per_frame_ms = [{stage: round(columns[stage][i], 3) if i < len(columns[stage]) else 0.0 for stage in STAGES}
                          for i in range(summary.frames)]
    if stats_path:
        write_json(stats_path, stats.to_json())
    return stats


__all__ = ["RunStats", "stylize_video", "STAGES", "SteadyStyleError"]
