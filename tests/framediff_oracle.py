"""Test oracle: the paper's stabilizer maths written a second time, in PyTorch.

The project has one implementation (``steadystyle.stabilize.masks`` and ``framediff``, NumPy/OpenCV); this
independent torch version checks it bit for bit (max_pool2d morphology instead of cv2).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch.nn import functional as F

from steadystyle.errors import SteadyStyleError
from steadystyle.stabilize.framediff import FrameDiffParams
from steadystyle.stabilize.masks import check_iterations, check_kernel, check_threshold



def grey_level_torch(frame: torch.Tensor) -> torch.Tensor:
    """Eq. 1 on the tensor's device: N×3×H×W RGB (0–255) -> N×1×H×W float32 grey levels.

    Computed as (R + G + B) / 3 in float32 with a true division (not a multiplication by 1/3),
    so it equals ``grey_level`` bit for bit on the same pixel values.
    """
    if not isinstance(frame, torch.Tensor) or frame.ndim != 4 or frame.shape[1] != 3:
        shape = tuple(frame.shape) if isinstance(frame, torch.Tensor) else type(frame).__name__
        raise SteadyStyleError(f"expected an N×3×H×W RGB tensor, got {shape}")
    f = frame.to(torch.float32)
    total = f[:, 0:1] + f[:, 1:2] + f[:, 2:3]
    # A same-device 0-dim tensor: CUDA turns division by a CPU scalar into a multiplication by its
    # reciprocal, which rounds differently from NumPy's division.
    three = torch.full((), 3.0, dtype=torch.float32, device=f.device)
    return torch.div(total, three)


def background_mask_torch(grey_prev: torch.Tensor, grey_cur: torch.Tensor, threshold: float) -> torch.Tensor:
    """Eqs. 2–3 on the tensor's device: N×1×H×W float32 grey levels -> N×1×H×W bool, True = background."""
    t = float(np.float32(check_threshold(threshold)))  # exactly representable in float32
    if grey_prev.shape != grey_cur.shape:
        raise SteadyStyleError(f"grey levels differ in shape: {tuple(grey_prev.shape)} vs {tuple(grey_cur.shape)}")
    d = grey_cur.to(torch.float32) - grey_prev.to(torch.float32)
    return d.abs() <= t


def _max_filter(x: torch.Tensor, kernel: int) -> torch.Tensor:
    """Max over a kernel×kernel square centred on each pixel; outside the frame is ignored.

    max_pool2d pads with −inf, so padding never wins; done as two 1-D passes (separable).
    """
    r = kernel // 2
    x = F.max_pool2d(x, kernel_size=(kernel, 1), stride=1, padding=(r, 0))
    return F.max_pool2d(x, kernel_size=(1, kernel), stride=1, padding=(0, r))


def close_mask_torch(
    mask: torch.Tensor,
    dilate_kernel: int = 3,
    dilate_iterations: int = 2,
    erode_kernel: int = 5,
    erode_iterations: int = 5,
) -> torch.Tensor:
    """Eq. 4 on the tensor's device, identical to ``close_mask`` (cv2) for odd kernels.

    mask: N×1×H×W bool or float 0/1 (nonzero = background).  Dilation is ``max_pool2d``, erosion
    is ``-max_pool2d(-x)``; max_pool2d pads with −inf, so pixels outside the frame never count.
    Returns N×1×H×W bool, True = background.
    """
    dk = check_kernel("dilate_kernel", dilate_kernel)
    di = check_iterations("dilate_iterations", dilate_iterations)
    ek = check_kernel("erode_kernel", erode_kernel)
    ei = check_iterations("erode_iterations", erode_iterations)
    if mask.ndim != 4 or mask.shape[1] != 1:
        raise SteadyStyleError(f"expected an N×1×H×W mask, got shape {tuple(mask.shape)}")
    x = (mask != 0).to(torch.float32)
    if dk > 1:
        for _ in range(di):
            x = _max_filter(x, dk)
    if ek > 1:
        for _ in range(ei):
            x = -_max_filter(-x, ek)
    return x > 0.5


