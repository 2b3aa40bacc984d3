"""stylize_video end to end: sizes, audio, timestamps, stats, stabilizer choice, atomicity."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import audio_summary, make_clip, read_all

from steadystyle.errors import SteadyStyleError
from steadystyle.pipeline import stylize_video
from steadystyle.stabilize import make_stabilizer
from steadystyle.stabilize.framediff import FrameDiffParams, FrameDiffStabilizer
from steadystyle.stabilize.perframe import PerFrame
from steadystyle.video import VideoReader, VideoWriter


def static_clip(path, frames=8, size=(64, 48), fps=25, moving=True):
    """Noisy static scene with a bright square that moves right by 8 px per frame (the paper's
    closing erases foreground strips thinner than 5 px, so slower motion would not register)."""
    rng = np.random.default_rng(0)
    w, h = size
    background = rng.integers(40, 200, size=(h, w, 3), dtype=np.uint8)
    with VideoWriter(path, w, h, fps, crf=0) as writer:
        for t in range(frames):
            frame = background.copy()
            if moving:
                frame[10:26, 4 + 8 * t:20 + 8 * t] = 250
            writer.write(frame, t / fps)
    return path


@pytest.mark.parametrize("size", [(64, 48), (65, 47)])
def test_per_frame_keeps_size_count_times_and_audio(tmp_path, tiny_style, size):
    src = make_clip(tmp_path / "in.mp4", frames=10, size=size, audio="aac")
    out = tmp_path / "out.mp4"
    stats = stylize_video(src, out, tiny_style, "per-frame", progress=False)
    frames, times = read_all(out)
    _, in_times = read_all(src)
    assert len(frames) == 10 and frames[0].shape == (size[1], size[0], 3)
    assert np.allclose(times, in_times, atol=1e-3)
    assert stats.stylized_frames == 10
    codec, _, seconds = audio_summary(out)
    assert codec == "aac" and seconds == pytest.approx(audio_summary(src)[2], abs=0.1)


def test_frame_diff_freezes_background_and_skips_network_when_still(tmp_path, tiny_style):
    src = static_clip(tmp_path / "still.mkv", frames=6, moving=False)
    stats = stylize_video(src, tmp_path / "out.mkv", tiny_style, "frame-diff", progress=False)
    assert stats.stylized_frames == 1  # only S(1): nothing moved afterwards
    frames, _ = read_all(tmp_path / "out.mkv")
    assert all(np.abs(f.astype(int) - frames[0]).mean() < 1.0 for f in frames[1:])


def test_stats_json_and_side_by_side(tmp_path, tiny_style):
    src = static_clip(tmp_path / "in.mp4", frames=6)
    out, stats_path = tmp_path / "sbs.mp4", tmp_path / "stats.json"
    stylize_video(src, out, tiny_style, "frame-diff", side_by_side_output=True, stats_path=stats_path, progress=False)
    with VideoReader(out) as reader:
        assert (reader.info.width, reader.info.height) == (128, 48)
    stats = json.loads(stats_path.read_text())
    assert stats["frames"] == 6 and len(stats["foreground_fraction"]) == 6
    assert stats["foreground_fraction"][0] == 1.0 and 0 < stats["foreground_fraction"][2] < 1
    assert set(stats["timings"]) == {"decode", "stylize", "stabilize", "encode"}
    assert stats["params"]["threshold"] == FrameDiffParams().threshold
    assert len(stats["per_frame_ms"]) == 6 and "machine" in stats


def test_png_sequence_in_and_out_lossless(tmp_path, tiny_style):
    src = static_clip(tmp_path / "in.mkv", frames=4)
    first = stylize_video(src, tmp_path / "seq" / "%04d.png", tiny_style, "per-frame", progress=False)
    assert sorted(p.name for p in (tmp_path / "seq").iterdir()) == ["0001.png", "0002.png", "0003.png", "0004.png"]
    second = stylize_video(tmp_path / "seq", tmp_path / "again.mkv", tiny_style, "per-frame", progress=False)
    assert first.frames == second.frames == 4


def test_bad_inputs_leave_nothing(tmp_path, tiny_style):
    src = static_clip(tmp_path / "in.mp4", frames=3)
    with pytest.raises(SteadyStyleError, match="no such file"):
        stylize_video(tmp_path / "missing.mp4", tmp_path / "o.mp4", tiny_style, progress=False)
    with pytest.raises(SteadyStyleError):
        stylize_video(src, src, tiny_style, progress=False)
    with pytest.raises(SteadyStyleError, match="unknown method"):
        stylize_video(src, tmp_path / "o.mp4", tiny_style, method="optical-flow", progress=False)
    with pytest.raises(SteadyStyleError, match="unknown style"):
        stylize_video(src, tmp_path / "o.mp4", "no-such-style", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_interrupted_run_keeps_previous_output(tmp_path, tiny_style):
    src = static_clip(tmp_path / "in.mp4", frames=5)
    out = tmp_path / "out.mp4"
    out.write_bytes(b"the user's earlier result")

    def boom(index, frame):
        if index == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stylize_video(src, out, tiny_style, progress=False, on_frame=boom)
    assert out.read_bytes() == b"the user's earlier result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4", "out.mp4"]


def test_make_stabilizer():
    assert isinstance(make_stabilizer("per-frame"), PerFrame)
    fd = make_stabilizer("frame-diff", threshold=3)
    assert isinstance(fd, FrameDiffStabilizer) and fd.params.threshold == 3
    with pytest.raises(SteadyStyleError, match="unknown method 'magic'; choose per-frame, frame-diff"):
        make_stabilizer("magic")


def test_threaded_and_serial_file_paths_write_the_same_frames(tmp_path, tiny_style):
    src = static_clip(tmp_path / "in.mkv", frames=5)
    for threads in (True, False):
        stylize_video(src, tmp_path / f"{threads}" / "%03d.png", tiny_style, "frame-diff", progress=False,
                      threads=threads, device="cpu")
    a, _ = read_all(tmp_path / "True")
    b, _ = read_all(tmp_path / "False")
    assert len(a) == 5 and all(np.array_equal(x, y) for x, y in zip(a, b))
