"""Person segmentation for the adaptive stabilizer: MediaPipe selfie segmentation.

MediaPipe's wheel ships the selfie-segmentation models (``model_selection`` 0 = general 256×256,
1 = landscape 144×256), so nothing is downloaded at run time.  Optional: install the ``[person]``
extra (``pip install steadystyle[person]``).
"""

from __future__ import annotations

import numpy as np

from ..errors import SteadyStyleError

__all__ = ["PersonSegmenter", "person_available"]


def person_available() -> bool:
    """Whether mediapipe (and so ``--person``) is installed."""
    try:
        import mediapipe  # noqa: F401
    except ImportError:
        return False
    return True


class PersonSegmenter:
    """H×W×3 uint8 RGB frame → H×W bool person mask (MediaPipe confidence > ``threshold``)."""

    def __init__(self, threshold: float = 0.5, model_selection: int = 1) -> None:
        try:
            from mediapipe.python.solutions.selfie_segmentation import SelfieSegmentation
        except ImportError:
            raise SteadyStyleError("--person needs mediapipe: pip install 'steadystyle[person]'") from None
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
