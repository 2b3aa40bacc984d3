"""The Johnson et al. (2016) image transformation network with instance normalization.

Layout and parameter names follow pytorch/examples ``fast_neural_style`` so that its
checkpoints load unchanged: reflection-padded convolutions, two stride-2 downsamplings,
residual blocks, nearest-neighbour upsampling followed by a convolution.

Input and output are N×3×H×W float tensors, RGB, 0–255 (not clamped: the caller clamps).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class NetworkConfig:
    """Architecture of a transformer network.

    channels: widths of the three encoder stages (decoder mirrors them).
    residual_blocks: number of residual blocks at the lowest resolution.
    outer_kernel: kernel size of the first and last convolution (9 in the paper).
    """

    channels: tuple[int, int, int] = (32, 64, 128)
    residual_blocks: int = 5
    outer_kernel: int = 9

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "NetworkConfig":
        return cls(
            channels=tuple(int(c) for c in d["channels"]),  # type: ignore[arg-type]
            residual_blocks=int(d["residual_blocks"]),
            outer_kernel=int(d["outer_kernel"]),
        )


#: Named architectures. ``full`` is the published one (Johnson et al. 2016 supplement).
#: ``light`` has half its width, and two residual blocks with 5×5 outer kernels: of the
#: candidates measured on a 2-core CPU at 320×240 (README, "Choosing the light network")
#: it was the fastest half-width one, as fast as 12/24/48 × 4 blocks, within the live budget.
VARIANTS: dict[str, NetworkConfig] = {
    "full": NetworkConfig((32, 64, 128), 5, 9),
    "light": NetworkConfig((16, 32, 64), 2, 5),
}


class ConvLayer(nn.Module):
    """Reflection padding then convolution (keeps size when stride is 1)."""

    def __init__(self, cin: int, cout: int, kernel_size: int, stride: int) -> None:
        super().__init__()
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(cin, cout, kernel_size, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2d(self.reflection_pad(x))


class UpsampleConvLayer(nn.Module):
    """Nearest-neighbour ×2 upsampling, then a reflection-padded convolution."""

    def __init__(self, cin: int, cout: int, kernel_size: int) -> None:
        super().__init__()
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(cin, cout, kernel_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.conv2d(self.reflection_pad(x))


class ResidualBlock(nn.Module):
    """conv-IN-ReLU-conv-IN plus identity (He et al. 2016, as in Johnson's supplement)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3, 1)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, 3, 1)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.in1(self.conv1(x)))
        return x + self.in2(self.conv2(y))


class TransformerNet(nn.Module):
    """Feed-forward style network: N×3×H×W RGB 0–255 → N×3×H×W RGB ≈0–255.

    H and W must be multiples of 4 for the output to have the input's size; the
    :class:`~steadystyle.stylizer.Stylizer` pads and crops so callers need not care.
    """

    def __init__(self, config: NetworkConfig = VARIANTS["full"]) -> None:
        super().__init__()
        self.config = config
        c1, c2, c3 = config.channels
        k = config.outer_kernel
        self.conv1 = ConvLayer(3, c1, k, 1)
        self.in1 = nn.InstanceNorm2d(c1, affine=True)
        self.conv2 = ConvLayer(c1, c2, 3, 2)
        self.in2 = nn.InstanceNorm2d(c2, affine=True)
        self.conv3 = ConvLayer(c2, c3, 3, 2)
        self.in3 = nn.InstanceNorm2d(c3, affine=True)
        for i in range(config.residual_blocks):
            self.add_module(f"res{i + 1}", ResidualBlock(c3))
        self.deconv1 = UpsampleConvLayer(c3, c2, 3)
        self.in4 = nn.InstanceNorm2d(c2, affine=True)
        self.deconv2 = UpsampleConvLayer(c2, c1, 3)
        self.in5 = nn.InstanceNorm2d(c1, affine=True)
        self.deconv3 = ConvLayer(c1, 3, k, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.in1(self.conv1(x)))
        y = F.relu(self.in2(self.conv2(y)))
        y = F.relu(self.in3(self.conv3(y)))
        for i in range(self.config.residual_blocks):
            y = getattr(self, f"res{i + 1}")(y)
        y = F.relu(self.in4(self.deconv1(y)))
        y = F.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)
