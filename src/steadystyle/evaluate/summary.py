"""Ratios of each method to per-frame stylization, per clip and averaged over clips."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["RATIO_METRICS", "summarize", "markdown_tables", "face_table"]

#: Measures reported as a ratio to per-frame (per-frame = 1; lower is better except for sharpness).
RATIO_METRICS = ("warping_error", "warping_error_moving", "static_flicker", "sharpness", "ms_per_frame")
#: Measures reported as absolute values (per-frame's own value is 0 or a floor).
ABSOLUTE_METRICS = ("ghost_proxy", "seams", "exact_ghosts", "foreground_lag", "style_distance", "network_share",
                    "face_rate_mtcnn", "face_rate_haar", "face_landmarks")


def _ratio(a: float, b: float) -> float:
    return a / b if b and math.isfinite(a) and math.isfinite(b) else float("nan")


def _mean(values: list[float]) -> float:
    finite = [v for v in values if v == v]
    return sum(finite) / len(finite) if finite else float("nan")


def summarize(clips: list[dict], baseline: str = "per-frame") -> dict[str, Any]:
    """Per clip and method: each mean, and for :data:`RATIO_METRICS` its ratio to ``baseline`` on the same
    clip; then per method the mean over clips of each value and ratio (the mean of per-clip ratios)."""
    per_clip: list[dict] = []
    methods: list[str] = []
    for clip in clips:
        base = clip["methods"].get(baseline, {}).get("mean", {})
        row = {"clip": clip["clip"], "methods": {}}
        if "faces" in clip:
            row["faces_sampled"] = clip["faces"]["frames_sampled"]
        for label, m in clip["methods"].items():
            if label not in methods:
                methods.append(label)
            values = dict(m["mean"])
            for k in RATIO_METRICS:
                if k in values and k in base:
                    values[f"{k}_ratio"] = _ratio(values[k], base[k])
            row["methods"][label] = values
        per_clip.append(row)
    mean = {}
    for label in methods:
        keys = {k for r in per_clip for k in r["methods"].get(label, {})}
        mean[label] = {k: _mean([r["methods"][label][k] for r in per_clip if k in r["methods"].get(label, {})])
                       for k in sorted(keys)}
    faces = next((c["faces"] for c in clips if "faces" in c), None)
    return {"baseline": baseline, "per_clip": per_clip, "mean": mean, "methods": methods,
            **({"faces": faces} if faces is not None else {})}


def _fmt(v: float | None, digits: int) -> str:
    return "–" if v is None or v != v else f"{v:.{digits}f}"


def _count(v: float | None) -> str:
    return "–" if v is None or v != v else f"{v:.0f}"


def face_table(summary: dict) -> list[str]:
    """The face measures as Markdown lines: how they were measured (a detector not available is
    named with its reason), then a row per clip and method; nothing when no faces were measured."""
    faces = summary.get("faces")
    if not faces:
        return []
    every = faces["every"]
    how = "every frame" if every == 1 else f"one frame in {every}"
    out = ["**faces**", "", f"- looked for on {how}; detection rate = "
           "output frames with a face ÷ input frames with a face; landmarks = median over frames of the mean distance "
           "of MTCNN's 5 landmarks, input to output, ÷ the input's inter-ocular distance; (n) = output frames whose "
           "face lies at the input's face (its centre inside the input's largest face box)"]
    out += [f"- {name}: {text}" for name, text in faces["detectors"].items()] + [""]
    out += ["| clip | frames looked at | method | MTCNN faces in → out | MTCNN rate | Haar faces in → out | Haar rate "
            "| landmarks ×eye dist |", "|" + "---|" * 8]
    for r in summary["per_clip"]:
        for label, v in r["methods"].items():
            out.append(f"| {r['clip']} | {r.get('faces_sampled', '–')} | {label} | {_count(v.get('face_input_mtcnn'))} → {_count(v.get('face_output_mtcnn'))} "
                       f"({_count(v.get('face_matched_mtcnn'))}) | {_fmt(v.get('face_rate_mtcnn'), 2)} | "
                       f"{_count(v.get('face_input_haar'))} → {_count(v.get('face_output_haar'))} "
                       f"({_count(v.get('face_matched_haar'))}) | {_fmt(v.get('face_rate_haar'), 2)} | "
                       f"{_fmt(v.get('face_landmarks'), 3)} |")
    for label in summary["methods"]:
        v = summary["mean"][label]
        out.append(f"| **mean** | | {label} | | {_fmt(v.get('face_rate_mtcnn'), 2)} | | {_fmt(v.get('face_rate_haar'), 2)} | "
                   f"{_fmt(v.get('face_landmarks'), 3)} |")
    out.append("")
    return out


def markdown_tables(summary: dict) -> str:
    """One Markdown table per method: a row per clip and a mean row; then the face measures."""
    out = []
    head = ("| clip | warping error | × per-frame | moving: warping error | × per-frame | static flicker | × per-frame "
            "| sharpness × per-frame | ghost proxy | seams ×1e3 "
            "| exact ghosts | fg lag (frames) | style dist | network share | ms/frame | × per-frame |")
    for label in summary["methods"]:
        out += [f"**{label}**", "", head, "|" + "---|" * 16]
        rows = [(r["clip"], r["methods"].get(label)) for r in summary["per_clip"]] + [("**mean**", summary["mean"][label])]
        for name, v in rows:
            if v is None:
                continue
            out.append(f"| {name} | {_fmt(v.get('warping_error'), 5)} | {_fmt(v.get('warping_error_ratio'), 2)} | "
                       f"{_fmt(v.get('warping_error_moving'), 5)} | {_fmt(v.get('warping_error_moving_ratio'), 2)} | "
                       f"{_fmt(v.get('static_flicker'), 3)} | {_fmt(v.get('static_flicker_ratio'), 3)} | "
                       f"{_fmt(v.get('sharpness_ratio'), 3)} | "
                       f"{_fmt(v.get('ghost_proxy'), 4)} | {_fmt(v.get('seams'), 4)} | {_fmt(v.get('exact_ghosts'), 4)} | "
                       f"{_fmt(v.get('foreground_lag'), 1)} | {_fmt(v.get('style_distance'), 3)} | {_fmt(v.get('network_share'), 2)} | "
                       f"{_fmt(v.get('ms_per_frame'), 1)} | "
                       f"{_fmt(v.get('ms_per_frame_ratio'), 2)} |")
        out.append("")
    return "\n".join(out + face_table(summary))
