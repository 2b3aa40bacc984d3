"""The one frame loop: source → stylizer → stabilizer → sink, with observers watching.

Every entry point (``stylize``, ``demo``, ``live``, ``serve``, ``evaluate``, ``bench``, ``batch``)
is a choice of source and sink around :func:`run`, or — where frames arrive by callback, as in a
WebRTC track — around one :class:`Processor`, the per-frame step that :func:`run` calls.

- A *source* is an iterable of :class:`~steadystyle.sources.Frame` (H×W×3 uint8 RGB, time in
  seconds, index, capture time).  Threading (read-ahead for files, newest-frame for cameras)
  lives in source wrappers, not here.
- A *sink* has ``write(result)``, ``close()`` and ``abort()``; :func:`run` closes it when the
  source ends and aborts it on any error or interrupt, so nothing half-written is presented as
  good.
- *Observers* (statistics, progress bars, live status lines) get every :class:`FrameResult`
  through ``on_frame`` and may define ``on_end(summary)``.  They are not part of the hot path:
  with none attached, :class:`Processor` still only reads ``time.perf_counter``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .color import apply_strength, check_strength, preserve_colors
from .errors import SteadyStyleError
from .sources import Frame
from .backends.base import Stylizer
from .geometry import Box
from .stabilize.base import Stabilizer
from .stabilize.masks import lerp


@dataclass
class FrameResult:
    """One frame after the loop's middle stages.

    output: O(t) after strength blending, H×W×3 uint8 RGB.  stylized: whether the network ran
    for this frame (whole frame or a region).  foreground: fraction of pixels that took new
    stylized values.  stylize_ms / stabilize_ms: wall time of the network and of the
    stabilizer's own work (ms).  done: ``time.perf_counter()`` when the output was ready.
    """

    frame: Frame
    output: np.ndarray
    stylized: bool
    foreground: float
    stylize_ms: float
    stabilize_ms: float
    done: float
    regions: list[Box] = field(default_factory=list)

    @property
    def latency_ms(self) -> float:
        """Capture → output time of this frame, ms."""
        return (self.done - self.frame.captured) * 1000.0


class Sink(Protocol):
    def write(self, result: FrameResult) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


class Observer(Protocol):
    def on_frame(self, result: FrameResult) -> None: ...


class Processor:
    """The per-frame middle of the loop for one stream: stylizer + stabilizer + controls.

    ``process(frame)`` runs I(t) through the stabilizer, giving it a ``stylize`` callback that
    runs the network (for the whole frame, or for a region when the stylizer has
    ``stylize_region``); then ``strength`` blends the result with the input (1 = full style,
    0 = the raw frame).  ``preserve_colors`` keeps the input's colours in every stylization
    (luminance transfer, applied to S(t) before the stabilizer so frozen pixels stay frozen).
    Stylizer, stabilizer and controls may be swapped between frames (``set_*``); a new
    stabilizer starts from a fresh state.  ``sync``: a callable that waits for the device (e.g.
    ``torch.cuda.synchronize``), called only when ``timed`` so timings are the network's own.

    ``steadiness`` s (0–1) trades consistency for fresh texture, for every method: the output is
    O + (1 − s)(S(t) − O) with O the stabilizer's output and S(t) this frame's full stylization
    (not fed back: the stabilizer keeps its own state, so any s is as stable as s = 1 scaled).
    1 (the default) is the method alone; 0 is per-frame stylization exactly (the stabilizer does
    not run, and starts afresh when s rises again); below 1 every frame takes a full network pass.
    """

    def __init__(self, stylizer: Stylizer, stabilizer: Stabilizer, *, strength: float = 1.0,
                 preserve_colors: bool = False, face_detail: float = 0.0, steadiness: float = 1.0,
                 sync: Callable[[], None] | None = None) -> None:
        self.stylizer = stylizer
        self.stabilizer = stabilizer
        self.strength = check_strength(strength)
        self.preserve_colors = bool(preserve_colors)
        self.face = _face_control(face_detail)
        self.steadiness = check_steadiness(steadiness)
        self.sync = sync
        self._lock = threading.Lock()

    def set_face_detail(self, detail: float) -> None:
        """0 turns the face control off; a new value keeps the face tracker's state."""
        with self._lock:
            if self.face is not None and _face_control(detail) is not None:
                self.face.detail = float(detail)
            else:
                self.face = _face_control(detail)
            self.stabilizer.reset()

    def set_stylizer(self, stylizer: Stylizer) -> None:
        with self._lock:
            self.stylizer = stylizer
            self.stabilizer.reset()  # frozen pixels of the old style must not stay

    def set_stabilizer(self, stabilizer: Stabilizer) -> None:
        with self._lock:
            self.stabilizer = stabilizer

    def set_strength(self, strength: float) -> None:
        self.strength = check_strength(strength)

    def set_steadiness(self, steadiness: float) -> None:
        """0 = per-frame … 1 = the method alone; leaving 0 starts the stabilizer afresh."""
        with self._lock:
            value = check_steadiness(steadiness)
            if self.steadiness == 0.0 and value > 0.0:
                self.stabilizer.reset()
            self.steadiness = value

    def set_preserve_colors(self, on: bool) -> None:
        with self._lock:
            self.preserve_colors = bool(on)
            self.stabilizer.reset()

    def process(self, frame: Frame) -> FrameResult:
        """I(t) → :class:`FrameResult` (thread-safe against the ``set_*`` methods)."""
        with self._lock:
            return self._process(frame)

    __call__ = process

    def _process(self, frame: Frame) -> FrameResult:
        image = frame.image
        stylizer = self.stylizer
        network_s = 0.0
        regions: list[Box] = []
        ran = False

        full: list[np.ndarray] = []  # this frame's whole stylization, once one ran: boxes slice it

        def whole() -> np.ndarray:
            """S(t) for the whole frame, with the colour and face controls; kept for the frame's boxes."""
            out = stylizer(image)
            if self.preserve_colors:
                out = preserve_colors(image, out)
            if self.face is not None:
                out = self.face(image, out)
            full.append(out)
            return out

        def stylize(box: Box | None = None) -> np.ndarray:
            nonlocal network_s, ran
            if full:
                if box is None:
                    return full[0]
                regions.append(box)
                return full[0][box.slices()].copy()
            t = time.perf_counter()
            ran = True
            if box is None:
                out = whole()
            else:
                regions.append(box)
                plan = getattr(stylizer, "region_plan", None)
                if plan is not None and plan(image, box) is None:  # a full pass anyway: keep it for the next boxes
                    out = whole()[box.slices()].copy()
                else:
                    out = stylizer.stylize_region(image, box)
                    if self.preserve_colors:
                        out = preserve_colors(image[box.slices()], out)
                    if self.face is not None:
                        out = self.face.apply_region(image, out, box)
            if self.sync is not None:
                self.sync()
            network_s += time.perf_counter() - t
            return out

        t0 = time.perf_counter()
        s = self.steadiness
        if s == 0.0:
            output, foreground = stylize(), 1.0
        else:
            output = self.stabilizer(image, stylize)
            foreground = float(self.stabilizer.last_foreground_fraction)
            if s < 1.0:
                output = lerp(output, stylize(), 1.0 - s)  # a number: OpenCV's fused blend
        if self.strength < 1.0:
            output = apply_strength(image, output, self.strength)
        done = time.perf_counter()
        return FrameResult(frame, output, ran, foreground,
                           network_s * 1000.0, (done - t0 - network_s) * 1000.0, done, regions)


