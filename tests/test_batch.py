"""``steadystyle batch``: planning, a local Ray on loopback, identity with ``stylize_video``,
resuming, failures as rows, Ctrl-C, and the install hint without Ray."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import make_clip, read_all

from steadystyle import cli
from steadystyle.batch import (
    INSTALL_HINT,
    BatchSettings,
    RayOptions,
    is_finished,
    job_digest,
    marker_path,
    plan,
    run_batch,
)
from steadystyle.errors import SteadyStyleError
from steadystyle.pipeline import stylize_video
from steadystyle.spec import DEFAULT_METHOD, RunSpec

SIZE = (48, 32)


# -- planning (no Ray) ------------------------------------------------------------------------


def test_plan_mirrors_names_for_files_folders_and_globs(tmp_path):
    clips = tmp_path / "clips"
    (clips / "sub").mkdir(parents=True)
    for name in ("a.mkv", "sub/b.avi", ".hidden.mp4", "notes.txt"):
        (clips / name).write_bytes(b"x")
    out = tmp_path / "out"
    jobs = plan([clips], out)
    assert [(Path(j.input).name, j.relative) for j in jobs] == [("a.mkv", "a.mp4"), ("b.avi", "sub/b.mp4")]
    assert jobs[1].output == str(out / "sub" / "b.mp4")
    single = plan([clips / "sub" / "b.avi"], out)
    assert [j.relative for j in single] == ["b.mp4"]
    globbed = plan([str(clips / "**" / "*.avi")], out)
    assert [j.relative for j in globbed] == ["sub/b.mp4"]
    assert len(plan([clips, clips / "a.mkv"], out)) == 2  # the same file once


def test_plan_errors_are_one_line(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "a.mkv").write_bytes(b"x")
    (tmp_path / "x" / "a.avi").write_bytes(b"x")
    with pytest.raises(SteadyStyleError, match="would both write"):
        plan([tmp_path / "x"], tmp_path / "out")
    with pytest.raises(SteadyStyleError, match="no such file"):
        plan([tmp_path / "missing.mp4"], tmp_path / "out")
    with pytest.raises(SteadyStyleError, match="no files match"):
        plan([str(tmp_path / "*.webm")], tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SteadyStyleError, match="no video files"):
        plan([tmp_path / "empty"], tmp_path / "out")


def test_outputs_inside_the_input_folder_are_not_inputs(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"x")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.mp4").write_bytes(b"y")
    assert [j.relative for j in plan([tmp_path], tmp_path / "out")] == ["a.mp4"]


def test_without_ray_one_line_install_hint(monkeypatch, tmp_path, capsys, tiny_style):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray → ImportError
    make_clip(tmp_path / "a.mp4", frames=2, size=SIZE)
    code = cli.main(["batch", str(tmp_path / "a.mp4"), "-o", str(tmp_path / "out"), "--style", str(tiny_style)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and INSTALL_HINT in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args, phrase", [
    (["--crf", "60"], "--crf must be a whole number from 0 to 51"),
    (["--style", "no-such-style"], "unknown style 'no-such-style'"),
    (["--strength", "2"], "--strength"),
    (["--max-side", "8"], "--max-side"),
])
def test_bad_settings_are_one_line_before_ray_starts(monkeypatch, tmp_path, capsys, tiny_style, args, phrase):
    """Without Ray installed the batch would stop at the install hint: these errors come first."""
    monkeypatch.setitem(sys.modules, "ray", None)
    make_clip(tmp_path / "a.mp4", frames=2, size=SIZE)
    try:
        code = cli.main(["batch", str(tmp_path / "a.mp4"), "-o", str(tmp_path / "out"), "--style", str(tiny_style),
                         *args])
    except SystemExit as exit:  # argparse's own errors
        code = exit.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and phrase in err and INSTALL_HINT not in err
    assert not (tmp_path / "out").exists()


def test_settings_hold_one_run_spec_whose_backend_and_method_decide_the_digest(tmp_path, tiny_style):
    clip = make_clip(tmp_path / "a.mp4", frames=2, size=SIZE)
    settings = BatchSettings(RunSpec(style=str(tiny_style)))
    assert settings.spec.method == DEFAULT_METHOD and settings.style == str(tiny_style)
    digests = {job_digest(BatchSettings(RunSpec(style=str(tiny_style), backend=b, method=m)).describe("x"), clip)
               for b in ("torch", "onnx") for m in ("per-frame", "frame-diff")}
    assert len(digests) == 4
    with pytest.raises(SteadyStyleError, match="style must be a shipped style name or a model file"):
        BatchSettings(RunSpec(style=object()))
    with pytest.raises(SteadyStyleError, match="--crf"):
        BatchSettings(RunSpec(style=str(tiny_style)), crf=52)


# -- on a local Ray ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
             configure_logging=True, logging_level="ERROR")
    yield ray
    ray.shutdown()


def moving_clip(path: Path, frames: int = 6) -> Path:
    return make_clip(path, frames=frames, size=SIZE)


def _temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".tmp" in p.name]


def test_batch_outputs_resume_and_failures(ray_local, tmp_path, tiny_style, capsys):
    clips = tmp_path / "clips"
    (clips / "sub").mkdir(parents=True)
    moving_clip(clips / "a.mp4")
    moving_clip(clips / "sub" / "b.mkv", frames=5)
    (clips / "broken.mp4").write_bytes(b"this is not a video" * 20)
    out, report = tmp_path / "out", tmp_path / "results.json"
    argv = ["batch", str(clips), "-o", str(out), "--style", str(tiny_style), "--method", "frame-diff",
            "--report", str(report), "--quiet"]

    assert cli.main(argv) == 1  # one failure → non-zero, the others done
    printed = capsys.readouterr().out
    assert "broken.mp4" in printed and "1 failed" in printed
    data = json.loads(report.read_text())
    rows = {Path(r["input"]).name: r for r in data["results"]}
    assert rows["a.mp4"]["status"] == "done" and rows["a.mp4"]["frames"] == 6
    assert rows["b.mkv"]["status"] == "done" and rows["b.mkv"]["frames"] == 5
    assert rows["broken.mp4"]["status"] == "failed"
    assert "broken.mp4" in rows["broken.mp4"]["error"] and "\n" not in rows["broken.mp4"]["error"]
    assert (data["done"], data["failed"], data["skipped"]) == (2, 1, 0)
    assert not (out / "broken.mp4").exists() and not _temporaries(out)

    # each output equals, frame by frame, what stylize writes for that input
    for name, target in (("a.mp4", out / "a.mp4"), ("sub/b.mkv", out / "sub" / "b.mp4")):
        reference = tmp_path / f"ref-{Path(name).stem}.mp4"
        # at the batch's thread count: a bf16 backend's rounding depends on how the work is split
        stylize_video(clips / name, reference, spec=RunSpec(style=str(tiny_style), method="frame-diff",
                                                            threads=data["threads_per_worker"]), progress=False)
        got, got_times = read_all(target)
        want, want_times = read_all(reference)
        assert len(got) == len(want) and got_times == want_times
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)

    # rerun: finished outputs are skipped and untouched; the broken one is tried again
    before = {p: p.stat().st_mtime_ns for p in (out / "a.mp4", out / "sub" / "b.mp4")}
    assert cli.main(argv) == 1
    data = json.loads(report.read_text())
    assert [r["status"] for r in data["results"]] == ["skipped", "failed", "skipped"]
    assert before == {p: p.stat().st_mtime_ns for p in before}

    # a changed setting re-runs everything; an output replaced by hand re-runs that one
    assert cli.main(argv + ["--strength", "0.5"]) == 1
    assert [r["status"] for r in json.loads(report.read_text())["results"]] == ["done", "failed", "done"]
    (clips / "broken.mp4").unlink()
    (out / "a.mp4").write_bytes(b"damaged")
    assert cli.main(argv + ["--strength", "0.5"]) == 0
    assert [r["status"] for r in json.loads(report.read_text())["results"]] == ["done", "skipped"]
    assert len(read_all(out / "a.mp4")[0]) == 6


@pytest.mark.parametrize("backend", ["torch", "auto"])
def test_identical_to_stylize_with_max_side_at_the_same_thread_count(ray_local, tmp_path, tiny_style, capsys,
                                                                      backend):
    """With --max-side the torch stylizer upscales with torch's bilinear interpolate, whose CPU
    result depends (in the last float bit) on the number of torch threads; at equal thread counts
    the batch output equals stylize's exactly — on the backend asked for, and with no --method
    (so the batch's default method is the API's)."""
    import torch

    clip = moving_clip(tmp_path / "a.mp4", frames=4)
    out, report = tmp_path / "out", tmp_path / "r.json"
    assert cli.main(["batch", str(clip), "-o", str(out), "--style", str(tiny_style), "--backend", backend,
                     "--max-side", "24", "--threads-per-worker", "1", "--report", str(report), "--quiet"]) == 0
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ref = stylize_video(clip, tmp_path / "ref.mp4", str(tiny_style), max_side=24, backend=backend,
                            progress=False)
    finally:
        torch.set_num_threads(threads)
    data = json.loads(report.read_text())
    assert data["results"][0]["backend"] == ref.backend == data["settings"]["backend"]
    assert data["settings"]["method"] == ref.method == DEFAULT_METHOD
    assert json.loads(marker_path(out / "a.mp4").read_text())["params"] == ref.params
    got, want = read_all(out / "a.mp4")[0], read_all(tmp_path / "ref.mp4")[0]
    assert len(got) == len(want) == 4
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_interrupt_keeps_finished_outputs_and_leaves_no_temporaries(ray_local, tmp_path, tiny_style):
    clips = tmp_path / "clips"
    clips.mkdir()
    for name, frames in (("a.mp4", 10), ("b.mp4", 300), ("c.mp4", 10)):
        moving_clip(clips / name, frames=frames)
    jobs = plan([clips], tmp_path / "out")
    settings = BatchSettings(RunSpec(style=str(tiny_style), method="frame-diff"))
    seen = []

    def interrupt(row):
        seen.append(row)
        if row["status"] == "done":
            raise KeyboardInterrupt

    # a and b run at once; when a is done, Ctrl-C arrives while b (300 frames) is being written
    with pytest.raises(KeyboardInterrupt):
        run_batch(jobs, settings, RayOptions(workers=2), progress=False, on_result=interrupt)
    out = tmp_path / "out"
    assert [Path(r["input"]).name for r in seen] == ["a.mp4"]
    first = Path(seen[0]["output"])
    assert len(read_all(first)[0]) == 10 and marker_path(first).is_file()
    assert not (out / "b.mp4").exists() and not marker_path(out / "b.mp4").exists()  # cancelled mid-video
    assert not (out / "c.mp4").exists()  # never started
    assert not _temporaries(out)

    result = run_batch(jobs, settings, RayOptions(workers=2), progress=False)
    assert [r["status"] for r in result.rows] == ["skipped", "done", "done"]
    digest = job_digest(settings.describe(_sha(tiny_style)), jobs[0].input)
    assert all(is_finished(j, job_digest(settings.describe(_sha(tiny_style)), j.input)) for j in jobs)
    assert digest != job_digest(BatchSettings(RunSpec(style=str(tiny_style), method="per-frame")).describe(
        _sha(tiny_style)), jobs[0].input)
    assert not _temporaries(out)


def _sha(path: os.PathLike) -> str:
    from steadystyle.batch import file_sha256

    return file_sha256(path)


def test_more_threads_per_worker_than_the_cluster_has_is_one_line_not_a_hang(ray_local, tmp_path, tiny_style):
    """A task asking Ray for more CPUs than any node has would wait forever (infeasible)."""
    clip = moving_clip(tmp_path / "a.mp4", frames=2)
    jobs = plan([clip], tmp_path / "out")
    settings = BatchSettings(RunSpec(style=str(tiny_style)))
    cpus = int(ray_local.cluster_resources()["CPU"])
    with pytest.raises(SteadyStyleError, match=f"--threads-per-worker {cpus + 1}, but the Ray cluster has {cpus} CPUs"):
        run_batch(jobs, settings, RayOptions(threads_per_worker=cpus + 1), progress=False)
    assert not (tmp_path / "out" / "a.mp4").exists() and not _temporaries(tmp_path)


def test_more_workers_than_videos_or_cpus_is_capped_with_one_note(ray_local, tmp_path, tiny_style, capsys):
    """--workers above the videos to run (or what the cluster's CPUs run at once) would only start
    idle Ray workers and split the CPUs into needlessly few threads: lowered, said in one line."""
    clip = moving_clip(tmp_path / "a.mp4", frames=2)
    jobs = plan([clip], tmp_path / "out")
    settings = BatchSettings(RunSpec(style=str(tiny_style), method="per-frame"))
    cpus = int(ray_local.cluster_resources()["CPU"])
    result = run_batch(jobs, settings, RayOptions(workers=cpus + 6), progress=False)
    assert [r["status"] for r in result.rows] == ["done"]
    assert (result.workers, result.threads_per_worker) == (1, cpus)
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"steadystyle: --workers {cpus + 6}: 1 video to run and the Ray cluster runs {cpus} at once "
                   f"on its {cpus} CPUs; using 1"], err
    # a rerun has nothing to run: no Ray task, no note
    result = run_batch(jobs, settings, RayOptions(workers=cpus + 6), progress=False)
    assert [r["status"] for r in result.rows] == ["skipped"] and capsys.readouterr().err == ""


def test_workers_are_capped_by_the_cpus_the_threads_take(monkeypatch):
    from steadystyle.batch import ray_runner

    ray = pytest.importorskip("ray")
    monkeypatch.setattr(ray, "cluster_resources", lambda: {"CPU": 4.0})
    assert ray_runner._workers_and_threads(RayOptions(workers=3), 10) == (3, 1, None)
    assert ray_runner._workers_and_threads(RayOptions(), 2) == (2, 2, None)  # the default: no note
    assert ray_runner._workers_and_threads(RayOptions(workers=3, threads_per_worker=2), 10) == (
        2, 2, "--workers 3: the Ray cluster runs 2 at once on its 4 CPUs at 2 threads each; using 2")
    assert ray_runner._workers_and_threads(RayOptions(workers=9), 3) == (
        3, 1, "--workers 9: 3 videos to run and the Ray cluster runs 4 at once on its 4 CPUs; using 3")


def test_a_local_ray_gets_this_machines_cores_not_one_per_worker(monkeypatch):
    from steadystyle.batch import ray_runner

    ray = pytest.importorskip("ray")
    seen = {}
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kwargs: seen.update(kwargs))
    assert ray_runner.connect(RayOptions(workers=(os.cpu_count() or 1) + 30)) is True
    assert seen["num_cpus"] == (os.cpu_count() or 1)
