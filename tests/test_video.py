"""Tests for steadystyle.video: every clip is generated here with PyAV (tiny, a few frames)."""

from __future__ import annotations

import os
import re
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from steadystyle.errors import SteadyStyleError
from steadystyle.video import (
    VideoReader,
    VideoWriter,
    check_output_path,
    is_image_sequence,
)

from helpers import H, W, audio_summary, make_clip, pattern_image, read_all


# ----------------------------------------------------------------------------------------------
# helpers


def copy_frames(src: Path, dst: Path, **kwargs) -> None:
    with VideoReader(src) as reader:
        with VideoWriter(
            dst, reader.info.width, reader.info.height, reader.info.fps, **kwargs
        ) as writer:
            for frame in reader:
                writer.write(frame.image, frame.time)


def visible(folder: Path) -> list[str]:
    """The names in ``folder`` a user sees (hidden files, like the frames manifest, left out)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


# ----------------------------------------------------------------------------------------------
# reading


def test_reader_info_and_frames(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "in.mp4", frames=12, fps=25)
    with VideoReader(clip) as reader:
        info = reader.info
        frames = list(reader)
    assert (info.width, info.height, info.fps) == (W, H, Fraction(25))
    assert info.frame_count == 12 and not info.has_audio and info.rotation == 0
    assert len(frames) == 12
    assert [f.index for f in frames] == list(range(12))
    for f in frames:
        assert f.image.shape == (H, W, 3) and f.image.dtype == np.uint8
        assert f.image.flags.c_contiguous and f.image.flags.writeable
    assert np.allclose([f.time for f in frames], [i / 25 for i in range(12)], atol=1e-3)
    # RGB order: red grows with x, green with y.
    image = frames[0].image.astype(int)
    assert image[:, -4:, 0].mean() > image[:, :4, 0].mean() + 150
    assert image[-4:, :, 1].mean() > image[:4, :, 1].mean() + 150


def test_reader_can_iterate_twice(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "in.mkv", frames=5)
    with VideoReader(clip) as reader:
        first = [f.time for f in reader]
        second = [f.time for f in reader]
    assert len(first) == 5 and first == second


def test_reorders_decode_order_timestamps(tmp_path: Path) -> None:
    """AVI stores decode-order timestamps; with B-frames they reach the frames out of order."""
    clip = make_clip(tmp_path / "in.avi", frames=15, fps=25)
    with av.open(str(clip)) as container:
        raw = [f.pts for f in container.decode(video=0)]
    assert raw != sorted(raw), "test premise: PyAV hands out unsorted timestamps for this AVI"
    _, times = read_all(clip)
    assert len(times) == 15 and np.all(np.diff(times) > 0)
    # (the AVI demuxer invents the last frame's timestamp: leave that one out)
    assert np.allclose(np.diff(times[:-1]), 1 / 25, atol=1e-3)


def test_raw_h264_uses_index_over_fps(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "in.264", frames=6, fps=25)
    with VideoReader(clip) as reader:
        assert reader.info.fps == 25
        times = [f.time for f in reader]
    assert np.allclose(times, [i / 25 for i in range(6)])
    with VideoReader(clip, fps=10) as reader:
        assert reader.info.fps == 10
        assert np.allclose([f.time for f in reader], [i / 10 for i in range(6)])


def test_gif_input(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("gif", rate=10)
        stream.width, stream.height, stream.pix_fmt = W, H, "rgb8"
        for i in range(4):
            image = np.zeros((H, W, 3), np.uint8)
            image[:, : W // 2] = (255, 0, 0)
            image[:, W // 2 :] = (0, 0, 255) if i % 2 else (0, 255, 0)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="rgb8")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    images, times = read_all(path)
    assert len(images) == 4 and images[0].shape == (H, W, 3)
    assert np.all(np.diff(times) > 0)
    left, right = images[1][:, : W // 2].mean(axis=(0, 1)), images[1][:, W // 2 :].mean(axis=(0, 1))
    assert np.allclose(left, (255, 0, 0), atol=20) and np.allclose(right, (0, 0, 255), atol=20)


@pytest.mark.parametrize("rotation", [-90, 90, 180])
def test_rotation_metadata_applied(tmp_path: Path, rotation: int) -> None:
    """Phone clips: the display matrix says how to turn the picture upright.

    -90 is what phones write for portrait video (tkhd matrix [0 1; -1 0]; ffprobe "rotation of
    -90.00 degrees"): ffmpeg turns such pictures 90° clockwise, i.e. -90° counter-clockwise.
    """
    clip = make_clip(tmp_path / "phone.mp4", frames=3, rotation=rotation)
    stored = pattern_image(0)
    with VideoReader(clip) as reader:
        info = reader.info
        image = next(iter(reader)).image.astype(int)
    expected = np.rot90(stored, k=rotation // 90).astype(int)  # counter-clockwise by `rotation`
    assert info.rotation == rotation % 360
    assert (info.width, info.height) == (expected.shape[1], expected.shape[0])
    assert image.shape == expected.shape
    assert np.abs(image - expected).mean() < 4


def test_image_folder_and_pattern_input(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    images = [pattern_image(i) for i in range(11)]
    for i, image in enumerate(images):  # names 1..11 unpadded: natural order matters
        cv2.imwrite(str(folder / f"f{i + 1}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    (folder / "notes.txt").write_text("not a frame")
    assert is_image_sequence(folder) and is_image_sequence(str(folder / "f%d.png"))
    assert not is_image_sequence(tmp_path / "clip.mp4")

    with VideoReader(folder, fps=5) as reader:
        assert reader.info == reader.info.__class__(W, H, Fraction(5), 11, False, 0)
        frames = list(reader)
    assert all(np.array_equal(f.image, im) for f, im in zip(frames, images))
    assert [f.time for f in frames] == [i / 5 for i in range(11)]

    with VideoReader(folder / "f%d.png") as reader:
        assert reader.info.fps == 25
        got = [f.image for f in reader]
    assert len(got) == 11 and all(np.array_equal(a, b) for a, b in zip(got, images))


def test_sequence_with_mismatched_size_names_file(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    cv2.imwrite(str(folder / "001.png"), pattern_image(0))
    cv2.imwrite(str(folder / "002.png"), pattern_image(1, 32, 32))
    with VideoReader(folder) as reader, pytest.raises(SteadyStyleError, match="002.png"):
        list(reader)


# ----------------------------------------------------------------------------------------------
# reading errors


def test_error_messages_for_bad_inputs(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not a video\n" * 20)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.mp4"
    whole = make_clip(tmp_path / "whole.mp4", frames=10)  # moov atom at the end
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    empty_folder = tmp_path / "nothing"
    empty_folder.mkdir()
    cases = {
        tmp_path / "missing.mp4": "no such file",
        text: "not a video",  # FFmpeg's tty demuxer would render it as ANSI art
        empty: "empty",
        truncated: "not a video",
        empty_folder: "contains no frames",
        tmp_path / "frames_%05d.png": "contains no frames",
    }
    for path, phrase in cases.items():
        with pytest.raises(SteadyStyleError) as caught:
            VideoReader(path)
        message = str(caught.value)
        assert phrase in message and path.name in message and "\n" not in message


@pytest.mark.parametrize(
    ("name", "codec", "phrase"),
    [
        ("zero.avi", "mpeg4", "contains no frames"),
        ("zero.mp4", "libx264", "contains no video stream"),  # MP4 drops the empty track
    ],
)
def test_zero_frame_video_is_an_error(tmp_path: Path, name: str, codec: str, phrase: str) -> None:
    path = tmp_path / name
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=25)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        container.start_encoding()  # header and trailer, no packets
    with pytest.raises(SteadyStyleError, match=f"{name}: {phrase}"):
        VideoReader(path)


def test_decoding_error_midway_ends_the_stream_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "broken.avi"  # PNG-coded AVI whose frame 5 is garbage
    with av.open(str(path), "w") as container:
        stream = container.add_stream("png", rate=25)
        stream.width, stream.height, stream.pix_fmt = W, H, "rgb24"
        for i in range(8):
            frame = av.VideoFrame.from_ndarray(pattern_image(i), format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                if i == 5:
                    garbage = av.Packet(bytes(range(256)) * 4)
                    garbage.pts, garbage.dts = packet.pts, packet.dts
                    garbage.time_base, garbage.stream = packet.time_base, stream
                    packet = garbage
                container.mux(packet)
        container.mux(stream.encode(None))
    with VideoReader(path) as reader:
        frames = list(reader)
        (warning,) = reader.warnings
    # frame 5 here; decoder threads on a many-core machine may report it a frame or so late
    assert 4 <= len(frames) <= 6 and all(np.array_equal(f.image, pattern_image(f.index)) for f in frames)
    assert re.fullmatch(rf".*broken\.avi: cannot decode frame {len(frames)} \(.+\); the video ends there, "
                        rf"after {len(frames)} frames \(damaged file\?\)", warning), warning


def _written(path: Path, frames: int) -> Path:
    with VideoWriter(path, W, H, 25) as writer:
        for i in range(frames):
            writer.write(pattern_image(i))
    return path


@pytest.mark.parametrize(("suffix", "phrase"), [
    (".mp4", r"only (\d+) of the 60 frames the file announces"),  # index at the front: a count
    (".mkv", r"video ends after (\d+) frames at [\d.]+ s of the 2\.40 s"),  # a duration only
])
def test_truncated_video_is_reported_with_counts(tmp_path: Path, suffix: str, phrase: str) -> None:
    whole = _written(tmp_path / f"whole{suffix}", 60)
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with VideoReader(whole) as reader:
        assert len(list(reader)) == 60 and reader.frames_read == 60 and reader.warnings == []
    with VideoReader(cut) as reader:
        assert reader.warnings == []  # not known before the end
        frames = list(reader)
        assert 0 < len(frames) < 60 and reader.frames_read == len(frames)
        assert len(reader.warnings) == 1
        match = re.search(phrase, reader.warnings[0])
        assert match and int(match.group(1)) == len(frames), reader.warnings
        assert reader.warnings[0].startswith(str(cut)) and "\n" not in reader.warnings[0]
        list(reader)  # a second pass reports it once, not twice
        assert len(reader.warnings) == 1
    if suffix == ".mp4":
        assert reader.frames_announced == 60


def test_partial_pass_is_not_a_truncation(tmp_path: Path) -> None:
    with VideoReader(_written(tmp_path / "a.mp4", 30)) as reader:
        for frame in reader:
            if frame.index == 5:
                break
        assert reader.warnings == []


def test_sequence_gap_names_the_missing_numbers(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in [1, 2, 3, 4, 6, 9, 10]:  # 5, 7 and 8 missing
        cv2.imwrite(str(folder / f"img_{i:03d}.png"), pattern_image(i))
    for source in (folder, folder / "img_%03d.png"):
        with VideoReader(source) as reader:
            assert len(reader.warnings) == 1  # known on opening
            warning = reader.warnings[0]
            assert "3 frames missing" in warning and "1–10" in warning and "number 5, 7–8" in warning
            assert reader.frames_announced == 10
            assert len(list(reader)) == 7 and len(reader.warnings) == 1
    (folder / "img_005.png").write_bytes((folder / "img_004.png").read_bytes())
    for i in (7, 8):
        (folder / f"img_{i:03d}.png").write_bytes((folder / "img_004.png").read_bytes())
    with VideoReader(folder) as reader:
        assert reader.warnings == [] and reader.frames_announced == 10


def test_audio_only_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "tone.m4a"
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=48000, layout="mono")
        silence = np.zeros((1, 1024), np.float32)
        frame = av.AudioFrame.from_ndarray(silence, format="flt", layout="mono")
        frame.sample_rate, frame.pts = 48000, 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(SteadyStyleError, match="no video stream"):
        VideoReader(path)


# ----------------------------------------------------------------------------------------------
# writing


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".mov"])
@pytest.mark.parametrize("size", [(64, 48), (65, 47), (48, 33)])
def test_round_trip_size_count_fps(tmp_path: Path, suffix: str, size: tuple[int, int]) -> None:
    width, height = size
    clip = make_clip(tmp_path / "in.mp4", frames=8, fps=30, size=size)
    out = tmp_path / f"out{suffix}"
    copy_frames(clip, out)
    with VideoReader(out) as reader:
        assert (reader.info.width, reader.info.height) == size
        assert reader.info.fps == 30
        frames = list(reader)
    assert len(frames) == 8
    times = [f.time for f in frames]
    assert np.all(np.diff(times) > 0)
    assert np.allclose(times, [i / 30 for i in range(8)], atol=1.5e-3)
    # content sanity only (two lossy generations of a tiny frame); colour accuracy is tested below
    assert np.abs(frames[3].image.astype(int) - pattern_image(3, width, height)).mean() < 6
    assert leftovers(tmp_path) == []


def test_variable_frame_rate_times_kept(tmp_path: Path) -> None:
    times = [0.0, 0.04, 0.1, 0.12, 0.2, 0.33, 0.34, 0.5]
    clip = make_clip(tmp_path / "vfr.mkv", times=times, fps=25)
    _, read_times = read_all(clip)
    assert np.allclose(read_times, times, atol=1e-3)
    for suffix in (".mp4", ".mkv"):
        out = tmp_path / f"out{suffix}"
        copy_frames(clip, out)
        _, out_times = read_all(out)
        assert np.allclose(out_times, times, atol=1.5e-3), suffix


def test_writer_makes_times_strictly_increasing(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    with VideoWriter(out, W, H, 25) as writer:
        for i, t in enumerate([0.0, 0.04, 0.04, 0.03, 0.12]):
            writer.write(pattern_image(i), t)
    _, times = read_all(out)
    assert len(times) == 5 and np.all(np.diff(times) > 0)
    with VideoWriter(out, W, H, Fraction(30000, 1001)) as writer:
        for i in range(4):
            writer.write(pattern_image(i))  # no times: i / fps
    with VideoReader(out) as reader:
        assert reader.info.fps == Fraction(30000, 1001)
        times = [f.time for f in reader]
    assert np.allclose(times, [i * 1001 / 30000 for i in range(4)], atol=1e-4)


def test_colour_patches_survive_h264(tmp_path: Path) -> None:
    patches = [
        (255, 0, 0), (0, 255, 0), (0, 0, 255), (128, 128, 128),
        (255, 255, 255), (0, 0, 0), (224, 172, 105), (90, 60, 200),
    ]  # fmt: skip
    side = 32
    image = np.zeros((side, side * len(patches), 3), np.uint8)
    for i, colour in enumerate(patches):
        image[:, i * side : (i + 1) * side] = colour
    for suffix in (".mp4", ".mkv"):
        out = tmp_path / f"patches{suffix}"
        with VideoWriter(out, image.shape[1], image.shape[0], 25, crf=4) as writer:
            for _ in range(3):
                writer.write(image)
        with av.open(str(out)) as container:
            context = container.streams.video[0].codec_context
            assert (context.colorspace, context.color_range) == (1, 1)  # BT.709, limited
            assert (context.color_primaries, context.color_trc) == (1, 1)
        images, _ = read_all(out)
        for i, colour in enumerate(patches):
            inner = images[1][8:-8, i * side + 8 : (i + 1) * side - 8].reshape(-1, 3).mean(axis=0)
            assert np.all(np.abs(inner - colour) <= 3), (suffix, colour, inner)


@pytest.mark.parametrize("size", [(160, 120), (161, 121)])
def test_colour_conversion_is_unbiased(tmp_path: Path, size: tuple[int, int]) -> None:
    """Lossless H.264 (crf 0) isolates the RGB<->YUV conversions: on a smooth picture the mean
    error must be ~0.  (swscale's fast 4:2:0 -> RGB path is about one grey level too dark.)"""
    width, height = size
    coarse = np.random.default_rng(0).integers(30, 226, (3, 4, 3), dtype=np.uint8)
    image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    out = tmp_path / "lossless.mp4"
    with VideoWriter(out, width, height, 25, crf=0) as writer:
        writer.write(image)
    (back,), _ = read_all(out)
    error = back.astype(int) - image
    assert np.all(np.abs(error.mean(axis=(0, 1))) < 0.5), error.mean(axis=(0, 1))
    assert np.abs(error).mean() < 1.2


def test_png_sequence_round_trip_is_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (47, 65, 3), dtype=np.uint8) for _ in range(4)]
    pattern = tmp_path / "out" / "%05d.png"
    pattern.parent.mkdir()
    with VideoWriter(pattern, 65, 47, 25) as writer:
        for image in images:
            writer.write(image)
    assert visible(pattern.parent) == [f"{i:05d}.png" for i in range(1, 5)]
    with VideoReader(pattern) as reader:
        assert all(np.array_equal(f.image, im) for f, im in zip(reader, images))

    folder = tmp_path / "new_folder"  # does not exist yet: created whole at close
    with pytest.raises(SteadyStyleError, match=r"no extension.*\.mp4.*%06d\.png.*ending in /"):
        VideoWriter(folder, 65, 47, 25)  # a name without extension is not guessed to be a folder
    assert not folder.exists()
    with VideoWriter(f"{folder}/", 65, 47, 25) as writer:  # the trailing / says "folder"
        for image in images[:2]:
            writer.write(image)
    assert visible(folder) == ["000001.png", "000002.png"]
    with VideoReader(folder) as reader:
        assert all(np.array_equal(f.image, im) for f, im in zip(reader, images))

    # rewriting a shorter sequence into the same folder removes the stale frames (ours: listed)
    with VideoWriter(pattern, 65, 47, 25) as writer:
        writer.write(images[3])
    assert visible(pattern.parent) == ["00001.png"]
    assert leftovers(tmp_path) == [] and leftovers(pattern.parent) == []


