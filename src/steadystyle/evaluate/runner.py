"""Run several stabilization methods on one clip through the frame loop, and measure them.

Each method runs as a user would run it: a :class:`~steadystyle.spec.RunSpec` (style, backend,
device, working size) with that method builds its :class:`~steadystyle.loop.Processor`, around
one stylizer built once (``RunSpec.stylizer()``, the one factory) and shared by the methods, and
:func:`steadystyle.loop.run` drives the clip (``ArraySource`` → ``MemorySink``).  So a method's
region passes are real region passes, and its time per frame is measured: network plus its own
work.  The per-frame method (always run, first) gives S(t), the reference of the ghost proxy,
the seams and every ratio.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import SteadyStyleError
from ..loop import FrameResult, run
from ..sinks import MemorySink
from ..sources import ArraySource
from ..spec import RunSpec
from ..stabilize.base import get_method, make_params, params_dict
from .faces import Detector, FaceMeasure, flat_means
from .groundtruth import exact_ghosts
from .metrics import ghost_fraction, seam_energy, sharpness, static_flicker, static_mask
from .warping import MOVING_PX, PairFlow, input_flows, warping_errors

__all__ = ["Clip", "MethodSpec", "parse_methods", "evaluate_clip", "EVAL_SETTINGS", "BASELINE"]

#: The method every ratio refers to; :func:`evaluate_clip` always runs it, first.
BASELINE = "per-frame"

#: Settings of the measures (reported with every number).
EVAL_SETTINGS: dict[str, Any] = {
    "warping_error": {"flow": "OpenCV DIS on BT.601 grey of the input frames", "preset": "medium",
                      "occlusion": "|wf+wb|² > 0.01(|wf|²+|wb|²) + 0.5 or |∇w|² > 0.01|w|² + 0.002",
                      "pixels": "RGB in [0,1], squared error summed over channels, mean over reliable pixels"},
    "warping_error_moving": {"pixels": f"as warping_error, over the reliable pixels whose input flow is ≥ {MOVING_PX} px "
                                       "(the moving person)"},
    "sharpness": {"unit": "mean over the frame of |∇F|², F the grey output in [0,1], 3×3 Sobel / 8; "
                          "reported as a ratio to per-frame (1 = as sharp)"},
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


def _checked(item: str, key: str, text: str, default: Any) -> Any:
    """``text`` read as the kind of value ``default`` is (an int passes for a float), else a one-line error."""
    kinds = {bool: "true or false", int: "a whole number", float: "a number"}
    kind = type(default)
    if kind is str:
        return text
    value = _value(text)
    ok = (isinstance(value, kind) and not (kind is int and isinstance(value, bool))) or (
        kind is float and isinstance(value, int) and not isinstance(value, bool))
    if kind in kinds and not ok:
        raise SteadyStyleError(f"method {item!r}: {key} takes {kinds[kind]} (got {value!r}; "
                               "separate parameters with ';')")
    return float(value) if kind is float else value


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
            values[key] = _checked(item, key, val.strip(), spec.params.__dataclass_fields__[key].default)
        specs.append(MethodSpec(item, spec.name, make_params(spec.name, **values)))
    if not specs:
        raise SteadyStyleError("no methods given")
    if len({s.label for s in specs}) != len(specs):
        raise SteadyStyleError(f"a method is listed twice in {text!r}")
    return specs


class _Collect:
    """Observer keeping each frame's timings and the share of the frame sent to the network."""

    def __init__(self) -> None:
        self.stabilize_ms: list[float] = []
        self.stylize_ms: list[float] = []
        self.network_share: list[float] = []
        self.foreground: list[float] = []

    def on_frame(self, r: FrameResult) -> None:
        area = r.output.shape[0] * r.output.shape[1]
        share = (sum(b.area for b in r.regions) / area if r.regions else 1.0) if r.stylized else 0.0
        self.stabilize_ms.append(r.stabilize_ms)
        self.stylize_ms.append(r.stylize_ms)
        self.network_share.append(min(1.0, share))
        self.foreground.append(r.foreground)


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if v == v]
    return float(np.mean(finite)) if finite else float("nan")


def _with_baseline(methods: list[MethodSpec]) -> list[MethodSpec]:
    """``methods`` with the per-frame baseline first (added when missing)."""
    rest = [m for m in methods if m.label != BASELINE]
    base = [m for m in methods if m.label == BASELINE] or [MethodSpec(BASELINE, BASELINE, make_params(BASELINE))]
    return base + rest


