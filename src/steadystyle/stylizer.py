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
from .network import LayerStats, receptive_radius
from .stabilize.base import Box
from .stabilize.roi import box_within, context_box
from .weights import StyleModel

#: A region pass whose crop (region plus network context) covers at least this fraction of the
#: frame runs as a full-frame pass instead: it costs about the same and refreshes the statistics.
REGION_FULL_FRACTION = 0.7


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


def pad_to_4(x: torch.Tensor) -> torch.Tensor:
    """Pad N×C×H×W at the bottom and right to multiples of 4 (reflect; replicate when too small)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % 4, (-w) % 4
    if not (ph or pw):
        return x
    return F.pad(x, (0, pw, 0, ph), mode="reflect" if h > ph and w > pw else "replicate")


def check_frame(image: np.ndarray) -> None:
    """Raise ValueError unless ``image`` is an H×W×3 uint8 array."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        got = f"{image.shape} {image.dtype}" if isinstance(image, np.ndarray) else type(image).__name__
        raise ValueError(f"expected an H×W×3 uint8 RGB frame, got {got}")


def check_region(image: np.ndarray, box: Box) -> Box:
    """``box`` as a :class:`Box` inside ``image`` (H×W×3 uint8); a one-line error otherwise."""
    check_frame(image)
    box = Box(*(int(v) for v in box))
    if not box_within(box, *image.shape[:2]):
        raise SteadyStyleError(f"region {tuple(box)} is empty or outside the {image.shape[1]}×{image.shape[0]} frame")
    return box


def region_crop(stylizer, image: np.ndarray, box: Box) -> Box | None:
    """The crop a region pass runs the network on (``box`` + ``stylizer.context``, aligned to
    4), or None when a full-frame pass is needed instead: no frozen statistics for this frame
    size yet, a crop covering ≥ ``REGION_FULL_FRACTION`` of the frame, or ``max_side`` rescaling.
    Shared by every backend's ``stylize_region``; turns statistics tracking on."""
    height, width = image.shape[:2]
    stylizer.track_stats = True
    crop = context_box(box, height, width, stylizer.context)
    if (working_size(height, width, stylizer.max_side) != (height, width) or stylizer._stats is None
            or stylizer._stats_hw != (height, width) or crop.area >= REGION_FULL_FRACTION * height * width):
        return None
    return crop


class Stylizer:
    """Applies one style network to frames (PyTorch backend).

    Any frame size works: the batch is reflect-padded to a multiple of 4 and cropped back, so
    the output has exactly the input's size. With ``max_side`` the network runs on a frame
    scaled down so its longer side is at most that many pixels (this caps memory and sets the
    brush-stroke scale), and the result is scaled back up to the input size.

    On CUDA the network runs in fp16 with channels_last memory layout by default
    (``precision="auto"``; ``"fp32"`` to turn it off); on the CPU always fp32.

    Regions (``stylize_region``): the network runs on the region plus ``context`` pixels around
    it (its receptive radius, rounded up to 4), with every instance norm using the statistics of
    the last full-frame pass instead of the crop's own, so inside the region the result equals
    the full frame's up to the change of statistics since that pass.  Statistics are recorded on
    full-frame passes once regions have been asked for (``track_stats``).
    """

    backend = "torch"

    def __init__(self, model: StyleModel | str | os.PathLike, device: str = "auto", max_side: int | None = None,
                 precision: str = "auto") -> None:
        if not isinstance(model, StyleModel):
            from .styles import load_style

            model = load_style(model)
        if max_side is not None and max_side < 16:
            raise SteadyStyleError("--max-side must be at least 16 pixels")
        if precision not in ("auto", "fp32", "fp16"):
            raise SteadyStyleError(f"unknown precision {precision!r}; choose auto, fp32 or fp16")
        self.model = model
        self.device = pick_device(device)
        self.max_side = max_side
        cuda = self.device.type == "cuda"
        if precision == "fp16" and not cuda:
            raise SteadyStyleError("fp16 needs a CUDA device; the CPU runs fp32")
        self.half = cuda and precision in ("auto", "fp16")
        self.network = model.network.to(self.device).eval()
        self._cuda_net: torch.nn.Module | None = None
        if cuda:  # a private copy: the StyleModel's network stays fp32 and contiguous for its other users
            import copy

            net = copy.deepcopy(self.network)
            if self.half:
                net = net.half()
            self._cuda_net = net.to(memory_format=torch.channels_last)
        self.channels_last = cuda
        self.context = -(-receptive_radius(self.network.config) // 4) * 4
        self.track_stats = False
        self._stats: list[LayerStats] | None = None
        self._stats_hw: tuple[int, int] | None = None

    @classmethod
    def for_backend(cls, style: StyleModel | str | os.PathLike, backend: str = "auto", device: str = "auto",
                    max_side: int | None = None):
        """A stylizer for ``style`` on ``backend``: ``torch``, ``onnx`` (ONNX Runtime), the other
        names of :data:`steadystyle.backends.BACKENDS`, or ``auto`` (the fastest installed for the
        device: see :func:`steadystyle.backends.resolve_backend`)."""
        from .backends import make_stylizer

        return make_stylizer(style, backend=backend, device=device, max_side=max_side)

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
            if self.track_stats and n == 1 and (wh, ww) == (h, w):
                y, self._stats = self._net.forward_recording(x)
                self._stats_hw = (h, w)
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

    def stylize_region(self, image: np.ndarray, box: Box) -> np.ndarray:
        """S(t) inside ``box`` only: H×W×3 uint8 frame and a :class:`Box` → box-sized h×w×3 uint8.

        Runs the network on the crop ``box`` + ``context`` (aligned to 4, padded) with the
        instance-norm statistics of the last full-frame pass.  Falls back to a full-frame pass
        (which records fresh statistics) when there are none for this frame size, when the crop
        would cover ≥ ``REGION_FULL_FRACTION`` of the frame, or when ``max_side`` rescales frames.
        """
        box = check_region(image, box)
        crop = region_crop(self, image, box)
        if crop is None:
            return self(image)[box.slices()]
        with torch.inference_mode():
            x = image_to_tensor(image[crop.slices()], self.device)
            try:
                y = self._net.forward_frozen(self._prepare(pad_to_4(x)), self._stats)
            except torch.OutOfMemoryError:
                raise SteadyStyleError(f"out of {self.device.type} memory stylizing a {crop.width}×{crop.height} "
                                       f"region; use --max-side or --device cpu") from None
            y = y[..., box.y0 - crop.y0:box.y1 - crop.y0, box.x0 - crop.x0:box.x1 - crop.x0].float().clamp(0, 255)
        return tensor_to_image(y)


def resize_image(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize an H×W×3 uint8 frame (area filter down, linear up)."""
    h, w = image.shape[:2]
    interp = cv2.INTER_AREA if width * height < w * h else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interp)


__all__ = ["Stylizer", "REGION_FULL_FRACTION", "pad_to_4", "check_frame", "check_region", "image_to_tensor", "tensor_to_image", "pick_device", "working_size", "resize_image"]
