"""Optical flow of the input, and the flow-warping stabilizer (the paper's [6], Ruder et al.).

Conventions.  A *flow* is an H×W×2 float32 array of pixel offsets (dx, dy).  ``dis_flow(a, b)``
is defined on the pixels of ``a``: ``a(x) ≈ b(x + w(x))`` (OpenCV's convention).
:func:`warp` samples an image at ``x + w(x)`` (bilinear, border replicated), so
``warp(b, dis_flow(a, b)) ≈ a``.

:func:`unreliable` is the occlusion test of Ruder et al. (2016) that Lai et al. (2018) use for the
warping error, on the pixels of the flow's source frame, for forward flow ``wf`` (a → b) and
backward flow ``wb`` (b → a):

- forward–backward check  |wf + ŵb|² > 0.01 (|wf|² + |ŵb|²) + 0.5, with ŵb = wb sampled at x + wf(x);
- motion boundary         |∇u|² + |∇v|² > 0.01 |wf|² + 0.002 (central differences, px/px).

The **flow stabilizer** keeps the previous output O(t−1) warped by the flow of the *input* from
I(t) to I(t−1) wherever that flow passes the test, and takes S(t) elsewhere (disocclusions,
motion boundaries); ``blend`` mixes a share of S(t) into the kept pixels
(:func:`~steadystyle.stabilize.masks.lerp`).  It needs S(t) and two
DIS flows every frame: consistent, but never cheaper than per-frame stylization.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..errors import SteadyStyleError
from ..frames import check_frame
from .base import Stylize, register
from .masks import check_bounded, lerp

__all__ = ["DIS_PRESETS", "FlowParams", "FlowStabilizer", "dis_flow", "grey_u8", "make_dis", "unreliable", "warp"]

#: DIS settings by name: OpenCV's presets, and ``lean`` — ``medium``'s pyramid (finest level half
#: the size) with a patch stride of 4 px, 12 gradient-descent and 2 variational-refinement
#: iterations (``medium``: 3 px, 25, 5).  On the development clips the steady method's warping
#: errors are the same with either (docs/evaluation.md), and ``lean`` takes about half the time.
DIS_PRESETS: dict[str, tuple[int, dict[str, int]]] = {
    "ultrafast": (cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, {}),
    "fast": (cv2.DISOPTICAL_FLOW_PRESET_FAST, {}),
    "medium": (cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, {}),
    "lean": (cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
             {"PatchStride": 4, "GradientDescentIterations": 12, "VariationalRefinementIterations": 2}),
}


def make_dis(preset: str) -> cv2.DISOpticalFlow:
    """A DIS optical-flow object with the settings named ``preset`` (:data:`DIS_PRESETS`)."""
    if preset not in DIS_PRESETS:
        raise SteadyStyleError(f"unknown DIS preset {preset!r}; choose {', '.join(DIS_PRESETS)}")
    base, overrides = DIS_PRESETS[preset]
    dis = cv2.DISOpticalFlow_create(base)
    for name, value in overrides.items():
        getattr(dis, "set" + name)(value)
    return dis


def grey_u8(frame: np.ndarray) -> np.ndarray:
    """H×W×3 uint8 RGB → H×W uint8 luma (OpenCV's BT.601 weights), the input DIS flow works on."""
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def dis_flow(a: np.ndarray, b: np.ndarray, preset: str = "medium") -> np.ndarray:
    """DIS optical flow from grey image ``a`` to ``b`` (H×W uint8) → H×W×2 float32 px, ``a(x) ≈ b(x + w)``
    (zero for images DIS cannot take: under 8 px on a side, or under 12 px on both)."""
    dis = make_dis(preset)
    if a.shape != b.shape or a.ndim != 2 or a.dtype != np.uint8:
        raise SteadyStyleError(f"flow needs two equal H×W uint8 grey images, got {a.shape} and {b.shape}")
    if min(a.shape) < 8 or max(a.shape) < 12:
        return np.zeros(a.shape + (2,), np.float32)  # DIS needs 8 px each way and 12 one way (its patch)
    return dis.calc(a, b, None)


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return xs, ys


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``image`` sampled at x + flow(x) (bilinear, border replicated); same dtype and shape as ``image``.

    image: H×W or H×W×C (uint8 or float32).  flow: H×W×2 float32 (dx, dy) px.
    """
    h, w = flow.shape[:2]
    if image.shape[:2] != (h, w):
        raise SteadyStyleError(f"image is {image.shape[:2]}, flow is {flow.shape[:2]}")
    xs, ys = _grid(h, w)
    return cv2.remap(image, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _gradient(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(∂c/∂y, ∂c/∂x) of an H×W array by central differences (``np.gradient``); 0 along a side of one pixel."""
    dy = np.gradient(c, axis=0) if c.shape[0] > 1 else np.zeros_like(c)
    dx = np.gradient(c, axis=1) if c.shape[1] > 1 else np.zeros_like(c)
    return dy, dx


def unreliable(wf: np.ndarray, wb: np.ndarray) -> np.ndarray:
    """Occlusions and motion boundaries of forward flow ``wf`` (a → b), given backward flow ``wb`` (b → a).

    Both H×W×2 float32 px; ``wf`` lives on a's pixels, ``wb`` on b's.  Returns H×W bool on a's
    pixels, True where the flow must not be trusted (see the module docstring for the tests).
    """
    wb_at = warp(wb, wf)
    fb = wf + wb_at
    occluded = (fb ** 2).sum(-1) > 0.01 * ((wf ** 2).sum(-1) + (wb_at ** 2).sum(-1)) + 0.5
    du_dy, du_dx = _gradient(wf[..., 0])
    dv_dy, dv_dx = _gradient(wf[..., 1])
    boundary = du_dx ** 2 + du_dy ** 2 + dv_dx ** 2 + dv_dy ** 2 > 0.01 * (wf ** 2).sum(-1) + 0.002
    return occluded | boundary


@dataclass(frozen=True)
class FlowParams:
    """Parameters of the flow stabilizer.

    flow_preset: DIS preset (:data:`DIS_PRESETS`: ultrafast, fast, medium, lean).
    blend: share of the new stylization S(t) mixed into the warped previous output where the
        flow is trusted, 0–1 (0 = keep the warped output, 1 = per-frame).
    """

    flow_preset: str = field(default="medium", metadata={"help": "flow: DIS preset (ultrafast, fast, medium, lean)"})
    blend: float = field(default=0.0, metadata={"help": "flow: share of S(t) mixed into warped pixels, 0–1"})

    def __post_init__(self) -> None:
        if not isinstance(self.flow_preset, str) or self.flow_preset not in DIS_PRESETS:
            raise SteadyStyleError(f"unknown DIS preset {self.flow_preset!r}; choose {', '.join(DIS_PRESETS)}")
        check_bounded("blend", self.blend, 0.0, 1.0)


@register("flow", FlowParams, "optical-flow baseline (Ruder et al.): warp O(t−1) by DIS flow of the input; S(t) where occluded")
class FlowStabilizer:
    """Warps the previous output along the input's optical flow (H×W×3 uint8 RGB in and out)."""

    def __init__(self, params: FlowParams = FlowParams()) -> None:
        self.params = params
        self.reset()

    def reset(self) -> None:
        self._prev_grey: np.ndarray | None = None
        self._prev_output: np.ndarray | None = None
        self.last_mask: np.ndarray | None = None
        self.last_foreground_fraction = 1.0

    def __call__(self, frame: np.ndarray, stylize: Stylize) -> np.ndarray:
        grey = grey_u8(check_frame(frame))
        stylized = stylize()
        if self._prev_grey is None or self._prev_output is None or grey.shape != self._prev_grey.shape:
            out = stylized.copy()
            self.last_mask = None
            self.last_foreground_fraction = 1.0
        else:
            preset = self.params.flow_preset
            back = dis_flow(grey, self._prev_grey, preset)     # on I(t): I(t)(x) ≈ I(t−1)(x + w)
            fwd = dis_flow(self._prev_grey, grey, preset)      # on I(t−1)
            new = unreliable(back, fwd)
            kept = warp(self._prev_output, back)
            if self.params.blend > 0:
                kept = lerp(kept, stylized, self.params.blend)
            out = np.where(new[..., None], stylized, kept)
            self.last_mask = ~new
            self.last_foreground_fraction = float(new.mean())
        self._prev_grey, self._prev_output = grey, out
        return out.copy()
