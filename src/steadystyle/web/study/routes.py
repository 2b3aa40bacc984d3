"""The study's web routes on the ``steadystyle serve`` application.

Participants: ``/study`` (the game), ``POST /api/study/join``, ``GET /api/study/next``,
``POST /api/study/vote``, ``/study/media/{trial}/{left|right}``.  Results (``/study/results``,
``/api/study/results``) are shown to a participant who voted on every pair
(``?participant=ID``), and to the experimenter with ``?key=`` the key printed at start; the CSV
exports need the key.  Database work runs off the event loop.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...errors import SteadyStyleError
from ..config import BadRequest, loads_strict
from .stats import results_csv, votes_csv
from .votes import Study, StudyError

STATIC = Path(__file__).resolve().parent.parent / "static"
MAX_VOTE_BYTES = 4096


def may_see_results(study: Study, query: Any) -> bool:
    """Whether the request's ``key`` is the experimenter's, or its ``participant`` finished."""
    key = query.get("key")
    if isinstance(key, str) and hmac.compare_digest(key, study.key):
        return True
    participant = query.get("participant")
    if participant:
        try:
            return study.finished(participant)
        except StudyError:
            return False
    return False


def add_study_routes(app: Any, study: Study) -> None:
    """The game and the results on an aiohttp application."""
    from aiohttp import web

    def error(exc: SteadyStyleError) -> web.Response:
        return web.json_response({"error": str(exc)}, status=getattr(exc, "status", 400))

    async def off_loop(function: Callable, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, function, *args)

    async def results_allowed(request: web.Request) -> None:
        if not await off_loop(may_see_results, study, request.query):
            raise StudyError(f"the results are shown once you have voted on all {len(study.pairs)} pairs", 403)

    async def page(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "study.html")

    async def results_page(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "results.html")

    async def join(request: web.Request) -> web.Response:
        return web.json_response({"participant": await off_loop(study.join), "pairs": len(study.pairs)})

    async def next_trial(request: web.Request) -> web.Response:
        try:
            return web.json_response(await off_loop(study.next_trial, request.query.get("participant", ""),
                                                    request.query.get("round") or None))
        except SteadyStyleError as exc:
            return error(exc)

    async def vote(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_VOTE_BYTES:
            return web.json_response({"error": "a vote is at most 4 KB"}, status=413)
        body = await request.content.read(MAX_VOTE_BYTES + 1)
        if len(body) > MAX_VOTE_BYTES:
            return web.json_response({"error": "a vote is at most 4 KB"}, status=413)
        try:
            data = loads_strict(body.decode("utf-8"), "a vote")
        except UnicodeDecodeError:
            return web.json_response({"error": "a vote is a JSON object"}, status=400)
        except BadRequest as exc:
            return web.json_response({"error": str(exc)}, status=400)
        try:
            return web.json_response(await off_loop(study.vote, data))
        except SteadyStyleError as exc:
            return error(exc)

    async def media(request: web.Request) -> web.StreamResponse:
        try:
            path = await off_loop(study.media, request.match_info["trial"], request.match_info["side"])
        except SteadyStyleError as exc:
            return error(exc)
        return web.FileResponse(path, headers={"Cache-Control": "no-store"})

    async def results(request: web.Request) -> web.Response:
        try:
            await results_allowed(request)
        except SteadyStyleError as exc:
            return error(exc)
        data = await off_loop(study.results)
        return web.json_response({**data, "style": study.manifest.get("style"), "clips": study.manifest.get("clips")})

    async def export(request: web.Request, make: Callable[[], str], name: str) -> web.Response:
        key = request.query.get("key")
        if not (isinstance(key, str) and hmac.compare_digest(key, study.key)):
            return error(StudyError("the exports need the experimenter's key (printed when the server started)", 403))
        return web.Response(text=await off_loop(make), content_type="text/csv",
                            headers={"Content-Disposition": f"attachment; filename={name}"})

    async def export_votes(request: web.Request) -> web.Response:
        return await export(request, lambda: votes_csv(study.votes()), "votes.csv")

    async def export_results(request: web.Request) -> web.Response:
        return await export(request, lambda: results_csv(study.results()), "results.csv")

    app.router.add_get("/study", page)
    app.router.add_get("/study/results", results_page)
    app.router.add_get("/study/votes.csv", export_votes)
    app.router.add_get("/study/results.csv", export_results)
    app.router.add_get("/study/media/{trial}/{side}", media)
    app.router.add_post("/api/study/join", join)
    app.router.add_get("/api/study/next", next_trial)
    app.router.add_post("/api/study/vote", vote)
    app.router.add_get("/api/study/results", results)


__all__ = ["add_study_routes", "may_see_results"]
