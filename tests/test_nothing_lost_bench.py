"""Issue #22 for ``steadystyle bench -o``: a place the report cannot be written to is one line
before any measurement, and bench.json / bench.md are each written whole or not at all."""

from __future__ import annotations

import json
import os

import pytest

import steadystyle.bench as bench
from steadystyle.bench import write_report
from steadystyle.cli import main


@pytest.fixture
def no_measuring(monkeypatch):
    """``run_bench`` replaced: a test fails if the command starts measuring."""
    calls = []
    monkeypatch.setattr(bench, "run_bench", lambda *a, **k: calls.append(a) or pytest.fail("measured"))
    return calls


@pytest.mark.parametrize("where, phrase", [
    ("{tmp}/file.txt", "is a file"),
    ("{tmp}/missing/deeper/b", "no such folder {tmp}/missing/deeper"),
    ("{tmp}/old", "is the --style {tmp}/old/bench.json"),
])
def test_a_bad_output_is_one_line_before_any_measurement(tmp_path, capsys, no_measuring, where, phrase):
    (tmp_path / "file.txt").write_text("keep me")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "bench.json").write_text("a model, say")
    code = main(["bench", "-o", where.format(tmp=tmp_path), "--style", str(tmp_path / "old" / "bench.json"),
                 "--parts", "networks"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("steadystyle: error: -o ")
    assert phrase.format(tmp=tmp_path) in err, err
    assert no_measuring == []
    assert (tmp_path / "file.txt").read_text() == "keep me" and not (tmp_path / "missing").exists()
    assert (tmp_path / "old" / "bench.json").read_text() == "a model, say"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_place_is_one_line_before_any_measurement(tmp_path, capsys, no_measuring):
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o555)
    try:
        assert main(["bench", "-o", str(tmp_path / "ro" / "b")]) == 2
    finally:
        (tmp_path / "ro").chmod(0o755)
    assert "is not writable" in capsys.readouterr().err and no_measuring == []


def test_the_report_is_replaced_whole_or_not_at_all(tmp_path):
    out = tmp_path / "b"
    out.mkdir()
    (out / "bench.json").write_text("old json")
    (out / "bench.md").write_text("old md")
    with pytest.raises(KeyError):  # a result the Markdown cannot be made of: neither file is touched
        write_report({"networks": []}, out)
    assert (out / "bench.json").read_text() == "old json" and (out / "bench.md").read_text() == "old md"
    result = {"machine": {"processor": "x", "cpu_count": 2, "torch_threads": 2, "platform": "p"}, "networks": []}
    json_path, md_path = write_report(result, out)
    assert json.loads(json_path.read_text()) == result and md_path.read_text().startswith("Machine: x, 2 cores")
    assert sorted(p.name for p in out.iterdir()) == ["bench.json", "bench.md"]  # no temporary left
    write_report(result, tmp_path / "new")  # -o itself is created when its parent exists
    assert (tmp_path / "new" / "bench.md").is_file()


@pytest.mark.parametrize("args, phrase", [(["--parts", ","], "--parts names no part"),
                                          (["--style", "no-such-style"], "unknown style 'no-such-style'")])
def test_bad_parts_or_style_are_one_line_before_any_measurement(tmp_path, capsys, no_measuring, args, phrase):
    assert main(["bench", "-o", str(tmp_path / "b"), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and phrase in err, err
    assert no_measuring == [] and not (tmp_path / "b").exists()
