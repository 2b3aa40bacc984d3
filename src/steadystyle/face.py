"""Faces stay recognisable: a feathered, temporally smoothed face mask and a face-aware blend.

:class:`FaceDetail` takes the input frame I and its stylization S and returns S with the face
moved towards the input: on the face, ``S' = S + w·(I − S)`` with ``w = detail · mask``, the
mask 1 on the face, 0 well away from it, with a soft edge between.  Applied to S(t) *before* the
stabilizer (like ``preserve_colors``), so frozen pixels stay frozen and the mask goes through
the stabilizer like everything else.

The mask comes from :class:`~steadystyle.facedetect.FaceDetector` (MTCNN) run on a copy of the
frame scaled to ``detect_side`` px, every ``every``-th new frame; between detections the smoothed
boxes are kept.  Boxes are smoothed over time (each detection moves a tracked box a fraction
``smoothing`` of the way), a face missed for a few detections fades out instead of vanishing,
so the mask does not flicker when the detector misses one frame.

Frames are H×W×3 uint8 RGB; boxes :class:`~steadystyle.geometry.Box` in pixels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .errors import SteadyStyleError
from .frames import check_frame
from .geometry import Box

__all__ = ["FaceDetail", "FaceTracker", "face_mask", "check_face_detail", "default_face_detail", "DEFAULT_FACE_DETAIL"]

#: The face detail a call starts with (``--face-detail``; see docs/faces.md for the measurement).
DEFAULT_FACE_DETAIL = 0.9

#: A detector: H×W×3 uint8 RGB → list of (x0, y0, x1, y1) face boxes in that image's pixels.
_SUBPIXEL_BITS = 4
_ROI_SIDE = 150  # a tracked face is looked for in a crop of 2.5 face widths scaled to this (face ≈ 60 px)

Detector = Callable[[np.ndarray], Sequence[tuple[float, float, float, float]]]


def default_face_detail() -> float:
    """The ``--face-detail`` an entry point starts with: :data:`DEFAULT_FACE_DETAIL` when the face
    models are installed (the ``[face]`` extra), else 0 (off) — a default never fails a run."""
    from .facedetect import detector_available

    return DEFAULT_FACE_DETAIL if detector_available() else 0.0


def check_face_detail(detail: float) -> float:
    """``detail`` as a float in [0, 1]; a one-line :class:`SteadyStyleError` otherwise."""
    try:
        value = float(detail)
    except (TypeError, ValueError):
        raise SteadyStyleError(f"face detail must be a number from 0 to 1 (got {detail!r})") from None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise SteadyStyleError(f"face detail must be from 0 (off) to 1 (the face unstylized), got {detail!r}")
    return value


@dataclass(eq=False)  # tracks are told apart by identity
class _Track:
    box: np.ndarray  # (x0, y0, x1, y1) float64, frame pixels
    presence: float  # 0..1, the mask's weight for this face
    misses: int = 0


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return float(inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter))


class FaceTracker:
    """Face boxes smoothed over detections.

    ``update(boxes)`` with one detection's (x0, y0, x1, y1) boxes: a box overlapping a tracked
    face (IoU ≥ ``match_iou``) moves it ``smoothing`` of the way (1 = jump, smaller = steadier),
    unless no edge moved more than ``deadband`` × the face width (detector jitter: the box stays,
    so a still face has a mask that does not change at all);
    a new face starts at presence 1; a face not found keeps its box for ``hold`` detections, then
    fades by ``fade`` per detection (and comes back to 1 when found again).
    ``faces()``: the (box, presence) pairs now.
    """

    def __init__(self, smoothing: float = 0.5, hold: int = 3, fade: float = 0.34, match_iou: float = 0.2,
                 deadband: float = 0.06) -> None:
        self.smoothing = float(smoothing)
        self.deadband = float(deadband)
        self.hold = int(hold)
        self.fade = float(fade)
        self.match_iou = float(match_iou)
        self._tracks: list[_Track] = []

    def reset(self) -> None:
        self._tracks = []

    def update(self, boxes: Sequence[Sequence[float]]) -> None:
        free = list(self._tracks)
        for box in sorted((np.asarray(b, np.float64) for b in boxes), key=lambda b: -(b[2] - b[0]) * (b[3] - b[1])):
            best = max(free, key=lambda t: _iou(t.box, box), default=None)
            if best is not None and _iou(best.box, box) >= self.match_iou:
                free.remove(best)
                step = box - best.box
                if np.abs(step).max() > self.deadband * (best.box[2] - best.box[0]):
                    best.box = best.box + self.smoothing * step  # a real move (not detector jitter)
                best.presence = 1.0
                best.misses = 0
            else:
                self._tracks.append(_Track(box, 1.0))
        for track in free:
            track.misses += 1
            if track.misses > self.hold:
                track.presence -= self.fade
        self._tracks = [t for t in self._tracks if t.presence > 1e-6]

    def faces(self) -> list[tuple[np.ndarray, float]]:
        return [(t.box.copy(), t.presence) for t in self._tracks]


def face_mask(height: int, width: int, faces: Sequence[tuple[Sequence[float], float]], *,
              grow: float = 1.15, feather: float = 0.2, scale: float = 0.25) -> np.ndarray:
    """H×W float32 mask in [0, 1]: a filled ellipse over each face box, blurred at the edge.

    faces: ((x0, y0, x1, y1), presence) pairs in pixels.  The ellipse has the box's centre
    (raised by 10 % of its height, to take in the forehead) and semi-axes ``grow`` × half the
    box; it is blurred with a Gaussian of σ = ``feather`` × the box width and doubled (clipped
    at 1), so the mask is ``presence`` on the whole ellipse and falls smoothly to 0 within about
    1.5σ outside it.
    ``scale``: the mask is drawn at this fraction of the frame size and resized up (bilinear).
    """
    return _face_mask(height, width, faces, grow, feather, scale)[0]


def _face_mask(height: int, width: int, faces, grow: float = 1.15, feather: float = 0.2,
               scale: float = 0.25) -> tuple[np.ndarray, Box | None]:
    """:func:`face_mask` and the box holding all its non-zero pixels (None when all zero).  Only
    that box is scaled up to full size, so the cost follows the faces, not the frame."""
    mask = np.zeros((height, width), np.float32)
    if not faces:
        return mask, None
    sh, sw = max(1, round(height * scale)), max(1, round(width * scale))
    small = np.zeros((sh, sw), np.float32)
    for box, presence in faces:
        x0, y0, x1, y1 = (float(v) for v in box)
        bw, bh = max(1.0, x1 - x0), max(1.0, y1 - y0)
        layer = np.zeros_like(small)
        sub = 1 << _SUBPIXEL_BITS  # draw with sub-pixel centre and axes: a small move is a small change
        centre = (round((x0 + x1) * 0.5 * sw / width * sub), round((y0 + y1 - 0.2 * bh) * 0.5 * sh / height * sub))
        axes = (max(sub, round(grow * bw * 0.5 * sw / width * sub)), max(sub, round(grow * bh * 0.5 * sh / height * sub)))
        cv2.ellipse(layer, centre, axes, 0, 0, 360, 1.0, thickness=-1, lineType=cv2.LINE_AA, shift=_SUBPIXEL_BITS)
        sigma = max(0.5, feather * bw * sw / width)
        layer = cv2.GaussianBlur(layer, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
        layer = np.minimum(layer * 2.0, 1.0) * float(np.clip(presence, 0.0, 1.0))
        np.maximum(small, layer, out=small)
    small[small < 1.0 / 512] = 0.0  # exactly zero far from the face (below half a grey level at w = 1)
    rows, cols = np.flatnonzero(small.any(axis=1)), np.flatnonzero(small.any(axis=0))
    if rows.size == 0:
        return mask, None
    fy, fx = height / sh, width / sw
    # full-size pixels whose bilinear source touches a non-zero small pixel
    region = Box(max(0, int((rows[0] - 0.5) * fy)), min(height, int(np.ceil((rows[-1] + 1.5) * fy)) + 1),
                 max(0, int((cols[0] - 0.5) * fx)), min(width, int(np.ceil((cols[-1] + 1.5) * fx)) + 1))
    # the same sampling as cv2.resize(INTER_LINEAR) of the whole mask: src = (dst + 0.5) / f − 0.5
    a, b = 1.0 / fx, 1.0 / fy
    warp = np.float32([[a, 0.0, (region.x0 + 0.5) * a - 0.5], [0.0, b, (region.y0 + 0.5) * b - 0.5]])
    part = cv2.warpAffine(small, warp, (region.width, region.height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
    np.clip(part, 0.0, 1.0, out=part)
    part[part < 1.0 / 512] = 0.0
    mask[region.slices()] = part
    return mask, region


class FaceDetail:
    """The face-aware control: ``FaceDetail(detail)(image, stylized) → stylized'``.

    detail: 0..1, the largest share of the input taken back on the face (0 = off: the identity,
    and no detector is built; 1 = the face unstylized).  detector: a callable image → boxes
    (default: :class:`~steadystyle.facedetect.FaceDetector`, needs the ``[face]`` extra).
    detect_side: the detector sees the frame scaled so its longer side is at most this (px).
    every: run the detector on every ``every``-th new frame, keep the smoothed boxes between.
    full_every: every ``full_every``-th detection searches the whole frame (new faces); the
    others search only around the tracked faces, which costs a fraction of a full search.
    The tracker's ``smoothing``/``hold``/``fade`` are :class:`FaceTracker`'s.

    The mask is computed once per frame: calls with the same image (the full pass and every
    region pass of one frame) share it; :meth:`mask` gives it.  Not thread-safe: one per stream.
    """

    def __init__(self, detail: float = DEFAULT_FACE_DETAIL, *, detector: Detector | None = None,
                 detect_side: int = 320, every: int = 3, full_every: int = 5, smoothing: float = 0.5,
                 hold: int = 3, fade: float = 0.34) -> None:
        self.detail = check_face_detail(detail)
        if int(every) < 1 or int(full_every) < 1:
            raise SteadyStyleError(f"face detection intervals must be at least 1, got {every} and {full_every}")
        if int(detect_side) < 48:
            raise SteadyStyleError(f"face detection size must be at least 48 px, got {detect_side}")
        self.every = int(every)
        self.full_every = int(full_every)
        self.detect_side = int(detect_side)
        self.tracker = FaceTracker(smoothing=smoothing, hold=hold, fade=fade)
        self._detector = self._roi_detector = detector
        if detector is None and self.detail > 0.0:
            self._detector, self._roi_detector = _default_detectors()
        self._frames = 0
        self._detections = 0
        self._image: np.ndarray | None = None
        self._sample = b""
        self._mask: np.ndarray | None = None
        self._region: Box | None = None

    def reset(self) -> None:
        """Forget tracked faces (a new stream, or a scene cut)."""
        self.tracker.reset()
        self._frames = 0
        self._detections = 0
        self._image = None
        self._sample = b""
        self._mask = None
        self._region = None

    def _run(self, image: np.ndarray, x0: int, y0: int, side: int, detector: Detector) -> list[np.ndarray]:
        """The detector on ``image`` scaled so its longer side is ``side`` px; boxes in frame pixels
        (``x0``, ``y0``: where ``image`` sits in the frame)."""
        h, w = image.shape[:2]
        s = side / max(h, w)
        small = image if s == 1.0 else cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))),
                                                  interpolation=cv2.INTER_AREA if s < 1.0 else cv2.INTER_LINEAR)
        return [np.asarray(b, np.float64)[:4] / s + (x0, y0, x0, y0) for b in detector(small)]

    def _detect(self, image: np.ndarray) -> list[np.ndarray]:
        """Face boxes of this frame: the whole frame every ``full_every``-th detection (or when no
        face is tracked), otherwise only a square of 2.5 face widths around each tracked face."""
        h, w = image.shape[:2]
        tracks = self.tracker.faces()
        full = not tracks or self._detections % self.full_every == 0
        self._detections += 1
        if full:
            return self._run(image, 0, 0, min(self.detect_side, max(h, w)), self._detector)
        boxes = []
        for box, _ in tracks:
            side = 2.5 * max(box[2] - box[0], box[3] - box[1])
            cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            x0, y0 = max(0, int(cx - side / 2)), max(0, int(cy - side / 2))
            x1, y1 = min(w, int(cx + side / 2) + 1), min(h, int(cy + side / 2) + 1)
            if x1 - x0 >= 12 and y1 - y0 >= 12:
                boxes.extend(self._run(image[y0:y1, x0:x1], x0, y0, _ROI_SIDE, self._roi_detector))
        return boxes

    def mask(self, image: np.ndarray) -> np.ndarray:
        """H×W float32 face mask in [0, 1] for this frame (see :func:`face_mask`)."""
        check_frame(image)
        # The same frame again (the full pass and the region passes of one frame) is the same
        # object with the same pixels; the object is held, so a new frame cannot reuse its id.
        sample = image[::17, ::13].tobytes()
        if self._mask is not None and image is self._image and sample == self._sample:
            return self._mask
        if self._frames % self.every == 0:
            self.tracker.update(self._detect(image))
        self._frames += 1
        h, w = image.shape[:2]
        self._mask, self._region = _face_mask(h, w, self.tracker.faces())
        self._image, self._sample = image, sample
        return self._mask

    def _blend(self, image: np.ndarray, stylized: np.ndarray, box: Box) -> np.ndarray:
        """``stylized`` (the pixels of ``box`` of the frame ``image``) moved towards the input by
        ``detail`` × the mask; only where the mask is non-zero is anything computed."""
        mask = self.mask(image)
        region = self._region
        if region is None:
            return stylized
        y0, y1 = max(region.y0, box.y0), min(region.y1, box.y1)
        x0, x1 = max(region.x0, box.x0), min(region.x1, box.x1)
        if y0 >= y1 or x0 >= x1:
            return stylized
        weight = self.detail * mask[y0:y1, x0:x1, None]
        local = (slice(y0 - box.y0, y1 - box.y0), slice(x0 - box.x0, x1 - box.x0))
        s = stylized[local].astype(np.float32)
        out = stylized.copy()
        out[local] = np.clip(s + weight * (image[y0:y1, x0:x1].astype(np.float32) - s) + 0.5, 0, 255).astype(np.uint8)
        return out

    def __call__(self, image: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        """S(t) of the whole frame → S'(t): H×W×3 uint8 RGB, same shape; ``stylized`` is not changed."""
        check_frame(image)
        check_frame(stylized)
        if image.shape != stylized.shape:
            raise SteadyStyleError(f"frames differ in shape: {image.shape} vs {stylized.shape}")
        if self.detail <= 0.0:
            return stylized
        return self._blend(image, stylized, Box(0, image.shape[0], 0, image.shape[1]))

    def apply_region(self, image: np.ndarray, stylized_region: np.ndarray, box: Box) -> np.ndarray:
        """The stylization of ``box`` of the whole frame ``image`` → with the face blend applied.

        image: the whole H×W×3 frame (the mask needs it); stylized_region: box.height × box.width
        × 3 uint8, as a region pass returns it.  The same pixels as :meth:`__call__` gives there.
        """
        check_frame(image)
        check_frame(stylized_region)
        if stylized_region.shape[:2] != (box.height, box.width):
            raise SteadyStyleError(f"region is {stylized_region.shape[:2]}, box is {box.height}×{box.width}")
        if self.detail <= 0.0:
            return stylized_region
        return self._blend(image, stylized_region, box)


def _default_detectors() -> tuple[Detector, Detector]:
    """MTCNN for the whole frame (faces from 20 px at ``detect_side``) and for the crops around
    tracked faces (scaled so the face is about 60 px: faces of 30..110 px only, 3 pyramid levels)."""
    from .facedetect import FaceDetector

    full = FaceDetector(min_face=20)
    near = full.sized(30, 110)

    def boxes(detector: FaceDetector) -> Detector:
        return lambda image: [f.box for f in detector(image)]

    return boxes(full), boxes(near)
