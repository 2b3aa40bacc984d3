"""Person segmentation for the adaptive stabilizer: MediaPipe selfie segmentation.

MediaPipe's wheel ships the selfie-segmentation models (``model_selection`` 0 = general 256×256,
1 = landscape 144×256), so nothing is downloaded at run time.  Optional: install the ``[person]``
extra (``pip install steadystyle[person]``), which pins :data:`MEDIAPIPE_RELEASE`: later releases
(1.x) dropped the ``solutions`` API and ship no model, so an unpinned install cannot segment.
"""

from __future__ import annotations

import numpy as np

from ..errors import SteadyStyleError

__all__ = ["PersonSegmenter", "person_available", "MEDIAPIPE_RELEASE"]

#: The mediapipe release the ``[person]`` extra pins (its wheel has the solutions API and the model).
MEDIAPIPE_RELEASE = "0.10.21"


def _selfie_segmentation() -> type:
    """MediaPipe's ``SelfieSegmentation`` class; a one-line error saying what to install otherwise
    (mediapipe missing, or a release without the solutions API)."""
    try:
        import mediapipe
    except ImportError:
        raise SteadyStyleError(f"--person needs mediapipe {MEDIAPIPE_RELEASE}: pip install 'steadystyle[person]'") from None
    try:
        from mediapipe.python.solutions.selfie_segmentation import SelfieSegmentation
    except (ImportError, AttributeError):
        version = getattr(mediapipe, "__version__", "unknown")
        raise SteadyStyleError(f"--person needs mediapipe's selfie segmentation, which mediapipe {version} does not "
                               f"have: pip install 'mediapipe=={MEDIAPIPE_RELEASE}'") from None
    return SelfieSegmentation


def person_available() -> bool:
    """Whether ``--person`` can run: a mediapipe with the selfie-segmentation solution is installed."""
    try:
        _selfie_segmentation()
    except SteadyStyleError:
        return False
    return True


class PersonSegmenter:
    """H×W×3 uint8 RGB frame → H×W bool person mask (MediaPipe confidence > ``threshold``)."""

    def __init__(self, threshold: float = 0.5, model_selection: int = 1) -> None:
        SelfieSegmentation = _selfie_segmentation()
        self.threshold = float(threshold)
        self._model = SelfieSegmentation(model_selection=model_selection)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise SteadyStyleError(f"person segmentation needs an H×W×3 uint8 RGB frame, got {frame.shape}")
        result = self._model.process(np.ascontiguousarray(frame))
        mask = result.segmentation_mask
        if mask is None:
            return np.zeros(frame.shape[:2], bool)
        return np.asarray(mask) > self.threshold

    def close(self) -> None:
        self._model.close()
