"""Fitting a 352×288 camera into 320×240: crop fills, letterbox shows all, neither distorts."""

from __future__ import annotations

import numpy as np
import pytest

from steadystyle.errors import SteadyStyleError
from steadystyle.fit import crop_fill, fit_image, letterbox
from steadystyle.live import Resized
from steadystyle.sources import Frame


def disc_frame(width: int, height: int) -> np.ndarray:
    """White disc (radius ¼ of the height) centred on black: its width/height ratio shows distortion."""
    yy, xx = np.mgrid[:height, :width]
    image = np.zeros((height, width, 3), np.uint8)
    image[(yy - height / 2) ** 2 + (xx - width / 2) ** 2 <= (height / 4) ** 2] = 255
    return image


def disc_aspect(image: np.ndarray) -> float:
    ys, xs = np.nonzero(image[..., 0] > 127)
    return (xs.max() - xs.min() + 1) / (ys.max() - ys.min() + 1)


@pytest.mark.parametrize("fit", [crop_fill, letterbox])
def test_cif_into_qvga_keeps_circles_round(fit):
    out = fit(disc_frame(352, 288), 320, 240)
    assert out.shape == (240, 320, 3)
    assert abs(disc_aspect(out) - 1.0) < 0.05


def test_stretch_distorts_and_the_modes_differ_as_promised():
    cif = disc_frame(352, 288)
    assert abs(disc_aspect(fit_image(cif, 320, 240, "stretch")) - (320 / 352) / (240 / 288)) < 0.05
    boxed = letterbox(cif, 320, 240)
    assert boxed[:, :10].max() == 0 and boxed[:, -10:].max() == 0  # bars at the sides (352/288 < 4/3)
    filled = crop_fill(cif, 320, 240)
    assert filled[:, :10].shape == (240, 10, 3)  # no bars: the image fills the frame
    with pytest.raises(SteadyStyleError, match="unknown fit"):
        fit_image(cif, 320, 240, "zoom")


def test_live_source_fits_frames_by_the_chosen_mode():
    frames = [Frame(disc_frame(352, 288), 0.0, 0, 0.0)]
    out = next(iter(Resized(frames, (320, 240), "letterbox"))).image
    assert out.shape == (240, 320, 3) and abs(disc_aspect(out) - 1) < 0.05