@pytest.mark.parametrize(
    ("source", "codec", "suffix", "expect"),
    [
        ("in.mp4", "aac", ".mp4", "aac"),  # copied
        ("in.mkv", "flac", ".mkv", "flac"),  # copied
        ("in.mkv", "pcm_s16le", ".mp4", "aac"),  # MP4 cannot hold PCM: re-encoded
    ],
)
def test_audio_is_kept(tmp_path: Path, source: str, codec: str, suffix: str, expect: str) -> None:
    clip = make_clip(tmp_path / source, frames=20, fps=20, audio=codec, audio_seconds=1.3)
    with VideoReader(clip) as reader:
        assert reader.info.has_audio
    _, in_start, in_duration = audio_summary(clip)
    out = tmp_path / f"out{suffix}"
    copy_frames(clip, out, audio_from=clip)
    name, start, duration = audio_summary(out)
    assert name == expect
    assert abs(duration - in_duration) <= 0.1 and abs(in_duration - 1.3) <= 0.1
    assert abs(start - in_start) <= 0.05
    with VideoReader(out) as reader:
        assert reader.info.has_audio and len(list(reader)) == 20


def test_audio_from_file_without_audio_is_fine(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "in.mp4", frames=3)
    out = tmp_path / "out.mp4"
    copy_frames(clip, out, audio_from=clip)
    with VideoReader(out) as reader:
        assert not reader.info.has_audio


