"""One description of a run (RunSpec), the one factory, and the loop's controls."""

from __future__ import annotations

import dataclasses
import threading
import time

import numpy as np
import pytest

from steadystyle.backends import make_stylizer
from steadystyle.cli import build_parser
from steadystyle.commands.options import run_spec
from steadystyle.errors import SteadyStyleError
from steadystyle.geometry import Box
from steadystyle.live import LiveKeys
from steadystyle.loop import Processor, run
from steadystyle.sinks import MemorySink, Tee
from steadystyle.sources import ArraySource, Frame
from steadystyle.spec import DEFAULT_METHOD, RunSpec
from steadystyle.stabilize.base import METHODS, get_method, make_stabilizer, register
from steadystyle.stabilize.framediff import FrameDiffParams
from steadystyle.stabilize.perframe import PerFrame


class Counting:
    """A stylizer that inverts the frame and counts its full and region passes."""

    name, backend, max_side, context, device = "invert", "test", None, 0, "cpu"

    def __init__(self, delay: float = 0.0, value: int = 255) -> None:
        self.full = 0
        self.regions = 0
        self.delay = delay
        self.value = value

    def __call__(self, image: np.ndarray) -> np.ndarray:
        self.full += 1
        time.sleep(self.delay)
        return (self.value - image.astype(np.int16)).clip(0, 255).astype(np.uint8)

    def stylize_region(self, image: np.ndarray, box: Box) -> np.ndarray:
        self.regions += 1
        return self(image)[box.slices()]

    def synchronize(self) -> None:
        pass


def frame(value: int = 10, size: tuple[int, int] = (8, 8), index: int = 0) -> Frame:
    return Frame(np.full((*size, 3), value, np.uint8), index / 25, index, time.perf_counter())


def test_every_entry_point_defaults_to_the_one_method():
    parser = build_parser()
    for argv in (["stylize", "in.mp4", "-o", "out.mp4"], ["live"]):
        args = parser.parse_args(argv)
        assert args.method == DEFAULT_METHOD
        assert run_spec(args).method == RunSpec().method == DEFAULT_METHOD


def test_every_command_starts_at_the_same_face_detail(monkeypatch):
    """Files, batch, evaluate, live and serve: one face-detail default (on with the face models,
    off without them), so a file and a call of the same clip keep the same face."""
    import steadystyle.facedetect as facedetect
    from steadystyle.face import DEFAULT_FACE_DETAIL

    commands = (["stylize", "in.mp4", "-o", "out.mp4"], ["batch", "in.mp4", "-o", "out"], ["evaluate", "in.mp4"],
                ["live"], ["serve"])
    for available, expected in ((True, DEFAULT_FACE_DETAIL), (False, 0.0)):
        monkeypatch.setattr(facedetect, "detector_available", lambda: available)
        parser = build_parser()
        for argv in commands:
            assert run_spec(parser.parse_args(argv)).face_detail == expected, argv


def test_the_cli_options_become_the_spec():
    args = build_parser().parse_args(["stylize", "a.mp4", "-o", "b.mp4", "--style", "udnie", "--backend", "torch",
                                      "--method", "frame-diff", "--threshold", "3", "--strength", "0.5",
                                      "--max-side", "64"])
    spec = run_spec(args)
    assert (spec.style, spec.backend, spec.method, spec.max_side, spec.strength) == ("udnie", "torch", "frame-diff", 64, 0.5)
    # the parameters reach the stabilizer: T = 3 calls a 4-grey-level change foreground, T = 8 does not
    calm, keen = RunSpec(method="frame-diff").stabilizer(), spec.stabilizer()
    stylize = Counting()
    for stabilizer in (calm, keen):
        stabilizer(frame(10).image, lambda box=None: stylize(frame(10).image))
    assert calm(frame(14).image, lambda box=None: stylize(frame(14).image)).max() == 245  # frozen
    assert keen(frame(14).image, lambda box=None: stylize(frame(14).image)).max() == 241  # re-stylized


def test_spec_refuses_what_it_cannot_run():
    with pytest.raises(SteadyStyleError, match="unknown backend"):
        RunSpec(backend="tensorrt")
    with pytest.raises(SteadyStyleError, match="unknown method"):
        RunSpec(method="median")
    with pytest.raises(SteadyStyleError, match="takes"):
        RunSpec(method="adaptive", params=FrameDiffParams())
    with pytest.raises(SteadyStyleError, match="at least 16"):
        RunSpec(max_side=8)
    with pytest.raises(SteadyStyleError):
        RunSpec(strength=1.5)


