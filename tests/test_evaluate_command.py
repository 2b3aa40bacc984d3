"""``steadystyle evaluate`` and the runner behind it, on a tiny synthetic clip."""

import json

import numpy as np
import pytest

from steadystyle.cli import main
from steadystyle.errors import SteadyStyleError
from steadystyle.evaluate.clips import load_clip
from steadystyle.evaluate.runner import evaluate_clip, parse_methods
from steadystyle.evaluate.summary import summarize
from steadystyle.stylizer import Stylizer


def test_parse_methods_reads_parameters_and_rejects_mistakes():
    specs = parse_methods("per-frame, adaptive:person=false;group_px=4;feather-px=1.5")
    assert [s.label for s in specs] == ["per-frame", "adaptive:person=false;group_px=4;feather-px=1.5"]
    assert specs[1].params.group_px == 4 and specs[1].params.feather_px == 1.5 and specs[1].params.person is False
    with pytest.raises(SteadyStyleError, match="unknown method"):
        parse_methods("per-frame,magic")
    with pytest.raises(SteadyStyleError, match="not NAME=VALUE"):
        parse_methods("adaptive:colour=red")
    with pytest.raises(SteadyStyleError, match="twice"):
        parse_methods("flow,flow")


def test_runner_measures_every_method_on_the_same_stylizations(tiny_style):
    clip = load_clip("synthetic", 8, 96)
    assert clip.frames[0].shape == (72, 96, 3) and clip.clean is not None
    result, outputs = evaluate_clip(clip, Stylizer(tiny_style, device="cpu"), parse_methods("per-frame,frame-diff,adaptive"))
    pf, fd = result["methods"]["per-frame"], result["methods"]["frame-diff"]
    assert pf["mean"]["ghost_proxy"] == 0.0 and pf["mean"]["seams"] == 0.0 and pf["mean"]["network_share"] == 1.0
    assert fd["mean"]["static_flicker"] < 0.2 * pf["mean"]["static_flicker"]
    assert len(pf["curves"]["warping_error"]) == 7 and len(pf["curves"]["exact_ghosts"]) == 8
    assert np.array_equal(outputs["frame-diff"][0], outputs["per-frame"][0])  # both start from S(0)
    summary = summarize([result])
    assert summary["mean"]["per-frame"]["warping_error_ratio"] == 1.0
    assert summary["mean"]["frame-diff"]["warping_error_ratio"] == fd["mean"]["warping_error"] / pf["mean"]["warping_error"]


def test_evaluate_command_writes_the_report(tmp_path, tiny_style, capsys):
    report = tmp_path / "report"
    code = main(["evaluate", "synthetic", "--methods", "frame-diff,adaptive", "--style", str(tiny_style),
                 "--max-frames", "5", "--size", "96", "--report", str(report), "--quiet"])
    assert code == 0
    data = json.loads((report / "report.json").read_text())
    assert list(data["methods"]) == ["per-frame", "frame-diff", "adaptive"]  # the baseline is always measured
    assert data["settings"]["warping_error"]["preset"] == "medium" and data["settings"]["width"] == 96
    assert data["clips"][0]["size"] == "96×72" and data["methods"]["adaptive"]["params"]["regions"] is True
    for name in ("index.html", "report.md", "summary.png", "curves_synthetic.png", "videos/synthetic.mp4"):
        assert (report / name).stat().st_size > 0, name
    assert "adaptive" in (report / "index.html").read_text() and "| synthetic |" in capsys.readouterr().out


def test_evaluate_command_errors_in_one_line(tmp_path, tiny_style, capsys):
    assert main(["evaluate", str(tmp_path / "missing.mp4"), "--style", str(tiny_style)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