# ----------------------------------------------------------------------------------------------
# atomic writes and output checks


class Boom(Exception):
    pass


@pytest.mark.parametrize("name", ["out.mp4", "out.mkv", "seq/%04d.png", "newdir/"])
@pytest.mark.parametrize("error", [Boom, KeyboardInterrupt])
def test_failed_write_leaves_nothing(tmp_path: Path, name: str, error: type[BaseException]) -> None:
    (tmp_path / "seq").mkdir()
    out = os.path.join(tmp_path, name)  # a str: Path would drop the trailing / of "newdir/"
    with pytest.raises(error):
        with VideoWriter(out, W, H, 25) as writer:
            writer.write(pattern_image(0))
            raise error()
    assert not os.path.exists(out)
    assert leftovers(tmp_path) == [] and list((tmp_path / "seq").iterdir()) == []


def test_failed_write_keeps_existing_output(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    out.write_bytes(b"precious")
    with pytest.raises(Boom):
        with VideoWriter(out, W, H, 25) as writer:
            for i in range(3):
                writer.write(pattern_image(i))
            assert leftovers(tmp_path) != []  # really writing to a temporary
            raise Boom()
    assert out.read_bytes() == b"precious" and leftovers(tmp_path) == []

    seq = tmp_path / "seq"
    with VideoWriter(f"{seq}/", W, H, 25) as writer:
        writer.write(pattern_image(0))
    before = {p.name: p.read_bytes() for p in seq.iterdir()}
    with pytest.raises(Boom):
        with VideoWriter(seq, W, H, 25) as writer:
            writer.write(pattern_image(1))
            writer.write(pattern_image(2))
            raise Boom()
    assert {p.name: p.read_bytes() for p in seq.iterdir()} == before


def test_close_replaces_existing_and_overwrite_false(tmp_path: Path) -> None:
    out = tmp_path / "out.mkv"
    out.write_bytes(b"old")
    with VideoWriter(out, W, H, 25) as writer:
        writer.write(pattern_image(0))
    assert out.stat().st_size > 100
    with pytest.raises(SteadyStyleError, match="already exists"):
        VideoWriter(out, W, H, 25, overwrite=False)
    assert leftovers(tmp_path) == []


def test_writer_with_missing_audio_source_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(SteadyStyleError, match="gone.mp4: no such file"):
        VideoWriter(tmp_path / "out.mp4", W, H, 25, audio_from=tmp_path / "gone.mp4")
    assert list(tmp_path.iterdir()) == []


def test_writer_rejects_wrong_image(tmp_path: Path) -> None:
    with VideoWriter(tmp_path / "out.mp4", W, H, 25) as writer:
        with pytest.raises(ValueError, match="uint8"):
            writer.write(np.zeros((H, W, 3), np.float32))
        with pytest.raises(ValueError):
            writer.write(np.zeros((W, H, 3), np.uint8))
        writer.write(pattern_image(0))
    assert (tmp_path / "out.mp4").exists()


def test_refuses_output_equal_to_input(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "in.mp4", frames=3, audio="aac")
    before = clip.read_bytes()
    for same in (clip, tmp_path / "." / "in.mp4"):
        with pytest.raises(SteadyStyleError, match="input"):
            VideoWriter(same, W, H, 25, audio_from=clip)
    os.link(clip, tmp_path / "hardlink.mp4")
    with pytest.raises(SteadyStyleError, match="input"):
        check_output_path(tmp_path / "hardlink.mp4", clip)
    assert clip.read_bytes() == before and leftovers(tmp_path) == []
    frames = tmp_path / "frames"
    frames.mkdir()
    with pytest.raises(SteadyStyleError, match="input folder"):
        check_output_path(frames / "%06d.png", frames)


def test_check_output_path_errors(tmp_path: Path) -> None:
    assert check_output_path(tmp_path / "a.mp4", tmp_path / "b.mp4") == tmp_path / "a.mp4"
    assert check_output_path(str(tmp_path / "frames") + "/", None) == tmp_path / "frames"
    (tmp_path / "made").mkdir()
    assert check_output_path(tmp_path / "made", None) == tmp_path / "made"  # an existing folder
    (tmp_path / "a-file.mp4").write_bytes(b"x")
    cases = {
        tmp_path / "missing" / "out.mp4": "does not exist",
        tmp_path / "out.avi": "unsupported",
        tmp_path / "out.gif": "unsupported",
        tmp_path / "%05d.jpg": ".png",
        tmp_path / "%d_%d.png": "exactly one",
        tmp_path / "noext": "no extension; write a .mp4, .mov or .mkv file, a PNG pattern",
        tmp_path / "a-file.mp4" / "out.mp4": "a-file.mp4 is a file, not a folder",
        f"{tmp_path / 'a-file.mp4'}/": "a-file.mp4 is a file, not a folder",
        tmp_path / "a-file.mp4" / "%05d.png": "a-file.mp4 is a file, not a folder",
    }
    for path, phrase in cases.items():
        with pytest.raises(SteadyStyleError, match=phrase):
            check_output_path(path, None)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if not os.access(locked, os.W_OK):  # running as root ignores permissions
        with pytest.raises(SteadyStyleError, match="not writable"):
            check_output_path(locked / "out.mp4", None)


def test_writer_output_permissions_are_normal(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    with VideoWriter(out, W, H, 25) as writer:
        writer.write(pattern_image(0))
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_writer_without_frames_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SteadyStyleError, match="no frames"):
        with VideoWriter(tmp_path / "out.mp4", W, H, 25):
            pass
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_audio_video_offset_kept(tmp_path: Path, suffix: str) -> None:
    """Video starting 0.5 s after the audio must still start 0.5 s after it (lip sync)."""
    times = [0.5 + i / 20 for i in range(10)]
    clip = make_clip(tmp_path / "late.mkv", times=times, audio="flac", audio_seconds=1.0)
    _, read_times = read_all(clip)
    assert np.allclose(read_times, times, atol=1e-3)
    out = tmp_path / f"out{suffix}"
    copy_frames(clip, out, audio_from=clip)
    _, out_times = read_all(out)
    _, audio_start, audio_duration = audio_summary(out)
    assert np.allclose(out_times, times, atol=2e-3)
    assert abs(audio_start) <= 0.03 and abs(audio_duration - 1.0) <= 0.1
