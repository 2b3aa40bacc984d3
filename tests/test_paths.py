"""The one check of a command's paths: nothing read is written, nothing is written twice."""

from __future__ import annotations

import os

import pytest

from steadystyle.errors import SteadyStyleError
from steadystyle.paths import check_paths, same_file


def test_an_output_that_is_an_input_is_refused_through_links(tmp_path):
    video = tmp_path / "call.mp4"
    video.write_bytes(b"precious")
    link = tmp_path / "link.mp4"
    link.symlink_to(video)
    for writes in ({"--stats": video}, {"--record": link}, {"--stats": tmp_path / "sub" / ".." / "call.mp4"}):
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(SteadyStyleError, match="is the --input"):
            check_paths({"--input": video}, writes)
    assert video.read_bytes() == b"precious"


def test_two_outputs_naming_one_file_are_refused(tmp_path):
    with pytest.raises(SteadyStyleError, match="--output and --stats name the same file"):
        check_paths({}, {"--output": tmp_path / "a.mp4", "--stats": tmp_path / "a.mp4"})
    hard = tmp_path / "h.json"
    hard.write_text("{}")
    os.link(hard, tmp_path / "h2.json")
    assert same_file(hard, tmp_path / "h2.json")
    with pytest.raises(SteadyStyleError, match="name the same file"):
        check_paths({}, {"--stats": hard, "--report": tmp_path / "h2.json"})


def test_a_missing_or_unwritable_folder_is_one_line_before_any_work(tmp_path):
    with pytest.raises(SteadyStyleError, match=r"--stats .*no such folder"):
        check_paths({}, {"--stats": tmp_path / "nodir" / "s.json"})
    with pytest.raises(SteadyStyleError, match="is a folder"):
        check_paths({}, {"--stats": tmp_path})
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        with pytest.raises(SteadyStyleError, match="not writable"):
            check_paths({}, {"--stats": ro / "s.json"})


def test_distinct_paths_pass(tmp_path):
    (tmp_path / "in.mp4").write_bytes(b"x")
    check_paths({"--input": tmp_path / "in.mp4"}, {"--record": tmp_path / "out.mp4", "--stats": tmp_path / "s.json",
                                                   "--unused": None})


def test_stylize_never_writes_stats_over_the_input_or_the_output(tmp_path, tiny_style, capsys):
    from helpers import make_clip
    from steadystyle.cli import main

    clip = make_clip(tmp_path / "x.mp4", frames=3)
    keep = tmp_path / "keep.mp4"
    keep.write_bytes(b"the earlier result")
    before = clip.read_bytes()
    cases = [["--stats", str(clip)], ["--stats", str(keep)], ["--stats", str(tmp_path / "nodir" / "s.json")]]
    for extra in cases:
        status = main(["stylize", str(clip), "-o", str(keep), "--style", str(tiny_style), "--backend", "torch",
                       "--device", "cpu", "--quiet", *extra])
        err = capsys.readouterr().err.strip().splitlines()
        assert status == 2 and len(err) == 1 and err[0].startswith("steadystyle: error:"), err
        assert clip.read_bytes() == before and keep.read_bytes() == b"the earlier result"


