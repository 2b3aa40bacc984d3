"""The PyTorch backend: CPU fp32, CUDA fp16 + channels_last.

The two frame conventions meet here:
- at the edges, a frame is an H×W×3 uint8 **RGB** NumPy array;
- inside the network, a batch is an N×3×H×W float32 tensor, RGB, 0–255 (pytorch/examples).

:func:`image_to_tensor` and :func:`tensor_to_image` convert between them.
"""

from __future__ import annotations

import copy
import os

import numpy as np
import torch
from torch.nn import functional as F

from ..errors import SteadyStyleError
from ..frames import check_frame
from ..network import receptive_radius
from ..weights import StyleModel
from .base import RegionStylizer, check_max_side, working_size


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


def pad_to_4(x: torch.Tensor) -> torch.Tensor:
    """Pad N×C×H×W at the bottom and right to multiples of 4 (reflect; replicate when too small)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % 4, (-w) % 4
    if not (ph or pw):
        return x
    return F.pad(x, (0, pw, 0, ph), mode="reflect" if h > ph and w > pw else "replicate")


def load_model(model: StyleModel | str | os.PathLike) -> StyleModel:
    """``model`` itself, or the shipped style / model file it names, loaded."""
    if isinstance(model, StyleModel):
        return model
    from ..styles import load_style

    return load_style(model)


class TorchStylizer(RegionStylizer):
    """Applies one style network to frames with PyTorch.

    Any frame size works: the batch is reflect-padded to a multiple of 4 and cropped back, so
    the output has exactly the input's size. With ``max_side`` the network runs on a frame
    scaled down so its longer side is at most that many pixels (this caps memory and sets the
    brush-stroke scale), and the result is scaled back up to the input size.

    On CUDA the network runs in fp16 with channels_last memory layout by default
    (``precision="auto"``; ``"fp32"`` to turn it off); on the CPU always fp32.  ``threads``
    sets PyTorch's CPU thread count (for the whole process).

    Regions (``stylize_region``, see :class:`~steadystyle.backends.base.RegionStylizer`): the
    network runs on the region plus ``context`` pixels around it (its receptive radius, rounded
    up to 4), every instance norm using the statistics of the last full-frame pass.
    """

    backend = "torch"

    def __init__(self, model: StyleModel | str | os.PathLike, device: str = "auto", max_side: int | None = None,
                 precision: str = "auto", threads: int | None = None) -> None:
        super().__init__()
        if threads is not None:  # PyTorch's CPU pool is per process: this sets it for the process
            torch.set_num_threads(int(threads))
        model = load_model(model)
        self.max_side = check_max_side(max_side)
        if precision not in ("auto", "fp32", "fp16"):
            raise SteadyStyleError(f"unknown precision {precision!r}; choose auto, fp32 or fp16")
        self.model = model
        self.device = pick_device(device)
        cuda = self.device.type == "cuda"
        if precision == "fp16" and not cuda:
            raise SteadyStyleError("fp16 needs a CUDA device; the CPU runs fp32")
        self.half = cuda and precision in ("auto", "fp16")
        self.network = model.network.to(self.device).eval()
        self._cuda_net: torch.nn.Module | None = None
        if cuda:  # a private copy: the StyleModel's network stays fp32 and contiguous for its other users
            net = copy.deepcopy(self.network)
            if self.half:
                net = net.half()
            self._cuda_net = net.to(memory_format=torch.channels_last)
        self.channels_last = cuda
        self.context = -(-receptive_radius(self.network.config) // 4) * 4

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def _net(self):
        """The network that runs: on CUDA the fp16/channels_last copy, else ``network`` itself."""
        return self._cuda_net if self._cuda_net is not None else self.network

    def synchronize(self) -> None:
        """Wait for the device to finish queued work (for honest timings; a no-op on the CPU)."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        """A padded float batch in the network's dtype and memory layout."""
        if self.half:
            x = x.half()
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    @torch.inference_mode()
    def stylize_tensor(self, batch: torch.Tensor) -> torch.Tensor:
        """N×3×H×W float RGB 0–255 on the stylizer's device → same shape, float32, clamped to 0–255."""
        n, _, h, w = batch.shape
        wh, ww = working_size(h, w, self.max_side)
        x = batch if (wh, ww) == (h, w) else F.interpolate(batch, size=(wh, ww), mode="area")
        x = self._prepare(pad_to_4(x))
        try:
            if n == 1 and (wh, ww) == (h, w) and self._record_now((h, w)):
                y, stats = self._net.forward_recording(x)
                self._record((h, w), stats)
            else:
                y = self._net(x)
            y = y[..., :wh, :ww].float()
        except torch.OutOfMemoryError:
            raise SteadyStyleError(f"out of {self.device.type} memory stylizing {ww}×{wh} frames; "
                                   f"use --max-side {max(16, max(wh, ww) // 2)} or --device cpu") from None
        if (wh, ww) != (h, w):
            y = F.interpolate(y, size=(h, w), mode="bilinear", align_corners=False)
        assert y.shape[-2:] == batch.shape[-2:], "stylized size must equal input size"
        return y.clamp(0, 255).contiguous()

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """H×W×3 uint8 RGB → stylized H×W×3 uint8 RGB of the same size."""
        check_frame(image)
        return tensor_to_image(self.stylize_tensor(image_to_tensor(image, self.device)))

    @torch.inference_mode()
    def _frozen(self, crop: np.ndarray, stats) -> np.ndarray:
        x = image_to_tensor(crop, self.device)
        try:
            y = self._net.forward_frozen(self._prepare(pad_to_4(x)), stats)
        except torch.OutOfMemoryError:
            raise SteadyStyleError(f"out of {self.device.type} memory stylizing a {crop.shape[1]}×{crop.shape[0]} "
                                   f"region; use --max-side or --device cpu") from None
        return y[0, :, :crop.shape[0], :crop.shape[1]].float().permute(1, 2, 0).cpu().numpy()


__all__ = ["TorchStylizer", "image_to_tensor", "tensor_to_image", "pick_device", "pad_to_4", "load_model"]
