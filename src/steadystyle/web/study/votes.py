"""The study's votes: a fair and blind game over one SQLite file (WAL mode, a connection per
request, so several participants can vote at once).

- **Participants** are issued by the server (:meth:`Study.join`): a random id, 128 bits.
- **Trials** are issued by the server too (:meth:`Study.next_trial`): for each participant and
  pair the server draws, once, which stimulus goes left, and names the trial with a random token
  — the page learns the token and two media URLs, never the pair, clip, methods or order; asking
  again for the same pair gives the same trial.
- **One vote per participant and pair** (a unique index): a second one is refused (409).
- **Results are hidden** from a participant until they voted on every pair (:meth:`Study.finished`).
"""

from __future__ import annotations

import json
import os
import random
import re
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any

from ...errors import SteadyStyleError
from .stats import ROUNDS, results_from_votes
from .stimuli import MANIFEST, Pair

PROMPTS = {"stability": "Which video is steadier — less flicker, less crawling texture?",
           "quality": "Which picture looks better?"}
DATABASE = "votes.sqlite"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
VOTE_KEYS = ("participant", "trial", "choice")

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS votes (
        id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, participant TEXT NOT NULL,
        round TEXT NOT NULL, pair TEXT NOT NULL, clip TEXT NOT NULL, winner TEXT NOT NULL,
        loser TEXT NOT NULL, left_method TEXT NOT NULL, right_method TEXT NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS participants (id TEXT PRIMARY KEY, created REAL NOT NULL)",
    """CREATE TABLE IF NOT EXISTS trials (token TEXT PRIMARY KEY, participant TEXT NOT NULL, pair TEXT NOT NULL,
        left TEXT NOT NULL CHECK (left IN ('a', 'b')), issued REAL NOT NULL, UNIQUE (participant, pair))""",
    "CREATE UNIQUE INDEX IF NOT EXISTS one_vote_per_pair ON votes (participant, pair)",
)