def test_no_command_writes_over_the_style_model_it_reads(tmp_path, tiny_style, capsys, monkeypatch):
    """``--stats MODEL`` turned the style file into JSON (the model was a read file no check named):
    stylize, live (--style and each of --styles) and evaluate refuse it in one line; the shipped
    style's file, found by its name, is a read file too."""
    from helpers import make_clip
    from steadystyle.cli import main
    from steadystyle.spec import RunSpec
    from steadystyle.styles import style_paths

    clip = make_clip(tmp_path / "x.mp4", frames=3, size=(32, 24))
    model = tmp_path / "m.safetensors"
    model.write_bytes(tiny_style.read_bytes())
    link = tmp_path / "link.json"
    link.symlink_to(model)
    common = ["--backend", "torch", "--device", "cpu", "--quiet"]
    runs = [["stylize", str(clip), "-o", str(tmp_path / "o.mp4"), "--style", str(model), *common, "--stats", str(model)],
            ["stylize", str(clip), "-o", str(tmp_path / "o.mp4"), "--style", str(model), *common, "--stats", str(link)],
            ["live", "--input", str(clip), "--size", "32x24", "--style", str(model), *common, "--stats", str(link)],
            ["live", "--input", str(clip), "--size", "32x24", "--styles", f"{tiny_style},{model}", *common,
             "--stats", str(model)]]
    for argv in runs:
        assert main(argv) == 2, argv
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line.startswith("steadystyle: error: --stats ") and f"{model}; choose another file" in line, line
        assert model.read_bytes() == tiny_style.read_bytes()
    assert not (tmp_path / "o.mp4").exists()
    assert RunSpec(style=str(link)).style_file() == link and RunSpec(style="no-such-style").style_file() is None
    shipped = style_paths()
    if shipped:
        name, path = next(iter(shipped.items()))
        assert RunSpec(style=name).style_file() == path


def test_the_input_is_named_once_in_the_refusal(tmp_path, tiny_style, capsys):
    from helpers import make_clip
    from steadystyle.cli import main

    clip = make_clip(tmp_path / "x.mp4", frames=3)
    assert main(["stylize", str(clip), "-o", str(tmp_path / "o.mp4"), "--style", str(tiny_style), "--quiet",
                 "--stats", str(clip)]) == 2
    err = capsys.readouterr().err
    assert f"--stats {clip}: is the input {clip}; choose another file" in err and "the the" not in err


def test_a_frame_of_an_image_sequence_input_is_never_written_over(tmp_path, tiny_style, capsys):
    """``stylize frames/ -o out/ --stats frames/00001.png`` replaced the first frame with JSON (the
    folder was the read, not its frames); stylize (folder or pattern) and live --input refuse it."""
    import cv2
    import numpy as np
    from steadystyle.cli import main

    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(1, 4):
        cv2.imwrite(str(frames / f"{i:05d}.png"), np.full((24, 32, 3), 40 * i, np.uint8))
    before = {p.name: p.read_bytes() for p in frames.iterdir()}
    link = tmp_path / "s.json"
    link.symlink_to(frames / "00003.png")
    common = ["--style", str(tiny_style), "--backend", "torch", "--device", "cpu", "--quiet"]
    runs = [(["stylize", str(frames), "-o", f"{tmp_path}/out/", *common, "--stats", str(frames / "00001.png")],
             "is the input frame 1 "),
            (["stylize", str(frames / "%05d.png"), "-o", str(tmp_path / "o.mp4"), *common, "--stats", str(link)],
             "is the input frame 3 "),
            (["live", "--input", str(frames), "--size", "32x24", *common, "--stats", str(frames / "00002.png")],
             "is the --input frame 2 ")]
    for argv, phrase in runs:
        assert main(argv) == 2, argv
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line.startswith("steadystyle: error: --stats ") and phrase in line, line
    assert {p.name: p.read_bytes() for p in frames.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames", "s.json"]


def test_check_paths_with_thousands_of_reads_finds_the_one_named(tmp_path):
    (tmp_path / "x").mkdir()
    reads = {f"frame {i}": tmp_path / f"{i:05d}.png" for i in range(5000)}
    for path in list(reads.values())[:50]:
        path.write_bytes(b"x")
    check_paths(reads, {"--stats": tmp_path / "s.json"})
    with pytest.raises(SteadyStyleError, match="is the frame 4999 "):
        check_paths(reads, {"--stats": tmp_path / "04999.png"})
    with pytest.raises(SteadyStyleError, match="is the frame 7 "):
        check_paths(reads, {"-o": tmp_path / "x" / ".." / "00007.png"})
