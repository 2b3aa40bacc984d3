"""One browser tab's call: the one frame loop between a WebRTC track and the outgoing video.

Per peer connection (:class:`CallSession`):

- a *reader task* (event loop) drains the camera track as fast as frames arrive and
  :meth:`~steadystyle.sources.Newest.put`\\ s each into a :class:`~steadystyle.sources.Newest`
  — aiortc queues every decoded frame, so a slow consumer would otherwise build up delay
  without end (aiortc #1192, #639, #642); the frames it replaces are counted as dropped;
- one *worker thread* runs :func:`steadystyle.loop.run` on that source, with this call's own
  :class:`~steadystyle.loop.Processor` (its own stabilizer, and its own view of the shared
  stylizer: :func:`~steadystyle.web.stylizers.stream_view`), a
  :class:`NewestResult` sink and the live observer :class:`~steadystyle.stats.FrameLog`
  (bounded: :class:`CallLog`).
  Control changes are queued and applied by the worker between two frames, so a control never
  waits on a running network pass and no call ever waits on another;
- an output track (:class:`StylizedTrack`) that sends each stylized picture once, as soon as the
  worker has it (woken through the event loop), stamped with the pts of the camera frame it was
  painted from — one fixed size per track.  A picture is never sent twice: a style slower than
  the camera costs VP8 encoding (here) and decoding (in the browser) only for the pictures it
  makes, and a picture does not wait for the next camera frame to leave;
- a :class:`~aiortc.contrib.media.MediaBlackhole` consuming any audio track (aiortc #554).

When the loop fails (a stylizer error), the call ends: ``on_failure`` is scheduled on the event
loop with the error in :attr:`CallSession.error`, as :func:`~steadystyle.loop.run` ends a live
run on the first error.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from aiortc import MediaStreamTrack, RTCPeerConnection
from aiortc.contrib.media import MediaBlackhole
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame

from ..backends.base import Stylizer
from ..loop import FrameResult, LoopSummary, run
from ..sources import Frame, Newest
from ..spec import RunSpec
from ..stats import FrameLog, percentiles
from ..stylizer import resize_image
from .config import parse_size
from .stylizers import StylizerCache, stream_view

log = logging.getLogger("steadystyle.serve")


@dataclass
class Arrival:
    """A camera frame as the reader task got it: the decoded picture (any size), when it arrived
    (``time.perf_counter()``) and its presentation time (s)."""

    picture: VideoFrame
    arrived: float
    time: float


class CallLog(FrameLog):
    """The live :class:`~steadystyle.stats.FrameLog`, bounded for a call that runs for hours:
    it keeps the last ``keep`` frames (trimmed in halves, so appending stays O(1) on average).
    Thread-safe between the worker (``on_frame``) and the event loop (:meth:`recent`)."""

    def __init__(self, keep: int = 4096) -> None:
        super().__init__()
        self.keep = keep
        self.total = 0  # frames logged since the start
        self._lock = threading.Lock()

    def on_frame(self, result: FrameResult) -> None:
        with self._lock:
            super().on_frame(result)
            self.total += 1
            if len(self.done) > 2 * self.keep:
                for values in (self.foreground, self.stylize_ms, self.stabilize_ms, self.latency_ms, self.done):
                    del values[:-self.keep]

    def recent(self, since: float) -> tuple[int, list[float]]:
        """(frames done at or after ``since``, their network ms) — ``time.perf_counter()`` seconds."""
        with self._lock:
            first = bisect.bisect_left(self.done, since)
            return len(self.done) - first, self.stylize_ms[first:len(self.done)]


class NewestResult:
    """The loop's sink for a call: keeps the newest output, scaled to the track's fixed size.

    ``newest()`` → (H×W×3 uint8 picture, capture time of its camera frame, frame index) or None;
    ``latest()`` → (results written so far, that picture, its camera frame's presentation time s)
    or None.  ``notify`` (any thread's callable, or None) is called after each write and at the
    end, from the writing thread.
    """

    def __init__(self, size: tuple[int, int], notify: Callable[[], None] | None = None) -> None:
        self.size = size  # (width, height) of the outgoing track
        self.notify = notify
        self._lock = threading.Lock()
        self._newest: tuple[np.ndarray, float, int, float] | None = None  # + camera presentation time, s
        self.count = 0  # results written
        self.ended = False

    def write(self, result: FrameResult) -> None:
        out = result.output
        w, h = self.size
        if out.shape[1] != w or out.shape[0] != h:
            out = resize_image(out, w, h)
        with self._lock:
            self._newest = (out, result.frame.captured, result.frame.index, result.frame.time)
            self.count += 1
        self._notify()

    def newest(self) -> tuple[np.ndarray, float, int] | None:
        with self._lock:
            return None if self._newest is None else self._newest[:3]

    def latest(self) -> tuple[int, np.ndarray, float, float] | None:
        with self._lock:
            if self._newest is None:
                return None
            picture, captured, _, shown = self._newest
            return self.count, picture, captured, shown

    def _notify(self) -> None:
        if self.notify is not None:
            self.notify()

    def close(self) -> None:
        self.ended = True
        self._notify()

    def abort(self) -> None:
        self.ended = True
        self._notify()

    def clear(self) -> None:
        with self._lock:
            self._newest = None


class CallSession:
    """One call: track → :class:`Newest` → ``loop.run`` in a worker thread → :class:`NewestResult`.

    spec: this call's run (style, method, strength, steadiness, face detail, colours; the stylizer
    is passed built, shared by all calls).  controls: the page's view of them (style name,
    method, strength, steadiness, face_detail, preserve_colors, size ``WxH``).  on_failure: awaited on the event loop when the loop fails.
    """

    WINDOW_S = 2.0  # statistics window (s)

    def __init__(self, sid: str, pc: RTCPeerConnection, spec: RunSpec, stylizer: Stylizer,
                 controls: dict[str, Any], on_failure: Callable[[CallSession], Awaitable[None]] | None = None) -> None:
        self.id = sid
        self.pc = pc
        self.spec = spec
        self.processor = spec.processor(stylizer=stream_view(stylizer))
        self.controls = dict(controls)
        self.work_size = parse_size(controls["size"], (controls["size"],))
        self._event_loop = asyncio.get_running_loop()
        self._result = asyncio.Event()  # set (on the event loop) when the worker wrote a result
        self.frames = Newest()  # fed by the reader task
        # the track's size is fixed for its life (aiortc #24)
        self.sink = NewestResult(self.work_size, notify=self._wake_sender)
        self.log = CallLog()
        self.summary: LoopSummary | None = None
        self.closed = False
        self.error: str | None = None
        self.preparing: str | None = None  # a style being built for this call
        self.channel: Any = None
        self.videos: list[MediaStreamTrack] = []  # the camera track (the first video the offer sends)
        self.blackhole: MediaBlackhole | None = None
        self.tasks: list[asyncio.Task] = []
        self.on_failure = on_failure
        self._changes: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._wanted_style = controls["style"]
        self._worker = threading.Thread(target=self._work, name=f"steadystyle-call-{sid}", daemon=True)
        # statistics of the track ends (event loop only)
        self.arrivals = 0
        self.input_ended = False
        self.pts: int = 0
        self.time_base: Any = None
        self.sent = 0
        self._arrived_at: deque[float] = deque(maxlen=2000)
        self._sent_at: deque[tuple[float, float]] = deque(maxlen=2000)  # (time, capture→send ms)

    # -- reader task (event loop) ------------------------------------------------------------
    async def read(self, track: MediaStreamTrack) -> None:
        """Drain the camera track into :attr:`frames` (newest only)."""
        try:
            while not self.closed:
                picture = await track.recv()
                now = time.perf_counter()
                self.pts, self.time_base = picture.pts or 0, picture.time_base
                t = float(picture.pts * picture.time_base) if picture.pts is not None and picture.time_base else now
                self.frames.put(Arrival(picture, now, t))
                self._arrived_at.append(now)
                self.arrivals += 1
        except MediaStreamError:
            pass
        finally:
            self.input_ended = True
            self._result.set()

    def _wake_sender(self) -> None:
        """The sink's ``notify`` (worker thread): wake :meth:`next_result` on the event loop."""
        try:
            self._event_loop.call_soon_threadsafe(self._result.set)
        except RuntimeError:  # the event loop is closed (server shut down)
            pass

    async def next_result(self, seen: int) -> tuple[int, np.ndarray, float, float]:
        """Wait until the worker wrote a result after result number ``seen``; returns the newest
        (its number, picture, capture time, camera presentation time s).  Raises
        :class:`~aiortc.mediastreams.MediaStreamError` once the call or its camera ended."""
        while True:
            latest = self.sink.latest()
            if latest is not None and latest[0] > seen:
                return latest
            if self.input_ended or self.closed or self.sink.ended:
                raise MediaStreamError
            self._result.clear()
            await self._result.wait()

    @property
    def dropped(self) -> int:
        """Camera frames replaced before the loop took them."""
        return self.frames.dropped

    # -- worker thread -------------------------------------------------------------------------
    def start(self) -> None:
        self._worker.start()

    def _source(self) -> Iterator[Frame]:
        """The loop's source: the newest arrival as a frame at the processing size; queued
        control changes are applied before each frame."""
        index = 0
        for arrival in self.frames:
            self._apply_changes()
            w, h = self.work_size
            image = arrival.picture.to_ndarray(format="rgb24", width=w, height=h)
            yield Frame(image, arrival.time, index, arrival.arrived)
            index += 1

    def _apply_changes(self) -> None:
        """Apply every queued control change (worker thread, between frames)."""
        while True:
            try:
                change = self._changes.get_nowait()
            except queue.Empty:
                return
            p = self.processor
            if "stylizer" in change:
                p.set_stylizer(change["stylizer"])
            if "method" in change and change["method"] != self.spec.method:
                self.spec = self.spec.replace(method=change["method"])
                p.set_stabilizer(self.spec.stabilizer())
            if "strength" in change:
                p.set_strength(change["strength"])
            if "steadiness" in change:
                p.set_steadiness(change["steadiness"])
            if "face_detail" in change and change["face_detail"] != (p.face.detail if p.face is not None else 0.0):
                p.set_face_detail(change["face_detail"])  # may build the face detector: here, not on the event loop
            if "preserve_colors" in change and change["preserve_colors"] != p.preserve_colors:
                p.set_preserve_colors(change["preserve_colors"])
            if "size" in change:
                self.work_size = parse_size(change["size"], (change["size"],))

    def _work(self) -> None:
        try:
            self.summary = run(self._source(), self.processor, self.sink, [self.log])
        except Exception as exc:  # noqa: BLE001 - the call ends and the page is told
            self.error = f"{type(exc).__name__}: {exc}"
            log.warning("call %s: %s", self.id, self.error)
            if self.on_failure is not None and not self.closed:
                try:
                    asyncio.run_coroutine_threadsafe(self.on_failure(self), self._event_loop)
                except RuntimeError:  # the event loop is gone (server shutting down)
                    pass

    def newest_result(self) -> tuple[np.ndarray, float, int] | None:
        return self.sink.newest()

    def record_sent(self, captured: float) -> float:
        """Count one sent picture; returns its capture→send latency (ms)."""
        now = time.perf_counter()
        latency = (now - captured) * 1000.0
        self.sent += 1
        self._sent_at.append((now, latency))
        return latency

    # -- controls (event loop) -------------------------------------------------------------------
    async def change(self, controls: dict[str, Any], stylizers: StylizerCache,
                     notify: Callable[[dict[str, Any]], None] = lambda message: None) -> dict[str, Any]:
        """Queue validated controls (from :func:`~steadystyle.web.config.check_controls`) for the
        worker; returns the controls as they will be.  A style not built yet is built in a thread
        first (``notify`` gets ``{"type": "preparing", "style": name}`` while the page waits); a
        style overtaken by a newer choice meanwhile is not applied."""
        change = dict(controls)
        name = change.pop("style", None)
        if change:
            self._changes.put(dict(change))
            self.controls.update(change)
        if name is not None and name != self._wanted_style:
            self._wanted_style = name
            if not stylizers.ready(name):
                self.preparing = name
                notify({"type": "preparing", "style": name})
            try:
                stylizer = await stylizers.get(name)
            finally:
                if self.preparing == name:
                    self.preparing = None
            if self._wanted_style == name and not self.closed:
                self._changes.put({"stylizer": stream_view(stylizer)})
                self.controls["style"] = name
        return dict(self.controls)

    # -- statistics ------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """fps in (camera), processed (network) and out (sent), capture→send latency percentiles
        (ms) and mean network ms over the last :attr:`WINDOW_S` seconds; totals since the start."""
        now = time.perf_counter()
        since = now - self.WINDOW_S
        arrived = sum(1 for t in list(self._arrived_at) if t >= since)
        processed, network_ms = self.log.recent(since)
        network = [ms for ms in network_ms if ms > 0]
        sent = [ms for t, ms in list(self._sent_at) if t >= since]
        return {
            "type": "stats", "session": self.id,
            "fps_in": round(arrived / self.WINDOW_S, 1),
            "fps_processed": round(processed / self.WINDOW_S, 1),
            "fps_out": round(len(sent) / self.WINDOW_S, 1),
            "latency_ms": percentiles(sent),
            "network_ms": round(sum(network) / len(network), 1) if network else None,
            "dropped": self.dropped, "processed": self.log.total, "sent": self.sent,
            "controls": dict(self.controls), "size": f"{self.work_size[0]}x{self.work_size[1]}",
            "preparing": self.preparing, "error": self.error,
        }

    # -- shutdown --------------------------------------------------------------------------------
    async def close(self) -> None:
        """Free everything: worker thread, tasks, audio sink, peer connection (idempotent)."""
        if self.closed:
            return
        self.closed = True
        self.frames.close()  # the loop ends after the frame it is on
        self._result.set()
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()
        if self.blackhole is not None:
            await self.blackhole.stop()
        await self.pc.close()
        if self._worker.is_alive():
            await asyncio.get_running_loop().run_in_executor(None, self._worker.join, 5.0)
        self.sink.clear()

    @property
    def worker_alive(self) -> bool:
        return self._worker.is_alive()


class StylizedTrack(MediaStreamTrack):
    """The outgoing video: each stylized picture once, as soon as the worker wrote it, stamped with
    the pts of the camera frame it was painted from (a slow style sends fewer pictures; none is
    repeated and none is queued: a picture overtaken before the encoder asked is skipped)."""

    kind = "video"

    def __init__(self, session: CallSession) -> None:
        super().__init__()
        self.session = session
        self._seen = 0
        self._pts = -1

    async def recv(self) -> VideoFrame:
        s = self.session
        if self.readyState != "live":
            raise MediaStreamError
        self._seen, image, captured, t = await s.next_result(self._seen)
        frame = VideoFrame.from_ndarray(image, format="rgb24")
        pts = int(round(t / s.time_base)) if s.time_base else s.pts
        self._pts = max(pts, self._pts + 1)  # strictly increasing, whatever the camera's stamps
        frame.pts, frame.time_base = self._pts, s.time_base
        s.record_sent(captured)
        return frame


__all__ = ["CallSession", "StylizedTrack", "NewestResult", "CallLog", "Arrival"]