def check_steadiness(value: Any) -> float:
    """``value`` as a steadiness 0–1, or a one-line :class:`SteadyStyleError`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise SteadyStyleError(f"steadiness must be a number from 0 to 1 (got {value!r})")
    return float(value)


def _face_control(detail: float):
    """A :class:`~steadystyle.face.FaceDetail` for ``detail`` (0–1), or None when it is 0."""
    from .face import FaceDetail, check_face_detail

    return FaceDetail(detail) if check_face_detail(detail) > 0 else None


@dataclass
class LoopSummary:
    """What :func:`run` did: frames processed, frames the network ran on, wall time (s)."""

    frames: int = 0
    stylized_frames: int = 0
    wall_seconds: float = 0.0
    stopped: str = "end"  # "end" (source exhausted), "stop" (stop event or duration), or the error
    extra: dict[str, Any] = field(default_factory=dict)


def single_threaded_opencv() -> None:
    """Make OpenCV run its per-frame work (morphology, resizing, colour) on the calling thread.

    OpenCV's own thread pool and PyTorch's OpenMP pool fight over small CPUs: on the 2-core
    development machine, ``live --input`` at 320×240 delivered 11 fps (network 145 ms mean, p95
    latency 419 ms) with OpenCV's default pool and 27 fps (network 40 ms, p95 72 ms) with one
    OpenCV thread.  The frames are small, so OpenCV loses nothing by it.
    """
    import cv2

    cv2.setNumThreads(1)


def run(source: Iterable[Frame], processor: Processor, sink: Sink | None = None,
        observers: Sequence[Observer] = (), *, stop: threading.Event | None = None,
        max_frames: int | None = None, name: str | None = None) -> LoopSummary:
    """Drive frames from ``source`` through ``processor`` into ``sink``; tell ``observers``.

    Stops when the source ends, ``stop`` is set, or ``max_frames`` were processed; then closes
    the sink and calls each observer's ``on_end(summary)``.  On an exception (a stylizer error,
    a lost camera, KeyboardInterrupt) the sink is aborted — a file sink then leaves any earlier
    output untouched — and the exception propagates.  Sources with a ``close()`` are closed.
    ``name``: when given, a source that yields no frame at all is a one-line error naming it
    (and the sink is aborted, so no empty output appears).
    """
    single_threaded_opencv()
    summary = LoopSummary()
    start = time.perf_counter()
    try:
        for frame in source:
            result = processor.process(frame)
            if sink is not None:
                sink.write(result)
            summary.frames += 1
            summary.stylized_frames += int(result.stylized)
            for observer in observers:
                observer.on_frame(result)
            if (stop is not None and stop.is_set()) or (max_frames is not None and summary.frames >= max_frames):
                summary.stopped = "stop"
                break
        if name is not None and summary.frames == 0:
            raise SteadyStyleError(f"{name}: contains no frames")
        if sink is not None:
            sink.close()
    except BaseException:
        if sink is not None:
            sink.abort()
        raise
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()
        summary.wall_seconds = time.perf_counter() - start
    for observer in observers:
        on_end = getattr(observer, "on_end", None)
        if on_end is not None:
            on_end(summary)
    return summary


__all__ = ["FrameResult", "Sink", "Observer", "Processor", "LoopSummary", "run"]
