"""``steadystyle stylize``: a video file or image sequence in, the painted video out."""

from __future__ import annotations

import sys

from .options import add_run_options, non_negative_int, run_spec


def add_parser(sub) -> None:
    s = sub.add_parser("stylize", help="stylize a video file or image sequence")
    s.add_argument("input", help="video file (mp4, mkv, avi, .264, gif …), image folder or pattern like frames/%%05d.png")
    s.add_argument("-o", "--output", required=True, help="output .mp4/.mkv, or PNG pattern like out/%%05d.png")
    add_run_options(s)
    s.add_argument("--side-by-side", action="store_true", help="write input | result side by side")
    s.add_argument("--stats", default=None, metavar="STATS.json", help="write per-frame foreground fraction and stage timings")
    s.add_argument("--crf", type=non_negative_int, default=18, help="H.264 quality (lower is better, default 18)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--strict", action="store_true",
                   help="treat a damaged input (missing numbered frames, a video shorter than announced) as an error")
    s.set_defaults(run=run)


def run(args) -> int:
    from ..pipeline import stylize_video

    spec = run_spec(args)
    stats = stylize_video(args.input, args.output, spec=spec, side_by_side_output=args.side_by_side,
                          stats_path=args.stats, progress=not args.quiet, crf=args.crf, strict=args.strict)
    for warning in stats.warnings:
        print(f"steadystyle: warning: {warning}", file=sys.stderr)
    fg = sum(stats.foreground_fraction) / max(1, len(stats.foreground_fraction))
    print(f"wrote {args.output}: {stats.frames} frames, {stats.width}×{stats.height}, style {stats.style}, {spec.method}, "
          f"{stats.frames / max(stats.wall_seconds, 1e-9):.1f} fps, mean foreground {fg:.1%}, "
          f"network ran on {stats.stylized_frames} frames")
    return 0
