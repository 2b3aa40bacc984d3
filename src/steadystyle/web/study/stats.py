"""The study's statistics: win rates with Wilson 95 % intervals, a Bradley–Terry ranking, and
the results table (and CSV exports) from the vote rows."""

from __future__ import annotations

import csv
import io
import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Any

ROUNDS = ("stability", "quality")
Z95 = 1.959963984540054  # two-sided 95 % normal quantile


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


__all__ = ["wilson_interval", "bradley_terry", "results_from_votes", "votes_csv", "results_csv", "ROUNDS", "Z95"]