class StudyError(SteadyStyleError):
    """A bad study request (HTTP ``status``)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def check_token(value: Any, what: str) -> str:
    """A server-issued id or token (16–64 URL-safe characters); :class:`StudyError` otherwise."""
    if not isinstance(value, str) or not TOKEN.match(value):
        raise StudyError(f"{what} must be an id this server issued")
    return value


class Study:
    """A prepared study folder: its pairs and its votes database (SQLite, WAL mode).

    ``key``: a random secret for the experimenter's full view of the results over the web (the
    ``steadystyle study results`` command reads the database directly).
    """

    def __init__(self, folder: Path, manifest: dict[str, Any], *, read_only: bool = False) -> None:
        self.folder = folder
        self.manifest = manifest
        self.pairs = {p["id"]: Pair(**p) for p in manifest["pairs"]}
        self.methods: list[str] = list(manifest["methods"])
        self.db = folder / DATABASE
        self.key = secrets.token_urlsafe(16)
        self.read_only = read_only
        self._copies: list[Any] = []  # private copies a read-only study reads a stranded WAL from
        if read_only:
            return
        con = self.connect()
        try:
            con.execute("PRAGMA journal_mode=WAL")
            with con:
                for statement in SCHEMA:
                    con.execute(statement)
        except sqlite3.IntegrityError:
            raise SteadyStyleError(f"{self.db}: holds several votes of one participant on one pair (made before "
                                   f"one vote per pair was enforced); keep them apart or remove them") from None
        finally:
            con.close()

    @classmethod
    def open(cls, folder: str | os.PathLike, *, read_only: bool = False) -> Study:
        """The study in ``folder``; ``read_only``: only read its votes (see :meth:`connect`) —
        nothing is created or changed there, so a read-only folder (or a copy) can be read."""
        path = Path(folder)
        if path.exists() and not path.is_dir():
            raise SteadyStyleError(f"{path}: is not a folder (give a study folder made by 'steadystyle study prepare')")
        try:
            manifest = json.loads((path / MANIFEST).read_text())
        except FileNotFoundError:
            raise SteadyStyleError(f"{path}: no {MANIFEST} (make one with 'steadystyle study prepare')") from None
        except json.JSONDecodeError as exc:
            raise SteadyStyleError(f"{path / MANIFEST}: not valid JSON ({exc})") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SteadyStyleError(f"{path / MANIFEST}: cannot be read ({exc})") from None
        try:
            return cls(path, manifest, read_only=read_only)
        except (TypeError, KeyError, AttributeError, ValueError):
            raise SteadyStyleError(f"{path / MANIFEST}: not a study manifest (expected an object with 'pairs' "
                                   f"and 'methods', as 'steadystyle study prepare' writes)") from None

    def connect(self) -> sqlite3.Connection:
        """A new connection (one per request or thread; WAL lets readers and a writer overlap).

        Read-only studies never create or change a file in the folder: ``immutable=1`` when there
        is no ``-wal`` (every vote is in the main file; SQLite then makes no ``-wal``/``-shm``,
        which even a ``mode=ro`` connection otherwise would); ``mode=ro`` while a writer's
        ``-wal`` and ``-shm`` are there (a running server's latest votes are seen); and a private
        copy of the database and its ``-wal`` in a temporary folder when the ``-shm`` is missing or
        cannot be opened (a read-only folder, a copy without it) — ``immutable=1`` would ignore
        the votes in the ``-wal``.
        """
        if self.read_only:
            return self._connect_read_only()
        con = sqlite3.connect(self.db, timeout=30)
        con.execute("PRAGMA busy_timeout=30000")
        return con

    def _connect_read_only(self) -> sqlite3.Connection:
        from urllib.parse import quote

        wal = Path(f"{self.db}-wal")
        if not wal.exists() or wal.stat().st_size == 0:  # every vote is in the main file
            return sqlite3.connect(f"file:{quote(str(self.db.absolute()))}?mode=ro&immutable=1", uri=True)
        if Path(f"{self.db}-shm").exists():  # a writer has it open (or was killed): read beside it
            try:
                con = sqlite3.connect(f"file:{quote(str(self.db.absolute()))}?mode=ro", uri=True, timeout=30)
                con.execute("PRAGMA busy_timeout=30000")
                con.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the WAL index now
                return con
            except sqlite3.OperationalError:
                pass  # e.g. the -shm of a read-only folder that no writer has open
        # votes in a -wal that cannot be read in place (immutable=1 would ignore them): a private copy
        import shutil
        import tempfile

        copy = tempfile.TemporaryDirectory(prefix="steadystyle-study-")
        self._copies.append(copy)  # removed with this Study (or at exit)
        target = Path(copy.name) / DATABASE
        shutil.copyfile(self.db, target)
        shutil.copyfile(wal, f"{target}-wal")
        return sqlite3.connect(target)

    def journal_mode(self) -> str:
        con = self.connect()
        try:
            return con.execute("PRAGMA journal_mode").fetchone()[0]
        finally:
            con.close()

    # -- participants ------------------------------------------------------------------------
    def join(self) -> str:
        """A new participant id (random; stored)."""
        participant = secrets.token_urlsafe(16)
        con = self.connect()
        try:
            with con:
                con.execute("INSERT INTO participants (id, created) VALUES (?, ?)", (participant, time.time()))
        finally:
            con.close()
        return participant

    def _known(self, con: sqlite3.Connection, participant: Any) -> str:
        participant = check_token(participant, "participant")
        if con.execute("SELECT 1 FROM participants WHERE id=?", (participant,)).fetchone() is None:
            raise StudyError("unknown participant (join first)", 404)
        return participant

    def progress(self, participant: str) -> tuple[int, int]:
        """(pairs this participant voted on, pairs in the study)."""
        con = self.connect()
        try:
            participant = self._known(con, participant)
            voted = con.execute("SELECT COUNT(*) FROM votes WHERE participant=?", (participant,)).fetchone()[0]
        finally:
            con.close()
        return voted, len(self.pairs)

    def finished(self, participant: str) -> bool:
        """Whether ``participant`` voted on every pair."""
        voted, total = self.progress(participant)
        return voted >= total

    # -- trials ------------------------------------------------------------------------------
    def next_trial(self, participant: Any, round: str | None = None,
                   rng: random.Random | None = None) -> dict[str, Any]:
        """A pair this participant has not voted on yet (random among those), as a trial: an
        opaque token, the round's prompt and two media URLs in the order the server drew for
        this participant.  ``{"done": true, ...}`` when none is left (in ``round``, if given)."""
        if round is not None and round not in ROUNDS:
            raise StudyError(f"round must be one of {', '.join(ROUNDS)} (got {round!r})")
        rng = rng or random.SystemRandom()
        con = self.connect()
        try:
            participant = self._known(con, participant)
            voted = {row[0] for row in con.execute("SELECT pair FROM votes WHERE participant=?", (participant,))}
            left = [p for p in self.pairs.values() if p.id not in voted and (round is None or p.round == round)]
            progress = {"votes_so_far": len(voted), "pairs": len(self.pairs),
                        "finished": len(voted) >= len(self.pairs)}
            if not left:
                return {"done": True, **progress}
            pair = rng.choice(left)
            with con:
                con.execute("INSERT OR IGNORE INTO trials (token, participant, pair, left, issued) VALUES (?,?,?,?,?)",
                            (secrets.token_urlsafe(16), participant, pair.id, rng.choice("ab"), time.time()))
            token = con.execute("SELECT token FROM trials WHERE participant=? AND pair=?",
                                (participant, pair.id)).fetchone()[0]
        finally:
            con.close()
        kind = "video" if pair.round == "stability" else "image"
        return {"done": False, "trial": token, "round": pair.round, "prompt": PROMPTS[pair.round], "kind": kind,
                "media": {"left": f"/study/media/{token}/left", "right": f"/study/media/{token}/right"}, **progress}

    def _trial(self, con: sqlite3.Connection, token: Any) -> tuple[str, Pair, str]:
        """(participant, pair, side shown left) of trial ``token``."""
        token = check_token(token, "trial")
        row = con.execute("SELECT participant, pair, left FROM trials WHERE token=?", (token,)).fetchone()
        if row is None or row[1] not in self.pairs:
            raise StudyError("unknown trial", 404)
        return row[0], self.pairs[row[1]], row[2]

    def media(self, token: str, side: str) -> Path:
        """The file shown on ``side`` (``left``/``right``) of trial ``token``."""
        if side not in ("left", "right"):
            raise StudyError("no such stimulus", 404)
        con = self.connect()
        try:
            _, pair, left = self._trial(con, token)
        except StudyError:
            raise StudyError("no such stimulus", 404) from None
        finally:
            con.close()
        shown = left if side == "left" else ("b" if left == "a" else "a")
        return self.folder / (pair.a_file if shown == "a" else pair.b_file)

    # -- votes -------------------------------------------------------------------------------
    def vote(self, data: Any) -> dict[str, Any]:
        """Store one vote: ``{"participant", "trial", "choice": "left"|"right"}``.  The sides are
        the server's own record of the trial; a second vote on the same pair is refused (409)."""
        if not isinstance(data, dict):
            raise StudyError("a vote is a JSON object")
        unknown = sorted(set(data) - set(VOTE_KEYS))
        if unknown:
            raise StudyError(f"unknown field {unknown[0]!r} in a vote; a vote has {', '.join(VOTE_KEYS)}")
        choice = data.get("choice")
        if choice not in ("left", "right"):
            raise StudyError("'choice' must be \"left\" or \"right\"")
        con = self.connect()
        try:
            participant = self._known(con, data.get("participant"))
            owner, pair, left = self._trial(con, data.get("trial"))
            if owner != participant:
                raise StudyError("this trial was issued to another participant", 403)
            left_method, right_method = (pair.a, pair.b) if left == "a" else (pair.b, pair.a)
            winner, loser = (left_method, right_method) if choice == "left" else (right_method, left_method)
            try:
                with con:
                    con.execute("INSERT INTO votes (time, participant, round, pair, clip, winner, loser, left_method, "
                                "right_method) VALUES (?,?,?,?,?,?,?,?,?)",
                                (time.time(), participant, pair.round, pair.id, pair.clip, winner, loser, left_method,
                                 right_method))
            except sqlite3.IntegrityError:
                raise StudyError("you already voted on this pair", 409) from None
            voted = con.execute("SELECT COUNT(*) FROM votes WHERE participant=?", (participant,)).fetchone()[0]
        finally:
            con.close()
        return {"stored": True, "votes_so_far": voted, "pairs": len(self.pairs), "finished": voted >= len(self.pairs)}

    def votes(self) -> list[dict[str, Any]]:
        """Every vote, oldest first (a read-only study with no database yet has none)."""
        if self.read_only:
            if not self.db.exists():
                return []
            try:
                con = self.connect()
            except sqlite3.Error as exc:
                raise SteadyStyleError(f"{self.db}: cannot be opened ({exc})") from None
        else:
            con = self.connect()
        con.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in con.execute("SELECT * FROM votes ORDER BY id")]
        except sqlite3.DatabaseError as exc:
            if not self.read_only:
                raise
            raise SteadyStyleError(f"{self.db}: not a study's votes database ({exc})") from None
        finally:
            con.close()

    def results(self) -> dict[str, Any]:
        """Per round: each method's wins, comparisons, win rate and Wilson 95 % CI; head-to-head
        counts; a Bradley–Terry ranking when more than two methods are in play."""
        return results_from_votes(self.votes(), self.methods)


__all__ = ["Study", "StudyError", "PROMPTS", "DATABASE", "check_token"]
