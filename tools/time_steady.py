"""Time a stabilizer's own work per frame beside one network pass, on real clips, on this machine.

For each clip and width: the frames are stylized once (the network pass is timed, median of all
frames); then each method runs over the clip with those stylizations (a region is cut from the
frame's full stylization, so only the method's own work is timed), OpenCV on one thread as in the
frame loop.  Prints the median and 90th percentile ms of each method's own work per frame, and
its median as a share of the network's median.

    python tools/time_steady.py CLIP... --widths 320,640 --methods frame-diff,adaptive,steady
"""

from __future__ import annotations

import argparse
import os
import time

import cv2
import numpy as np

from steadystyle.evaluate.clips import load_clip
from steadystyle.evaluate.runner import parse_methods
from steadystyle.spec import RunSpec


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("clips", nargs="+")
    ap.add_argument("--widths", default="320,640")
    ap.add_argument("--methods", default="frame-diff,adaptive,steady")
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--style", default="scream")
    ap.add_argument("--backend", default="auto")
    a = ap.parse_args()
    cv2.setNumThreads(1)
    spec = RunSpec(style=a.style, backend=a.backend, device="cpu")
    net = spec.stylizer()
    print(f"backend {net.backend}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for width in (int(w) for w in a.widths.split(",")):
        for c in a.clips:
            clip = load_clip(c, a.frames, width)
            styl, net_ms = [], []
            for f in clip.frames:
                t = time.perf_counter()
                styl.append(net(f))
                net_ms.append((time.perf_counter() - t) * 1e3)
            base = float(np.median(net_ms))
            h, w = clip.frames[0].shape[:2]
            print(f"{clip.name} {w}×{h}: network {base:.1f} ms (median of {len(net_ms)})")
            for m in parse_methods(a.methods):
                stab = RunSpec(method=m.method, params=m.params).stabilizer()
                own = []
                for f, s in zip(clip.frames, styl):
                    t = time.perf_counter()
                    stab(f, lambda box=None, s=s: s if box is None else s[box.slices()].copy())
                    own.append((time.perf_counter() - t) * 1e3)
                own = own[1:]  # the first frame only copies S(0)
                med = float(np.median(own))
                print(f"  {m.label:12s} own work {med:6.2f} ms median, {np.percentile(own, 90):6.2f} ms p90 "
                      f"= {100 * med / base:5.1f} % of the network pass")


if __name__ == "__main__":
    main()
