"""Failures found by trying steadystyle as a new user would (issue 13), each reproduced here.

Every case must end in one clear line (an error with exit 2, or an explicit warning), a
non-zero exit where the result is not what was asked, and nothing lost or left behind.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from helpers import H, W, make_clip, pattern_image, tiny_training_args
from safetensors.torch import load_file, save_file

from steadystyle.cli import main
from steadystyle.errors import SteadyStyleError
from steadystyle.video import VideoWriter
from steadystyle.weights import METADATA_KEY, load_model, read_metadata


def stderr_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def leftovers(folder: Path) -> list[str]:
    """Hidden temporaries a writer may have left (``.out.mp4.tmp-…``, ``.steadystyle.tmp-…``)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def faststart_clip(path: Path, frames: int) -> Path:
    """An MP4 with its index at the front (what steadystyle itself writes)."""
    with VideoWriter(path, W, H, 25) as writer:
        for i in range(frames):
            writer.write(pattern_image(i))
    return path


def stylize(tiny_style: Path, src: Path | str, out: Path | str, *extra: str) -> int:
    return main(["stylize", str(src), "-o", str(out), "--style", str(tiny_style), "--method", "per-frame",
                 "--quiet", *extra])


# ---------------------------------------------------------------------------------------------
# 1. truncated input


def test_truncated_mp4_warns_with_counts_and_strict_refuses(tmp_path, tiny_style, capsys):
    whole = faststart_clip(tmp_path / "whole.mp4", 60)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])

    assert stylize(tiny_style, cut, tmp_path / "o.mp4", "--stats", str(tmp_path / "s.json")) == 0
    lines = stderr_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith("steadystyle: warning: "), lines
    stats = json.loads((tmp_path / "s.json").read_text())
    assert 0 < stats["frames"] < 60 and stats["frames_announced"] == 60
    assert f"only {stats['frames']} of the 60 frames" in lines[0]
    assert stats["warnings"] == [lines[0].removeprefix("steadystyle: warning: ")]

    keep = tmp_path / "keep.mp4"
    keep.write_bytes(b"precious")
    assert stylize(tiny_style, cut, keep, "--strict") == 2
    (line,) = stderr_lines(capsys)
    assert line.startswith("steadystyle: error: ") and "of the 60 frames" in line and "(--strict)" in line
    assert keep.read_bytes() == b"precious" and leftovers(tmp_path) == []

    assert stylize(tiny_style, whole, tmp_path / "w.mp4", "--strict", "--stats", str(tmp_path / "w.json")) == 0
    assert stderr_lines(capsys) == []
    stats = json.loads((tmp_path / "w.json").read_text())
    assert stats["warnings"] == [] and stats["frames"] == stats["frames_announced"] == 60


# ---------------------------------------------------------------------------------------------
# 2. image sequence with a gap


def test_sequence_gap_warns_naming_the_number_and_strict_refuses(tmp_path, tiny_style, capsys):
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(1, 11):
        if i != 5:
            cv2.imwrite(str(frames / f"{i:04d}.png"), pattern_image(i))
    assert stylize(tiny_style, frames, f"{tmp_path}/out/", "--stats", str(tmp_path / "s.json")) == 0
    (line,) = stderr_lines(capsys)
    assert line.startswith("steadystyle: warning: ") and "1 frame missing" in line and "(number 5)" in line
    assert len([p for p in (tmp_path / "out").iterdir() if p.suffix == ".png"]) == 9
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["frames_announced"] == 10 and len(stats["warnings"]) == 1

    assert stylize(tiny_style, frames / "%04d.png", tmp_path / "strict.mp4", "--strict") == 2
    (line,) = stderr_lines(capsys)
    assert line.startswith("steadystyle: error: ") and "(number 5)" in line
    assert not (tmp_path / "strict.mp4").exists() and leftovers(tmp_path) == []


# ---------------------------------------------------------------------------------------------
# 3. NaN / Inf weights


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_nan_or_inf_weights_are_refused_on_load(tmp_path, tiny_style, capsys, bad):
    tensors = load_file(str(tiny_style))
    tensors["res1.conv1.conv2d.weight"][0, 0, 0, 0] = bad
    meta = json.dumps(read_metadata(tiny_style))
    broken = tmp_path / "broken.safetensors"
    save_file(tensors, str(broken), metadata={METADATA_KEY: meta})
    pth = tmp_path / "broken.pth"
    torch.save({k: v.float() for k, v in tensors.items()}, pth)  # a pytorch/examples-style file
    for path in (broken, pth):
        with pytest.raises(SteadyStyleError, match=r"weights contain NaN or infinite values \(res1\.conv1"):
            load_model(path)
    src = make_clip(tmp_path / "in.mp4", frames=2)
    assert main(["stylize", str(src), "-o", str(tmp_path / "o.mp4"), "--style", str(broken), "--quiet"]) == 2
    (line,) = stderr_lines(capsys)
    assert line.startswith("steadystyle: error: ") and "broken.safetensors" in line
    assert not (tmp_path / "o.mp4").exists()


