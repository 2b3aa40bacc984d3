"""The user-study game: pairs of stylized clips of the same input, people pick the steadier video
(stability round) or the better-looking frame (quality round) — as the frame-difference loss
authors did (62 people, 25,600 votes).

- :func:`prepare` makes the stimuli with :func:`~steadystyle.pipeline.stylize_video`, one video
  per clip and method (every registered method works), plus one still frame per video (the same
  frame index for every method) for the quality round, and writes ``study.json``.
- :class:`Study` stores votes in one SQLite file in WAL mode (a connection per request, so
  several participants can vote at once) and computes the results: per round type, each method's
  win rate with a Wilson 95 % confidence interval and, with more than two methods, a
  Bradley–Terry ranking.
- :func:`add_study_routes` serves the game (``/study``), the results (``/study/results``) and the
  CSV exports on the ``steadystyle serve`` application.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import os
import random
import re
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import SteadyStyleError

ROUNDS = ("stability", "quality")
PROMPTS = {"stability": "Which video is steadier — less flicker, less crawling texture?",
           "quality": "Which picture looks better?"}
MANIFEST = "study.json"
DATABASE = "votes.sqlite"
Z95 = 1.959963984540054  # two-sided 95 % normal quantile


# ---------------------------------------------------------------------------------------------
# statistics


def wilson_interval(wins: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for a proportion ``wins / n`` (None when n = 0).

    centre = (p + z²/2n) / (1 + z²/n); half-width = z·√(p(1−p)/n + z²/4n²) / (1 + z²/n).
    """
    if n <= 0:
        return None
    if not 0 <= wins <= n:
        raise ValueError(f"wins must be between 0 and n (got {wins} of {n})")
    p = wins / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _strongly_connected(items: Sequence[str], wins: dict[tuple[str, str], float]) -> bool:
    """Whether every item beat, through a chain of wins, every other (the condition for the
    Bradley–Terry maximum-likelihood estimate to exist, Zermelo/Ford)."""
    def reach(start: str, forward: bool) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            i = todo.pop()
            for j in items:
                edge = (i, j) if forward else (j, i)
                if j not in seen and wins.get(edge, 0) > 0:
                    seen.add(j)
                    todo.append(j)
        return seen

    return not items or (len(reach(items[0], True)) == len(items) == len(reach(items[0], False)))


def bradley_terry(items: Sequence[str], wins: dict[tuple[str, str], float], *, iterations: int = 10000,
                  tolerance: float = 1e-12) -> tuple[dict[str, float], bool]:
    """Bradley–Terry strengths by Hunter's (2004) MM algorithm, normalized to sum to 1.

    ``wins[(i, j)]``: how often ``i`` beat ``j``.  P(i beats j) = p_i / (p_i + p_j).  Where the
    maximum-likelihood estimate does not exist (some method never won, or never lost, against
    the rest), half a win is added in each direction of every compared pair; the second value
    returned says whether that happened.
    """
    items = list(items)
    regularized = not _strongly_connected(items, wins)
    w = dict(wins)
    if regularized:
        for i, j in itertools.permutations(items, 2):
            if wins.get((i, j), 0) + wins.get((j, i), 0) > 0:
                w[(i, j)] = w.get((i, j), 0) + 0.5
    n = {(i, j): w.get((i, j), 0) + w.get((j, i), 0) for i, j in itertools.permutations(items, 2)}
    total = {i: sum(w.get((i, j), 0) for j in items if j != i) for i in items}
    p = {i: 1.0 / len(items) for i in items}
    for _ in range(iterations):
        new = {}
        for i in items:
            denominator = sum(n[(i, j)] / (p[i] + p[j]) for j in items if j != i and n[(i, j)] > 0)
            new[i] = total[i] / denominator if denominator > 0 else p[i]
        s = sum(new.values())
        new = {i: v / s for i, v in new.items()}
        change = max(abs(new[i] - p[i]) for i in items)
        p = new
        if change < tolerance:
            break
    return p, regularized


# ---------------------------------------------------------------------------------------------
# stimuli


@dataclass(frozen=True)
class Pair:
    """Two stimuli of the same clip, made with methods ``a`` and ``b``; files relative to the
    study folder (videos for the stability round, still frames for the quality round)."""

    id: str
    round: str
    clip: str
    a: str
    b: str
    a_file: str
    b_file: str


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "clip"


