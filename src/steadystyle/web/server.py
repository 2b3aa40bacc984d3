"""``steadystyle serve``: the video call in a browser, over WebRTC (aiohttp + aiortc).

The page takes the user's camera, posts an SDP offer to ``POST /offer`` (as in aiortc's server
example) and shows the stylized stream coming back beside the camera.  This module is the
application — signalling, controls, pages, the open calls and their limit; each call is a
:class:`~steadystyle.web.session.CallSession` (the one frame loop in a worker thread), the
requests are checked in :mod:`steadystyle.web.config`, ICE stays on the serving interface
(:mod:`steadystyle.web.ice`), and the study's routes live in :mod:`steadystyle.web.study`.

Controls (style, method, strength, steadiness, face detail, preserve colours, processing size)
come over the data channel or ``POST /api/session/{id}/control`` and are queued for the call's
worker; statistics (fps, capture→send latency, network time, dropped frames) go back over the
data channel twice a second.  Bad requests get a 4xx with ``{"error": ...}`` and never disturb other calls; a
state-changing request from a foreign ``Origin`` gets 403.  A closed tab (DTLS close, data
channel close, ICE failure) frees its connection, thread and stabilizer.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import logging
import secrets
import socket
import ssl
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaBlackhole

from ..errors import SteadyStyleError
from ..stabilize.base import method_names
from .config import (MAX_CONTROL_BYTES, MAX_OFFER_BYTES, BadRequest, ServerConfig, check_controls, check_offer,
                     faces_available, loads_strict, parse_json)
from .ice import gather_on, ice_policy, keep_candidates
from .origin import check_origin
from .memory import pin_mmap_threshold
from .session import CallSession, StylizedTrack
from .stylizers import StylizerCache

log = logging.getLogger("steadystyle.serve")

STATIC_DIR = Path(__file__).parent / "static"


def json_error(message: str, status: int = 400) -> web.Response:
    """A 4xx/5xx answer with ``{"error": message}``."""
    return web.json_response({"error": message}, status=status)


class CallServer:
    """The aiohttp application: signalling, controls, the pages, and the open calls.

    At most ``config.max_sessions`` calls run at once: an offer takes its place (checked and
    reserved with no ``await`` in between, so concurrent offers cannot overshoot) before any
    slow step, and gives it back if it fails.

    So that a long call's memory stays flat (:mod:`steadystyle.web.memory`, docs/web-call.md),
    creating one pins the C allocator's mmap threshold (its OpenVINO stylizers bound their shape
    cache themselves).
    """

    def __init__(self, config: ServerConfig) -> None:
        pin_mmap_threshold()  # before any stylizer or call allocates: picture buffers mmapped, given back whole
        self.config = config
        self.stylizers = StylizerCache(lambda name: config.spec_for(name).stylizer())
        self.sessions: dict[str, CallSession] = {}
        self._reserved: set[str] = set()
        self.ice = ice_policy(config.host, config.ice_peers)
        self.study: Any = None
        if config.study_dir is not None:
            from .study import Study

            self.study = Study.open(config.study_dir)

    # -- app ---------------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_OFFER_BYTES, middlewares=[_json_errors, self._origin])
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
        app.on_startup.append(self._startup)
        app.on_shutdown.append(self._shutdown)
        return app

    async def _startup(self, app: web.Application) -> None:
        self.stylizers.prepare([self.config.style])  # the first call need not wait for it

    async def _shutdown(self, app: web.Application) -> None:
        await asyncio.gather(*(s.close() for s in list(self.sessions.values())), return_exceptions=True)
        self.sessions.clear()

    @web.middleware
    async def _origin(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        addresses = self.ice.addresses
        check_origin(request, loopback=addresses is not None and all(a in ("127.0.0.1", "::1") for a in addresses))
        return await handler(request)

    # -- handlers ----------------------------------------------------------------------------
    async def index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC_DIR / "call.html")

    async def get_config(self, request: web.Request) -> web.Response:
        c = self.config
        return web.json_response({"styles": list(c.styles), "style": c.style, "methods": method_names(),
                                  "method": c.run.method, "sizes": list(c.sizes), "size": c.size,
                                  "gather_timeout_s": c.gather_timeout, "study": self.study is not None,
                                  "controls": c.start_controls(), "faces": faces_available()})

    async def get_status(self, request: web.Request) -> web.Response:
        return web.json_response({"sessions": len(self.sessions), "max_sessions": self.config.max_sessions,
                                  "worker_threads": sum(s.worker_alive for s in self.sessions.values()),
                                  "threads": threading.active_count()})

    async def _read_json(self, request: web.Request, limit: int) -> Any:
        if request.content_length is not None and request.content_length > limit:
            raise BadRequest(f"request body too large (at most {limit} bytes)", 413)
        return parse_json(await request.content.read(limit + 1), limit)

    def _reserve(self, sid: str) -> None:
        """Take a call slot for ``sid`` or refuse with 503 — synchronous, so atomic on the loop."""
        if len(self.sessions) + len(self._reserved) >= self.config.max_sessions:
            raise BadRequest(f"server busy: {self.config.max_sessions} calls already running", 503)
        self._reserved.add(sid)

    async def offer(self, request: web.Request) -> web.Response:
        """``{"sdp", "type": "offer", [controls]}`` → ``{"sdp", "type": "answer", "session"}``."""
        sdp, requested = check_offer(await self._read_json(request, MAX_OFFER_BYTES), self.config)
        sid = secrets.token_hex(8)
        self._reserve(sid)
        session: CallSession | None = None
        try:
            controls = {**self.config.start_controls(), **requested}
            stylizer = await self.stylizers.get(controls["style"])
            spec = self.config.spec_for(controls["style"]).replace(
                method=controls["method"], strength=controls["strength"], steadiness=controls["steadiness"],
                face_detail=controls["face_detail"], preserve_colors=controls["preserve_colors"])
            with gather_on(self.ice):
                pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # no STUN: no outside calls
                session = CallSession(sid, pc, spec, stylizer, controls, on_failure=self._on_failure)
                self._wire(session)
                answer = await self._answer(session, sdp)
            if session.closed:
                raise BadRequest("the call ended while it was being set up")
            self.sessions[sid] = session
        except BaseException:
            if session is not None:
                await session.close()
            raise
        finally:
            self._reserved.discard(sid)
        session.start()
        if session.blackhole is not None:
            await session.blackhole.start()
        session.tasks.append(asyncio.ensure_future(self._stats_loop(session)))
        session.tasks.append(asyncio.ensure_future(self._connect_watchdog(session)))
        log.info("call %s: %s, %s, %s", sid, controls["style"], controls["method"], controls["size"])
        return web.json_response({"sdp": answer.sdp, "type": answer.type, "session": sid, "controls": controls})

    def _wire(self, session: CallSession) -> None:
        """The peer connection's event handlers for ``session``."""
        pc, sid, videos = session.pc, session.id, session.videos

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

    async def _answer(self, session: CallSession, sdp: str) -> Any:
        """Set the (filtered) offer, create and set the answer; :class:`BadRequest` on a bad offer."""
        pc = session.pc
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=keep_candidates(sdp, self.ice), type="offer"))
            if not session.videos:
                raise BadRequest("the offer has no video track (send the camera)")
            await pc.setLocalDescription(await pc.createAnswer())
        except BadRequest:
            raise
        except Exception as exc:  # aiortc raises ValueError and others on malformed SDP
            raise BadRequest(f"malformed offer: {type(exc).__name__}: {exc}") from None
        return pc.localDescription

    async def _channel_message(self, session: CallSession, channel: Any, message: Any) -> None:
        def send(reply: dict[str, Any]) -> None:
            if channel.readyState == "open":
                channel.send(json.dumps(reply))

        try:
            if not isinstance(message, str) or len(message) > MAX_CONTROL_BYTES:
                raise BadRequest("control messages are JSON text of at most 4 KB")
            data = loads_strict(message, "control message")
            if isinstance(data, dict) and data.get("type") == "bye":
                await self.close_session(session.id)
                return
            controls = await session.change(check_controls(data, self.config), self.stylizers, send)
            reply = {"type": "controls", "controls": controls, "id": data.get("id")}
        except SteadyStyleError as exc:
            reply = {"type": "error", "error": str(exc)}
        send(reply)

    async def _on_failure(self, session: CallSession) -> None:
        """The call's loop failed: tell the page, then end the call."""
        channel = session.channel
        if channel is not None and channel.readyState == "open":
            channel.send(json.dumps({"type": "error", "error": f"the call ended: {session.error}"}))
        await self.close_session(session.id)

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
        controls = await session.change(check_controls(data, self.config), self.stylizers)
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
        return json_error(str(exc), getattr(exc, "status", 400))
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


