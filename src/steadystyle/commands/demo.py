"""``steadystyle demo``: the built-in synthetic video call, per frame and stabilized, side by side."""

from __future__ import annotations

import argparse

from ..backends import BACKENDS
from .options import non_negative_float

#: The longest demo (seconds): the synthetic call is built in memory, about 1 MB a frame.
MAX_DEMO_SECONDS = 120.0


def _seconds(text: str) -> float:
    value = non_negative_float(text)
    if not 0 < value <= MAX_DEMO_SECONDS:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0 and at most {MAX_DEMO_SECONDS:g} seconds")
    return value


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="stylize the built-in synthetic video call: input | per-frame | frame-diff")
    p.add_argument("-o", "--output", default="steadystyle-demo.mp4")
    p.add_argument("--style", default=None)
    p.add_argument("--seconds", type=_seconds, default=4.0, help=f"length of the synthetic call (default 4, at most {MAX_DEMO_SECONDS:g})")
    p.add_argument("--backend", default="auto", choices=BACKENDS,
                   help="where the network runs (default auto: the fastest installed)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..demo import run_demo

    run_demo(args.output, style=args.style, seconds=args.seconds, backend=args.backend, device=args.device,
             progress=not args.quiet)
    return 0
