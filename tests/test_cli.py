"""The command line: one-line errors, non-zero exits, nothing overwritten, the happy paths."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from helpers import make_clip, tiny_training_args

from steadystyle.cli import main
from steadystyle.styles import style_paths


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "steadystyle", *args], capture_output=True, text=True, timeout=300)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_stylize_both_methods_with_stats(tmp_path, tiny_style, capsys):
    src = make_clip(tmp_path / "in.mp4", frames=6)
    for method in ("per-frame", "frame-diff"):
        out = tmp_path / f"{method}.mp4"
        code = main(["stylize", str(src), "-o", str(out), "--style", str(tiny_style), "--method", method,
                     "--stats", str(tmp_path / f"{method}.json"), "--quiet"])
        assert code == 0 and out.is_file()
        stats = json.loads((tmp_path / f"{method}.json").read_text())
        assert stats["method"] == method and stats["frames"] == 6
    assert "wrote" in capsys.readouterr().out


def test_mask_parameters_reach_the_stabilizer(tmp_path, tiny_style):
    """A lossless clip whose only change is a 16×16 square brightening by 20 grey levels per frame:
    the foreground the stabilizer re-stylizes follows from the options (the paper's closing:
    dilate the background, then erode it)."""
    import cv2

    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(4):
        image = np.full((48, 64, 3), 100, np.uint8)
        image[16:32, 24:40] = 100 + 20 * i
        cv2.imwrite(str(frames / f"{i:03d}.png"), image)

    def foreground(*options: str) -> list[float]:
        stats = tmp_path / "s.json"
        assert main(["stylize", str(frames), "-o", str(tmp_path / "o.mp4"), "--style", str(tiny_style),
                     "--method", "frame-diff", "--dilate-kernel", "3", "--dilate-iterations", "1",
                     "--erode-kernel", "3", *options, "--stats", str(stats), "--quiet"]) == 0
        return json.loads(stats.read_text())["foreground_fraction"]

    pixels = 48 * 64
    # |D| = 20 > 10: the square (shrunk 1 px by the dilation, grown 1 px back by one erosion)
    assert foreground("--threshold", "10", "--erode-iterations", "1") == [1.0] + [round(16 * 16 / pixels, 5)] * 3
    # three erosions grow it by 2 px more on each side: 20×20
    assert foreground("--threshold", "10", "--erode-iterations", "3") == [1.0] + [round(20 * 20 / pixels, 5)] * 3
    # |D| = 20 ≤ 25: nothing moved, the network is not run again
    assert foreground("--threshold", "25", "--erode-iterations", "1") == [1.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("args, phrase", [
    (["--threshold", "-1"], "threshold"),
    (["--threshold", "abc"], "threshold"),
    (["--method", "frame-diff", "--erode-kernel", "4"], "odd"),
    (["--dilate-iterations", "-2"], "negative"),
    (["--max-side", "0"], "at least 16"),
    (["--max-side", "15"], "at least 16"),
    (["--method", "optical-flow"], "method"),
    (["--style", "no-such-style"], "unknown style"),
])
def test_bad_parameters_one_line_and_nothing_written(tmp_path, args, phrase):
    src = make_clip(tmp_path / "in.mp4", frames=2)
    result = run_cli("stylize", str(src), "-o", str(tmp_path / "out.mp4"), *args)
    assert phrase in one_line_error(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_bad_inputs_one_line(tmp_path, tiny_style):
    (tmp_path / "notes.txt").write_text("not a video")
    (tmp_path / "empty.mp4").write_bytes(b"")
    src = make_clip(tmp_path / "in.mp4", frames=2)
    existing = tmp_path / "keep.mp4"
    existing.write_bytes(b"precious")
    cases = [
        [str(tmp_path / "missing.mp4"), "-o", str(tmp_path / "o.mp4")],
        [str(tmp_path / "notes.txt"), "-o", str(tmp_path / "o.mp4")],
        [str(tmp_path / "empty.mp4"), "-o", str(tmp_path / "o.mp4")],
        [str(src), "-o", str(src)],
        [str(src), "-o", str(tmp_path / "no" / "such" / "dir.mp4")],
        [str(src), "-o", str(tmp_path / "o.xyz")],
    ]
    for case in cases:
        line = one_line_error(run_cli("stylize", *case, "--style", str(tiny_style)))
        assert line.startswith("steadystyle: error:"), line
    assert not (tmp_path / "o.mp4").exists()
    assert existing.read_bytes() == b"precious"
    bad_model = tmp_path / "bad.pth"
    bad_model.write_bytes(b"garbage")
    line = one_line_error(run_cli("stylize", str(src), "-o", str(tmp_path / "o.mp4"), "--style", str(bad_model)))
    assert "bad.pth" in line


def test_styles_json_lists_name_painting_variant(capsys):
    assert main(["styles", "--json"]) == 0
    styles = json.loads(capsys.readouterr().out)
    from steadystyle.styles import default_style

    assert [s["name"] for s in styles if s["default"]] == [default_style()]  # exactly one, the real default
    assert sorted(s["name"] for s in styles) == sorted(style_paths())  # one entry per shipped file
    for s in styles:
        assert {"name", "painting", "variant"} <= set(s) and s["variant"] in ("full", "light")


def test_demo_writes_three_panels_and_frame_diff_flickers_less(tmp_path, tiny_style):
    from steadystyle.demo import run_demo
    from steadystyle.video import VideoReader

    result = run_demo(tmp_path / "demo.mp4", style=str(tiny_style), seconds=0.6, device="cpu", progress=False)
    with VideoReader(tmp_path / "demo.mp4") as reader:
        assert reader.info.width == 3 * 320 and reader.info.height == 240
        frames = [f.image for f in reader]
    assert len(frames) == result.frames == 15
    assert result.flicker_frame_diff < 0.5 * result.flicker_per_frame
    assert not np.array_equal(frames[-1][:, 320:640], frames[-1][:, 640:])


def test_train_command_and_resume(tmp_path, capsys):
    args = [*tiny_training_args(tmp_path), "--checkpoint-every", "1", "--threads", "1", "--quiet"]
    assert main([*args, "--iterations", "1"]) == 0
    assert main([*args, "--iterations", "2", "--resume"]) == 0
    from steadystyle.weights import read_metadata

    assert read_metadata(tmp_path / "m.safetensors")["iterations"] == 2
    line = one_line_error(run_cli("train", "--style-image", str(tmp_path / "nope.png"), "--content", str(tmp_path / "content"),
                                  "-o", str(tmp_path / "x.safetensors")))
    assert "style image not found" in line


def test_demo_command(tmp_path, tiny_style, capsys):
    assert main(["demo", "-o", str(tmp_path / "d.mp4"), "--style", str(tiny_style), "--seconds", "0.2", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "per-frame" in out and "frame-diff" in out and (tmp_path / "d.mp4").is_file()


def test_a_parameter_of_another_method_is_refused_not_ignored(tmp_path, tiny_style, capsys):
    src = make_clip(tmp_path / "in.mp4", frames=3)
    code = main(["stylize", str(src), "-o", str(tmp_path / "o.mp4"), "--style", str(tiny_style),
                 "--method", "per-frame", "--erode-kernel", "3", "--quiet"])
    assert code == 2 and not (tmp_path / "o.mp4").exists()
    assert "--erode-kernel is a parameter of --method frame-diff, not of --method per-frame" in capsys.readouterr().err



def test_an_option_several_methods_share_names_each_method_and_its_default():
    import argparse

    from steadystyle.commands.options import add_method_options

    parser = argparse.ArgumentParser()
    add_method_options(parser)
    (action,) = [a for a in parser._actions if "--flow-preset" in a.option_strings]
    assert action.help.startswith("flow, steady: DIS preset")
    assert "[flow: medium; steady: lean]" in action.help


def test_sigterm_while_the_parser_and_commands_are_built_is_one_line_and_143():
    """The command's handlers come before it builds its parser, which imports every command
    (and torch: seconds); a SIGTERM then is the one interrupted line and 128 + 15, not a silent
    death by the signal.  And importing the command itself does not import torch."""
    code = ("import os, signal, sys\n"
            "import steadystyle.cli as cli\n"
            "assert 'torch' not in sys.modules, 'the command imports torch before its handlers'\n"
            "build = cli.build_parser\n"
            "def signalled():\n"
            "    os.kill(os.getpid(), signal.SIGTERM)\n"
            "    return build()\n"
            "cli.build_parser = signalled\n"
            "sys.exit(cli.main(['styles']))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 143, (result.returncode, result.stderr)
    assert one_line_error(result) == "steadystyle: interrupted; no output was written" and result.stdout == ""
