"""``steadystyle bench``: every backend's network time beside this machine's floor, every method,
live and the file path, as medians and ratios measured in one run (JSON + Markdown)."""

from __future__ import annotations

import argparse


def _sizes(text: str) -> tuple[tuple[int, int], ...]:
    from .live import _size  # the WxH parser of `live`

    return tuple(_size(s) for s in text.split(",") if s)


def _list(text: str) -> tuple[str, ...]:
    return tuple(v for v in text.split(",") if v)


def add_parser(sub) -> None:
    from ..bench import DEFAULT_LIVE_SIZES, DEFAULT_METHOD_SIZES, DEFAULT_SIZES, PARTS
    from ..bench.adequacy import MIN_FRAMES, MIN_PASSES, MIN_WARMUP
    from ..bench.networks import DEFAULT_BACKENDS
    from .options import non_negative_float, non_negative_int, positive_int

    def sizes(default) -> str:
        return ",".join(f"{w}x{h}" for w, h in default)

    p = sub.add_parser("bench", help="benchmark backends (beside this machine's floor), methods, live and file paths",
                       description="Network time of every backend beside this machine's floor, every stabilization "
                                   "method, live --input and the file path: medians and ratios measured in one run.",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("-o", "--output", default="bench", help="folder for bench.json and bench.md")
    p.add_argument("--parts", type=_list, default=PARTS, help=f"which parts to run, of {','.join(PARTS)}")
    p.add_argument("--sizes", type=_sizes, default=DEFAULT_SIZES, help=f"network table sizes (default {sizes(DEFAULT_SIZES)})")
    p.add_argument("--variants", type=_list, default=("light",), help="light,full (a shipped style of each)")
    p.add_argument("--style", default=None,
                   help="measure this style (shipped name or model file) instead of the --variants' shipped styles")
    p.add_argument("--backends", type=_list, default=DEFAULT_BACKENDS,
                   help=f"backends of the network table (default {','.join(DEFAULT_BACKENDS)}; openvino:bf16/f32 "
                        "pick its precision; those not installed are skipped)")
    p.add_argument("--passes", type=positive_int, default=30,
                   help=f"timed network passes per backend, size and mode (at least {MIN_PASSES} to measure)")
    p.add_argument("--warmup", type=non_negative_int, default=3,
                   help=f"untimed passes first (at least {MIN_WARMUP})")
    p.add_argument("--methods", type=_list, default=None, help="comma-separated methods (default: every registered one)")
    p.add_argument("--method-sizes", type=_sizes, default=DEFAULT_METHOD_SIZES,
                   help=f"sizes of the method table (default {sizes(DEFAULT_METHOD_SIZES)})")
    p.add_argument("--method-backend", default="auto", help="backend of the method table and the file path")
    p.add_argument("--frames", type=positive_int, default=48, help=f"frames per method run (at least {MIN_FRAMES})")
    p.add_argument("--repeats", type=positive_int, default=3, help="runs per method cell; the median is kept")
    p.add_argument("--live-sizes", type=_sizes, default=DEFAULT_LIVE_SIZES,
                   help=f"sizes of live --input (default {sizes(DEFAULT_LIVE_SIZES)})")
    p.add_argument("--live-backends", type=_list, default=("auto",), help="backends of the live runs")
    p.add_argument("--live-seconds", type=non_negative_float, default=6.0,
                   help="seconds of the 30 fps clip live --input replays per size and backend (0: skip)")
    p.add_argument("--file-seconds", type=non_negative_float, default=4.0,
                   help="seconds of the file-path measurement (serial vs threaded stylize at 352x288; 0: skip)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    p.set_defaults(run=run)


def run(args) -> int:
    from ..backends import BACKENDS
    from ..bench import PARTS, BenchConfig, markdown, run_bench, write_report
    from ..errors import SteadyStyleError
    from ..stabilize.base import get_method
    from .options import warn

    for v in () if args.style else args.variants:
        if v not in ("light", "full"):
            raise SteadyStyleError(f"unknown variant {v!r}; choose light or full")
    if not args.parts:
        raise SteadyStyleError(f"--parts names no part; choose from {', '.join(PARTS)}")
    if args.style:
        from ..batch.settings import style_file

        style_file(args.style)  # an unknown style is one line before any measurement
    for part in args.parts:
        if part not in PARTS:
            raise SteadyStyleError(f"unknown bench part {part!r}; choose {', '.join(PARTS)}")
    for label in (*args.backends, *args.live_backends, args.method_backend):
        if label.partition(":")[0] not in BACKENDS:
            raise SteadyStyleError(f"unknown backend {label!r}; choose {', '.join(BACKENDS)}")
    for m in args.methods or ():
        get_method(m)
    from ..bench.report import check_output

    check_output(args.output, {"--style": args.style})  # before any measurement
    config = BenchConfig(sizes=args.sizes, variants=args.variants, backends=args.backends, passes=args.passes,
                         warmup=args.warmup, methods=args.methods, method_sizes=args.method_sizes,
                         method_backend=args.method_backend, frames=args.frames, repeats=args.repeats,
                         live_sizes=args.live_sizes, live_backends=args.live_backends, live_seconds=args.live_seconds,
                         file_seconds=args.file_seconds, device=args.device, parts=args.parts)
    if args.style:
        from pathlib import Path

        label = Path(args.style).stem
        config.variants, config.styles = (label,), {label: args.style}
    result = run_bench(config, warn=warn)
    json_path, md_path = write_report(result, args.output)
    print(markdown(result))
    print(f"wrote {json_path} and {md_path}")
    return 0
