"""``steadystyle study``: prepare the user-study stimuli and read its results (the game itself is
served by ``steadystyle serve --study DIR``)."""

from __future__ import annotations


def add_parser(sub) -> None:
    from ..backends import BACKENDS
    from .options import max_side

    p = sub.add_parser("study", help="the stability/quality user study: prepare stimuli, show results",
                       description="Pairs of stylized clips of the same input; people pick the steadier video or "
                                   "the better-looking frame. Play it with 'steadystyle serve --study DIR'.")
    actions = p.add_subparsers(dest="study_action", required=True, metavar="{prepare,results}")
    prep = actions.add_parser("prepare", help="stylize each clip with each method; write STUDY_DIR/study.json")
    prep.add_argument("clips", nargs="+", help="input clips (short: a few seconds each)")
    prep.add_argument("--methods", default=None,
                      help="comma-separated methods to compare (default: every registered method)")
    prep.add_argument("--style", default=None, help="shipped style name or model file")
    prep.add_argument("-o", "--output", required=True, metavar="STUDY_DIR", help="an empty or new folder")
    prep.add_argument("--max-side", type=max_side, default=None, help="network working size (longer side, pixels)")
    prep.add_argument("--backend", default="auto", choices=BACKENDS,
                      help="where the network runs (default auto: the fastest installed for the device)")
    prep.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    prep.add_argument("--quiet", action="store_true", help="no progress bars")
    prep.set_defaults(run=run_prepare)
    res = actions.add_parser("results", help="win rates with Wilson 95 %% CIs and a Bradley–Terry ranking")
    res.add_argument("study_dir", metavar="STUDY_DIR")
    res.add_argument("--csv", default=None, metavar="RESULTS.csv", help="write the results table as CSV")
    res.add_argument("--votes-csv", default=None, metavar="VOTES.csv", help="write every vote as CSV")
    res.add_argument("--json", action="store_true", help="print the results as JSON")
    res.set_defaults(run=run_results)


def run_prepare(args) -> int:
    from ..stabilize.base import method_names
    from ..styles import default_style
    from ..web.study import prepare

    methods = [m for m in (args.methods or "").split(",") if m] or method_names()
    manifest = prepare(args.clips, methods, args.style or default_style(), args.output, max_side=args.max_side,
                       device=args.device, backend=args.backend, progress=not args.quiet)
    print(f"study: {len(manifest['pairs'])} pairs ({len(manifest['clips'])} clips × {len(manifest['methods'])} methods, "
          f"stability and quality rounds) in {args.output}; play it with: steadystyle serve --study {args.output}")
    return 0


def run_results(args) -> int:
    import json

    from pathlib import Path

    from ..atomic import atomic_write_text
    from ..paths import check_paths
    from ..web.study import Study, results_csv, votes_csv
    from ..web.study.stimuli import MANIFEST
    from ..web.study.votes import DATABASE

    folder = Path(args.study_dir)
    check_paths({"study manifest": folder / MANIFEST, "votes database": folder / DATABASE,
                 "votes database's WAL": folder / f"{DATABASE}-wal", "votes database's index": folder / f"{DATABASE}-shm"},
                {"--csv": args.csv, "--votes-csv": args.votes_csv})
    study = Study.open(folder, read_only=True)  # reads only: a read-only or archived study folder is fine
    results = study.results()
    if args.csv:
        atomic_write_text(args.csv, results_csv(results))
    if args.votes_csv:
        atomic_write_text(args.votes_csv, votes_csv(study.votes()))
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{results['votes']} votes")
    for rnd, entry in results["rounds"].items():
        print(f"\n{rnd} round ({entry['votes']} votes)")
        print(f"  {'method':<16} {'wins':>5} {'of':>5} {'win rate':>9}  {'95 % CI (Wilson)':<17} {'BT':>6}")
        for row in entry["methods"]:
            rate = "–" if row["win_rate"] is None else f"{100 * row['win_rate']:.1f} %"
            ci = "–" if row["ci_low"] is None else f"{100 * row['ci_low']:.1f}–{100 * row['ci_high']:.1f} %"
            bt = f"{row['bt_score']:.3f}" if "bt_score" in row else ""
            print(f"  {row['method']:<16} {row['wins']:>5} {row['comparisons']:>5} {rate:>9}  {ci:<17} {bt:>6}")
    return 0
