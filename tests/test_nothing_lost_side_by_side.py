"""``stylize --side-by-side`` labels its panels like the demo: "input" on the input, "STYLE,
METHOD" on the output; apart from the label bands the panels are the input and the output."""

from __future__ import annotations

import numpy as np
from helpers import make_clip, read_all

from steadystyle.cli import main
from steadystyle.sinks import label

W, H = 160, 96


def _frames(folder) -> list[np.ndarray]:
    return [f for f in read_all(folder)[0]]


def test_side_by_side_panels_are_labelled_and_otherwise_unchanged(tmp_path, tiny_style):
    clip = make_clip(tmp_path / "in.mp4", frames=3, size=(W, H))
    common = ["--style", str(tiny_style), "--method", "frame-diff", "--quiet"]
    assert main(["stylize", str(clip), "-o", str(tmp_path / "plain" / "%04d.png"), *common]) == 0
    assert main(["stylize", str(clip), "-o", str(tmp_path / "sbs" / "%04d.png"), "--side-by-side", *common]) == 0
    inputs, plain, sbs = read_all(clip)[0], _frames(tmp_path / "plain"), _frames(tmp_path / "sbs")
    assert len(inputs) == len(plain) == len(sbs) == 3
    for image, output, both in zip(inputs, plain, sbs):
        assert both.shape == (H, 2 * W, 3)
        for panel, unlabelled, text in ((both[:, :W], image, "input"), (both[:, W:], output, "tiny, frame-diff")):
            changed = np.any(panel != unlabelled, axis=2)
            rows, cols = np.nonzero(changed)
            assert changed.sum() > 100, text  # a label is there
            # ... only in a band at the top-left corner: a text line high, as wide as the text
            assert rows.max() < H // 4 and cols.min() < 8 and cols.max() < 8 + 8 * len(text), text
            band = panel[: rows.max() + 1, : cols.max() + 1]
            assert (band.max(axis=2) > 200).sum() > 20, text  # white letters on the darkened band
            np.testing.assert_array_equal(panel[~changed], unlabelled[~changed])
        # the two labels differ: the output's names its style and method
        assert not np.array_equal(np.any(both[:, :W] != image, axis=2), np.any(both[:, W:] != output, axis=2))


def test_label_darkens_a_band_and_writes_in_white_non_ascii_as_question_marks():
    image = np.full((96, 160, 3), 150, np.uint8)
    out = label(image, "input")
    assert out is not image and (image == 150).all()
    assert out[0, 0].tolist() == [50, 50, 50] and out[-1, -1].tolist() == [150, 150, 150]
    np.testing.assert_array_equal(label(image, "café"), label(image, "caf?"))
