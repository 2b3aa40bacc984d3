"""Issue #22 for ``steadystyle train``: a learning rate or thread count it cannot use is one
line before any work (not a divergence after loading the loss network, nor an allocator
traceback), and nothing is written."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from steadystyle.cli import main


@pytest.mark.parametrize("extra, phrase", [
    (["--lr", "nan"], "--lr nan: the learning rate must be a finite number above 0"),
    (["--lr", "inf"], "--lr inf: the learning rate must be a finite number above 0"),
    (["--lr", "0"], "--lr 0.0: the learning rate must be a finite number above 0"),
    (["--threads", "100000"], "--threads 100000: give 1 to"),
])
def test_unusable_values_are_one_line_before_any_work(tmp_path, capsys, extra, phrase):
    (tmp_path / "photos").mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(tmp_path / "photos" / f"{i}.png")
    Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(tmp_path / "painting.png")
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main(["train", "--style-image", str(tmp_path / "painting.png"), "--content", str(tmp_path / "photos"),
                 "-o", str(tmp_path / "m.safetensors"), "--iterations", "1", "--image-size", "32", "--quiet", *extra])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and phrase in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
