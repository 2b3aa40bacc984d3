"""Where results go: files, image sequences, memory, a window, a virtual camera — and in which thread.

A sink has ``write(result)`` (a :class:`~steadystyle.loop.FrameResult`), ``close()`` (finish:
the file appears complete) and ``abort()`` (stop: nothing half-written is left as a result).
:class:`Background` runs any sink in its own thread so encoding overlaps the network: blocking
with a bounded queue for files (no frame lost), or newest-only for live outputs.
"""

from __future__ import annotations

import os
import platform
import queue
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from .errors import SteadyStyleError
from .loop import FrameResult


def side_by_side(*panels: np.ndarray) -> np.ndarray:
    """Panels of equal H×W×3 uint8 placed left to right (W × len(panels) wide)."""
    return np.concatenate(panels, axis=1)


class FileSink:
    """Writes outputs with ``VideoWriter`` (video file or PNG sequence), atomically.

    ``compose(result) -> image`` chooses what is written (default: the output; ``side_by_side``
    writes input | output).  ``encode_ms`` collects the time of each write.
    """

    def __init__(self, path: str | os.PathLike, width: int, height: int, fps: float, *,
                 audio_from: str | os.PathLike | None = None, crf: int = 18,
                 compose: Callable[[FrameResult], np.ndarray] | None = None, keep_times: bool = True) -> None:
        from .video import VideoWriter

        self.writer = VideoWriter(path, width, height, fps, audio_from=audio_from, crf=crf)
        self.compose = compose or (lambda r: r.output)
        self.keep_times = keep_times
        self.encode_ms: list[float] = []

    def write(self, result: FrameResult) -> None:
        t0 = time.perf_counter()
        self.writer.write(self.compose(result), result.frame.time if self.keep_times else None)
        self.encode_ms.append((time.perf_counter() - t0) * 1000.0)

    def close(self) -> None:
        self.writer.close()

    def abort(self) -> None:
        self.writer.abort()


def input_and_output(result: FrameResult) -> np.ndarray:
    """``compose`` for a side-by-side file: input | output (no labels)."""
    return side_by_side(result.frame.image, result.output)


