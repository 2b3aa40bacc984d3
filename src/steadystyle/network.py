"""The Johnson et al. (2016) image transformation network with instance normalization.

Layout and parameter names follow pytorch/examples ``fast_neural_style`` so that its
checkpoints load unchanged: reflection-padded convolutions, two stride-2 downsamplings,
residual blocks, nearest-neighbour upsampling followed by a convolution.

Input and output are N×3×H×W float tensors, RGB, 0–255 (not clamped: the caller clamps).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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

    def check(self, where: object = "network") -> "NetworkConfig":
        """``self`` when every size is within :data:`LIMITS` (a network that fits in memory and
        runs); else a one-line :class:`~steadystyle.errors.SteadyStyleError` naming ``where``.
        Run it before building: a file claiming 100000 channels would otherwise allocate first."""
        from .errors import SteadyStyleError

        if len(self.channels) != 3 or not all(1 <= c <= LIMITS["channels"] for c in self.channels):
            raise SteadyStyleError(f"{where}: architecture claims channels [{', '.join(map(_shown, self.channels))}]; "
                                   f"each of the three "
                                   f"must be from 1 to {LIMITS['channels']}")
        if not 0 <= self.residual_blocks <= LIMITS["residual_blocks"]:
            raise SteadyStyleError(f"{where}: architecture claims {_shown(self.residual_blocks)} residual blocks; at most "
                                   f"{LIMITS['residual_blocks']}")
        if not (1 <= self.outer_kernel <= LIMITS["outer_kernel"] and self.outer_kernel % 2):
            raise SteadyStyleError(f"{where}: architecture claims an outer kernel of {_shown(self.outer_kernel)}; it must be odd, "
                                   f"from 1 to {LIMITS['outer_kernel']}")
        return self

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        """The weight shapes that identify this architecture (conv1–3 and the last residual block's
        first convolution), in the pytorch/examples names."""
        c1, c2, c3 = self.channels
        k = self.outer_kernel
        shapes = {"conv1.conv2d.weight": (c1, 3, k, k), "conv2.conv2d.weight": (c2, c1, 3, 3),
                  "conv3.conv2d.weight": (c3, c2, 3, 3)}
        if self.residual_blocks:
            shapes[f"res{self.residual_blocks}.conv1.conv2d.weight"] = (c3, c3, 3, 3)
        return shapes

    @classmethod
    def from_dict(cls, d: dict) -> "NetworkConfig":
        return cls(
            channels=tuple(int(c) for c in d["channels"]),  # type: ignore[arg-type]
            residual_blocks=int(d["residual_blocks"]),
            outer_kernel=int(d["outer_kernel"]),
        )


def _shown(number: int) -> str:
    """An integer for a message, a huge one abbreviated (a file may claim 10**400)."""
    text = str(number)
    return text if len(text) <= 12 else f"{text[:4]}… ({len(text.lstrip('-'))} digits)"


#: Largest sizes a model file may claim (``full`` is 32/64/128 × 5 blocks, kernel 9): 1024
#: channels at the lowest stage is 8× the published width, ~75 MB of fp16 weights.
LIMITS: dict[str, int] = {"channels": 1024, "residual_blocks": 64, "outer_kernel": 15}


#: Named architectures. ``full`` is the published one (Johnson et al. 2016 supplement).
#: ``light`` has half its width, and two residual blocks with 5×5 outer kernels: of the
#: candidates measured on a 2-core CPU at 320×240 (README, "Choosing the light network")
#: it was the fastest half-width one, as fast as 12/24/48 × 4 blocks, within the live budget.
VARIANTS: dict[str, NetworkConfig] = {
    "full": NetworkConfig((32, 64, 128), 5, 9),
    "light": NetworkConfig((16, 32, 64), 2, 5),
}


#: A normalisation step: (instance-norm module, activations N×C×H×W) → normalised activations.
NormFn = Callable[[nn.InstanceNorm2d, torch.Tensor], torch.Tensor]

#: Instance-norm statistics of one layer: (mean, 1/std), each N×C×1×1 float32 (std includes eps).
LayerStats = tuple[torch.Tensor, torch.Tensor]


def _plain_norm(norm: nn.InstanceNorm2d, x: torch.Tensor) -> torch.Tensor:
    return norm(x)


class StatsRecorder:
    """A :data:`NormFn` that normalises each layer by its own statistics (exactly what instance
    normalisation does) and records them, in layer order, in ``stats``.

    Statistics are computed in float32 whatever the activations' dtype (fp16 variance overflows).
    """

    def __init__(self) -> None:
        self.stats: list[LayerStats] = []

    def __call__(self, norm: nn.InstanceNorm2d, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        mean = xf.mean(dim=(2, 3), keepdim=True)
        var = xf.var(dim=(2, 3), keepdim=True, unbiased=False)
        inv_std = torch.rsqrt(var + norm.eps)
        self.stats.append((mean, inv_std))
        return _affine(norm, x, mean, inv_std)


class FrozenStats:
    """A :data:`NormFn` that normalises layer *i* with the *i*-th recorded statistics instead of
    the activations' own (so a crop is normalised like the full frame the statistics came from)."""

    def __init__(self, stats: Sequence[LayerStats]) -> None:
        self.stats = list(stats)
        self.index = 0

    def __call__(self, norm: nn.InstanceNorm2d, x: torch.Tensor) -> torch.Tensor:
        if self.index >= len(self.stats):
            raise ValueError(f"frozen statistics hold {len(self.stats)} layers; the network has more")
        mean, inv_std = self.stats[self.index]
        self.index += 1
        return _affine(norm, x, mean, inv_std)


