"""``steadystyle bench``: ms/frame of every method, size, network and backend, as ratios in one run."""

from __future__ import annotations



def _sizes(text: str) -> tuple[tuple[int, int], ...]:
    from .live import _size  # the WxH parser of `live`

    return tuple(_size(s) for s in text.split(","))


def add_parser(sub) -> None:
    from ..cli import _non_negative_float, _positive_int

    p = sub.add_parser("bench", help="benchmark methods, sizes, networks and backends (JSON + Markdown)")
    p.add_argument("-o", "--output", default="bench", help="folder for bench.json and bench.md (default ./bench)")
    p.add_argument("--sizes", type=_sizes, default=None, help="e.g. 320x240,640x480,1024x436 (the default)")
    p.add_argument("--variants", default="light,full", help="light,full (a shipped style of each)")
    p.add_argument("--backends", default="torch,onnx", help="torch,onnx (those not installed are skipped)")
    p.add_argument("--methods", default=None, help="comma-separated methods (default: every registered one)")
    p.add_argument("--frames", type=_positive_int, default=24, help="frames per run (default 24)")
    p.add_argument("--repeats", type=_positive_int, default=3, help="runs per cell; the median is kept (default 3)")
    p.add_argument("--live-seconds", type=_non_negative_float, default=4.0,
                   help="seconds of the live end-to-end replay per backend (0: skip)")
    p.add_argument("--file-seconds", type=_non_negative_float, default=4.0,
                   help="seconds of the file-path measurement (serial vs threaded stylize at 352x288; 0: skip)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    p.set_defaults(run=run)


def run(args) -> int:
    from ..bench import DEFAULT_SIZES, BenchConfig, markdown, run_bench, write_report
    from ..errors import SteadyStyleError
    from ..stabilize.base import get_method

    variants = tuple(v for v in args.variants.split(",") if v)
    for v in variants:
        if v not in ("light", "full"):
            raise SteadyStyleError(f"unknown variant {v!r}; choose light or full")
    methods = tuple(m for m in (args.methods or "").split(",") if m) or None
    for m in methods or ():
        get_method(m)
    config = BenchConfig(sizes=args.sizes or DEFAULT_SIZES, variants=variants,
                         backends=tuple(b for b in args.backends.split(",") if b), methods=methods,
                         frames=args.frames, repeats=args.repeats, device=args.device, live_seconds=args.live_seconds,
                         file_seconds=args.file_seconds)
    result = run_bench(config)
    json_path, md_path = write_report(result, args.output)
    print(markdown(result))
    print(f"wrote {json_path} and {md_path}")
    return 0
