"""Run several stabilization methods on one clip through the frame loop, and measure them.

Every method sees the same stylizations: the network runs once per frame (timed), and a
:class:`CachedStylizer` hands the stored S(t) — or a region of it — to each method through the one
frame loop (:func:`steadystyle.loop.run` with an ``ArraySource`` and a ``MemorySink``).  So the
methods differ only in what they do with S(t), and the network's cost of a method is estimated as
the measured full-frame network time × the share of the frame it asked for (1 for a full frame,
box area / frame area for a region, 0 when it skipped the network); its own time is measured.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import SteadyStyleError
from ..loop import FrameResult, Processor, run
from ..sinks import MemorySink
from ..sources import ArraySource
from ..stabilize.base import get_method, make_params, make_stabilizer, params_dict
from .groundtruth import exact_ghosts
from .metrics import ghost_fraction, seam_energy, static_flicker, static_mask
from .warping import PairFlow, input_flows, warping_errors

__all__ = ["Clip", "MethodSpec", "parse_methods", "CachedStylizer", "evaluate_clip", "EVAL_SETTINGS"]

#: Settings of the measures (reported with every number).
EVAL_SETTINGS: dict[str, Any] = {
    "warping_error": {"flow": "OpenCV DIS on BT.601 grey of the input frames", "preset": "medium",
                      "occlusion": "|wf+wb|² > 0.01(|wf|²+|wb|²) + 0.5 or |∇w|² > 0.01|w|² + 0.002",
                      "pixels": "RGB in [0,1], squared error summed over channels, mean over reliable pixels"},
    "static_flicker": {"mask": "input grey-level difference blurred (Gaussian σ 2 px) ≤ 2 grey levels, "
                               "4 px from any change", "unit": "grey levels (0–255), mean |ΔO| over channels"},
    "ghost_proxy": {"blur_sigma_px": 3.0, "bound": 25.0, "unit": "share of pixels where blurred O(t) and "
                    "blurred per-frame S(t) differ by > bound (mean |ΔRGB|)"},
    "seams": {"update": "mean |O(t) − O(t−1)| > 2 grey levels", "unit": "Σ over the update map's 3×3 "
              "boundary of |∇O|² − |∇S|² (grey in [0,1], Sobel/8) per frame pixel, ×1e3"},
    "exact_ghosts": {"bound": 16.0, "change": 2.0, "unit": "share of pixels whose true scene changed since the "
                     "output there was made; lag = mean output age (frames) on the person"},
}


@dataclass
class Clip:
    """Input frames (H×W×3 uint8 RGB) at ``fps``; ``clean`` and ``foreground`` when ground truth is known."""

    name: str
    frames: list[np.ndarray]
    fps: float
    clean: list[np.ndarray] | None = None
    foreground: list[np.ndarray] | None = None
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MethodSpec:
    """A method as typed: ``label`` (e.g. ``adaptive:person=true``), the registered name and its params."""

    label: str
    method: str
    params: Any


def _value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_methods(text: str) -> list[MethodSpec]:
    """``per-frame,frame-diff,adaptive:person=true;regions=false`` → specs (``;`` separates parameters)."""
    specs = []
    for item in (s.strip() for s in text.split(",")):
        if not item:
            continue
        name, _, rest = item.partition(":")
        spec = get_method(name.strip())
        values = {}
        for pair in filter(None, rest.split(";")):
            key, eq, val = pair.partition("=")
            key = key.strip().replace("-", "_")
            if not eq or key not in spec.params.__dataclass_fields__:
                raise SteadyStyleError(f"method {item!r}: {pair!r} is not NAME=VALUE of a {spec.name} parameter")
            values[key] = _value(val.strip())
        specs.append(MethodSpec(item, spec.name, make_params(spec.name, **values)))
    if not specs:
        raise SteadyStyleError("no methods given")
    if len({s.label for s in specs}) != len(specs):
        raise SteadyStyleError(f"a method is listed twice in {text!r}")
    return specs


class CachedStylizer:
    """Serves stored stylizations S(t) by input frame (identity of the array), full frame or a crop."""

    def __init__(self, frames: list[np.ndarray], stylized: list[np.ndarray]) -> None:
        self._by_id = {id(f): s for f, s in zip(frames, stylized)}

    def __call__(self, image: np.ndarray) -> np.ndarray:
        try:
            return self._by_id[id(image)]
        except KeyError:
            raise SteadyStyleError("evaluation asked for a frame it did not stylize") from None


class _Collect:
    """Observer keeping each frame's timings and the share of the frame sent to the network."""

    def __init__(self) -> None:
        self.stabilize_ms: list[float] = []
        self.network_share: list[float] = []
        self.foreground: list[float] = []

    def on_frame(self, r: FrameResult) -> None:
        area = r.output.shape[0] * r.output.shape[1]
        share = (sum(b.area for b in r.regions) / area if r.regions else 1.0) if r.stylized else 0.0
        self.stabilize_ms.append(r.stabilize_ms)
        self.network_share.append(min(1.0, share))
        self.foreground.append(r.foreground)


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if v == v]
    return float(np.mean(finite)) if finite else float("nan")