def prepare(clips: Sequence[str | os.PathLike], methods: Sequence[str], style: str, output: str | os.PathLike, *,
            max_side: int | None = None, device: str = "auto", backend: str = "auto",
            progress: bool = True) -> dict[str, Any]:
    """Make the stimuli in ``output``: ``stimuli/<clip>__<method>.mp4`` and ``.png`` (the middle
    frame), and ``study.json`` listing every pair of methods per clip for both rounds."""
    from ..pipeline import stylize_video
    from ..stabilize.base import get_method
    from ..spec import RunSpec
    from ..video import VideoReader

    methods = list(dict.fromkeys(methods))
    if len(methods) < 2:
        raise SteadyStyleError("a study needs at least two methods to compare")
    for m in methods:
        get_method(m)
    if not clips:
        raise SteadyStyleError("give at least one clip")
    stems = [_slug(Path(str(c)).stem) for c in clips]
    if len(set(stems)) != len(stems):
        raise SteadyStyleError("clip names must differ (they name the stimuli)")
    out = Path(output)
    if (out / MANIFEST).exists():
        raise SteadyStyleError(f"{out / MANIFEST} exists: prepare a new study in an empty folder")
    (out / "stimuli").mkdir(parents=True, exist_ok=True)
    stylizer = RunSpec(style=style, backend=backend, device=device, max_side=max_side).stylizer()
    import cv2

    pairs: list[Pair] = []
    for clip, stem in zip(clips, stems):
        reader = VideoReader(clip)
        count = reader.info.frame_count
        reader.close()
        target = max(0, (count or 1) // 2)
        files: dict[str, tuple[str, str]] = {}
        for method in methods:
            video = f"stimuli/{stem}__{_slug(method)}.mp4"
            still = f"stimuli/{stem}__{_slug(method)}.png"
            kept: dict[str, Any] = {}

            def keep(index: int, image: Any, kept: dict = kept) -> None:
                if index == target or "image" not in kept:
                    kept["image"] = image.copy()

            stylize_video(clip, out / video, stylizer, method, progress=progress, on_frame=keep)
            cv2.imwrite(str(out / still), cv2.cvtColor(kept["image"], cv2.COLOR_RGB2BGR))
            files[method] = (video, still)
        for k, (a, b) in enumerate(itertools.combinations(methods, 2), 1):  # ids do not name the methods
            pairs.append(Pair(f"{stem}-{k}-stability", "stability", stem, a, b, files[a][0], files[b][0]))
            pairs.append(Pair(f"{stem}-{k}-quality", "quality", stem, a, b, files[a][1], files[b][1]))
    manifest = {"style": getattr(stylizer, "name", str(style)), "methods": methods, "clips": stems,
                "quality_frame": "the middle frame of each clip", "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "pairs": [asdict(p) for p in pairs]}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2))
    Study.open(out)  # creates the database
    return manifest


# ---------------------------------------------------------------------------------------------
# votes

PARTICIPANT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Study:
    """A prepared study folder: its pairs and its votes database (SQLite, WAL mode)."""

    def __init__(self, folder: Path, manifest: dict[str, Any]) -> None:
        self.folder = folder
        self.manifest = manifest
        self.pairs = {p["id"]: Pair(**p) for p in manifest["pairs"]}
        self.methods: list[str] = list(manifest["methods"])
        self.db = folder / DATABASE
        with self.connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("""CREATE TABLE IF NOT EXISTS votes (
                id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, participant TEXT NOT NULL,
                round TEXT NOT NULL, pair TEXT NOT NULL, clip TEXT NOT NULL, winner TEXT NOT NULL,
                loser TEXT NOT NULL, left_method TEXT NOT NULL, right_method TEXT NOT NULL)""")
        con.close()

    @classmethod
    def open(cls, folder: str | os.PathLike) -> Study:
        path = Path(folder)
        try:
            manifest = json.loads((path / MANIFEST).read_text())
        except FileNotFoundError:
            raise SteadyStyleError(f"{path}: no {MANIFEST} (make one with 'steadystyle study prepare')") from None
        except json.JSONDecodeError as exc:
            raise SteadyStyleError(f"{path / MANIFEST}: not valid JSON ({exc})") from None
        return cls(path, manifest)

    def connect(self) -> sqlite3.Connection:
        """A new connection (one per request or thread; WAL lets readers and a writer overlap)."""
        con = sqlite3.connect(self.db, timeout=30)
        con.execute("PRAGMA busy_timeout=30000")
        return con

    def journal_mode(self) -> str:
        con = self.connect()
        try:
            return con.execute("PRAGMA journal_mode").fetchone()[0]
        finally:
            con.close()

    def next_pair(self, participant: str, round: str | None = None,
                  rng: random.Random | None = None) -> dict[str, Any]:
        """A pair this participant has seen least (random among those), in random left/right
        order; the page learns the stimuli's URLs, not the methods."""
        check_participant(participant)
        if round is not None and round not in ROUNDS:
            raise SteadyStyleError(f"round must be one of {', '.join(ROUNDS)} (got {round!r})")
        rng = rng or random.Random()
        candidates = [p for p in self.pairs.values() if round is None or p.round == round]
        con = self.connect()
        try:
            seen = dict(con.execute("SELECT pair, COUNT(*) FROM votes WHERE participant=? GROUP BY pair",
                                    (participant,)).fetchall())
            voted = con.execute("SELECT COUNT(*) FROM votes WHERE participant=?", (participant,)).fetchone()[0]
        finally:
            con.close()
        fewest = min(seen.get(p.id, 0) for p in candidates)
        pair = rng.choice([p for p in candidates if seen.get(p.id, 0) == fewest])
        left = rng.choice("ab")
        right = "b" if left == "a" else "a"
        kind = "video" if pair.round == "stability" else "image"
        return {"pair": pair.id, "round": pair.round, "prompt": PROMPTS[pair.round], "kind": kind, "left": left,
                "media": {"left": f"/study/media/{pair.id}/{left}", "right": f"/study/media/{pair.id}/{right}"},
                "votes_so_far": voted, "pairs": len(self.pairs)}

    def media(self, pair_id: str, side: str) -> Path:
        pair = self.pairs.get(pair_id)
        if pair is None or side not in ("a", "b"):
            raise StudyError(f"no stimulus {pair_id!r}/{side!r}", 404)
        return self.folder / (pair.a_file if side == "a" else pair.b_file)

    def vote(self, data: Any) -> dict[str, Any]:
        """Store one vote: ``{"participant", "pair", "round", "left": "a"|"b", "choice": "left"|"right"}``."""
        if not isinstance(data, dict):
            raise StudyError("a vote is a JSON object")
        participant = data.get("participant")
        check_participant(participant)
        pair = self.pairs.get(data.get("pair")) if isinstance(data.get("pair"), str) else None
        if pair is None:
            raise StudyError(f"unknown pair {data.get('pair')!r}", 404)
        if data.get("round", pair.round) != pair.round:
            raise StudyError(f"pair {pair.id!r} belongs to the {pair.round} round, not {data.get('round')!r}")
        left, choice = data.get("left"), data.get("choice")
        if left not in ("a", "b"):
            raise StudyError("'left' must be \"a\" or \"b\" (which stimulus was shown on the left)")
        if choice not in ("left", "right"):
            raise StudyError("'choice' must be \"left\" or \"right\"")
        left_method, right_method = (pair.a, pair.b) if left == "a" else (pair.b, pair.a)
        winner, loser = (left_method, right_method) if choice == "left" else (right_method, left_method)
        con = self.connect()
        try:
            with con:
                con.execute("INSERT INTO votes (time, participant, round, pair, clip, winner, loser, left_method, "
                            "right_method) VALUES (?,?,?,?,?,?,?,?,?)",
                            (time.time(), participant, pair.round, pair.id, pair.clip, winner, loser, left_method,
                             right_method))
            count = con.execute("SELECT COUNT(*) FROM votes").fetchone()[0]
        finally:
            con.close()
        return {"stored": True, "votes": count}

    def votes(self) -> list[dict[str, Any]]:
        con = self.connect()
        con.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in con.execute("SELECT * FROM votes ORDER BY id")]
        finally:
            con.close()

    def results(self) -> dict[str, Any]:
        """Per round: each method's wins, comparisons, win rate and Wilson 95 % CI; head-to-head
        counts; a Bradley–Terry ranking when more than two methods are in play."""
        return results_from_votes(self.votes(), self.methods)


class StudyError(SteadyStyleError):
    """A bad study request (HTTP ``status``)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def check_participant(participant: Any) -> None:
    if not isinstance(participant, str) or not PARTICIPANT.match(participant):
        raise StudyError("participant must be 1–64 letters, digits, '-' or '_'")


def results_from_votes(votes: Iterable[dict[str, Any]], methods: Sequence[str]) -> dict[str, Any]:
    """The results of :meth:`Study.results` from vote rows (``round``, ``winner``, ``loser``)."""
    votes = list(votes)
    out: dict[str, Any] = {"methods": list(methods), "votes": len(votes), "rounds": {}}
    for rnd in ROUNDS:
        rows = [v for v in votes if v["round"] == rnd]
        wins: dict[tuple[str, str], int] = {}
        for v in rows:
            wins[(v["winner"], v["loser"])] = wins.get((v["winner"], v["loser"]), 0) + 1
        table = []
        for m in methods:
            won = sum(c for (w, _), c in wins.items() if w == m)
            lost = sum(c for (_, l), c in wins.items() if l == m)
            n = won + lost
            ci = wilson_interval(won, n)
            table.append({"method": m, "wins": won, "comparisons": n, "win_rate": won / n if n else None,
                          "ci_low": ci[0] if ci else None, "ci_high": ci[1] if ci else None})
        entry: dict[str, Any] = {"votes": len(rows), "methods": table,
                                 "head_to_head": [{"winner": w, "loser": l, "count": c}
                                                  for (w, l), c in sorted(wins.items())]}
        if len(methods) > 2 and rows:
            scores, regularized = bradley_terry(methods, wins)
            order = sorted(methods, key=lambda m: -scores[m])
            entry["bradley_terry"] = {"scores": scores, "ranking": order, "regularized": regularized}
            for row in table:
                row["bt_score"] = scores[row["method"]]
                row["bt_rank"] = order.index(row["method"]) + 1
        out["rounds"][rnd] = entry
    return out


def votes_csv(votes: Iterable[dict[str, Any]]) -> str:
    buf = io.StringIO()
    fields = ["id", "time", "participant", "round", "pair", "clip", "winner", "loser", "left_method", "right_method"]
    writer = csv.DictWriter(buf, fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(votes)
    return buf.getvalue()


def results_csv(results: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["round", "method", "wins", "comparisons", "win_rate", "ci95_low", "ci95_high", "bt_score",
                     "bt_rank"])
    for rnd, entry in results["rounds"].items():
        for row in entry["methods"]:
            def fmt(v: Any) -> Any:
                return "" if v is None else (f"{v:.6f}" if isinstance(v, float) else v)

            writer.writerow([rnd, row["method"], row["wins"], row["comparisons"], fmt(row["win_rate"]),
                             fmt(row["ci_low"]), fmt(row["ci_high"]), fmt(row.get("bt_score")),
                             fmt(row.get("bt_rank"))])
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# web


def add_study_routes(app: Any, study: Study) -> None:
    """The game and the results on an aiohttp application."""
    import asyncio

    from aiohttp import web

    static = Path(__file__).parent / "static"

    def error(exc: SteadyStyleError) -> web.Response:
        return web.json_response({"error": str(exc)}, status=getattr(exc, "status", 400))

    async def page(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(static / "study.html")

    async def results_page(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(static / "results.html")

    async def next_pair(request: web.Request) -> web.Response:
        try:
            return web.json_response(study.next_pair(request.query.get("participant", ""),
                                                     request.query.get("round") or None))
        except SteadyStyleError as exc:
            return error(exc)

    async def vote(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > 4096:
            return web.json_response({"error": "a vote is at most 4 KB"}, status=413)
        try:
            data = json.loads((await request.content.read(4097)).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return web.json_response({"error": "a vote is a JSON object"}, status=400)
        try:
            stored = await asyncio.get_running_loop().run_in_executor(None, study.vote, data)
        except SteadyStyleError as exc:
            return error(exc)
        return web.json_response(stored)

    async def media(request: web.Request) -> web.StreamResponse:
        try:
            return web.FileResponse(study.media(request.match_info["pair"], request.match_info["side"]))
        except SteadyStyleError as exc:
            return error(exc)

    async def results(request: web.Request) -> web.Response:
        data = await asyncio.get_running_loop().run_in_executor(None, study.results)
        return web.json_response({**data, "style": study.manifest.get("style"), "clips": study.manifest.get("clips")})

    async def export_votes(request: web.Request) -> web.Response:
        text = votes_csv(await asyncio.get_running_loop().run_in_executor(None, study.votes))
        return web.Response(text=text, content_type="text/csv",
                            headers={"Content-Disposition": "attachment; filename=votes.csv"})

    async def export_results(request: web.Request) -> web.Response:
        text = results_csv(await asyncio.get_running_loop().run_in_executor(None, study.results))
        return web.Response(text=text, content_type="text/csv",
                            headers={"Content-Disposition": "attachment; filename=results.csv"})

    app.router.add_get("/study", page)
    app.router.add_get("/study/results", results_page)
    app.router.add_get("/study/votes.csv", export_votes)
    app.router.add_get("/study/results.csv", export_results)
    app.router.add_get("/study/media/{pair}/{side}", media)
    app.router.add_get("/api/study/next", next_pair)
    app.router.add_post("/api/study/vote", vote)
    app.router.add_get("/api/study/results", results)


__all__ = ["wilson_interval", "bradley_terry", "prepare", "Study", "Pair", "StudyError", "results_from_votes",
           "votes_csv", "results_csv", "add_study_routes", "ROUNDS"]
