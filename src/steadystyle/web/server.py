"""``steadystyle serve``: the video call in a browser, over WebRTC (aiohttp + aiortc).

The page takes the user's camera, posts an SDP offer to ``POST /offer`` (as in aiortc's server
example) and shows the stylized stream coming back beside the camera.  Per peer connection
(:class:`CallSession`) the server keeps:

- a *reader task* that drains the remote video track as fast as frames arrive and keeps only the
  newest one (aiortc queues every decoded frame; a slow consumer would otherwise build up delay
  without end — aiortc #1192, #639, #642);
- one *worker thread* that runs the frame loop's per-frame step, a
  :class:`~steadystyle.loop.Processor` with this connection's own stabilizer, on the newest
  frame only (the newest-frame hand-off of :class:`~steadystyle.sources.Newest`, here fed by a
  track instead of a reader thread); inference never runs on the event loop;
- an output track (:class:`StylizedTrack`) that, each time a camera frame arrives, returns the
  newest stylized picture stamped with that camera frame's pts — one fixed output size per track;
- a :class:`~aiortc.contrib.media.MediaBlackhole` consuming any audio track (aiortc #554).

Controls (style, method, strength, preserve colours, processing size) come over the data
channel or ``POST /api/session/{id}/control``; statistics (fps, capture→send latency, network
time, dropped frames) go back over the data channel twice a second.  Bad requests get a 4xx
with ``{"error": ...}`` and never disturb other connections.  A closed tab (DTLS close, data
channel close, ICE failure) frees its connection, thread and stabilizer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from aiohttp import web
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaBlackhole
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame

from ..errors import SteadyStyleError
from ..loop import FrameResult, Processor
from ..sources import Frame
from ..stabilize.base import get_method, make_stabilizer, method_names
from ..stats import percentiles
from ..stylizer import resize_image

log = logging.getLogger("steadystyle.serve")

STATIC_DIR = Path(__file__).parent / "static"
MAX_OFFER_BYTES = 64 * 1024  # a browser offer is a few KB
MAX_CONTROL_BYTES = 4 * 1024
DEFAULT_SIZES = ("160x120", "320x240", "480x360", "640x480")
CONTROL_KEYS = ("style", "method", "strength", "preserve_colors", "size")


class BadRequest(SteadyStyleError):
    """A client error: ``status`` is the HTTP status to answer with (400 unless told)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def json_error(message: str, status: int = 400) -> web.Response:
    """A 4xx/5xx answer with ``{"error": message}``."""
    return web.json_response({"error": message}, status=status)


def parse_size(text: Any, allowed: tuple[str, ...]) -> tuple[int, int]:
    """``"WxH"`` (one of ``allowed``) → (width, height); :class:`BadRequest` otherwise."""
    if not isinstance(text, str) or text not in allowed:
        raise BadRequest(f"size must be one of {', '.join(allowed)} (got {text!r})")
    w, h = (int(v) for v in text.split("x"))
    return w, h


@dataclass
class ServerConfig:
    """What the server offers.

    styles: style names the page may pick (shipped names or, as values of ``style_files``, model
    paths).  stylizer_factory: builds a stylizer from a style name (default: the live backend
    picker on ``backend``/``device``).  max_sessions: connections served at once (more get 503).
    connect_timeout: seconds a new connection may take to connect before it is dropped.
    """

    styles: list[str] = field(default_factory=list)
    style: str | None = None
    method: str = "frame-diff"
    size: str = "320x240"
    sizes: tuple[str, ...] = DEFAULT_SIZES
    backend: str = "auto"
    device: str = "auto"
    max_sessions: int = 4
    connect_timeout: float = 30.0
    stylizer_factory: Callable[[str], Any] | None = None
    study_dir: str | None = None

    def __post_init__(self) -> None:
        if not self.styles:
            from ..styles import list_styles

            self.styles = [s["name"] for s in list_styles()]
        if not self.styles:
            raise SteadyStyleError("no styles to serve; install the shipped styles or pass --style")
        self.style = self.style or ("scream" if "scream" in self.styles else self.styles[0])
        if self.style not in self.styles:
            raise SteadyStyleError(f"default style {self.style!r} is not among the served styles")
        get_method(self.method)
        if self.size not in self.sizes:
            raise SteadyStyleError(f"size must be one of {', '.join(self.sizes)}")


