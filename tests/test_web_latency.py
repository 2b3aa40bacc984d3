"""The browser latency tool: its matching of painted frames to camera frames (by hand), and one
short real call in Chromium on loopback."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("aiortc", reason="the web extra is not installed (pip install -e '.[web]')")
pytest.importorskip("playwright", reason="the web extra is not installed (pip install -e '.[web]')")

from steadystyle.errors import SteadyStyleError  # noqa: E402
from steadystyle.web.latency import coded_frame, latencies, summarize  # noqa: E402


def test_painted_frames_are_matched_to_the_last_camera_showing_of_their_index():
    camera = [(0, 0.0), (1, 33.0), (2, 66.0), (0, 100.0), (1, 133.0)]  # the clip loops after 3 frames
    painted = [(0, 50.0), (0, 60.0), (2, 150.0), (0, 210.0), (7, 220.0), (1, 240.0)]
    got = latencies(camera, painted)
    # 0 at 50 ← camera 0 at 0; the repeat at 60 is not a new frame; 2 at 150 ← 66; 0 at 210 ←
    # its newer showing at 100; 7 was never shown by the camera; 1 at 240 ← 133
    assert got == [(0.05, 50.0), (0.15, 84.0), (0.21, 110.0), (0.24, 107.0)]
    summary = summarize(got, seconds=1.0, shown=6, unreadable=1)
    assert summary["frames"] == 4 and summary["p50_ms"] == pytest.approx(95.5)
    assert summary["distinct_fps"] == 4.0 and summary["unreadable_share"] == pytest.approx(1 / 6, abs=1e-3)
    with pytest.raises(SteadyStyleError):
        summarize([], 1.0, 0, 0)
    # a camera showing a whole loop old is no match (the camera element skipped this round's)
    assert latencies([(3, 0.0)], [(3, 90.0), (4, 95.0), (3, 9000.0)], within_ms=5000.0) == [(0.09, 90.0)]


def test_the_band_codes_the_index():
    image = coded_frame(0b1000000101, 320, 240)
    band, complement = image[:30], image[30:60]
    assert band[:, 0:32].min() == 255 and band[:, 32:64].max() == 0 and band[:, 288:320].min() == 255
    assert complement[:, 0:32].max() == 0 and complement[:, 32:64].min() == 255


def test_a_short_call_in_chromium_is_measured():
    from steadystyle.web.latency import _chromium, measure

    try:
        _chromium()
    except SteadyStyleError as exc:
        if os.environ.get("STEADYSTYLE_REQUIRE_BROWSER") == "1":
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    result = measure("identity", "320x240", seconds=4.0, warmup=1.0)
    print(result)
    assert result["frames"] >= 8 and result["unreadable_share"] < 0.2
    assert 5 < result["p50_ms"] <= result["p95_ms"] < 3000
