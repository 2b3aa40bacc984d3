"""stylize_video end to end: sizes, audio, timestamps, stats, stabilizer choice, atomicity."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import audio_summary, make_clip, read_all

from steadystyle.backends import make_stylizer, onnx_available, resolve_backend
from steadystyle.errors import SteadyStyleError
from steadystyle.pipeline import stylize_video
from steadystyle.spec import DEFAULT_METHOD, RunSpec
from steadystyle.stabilize import make_stabilizer
from steadystyle.stabilize.base import get_method, params_dict
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
    assert stats["backend"] == resolve_backend("auto") != "auto"  # what ran: auto's choice on this machine
    assert len(stats["per_frame_ms"]) == 6 and "machine" in stats


def test_png_sequence_in_and_out_lossless(tmp_path, tiny_style):
    src = static_clip(tmp_path / "in.mkv", frames=4)
    first = stylize_video(src, tmp_path / "seq" / "%04d.png", tiny_style, "per-frame", progress=False)
    assert sorted(p.name for p in (tmp_path / "seq").iterdir() if p.suffix == ".png") == ["0001.png", "0002.png", "0003.png", "0004.png"]
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


def test_the_threshold_decides_what_is_re_stylized():
    """A 16×16 square brightens by 10 grey levels: below T = 10 it is foreground and takes the new
    stylization; at T = 30 nothing is foreground and the network is not asked at all."""
    still = np.full((48, 64, 3), 100, np.uint8)
    moved = still.copy()
    moved[16:32, 24:40] = 110
    outputs = {}
    for threshold in (3, 30):
        stabilizer = make_stabilizer("frame-diff", threshold=threshold)
        calls = []

        def stylize(box=None, calls=calls):
            calls.append(box)
            return np.full((48, 64, 3), 10 * len(calls), np.uint8)  # S(1) = 10, S(2) = 20

        stabilizer(still, stylize)
        outputs[threshold] = (stabilizer(moved, stylize), len(calls), stabilizer.last_foreground_fraction)
    low, calls_low, fg_low = outputs[3]
    high, calls_high, fg_high = outputs[30]
    assert calls_low == 2 and fg_low > 16 * 16 / (48 * 64) and (low[16:32, 24:40] == 20).all()
    assert (low[0, 0] == 10).all()  # far from the square the background stays frozen at S(1)
    assert calls_high == 1 and fg_high == 0.0 and (high == 10).all()
    assert isinstance(make_stabilizer("per-frame"), PerFrame)
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


# -- the run as one RunSpec: every backend, one default method ------------------------------


def _frames_equal(a_path, b_path) -> int:
    a, _ = read_all(a_path)
    b, _ = read_all(b_path)
    assert len(a) == len(b) > 0
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    return len(a)


onnx_only = pytest.mark.skipif(not onnx_available(), reason="ONNX Runtime not installed")


@onnx_only
def test_a_built_onnx_stylizer_and_backend_onnx_write_what_onnx_runtime_computes(tmp_path, tiny_style):
    """``style=`` a stylizer that is not the torch one, and ``backend="onnx"``: both run ONNX
    Runtime, and per frame the output is exactly that stylizer applied to the decoded input."""
    src = static_clip(tmp_path / "in.mkv", frames=4)
    stylizer = make_stylizer(tiny_style, backend="onnx", device="cpu")
    built = stylize_video(src, tmp_path / "built" / "%03d.png", stylizer, "per-frame", progress=False)
    named = stylize_video(src, tmp_path / "named" / "%03d.png", tiny_style, "per-frame", backend="onnx",
                          device="cpu", progress=False)
    assert built.backend == named.backend == "onnx" and built.style == "tiny"
    assert _frames_equal(tmp_path / "built", tmp_path / "named") == 4
    inputs, _ = read_all(src)
    outputs, _ = read_all(tmp_path / "built")
    for frame, out in zip(inputs, outputs):
        np.testing.assert_array_equal(out, stylizer(frame))
    torch_run = stylize_video(src, tmp_path / "torch" / "%03d.png", tiny_style, "per-frame", backend="torch",
                              device="cpu", progress=False)
    assert torch_run.backend == "torch"


@pytest.mark.parametrize("backend", ["torch", pytest.param("onnx", marks=onnx_only)])
def test_roi_with_max_side_falls_back_to_full_passes_and_equals_the_full_frame_run(tmp_path, tiny_style, backend):
    """With ``max_side`` the network sees a rescaled frame, so a region cannot be cut from it:
    every region the ROI plan asks for must come from a full pass, and the output must equal
    frame-diff without ROI at the same working size."""
    src = static_clip(tmp_path / "in.mkv", frames=6, size=(128, 96))
    stylizer = make_stylizer(tiny_style, backend=backend, device="cpu", max_side=32)
    regions, plans = [], []
    plan = stylizer.region_plan

    def counted(image, box):  # every region the stabilizer asks for is planned first
        regions.append(box)
        plans.append(plan(image, box))
        return plans[-1]

    stylizer.region_plan = counted
    roi = stylize_video(src, tmp_path / "roi" / "%03d.png", stylizer, "frame-diff", FrameDiffParams(roi=True),
                        progress=False)
    full = stylize_video(src, tmp_path / "full" / "%03d.png", tiny_style, "frame-diff", FrameDiffParams(),
                         backend=backend, device="cpu", max_side=32, progress=False)
    assert regions, "the ROI plan asked for no region: the test clip does not exercise ROI"
    assert all(p is None for p in plans)  # none can be a crop of the rescaled frame
    assert roi.params["roi"] is True and full.params["roi"] is False
    assert _frames_equal(tmp_path / "roi", tmp_path / "full") == 6
    assert roi.stylized_frames == full.stylized_frames


def test_the_default_method_is_the_one_default_and_the_cli_writes_what_the_api_writes(tmp_path, tiny_style):
    """Without a method, ``stylize_video`` runs :data:`DEFAULT_METHOD` with its default params,
    and ``steadystyle stylize`` without ``--method`` writes the same frames."""
    from steadystyle.cli import main

    src = static_clip(tmp_path / "in.mkv", frames=5)
    api = stylize_video(src, tmp_path / "api" / "%03d.png", tiny_style, progress=False)
    assert api.method == DEFAULT_METHOD
    assert api.params == params_dict(get_method(DEFAULT_METHOD).params())
    assert main(["stylize", str(src), "-o", str(tmp_path / "cli" / "%03d.png"), "--style", str(tiny_style),
                 "--stats", str(tmp_path / "cli.json"), "--quiet"]) == 0
    cli_stats = json.loads((tmp_path / "cli.json").read_text())
    assert (cli_stats["method"], cli_stats["params"], cli_stats["backend"]) == (api.method, api.params, api.backend)
    assert _frames_equal(tmp_path / "api", tmp_path / "cli") == 5
    still = static_clip(tmp_path / "still.mkv", frames=5, moving=False)
    assert stylize_video(still, tmp_path / "still.mp4", tiny_style, progress=False).stylized_frames < 5  # not per-frame


def test_spec_or_arguments_not_both(tmp_path, tiny_style):
    src = static_clip(tmp_path / "in.mp4", frames=2)
    spec = RunSpec(style=tiny_style, method="per-frame", backend="torch")
    stats = stylize_video(src, tmp_path / "a.mp4", spec=spec, progress=False)
    assert (stats.method, stats.backend, stats.stylized_frames) == ("per-frame", "torch", 2)
    with pytest.raises(SteadyStyleError, match="not both.*method"):
        stylize_video(src, tmp_path / "b.mp4", spec=spec, method="frame-diff", progress=False)
    assert not (tmp_path / "b.mp4").exists()