def test_replacing_the_method_takes_its_defaults():
    spec = RunSpec(method="frame-diff", params=FrameDiffParams(threshold=3))
    other = spec.replace(method="adaptive")
    assert other.params == get_method("adaptive").params()
    assert spec.replace(strength=0.2).params.threshold == 3


def test_a_built_stylizer_passes_through_the_factory(tiny_style):
    built = make_stylizer(tiny_style, backend="torch", device="cpu")
    assert make_stylizer(built) is built
    assert RunSpec(style=built).stylizer() is built
    assert RunSpec(style=built).style_name == built.name


def test_processor_serves_boxes_from_the_frames_full_pass():
    class FullThenBoxes:
        last_foreground_fraction = 1.0

        def reset(self):
            pass

        def __call__(self, image, stylize):
            whole = stylize()
            left = stylize(Box(0, 8, 0, 4))
            right = stylize(Box(0, 8, 4, 8))
            assert np.array_equal(np.concatenate([left, right], axis=1), whole)
            return whole

    stylizer = Counting()
    result = Processor(stylizer, FullThenBoxes()).process(frame(10))
    assert (stylizer.full, stylizer.regions) == (1, 0)
    assert result.stylized and len(result.regions) == 2


def test_set_stylizer_waits_for_the_running_frame_and_resets_the_stabilizer():
    slow, fast = Counting(delay=0.3, value=255), Counting(value=200)
    processor = Processor(slow, PerFrame())
    results = []
    worker = threading.Thread(target=lambda: results.append(processor.process(frame(10))))
    worker.start()
    time.sleep(0.1)  # the slow pass is running
    processor.set_stylizer(fast)  # must not change the frame already in the network
    worker.join()
    assert results[0].output.max() == 245
    assert processor.process(frame(10)).output.max() == 190
    processor.set_strength(0.0)
    assert processor.process(frame(10)).output.max() == 10
    with pytest.raises(SteadyStyleError):
        processor.set_strength(-1)


def test_live_keys_switch_style_and_method_and_stop(tiny_style, tmp_path):
    import shutil

    other = tmp_path / "other.safetensors"
    shutil.copy(tiny_style, other)
    spec = RunSpec(style=str(tiny_style), backend="torch", device="cpu", method="frame-diff")
    processor = spec.processor()
    stop = threading.Event()
    keys = LiveKeys(processor, spec, [str(tiny_style), str(other)], stop)
    old = processor.stylizer
    keys("2")
    assert processor.stylizer is not old and str(processor.stylizer.model.path) == str(other)
    assert keys.spec.style == str(other) and keys.spec.backend == "torch"
    before = type(processor.stabilizer)
    keys("m")
    assert keys.method != "frame-diff" and type(processor.stabilizer) is not before
    assert dataclasses.asdict(keys.params) == dataclasses.asdict(get_method(keys.method).params())
    keys("9")  # no ninth style: nothing happens
    assert keys.spec.style == str(other)
    assert not stop.is_set()
    keys("q")
    assert stop.is_set()


def test_tee_closes_every_sink_and_reports_the_first_failure():
    class Failing(MemorySink):
        def close(self):
            raise OSError("disk full")

    good, bad, aborted = MemorySink(), Failing(), []

    class Recording(MemorySink):
        def abort(self):
            aborted.append(True)
            raise RuntimeError("abort failed too")

    tee = Tee([bad, good])
    processor = Processor(Counting(), PerFrame())
    with pytest.raises(OSError, match="disk full"):
        run(ArraySource([frame(10).image] * 2), processor, tee)
    assert len(good.images) == 2  # the good sink was still closed with every frame
    Tee([Recording(), good]).abort()  # an abort that fails does not stop the others
    assert aborted == [True]


def test_an_out_of_tree_method_registers_and_runs_everywhere():
    @dataclasses.dataclass(frozen=True)
    class HalfParams:
        weight: float = dataclasses.field(default=0.5, metadata={"help": "share of the new stylization"})

    try:
        @register("test-half", HalfParams, "blend half of each new stylization into the last output")
        class Half:
            def __init__(self, params):
                self.params, self.last, self.last_foreground_fraction = params, None, 0.0

            def reset(self):
                self.last = None

            def __call__(self, image, stylize):
                new = stylize().astype(float)
                self.last = new if self.last is None else self.params.weight * new + (1 - self.params.weight) * self.last
                self.last_foreground_fraction = 1.0
                return self.last.round().astype(np.uint8)

        args = build_parser().parse_args(["stylize", "a.mp4", "-o", "b.mp4", "--method", "test-half", "--weight", "0.25"])
        spec = run_spec(args)
        assert spec.params == HalfParams(weight=0.25)
        processor = spec.processor(stylizer=Counting())
        outs = [processor.process(frame(v)).output.max() for v in (0, 100)]
        assert outs == [255, round(0.25 * 155 + 0.75 * 255)]
        assert isinstance(make_stabilizer("test-half"), Half)
    finally:
        METHODS.pop("test-half", None)


