"""``steadystyle demo``: the built-in synthetic video call, per frame and stabilized, side by side."""

from __future__ import annotations

from .options import non_negative_float


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="stylize the built-in synthetic video call: input | per-frame | frame-diff")
    p.add_argument("-o", "--output", default="steadystyle-demo.mp4")
    p.add_argument("--style", default=None)
    p.add_argument("--seconds", type=non_negative_float, default=4.0)
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..demo import run_demo

    run_demo(args.output, style=args.style, seconds=args.seconds, device=args.device, progress=not args.quiet)
    return 0