def evaluate_clip(clip: Clip, spec: RunSpec, methods: list[MethodSpec], flow_preset: str = "medium",
                  style_distance: Callable[[list[np.ndarray]], float] | None = None,
                  stylizer: Any = None, faces: list[Detector] | None = None,
                  face_every: int = 1) -> tuple[dict, dict[str, list[np.ndarray]]]:
    """Measure each method on ``clip`` with the style, backend, device and working size of ``spec``.

    ``stylizer``: one already built from ``spec`` (``spec.stylizer()``), to share across clips.
    Returns (JSON-ready results, outputs per method label).  The results hold, per method, per-frame
    curves (``curves``) and their means (``mean``): warping error (whole frame and moving region),
    static flicker, sharpness, ghost proxy, seam energy (×1e3), measured ms per frame (network and
    method), the network share; with ground truth also the exact ghost rate and foreground lag
    (frames).  With ``faces`` (detectors of :mod:`steadystyle.evaluate.faces`), each method also
    gets ``faces`` (per detector: frames with a face in input and output, the detection rate, and
    for MTCNN the landmark distance), looked at on every ``face_every``-th frame, and the clip a
    ``faces`` entry saying how.  The per-frame baseline is always measured, first.
    """
    if len(clip.frames) < 2:
        raise SteadyStyleError(f"{clip.name}: needs at least 2 frames to measure consistency")
    stylizer = stylizer if stylizer is not None else spec.stylizer()
    methods = _with_baseline(methods)
    flows: list[PairFlow] = input_flows(clip.frames, flow_preset)
    statics = [static_mask(a, b) for a, b in zip(clip.frames, clip.frames[1:])]
    results: dict[str, Any] = {
        "clip": clip.name, "frames": len(clip.frames), "size": f"{clip.frames[0].shape[1]}×{clip.frames[0].shape[0]}",
        "fps": clip.fps, "flow_preset": flow_preset, "backend": getattr(stylizer, "backend", spec.backend),
        "static_share": float(np.mean([m.mean() for m in statics])),
        "moving_share": float(np.mean([p.moving.mean() for p in flows])),
        "reliable_flow_share": float(np.mean([p.reliable.mean() for p in flows])), **clip.info, "methods": {}}
    face_measure = FaceMeasure(clip.frames, faces, face_every) if faces else None
    if face_measure is not None:
        results["faces"] = face_measure.settings()
    outputs: dict[str, list[np.ndarray]] = {}
    per_frame: list[np.ndarray] = []
    for m in methods:
        sink, collect = MemorySink(), _Collect()
        processor = spec.replace(method=m.method, params=m.params).processor(stylizer=stylizer, timed=True)
        run(ArraySource(clip.frames, clip.fps), processor, sink, [collect], name=clip.name)
        outs = sink.images
        if m.label == BASELINE:
            per_frame = outs
            results["network_ms_full_frame"] = float(np.median(collect.stylize_ms))
        outputs[m.label] = outs
        curves: dict[str, list[float]] = {
            "warping_error": warping_errors(outs, flows),
            "warping_error_moving": warping_errors(outs, flows, moving=True),
            "static_flicker": [static_flicker(outs[t - 1], outs[t], statics[t - 1]) for t in range(1, len(outs))],
            "sharpness": [sharpness(o) for o in outs],
            "ghost_proxy": [ghost_fraction(o, s) for o, s in zip(outs, per_frame)],
            "seams": [1e3 * seam_energy(outs[t - 1], outs[t], per_frame[t]) for t in range(1, len(outs))],
            "ms_per_frame": [a + b for a, b in zip(collect.stylize_ms, collect.stabilize_ms)],
            "stabilize_ms": collect.stabilize_ms,
            "network_share": collect.network_share,
        }
        if clip.clean is not None and clip.foreground is not None:
            ghosts, lags = exact_ghosts(outs, clip.clean, clip.foreground)
            curves["exact_ghosts"], curves["foreground_lag"] = ghosts, lags
        mean = {k: _nanmean(v) for k, v in curves.items()}
        if style_distance is not None:
            mean["style_distance"] = style_distance(outs)
        entry = {"method": m.method, "params": params_dict(m.params), "mean": mean, "curves": curves}
        if face_measure is not None:
            entry["faces"] = face_measure.measure(outs)
            mean.update(flat_means(entry["faces"]))
        results["methods"][m.label] = entry
    return results, outputs
