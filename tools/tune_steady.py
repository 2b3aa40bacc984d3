"""Development helper: measure stabilizer settings quickly on many clips.

Each clip's frames are stylized once (full frames, the fastest backend) and cached under
``--cache``; every setting then runs on those stylizations (a region is cut from the frame's full
stylization, as the frame loop does once a full pass ran), and the evaluation's measures are
computed (ratios to per-frame).  For tuning only: ``steadystyle evaluate`` is the measurement.

    python tools/tune_steady.py CLIP... --methods "adaptive,steady,steady:photo_factor=4"

On the synthetic call (``synthetic``) the exact ghosts and the foreground lag are printed too.

A clip ``pan:PX:FILE`` is FILE seen by a panning, shaking camera: a window of 80 % of a frame read
at 1.25 × ``--size`` slides PX px a frame sideways (and back at the border) with a vertical shake
of ±2 px, so camera motion can be measured on more than the one hand-held development clip.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from pathlib import Path

import cv2
import numpy as np

from steadystyle.evaluate.clips import load_clip
from steadystyle.evaluate.groundtruth import exact_ghosts
from steadystyle.evaluate.metrics import sharpness, static_flicker, static_mask
from steadystyle.evaluate.runner import parse_methods
from steadystyle.evaluate.warping import input_flows, warping_errors
from steadystyle.spec import RunSpec


def stylized(clip, spec: RunSpec, cache: Path) -> list[np.ndarray]:
    key = hashlib.sha1(f"{clip.name}|{len(clip.frames)}|{clip.frames[0].shape}|{spec.style_name}".encode()).hexdigest()[:12]
    path = cache / f"{key}.npy"
    if path.exists():
        return list(np.load(path))
    net = spec.stylizer()
    out = [net(f) for f in clip.frames]
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, np.stack(out))
    return out


def panned(spec: str, frames: int, size: int):
    """``pan:PX:FILE`` (see the module docstring) as a clip ``size`` px wide."""
    _, px, path = spec.split(":", 2)
    big = load_clip(path, frames, int(round(size * 1.25)))
    h0, w0 = big.frames[0].shape[:2]
    h, w = int(h0 * 0.8) // 2 * 2, int(w0 * 0.8) // 2 * 2
    out, x = [], 0.0
    speed = float(px)
    for t, f in enumerate(big.frames):
        x += speed
        if x < 0 or x > w0 - w:
            speed, x = -speed, min(max(x, 0.0), float(w0 - w))
        y = (h0 - h) / 2 + 2.0 * np.sin(t * 0.7)
        m = np.float32([[1, 0, -x], [0, 1, -y]])
        crop = cv2.warpAffine(f, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        out.append(cv2.resize(crop, (size, size * h // w // 2 * 2), interpolation=cv2.INTER_AREA))
    big.frames[:] = out
    big.name = f"pan{px}-{big.name}"
    return big


def run_method(m, frames, styl):
    stab = RunSpec(method=m.method, params=m.params).stabilizer()
    outs, ms, share, modes = [], [], [], {}
    for f, s in zip(frames, styl):
        asked = []

        def stylize(box=None, s=s):
            asked.append(box)
            return s if box is None else s[box.slices()].copy()

        t = time.perf_counter()
        outs.append(stab(f, stylize))
        ms.append((time.perf_counter() - t) * 1e3)
        area = f.shape[0] * f.shape[1]
        share.append(0.0 if not asked else (1.0 if None in asked else min(1.0, sum(b.area for b in asked) / area)))
        mode = getattr(stab, "last_mode", "")
        modes[mode] = modes.get(mode, 0) + 1
    return outs, float(np.median(ms)), float(np.mean(share)), modes


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("clips", nargs="+")
    ap.add_argument("--methods", default="adaptive,steady")
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--size", type=int, default=320)
    ap.add_argument("--style", default="scream")
    ap.add_argument("--cache", default=os.environ.get("TMPDIR", "/tmp") + "/steady-tune")
    a = ap.parse_args()
    spec = RunSpec(style=a.style)
    methods = parse_methods(a.methods)
    rows = []
    for c in a.clips:
        clip = panned(c, a.frames, a.size) if c.startswith("pan:") else load_clip(c, a.frames, a.size)
        styl = stylized(clip, spec, Path(a.cache))
        flows = input_flows(clip.frames)
        statics = [static_mask(x, y) for x, y in zip(clip.frames, clip.frames[1:])]

        def measure(outs):
            return (np.nanmean(warping_errors(outs, flows)), np.nanmean(warping_errors(outs, flows, moving=True)),
                    np.nanmean([static_flicker(outs[t - 1], outs[t], statics[t - 1]) for t in range(1, len(outs))]),
                    np.mean([sharpness(o) for o in outs]))

        base = measure(styl)
        for m in methods:
            outs, ms, share, modes = run_method(m, clip.frames, styl)
            r = [v / b for v, b in zip(measure(outs), base)]
            rows.append((clip.name, m.label, *r, ms, share))
            ghosts = ""
            if clip.clean is not None and clip.foreground is not None:  # the synthetic call: the truth is known
                rate, lag = exact_ghosts(outs, clip.clean, clip.foreground)
                ghosts = f"  exact ghosts {np.mean(rate):.4f} (lag {np.mean(lag):.1f})"
            print(f"{clip.name[:28]:28s} {m.label:34s} warp×{r[0]:.3f} moving×{r[1]:.3f} flicker×{r[2]:.3f} "
                  f"sharp×{r[3]:.3f}  {ms:.2f} ms  net {share:.2f}  {modes}{ghosts}", flush=True)
    for m in methods:
        r = np.array([row[2:] for row in rows if row[1] == m.label])
        print(f"MEDIAN {m.label:34s} warp×{np.median(r[:, 0]):.3f} moving×{np.median(r[:, 1]):.3f} "
              f"flicker×{np.median(r[:, 2]):.3f} sharp min×{r[:, 3].min():.3f}  ms {np.median(r[:, 4]):.2f}  net {np.mean(r[:, 5]):.2f}")


if __name__ == "__main__":
    main()
