"""``live --window`` under a real X server (Xvfb): the window shows the painted frames."""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import sys
import time

import numpy as np
import pytest

from helpers import make_clip

REQUIRED = os.environ.get("STEADYSTYLE_REQUIRE_DISPLAY") == "1"


def read_xwd(data: bytes) -> np.ndarray:
    """An X window dump (``xwd``, 24/32 bits per pixel, TrueColor) → H×W×3 uint8 RGB."""
    fields = struct.unpack(">25I", data[:100])
    header_size, width, height, byte_order = fields[0], fields[4], fields[5], fields[7]
    bits_per_pixel, bytes_per_line, ncolors = fields[11], fields[12], fields[19]
    assert bits_per_pixel == 32, f"expected a 32-bit dump, got {bits_per_pixel}"
    start = header_size + 12 * ncolors
    rows = np.frombuffer(data[start:start + bytes_per_line * height], np.uint8).reshape(height, bytes_per_line)
    pixels = rows[:, :width * 4].reshape(height, width, 4)
    return pixels[..., [2, 1, 0]] if byte_order == 0 else pixels[..., [1, 2, 3]]


@pytest.fixture
def display():
    xvfb = shutil.which("Xvfb")
    if xvfb is None or shutil.which("xwd") is None:
        if REQUIRED:
            pytest.fail("Xvfb and xwd are required here (apt-get install xvfb x11-apps)")
        pytest.skip("Xvfb or xwd is not installed (apt-get install xvfb x11-apps)")
    for number in range(90, 190):  # a free display number: no lock file, no socket
        if not (os.path.exists(f"/tmp/.X{number}-lock") or os.path.exists(f"/tmp/.X11-unix/X{number}")):
            break
    server = subprocess.Popen([xvfb, f":{number}", "-screen", "0", "320x240x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(["xwd", "-root", "-silent", "-display", f":{number}"], capture_output=True).returncode:
            assert server.poll() is None and time.monotonic() < deadline, "Xvfb did not start"
            time.sleep(0.2)
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(10)


def test_live_window_shows_the_painted_frames(tmp_path, tiny_style, display):
    clip = make_clip(tmp_path / "call.mp4", frames=150, fps=25, size=(64, 48))
    env = dict(os.environ, DISPLAY=display)
    run = subprocess.Popen([sys.executable, "-m", "steadystyle", "live", "--input", str(clip), "--window",
                            "--size", "64x48", "--style", str(tiny_style), "--device", "cpu", "--duration", "60",
                            "--quiet"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    shown = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.5)
        dump = subprocess.run(["xwd", "-root", "-silent", "-display", display], capture_output=True)
        if dump.returncode != 0 or len(dump.stdout) < 100:
            continue
        screen = read_xwd(dump.stdout)
        if (screen.max(axis=2) > 16).sum() >= 0.5 * 64 * 48:  # the frame is on screen, not a black window
            shown = screen
            break
    run.send_signal(signal.SIGTERM)  # a clean stop, like q
    out, err = run.communicate(timeout=60)
    assert run.returncode == 0, err
    assert shown is not None, "no painted frame appeared on the X display"
    assert "live:" in out


def test_window_without_a_display_is_one_line(tmp_path, tiny_style):
    clip = make_clip(tmp_path / "call.mp4", frames=5, size=(64, 48))
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run([sys.executable, "-m", "steadystyle", "live", "--input", str(clip), "--window",
                           "--style", str(tiny_style), "--device", "cpu", "--quiet"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("steadystyle: error: --window needs a display"), done.stderr
