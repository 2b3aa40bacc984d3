"""Per-clip table of ratios to per-frame from a ``steadystyle evaluate`` report (Markdown).

    python tools/evaluation_table.py REPORT/report.json [--fixed-exclude NAME ...]

One row per clip and method: the moving-region and whole-frame warping error, static flicker and
sharpness, each × per-frame; the network share.  Then, per method, the median over the
fixed-camera clips (every clip but those named with ``--moving-camera``) and the worst clip.
"""

from __future__ import annotations

import argparse
import json
import math
from statistics import median

KEYS = (("warping_error_moving_ratio", "moving: warp ×", 2), ("warping_error_ratio", "whole: warp ×", 2),
        ("static_flicker_ratio", "static flicker ×", 3), ("sharpness_ratio", "sharpness ×", 3),
        ("network_share", "network share", 2))


def fmt(v: float, d: int) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{d}f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("report")
    ap.add_argument("--moving-camera", nargs="*", default=["openh264_flower_1280x720_handheld.264"])
    a = ap.parse_args()
    summary = json.load(open(a.report))["summary"]
    methods = [m for m in summary["methods"] if m != summary["baseline"]]
    clips = summary["per_clip"]
    print("| clip | method | " + " | ".join(k[1] for k in KEYS) + " |")
    print("|---|---|" + "---|" * len(KEYS))
    for c in clips:
        for m in methods:
            v = c["methods"][m]
            print(f"| {c['clip']} | {m} | " + " | ".join(fmt(v.get(k), d) for k, _, d in KEYS) + " |")
    print()
    print("| method | " + " | ".join(f"{k[1]} median (fixed camera)" for k in KEYS[:4])
          + " | sharpness × worst clip | camera motion: warp × | camera motion: moving × |")
    print("|---|" + "---|" * 7)
    for m in methods:
        fixed = [c["methods"][m] for c in clips if c["clip"] not in a.moving_camera]
        moving = [c["methods"][m] for c in clips if c["clip"] in a.moving_camera]
        med = [median([v[k] for v in fixed if v.get(k) == v.get(k)]) for k, _, _ in KEYS[:4]]
        worst = min(v["sharpness_ratio"] for v in fixed + moving)
        cam = [fmt(moving[0].get(k), 2) if moving else "–" for k in ("warping_error_ratio", "warping_error_moving_ratio")]
        print(f"| {m} | " + " | ".join(fmt(x, 3) for x in med) + f" | {worst:.3f} | {cam[0]} | {cam[1]} |")


if __name__ == "__main__":
    main()