def serve(config: ServerConfig, port: int = 8080, cert: str | None = None, key: str | None = None) -> None:
    """Run the server on ``config.host``:``port`` until Ctrl-C.  The port is bound first, before
    anything heavy starts: a port in use (or an address not on this machine) is one line."""
    sock = listen_socket(config.host, port)
    try:
        context = ssl_context(cert, key)
        server = CallServer(config)
    except BaseException:
        sock.close()
        raise
    port = sock.getsockname()[1]
    host = config.host
    scheme = "https" if context else "http"
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    print(f"steadystyle serve: open {scheme}://{shown}:{port}/ (Ctrl-C stops)"
          + (f"; study at {scheme}://{shown}:{port}/study" if server.study is not None else ""), flush=True)
    if server.study is not None:
        print(f"study results for you (the key is new each start): "
              f"{scheme}://{shown}:{port}/study/results?key={server.study.key}", flush=True)
    if host not in ("127.0.0.1", "localhost", "::1") and context is None:
        print("note: browsers give the camera only to https:// or localhost pages; use --cert/--key", flush=True)
    web.run_app(server.app(), sock=sock, ssl_context=context, print=None)


def listen_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` and listening (``port`` 0: a free one);
    :class:`SteadyStyleError` in one line when the port is in use or the address cannot be had."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise SteadyStyleError(f"--host {host}: not an address of this machine ({exc})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT only, not a live server
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise SteadyStyleError(f"--port {port}: port {port} is in use on {host}; stop what holds it or "
                                   f"choose another --port") from None
        if exc.errno == errno.EACCES:
            raise SteadyStyleError(f"--port {port}: not allowed to listen on port {port} (ports below 1024 "
                                   f"need privileges); choose another --port") from None
        raise SteadyStyleError(f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc})") from None
    sock.setblocking(False)
    return sock


__all__ = ["ServerConfig", "CallServer", "CallSession", "StylizedTrack", "BadRequest", "check_controls", "serve",
           "ssl_context", "listen_socket", "MAX_OFFER_BYTES"]