def composite_torch(prev_output: torch.Tensor, stylized: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Eq. 5 on the tensor's device.

    prev_output, stylized: N×3×H×W.  mask: N×1×H×W bool or float 0/1, nonzero = background.
    Returns a new N×3×H×W tensor: prev_output where the mask is set, stylized elsewhere.
    """
    if prev_output.shape != stylized.shape:
        raise SteadyStyleError(
            f"stylized tensor is {tuple(stylized.shape)}, previous output is {tuple(prev_output.shape)}"
        )
    n, _, h, w = prev_output.shape
    if tuple(mask.shape) != (n, 1, h, w):
        raise SteadyStyleError(f"mask is {tuple(mask.shape)}, expected {(n, 1, h, w)}")
    return torch.where(mask != 0, prev_output, stylized.to(prev_output.dtype))


class TorchFrameDiffStabilizer:
    """The paper's stabilizer on N×3×H×W float RGB tensors (0–255), on the tensors' device.

    The batch holds N independent streams of the same size (usually N = 1).  Masks stay on the
    device; the only host transfer per frame is one boolean (is the closed mask background
    everywhere?), which decides whether ``stylize()`` is called at all — it is skipped only when
    no pixel of any stream moved.  ``stylize()`` must return S(t) as an N×3×H×W tensor.

    last_mask: closed background mask of the last call (N×1×H×W bool, True = background), None on
        the first frame.  last_foreground_fraction: fraction of pixels re-stylized at the last call
        (1.0 on the first frame), computed when read.
    """

    def __init__(self, params: FrameDiffParams = FrameDiffParams()) -> None:
        self.params = params
        self.reset()

    def reset(self) -> None:
        """Forget the previous frame and output: the next call starts a new clip."""
        self._prev_grey: torch.Tensor | None = None
        self._prev_output: torch.Tensor | None = None
        self.last_mask: torch.Tensor | None = None

    @property
    def last_foreground_fraction(self) -> float:
        if self.last_mask is None:
            return 1.0
        return 1.0 - float(self.last_mask.to(torch.float32).mean())

    def _stylized(self, stylize: Callable[[], torch.Tensor], frame: torch.Tensor) -> torch.Tensor:
        s = stylize()
        if not isinstance(s, torch.Tensor) or s.shape != frame.shape or s.device != frame.device:
            got = f"{tuple(s.shape)} on {s.device}" if isinstance(s, torch.Tensor) else type(s).__name__
            raise SteadyStyleError(
                f"stylize() must return a {tuple(frame.shape)} tensor on {frame.device}, got {got}"
            )
        return s

    def __call__(self, frame: torch.Tensor, stylize: Callable[[], torch.Tensor]) -> torch.Tensor:
        """Stabilize one frame: N×3×H×W float RGB (0–255) in, output O(t) of the same shape out."""
        if not isinstance(frame, torch.Tensor) or frame.ndim != 4 or frame.shape[1] != 3:
            shape = tuple(frame.shape) if isinstance(frame, torch.Tensor) else type(frame).__name__
            raise SteadyStyleError(f"expected an N×3×H×W RGB tensor, got {shape}")
        grey = grey_level_torch(frame)
        if self._prev_output is None or self._prev_grey is None:
            self._prev_output = self._stylized(stylize, frame).clone()
            self._prev_grey = grey
            self.last_mask = None
            return self._prev_output.clone()
        if grey.shape != self._prev_grey.shape or grey.device != self._prev_grey.device:
            raise SteadyStyleError(
                f"frame changed from {tuple(self._prev_grey.shape)} on {self._prev_grey.device} to "
                f"{tuple(grey.shape)} on {grey.device}; call reset() between clips"
            )
        p = self.params
        mask = close_mask_torch(background_mask_torch(self._prev_grey, grey, p.threshold), **p.closing())
        if not bool(mask.all()):  # the one host sync per frame
            self._prev_output = composite_torch(self._prev_output, self._stylized(stylize, frame), mask)
        self._prev_grey = grey
        self.last_mask = mask
        return self._prev_output.clone()