@pytest.mark.parametrize("argv", [["demo", "--seconds", "1e9"], ["demo", "--seconds", "0"],
                                  ["stylize", "a.mp4", "-o", "b.mp4", "--backend", "tensorrt"]])
def test_out_of_range_values_are_one_line_before_any_work(argv, capsys):
    from steadystyle.cli import main

    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("steadystyle: error:")


def test_boxes_that_need_a_full_pass_share_one(tiny_style):
    """With --max-side rescaling, a region cannot be a crop: the first box runs the frame whole,
    and every further box of that frame is cut from it (one network pass per frame)."""
    stylizer = make_stylizer(tiny_style, backend="torch", device="cpu", max_side=16)
    calls = []
    stylizer.network.register_forward_pre_hook(lambda module, inputs: calls.append(tuple(inputs[0].shape)))

    class TwoBoxes:
        last_foreground_fraction = 0.5

        def reset(self):
            pass

        def __call__(self, image, stylize):
            out = image.copy()
            for box in (Box(0, 8, 0, 8), Box(16, 24, 16, 24)):
                out[box.slices()] = stylize(box)
            return out

    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    result = Processor(stylizer, TwoBoxes()).process(Frame(image, 0.0, 0, time.perf_counter()))
    assert len(calls) == 1 and len(result.regions) == 2
    whole = stylizer(image)
    assert np.array_equal(result.output[16:24, 16:24], whole[16:24, 16:24])


def test_threads_reach_the_backend(tiny_style):
    import torch

    before = torch.get_num_threads()
    try:
        args = build_parser().parse_args(["stylize", "a.mp4", "-o", "b.mp4", "--backend", "torch", "--threads", "1"])
        spec = run_spec(args)
        assert spec.threads == 1
        RunSpec(style=str(tiny_style), backend="torch", device="cpu", threads=1).stylizer()
        assert torch.get_num_threads() == 1
        onnx = RunSpec(style=str(tiny_style), backend="onnx", device="cpu", threads=1).stylizer()
        assert onnx.options.intra_op_num_threads == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(SteadyStyleError, match="threads"):
        RunSpec(threads=0)


class Flickering(Counting):
    """A stylizer whose every full pass of a still frame differs from the last by 12 grey levels."""

    def __call__(self, image: np.ndarray) -> np.ndarray:
        self.full += 1
        return np.full_like(image, 100 + 12 * (self.full % 2))


@pytest.mark.parametrize("method", ["adaptive", "steady", "frame-diff"])
def test_steadiness_zero_is_per_frame_one_half_halves_the_flicker_and_costs_one_pass(method):
    still = [frame(10, (32, 32), t) for t in range(6)]

    def play(steadiness):
        net = Flickering()
        processor = RunSpec(method=method, steadiness=steadiness).processor(stylizer=net)
        outs = [processor.process(f).output.astype(int) for f in still]
        return [float(np.abs(b - a).mean()) for a, b in zip(outs, outs[1:])], net.full, outs

    steady, passes, _ = play(1.0)
    assert steady == [0.0] * 5 and passes == 1  # the method alone: the still frame is frozen, one pass
    jumps, passes, outs = play(0.0)
    assert jumps == [12.0] * 5 and passes == 6  # per-frame exactly
    assert outs[1][0, 0, 0] == 100 and outs[2][0, 0, 0] == 112
    half, passes, _ = play(0.5)
    assert all(5.0 <= j <= 7.0 for j in half) and passes == 6, half  # one full pass a frame, not two


def test_steadiness_is_checked_and_leaving_zero_restarts_the_stabilizer():
    for bad in (-0.1, 1.5, float("nan"), "1", True):
        with pytest.raises(SteadyStyleError, match="steadiness"):
            RunSpec(steadiness=bad)
    net = Flickering()
    processor = RunSpec(method="adaptive", steadiness=0.0).processor(stylizer=net)
    processor.process(frame(10, (32, 32), 0))
    processor.set_steadiness(1.0)
    first = processor.process(frame(10, (32, 32), 1)).output
    assert np.array_equal(first, processor.process(frame(10, (32, 32), 2)).output)
    assert net.full == 2  # a fresh start (one pass), then frozen
    args = build_parser().parse_args(["stylize", "in.mp4", "-o", "out.mp4", "--steadiness", "0.25"])
    assert run_spec(args).steadiness == 0.25 and run_spec(args).describe()["steadiness"] == 0.25
