"""``steadystyle batch``: many videos on a local Ray or a Ray cluster, resumable."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub) -> None:
    from ..cli import _non_negative_float, _non_negative_int, _positive_int, add_control_options, add_method_options

    p = sub.add_parser(
        "batch", help="stylize many videos on Ray (local or a cluster), resumable",
        description="Stylize files, folders and globs; outputs mirror the input names under OUTDIR (as .mp4), each "
                    "identical to what 'steadystyle stylize' writes. Finished outputs are skipped on a rerun with the "
                    "same settings; a failed video does not stop the others.")
    p.add_argument("inputs", nargs="+", help="video files, folders (searched recursively) or globs like 'clips/**/*.mkv'")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="output folder (created if missing)")
    p.add_argument("--style", default=None, help="shipped style name (see 'steadystyle styles') or model file path")
    add_method_options(p)
    add_control_options(p)
    p.add_argument("--max-side", type=_positive_int, default=None, help="network runs with the longer side at most N px")
    p.add_argument("--crf", type=_non_negative_int, default=18, help="H.264 quality (default 18)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--ray-address", default=None, metavar="auto|ray://HOST:PORT",
                   help="an existing Ray cluster (default: start a local Ray for this batch, no dashboard)")
    p.add_argument("--workers", type=_positive_int, default=None,
                   help="videos at once (default: one per CPU Ray sees; each gets CPUs/N torch threads)")
    p.add_argument("--threads-per-worker", type=_positive_int, default=None,
                   help="torch CPU threads per video (default: CPUs Ray sees / workers)")
    p.add_argument("--gpus-per-worker", type=_non_negative_float, default=0.0,
                   help="GPUs each video task asks Ray for (e.g. 1, or 0.5 to share a GPU between two)")
    p.add_argument("--report", default=None, metavar="RESULTS.json", help="write the per-video results as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Plan, run, print the table, write the report; 1 when any video failed, 130 on Ctrl-C."""
    from ..batch import BatchSettings, RayOptions, format_table, import_ray, plan, run_batch, settings_json
    from ..cli import method_params
    from ..stats import write_json
    from ..styles import default_style

    import_ray()  # the install hint before any work
    settings = BatchSettings(style=args.style or default_style(), method=args.method, params=method_params(args),
                             strength=args.strength, preserve_colors=args.preserve_colors, max_side=args.max_side,
                             crf=args.crf, device=args.device)
    jobs = plan(args.inputs, args.output)
    options = RayOptions(address=args.ray_address, workers=args.workers, gpus_per_worker=args.gpus_per_worker,
                         threads_per_worker=args.threads_per_worker)
    try:
        result = run_batch(jobs, settings, options, progress=not args.quiet)
    except KeyboardInterrupt:
        print("steadystyle: batch interrupted; finished outputs are kept, rerun to continue", file=sys.stderr)
        return 130
    print(format_table(result.rows))
    done, skipped, failed = result.count("done"), result.count("skipped"), result.count("failed")
    rate = result.frames / result.wall_seconds if result.wall_seconds and result.frames else 0.0
    print(f"batch: {done} done, {skipped} skipped, {failed} failed, {result.frames} frames in "
          f"{result.wall_seconds:.1f} s ({rate:.1f} frames/s, {result.workers} workers, "
          f"{result.startup_seconds:.1f} s of it starting Ray)")
    if args.report:
        write_json(args.report, result.to_json(settings_json(settings)))
    return 1 if failed else 0
