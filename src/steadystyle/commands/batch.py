"""``steadystyle batch``: many videos on a local Ray or a Ray cluster, resumable."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .options import add_run_options, non_negative_float, non_negative_int, positive_int, run_spec


def add_parser(sub) -> None:
    p = sub.add_parser(
        "batch", help="stylize many videos on Ray (local or a cluster), resumable",
        description="Stylize files, folders and globs; outputs mirror the input names under OUTDIR (as .mp4), each "
                    "identical to what 'steadystyle stylize' writes. Finished outputs are skipped on a rerun with the "
                    "same settings; a failed video does not stop the others.")
    p.add_argument("inputs", nargs="+", help="video files, folders (searched recursively) or globs like 'clips/**/*.mkv'")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="output folder (created if missing)")
    add_run_options(p)
    p.add_argument("--crf", type=non_negative_int, default=18, help="H.264 quality, 0-51 (default 18)")
    p.add_argument("--ray-address", default=None, metavar="auto|ray://HOST:PORT",
                   help="an existing Ray cluster (default: start a local Ray for this batch, no dashboard)")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="videos at once (default: one per CPU Ray sees; each gets CPUs/N torch threads); more than "
                         "the videos to run or the CPUs is lowered to that, with a note")
    p.add_argument("--threads-per-worker", type=positive_int, default=None,
                   help="torch CPU threads per video (default: CPUs Ray sees / workers)")
    p.add_argument("--gpus-per-worker", type=non_negative_float, default=0.0,
                   help="GPUs each video task asks Ray for (e.g. 1, or 0.5 to share a GPU between two)")
    p.add_argument("--report", default=None, metavar="RESULTS.json", help="write the per-video results as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check the settings and every path, plan, run, print the table, write the report; 1 when
    any video failed; on Ctrl-C (130), SIGTERM (143) or SIGHUP (129) one line of what finished
    and what did not.  Every setting and path is checked before Ray starts."""
    from ..batch import (BatchSettings, RayOptions, format_table, import_ray, plan, run_batch, settings_json,
                         style_file, summary_line)
    from ..errors import SteadyStyleError
    from ..paths import check_paths
    from ..stats import write_json

    settings = BatchSettings(run_spec(args), crf=args.crf)
    style_file(settings.style)  # an unknown style is one line now, not one failed row per video
    if Path(args.output).exists() and not Path(args.output).is_dir():
        raise SteadyStyleError(f"-o {args.output}: is a file; give a folder for the outputs (created if missing)")
    jobs = plan(args.inputs, args.output)
    check_paths({("input" if len(jobs) == 1 else f"input #{n}"): j.input for n, j in enumerate(jobs, 1)}
                | {"--style": style_file(settings.style)},
                {"--report": args.report},
                {"-o": args.output} | {f"output {j.output}": j.output for j in jobs})
    import_ray()  # the install hint before any work
    options = RayOptions(address=args.ray_address, workers=args.workers, gpus_per_worker=args.gpus_per_worker,
                         threads_per_worker=args.threads_per_worker)
    known: list[dict] = []
    try:
        result = run_batch(jobs, settings, options, progress=not args.quiet, on_result=known.append)
    except KeyboardInterrupt as exc:
        print(f"steadystyle: batch {interrupted_line(known, len(jobs))}", file=sys.stderr)
        return 128 + int(getattr(exc, "signum", 2))
    print(format_table(result.rows))
    print(summary_line(result))
    if args.report:
        write_json(args.report, result.to_json(settings_json(settings)))
    return 1 if result.count("failed") else 0


def interrupted_line(rows: list[dict], videos: int) -> str:
    """``interrupted: 1 done, 2 skipped (already finished), 0 failed; 3 of 6 not finished (...)``."""
    count = {s: sum(1 for r in rows if r["status"] == s) for s in ("done", "skipped", "failed")}
    left = videos - len(rows)
    return (f"interrupted: {count['done']} done, {count['skipped']} skipped (already finished), {count['failed']} "
            f"failed; {left} of {videos} not finished (no partial output kept, no report written); "
            f"rerun to continue")
