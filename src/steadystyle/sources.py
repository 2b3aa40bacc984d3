"""Where frames come from: files, image sequences, arrays, cameras — and how they are handed over.

A source is an iterable of :class:`Frame`.  Two wrappers put the reading in its own thread:

- :class:`ReadAhead` (files): decodes up to ``depth`` frames ahead, never drops one, so decoding
  overlaps the network;
- :class:`Newest` (cameras, paced replays): keeps only the newest frame — a slow consumer gets
  the latest picture and the skipped ones are counted in ``dropped``; latency never builds up.

A reader thread's exception (a lost camera, a corrupt file) is raised again in the consumer.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from .errors import SteadyStyleError


@dataclass
class Frame:
    """One input frame.

    image: H×W×3 uint8 RGB.  time: presentation time in seconds from the start of the stream.
    index: 0-based position in the source.  captured: ``time.perf_counter()`` when the frame
    became available (camera read, decode), for end-to-end latency.
    """

    image: np.ndarray
    time: float
    index: int
    captured: float = field(default_factory=time.perf_counter)


class FileSource:
    """Frames of a video file, folder of images or printf pattern (via ``VideoReader``).

    ``info`` (a ``VideoInfo``) is known once constructed; ``decode_ms`` collects the decode time
    of each frame.  Close it (or use ``with``) to release the file.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        from .video import VideoReader

        if os.path.exists(path) and not os.access(path, os.R_OK):
            raise SteadyStyleError(f"{path}: not readable")
        self.path = path
        self.reader = VideoReader(path)
        self.info = self.reader.info
        self.decode_ms: list[float] = []

    def __iter__(self) -> Iterator[Frame]:
        frames = iter(self.reader)
        while True:
            t0 = time.perf_counter()
            item = next(frames, None)
            t1 = time.perf_counter()
            if item is None:
                return
            self.decode_ms.append((t1 - t0) * 1000.0)
            yield Frame(item.image, item.time, item.index, t1)

    def close(self) -> None:
        self.reader.close()

    def __enter__(self) -> FileSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ArraySource:
    """Frames from an iterable of H×W×3 uint8 RGB arrays at ``fps`` frames per second."""

    def __init__(self, images: Iterable[np.ndarray], fps: float = 25.0) -> None:
        self.images = images
        self.fps = float(fps)

    def __iter__(self) -> Iterator[Frame]:
        for i, image in enumerate(self.images):
            yield Frame(image, i / self.fps, i)


_END = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Threaded:
    """Runs ``source`` in a daemon thread; subclasses decide how frames are handed over."""

    def __init__(self, source: Iterable[Frame], name: str) -> None:
        self.source = source
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, name=name, daemon=True)
        self._started = False

    def _put(self, item: object) -> None:
        raise NotImplementedError

    def _get(self) -> object:
        raise NotImplementedError

    def _pump(self) -> None:
        try:
            for frame in self.source:
                if self._stop.is_set():
                    break
                self._put(frame)
        except BaseException as exc:  # handed to the consumer
            self._put(_Failure(exc))
            return
        self._put(_END)

    def __iter__(self) -> Iterator[Frame]:
        if not self._started:
            self._started = True
            self._thread.start()
        while True:
            item = self._get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]

    def close(self) -> None:
        """Stop the reader thread and close the wrapped source."""
        self._stop.set()
        self._drain()
        if self._started:
            self._thread.join(timeout=5)
        close = getattr(self.source, "close", None)
        if close is not None:
            close()

    def _drain(self) -> None:
        pass


class ReadAhead(_Threaded):
    """Reads up to ``depth`` frames ahead in a thread; blocks when full, never drops a frame."""

    def __init__(self, source: Iterable[Frame], depth: int = 4) -> None:
        super().__init__(source, "steadystyle-read-ahead")
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, depth))

    def _put(self, item: object) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _get(self) -> object:
        return self._queue.get()

    def _drain(self) -> None:
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass


class Newest(_Threaded):
    """Keeps only the newest frame of a live source; a frame replaced before it was taken counts
    as ``dropped``.  A slow consumer always gets the latest picture (a queue of one).

    Two ways to feed it: wrap a ``source`` (a reader thread pumps it), or — where frames arrive
    by callback, as from a WebRTC track — give none and call :meth:`put` for each frame and
    :meth:`end` when the stream is over (both safe from any thread, and they never wait on the
    consumer).  Items are handed over as they were put (a :class:`Frame`, or any frame-like
    object a pushing producer chooses).
    """

    def __init__(self, source: Iterable[Frame] | None = None) -> None:
        super().__init__(source if source is not None else (), "steadystyle-capture")
        self._pushed = source is None
        self._cond = threading.Condition()
        self._frame: object | None = None
        self._end: object | None = None  # _END or a _Failure, delivered after the last frame
        self.dropped = 0
        self.delivered = 0

    def put(self, frame: object) -> None:
        """Hand over ``frame`` as the newest; an untaken older one is dropped (counted)."""
        with self._cond:
            if self._end is not None:
                return
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self._cond.notify()

    def end(self, error: BaseException | None = None) -> None:
        """No more frames: the consumer gets the frame still held, then the stream ends (raising
        ``error`` when given)."""
        self._put(_END if error is None else _Failure(error))

    def _put(self, item: object) -> None:
        if item is _END or isinstance(item, _Failure):
            with self._cond:
                if self._end is None:
                    self._end = item
                self._cond.notify_all()
        else:
            self.put(item)

    def __iter__(self) -> Iterator[Frame]:
        if self._pushed:
            self._started = True  # no reader thread: frames come through put()
        return super().__iter__()

    def close(self) -> None:
        """Stop the reader thread (or, when fed by :meth:`put`, end the stream)."""
        if self._pushed:
            self._stop.set()
            self.end()
            return
        super().close()

    def _get(self) -> object:
        with self._cond:
            while self._frame is None and self._end is None:
                self._cond.wait()
            if self._frame is not None:
                frame, self._frame = self._frame, None
                self.delivered += 1
                return frame
            return self._end


class Paced:
    """Replays frames at their own timestamps, as a camera would deliver them.

    Each frame is released when its presentation time (relative to the first) has passed on the
    wall clock; combined with :class:`Newest`, a consumer that falls behind loses frames instead
    of building up delay.  ``speed`` > 1 plays faster.  ``captured`` is stamped on release.
    """

    def __init__(self, source: Iterable[Frame], speed: float = 1.0,
                 clock: Callable[[], float] = time.perf_counter, sleep: Callable[[float], None] = time.sleep) -> None:
        if not speed > 0:
            raise SteadyStyleError(f"replay speed must be > 0 (got {speed})")
        self.source = source
        self.speed = speed
        self.clock = clock
        self.sleep = sleep

    def __iter__(self) -> Iterator[Frame]:
        start: float | None = None
        t_first = 0.0
        for frame in self.source:
            if start is None:
                start, t_first = self.clock(), frame.time
            due = start + (frame.time - t_first) / self.speed
            wait = due - self.clock()
            if wait > 0:
                self.sleep(wait)
            frame.captured = self.clock()
            yield frame

    def close(self) -> None:
        close = getattr(self.source, "close", None)
        if close is not None:
            close()


class CameraSource:
    """Frames from a camera through OpenCV ``VideoCapture`` (MJPG at the requested size).

    Raises a one-line :class:`SteadyStyleError` naming the camera when it cannot be opened, and
    when it stops delivering frames mid-call (``lost_after`` failed reads in a row).
    """

    def __init__(self, index: int = 0, size: tuple[int, int] | None = None, fps: float | None = None,
                 lost_after: int = 30, capture_factory: Callable[[int], object] | None = None) -> None:
        import cv2

        from .video.quiet import quiet_opencv

        quiet_opencv()  # a missing camera is our one line, not OpenCV's warnings
        self.index = index
        self.lost_after = lost_after
        self.capture = (capture_factory or cv2.VideoCapture)(index)
        if not self.capture.isOpened():
            self.capture.release()
            raise SteadyStyleError(f"camera {index} could not be opened (is it connected and not used by another "
                                   f"program? try --camera N with another number)")
        self.capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
        if size:
            self.capture.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
            self.capture.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
        if fps:
            self.capture.set(cv2.CAP_PROP_FPS, fps)
        self.fps = float(self.capture.get(cv2.CAP_PROP_FPS) or 30.0) or 30.0
        self._closed = False

    def __iter__(self) -> Iterator[Frame]:
        import cv2

        start = time.perf_counter()
        index = failures = 0
        while not self._closed:
            ok, bgr = self.capture.read()
            now = time.perf_counter()
            if not ok or bgr is None:
                failures += 1
                if failures >= self.lost_after:
                    raise SteadyStyleError(f"camera {self.index} stopped delivering frames")
                time.sleep(0.01)
                continue
            failures = 0
            yield Frame(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), now - start, index, now)
            index += 1

    def close(self) -> None:
        self._closed = True
        self.capture.release()


def file_fps(info) -> float:
    """Frames per second of a ``VideoInfo`` as a float (25 when unknown)."""
    fps = info.fps if info.fps else Fraction(25)
    return float(fps)


__all__ = ["Frame", "FileSource", "ArraySource", "ReadAhead", "Newest", "Paced", "CameraSource", "file_fps"]
