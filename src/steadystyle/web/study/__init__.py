"""The user-study game: pairs of stylized clips of the same input, people pick the steadier video
(stability round) or the better-looking frame (quality round) — as the frame-difference loss
authors did (62 people, 25,600 votes).

- :mod:`.stimuli`: :func:`prepare` makes the stimuli and ``study.json``;
- :mod:`.votes`: :class:`Study`, a fair and blind game over one SQLite file (server-issued
  participants and trials, left/right drawn per participant on the server, one vote per
  participant and pair, results hidden until a participant finished);
- :mod:`.stats`: win rates with Wilson 95 % intervals, Bradley–Terry, CSV;
- :mod:`.routes`: the pages and API on the ``steadystyle serve`` application.
"""

from __future__ import annotations

from .routes import add_study_routes
from .stats import ROUNDS, bradley_terry, results_csv, results_from_votes, votes_csv, wilson_interval
from .stimuli import MANIFEST, Pair, prepare
from .votes import DATABASE, PROMPTS, Study, StudyError

__all__ = ["wilson_interval", "bradley_terry", "prepare", "Study", "Pair", "StudyError", "results_from_votes",
           "votes_csv", "results_csv", "add_study_routes", "ROUNDS", "PROMPTS", "MANIFEST", "DATABASE"]
