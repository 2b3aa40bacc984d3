"""The user study: statistics against hand-computed values, the votes database (WAL, several
writers at once), ``study prepare`` on tiny clips, the HTTP API's bad input, CSV export."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
import threading

import pytest
from helpers import make_clip

from steadystyle.cli import main
from steadystyle.web.study import Study, bradley_terry, prepare, results_from_votes, wilson_interval


def test_wilson_interval_matches_hand_computed_values():
    # 8 of 10, z = 1.96: centre (0.8 + 0.19208)/1.38416 = 0.716738, half 1.96·√0.025604/1.38416 = 0.226581
    lo, hi = wilson_interval(8, 10, z=1.96)
    assert lo == pytest.approx(0.49016, abs=1e-5) and hi == pytest.approx(0.94332, abs=1e-5)
    # 0 of 5: lower bound 0, upper z²/(n + z²) = 3.8416/8.8416
    lo, hi = wilson_interval(0, 5, z=1.96)
    assert lo == 0.0 and hi == pytest.approx(3.8416 / 8.8416, abs=1e-9)
    # symmetric: 5 of 10 is centred on 0.5
    lo, hi = wilson_interval(5, 10)
    assert (lo + hi) / 2 == pytest.approx(0.5) and hi - lo == pytest.approx(2 * 1.959964 * math.sqrt(0.025 + 3.8415 / 400) / 1.38415, abs=1e-4)
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_bradley_terry_recovers_strengths_from_consistent_counts():
    # strengths 4 : 2 : 1 → P(A>B) = 2/3, P(A>C) = 4/5, P(B>C) = 2/3; counts exactly in those ratios
    wins = {("A", "B"): 4, ("B", "A"): 2, ("A", "C"): 8, ("C", "A"): 2, ("B", "C"): 4, ("C", "B"): 2}
    scores, regularized = bradley_terry(["A", "B", "C"], wins)
    assert not regularized
    assert scores["A"] == pytest.approx(4 / 7, abs=1e-8)
    assert scores["B"] == pytest.approx(2 / 7, abs=1e-8)
    assert scores["C"] == pytest.approx(1 / 7, abs=1e-8)
    # two methods, 3 wins to 1: strengths 3/4 and 1/4
    scores, _ = bradley_terry(["x", "y"], {("x", "y"): 3, ("y", "x"): 1})
    assert scores["x"] == pytest.approx(0.75, abs=1e-8)


def test_bradley_terry_regularizes_when_a_method_never_loses():
    # A never lost: no finite maximum-likelihood estimate; +0.5 each way gives A:B = 3.5:0.5 etc.
    wins = {("A", "B"): 3, ("A", "C"): 3, ("B", "C"): 2, ("C", "B"): 1}
    scores, regularized = bradley_terry(["A", "B", "C"], wins)
    assert regularized
    assert scores["A"] > scores["B"] > scores["C"] and sum(scores.values()) == pytest.approx(1)
    # the estimate satisfies the likelihood equations of the regularized counts: W_i = Σ_j n_ij·p_i/(p_i+p_j)
    w = {k: v + 0.5 for k, v in {**{(i, j): 0 for i in "ABC" for j in "ABC" if i != j}, **wins}.items()}
    for i in "ABC":
        expected = sum((w[(i, j)] + w[(j, i)]) * scores[i] / (scores[i] + scores[j]) for j in "ABC" if j != i)
        assert sum(w[(i, j)] for j in "ABC" if j != i) == pytest.approx(expected, rel=1e-6)


def test_results_table_per_round():
    votes = ([{"round": "stability", "winner": "frame-diff", "loser": "per-frame"}] * 8
             + [{"round": "stability", "winner": "per-frame", "loser": "frame-diff"}] * 2
             + [{"round": "quality", "winner": "per-frame", "loser": "frame-diff"}] * 3)
    res = results_from_votes(votes, ["per-frame", "frame-diff"])
    stab = {r["method"]: r for r in res["rounds"]["stability"]["methods"]}
    assert stab["frame-diff"]["wins"] == 8 and stab["frame-diff"]["comparisons"] == 10
    assert stab["frame-diff"]["win_rate"] == 0.8
    assert (stab["frame-diff"]["ci_low"], stab["frame-diff"]["ci_high"]) == pytest.approx(wilson_interval(8, 10))
    assert "bradley_terry" not in res["rounds"]["stability"]  # only with more than two methods
    qual = {r["method"]: r for r in res["rounds"]["quality"]["methods"]}
    assert qual["per-frame"]["wins"] == 3 and qual["frame-diff"]["win_rate"] == 0.0


@pytest.fixture(scope="module")
def study_dir(tiny_style, tmp_path_factory):
    base = tmp_path_factory.mktemp("study")
    clip = make_clip(base / "walk.mp4", frames=6)
    out = base / "study"
    code = main(["study", "prepare", str(clip), "--methods", "per-frame,frame-diff", "--style", str(tiny_style),
                 "-o", str(out), "--device", "cpu", "--quiet"])
    assert code == 0
    return out


def test_prepare_writes_stimuli_and_pairs(study_dir, tiny_style, tmp_path):
    manifest = json.loads((study_dir / "study.json").read_text())
    assert manifest["methods"] == ["per-frame", "frame-diff"] and manifest["clips"] == ["walk"]
    assert sorted(p["round"] for p in manifest["pairs"]) == ["quality", "stability"]
    for pair in manifest["pairs"]:
        assert (study_dir / pair["a_file"]).stat().st_size > 0 and (study_dir / pair["b_file"]).stat().st_size > 0
    from helpers import read_all

    frames, _ = read_all(study_dir / "stimuli" / "walk__frame-diff.mp4")
    assert len(frames) == 6
    assert Study.open(study_dir).journal_mode() == "wal"
    # errors are one line, exit 2
    assert main(["study", "prepare", "x.mp4", "--methods", "per-frame", "-o", str(tmp_path / "s")]) == 2
    assert main(["study", "prepare", "x.mp4", "--methods", "per-frame,nope", "-o", str(tmp_path / "s")]) == 2
    assert main(["study", "results", str(tmp_path)]) == 2


def test_votes_from_many_threads_at_once_are_all_stored(study_dir, tmp_path):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(study_dir, folder)
    study = Study.open(folder)
    pair = next(iter(study.pairs.values()))
    failures: list[BaseException] = []

    def participant(n: int) -> None:
        try:
            for i in range(40):
                study.vote({"participant": f"p{n}", "pair": pair.id, "round": pair.round,
                            "left": "ab"[i % 2], "choice": "left"})
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)

    threads = [threading.Thread(target=participant, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    votes = study.votes()
    assert len(votes) == 240
    # left alternates a/b and "left" always wins: each method won half
    res = study.results()["rounds"][pair.round]
    assert [r["wins"] for r in res["methods"]] == [120, 120]


def test_study_api_rejects_bad_votes_and_counts_good_ones(study_dir, tmp_path):
    import shutil

    from aiohttp.test_utils import TestClient, TestServer

    from steadystyle.web.server import CallServer, ServerConfig

    folder = tmp_path / "copy"
    shutil.copytree(study_dir, folder)

    async def run() -> None:
        server = CallServer(ServerConfig(styles=["scream"], study_dir=str(folder)))
        async with TestClient(TestServer(server.app())) as client:
            r = await client.get("/api/study/next", params={"participant": "alice", "round": "stability"})
            trial = await r.json()
            assert r.status == 200 and trial["round"] == "stability" and trial["kind"] == "video"
            assert "frame-diff" not in json.dumps(trial) and "per-frame" not in json.dumps(trial)  # blind
            media = await client.get(trial["media"]["left"])
            assert media.status == 200 and len(await media.read()) > 0
            good = {"participant": "alice", "pair": trial["pair"], "round": "stability", "left": trial["left"],
                    "choice": "right"}
            bad = [({**good, "pair": "nope"}, 404, "unknown pair"), ({**good, "choice": "middle"}, 400, "choice"),
                   ({**good, "left": "c"}, 400, "left"), ({**good, "participant": "a b"}, 400, "participant"),
                   ({**good, "round": "quality"}, 400, "round"), (["x"], 400, "JSON object")]
            for body, status, words in bad:
                r = await client.post("/api/study/vote", json=body)
                assert r.status == status and words in (await r.json())["error"], body
            r = await client.post("/api/study/vote", data=b"{oops", headers={"Content-Type": "application/json"})
            assert r.status == 400 and "error" in await r.json()
            r = await client.post("/api/study/vote", data=b"x" * 5000)
            assert r.status == 413
            for path, status in (("/api/study/next?participant=", 400), ("/api/study/next?participant=a&round=x", 400),
                                 ("/study/media/nope/a", 404)):
                r = await client.get(path)
                assert r.status == status and "error" in await r.json(), path
            r = await client.post("/api/study/vote", json=good)
            assert r.status == 200 and (await r.json())["votes"] == 1
            shown_right = "b" if trial["left"] == "a" else "a"
            pair = server.study.pairs[trial["pair"]]
            winner = pair.a if shown_right == "a" else pair.b
            results = await (await client.get("/api/study/results")).json()
            rows = {row["method"]: row for row in results["rounds"]["stability"]["methods"]}
            assert rows[winner]["wins"] == 1 and rows[winner]["comparisons"] == 1
            text = await (await client.get("/study/votes.csv")).text()
            rows_csv = list(csv.DictReader(io.StringIO(text)))
            assert len(rows_csv) == 1 and rows_csv[0]["winner"] == winner and rows_csv[0]["participant"] == "alice"
            text = await (await client.get("/study/results.csv")).text()
            table = list(csv.DictReader(io.StringIO(text)))
            assert {(t["round"], t["method"], t["wins"]) for t in table if t["wins"] == "1"} == {("stability", winner, "1")}
            for page in ("/study", "/study/results"):
                r = await client.get(page)
                assert r.status == 200 and "<html" in await r.text()

    asyncio.run(run())
    out = tmp_path / "results.csv"
    assert main(["study", "results", str(folder), "--csv", str(out)]) == 0
    assert out.read_text().startswith("round,method,wins")
