"""The user study: statistics against hand-computed values, the votes database (WAL, several
writers at once), ``study prepare`` on tiny clips, the HTTP API's bad input, CSV export."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
import threading
from pathlib import Path

import pytest
from helpers import make_clip

from steadystyle.cli import main
from steadystyle.web.study import Study, StudyError, bradley_terry, prepare, results_from_votes, wilson_interval


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


def _copy(study_dir, tmp_path) -> Study:
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(study_dir, folder)
    return Study.open(folder)


def _vote_all(study: Study, participant: str, choice: str = "left") -> list[dict]:
    """Vote ``choice`` on every pair as ``participant``; returns the trials shown."""
    trials = []
    while not (trial := study.next_trial(participant))["done"]:
        trials.append(trial)
        study.vote({"participant": participant, "trial": trial["trial"], "choice": choice})
    return trials


def test_votes_from_many_threads_at_once_are_all_stored(study_dir, tmp_path):
    study = _copy(study_dir, tmp_path)
    failures: list[BaseException] = []

    def participants(n: int) -> None:
        try:
            for _ in range(20):
                _vote_all(study, study.join())
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)

    threads = [threading.Thread(target=participants, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    votes = study.votes()
    assert len(votes) == 6 * 20 * len(study.pairs) == 240
    # "left" always won, and the server drew the sides: each method won on its side's share
    for rnd, entry in study.results()["rounds"].items():
        wins = {r["method"]: r["wins"] for r in entry["methods"]}
        shown_left = {m: sum(1 for v in votes if v["round"] == rnd and v["left_method"] == m) for m in wins}
        assert wins == shown_left and sum(wins.values()) == 120


def test_one_vote_per_participant_and_pair(study_dir, tmp_path):
    study = _copy(study_dir, tmp_path)
    alice = study.join()
    trial = study.next_trial(alice, "stability")
    vote = {"participant": alice, "trial": trial["trial"], "choice": "left"}
    assert study.vote(vote)["stored"]
    refused = 0
    for _ in range(200):  # the attack of the issue: 200 identical votes
        with pytest.raises(StudyError) as caught:
            study.vote(vote)
        refused += caught.value.status == 409
    assert refused == 200 and len(study.votes()) == 1
    with pytest.raises(StudyError) as caught:  # the client cannot say which side was left
        study.vote({**vote, "left": "a"})
    assert caught.value.status == 400 and "unknown field 'left'" in str(caught.value)
    bob = study.join()
    with pytest.raises(StudyError) as caught:  # nor vote with another participant's trial
        study.vote({"participant": bob, "trial": trial["trial"], "choice": "left"})
    assert caught.value.status == 403
    with pytest.raises(StudyError) as caught:
        study.next_trial("made-up-participant-id")
    assert caught.value.status == 404
    assert study.next_trial(alice, "stability")["done"]  # the stability pair is voted; none left there
    assert not study.next_trial(alice)["done"]


def test_sides_are_drawn_per_participant_on_the_server_and_ids_reveal_nothing(study_dir, tmp_path):
    study = _copy(study_dir, tmp_path)
    pair = next(p for p in study.pairs.values() if p.round == "stability")
    # the pair's id is "<clip>-<k>-<round>": it, the clip and the methods must not show.  (Not the
    # bare "-1-": a random 22-character token holds it by chance about once in 200 trials.)
    secret = {pair.id, pair.clip, pair.a, pair.b, pair.a_file, pair.b_file, f"-{pair.round}"}
    lefts, tokens = [], set()
    for _ in range(200):
        participant = study.join()
        trial = study.next_trial(participant, "stability")
        text = json.dumps(trial)
        assert not any(word in text for word in secret), text
        again = study.next_trial(participant, "stability")
        assert again["trial"] == trial["trial"] and again["media"] == trial["media"]  # drawn once per participant
        tokens.add(trial["trial"])
        left_file = study.media(trial["trial"], "left")
        right_file = study.media(trial["trial"], "right")
        assert {left_file.name, right_file.name} == {Path(pair.a_file).name, Path(pair.b_file).name}
        lefts.append(left_file.name == Path(pair.a_file).name)
    assert len(tokens) == 200  # every participant's trial has its own token
    assert 60 <= sum(lefts) <= 140, sum(lefts)  # both orders, about half each (p < 1e-6 outside)


def test_results_are_hidden_until_a_participant_finishes(study_dir, tmp_path):
    from steadystyle.web.study.routes import may_see_results

    study = _copy(study_dir, tmp_path)
    alice = study.join()
    assert not may_see_results(study, {}) and not may_see_results(study, {"participant": alice})
    trial = study.next_trial(alice)
    study.vote({"participant": alice, "trial": trial["trial"], "choice": "right"})
    assert not study.finished(alice) and not may_see_results(study, {"participant": alice})
    _vote_all(study, alice)
    assert study.finished(alice) and may_see_results(study, {"participant": alice})
    assert may_see_results(study, {"key": study.key}) and not may_see_results(study, {"key": "x" * 22})


def test_study_api_rejects_bad_votes_and_counts_good_ones(study_dir, tmp_path):
    import shutil

    from aiohttp.test_utils import TestClient, TestServer

    from steadystyle.web.server import CallServer, ServerConfig

    folder = tmp_path / "copy"
    shutil.copytree(study_dir, folder)

    async def run() -> None:
        server = CallServer(ServerConfig(styles=["scream"], study_dir=str(folder)))
        key = server.study.key
        async with TestClient(TestServer(server.app())) as client:
            alice = (await (await client.post("/api/study/join")).json())["participant"]
            r = await client.get("/api/study/next", params={"participant": alice, "round": "stability"})
            trial = await r.json()
            assert r.status == 200 and trial["round"] == "stability" and trial["kind"] == "video"
            assert "frame-diff" not in json.dumps(trial) and "per-frame" not in json.dumps(trial)  # blind
            media = await client.get(trial["media"]["left"])
            assert media.status == 200 and len(await media.read()) > 0
            good = {"participant": alice, "trial": trial["trial"], "choice": "right"}
            bad = [({**good, "trial": "nope-nope-nope-nope"}, 404, "unknown trial"),
                   ({**good, "trial": "x"}, 400, "trial"), ({**good, "choice": "middle"}, 400, "choice"),
                   ({**good, "left": "a"}, 400, "unknown field"), ({**good, "participant": "a b"}, 400, "participant"),
                   (["x"], 400, "JSON object")]
            for body, status, words in bad:
                r = await client.post("/api/study/vote", json=body)
                assert r.status == status and words in (await r.json())["error"], body
            r = await client.post("/api/study/vote", data=b"{oops", headers={"Content-Type": "application/json"})
            assert r.status == 400 and "error" in await r.json()
            r = await client.post("/api/study/vote", data=b"x" * 5000)
            assert r.status == 413
            for path, status in (("/api/study/next?participant=", 400), (f"/api/study/next?participant={alice}&round=x", 400),
                                 ("/study/media/nope/a", 404), (f"/study/media/{trial['trial']}/a", 404)):
                r = await client.get(path)
                assert r.status == status and "error" in await r.json(), path
            r = await client.post("/api/study/vote", json=good)
            assert r.status == 200 and (await r.json())["votes_so_far"] == 1
            r = await client.post("/api/study/vote", json=good)
            assert r.status == 409 and "already voted" in (await r.json())["error"]
            # a foreign page cannot vote (nor join) for a visitor
            evil = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
            r = await client.post("/api/study/vote", data=json.dumps(good), headers=evil)
            assert r.status == 403 and "refused" in (await r.json())["error"]
            r = await client.post("/api/study/join", headers=evil)
            assert r.status == 403
            # results: hidden until alice voted on every pair, and the exports need the key
            for path in ("/api/study/results", f"/api/study/results?participant={alice}", "/study/votes.csv",
                         "/study/results.csv", f"/study/votes.csv?participant={alice}"):
                r = await client.get(path)
                assert r.status == 403 and "error" in await r.json(), path
            rest = await (await client.get("/api/study/next", params={"participant": alice})).json()
            r = await client.post("/api/study/vote", json={"participant": alice, "trial": rest["trial"], "choice": "left"})
            assert (await r.json())["finished"] is True
            assert (await (await client.get("/api/study/next", params={"participant": alice})).json())["done"]
            pair_votes = {v["round"]: v for v in server.study.votes()}
            winner = pair_votes["stability"]["winner"]
            assert winner == pair_votes["stability"]["right_method"]  # alice picked the right side
            results = await (await client.get("/api/study/results", params={"participant": alice})).json()
            rows = {row["method"]: row for row in results["rounds"]["stability"]["methods"]}
            assert rows[winner]["wins"] == 1 and rows[winner]["comparisons"] == 1
            text = await (await client.get("/study/votes.csv", params={"key": key})).text()
            rows_csv = list(csv.DictReader(io.StringIO(text)))
            assert len(rows_csv) == 2 and {r["participant"] for r in rows_csv} == {alice}
            text = await (await client.get("/study/results.csv", params={"key": key})).text()
            table = list(csv.DictReader(io.StringIO(text)))
            assert ("stability", winner, "1") in {(t["round"], t["method"], t["wins"]) for t in table}
            for page in ("/study", "/study/results"):
                r = await client.get(page)
                assert r.status == 200 and "<html" in await r.text()

    asyncio.run(run())
    out = tmp_path / "results.csv"
    assert main(["study", "results", str(folder), "--csv", str(out)]) == 0
    assert out.read_text().startswith("round,method,wins")


@pytest.mark.parametrize("text", ["[1, 2]", "{}", '{"pairs": [1], "methods": ["a"]}', '{"pairs": [], "methods": 3}'])
def test_a_manifest_of_the_wrong_shape_is_one_line(tmp_path, capsys, text):
    from steadystyle.cli import main

    (tmp_path / "study.json").write_text(text)
    assert main(["study", "results", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a study manifest" in err[0], err
