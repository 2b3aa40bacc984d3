"""Frame in, stylized frame out: the style network on a device, with padding and resizing.

The two frame conventions meet here, and only here:
- at the edges, a frame is an H×W×3 uint8 **RGB** NumPy array;
- inside the network, a batch is an N×3×H×W float32 tensor, RGB, 0–255 (pytorch/examples).

:func:`image_to_tensor` and :func:`tensor_to_image` convert between them.
"""

from __future__ import annotations

import os

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from .errors import SteadyStyleError
from .weights import StyleModel


def image_to_tensor(image: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """H×W×3 uint8 RGB → 1×3×H×W float32 RGB 0–255 on ``device``."""
    return torch.from_numpy(np.ascontiguousarray(image)).to(device).permute(2, 0, 1).unsqueeze(0).float()


def tensor_to_image(tensor: torch.Tensor) -> np.ndarray:
    """1×3×H×W (or 3×H×W) float RGB ≈0–255 → H×W×3 uint8 RGB, clamped and rounded."""
    if tensor.dim() == 4:
        tensor = tensor[0]
    return tensor.detach().clamp(0, 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def pick_device(device: str = "auto") -> torch.device:
    """``auto`` → CUDA when available, else CPU; ``cuda`` without a GPU is a user error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise SteadyStyleError(f"unknown device {device!r}; choose auto, cpu or cuda")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SteadyStyleError("--device cuda asked for, but PyTorch sees no CUDA GPU")
    return torch.device(device)


def working_size(height: int, width: int, max_side: int | None) -> tuple[int, int]:
    """(h, w) the network runs at: scaled so the longer side ≤ ``max_side``, aspect kept."""
    if not max_side or max(height, width) <= max_side:
        return height, width
    s = max_side / max(height, width)
    return max(1, round(height * s)), max(1, round(width * s))


class Stylizer:
    """Applies one style network to frames.

    Any frame size works: the batch is reflect-padded to a multiple of 4 and cropped back, so
    the output has exactly the input's size. With ``max_side`` the network runs on a frame
    scaled down so its longer side is at most that many pixels (this caps memory and sets the
    brush-stroke scale), and the result is scaled back up to the input size.
    """

    def __init__(self, model: StyleModel | str | os.PathLike, device: str = "auto", max_side: int | None = None) -> None:
        if not isinstance(model, StyleModel):
            from .styles import load_style

            model = load_style(model)
        if max_side is not None and max_side < 16:
            raise SteadyStyleError("--max-side must be at least 16 pixels")
        self.model = model
        self.device = pick_device(device)
        self.max_side = max_side
        self.network = model.network.to(self.device).eval()
        self.half = False

    @property
    def name(self) -> str:
        return self.model.name

    def synchronize(self) -> None:
        """Wait for the device to finish queued work (for honest timings; a no-op on the CPU)."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    @torch.inference_mode()
    def stylize_tensor(self, batch: torch.Tensor) -> torch.Tensor:
        """N×3×H×W float RGB 0–255 on the stylizer's device → same shape, clamped to 0–255."""
        n, _, h, w = batch.shape
        wh, ww = working_size(h, w, self.max_side)
        x = batch if (wh, ww) == (h, w) else F.interpolate(batch, size=(wh, ww), mode="area")
        ph, pw = (-wh) % 4, (-ww) % 4
        if ph or pw:
            mode = "reflect" if wh > ph and ww > pw else "replicate"
            x = F.pad(x, (0, pw, 0, ph), mode=mode)
        try:
            y = self.network(x)[..., :wh, :ww]
        except torch.OutOfMemoryError:
            raise SteadyStyleError(f"out of {self.device.type} memory stylizing {ww}×{wh} frames; "
                                   f"use --max-side {max(16, max(wh, ww) // 2)} or --device cpu") from None
        if (wh, ww) != (h, w):
            y = F.interpolate(y, size=(h, w), mode="bilinear", align_corners=False)
        assert y.shape[-2:] == batch.shape[-2:], "stylized size must equal input size"
        return y.clamp(0, 255)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """H×W×3 uint8 RGB → stylized H×W×3 uint8 RGB of the same size."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an H×W×3 uint8 RGB frame, got {image.shape} {image.dtype}")
        return tensor_to_image(self.stylize_tensor(image_to_tensor(image, self.device)))


def resize_image(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize an H×W×3 uint8 frame (area filter down, linear up)."""
    h, w = image.shape[:2]
    interp = cv2.INTER_AREA if width * height < w * h else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interp)


__all__ = ["Stylizer", "image_to_tensor", "tensor_to_image", "pick_device", "working_size", "resize_image"]
