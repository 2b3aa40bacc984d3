"""Issue #22 for serve, study, evaluate, bench and batch: a bad value or path is one line
(``steadystyle: error: …``, exit 2) before any work starts, and nothing the user had is lost."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from steadystyle.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _one_line_error(capsys, *words: str) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("steadystyle: error: "), err
    assert "\n" not in err and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


def _busy_port() -> tuple[socket.socket, int]:
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    return holder, holder.getsockname()[1]


def test_serve_on_a_port_in_use_is_one_line(capsys):
    pytest.importorskip("aiortc")
    holder, port = _busy_port()
    try:
        assert main(["serve", "--host", "127.0.0.1", "--port", str(port)]) == 2
        _one_line_error(capsys, f"port {port} is in use")
    finally:
        holder.close()


def test_serve_on_a_port_in_use_exits_2_without_an_abort():
    """The whole process: no traceback, no 'terminate called' from a thread left running."""
    pytest.importorskip("aiortc")
    holder, port = _busy_port()
    try:
        done = subprocess.run([sys.executable, "-m", "steadystyle", "serve", "--host", "127.0.0.1",
                               "--port", str(port)], capture_output=True, text=True, timeout=120)
    finally:
        holder.close()
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == [f"steadystyle: error: --port {port}: port {port} is in use on 127.0.0.1; stop what holds "
                     f"it or choose another --port"], done.stderr


def test_control_json_refuses_numbers_a_call_cannot_take():
    pytest.importorskip("aiohttp")
    from steadystyle.web.config import BadRequest, loads_strict

    assert loads_strict('{"strength": 0.5, "id": 12}') == {"strength": 0.5, "id": 12}
    for text, words in [('{"strength": ' + "9" * 5001 + "}", "not valid JSON"),
                        ('{"strength": NaN}', "NaN"), ('{"strength": Infinity}', "Infinity"),
                        ('{"strength": -1e400}', "out of range"), ("[" * 100000, "")]:
        with pytest.raises(BadRequest) as caught:
            loads_strict(text, "control message")
        assert caught.value.status == 400 and words in str(caught.value)
        assert str(caught.value).startswith("control message") and len(str(caught.value)) < 200