class StylizerCache:
    """One stylizer per style name, shared by all connections (the networks hold no per-stream
    state); loading runs off the event loop."""

    def __init__(self, factory: Callable[[str], Any]) -> None:
        self.factory = factory
        self._items: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Any:
        with self._lock:
            if name not in self._items:
                self._items[name] = self.factory(name)
            return self._items[name]

    async def aget(self, name: str) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, self.get, name)


def check_controls(data: Any, config: ServerConfig) -> dict[str, Any]:
    """Validate a control message (all keys optional) → normalized values; :class:`BadRequest`
    naming the first bad key otherwise."""
    if not isinstance(data, dict):
        raise BadRequest("controls must be a JSON object")
    unknown = sorted(set(data) - set(CONTROL_KEYS) - {"type"})
    if unknown:
        raise BadRequest(f"unknown control {unknown[0]!r}; known: {', '.join(CONTROL_KEYS)}")
    out: dict[str, Any] = {}
    if "style" in data:
        if data["style"] not in config.styles:
            raise BadRequest(f"unknown style {data['style']!r}; choose {', '.join(config.styles)}")
        out["style"] = data["style"]
    if "method" in data:
        if not isinstance(data["method"], str) or data["method"] not in method_names():
            raise BadRequest(f"unknown method {data['method']!r}; choose {', '.join(method_names())}")
        out["method"] = data["method"]
    if "strength" in data:
        value = data["strength"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadRequest(f"strength must be a number from 0 to 1 (got {value!r})")
        from ..color import check_strength

        try:
            out["strength"] = check_strength(value)
        except SteadyStyleError as exc:
            raise BadRequest(str(exc)) from None
    if "preserve_colors" in data:
        if not isinstance(data["preserve_colors"], bool):
            raise BadRequest("preserve_colors must be true or false")
        out["preserve_colors"] = data["preserve_colors"]
    if "size" in data:
        parse_size(data["size"], config.sizes)
        out["size"] = data["size"]
    return out


def check_sdp(sdp: str) -> None:
    """The shape of an SDP offer (RFC 8866): ``v=0`` first, ``x=value`` lines, a media section;
    aiortc checks the rest.  :class:`BadRequest` ("malformed offer") otherwise."""
    lines = [line for line in sdp.replace("\r\n", "\n").split("\n") if line]
    if not lines or lines[0] != "v=0":
        raise BadRequest("malformed offer: an SDP starts with 'v=0'")
    for number, line in enumerate(lines, 1):
        if len(line) < 2 or line[1] != "=" or not line[0].isalpha():
            raise BadRequest(f"malformed offer: SDP line {number} is not 'x=value': {line[:40]!r}")
    if not any(line.startswith("m=") for line in lines):
        raise BadRequest("malformed offer: the SDP has no media section")


class CallSession:
    """One browser tab's call: newest-frame hand-off from the reader task to one worker thread
    running ``processor``; the output track sends the newest result at the camera's pace."""

    WINDOW_S = 2.0  # statistics window

    def __init__(self, sid: str, pc: RTCPeerConnection, processor: Processor, controls: dict[str, Any]) -> None:
        self.id = sid
        self.pc = pc
        self.processor = processor
        self.controls = dict(controls)
        self.work_size = parse_size(controls["size"], (controls["size"],))
        self.out_size = self.work_size  # fixed for the track's life (aiortc #24)
        self.closed = False
        self.error: str | None = None
        self.channel: Any = None
        self.blackhole: MediaBlackhole | None = None
        self.tasks: list[asyncio.Task] = []
        self.created = time.monotonic()
        # hand-off between the reader task and the worker thread
        self._cond = threading.Condition()
        self._input: tuple[VideoFrame, float, float] | None = None
        self._result: tuple[np.ndarray, float, int] | None = None
        self._worker = threading.Thread(target=self._work, name=f"steadystyle-call-{sid}", daemon=True)
        # pacing of the output track (event loop only)
        self.arrivals = 0
        self.input_ended = False
        self._arrival = asyncio.Event()
        self.pts: int = 0
        self.time_base: Any = None
        # statistics
        self.dropped = 0
        self.processed = 0
        self.sent = 0
        self._arrived_at: deque[float] = deque(maxlen=2000)
        self._processed_at: deque[tuple[float, float]] = deque(maxlen=2000)  # (time, network ms)
        self._sent_at: deque[tuple[float, float]] = deque(maxlen=2000)  # (time, capture→send ms)

    # -- reader task (event loop) ------------------------------------------------------------
    async def read(self, track: MediaStreamTrack) -> None:
        """Drain the camera track, keeping only the newest frame for the worker."""
        try:
            while not self.closed:
                frame = await track.recv()
                now = time.perf_counter()
                self.pts, self.time_base = frame.pts or 0, frame.time_base
                t = float(frame.pts * frame.time_base) if frame.pts is not None and frame.time_base else now
                with self._cond:
                    if self._input is not None:
                        self.dropped += 1
                    self._input = (frame, now, t)
                    self._cond.notify()
                self._arrived_at.append(now)
                self.arrivals += 1
                self._arrival.set()
        except MediaStreamError:
            pass
        finally:
            self.input_ended = True
            self._arrival.set()

    async def next_arrival(self, seen: int) -> int:
        """Wait until a camera frame newer than arrival number ``seen`` came in."""
        while self.arrivals <= seen:
            if self.input_ended or self.closed:
                raise MediaStreamError
            self._arrival.clear()
            await self._arrival.wait()
        return self.arrivals

    # -- worker thread -------------------------------------------------------------------------
    def start(self) -> None:
        self._worker.start()

    def _work(self) -> None:
        index = 0
        while True:
            with self._cond:
                while self._input is None and not self.closed:
                    self._cond.wait()
                if self.closed:
                    return
                frame, arrived, t = self._input  # type: ignore[misc]
                self._input = None
            w, h = self.work_size
            try:
                image = frame.to_ndarray(format="rgb24", width=w, height=h)
                result: FrameResult = self.processor.process(Frame(image, t, index, arrived))
            except Exception as exc:  # a failing stylizer must not kill the call silently
                self.error = f"{type(exc).__name__}: {exc}"
                log.warning("call %s: %s", self.id, self.error)
                continue
            out = result.output
            ow, oh = self.out_size
            if out.shape[1] != ow or out.shape[0] != oh:
                out = resize_image(out, ow, oh)
            with self._cond:
                self._result = (out, arrived, index)
                self.processed += 1
                self._processed_at.append((time.perf_counter(), result.stylize_ms))
            index += 1

    def newest_result(self) -> tuple[np.ndarray, float, int] | None:
        with self._cond:
            return self._result

    def record_sent(self, arrived: float) -> float:
        now = time.perf_counter()
        latency = (now - arrived) * 1000.0
        self.sent += 1
        self._sent_at.append((now, latency))
        return latency

    # -- controls --------------------------------------------------------------------------------
    async def apply(self, controls: dict[str, Any], stylizers: StylizerCache) -> dict[str, Any]:
        """Apply validated controls (from :func:`check_controls`); returns the current controls."""
        if "style" in controls and controls["style"] != self.controls["style"]:
            self.processor.set_stylizer(await stylizers.aget(controls["style"]))
        if "method" in controls and controls["method"] != self.controls["method"]:
            self.processor.set_stabilizer(make_stabilizer(controls["method"]))
        if "strength" in controls:
            self.processor.set_strength(controls["strength"])
        if "preserve_colors" in controls:
            self.processor.set_preserve_colors(controls["preserve_colors"])
        if "size" in controls:
            self.work_size = parse_size(controls["size"], (controls["size"],))
        self.controls.update(controls)
        return dict(self.controls)

    # -- statistics ------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """fps in (camera), processed (network) and out (sent), capture→send latency percentiles
        and network ms over the last :attr:`WINDOW_S` seconds; totals since the start."""
        now = time.perf_counter()
        since = now - self.WINDOW_S
        arrived = [t for t in list(self._arrived_at) if t >= since]
        processed = [(t, ms) for t, ms in list(self._processed_at) if t >= since]
        sent = [(t, ms) for t, ms in list(self._sent_at) if t >= since]
        network = [ms for _, ms in processed if ms > 0]
        return {
            "type": "stats", "session": self.id,
            "fps_in": round(len(arrived) / self.WINDOW_S, 1),
            "fps_processed": round(len(processed) / self.WINDOW_S, 1),
            "fps_out": round(len(sent) / self.WINDOW_S, 1),
            "latency_ms": percentiles([ms for _, ms in sent]),
            "network_ms": round(sum(network) / len(network), 1) if network else None,
            "dropped": self.dropped, "processed": self.processed, "sent": self.sent,
            "controls": dict(self.controls), "size": f"{self.work_size[0]}x{self.work_size[1]}",
            "error": self.error,
        }

    # -- shutdown --------------------------------------------------------------------------------
    async def close(self) -> None:
        """Free everything: worker thread, tasks, audio sink, peer connection (idempotent)."""
        if self.closed:
            return
        self.closed = True
        with self._cond:
            self._input = None
            self._cond.notify_all()
        self._arrival.set()
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()
        if self.blackhole is not None:
            await self.blackhole.stop()
        await self.pc.close()
        if self._worker.is_alive():
            await asyncio.get_running_loop().run_in_executor(None, self._worker.join, 5.0)
        with self._cond:
            self._result = None

    @property
    def worker_alive(self) -> bool:
        return self._worker.is_alive()


class StylizedTrack(MediaStreamTrack):
    """The outgoing video: at each camera frame's arrival, the newest stylized picture stamped
    with that frame's pts (so a slow network repeats a picture instead of queueing frames)."""

    kind = "video"

    def __init__(self, session: CallSession) -> None:
        super().__init__()
        self.session = session
        self._seen = 0

    async def recv(self) -> VideoFrame:
        s = self.session
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            self._seen = await s.next_arrival(self._seen)
            result = s.newest_result()
            if result is None:
                continue  # nothing stylized yet: wait for the next camera frame
            image, arrived, _ = result
            frame = VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = s.pts, s.time_base
            s.record_sent(arrived)
            return frame


class CallServer:
    """The aiohttp application: signalling, controls, the pages, and the open sessions."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        factory = config.stylizer_factory or self._default_factory
        self.stylizers = StylizerCache(factory)
        self.sessions: dict[str, CallSession] = {}
        self.study: Any = None
        if config.study_dir is not None:
            from .study import Study

            self.study = Study.open(config.study_dir)

    def _default_factory(self, name: str) -> Any:
        from ..live import make_stylizer

        return make_stylizer(name, self.config.backend, self.config.device)

    # -- app ---------------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_OFFER_BYTES, middlewares=[_json_errors])
        app.router.add_get("/", self.index)
        app.router.add_get("/api/config", self.get_config)
        app.router.add_get("/api/status", self.get_status)
        app.router.add_post("/offer", self.offer)
        app.router.add_post("/api/session/{sid}/control", self.control)
        app.router.add_get("/api/session/{sid}/stats", self.session_stats)
        app.router.add_delete("/api/session/{sid}", self.delete_session)
        app.router.add_static("/static/", STATIC_DIR, name="static")
        if self.study is not None:
            from .study import add_study_routes

            add_study_routes(app, self.study)
        app.on_shutdown.append(self._shutdown)
        return app

    async def _shutdown(self, app: web.Application) -> None:
        await asyncio.gather(*(s.close() for s in list(self.sessions.values())), return_exceptions=True)
        self.sessions.clear()

    # -- handlers ----------------------------------------------------------------------------
    async def index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC_DIR / "call.html")

    async def get_config(self, request: web.Request) -> web.Response:
        c = self.config
        return web.json_response({"styles": c.styles, "style": c.style, "methods": method_names(),
                                  "method": c.method, "sizes": list(c.sizes), "size": c.size,
                                  "study": self.study is not None})

    async def get_status(self, request: web.Request) -> web.Response:
        return web.json_response({"sessions": len(self.sessions), "max_sessions": self.config.max_sessions,
                                  "worker_threads": sum(s.worker_alive for s in self.sessions.values()),
                                  "threads": threading.active_count()})

    async def _read_json(self, request: web.Request, limit: int) -> Any:
        if request.content_length is not None and request.content_length > limit:
            raise BadRequest(f"request body too large (at most {limit} bytes)", 413)
        body = await request.content.read(limit + 1)
        if len(body) > limit:
            raise BadRequest(f"request body too large (at most {limit} bytes)", 413)
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequest(f"request body is not valid JSON ({exc})") from None

    async def offer(self, request: web.Request) -> web.Response:
        """``{"sdp", "type": "offer", [controls]}`` → ``{"sdp", "type": "answer", "session"}``."""
        data = await self._read_json(request, MAX_OFFER_BYTES)
        if not isinstance(data, dict):
            raise BadRequest("the offer must be a JSON object with 'sdp' and 'type'")
        if data.get("type") != "offer":
            raise BadRequest(f"'type' must be \"offer\" (got {data.get('type')!r})")
        sdp = data.get("sdp")
        if not isinstance(sdp, str) or not sdp.strip():
            raise BadRequest("'sdp' must be a non-empty string")
        check_sdp(sdp)
        requested = check_controls({k: v for k, v in data.items() if k not in ("sdp", "type")}, self.config)
        if len(self.sessions) >= self.config.max_sessions:
            raise BadRequest(f"server busy: {self.config.max_sessions} calls already running", 503)
        c = self.config
        controls = {"style": c.style, "method": c.method, "strength": 1.0, "preserve_colors": False,
                    "size": c.size, **requested}
        stylizer = await self.stylizers.aget(controls["style"])
        processor = Processor(stylizer, make_stabilizer(controls["method"]), strength=controls["strength"],
                              preserve_colors=controls["preserve_colors"])
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # no STUN: loopback/LAN, no outside calls
        sid = secrets.token_hex(8)
        session = CallSession(sid, pc, processor, controls)
        videos: list[MediaStreamTrack] = []

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video" and not videos:
                videos.append(track)
                pc.addTrack(StylizedTrack(session))
                session.tasks.append(asyncio.ensure_future(session.read(track)))
            else:  # audio (or a second video): consume it, or aiortc's queues grow (#554)
                if session.blackhole is None:
                    session.blackhole = MediaBlackhole()
                session.blackhole.addTrack(track)

        @pc.on("datachannel")
        def on_datachannel(channel: Any) -> None:
            session.channel = channel

            @channel.on("message")
            def on_message(message: Any) -> None:
                asyncio.ensure_future(self._channel_message(session, channel, message))

            @channel.on("close")
            def on_close() -> None:
                asyncio.ensure_future(self.close_session(sid))

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self.close_session(sid)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            if not videos:
                raise BadRequest("the offer has no video track (send the camera)")
            answer = await pc.createAnswer()
            await pc.setLocalDescription(answer)
        except BadRequest:
            await session.close()
            raise
        except Exception as exc:  # aiortc raises ValueError and others on malformed SDP
            await session.close()
            raise BadRequest(f"malformed offer: {type(exc).__name__}: {exc}") from None
        self.sessions[sid] = session
        session.start()
        if session.blackhole is not None:
            await session.blackhole.start()
        session.tasks.append(asyncio.ensure_future(self._stats_loop(session)))
        session.tasks.append(asyncio.ensure_future(self._connect_watchdog(session)))
        log.info("call %s: %s, %s, %s", sid, controls["style"], controls["method"], controls["size"])
        return web.json_response({"sdp": pc.localDescription.sdp, "type": pc.localDescription.type,
                                  "session": sid, "controls": controls})

    async def _channel_message(self, session: CallSession, channel: Any, message: Any) -> None:
        try:
            if not isinstance(message, str) or len(message) > MAX_CONTROL_BYTES:
                raise BadRequest("control messages are JSON text of at most 4 KB")
            try:
                data = json.loads(message)
            except json.JSONDecodeError as exc:
                raise BadRequest(f"control message is not valid JSON ({exc})") from None
            if isinstance(data, dict) and data.get("type") == "bye":
                await self.close_session(session.id)
                return
            controls = await session.apply(check_controls(data, self.config), self.stylizers)
            reply = {"type": "controls", "controls": controls, "id": data.get("id") if isinstance(data, dict) else None}
        except SteadyStyleError as exc:
            reply = {"type": "error", "error": str(exc)}
        if channel.readyState == "open":
            channel.send(json.dumps(reply))

    async def _stats_loop(self, session: CallSession) -> None:
        while not session.closed:
            await asyncio.sleep(0.5)
            channel = session.channel
            if channel is not None and channel.readyState == "open":
                channel.send(json.dumps(session.stats()))

    async def _connect_watchdog(self, session: CallSession) -> None:
        await asyncio.sleep(self.config.connect_timeout)
        if session.pc.connectionState != "connected" and not session.closed:
            log.info("call %s: never connected, dropped", session.id)
            await self.close_session(session.id)

    def _session(self, request: web.Request) -> CallSession:
        session = self.sessions.get(request.match_info["sid"])
        if session is None:
            raise BadRequest(f"no call with id {request.match_info['sid']!r}", 404)
        return session

    async def control(self, request: web.Request) -> web.Response:
        session = self._session(request)
        data = await self._read_json(request, MAX_CONTROL_BYTES)
        controls = await session.apply(check_controls(data, self.config), self.stylizers)
        return web.json_response({"controls": controls})

    async def session_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self._session(request).stats())

    async def delete_session(self, request: web.Request) -> web.Response:
        session = self._session(request)
        await self.close_session(session.id)
        return web.json_response({"closed": session.id})

    async def close_session(self, sid: str) -> None:
        """Close call ``sid`` and forget it once its resources are freed (idempotent)."""
        session = self.sessions.get(sid)
        if session is not None and not session.closed:
            await session.close()
            self.sessions.pop(sid, None)
            log.info("call %s: closed", sid)


@web.middleware
async def _json_errors(request: web.Request, handler: Callable) -> web.StreamResponse:
    """Client errors as JSON; anything unexpected as a JSON 500 (the server keeps serving)."""
    try:
        return await handler(request)
    except BadRequest as exc:
        return json_error(str(exc), exc.status)
    except SteadyStyleError as exc:
        return json_error(str(exc), 400)
    except web.HTTPRequestEntityTooLarge:
        return json_error(f"request body too large (at most {MAX_OFFER_BYTES} bytes)", 413)
    except web.HTTPException as exc:
        if exc.status >= 400:
            return json_error(exc.reason or "error", exc.status)
        raise
    except Exception as exc:  # noqa: BLE001 - reported, not fatal to the server
        log.exception("unexpected error on %s", request.path)
        return json_error(f"internal error: {type(exc).__name__}", 500)


def ssl_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    """An HTTPS context from a certificate and key (both or neither)."""
    if not cert and not key:
        return None
    if not (cert and key):
        raise SteadyStyleError("--cert and --key go together")
    for path in (cert, key):
        if not Path(path).is_file():
            raise SteadyStyleError(f"{path}: no such file")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        raise SteadyStyleError(f"cannot load {cert} / {key}: {exc}") from None
    return context


def has_ice_address() -> bool:
    """Whether aiortc can gather an ICE candidate here: aioice skips 127.0.0.1, so a machine
    whose only interface is loopback cannot connect a call, even to a browser on the same machine."""
    from aioice.ice import get_host_addresses

    return bool(get_host_addresses(use_ipv4=True, use_ipv6=True))


def serve(config: ServerConfig, host: str = "127.0.0.1", port: int = 8080, cert: str | None = None,
          key: str | None = None) -> None:
    """Run the server until Ctrl-C."""
    context = ssl_context(cert, key)
    server = CallServer(config)
    scheme = "https" if context else "http"
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    print(f"steadystyle serve: open {scheme}://{shown}:{port}/ (Ctrl-C stops)"
          + (f"; study at {scheme}://{shown}:{port}/study" if server.study is not None else ""), flush=True)
    if host not in ("127.0.0.1", "localhost", "::1") and context is None:
        print("note: browsers give the camera only to https:// or localhost pages; use --cert/--key", flush=True)
    if not has_ice_address():
        print("warning: this machine has no network interface but loopback, and aiortc gathers no ICE candidate "
              "on 127.0.0.1: calls will not connect (the study works)", flush=True)
    web.run_app(server.app(), host=host, port=port, ssl_context=context, print=None)


__all__ = ["ServerConfig", "CallServer", "CallSession", "StylizedTrack", "BadRequest", "check_controls", "serve",
           "ssl_context", "has_ice_address", "MAX_OFFER_BYTES"]