def stylize_all(frames: list[np.ndarray], stylizer: Callable[[np.ndarray], np.ndarray]) -> tuple[list[np.ndarray], list[float]]:
    """S(t) for every frame and the network time of each, ms."""
    out, ms = [], []
    for f in frames:
        t = time.perf_counter()
        out.append(stylizer(f))
        ms.append((time.perf_counter() - t) * 1000.0)
    return out, ms


def evaluate_clip(clip: Clip, stylizer: Callable[[np.ndarray], np.ndarray], methods: list[MethodSpec],
                  flow_preset: str = "medium",
                  style_distance: Callable[[list[np.ndarray]], float] | None = None) -> tuple[dict, dict[str, list[np.ndarray]]]:
    """Measure each method on ``clip``.  Returns (JSON-ready results, outputs per method label).

    The results hold, per method, per-frame curves (``curves``) and their means (``mean``):
    warping error, static flicker, ghost proxy, seam energy (×1e3), estimated ms per frame, the
    network share; with ground truth also the exact ghost rate and foreground lag (frames).
    """
    if len(clip.frames) < 2:
        raise SteadyStyleError(f"{clip.name}: needs at least 2 frames to measure consistency")
    per_frame, net_ms = stylize_all(clip.frames, stylizer)
    cached = CachedStylizer(clip.frames, per_frame)
    flows: list[PairFlow] = input_flows(clip.frames, flow_preset)
    statics = [static_mask(a, b) for a, b in zip(clip.frames, clip.frames[1:])]
    full_ms = float(np.median(net_ms))
    results: dict[str, Any] = {
        "clip": clip.name, "frames": len(clip.frames), "size": f"{clip.frames[0].shape[1]}×{clip.frames[0].shape[0]}",
        "fps": clip.fps, "network_ms_full_frame": full_ms, "flow_preset": flow_preset,
        "static_share": float(np.mean([m.mean() for m in statics])),
        "reliable_flow_share": float(np.mean([p.reliable.mean() for p in flows])), **clip.info, "methods": {}}
    outputs: dict[str, list[np.ndarray]] = {}
    for spec in methods:
        sink, collect = MemorySink(), _Collect()
        processor = Processor(cached, make_stabilizer(spec.method, spec.params))
        run(ArraySource(clip.frames, clip.fps), processor, sink, [collect], name=clip.name)
        outs = sink.images
        outputs[spec.label] = outs
        curves: dict[str, list[float]] = {
            "warping_error": warping_errors(outs, flows),
            "static_flicker": [static_flicker(outs[t - 1], outs[t], statics[t - 1]) for t in range(1, len(outs))],
            "ghost_proxy": [ghost_fraction(o, s) for o, s in zip(outs, per_frame)],
            "seams": [1e3 * seam_energy(outs[t - 1], outs[t], per_frame[t]) for t in range(1, len(outs))],
            "ms_per_frame": [s + full_ms * n for s, n in zip(collect.stabilize_ms, collect.network_share)],
            "network_share": collect.network_share,
        }
        if clip.clean is not None and clip.foreground is not None:
            ghosts, lags = exact_ghosts(outs, clip.clean, clip.foreground)
            curves["exact_ghosts"], curves["foreground_lag"] = ghosts, lags
        mean = {k: _nanmean(v) for k, v in curves.items()}
        if style_distance is not None:
            mean["style_distance"] = style_distance(outs)
        results["methods"][spec.label] = {"method": spec.method, "params": params_dict(spec.params),
                                          "mean": mean, "curves": curves}
    return results, outputs