def _affine(norm: nn.InstanceNorm2d, x: torch.Tensor, mean: torch.Tensor, inv_std: torch.Tensor) -> torch.Tensor:
    """(x − mean) · inv_std · γ + β, computed in x's dtype; γ, β are the layer's affine weights."""
    scale = inv_std * norm.weight.float().view(1, -1, 1, 1)
    shift = norm.bias.float().view(1, -1, 1, 1) - mean * scale
    return x * scale.to(x.dtype) + shift.to(x.dtype)


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

    def forward(self, x: torch.Tensor, norm: NormFn = _plain_norm) -> torch.Tensor:
        y = F.relu(norm(self.in1, self.conv1(x)))
        return x + norm(self.in2, self.conv2(y))


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

    def forward(self, x: torch.Tensor, norm: NormFn = _plain_norm) -> torch.Tensor:
        """x: N×3×H×W RGB 0–255 (H, W multiples of 4) → N×3×H×W.  ``norm`` applies each
        instance norm (default: the module itself; see :class:`StatsRecorder`, :class:`FrozenStats`)."""
        y = F.relu(norm(self.in1, self.conv1(x)))
        y = F.relu(norm(self.in2, self.conv2(y)))
        y = F.relu(norm(self.in3, self.conv3(y)))
        for i in range(self.config.residual_blocks):
            y = getattr(self, f"res{i + 1}")(y, norm)
        y = F.relu(norm(self.in4, self.deconv1(y)))
        y = F.relu(norm(self.in5, self.deconv2(y)))
        return self.deconv3(y)

    def forward_recording(self, x: torch.Tensor) -> tuple[torch.Tensor, list[LayerStats]]:
        """Like ``forward``, and also return every instance norm's (mean, 1/std), in layer order."""
        recorder = StatsRecorder()
        return self(x, recorder), recorder.stats

    def forward_frozen(self, x: torch.Tensor, stats: Sequence[LayerStats]) -> torch.Tensor:
        """Like ``forward``, but each instance norm uses the given statistics (from
        :meth:`forward_recording` on a full frame) instead of the activations' own."""
        frozen = FrozenStats(stats)
        y = self(x, frozen)
        if frozen.index != len(frozen.stats):
            raise ValueError(f"frozen statistics hold {len(frozen.stats)} layers; the network has {frozen.index}")
        return y

    def norm_count(self) -> int:
        """Number of instance-norm layers (5 plus 2 per residual block)."""
        return 5 + 2 * self.config.residual_blocks


def receptive_radius(config: NetworkConfig) -> int:
    """How far (input pixels) an output pixel's value can depend on, ignoring instance-norm
    statistics: the sum over convolutions of (kernel // 2) × that layer's input stride, plus
    the 4 px of position uncertainty of the two stride-2 steps and nearest upsamplings.

    full: 4+1+2+40+2+1+4+4 = 58 px; light: 2+1+2+16+2+1+2+4 = 30 px.  A crop with this much
    context on every side gives, inside, exactly the full frame's output (with frozen statistics).
    """
    k = config.outer_kernel // 2
    return k + 1 + 2 + 2 * config.residual_blocks * 4 + 2 + 1 + k + 4
