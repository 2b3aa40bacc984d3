"""``steadystyle bench``: backends timed side by side beside the floor, methods, live, warnings."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest


from steadystyle.bench import BenchConfig, markdown, run_bench
from steadystyle.bench.adequacy import MIN_FRAMES, MIN_PASSES, MIN_REPEATS, MIN_WARMUP, noise_warnings, settings_warnings
from steadystyle.bench.floor import gemm_peak, network_flops
from steadystyle.bench.networks import BLOCK, network_rows
from steadystyle.cli import main
from steadystyle.face import default_face_detail
from steadystyle.network import VARIANTS, TransformerNet
from steadystyle.spec import DEFAULT_METHOD


class Sleeper:
    """A stand-in stylizer that takes ``ms`` per pass and logs (name, track_stats) per call."""

    backend = "fake"

    def __init__(self, name: str, ms: float, log: list) -> None:
        self.name, self.ms, self.log = name, ms, log
        self.track_stats = False
        self.region_stats = None

    def __call__(self, image: np.ndarray) -> np.ndarray:
        self.log.append((self.name, self.track_stats))
        time.sleep(self.ms / 1000.0)
        return image

    def synchronize(self) -> None:
        pass


def test_network_rows_interleave_backends_in_blocks_and_rank_them():
    log: list = []
    stylizers = {"slow": Sleeper("slow", 30.0, log), "fast": Sleeper("fast", 1.0, log)}
    frames = [np.zeros((8, 8, 3), np.uint8)] * 3
    rows = network_rows(stylizers, (8, 8), frames, passes=2 * BLOCK, warmup=1, floors={"fp32": 0.5}, flops=10 ** 9)
    by = {(r["backend"], r["mode"]): r for r in rows}
    assert set(by) == {(b, m) for b in ("slow", "fast") for m in ("plain", "record")}
    slow, fast = by["slow", "plain"], by["fast", "plain"]
    assert slow["passes"] == fast["passes"] == 2 * BLOCK
    assert slow["median_ms"] >= 30.0 and fast["x_fastest"] == 1.0 and slow["x_fastest"] >= 3.0
    assert slow["x_floor"] == pytest.approx(slow["median_ms"] / 0.5, rel=1e-2)
    # per mode: warm-up of each, then rounds of (one untimed + BLOCK timed) passes per backend, in turn
    plain = [name for name, stats in log if not stats]
    block = ["slow"] * (BLOCK + 1) + ["fast"] * (BLOCK + 1)
    assert plain == ["slow", "fast"] + block * 2
    assert [name for name, stats in log if stats] == plain  # the record mode: statistics tracking on


def test_an_int8_network_is_not_held_against_the_fp32_floor():
    int8, f32 = Sleeper("int8", 1.0, []), Sleeper("f32", 1.0, [])
    int8.precision, f32.precision = "int8", "f32"
    rows = network_rows({"openvino:int8": int8, "openvino:f32": f32}, (8, 8), [np.zeros((8, 8, 3), np.uint8)],
                        passes=BLOCK, warmup=1, floors={"fp32": 0.5, "bf16": 0.25}, flops=10 ** 9, modes=("plain",))
    by = {r["backend"]: r for r in rows}
    assert by["openvino:int8"]["precision"] == "int8" and by["openvino:int8"]["floor_ms"] is None
    assert by["openvino:int8"]["x_floor"] is None
    assert by["openvino:f32"]["precision"] == "fp32" and by["openvino:f32"]["floor_ms"] == 0.5


def test_the_live_table_names_the_precision_asked_for():
    row = {"size": [320, 240], "input_fps": 30.0, "backend": "openvino", "asked_backend": "openvino:int8",
           "method": "adaptive", "delivered_fps": 26.1, "latency_ms": {"p50": 40, "p95": 45, "max": 60},
           "frame_interval_ms": 33.3, "network_ms": {"median_ms": 9.0}, "stabilize_ms": {"median_ms": 1.0},
           "dropped_at_capture": 3, "frames": 150}
    plain = dict(row, asked_backend="openvino")
    from steadystyle.bench.report import _live

    int8_line, plain_line = _live({"live": [row]})[-1], _live({"live": [plain]})[-1]
    assert "| openvino:int8 | adaptive |" in int8_line and "| openvino | adaptive |" in plain_line


def test_flops_are_counted_from_the_layer_shapes():
    def by_hand(config, h, w):  # 2·Cin·Cout·k²·Ho·Wo per convolution, from the architecture
        c1, c2, c3 = config.channels
        k = config.outer_kernel
        total = 2 * 3 * c1 * k * k * h * w + 2 * c1 * c2 * 9 * (h // 2) * (w // 2) + 2 * c2 * c3 * 9 * (h // 4) * (w // 4)
        total += config.residual_blocks * 2 * (2 * c3 * c3 * 9 * (h // 4) * (w // 4))
        total += 2 * c3 * c2 * 9 * (h // 2) * (w // 2) + 2 * c2 * c1 * 9 * h * w + 2 * c1 * 3 * k * k * h * w
        return total

    for variant in ("light", "full"):
        net = TransformerNet(VARIANTS[variant])
        assert network_flops(net, 240, 320) == by_hand(net.config, 240, 320)
        assert network_flops(net, 238, 317) == network_flops(net, 240, 320)  # padded to multiples of 4
    assert network_flops(TransformerNet(VARIANTS["light"]), 240, 320) / 1e9 == pytest.approx(3.55, abs=0.01)


def test_gemm_peak_is_a_rate():
    fp32 = gemm_peak("fp32", side=128, seconds=0.02)
    assert 0.1 < fp32 < 1e6  # GFLOP/s: a 128³ product takes between 4 ns and 40 ms


def test_settings_too_small_to_measure_are_named_with_what_to_use():
    assert settings_warnings(MIN_PASSES, MIN_WARMUP, MIN_FRAMES, MIN_REPEATS, methods=True) == []
    warnings = settings_warnings(2, 0, 4, 1, methods=True)
    assert len(warnings) == 4
    for option, use in (("--passes 2", f"--passes {MIN_PASSES}"), ("--warmup 0", f"--warmup {MIN_WARMUP}"),
                        ("--frames 4", f"--frames {MIN_FRAMES}"), ("--repeats 1", f"--repeats {MIN_REPEATS}")):
        assert any(w.startswith(option) and use in w for w in warnings), option
    assert settings_warnings(MIN_PASSES, MIN_WARMUP, 4, 1, methods=False) == []  # frames only matter for methods
    rows = [{"backend": "a", "mode": "plain", "size": "8x8", "spread": 0.6},
            {"backend": "b", "mode": "plain", "size": "8x8", "spread": 0.1}]
    (noisy,) = noise_warnings(rows)
    assert "a plain at 8x8 (60%)" in noisy and "b plain" not in noisy


def test_bench_builds_through_the_one_factory_and_measures_each_part(tiny_style, monkeypatch):
    import steadystyle.spec as spec_module

    built = []
    factory = spec_module.make_stylizer

    def counting(style, backend="auto", device="auto", max_side=None, **more):
        built.append(backend)
        return factory(style, backend=backend, device=device, max_side=max_side, **more)

    monkeypatch.setattr(spec_module, "make_stylizer", counting)
    warned: list[str] = []
    config = BenchConfig(sizes=((64, 48),), variants=("light",), backends=("torch", "torch:bf16", "openvino:int4"),
                         passes=4, warmup=1, methods=("per-frame", "frame-diff", DEFAULT_METHOD),
                         method_sizes=((64, 48),), method_backend="torch", frames=12, repeats=2,
                         live_sizes=((64, 48),), live_backends=("torch",), live_seconds=0.8, file_seconds=0.4,
                         gemm_seconds=0.05, styles={"light": str(tiny_style)})
    result = run_bench(config, progress=False, warn=warned.append)
    assert "torch" in built and ("openvino" in built or not _openvino_installed())
    # the network table: torch in both modes beside its floor; the two bad labels skipped with a reason
    assert {(r["backend"], r["mode"]) for r in result["networks"]} == {("torch", "plain"), ("torch", "record")}
    row = result["networks"][0]
    assert row["precision"] == "fp32" and row["floor_ms"] == result["floor"]["floor_ms"]["light 64x48"]["fp32"] > 0
    assert row["gflop"] == pytest.approx(network_flops(TransformerNet(VARIANTS["light"]), 48, 64) / 1e9, abs=1e-3)
    assert any("torch:bf16 skipped: " in n and "only openvino takes a precision" in n for n in result["notes"])
    assert any(n.startswith("openvino:int4 skipped: ") for n in result["notes"])
    # too few passes, frames: warned, in the JSON, the callback and the Markdown
    assert any(w.startswith("--passes 4") for w in result["warnings"]) and warned[:len(result["warnings"])]
    table = markdown(result)
    assert "**Warning:** --passes 4" in table and "| 64x48 | light | torch | fp32 | plain |" in table
    # methods: per-frame runs the network on every frame, the stabilizers on fewer
    ran = {r["method"]: r["network_ran_on"] for r in result["rows"]}
    assert ran["per-frame"] == 1.0 and ran["frame-diff"] < 1.0
    assert all(r["ratio_to_per_frame"] > 0 and len(r["runs_ms_per_frame"]) == 2 for r in result["rows"])
    live = result["live"][0]
    assert live["method"] == DEFAULT_METHOD and live["input_fps"] == 30 and live["latency_ms"]["p95"] is not None
    assert live["face_detail"] == default_face_detail()  # live's own default, face detector included
    assert live["frames"] >= 1 and "delivered fps" in table
    assert result["file"][0]["frames"] == 10 and result["file"][0]["threaded_ms_per_frame"] > 0
    assert result["machine"]["cpu_model"] and result["machine"]["load_average_end"] is not None


def _openvino_installed() -> bool:
    from steadystyle.backends import REGISTRY

    return REGISTRY["openvino"].available()


def test_bench_command_writes_json_and_markdown_and_warns_on_stderr(tmp_path, tiny_style, capsys):
    code = main(["bench", "-o", str(tmp_path / "b"), "--parts", "networks", "--sizes", "64x48", "--backends", "torch",
                 "--passes", "3", "--warmup", "1", "--style", str(tiny_style)])
    assert code == 0
    data = json.loads((tmp_path / "b" / "bench.json").read_text())
    assert [r["backend"] for r in data["networks"]] == ["torch", "torch"] and data["rows"] == []
    assert (tmp_path / "b" / "bench.md").read_text().startswith("Machine:")
    err = capsys.readouterr().err
    assert "steadystyle: warning: --passes 3 is too few" in err and f"use --passes {MIN_PASSES}" in err
    assert not [p for p in (tmp_path / "b").iterdir() if p.name.startswith(".")], "temporary file left behind"


@pytest.mark.parametrize("args, message", [(["--methods", "magic"], "unknown method 'magic'"),
                                           (["--backends", "tensorrt"], "unknown backend 'tensorrt'"),
                                           (["--parts", "floor,magic"], "unknown bench part 'magic'")])
def test_bench_rejects_bad_choices_in_one_line(args, message, capsys):
    assert main(["bench", *args, "--live-seconds", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("steadystyle: error:") and message in err[0]
