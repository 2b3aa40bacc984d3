"""``steadystyle live``: the painted call from a camera (or a replayed file) to a window,
virtual camera and/or recording."""

from __future__ import annotations

import argparse


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 320x240") from None
    from ..live import MAX_LIVE_SIDE

    if not (16 <= w <= MAX_LIVE_SIDE and 16 <= h <= MAX_LIVE_SIDE):
        raise argparse.ArgumentTypeError(f"size {text} is out of range (each side 16–{MAX_LIVE_SIDE} pixels)")
    return w, h


def add_parser(sub) -> None:
    from ..fit import FIT_MODES
    from .options import add_run_options, non_negative_float

    p = sub.add_parser("live", help="stylize a camera (or a file replayed in real time) live",
                       description="Live stylization: newest-frame capture, one inference thread, live outputs.")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--camera", type=int, default=0, help="camera number (default 0)")
    src.add_argument("--input", default=None, help="replay a video file at its own frame rate, as a camera would")
    add_run_options(p, working_size=False)
    p.add_argument("--styles", default=None, help="comma-separated styles for keys 1–9 in the window")
    p.add_argument("--size", type=_size, default=(320, 240), help="processing size WxH (default 320x240)")
    p.add_argument("--fit", choices=FIT_MODES, default="crop",
                   help="a camera of another aspect ratio: crop to fill (default), letterbox, or stretch")
    p.add_argument("--window", action="store_true", help="show an OpenCV window (keys: 1–9 style, m method, q quit)")
    p.add_argument("--virtual-camera", action="store_true", help="send to a virtual camera (pyvirtualcam)")
    p.add_argument("--record", default=None, metavar="OUT.mp4", help="also record the output (finalized on every stop)")
    p.add_argument("--duration", type=non_negative_float, default=None, help="stop after S seconds")
    p.add_argument("--stats", default=None, metavar="STATS.json", help="write fps, latency, drops, timings")
    p.add_argument("--quiet", action="store_true", help="no status line")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..live import LiveOptions, run_live
    from .options import run_spec

    styles = [s for s in (args.styles or "").split(",") if s]
    spec = run_spec(args, style=args.style or (styles[0] if styles else None))
    options = LiveOptions(spec=spec, camera=args.camera, input=args.input, size=args.size, fit=args.fit, window=args.window,
                          virtual_camera=args.virtual_camera, record=args.record, duration=args.duration,
                          stats=args.stats, status=not args.quiet, styles=styles)
    stats = run_live(options)
    lat = stats["latency_ms"]
    print(f"live: {stats['frames']} frames at {stats['delivered_fps']:.1f} fps, latency p50 {lat['p50']} ms "
          f"p95 {lat['p95']} ms, dropped {stats['dropped_at_capture']} at capture"
          + (f"; recorded {args.record}" if args.record else ""))
    return 0
