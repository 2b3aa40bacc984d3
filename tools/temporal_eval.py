#!/usr/bin/env python3
"""Compare the per-frame flicker and style loss of models on real clips (base vs C-FDB fine-tuned).

Example (the README's numbers):
  python tools/temporal_eval.py --model base=runs/shipped/scream.safetensors \
      --model c-fdb=runs/temporal/scream-cfdb.safetensors \
      --style-image ../shared/data/styles/munch_the_scream.jpg \
      --clips ../shared/data/videos/asl_gestures/*.mkv ../shared/data/videos/intel_one_by_one_person.mp4 \
      --json runs/temporal/report.json
"""

import argparse
import json
import sys

from steadystyle.errors import SteadyStyleError
from steadystyle.evaluate.temporal import compare_models, markdown_table


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", action="append", required=True, help="NAME=PATH (repeat)")
    p.add_argument("--style-image", required=True)
    p.add_argument("--clips", nargs="+", required=True)
    p.add_argument("--max-frames", type=int, default=60)
    p.add_argument("--max-side", type=int, default=320)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    models = dict(m.split("=", 1) for m in args.model)
    try:
        report = compare_models(models, args.style_image, args.clips, args.max_frames, args.max_side)
    except SteadyStyleError as exc:
        print(f"temporal_eval: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    print(markdown_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
