"""``steadystyle evaluate`` and the runner behind it, on a tiny synthetic clip."""

import json
import os

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


def _no_work(monkeypatch):
    """Fail the test if the command builds a stylizer (the work starts there)."""
    from steadystyle.spec import RunSpec

    def refuse(self, *a, **k):
        raise AssertionError("work started before the paths were checked")

    monkeypatch.setattr(RunSpec, "stylizer", refuse)


def test_report_onto_an_input_or_a_file_is_one_line_before_any_work(tmp_path, tiny_style, capsys, monkeypatch):
    _no_work(monkeypatch)
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"not really a video, but the user's")
    for report, words in ((clip, "is a file"), (tmp_path / "missing" / "deeper" / "r", "no such folder")):
        assert main(["evaluate", str(clip), "--style", str(tiny_style), "--report", str(report)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("steadystyle: error: --report") and words in err, err
    assert clip.read_bytes() == b"not really a video, but the user's"
    assert not (tmp_path / "missing").exists()
    # an input folder of frames as the report folder
    frames = tmp_path / "frames"
    frames.mkdir()
    assert main(["evaluate", str(frames), "--style", str(tiny_style), "--report", str(frames)]) == 2
    assert "is the input" in capsys.readouterr().err and list(frames.iterdir()) == []
    # a missing input is found before the report folder is made
    assert main(["evaluate", str(tmp_path / "gone.mp4"), "--style", str(tiny_style), "--report", str(tmp_path / "r")]) == 2
    assert "no such file" in capsys.readouterr().err and not (tmp_path / "r").exists()


def test_report_folder_that_is_not_writable_is_refused(tmp_path, monkeypatch):
    """The same check as root (for whom permissions do not apply): ``os.access`` says no."""
    from steadystyle.evaluate.report import check_report_paths

    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **k: False if "locked" in str(p) else real(p, mode, **k))
    (tmp_path / "locked").mkdir()
    with pytest.raises(SteadyStyleError, match="locked: folder is not writable"):
        check_report_paths(tmp_path / "locked", {})
    with pytest.raises(SteadyStyleError, match="folder .*locked is not writable"):
        check_report_paths(tmp_path / "locked" / "report", {})
    assert check_report_paths(tmp_path / "fine", {}) == tmp_path / "fine" and not (tmp_path / "fine").exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a user that folder permissions apply to")
def test_report_in_an_unwritable_folder_is_one_line_before_any_work(tmp_path, tiny_style, capsys, monkeypatch):
    _no_work(monkeypatch)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        for report in (locked, locked / "report"):
            assert main(["evaluate", "synthetic", "--style", str(tiny_style), "--report", str(report)]) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and "not writable" in err, err
    finally:
        locked.chmod(0o700)


def test_report_files_are_written_atomically(tmp_path, monkeypatch):
    from steadystyle.evaluate import report as report_module

    clip = {"clip": "c", "size": "4×4", "frames": 2,
            "methods": {"per-frame": {"mean": {"warping_error": 1.0}, "curves": {k: [0.0] for k, _ in report_module.CURVES}}}}
    data = {"command": "steadystyle evaluate c", "settings": {}, "machine": "test", "summary": summarize([clip]),
            "clips": [clip]}
    folder = tmp_path / "report"
    report_module.write_report(folder, data, [])
    assert {p.name for p in folder.iterdir()} == {"report.json", "report.md", "index.html", "summary.png", "curves_c.png"}
    old = (folder / "index.html").read_bytes()

    import steadystyle.atomic as atomic

    real_open = open

    def failing_open(path, *a, **k):
        if ".index.html.tmp-" in str(path) and a[:1] == ("w",):
            f = real_open(path, *a, **k)
            f.write("half a page")
            f.flush()
            raise KeyboardInterrupt
        return real_open(path, *a, **k)

    monkeypatch.setattr(atomic, "open", failing_open, raising=False)
    with pytest.raises(KeyboardInterrupt):
        report_module.write_report(folder, data, [])
    assert (folder / "index.html").read_bytes() == old  # the previous page, byte for byte
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # no temporary left behind


@pytest.mark.parametrize("stop_at", [1, 2])
def test_an_interrupted_evaluate_says_what_it_kept_and_leaves_no_empty_report_folder(tmp_path, tiny_style, capsys,
                                                                                     monkeypatch, stop_at):
    """Stopped in the first clip: the report folder it created is gone again and the line says
    nothing was written.  Stopped in the second: partial.json holds the first clip, and the line
    says so (it said 'no output was written')."""
    import steadystyle.evaluate.runner as runner
    from steadystyle.errors import Interrupted

    real, calls = runner.evaluate_clip, []

    def evaluate_clip(*args, **kwargs):
        calls.append(1)
        if len(calls) == stop_at:
            raise Interrupted(15)
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "evaluate_clip", evaluate_clip)
    report = tmp_path / "new" / "report"
    (tmp_path / "new").mkdir()
    code = main(["evaluate", "synthetic", "synthetic", "--methods", "frame-diff", "--style", str(tiny_style),
                 "--backend", "torch", "--device", "cpu", "--max-frames", "6", "--size", "64", "--no-faces",
                 "--no-video", "--quiet", "--report", str(report)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 143 and len(err) == 1, err
    if stop_at == 1:
        assert err == ["steadystyle: interrupted; no output was written"] and list((tmp_path / "new").iterdir()) == []
    else:
        assert err == [f"steadystyle: evaluate interrupted; the clips measured so far are in {report}/partial.json, "
                       f"no report was written"]
        assert len(json.loads((report / "partial.json").read_text())["clips"]) == 1
        assert not (report / "report.json").exists()


@pytest.mark.parametrize("argv, phrase", [
    (["--style-image", "{tmp}/notes.txt"], "--style-image {tmp}/notes.txt: not an image OpenCV can read"),
    (["--style-image", "{tmp}/none.jpg"], "--style-image {tmp}/none.jpg: no such file"),
    (["--size", "100000"], "--size 100000: at most 7680 pixels wide"),
    (["--max-frames", "100000000"], "synthetic: 100000000 frames at 96×72, held 4 times for the measures, need about"),
])
def test_evaluate_values_that_crashed_or_ran_out_of_memory_are_one_line_before_any_work(tmp_path, tiny_style, capsys,
                                                                                       argv, phrase):
    """A text file as --style-image was an AttributeError traceback after the clips were measured;
    --size 100000 got the process killed for memory; --max-frames 10⁸ built a synthetic clip frame
    after frame until memory ran out.  No report folder is created."""
    (tmp_path / "notes.txt").write_text("not a painting")
    code = main(["evaluate", "synthetic", "--methods", "frame-diff", "--style", str(tiny_style), "--backend", "torch",
                 "--device", "cpu", "--max-frames", "4", "--size", "96", "--no-faces", "--quiet",
                 "--report", str(tmp_path / "report"), *[a.format(tmp=tmp_path) for a in argv]])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith(f"steadystyle: error: {phrase.format(tmp=tmp_path)}"), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_an_evaluate_failing_after_it_made_the_report_folder_removes_it(tmp_path, tiny_style, capsys, monkeypatch):
    import steadystyle.evaluate.runner as runner

    def broken(*args, **kwargs):
        raise SteadyStyleError("a clip that cannot be measured")

    monkeypatch.setattr(runner, "evaluate_clip", broken)
    assert main(["evaluate", "synthetic", "--methods", "frame-diff", "--style", str(tiny_style), "--backend", "torch",
                 "--device", "cpu", "--max-frames", "4", "--size", "96", "--no-faces", "--quiet",
                 "--report", str(tmp_path / "report")]) == 2
    assert capsys.readouterr().err.strip() == "steadystyle: error: a clip that cannot be measured"
    assert list(tmp_path.iterdir()) == []


def test_two_clips_of_one_name_keep_their_own_video_and_curves(tmp_path, tiny_style):
    """a/x.mp4 and b/x.mp4 wrote the same videos/x.mp4 and curves file: the second replaced the first."""
    from helpers import make_clip

    from steadystyle.commands.evaluate import clip_labels

    assert clip_labels(["a/x.mp4", "b/x.mp4", "x.mp4 (2)", "synthetic", "c/a b.mp4", "d/a_b.mp4"]) == [
        "x.mp4", "x.mp4 (2)", "x.mp4 (2) (2)", "synthetic", "a b.mp4", "a_b.mp4 (2)"]
    for folder, size in (("a", (64, 48)), ("b", (80, 48))):
        (tmp_path / folder).mkdir()
        make_clip(tmp_path / folder / "x.mp4", frames=4, size=size)
    report = tmp_path / "report"
    code = main(["evaluate", str(tmp_path / "a" / "x.mp4"), str(tmp_path / "b" / "x.mp4"), "--methods", "frame-diff",
                 "--style", str(tiny_style), "--max-frames", "4", "--size", "64", "--report", str(report), "--quiet",
                 "--no-faces"])
    assert code == 0
    data = json.loads((report / "report.json").read_text())
    assert [c["clip"] for c in data["clips"]] == ["x.mp4", "x.mp4 (2)"]
    videos = sorted(p.name for p in (report / "videos").iterdir())
    curves = sorted(p.name for p in report.glob("curves_*.png"))
    assert len(videos) == 2 and len(curves) == 2, (videos, curves)


def test_parse_methods_names_a_value_of_the_wrong_kind():
    # ':' instead of ';' between parameters used to end in a ValueError traceback
    with pytest.raises(SteadyStyleError, match="flow_side takes a whole number.*separate parameters with ';'"):
        parse_methods("steady:flow_side=320:key_frames=24")
    with pytest.raises(SteadyStyleError, match="fade_contrast takes a number"):
        parse_methods("steady:fade_contrast=high")
    spec = parse_methods("steady:flow_side=320;key_frames=24;fade_contrast=1;flow_preset=fast")[0]
    assert (spec.params.flow_side, spec.params.key_frames, spec.params.flow_preset) == (320, 24, "fast")
    assert isinstance(spec.params.fade_contrast, float)