def label(image: np.ndarray, text: str) -> np.ndarray:
    """``image`` (H×W×3 uint8) with ``text`` written in its top-left corner, white on a band
    darkened to a third (a new array; the band is the text's size plus a few pixels, clipped to
    the image).  Characters outside ASCII, which the font lacks, are written as ``?``."""
    import cv2

    text = text.encode("ascii", "replace").decode("ascii")
    out = image.copy()
    scale = max(0.35, image.shape[0] / 600)
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    out[: h + base + 6, : w + 8] //= 3
    cv2.putText(out, text, (4, h + 3), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def labelled_input_and_output(output_label: str) -> Callable[[FrameResult], np.ndarray]:
    """``compose`` for a side-by-side file like the demo's: input | output, the panels labelled
    "input" and ``output_label`` (e.g. "candy, frame-diff")."""

    def compose(result: FrameResult) -> np.ndarray:
        return side_by_side(label(result.frame.image, "input"), label(result.output, output_label))

    return compose


class MemorySink:
    """Keeps every output image in ``images`` (and the results in ``results`` when asked)."""

    def __init__(self, keep_results: bool = False) -> None:
        self.images: list[np.ndarray] = []
        self.results: list[FrameResult] = []
        self.keep_results = keep_results
        self.closed = self.aborted = False

    def write(self, result: FrameResult) -> None:
        self.images.append(result.output)
        if self.keep_results:
            self.results.append(result)

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True


class Tee:
    """Writes every result to each of several sinks; closes and aborts them all."""

    def __init__(self, sinks: Sequence) -> None:
        self.sinks = list(sinks)

    def write(self, result: FrameResult) -> None:
        for sink in self.sinks:
            sink.write(result)

    def close(self) -> None:
        errors = []
        for sink in self.sinks:
            try:
                sink.close()
            except BaseException as exc:  # close the others, then report the first failure
                errors.append(exc)
        if errors:
            raise errors[0]

    def abort(self) -> None:
        for sink in self.sinks:
            try:
                sink.abort()
            except Exception:
                pass


_STOP = object()
_ABORT = object()


class Background:
    """Runs ``sink`` in its own thread.

    ``newest_only=False`` (files): a queue of ``depth`` results; ``write`` blocks when it is full,
    so no frame is lost and memory stays bounded.  ``newest_only=True`` (window, virtual camera):
    a queue of one; a result not yet taken is replaced by the newer one and counted in
    ``dropped``.  An error in the sink thread is raised by the next ``write`` or by ``close``.
    """

    def __init__(self, sink, depth: int = 4, newest_only: bool = False) -> None:
        self.sink = sink
        self.newest_only = newest_only
        self.dropped = 0
        self._queue: queue.Queue[object] = queue.Queue(maxsize=1 if newest_only else max(1, depth))
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="steadystyle-sink", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP or item is _ABORT:
                self._end(item)
                return
            if self._error is not None:
                continue  # drain after a failure
            try:
                self.sink.write(item)
            except BaseException as exc:
                self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def write(self, result: FrameResult) -> None:
        self._raise()
        if not self.newest_only:
            while True:
                try:
                    self._queue.put(result, timeout=0.1)
                    return
                except queue.Full:
                    self._raise()
        try:
            self._queue.put_nowait(result)
        except queue.Full:
            try:
                self._queue.get_nowait()
                self.dropped += 1
            except queue.Empty:
                pass
            self._queue.put_nowait(result)

    def _end(self, how: object) -> None:
        """Close (or abort) the sink in its own thread: GUI sinks must be closed where they drew."""
        try:
            if how is _STOP and self._error is None:
                self.sink.close()
            else:
                self.sink.abort()
        except BaseException as exc:
            if how is _STOP and self._error is None:
                self._error = exc

    def close(self) -> None:
        if not self._thread.is_alive():
            self._raise()
            self.sink.close()
            return
        self._queue.put(_STOP)
        self._thread.join()
        self._raise()

    def abort(self) -> None:
        if not self._thread.is_alive():
            self.sink.abort()
            return
        if self.newest_only:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                pass
        self._queue.put(_ABORT)
        self._thread.join()
        self._error = None


VIRTUAL_CAMERA_SIZES = ((640, 480), (1280, 720))


def virtual_camera_help() -> str:
    """The exact fix for a missing virtual-camera backend on this OS, one line."""
    system = platform.system()
    if system == "Linux":
        return ('load v4l2loopback: sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label="steadystyle" '
                "(package v4l2loopback-dkms)")
    if system == "Windows":
        return "install OBS Studio (28+) and start its virtual camera once, or install Unity Capture"
    if system == "Darwin":
        return "install OBS Studio (30+) and start its virtual camera once to install the camera extension"
    return "no virtual-camera backend is known for this system"


class VirtualCameraSink:
    """Sends results to a virtual camera (pyvirtualcam) that Zoom, Meet or Teams can pick.

    Output is at a standard landscape size (640×480 or 1280×720, the smallest that holds the
    frame), letterboxed, whatever the working size.  A missing backend is a one-line error with
    the fix for this OS; a ``send`` that raises stops the run with a one-line error.
    ``camera_factory`` replaces ``pyvirtualcam.Camera`` in tests.
    """

    def __init__(self, fps: float = 30.0, size: tuple[int, int] | None = None,
                 camera_factory: Callable[..., object] | None = None) -> None:
        if camera_factory is None:
            try:
                import pyvirtualcam
            except ImportError:
                raise SteadyStyleError('--virtual-camera needs pyvirtualcam: pip install "steadystyle[live]"') from None
            camera_factory = pyvirtualcam.Camera
        self.fps = fps
        self.size = size
        self.factory = camera_factory
        self.camera = None
        self.sent = 0

    def _open(self, h: int, w: int) -> None:
        if self.size is None:
            self.size = next(((cw, ch) for cw, ch in VIRTUAL_CAMERA_SIZES if cw >= w and ch >= h), (1280, 720))
        try:
            self.camera = self.factory(width=self.size[0], height=self.size[1], fps=self.fps)
        except RuntimeError as exc:
            reason = " ".join(str(exc).split())
            raise SteadyStyleError(f"no virtual camera available ({reason[:200]}); {virtual_camera_help()}") from None

    def write(self, result: FrameResult) -> None:
        image = result.output
        if self.camera is None:
            self._open(*image.shape[:2])
        try:
            self.camera.send(letterbox(image, *self.size))
        except (RuntimeError, OSError) as exc:
            raise SteadyStyleError(f"the virtual camera stopped taking frames ({' '.join(str(exc).split())[:200]})") from None
        self.sent += 1

    def close(self) -> None:
        if self.camera is not None:
            self.camera.close()
            self.camera = None

    abort = close


__all__ = ["side_by_side", "FileSink", "input_and_output", "label", "labelled_input_and_output", "MemorySink", "Tee", "Background", "WindowSink",
           "VirtualCameraSink", "virtual_camera_help", "letterbox", "VIRTUAL_CAMERA_SIZES"]

from .window import WindowSink  # noqa: E402  (the live window; re-exported for existing imports)
from .fit import letterbox  # noqa: E402  (re-exported for existing imports)
