"""``steadystyle bench``: every registered method measured, ratios to per-frame, JSON + Markdown."""

from __future__ import annotations

import json

from steadystyle.bench import BenchConfig, markdown, method_rows, run_bench
from steadystyle.cli import main
from steadystyle.stabilize import method_names


def test_bench_measures_every_method_with_ratios(tiny_style):
    config = BenchConfig(sizes=((64, 48),), variants=("light",), backends=("torch", "no-such-backend"), frames=6,
                         repeats=2, live_seconds=0.6, file_seconds=0.3, styles={"light": str(tiny_style)})
    result = run_bench(config, progress=False)
    labels = {r["method"] for r in result["rows"]}
    assert labels == {label for label, _, _ in method_rows()} and set(method_names()) <= labels
    per_frame = next(r for r in result["rows"] if r["method"] == "per-frame")
    assert per_frame["ratio_to_per_frame"] == 1.0 and per_frame["network_ran_on"] == 1.0
    assert len(per_frame["runs_ms_per_frame"]) == 2
    frame_diff = next(r for r in result["rows"] if r["method"] == "frame-diff")
    assert 0 < frame_diff["network_ran_on"] <= 1 and "stabilizer_overhead" in frame_diff
    assert any("no-such-backend skipped" in n for n in result["notes"])
    live = result["live"][0]
    assert live["frames"] >= 1 and live["latency_ms"]["p95"] is not None
    file = result["file"][0]
    assert file["frames"] == 8 and file["serial_ms_per_frame"] > 0 and file["threaded_ms_per_frame"] > 0
    table = markdown(result)
    assert "| 64x48 | light | torch | frame-diff |" in table and "delivered fps" in table


def test_bench_command_writes_json_and_markdown(tmp_path, capsys):
    code = main(["bench", "-o", str(tmp_path / "b"), "--sizes", "64x48", "--variants", "light", "--backends", "torch",
                 "--methods", "per-frame,frame-diff", "--frames", "3", "--repeats", "1", "--live-seconds", "0", "--file-seconds", "0"])
    assert code == 0
    data = json.loads((tmp_path / "b" / "bench.json").read_text())
    assert [r["method"] for r in data["rows"]][:1] == ["per-frame"] and "machine" in data
    assert (tmp_path / "b" / "bench.md").read_text().startswith("Machine:")


def test_bench_rejects_unknown_method(capsys):
    assert main(["bench", "--methods", "magic", "--live-seconds", "0"]) == 2
    assert "unknown method 'magic'" in capsys.readouterr().err
