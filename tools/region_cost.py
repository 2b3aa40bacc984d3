"""Is the region policy's break-even right?  A region pass's cost by crop size, beside a plain and a
recording full pass, on one backend and frame size, on this machine.

``REGION_FULL_FRACTION`` (``backends/base.py``) runs a crop covering at least that share of the
frame as a full pass instead.  This times, on the built-in synthetic call: a plain full pass, a
``record`` full pass (one full pass in ``RECORD_EVERY`` while regions are in use), and region
passes of centred boxes whose crop (box + the network's context) covers a range of shares of the
frame.  Median ms of ``--passes`` passes, each measurement taken ``--repeats`` times in turn.

    python tools/region_cost.py --backend openvino --sizes 320x240,640x480
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

from steadystyle.backends.base import RECORD_EVERY, REGION_FULL_FRACTION, context_box
from steadystyle.bench.methods import clip_frames
from steadystyle.geometry import Box
from steadystyle.spec import RunSpec
from steadystyle.stats import machine_description


def centred_box(width: int, height: int, share: float) -> Box:
    """A centred box of about ``share`` of the frame's area, sides multiples of 4."""
    side = math.sqrt(share)
    bw, bh = max(4, int(width * side) // 4 * 4), max(4, int(height * side) // 4 * 4)
    return Box((height - bh) // 2, (height - bh) // 2 + bh, (width - bw) // 2, (width - bw) // 2 + bw)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", default="openvino")
    ap.add_argument("--style", default="scream")
    ap.add_argument("--sizes", default="320x240,640x480")
    ap.add_argument("--boxes", default="0.05,0.1,0.18,0.25,0.32", help="box shares of the frame (the crop is larger)")
    ap.add_argument("--passes", type=int, default=12)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    stylizer = RunSpec(style=args.style, backend=args.backend).stylizer()
    print(machine_description())
    print(f"backend {stylizer.backend}, REGION_FULL_FRACTION {REGION_FULL_FRACTION}, RECORD_EVERY {RECORD_EVERY}")
    print("| size | pass | crop share of the frame | median ms |\n|---|---|---|---|")
    for size in args.sizes.split(","):
        width, height = (int(v) for v in size.split("x"))
        frames = [getattr(f, "image", f) for f in clip_frames(width, height, 12, fps=30)]
        stylizer.track_stats = True
        stylizer.record_every = 1
        for frame in frames[:3]:
            stylizer(frame)  # statistics for this size, and the graphs compiled

        def timed(run) -> float:
            values = []
            for i in range(args.passes):
                start = time.perf_counter()
                run(frames[i % len(frames)])
                values.append((time.perf_counter() - start) * 1000.0)
            return statistics.median(values)

        runs: dict[tuple[str, float], list[float]] = {}
        for _ in range(args.repeats):
            stylizer.record_every = 1 << 30
            runs.setdefault(("plain full", 1.0), []).append(timed(stylizer))
            stylizer.record_every = 1
            runs.setdefault(("record full", 1.0), []).append(timed(stylizer))
            stylizer.record_every = 1 << 30  # region passes use the statistics recorded just now
            for share in (float(v) for v in args.boxes.split(",")):
                box = centred_box(width, height, share)
                crop = context_box(box, height, width, stylizer.context).area / (width * height)
                if crop >= REGION_FULL_FRACTION:
                    continue  # the policy runs it full
                runs.setdefault(("region", round(crop, 2)), []).append(
                    timed(lambda frame, box=box: stylizer.stylize_region(frame, box)))
        for (kind, crop), values in runs.items():
            print(f"| {size} | {kind} | {crop:.2f} | {statistics.median(values):.1f} |")


if __name__ == "__main__":
    main()