# ---------------------------------------------------------------------------------------------
# 4. SIGTERM and SIGHUP mid-run


def _wait_for(predicate, process: subprocess.Popen, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if process.poll() is not None:
            pytest.fail(f"the command ended (status {process.returncode}) before {what}: {process.stderr.read()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_stop_signals_mid_stylize_leave_no_temporary(tmp_path, tiny_style, signame):
    src = make_clip(tmp_path / "in.mp4", frames=150, size=(320, 240))
    out = tmp_path / "out.mp4"
    out.write_bytes(b"earlier output")
    process = subprocess.Popen(
        [sys.executable, "-m", "steadystyle", "stylize", str(src), "-o", str(out), "--style", str(tiny_style),
         "--method", "per-frame", "--quiet", "--device", "cpu"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: any(name.startswith(".out.mp4.tmp-") for name in os.listdir(tmp_path)), process,
              "the temporary output appeared")
    time.sleep(0.05)  # inside the run: frames are being stylized and encoded
    number = getattr(signal, signame)
    process.send_signal(number)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + number, err
    assert "Traceback" not in err and "interrupted" in err
    assert out.read_bytes() == b"earlier output"
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_interrupted_training_keeps_every_iteration_and_says_how_to_resume(tmp_path, signame):
    number = getattr(signal, signame)
    args = [*tiny_training_args(tmp_path),
            "--iterations", "100000", "--checkpoint-every", "3", "--threads", "1", "--quiet"]
    process = subprocess.Popen([sys.executable, "-m", "steadystyle", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    _wait_for((tmp_path / "m.samples.jpg").is_file, process, "the first checkpoint and samples")
    time.sleep(0.3)  # some iterations after that checkpoint, which Ctrl-C used to lose
    process.send_signal(number)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + number, err
    lines = err.splitlines()
    assert len(lines) == 2 and "Traceback" not in err, err
    state = torch.load(tmp_path / "m.ckpt.pt", weights_only=True)
    logged = [json.loads(line)["iteration"] for line in (tmp_path / "m.log.jsonl").read_text().splitlines()]
    assert logged[-1] == state["iteration"]  # the checkpoint holds the last iteration done
    assert "training interrupted; the model was not written" in lines[0]
    assert (f"checkpoint {tmp_path / 'm.ckpt.pt'} (iteration {state['iteration']}, the last one done: nothing "
            f"was lost)") in lines[0]
    assert f"log {tmp_path / 'm.log.jsonl'}" in lines[0] and f"samples {tmp_path / 'm.samples.jpg'}" in lines[0]
    assert lines[1] == "steadystyle: resume with: " + shlex.join(["steadystyle", *args, "--resume"])
    assert not (tmp_path / "m.safetensors").exists()
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []


# ---------------------------------------------------------------------------------------------
# 5. train -o


def test_train_output_errors_are_one_line(tmp_path, capsys):
    (tmp_path / "style.png").write_bytes(cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes())
    base = ["train", "--style-image", str(tmp_path / "style.png"), "--content", str(tmp_path), "--quiet"]
    assert main([*base, "-o", str(tmp_path / "model.pth")]) == 2
    (line,) = stderr_lines(capsys)
    assert "model.pth: the model is written as safetensors; name it model.safetensors" in line
    if Path("/proc/self").is_dir():
        assert main([*base, "-o", "/proc/model.safetensors"]) == 2
        (line,) = stderr_lines(capsys)
        assert line.startswith("steadystyle: error: /proc/model.safetensors: cannot write into /proc")


# ---------------------------------------------------------------------------------------------
# 6. -o without an extension


def test_output_without_extension_is_an_error_naming_the_forms(tmp_path, tiny_style, capsys):
    src = make_clip(tmp_path / "in.mp4", frames=2)
    assert stylize(tiny_style, src, tmp_path / "noext") == 2
    (line,) = stderr_lines(capsys)
    assert "noext: output has no extension; write a .mp4, .mov or .mkv file" in line
    assert "%06d.png" in line and "ending in /" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]
    assert stylize(tiny_style, src, f"{tmp_path / 'frames'}/") == 0  # the folder form, trailing /
    assert sorted(p.name for p in (tmp_path / "frames").iterdir() if p.suffix == ".png") == ["000001.png", "000002.png"]


# ---------------------------------------------------------------------------------------------
# 7. misleading messages


def test_messages_say_what_is_wrong(tmp_path, tiny_style, capsys):
    src = make_clip(tmp_path / "in.mp4", frames=2)
    (tmp_path / "models").mkdir()
    assert main(["stylize", str(src), "-o", str(tmp_path / "o.mp4"), "--style", str(tmp_path / "models")]) == 2
    assert "models: is a folder, not a style" in stderr_lines(capsys)[0]

    text = tmp_path / "text.mp4"
    text.write_text("a file")
    for output in (text / "out.mp4", text / "%05d.png", f"{text}/"):
        assert stylize(tiny_style, src, output) == 2
        (line,) = stderr_lines(capsys)
        assert "text.mp4 is a file, not a folder" in line and "does not exist" not in line, line
    assert stylize(tiny_style, text / "%05d.png", tmp_path / "o.mp4") == 2
    assert "text.mp4 is a file, not a folder" in stderr_lines(capsys)[0]

    with pytest.raises(SystemExit) as caught:
        stylize(tiny_style, src, tmp_path / "o.mp4", "--max-side", "8")
    assert caught.value.code == 2 and "must be at least 16 pixels" in stderr_lines(capsys)[0]
    assert stylize(tiny_style, src, tmp_path / "o.mp4", "--max-side", "16") == 0


def test_raw_pickle_is_refused_without_torch_warnings(tmp_path):
    import pickle

    class Payload:
        def __reduce__(self):
            return (os.system, ("echo should-never-run",))

    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps({"w": Payload()}, protocol=4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(SteadyStyleError, match="evil.pth: refusing to load"):
            load_model(path)
    assert [str(w.message) for w in caught] == []


def test_safetensors_under_another_name_still_loads(tmp_path, tiny_style):
    renamed = tmp_path / "model.pth"  # e.g. written by an older `train -o model.pth`
    renamed.write_bytes(tiny_style.read_bytes())
    model = load_model(renamed)
    reference = load_model(tiny_style)
    assert model.name == "tiny" and all(torch.equal(a, b) for a, b in zip(
        model.network.state_dict().values(), reference.network.state_dict().values()))


# ---------------------------------------------------------------------------------------------
# issue 22: nothing but our own lines on stderr (torch warnings, OpenCV WARN lines, onnx_ir INFO)

def _run_cli(args: list[str], cwd: Path, prelude: str = "") -> subprocess.CompletedProcess:
    code = f"import sys; {prelude}\nfrom steadystyle.cli import main; sys.exit(main(sys.argv[1:]))"
    env = dict(os.environ, STEADYSTYLE_CACHE=str(cwd / "cache"))
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


def test_a_pickle_of_another_protocol_gives_one_line_without_torch_warnings(tmp_path):
    import pickle

    with open(tmp_path / "vgg.pth", "wb") as f:
        pickle.dump({"features.0.weight": np.zeros(3)}, f, protocol=4)  # torch warns about protocol 4
    args = [*tiny_training_args(tmp_path), "--loss-network", "vgg16", "--vgg-weights", str(tmp_path / "vgg.pth"),
            "--quiet"]
    done = _run_cli(args, tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"steadystyle: error: {tmp_path / 'vgg.pth'}: refusing to load: the file "
                                        f"holds more than plain weights"]


def test_an_unreadable_frame_gives_our_line_and_no_opencv_lines(tmp_path, tiny_style):
    frames = tmp_path / "frames"
    frames.mkdir()
    good = cv2.imencode(".png", pattern_image(0))[1].tobytes()
    (frames / "0001.png").write_bytes(good)
    (frames / "0002.png").write_bytes(good[: len(good) // 2])  # truncated: OpenCV warns about it
    done = _run_cli(["stylize", str(frames), "-o", str(tmp_path / "out.mp4"), "--style", str(tiny_style),
                     "--method", "per-frame", "--quiet"], tmp_path)
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    assert line == f"steadystyle: error: {frames / '0002.png'}: frame 1 is not a readable image"


def test_export_onnx_prints_nothing_but_its_result_even_with_info_logging(tmp_path, tiny_style):
    from steadystyle.backends import onnx_available

    if not onnx_available():
        pytest.skip("onnx/onnxscript/onnxruntime not installed")
    done = _run_cli(["export-onnx", str(tiny_style), "-o", str(tmp_path / "t.onnx")], tmp_path,
                    prelude="import logging; logging.basicConfig(level=logging.INFO)")
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout.startswith(f"wrote {tmp_path / 't.onnx'} (tiny, opset 18")
