"""``steadystyle evaluate`` and the runner behind it, on a tiny synthetic clip."""

import json

import numpy as np
import pytest

from steadystyle.cli import main
from steadystyle.errors import SteadyStyleError
from steadystyle.evaluate.clips import load_clip
from steadystyle.evaluate.runner import evaluate_clip, parse_methods
from steadystyle.evaluate.summary import summarize
from steadystyle.spec import RunSpec


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


def test_runner_measures_every_method_built_through_a_run_spec(tiny_style):
    clip = load_clip("synthetic", 8, 96)
    assert clip.frames[0].shape == (72, 96, 3) and clip.clean is not None
    spec = RunSpec(style=str(tiny_style), backend="torch", device="cpu")
    result, outputs = evaluate_clip(clip, spec, parse_methods("frame-diff,steady"))
    assert list(result["methods"]) == ["per-frame", "frame-diff", "steady"]  # the baseline is measured first
    pf, fd, st = (result["methods"][k] for k in ("per-frame", "frame-diff", "steady"))
    assert pf["mean"]["ghost_proxy"] == 0.0 and pf["mean"]["seams"] == 0.0 and pf["mean"]["network_share"] == 1.0
    assert fd["mean"]["static_flicker"] < 0.2 * pf["mean"]["static_flicker"]
    assert fd["mean"]["network_share"] < 1.0 and st["mean"]["network_share"] < 1.0  # region passes, really asked for
    for key in ("warping_error", "warping_error_moving", "static_flicker"):
        assert len(pf["curves"][key]) == 7
    assert len(pf["curves"]["exact_ghosts"]) == 8 and len(pf["curves"]["sharpness"]) == 8
    assert np.array_equal(outputs["frame-diff"][0], outputs["per-frame"][0])  # both start from S(0)
    # the moving-region error is over fewer pixels than the whole-frame one, and larger where the frame is frozen
    assert 0.0 < result["moving_share"] < result["reliable_flow_share"]
    assert fd["mean"]["warping_error_moving"] > fd["mean"]["warping_error"]
    summary = summarize([result])
    fd_row = summary["per_clip"][0]["methods"]["frame-diff"]
    assert fd_row["warping_error_ratio"] < 1.0 and 0.5 < fd_row["sharpness_ratio"] <= 1.05


def test_evaluate_rejects_a_stylizer_of_the_wrong_shape(tiny_style):
    clip = load_clip("synthetic", 3, 96)

    class Broken:
        name, backend, max_side, context = "broken", "test", None, 0

        def __call__(self, image):
            return image[:-2]

        def stylize_region(self, image, box):
            return image[box.slices()]

        def synchronize(self):
            pass

    with pytest.raises(SteadyStyleError):
        evaluate_clip(clip, RunSpec(style=str(tiny_style)), parse_methods("steady"), stylizer=Broken())


def test_evaluate_command_writes_the_report(tmp_path, tiny_style, capsys):
    report = tmp_path / "report"
    code = main(["evaluate", "synthetic", "--methods", "frame-diff,adaptive", "--style", str(tiny_style),
                 "--max-frames", "5", "--size", "96", "--report", str(report), "--quiet"])
    assert code == 0
    data = json.loads((report / "report.json").read_text())
    assert list(data["methods"]) == ["per-frame", "frame-diff", "adaptive"]  # the baseline is always measured
    assert data["settings"]["backend"] in ("torch", "onnx", "openvino")
    assert data["settings"]["warping_error"]["preset"] == "medium" and data["settings"]["width"] == 96
    assert data["clips"][0]["size"] == "96×72" and data["methods"]["adaptive"]["params"]["regions"] is True
    for name in ("index.html", "report.md", "summary.png", "curves_synthetic.png", "videos/synthetic.mp4"):
        assert (report / name).stat().st_size > 0, name
    assert "adaptive" in (report / "index.html").read_text() and "| synthetic |" in capsys.readouterr().out


def test_evaluate_command_errors_in_one_line(tmp_path, tiny_style, capsys):
    assert main(["evaluate", str(tmp_path / "missing.mp4"), "--style", str(tiny_style)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
