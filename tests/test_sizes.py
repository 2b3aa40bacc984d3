"""Every frame size works or gets one line: tiny frames scale up, huge ones are capped."""

from __future__ import annotations

import numpy as np
import pytest

from steadystyle.backends import make_stylizer
from steadystyle.backends.base import DEFAULT_MAX_SIDE, MIN_WORK_SIDE, working_size
from steadystyle.errors import SteadyStyleError


def test_working_size_caps_huge_frames_and_lifts_tiny_ones():
    assert working_size(7000, 7000, None) == (DEFAULT_MAX_SIDE, DEFAULT_MAX_SIDE)
    assert working_size(1080, 1920, None) == (1080, 1920)  # 1080p runs at its own size
    assert working_size(7000, 7000, 4000) == (4000, 4000)  # --max-side sets another cap
    assert working_size(1, 1, None) == (MIN_WORK_SIDE, MIN_WORK_SIDE)
    assert working_size(3, 5, None) == (5, 8)
    assert working_size(6, 9, None) == (6, 9)  # large enough for the network as it is
    with pytest.raises(SteadyStyleError, match="too thin"):
        working_size(1, 5000, None)


@pytest.mark.parametrize("backend", ["torch", "onnx"])
@pytest.mark.parametrize("shape", [(1, 1, 3), (3, 5, 3), (5, 3, 3), (2, 40, 3)])
def test_tiny_frames_come_back_at_their_size(tiny_style, backend, shape):
    stylizer = make_stylizer(tiny_style, backend=backend, device="cpu")
    frame = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    out = stylizer(frame)
    assert out.shape == shape and out.dtype == np.uint8
