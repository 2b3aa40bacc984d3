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
    result = measure("identity", "320x240", seconds=4.0, warmup=1.0, memory_every=1.0)
    print(result)
    assert result["frames"] >= 8 and result["unreadable_share"] < 0.2
    assert 5 < result["p50_ms"] <= result["p95_ms"] < 3000
    # the server's memory was sampled over the call (every second: at least 4 samples, plus the last)
    assert result["rss_samples"] >= 4 and 50 < result["rss_min_mib"] <= result["rss_max_mib"] < 1e5
    assert result["rss_span_s"] >= 3.5 and "first_minute_p50_ms" in result and "load_average_start" in result


def test_a_measured_call_runs_the_servers_face_detail_except_identity(monkeypatch):
    import steadystyle.facedetect as facedetect
    from steadystyle.face import DEFAULT_FACE_DETAIL
    from steadystyle.web.latency import call_face_detail

    monkeypatch.setattr(facedetect, "detector_available", lambda: True)
    assert call_face_detail("scream") == DEFAULT_FACE_DETAIL  # what a user's call starts with
    assert call_face_detail("identity") == 0.0 and call_face_detail("scream", 0.3) == 0.3
    monkeypatch.setattr(facedetect, "detector_available", lambda: False)
    assert call_face_detail("scream") == 0.0
    with pytest.raises(SteadyStyleError):
        call_face_detail("scream", 1.5)


def test_slope_and_minute_medians_of_a_series():
    from steadystyle.web.trend import by_minute, slope_per_minute, trend

    # 10 minutes, one sample a second: 100 ms + 3 ms per minute, with ±5 ms alternating noise
    rising = [(t, 100.0 + 3.0 * t / 60 + (5.0 if t % 2 else -5.0)) for t in range(600)]
    assert slope_per_minute(rising) == pytest.approx(3.0, abs=0.05)
    flat = trend([(t, 50.0 + (1.0 if t % 2 else -1.0)) for t in range(600)])
    assert flat["slope_per_min"] == pytest.approx(0.0, abs=0.01) and flat["first_median"] == pytest.approx(50.0, abs=1.0)
    # a jump after the first minute shows in the last-minute median and the change, not the first
    step_samples = [(t, 10.0 if t < 1300 else 30.0) for t in range(1000, 1600)]
    step = trend(step_samples)
    assert step["first_median"] == 10.0 and step["last_median"] == 30.0 and step["change"] == 20.0
    assert step["samples"] == 600 and step["span_s"] == 599.0 and step["slope_per_min"] > 0
    assert by_minute(step_samples) == [10.0] * 5 + [30.0] * 5 and by_minute([]) == []
    assert slope_per_minute([(1.0, 5.0)]) == 0.0 and slope_per_minute([(2.0, 1.0), (2.0, 9.0)]) == 0.0
    with pytest.raises(SteadyStyleError):
        trend([])


def test_memory_summary_and_markdown_row():
    from steadystyle.web.latency import markdown_row, summarize_memory

    memory = summarize_memory([(t * 5.0, 400.0 + 0.5 * t) for t in range(121)])  # +6 MiB a minute
    assert memory["rss_slope_mib_per_min"] == pytest.approx(6.0) and memory["rss_samples"] == 121
    assert memory["rss_first_minute_mib"] == 403.0 and memory["rss_last_minute_mib"] == 457.0
    assert memory["rss_min_mib"] == 400.0 and memory["rss_max_mib"] == 460.0
    row = markdown_row({"style": "scream", "size": "320x240", "seconds": 600.0, "p50_ms": 300.0, "p95_ms": 450.5,
                        "max_ms": 700.0, "slope_ms_per_min": -1.5, "first_minute_p50_ms": 301.0,
                        "last_minute_p50_ms": 299.0, "distinct_fps": 6.5, "frames": 3900,
                        "load_average": (3.25, 2.0, 1.0), **memory})
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells == ["scream", "320x240", "600", "300", "450.5", "700", "-1.5", "301 / 299", "403 / 457", "+6",
                     "6.5", "3900", "3.2"]


def test_the_memory_sampler_sees_this_process_grow():
    import time

    import numpy as np

    from steadystyle.web.trend import RssSampler, rss_mib

    before = rss_mib()
    assert 10 < before < 1e6
    with RssSampler(every_s=0.2) as sampler:
        time.sleep(0.5)
        block = np.ones(200 * 2**20, np.uint8)  # 200 MiB, touched
        time.sleep(0.7)
    samples = sampler.samples
    assert len(samples) >= 6 and all(b[0] > a[0] for a, b in zip(samples, samples[1:]))
    assert samples[-1][1] - samples[0][1] > 150, samples  # the sampler saw the 200 MiB arrive
    del block
    with pytest.raises(SteadyStyleError):
        rss_mib("/nonexistent/status")
    with pytest.raises(SteadyStyleError):
        RssSampler(every_s=0)
