"""Nothing the user has is lost (issue 22): image folders, names with %, single images.

Each test reproduces a way a user's file was destroyed or refused and checks it no longer is.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import H, W, make_clip, pattern_image

from steadystyle.cli import main
from steadystyle.errors import SteadyStyleError
from steadystyle.video import VideoReader, VideoWriter, check_output_path, is_image_sequence
from steadystyle.video.folder_output import MANIFEST


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (names relative to it) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def write_frames(out: str | Path, count: int, start: int = 0) -> None:
    with VideoWriter(out, W, H, 25) as writer:
        for i in range(count):
            writer.write(pattern_image(start + i))


def stylize(tiny_style: Path, src: Path | str, out: Path | str, *extra: str) -> int:
    return main(["stylize", str(src), "-o", str(out), "--style", str(tiny_style), "--method", "per-frame",
                 "--quiet", *extra])


def error_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


# -- a PNG folder output touches only files steadystyle wrote --------------------------------------

def test_numbered_pngs_the_run_did_not_write_are_kept(tmp_path):
    pics = tmp_path / "pics"
    pics.mkdir()
    mine = {"2024.png": b"holiday", "7.png": b"seven", "notes.txt": b"keep me", "000001.jpg": b"a jpeg"}
    for name, data in mine.items():
        (pics / name).write_bytes(data)
    write_frames(f"{pics}/", 3)
    assert visible(pics) == sorted([*mine, "000001.png", "000002.png", "000003.png"])
    write_frames(pics, 1, start=5)  # a shorter rerun: our frames 2 and 3 go, the user's files stay
    assert visible(pics) == sorted([*mine, "000001.png"])
    assert all((pics / name).read_bytes() == data for name, data in mine.items())
    with VideoReader(pics / "%06d.png") as reader:
        assert np.array_equal(next(iter(reader)).image, pattern_image(5))


def test_a_user_file_a_frame_would_replace_is_refused_before_any_work(tmp_path):
    pics = tmp_path / "pics"
    pics.mkdir()
    (pics / "000002.png").write_bytes(b"the user's own frame")
    before = snapshot(pics)
    with pytest.raises(SteadyStyleError, match=r"000002\.png, not written by steadystyle.*nothing was written"):
        VideoWriter(pics, W, H, 25)
    with pytest.raises(SteadyStyleError, match="not written by steadystyle"):
        VideoWriter(pics / "%06d.png", W, H, 25)
    VideoWriter(pics / "%03d.png", W, H, 25).abort()  # another pattern cannot reach that name
    assert snapshot(pics) == before and os.listdir(pics) == ["000002.png"]


def test_one_of_our_frames_the_user_edited_is_theirs_now(tmp_path):
    pics = tmp_path / "pics"
    write_frames(f"{pics}/", 2)
    (pics / "000002.png").write_bytes(b"retouched by hand")
    with pytest.raises(SteadyStyleError, match="000002.png, not written by steadystyle"):
        write_frames(pics, 2)
    with pytest.raises(SteadyStyleError, match="not written by steadystyle"):
        write_frames(pics, 1)  # any frame of a run could reach that name: refused before any work
    assert (pics / "000002.png").read_bytes() == b"retouched by hand"
    (pics / "000002.png").rename(tmp_path / "kept.png")
    write_frames(pics, 1)  # moved away: the folder takes the run again
    assert visible(pics) == ["000001.png"] and (tmp_path / "kept.png").read_bytes() == b"retouched by hand"


def test_a_sequence_into_an_existing_folder_arrives_whole_or_not_at_all(tmp_path, monkeypatch):
    pics = tmp_path / "pics"
    pics.mkdir()
    (pics / "2024.png").write_bytes(b"holiday")
    write_frames(pics, 3)
    before = snapshot(pics)
    real_replace = os.replace
    calls = []

    def failing_replace(src, dst):
        calls.append((src, dst))
        if len(calls) == 6:  # a few frames already moved in, old ones moved out
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(SteadyStyleError, match="cannot finish"):
        write_frames(pics, 4, start=10)
    monkeypatch.setattr(os, "replace", real_replace)
    assert len(calls) > 6  # the moves done were undone
    assert snapshot(pics) == before  # the old frames, the manifest and the user's file, byte-identical


def test_ctrl_c_during_the_final_moves_changes_nothing(tmp_path, monkeypatch):
    pics = tmp_path / "pics"
    write_frames(f"{pics}/", 2)
    before = snapshot(pics)
    real_replace = os.replace
    count = [0]

    def interrupted(src, dst):
        count[0] += 1
        if count[0] == 3:
            raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_frames(pics, 3, start=4)
    monkeypatch.setattr(os, "replace", real_replace)
    assert snapshot(pics) == before


def test_the_cli_into_a_folder_of_photos_keeps_them(tmp_path, tiny_style):
    src = make_clip(tmp_path / "in.mp4", frames=2)
    pics = tmp_path / "pics"
    pics.mkdir()
    for name in ("2024.png", "7.png"):
        cv2.imwrite(str(pics / name), pattern_image(9))
    before = snapshot(pics)
    assert stylize(tiny_style, src, f"{pics}/") == 0
    assert stylize(tiny_style, src, pics) == 0  # the same command again replaces its own frames
    assert visible(pics) == ["000001.png", "000002.png", "2024.png", "7.png"]
    assert all(snapshot(pics)[name] == data for name, data in before.items())
    assert MANIFEST in os.listdir(pics)


# -- a name with % in it is a file when it is one -----------------------------------------------------

def test_a_video_called_50_percent_done_is_read_and_written(tmp_path):
    out = tmp_path / "50%done.mp4"
    assert not is_image_sequence(out)
    write_frames(out, 3)
    assert out.is_file() and not is_image_sequence(out)
    copy = tmp_path / "copy 100%d.mkv"  # a real field, but a video extension: a file
    with VideoReader(out) as reader, VideoWriter(copy, W, H, 25) as writer:
        for frame in reader:
            writer.write(frame.image, frame.time)
    with VideoReader(copy) as reader:
        assert reader.info.frame_count in (None, 3) and sum(1 for _ in reader) == 3


def test_an_existing_image_whose_name_looks_like_a_pattern_is_that_image(tmp_path):
    odd = tmp_path / "frame%05d.png"  # a real file with a pattern-like name
    cv2.imwrite(str(odd), cv2.cvtColor(pattern_image(1), cv2.COLOR_RGB2BGR))
    with VideoReader(odd) as reader:
        (frame,) = list(reader)
    assert np.array_equal(frame.image, pattern_image(1))


def test_a_pattern_with_a_literal_percent_elsewhere(tmp_path):
    folder = tmp_path / "done 100%"
    folder.mkdir()
    write_frames(folder / "50%_%03d.png", 2)
    assert visible(folder) == ["50%_001.png", "50%_002.png"]
    with VideoReader(folder / "50%_%03d.png") as reader:
        assert sum(1 for _ in reader) == 2


def test_the_cli_reads_and_writes_50_percent_done(tmp_path, tiny_style):
    src = tmp_path / "50%done.mp4"
    write_frames(src, 2)
    assert stylize(tiny_style, src, tmp_path / "painted 50%done.mp4") == 0
    with VideoReader(tmp_path / "painted 50%done.mp4") as reader:
        assert sum(1 for _ in reader) == 2


# -- one image in, one image out ------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_a_photo_gives_one_image(tmp_path, tiny_style, suffix):
    photo = tmp_path / "photo.jpg"
    cv2.imwrite(str(photo), cv2.cvtColor(pattern_image(2, 37, 23), cv2.COLOR_RGB2BGR))
    out = tmp_path / f"out{suffix}"
    assert stylize(tiny_style, photo, out) == 0
    image = cv2.imread(str(out))
    assert image is not None and image.shape == (23, 37, 3)
    assert sorted(os.listdir(tmp_path)) == sorted(["photo.jpg", out.name])  # no temporary left


def test_a_png_image_round_trip_is_exact(tmp_path):
    image = pattern_image(3)
    write_frames(tmp_path / "one.png", 1, start=3)
    with VideoReader(tmp_path / "one.png") as reader:
        (frame,) = list(reader)
        assert reader.info.frame_count == 1
    assert np.array_equal(frame.image, image)


def test_many_frames_into_one_image_are_refused_in_one_line(tmp_path, tiny_style, capsys):
    src = make_clip(tmp_path / "in.mp4", frames=3)
    keep = tmp_path / "out.png"
    keep.write_bytes(b"an older picture")
    assert stylize(tiny_style, src, keep) == 2
    (line,) = error_lines(capsys)
    assert line.startswith("steadystyle: error: ") and "one image" in line and "%06d.png" in line
    assert keep.read_bytes() == b"an older picture"
    with pytest.raises(SteadyStyleError, match="is one image, and a second frame came"):
        write_frames(keep, 2)
    assert keep.read_bytes() == b"an older picture" and sorted(os.listdir(tmp_path)) == ["in.mp4", "out.png"]
    frames = tmp_path / "frames"
    write_frames(f"{frames}/", 2)
    with pytest.raises(SteadyStyleError, match="has more frames"):
        check_output_path(keep, frames)  # a folder of images in
    assert check_output_path(keep, frames / "000001.png") == keep  # one of its images is fine


# -- export-onnx never replaces its model; a damaged ONNX cache entry is exported again ---------------------

def _onnx_available() -> bool:
    from steadystyle.backends import onnx_available

    return onnx_available()


needs_onnx = pytest.mark.skipif(not _onnx_available(), reason="onnx/onnxscript/onnxruntime not installed")


@needs_onnx
def test_export_onnx_onto_its_own_model_is_refused(tmp_path, tiny_style, capsys):
    model = tmp_path / "m.safetensors"
    model.write_bytes(tiny_style.read_bytes())
    link = tmp_path / "link.onnx"  # a name export-onnx writes, but the model behind it
    link.symlink_to(model)
    for output, phrase in ((model, "name it m.onnx"), (link, "is the STYLE")):
        assert main(["export-onnx", str(model), "-o", str(output)]) == 2
        (line,) = error_lines(capsys)
        assert line.startswith("steadystyle: error: ") and phrase in line
    assert model.read_bytes() == tiny_style.read_bytes()


@pytest.mark.parametrize("output, name", [("x.txt", "x.onnx"), ("model", "model.onnx"), ("x.onnx/", "x.onnx"),
                                          ("x.safetensors", "x.onnx"), ("missing/x.txt", "x.onnx")])
def test_export_onnx_to_a_name_not_ending_in_onnx_is_one_line_before_any_work(tmp_path, tiny_style, capsys,
                                                                             monkeypatch, output, name):
    """Refused before the model is loaded or ONNX imported, and nothing is created; an existing
    file of that name is left as it was."""
    import steadystyle.styles

    def no_loading(*args, **kwargs):
        raise AssertionError("the model was loaded before the name was checked")

    monkeypatch.setattr(steadystyle.styles, "load_style", no_loading)
    monkeypatch.chdir(tmp_path)
    keep = tmp_path / "x.txt"
    keep.write_text("the user's notes")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["export-onnx", str(tiny_style), "-o", output]) == 2
    (line,) = error_lines(capsys)
    assert line == f"steadystyle: error: -o {output}: the model is written as ONNX; name it {name} (a .onnx " \
                   f"file), nothing was written"
    assert sorted(p.name for p in tmp_path.iterdir()) == before and keep.read_text() == "the user's notes"


@needs_onnx
def test_write_onnx_refuses_another_extension(tmp_path):
    from steadystyle.backends.onnx import write_onnx

    with pytest.raises(SteadyStyleError, match=r"name it x\.onnx"):
        write_onnx(object(), tmp_path / "x.txt")
    assert list(tmp_path.iterdir()) == []


@needs_onnx
def test_a_truncated_onnx_cache_entry_is_exported_again(tmp_path, tiny_style, monkeypatch):
    import onnx

    from steadystyle.backends import make_stylizer
    from steadystyle.backends.onnx import cached_graph
    from steadystyle.weights import load_model

    monkeypatch.setenv("STEADYSTYLE_CACHE", str(tmp_path / "cache"))
    model = load_model(tiny_style)
    whole = cached_graph(model, "record")
    (entry,) = (tmp_path / "cache" / "onnx").glob("*.onnx")
    entry.write_bytes(whole[: len(whole) // 3])  # a killed export or a full disk
    again = cached_graph(model, "record")
    onnx.load_from_string(again)  # parses
    assert len(again) == len(whole)
    (entry,) = (tmp_path / "cache" / "onnx").glob("*.onnx")
    assert entry.read_bytes() == again  # the damaged entry replaced by a whole one
    entry.write_bytes(b"\x00" * len(again))  # same size, wrong bytes: caught by the content hash
    stylizer = make_stylizer(tiny_style, backend="onnx", device="cpu")
    out = stylizer(pattern_image(0))
    assert out.shape == (H, W, 3) and out.dtype == np.uint8
