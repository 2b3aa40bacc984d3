"""Issue #22: ``steadystyle study results`` only reads the study folder — SQLite opened read-only
(``mode=ro``, or ``immutable=1`` when there is no WAL), so a read-only or archived folder prints
its results and nothing there is created or changed — and its ``--csv`` / ``--votes-csv`` are
checked with every other path before any work."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from steadystyle.cli import main
from steadystyle.web.study import Study

PAIRS = [{"id": "p1", "round": "stability", "clip": "walk", "a": "per-frame", "b": "frame-diff",
          "a_file": "stimuli/a.mp4", "b_file": "stimuli/b.mp4"},
         {"id": "p2", "round": "quality", "clip": "walk", "a": "per-frame", "b": "frame-diff",
          "a_file": "stimuli/a.png", "b_file": "stimuli/b.png"}]


def _study(folder: Path, voters: int = 3) -> Path:
    """A study folder with ``voters`` participants who each voted on both pairs (left won)."""
    folder.mkdir()
    (folder / "study.json").write_text(json.dumps({"methods": ["per-frame", "frame-diff"], "clips": ["walk"],
                                                   "pairs": PAIRS}))
    study = Study.open(folder)
    for _ in range(voters):
        participant = study.join()
        while not (trial := study.next_trial(participant))["done"]:
            study.vote({"participant": participant, "trial": trial["trial"], "choice": "left"})
    return folder


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _results(capsys, folder: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["study", "results", str(folder), *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_results_of_a_read_only_folder_print_and_create_nothing(tmp_path, capsys):
    folder = _study(tmp_path / "study")
    assert not Path(f"{folder}/votes.sqlite-wal").exists()  # closed cleanly: every vote in the main file
    before = _snapshot(folder)
    modes = {p: p.stat().st_mode for p in (folder, folder / "votes.sqlite")}
    for p in modes:
        p.chmod(stat.S_IMODE(modes[p]) & ~0o222)
    try:
        code, out, err = _results(capsys, folder, "--json")
    finally:
        for p, mode in modes.items():
            p.chmod(stat.S_IMODE(mode))
    assert code == 0, err
    results = json.loads(out)
    assert results["votes"] == 6
    wins = {r["method"]: r["wins"] for r in results["rounds"]["stability"]["methods"]}
    assert sum(wins.values()) == 3
    assert _snapshot(folder) == before  # byte-identical, and no -wal / -shm / journal left or made


def test_read_only_connections_cannot_write(tmp_path):
    folder = _study(tmp_path / "study", voters=1)
    study = Study.open(folder, read_only=True)
    con = study.connect()
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            con.execute("DELETE FROM votes")
    finally:
        con.close()
    assert len(Study.open(folder).votes()) == 2


def test_results_while_a_server_writes_see_its_latest_votes_and_add_no_file(tmp_path, capsys):
    folder = _study(tmp_path / "study", voters=2)
    writer = sqlite3.connect(folder / "votes.sqlite")  # a server holding the database open
    try:
        writer.execute("SELECT count(*) FROM votes").fetchone()  # opens the WAL: it stays while this is open
        study = Study.open(folder)
        participant = study.join()
        while not (trial := study.next_trial(participant))["done"]:
            study.vote({"participant": participant, "trial": trial["trial"], "choice": "right"})
        assert Path(f"{folder}/votes.sqlite-wal").stat().st_size > 0  # the latest votes are in the WAL
        names = sorted(p.name for p in folder.iterdir())
        code, out, err = _results(capsys, folder, "--json")
        assert code == 0, err
        assert json.loads(out)["votes"] == 6
        assert sorted(p.name for p in folder.iterdir()) == names
    finally:
        writer.close()


def test_results_without_a_database_are_zero_votes_and_create_none(tmp_path, capsys):
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "study.json").write_text(json.dumps({"methods": ["per-frame", "frame-diff"], "pairs": PAIRS}))
    code, out, err = _results(capsys, folder)
    assert code == 0, err
    assert out.startswith("0 votes")
    assert sorted(p.name for p in folder.iterdir()) == ["study.json"]


@pytest.mark.parametrize("make, phrase", [
    (lambda f: f.write_bytes(b"not a folder"), "is not a folder"),
    (lambda f: None, "no study.json"),
    (lambda f: (f.mkdir(), (f / "study.json").write_text(json.dumps({"methods": ["a", "b"], "pairs": []})),
                (f / "votes.sqlite").write_bytes(b"garbage " * 512)), "votes.sqlite: not a study's votes database"),
    (lambda f: (f.mkdir(), (f / "study.json").write_text(json.dumps({"methods": ["a", "b"], "pairs": []})),
                sqlite3.connect(f / "votes.sqlite").execute("CREATE TABLE other (x)").connection.close()),
     "votes.sqlite: not a study's votes database"),
])
def test_not_a_study_is_one_line(tmp_path, capsys, make, phrase):
    folder = tmp_path / "study"
    make(folder)
    before = _snapshot(folder) if folder.is_dir() else None
    code, out, err = _results(capsys, folder)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("steadystyle: error: ") and phrase in err, err
    if before is not None:
        assert _snapshot(folder) == before


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root ignores a folder's missing write permission (the read-only open is tested above)")
def test_an_unreadable_study_folder_is_one_line(tmp_path, capsys):
    folder = _study(tmp_path / "study", voters=1)
    folder.chmod(0)
    try:
        code, _, err = _results(capsys, folder)
    finally:
        folder.chmod(0o755)
    assert code == 2 and err.count("\n") == 1 and "cannot be read" in err


@pytest.mark.parametrize("args, phrase", [
    (["--csv", "{tmp}/missing/results.csv"], "--csv {tmp}/missing/results.csv: no such folder"),
    (["--votes-csv", "{tmp}/missing/votes.csv"], "--votes-csv {tmp}/missing/votes.csv: no such folder"),
    (["--csv", "{study}/study.json"], "is the study manifest"),
    (["--votes-csv", "{study}/votes.sqlite"], "is the votes database"),
    (["--csv", "{tmp}/same.csv", "--votes-csv", "{tmp}/same.csv"], "name the same file"),
    (["--csv", "{study}"], "is a folder"),
])
def test_csv_outputs_are_checked_before_any_work(tmp_path, capsys, args, phrase):
    folder = _study(tmp_path / "study", voters=1)
    before = _snapshot(folder)
    fill = {"tmp": tmp_path, "study": folder}
    code, out, err = _results(capsys, folder, *(a.format(**fill) for a in args))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and phrase.format(**fill) in err, err
    assert _snapshot(folder) == before
    assert not (tmp_path / "missing").exists() and not (tmp_path / "same.csv").exists()


def test_csv_outputs_are_written_whole(tmp_path, capsys):
    folder = _study(tmp_path / "study", voters=2)
    results, votes = tmp_path / "results.csv", tmp_path / "votes.csv"
    results.write_text("old")
    code, _, err = _results(capsys, folder, "--csv", str(results), "--votes-csv", str(votes))
    assert code == 0, err
    assert results.read_text().startswith("round,method,wins")
    assert len(votes.read_text().strip().splitlines()) == 1 + 4
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_votes_stranded_in_a_wal_without_its_index_are_read_from_a_private_copy(tmp_path, capsys):
    """A copy (or a read-only folder) holding ``votes.sqlite`` and a ``-wal`` but no ``-shm``:
    ``immutable=1`` would silently drop the WAL's votes, ``mode=ro`` would create a ``-shm``."""
    import shutil

    live = _study(tmp_path / "live", voters=1)
    writer = sqlite3.connect(live / "votes.sqlite")
    try:
        writer.execute("SELECT count(*) FROM votes").fetchone()
        study = Study.open(live)
        for _ in range(2):
            participant = study.join()
            while not (trial := study.next_trial(participant))["done"]:
                study.vote({"participant": participant, "trial": trial["trial"], "choice": "right"})
        archive = tmp_path / "archive"
        archive.mkdir()
        for name in ("study.json", "votes.sqlite", "votes.sqlite-wal"):
            shutil.copyfile(live / name, archive / name)
    finally:
        writer.close()
    assert (archive / "votes.sqlite-wal").stat().st_size > 0
    before = _snapshot(archive)
    code, out, err = _results(capsys, archive, "--json")
    assert code == 0, err
    assert json.loads(out)["votes"] == 6  # 2 from the main file's first participant, 4 from the WAL
    assert _snapshot(archive) == before and sorted(before) == ["study.json", "votes.sqlite", "votes.sqlite-wal"]


