"""Issue #22: ``steadystyle batch`` stopped by SIGTERM behaves like Ctrl-C — Ray's own handlers
(a bare ``sys.exit`` and a C++ abort, exit status 1 or -6) do not get the signal, the running
video is cancelled and its temporaries removed, the finished one and its marker are kept, Ray is
shut down (no raylet, gcs_server or worker of the run is left), one line says what finished and
what did not, and the exit status is 128 + 15."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import make_clip

SIZE = (48, 32)


def _session_processes(sid: int) -> list[tuple[int, str]]:
    """(pid, command) of the live processes of session ``sid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] == "Z" or int(fields[3]) != sid:  # state, session id
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, ValueError, IndexError):
            continue
        found.append((int(entry.name), command))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_sigterm_stops_a_batch_like_ctrl_c(tmp_path, tiny_style):
    pytest.importorskip("ray")
    clips, out = tmp_path / "clips", tmp_path / "out"
    clips.mkdir()
    make_clip(clips / "a.mp4", frames=8, size=SIZE)
    make_clip(clips / "b.mp4", frames=3000, size=SIZE)  # still being written when the signal comes
    report = tmp_path / "report.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parents[1] / "src"),
                                                                     os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([sys.executable, "-m", "steadystyle", "batch", str(clips), "-o", str(out), "--style",
                             str(tiny_style), "--workers", "2", "--quiet", "--report", str(report)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)  # its session id is its pid: Ray's processes share it
    try:
        deadline = time.monotonic() + 180
        while not ((out / ".a.mp4.done.json").exists() and list(out.glob(".b.mp4.tmp-*"))):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "a.mp4 not finished, or b.mp4 not started, in 180 s"
            time.sleep(0.1)
        time.sleep(0.5)
        running = _session_processes(proc.pid)
        assert proc.poll() is None and len(running) > 2, running  # the driver, raylet, gcs_server, workers
        assert any("raylet" in c for _, c in running)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()

    assert proc.returncode == 128 + signal.SIGTERM, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("steadystyle: batch interrupted: 1 done") and "1 of 2 not finished" in lines[0]
    assert "SIGTERM received" not in stderr and "Traceback" not in stderr
    assert stdout == "" and not report.exists()
    # the finished output and its marker stay; nothing of the cancelled one, no temporary anywhere
    assert sorted(p.name for p in out.iterdir()) == [".a.mp4.done.json", "a.mp4"]
    assert (out / "a.mp4").stat().st_size > 0
    # Ray is shut down: no process of this run survives the driver
    deadline = time.monotonic() + 15
    while (left := _session_processes(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, left


@pytest.mark.parametrize("report, phrase", [
    ("{tmp}/missing/report.json", "--report {tmp}/missing/report.json: no such folder"),
    ("{tmp}/clips/a.mp4", "--report {tmp}/clips/a.mp4: is the input {tmp}/clips/a.mp4"),
    ("{tmp}/out/a.mp4", "--report and output {tmp}/out/a.mp4 name the same file"),
    ("{tmp}/clips", "is a folder"),
    ("{tmp}/clips/a.mp4:-o", "-o {tmp}/clips/a.mp4: is a file; give a folder"),
])
def test_a_bad_report_path_is_one_line_before_ray_starts(monkeypatch, tmp_path, capsys, tiny_style, report, phrase):
    """Ray is not even imported (``import ray`` would fail): the check comes before it."""
    from steadystyle import cli

    monkeypatch.setitem(sys.modules, "ray", None)
    (tmp_path / "clips").mkdir()
    (tmp_path / "out").mkdir()
    clip = make_clip(tmp_path / "clips" / "a.mp4", frames=2, size=SIZE)
    before = clip.read_bytes()
    report, _, option = report.format(tmp=tmp_path).partition(":")
    paths = ["-o", report, "--report", str(tmp_path / "r.json")] if option else ["-o", str(tmp_path / "out"),
                                                                                "--report", report]
    code = cli.main(["batch", str(clip), *paths, "--style", str(tiny_style), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and phrase.format(tmp=tmp_path) in err, err
    assert clip.read_bytes() == before and not any((tmp_path / "out").iterdir())
    assert not (tmp_path / "missing").exists()


# The driver, with a hook that stops at one phase of the batch's start, says so on a pipe and
# waits there until the test has sent SIGTERM: the signal comes exactly in that phase, whatever
# the machine's speed (no sleep decides where it lands).
_AT_PHASE = r'''
import os, sys
import ray, ray._private.node as node, ray._raylet as raylet

phase, marks, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seen = []

def hook(owner, name, after):
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs) if after else None
        if not seen:
            seen.append(phase)
            os.write(marks, phase.encode() + b"\n")
            os.read(go, 1)  # the SIGTERM arrives while this waits
        return result if after else original(*args, **kwargs)

    setattr(owner, name, wrapper)

if phase == "ray-processes":    # ray.init: the raylet started, its agents starting
    hook(node.Node, "start_raylet", after=True)
elif phase == "core-worker":    # ray.init: this process's core worker made, init not returned
    hook(raylet, "CoreWorker", after=True)
from steadystyle.cli import main
sys.exit(main(sys.argv[4:]))
'''


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
@pytest.mark.parametrize("phase", ["ray-processes", "core-worker"])
def test_sigterm_while_ray_starts_or_workers_are_made(tmp_path, tiny_style, phase):
    """A SIGTERM while ``ray.init`` runs once interrupted a half-started Ray: after its raylet
    started, its dashboard and runtime-env agents were orphaned; after its core worker was made,
    Ray's C++ handler printed a stack and the process aborted at exit (-6).  Now: exit 143, one
    line, no temporary, no process of the run left.  (A SIGTERM once the tasks are submitted is
    the test above.)"""
    pytest.importorskip("ray")
    clips, out = tmp_path / "clips", tmp_path / "out"
    clips.mkdir()
    make_clip(clips / "a.mp4", frames=3000, size=SIZE)
    (tmp_path / "at_phase.py").write_text(_AT_PHASE)
    marks_r, marks_w = os.pipe()
    go_r, go_w = os.pipe()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parents[1] / "src"),
                                                                     os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([sys.executable, str(tmp_path / "at_phase.py"), phase, str(marks_w), str(go_r), "batch",
                             str(clips), "-o", str(out), "--style", str(tiny_style), "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            pass_fds=(marks_w, go_r), start_new_session=True)
    os.close(marks_w)
    os.close(go_r)
    try:
        with os.fdopen(marks_r) as marks:
            assert marks.readline().strip() == phase, proc.communicate()
        proc.send_signal(signal.SIGTERM)
        os.write(go_w, b"x")
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        os.close(go_w)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("steadystyle: batch interrupted: 0 done"), stderr
    assert "1 of 1 not finished" in lines[0] and stdout == ""
    assert not list(tmp_path.rglob(".*tmp-*")), list(tmp_path.rglob(".*tmp-*"))
    assert not out.exists() or not list(out.iterdir())
    deadline = time.monotonic() + 15
    while (left := _session_processes(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, left