# -- study prepare ------------------------------------------------------------------------------


def _prepare(tmp_path, out, *clips, methods="per-frame,frame-diff", style=None) -> list[str]:
    return ["study", "prepare", *map(str, clips), "--methods", methods, "--style", str(style), "-o", str(out),
            "--device", "cpu", "--quiet"]


def _beside(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("case, phrase", [("file", "is a file"), ("full", "is not empty (mine.txt)"),
                                          ("bad clip", "not a video"), ("no clip", "no such file")])
def test_prepare_refuses_in_one_line_before_making_anything(tmp_path, capsys, tiny_style, case, phrase):
    from helpers import make_clip

    clip = make_clip(tmp_path / "walk.mp4", frames=3, size=(48, 32))
    out = tmp_path / "study"
    clips = [clip]
    if case == "file":
        out.write_text("keep me")
    elif case == "full":
        out.mkdir()
        (out / "mine.txt").write_text("keep me")
    elif case == "bad clip":
        (tmp_path / "broken.mp4").write_bytes(b"no video here" * 50)
        clips = [clip, tmp_path / "broken.mp4"]
    else:
        clips = [clip, tmp_path / "missing.mp4"]
    before = _beside(tmp_path)
    code = main(_prepare(tmp_path, out, *clips, style=tiny_style))
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and phrase in err, err
    assert _beside(tmp_path) == before  # no study folder, no temporary beside it
    if case == "file":
        assert out.read_text() == "keep me"
    if case == "full":
        assert _beside(out) == ["mine.txt"] and (out / "mine.txt").read_text() == "keep me"


def test_prepare_interrupted_leaves_nothing_and_a_finished_one_is_complete(tmp_path, capsys, tiny_style,
                                                                          monkeypatch):
    from helpers import make_clip

    import steadystyle.pipeline as pipeline

    clip = make_clip(tmp_path / "walk.mp4", frames=3, size=(48, 32))
    (tmp_path / "empty").mkdir()
    real, calls = pipeline.stylize_video, []

    def second_is_interrupted(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "stylize_video", second_is_interrupted)
    before = _beside(tmp_path)
    assert main(_prepare(tmp_path, tmp_path / "empty", clip, style=tiny_style)) == 130
    assert len(calls) == 2 and _beside(tmp_path) == before and _beside(tmp_path / "empty") == []
    monkeypatch.setattr(pipeline, "stylize_video", real)

    # into the empty folder, with a method named twice: counted once
    assert main(_prepare(tmp_path, tmp_path / "empty", clip, methods="per-frame,frame-diff,per-frame",
                         style=tiny_style)) == 0
    assert "(1 clips × 2 methods" in capsys.readouterr().out
    assert _beside(tmp_path) == before
    assert _beside(tmp_path / "empty") == ["stimuli", "study.json", "votes.sqlite"]
    assert sorted(p.name for p in (tmp_path / "empty" / "stimuli").iterdir()) == [
        "walk__frame-diff.mp4", "walk__frame-diff.png", "walk__per-frame.mp4", "walk__per-frame.png"]
    assert Study.open(tmp_path / "empty", read_only=True).results()["votes"] == 0
