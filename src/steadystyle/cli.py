"""The ``steadystyle`` command: a thin layer over the Python API.

Known user errors (:class:`SteadyStyleError`) print one line and exit with status 2; so do
argument errors (argparse). Ctrl-C exits with 130 and leaves no partial output behind.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import SteadyStyleError


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must not be negative")
    return value


def _odd_kernel(text: str) -> int:
    value = _positive_int(text)
    if value % 2 == 0:
        raise argparse.ArgumentTypeError(f"kernel size {value} must be odd")
    return value


MIN_MAX_SIDE = 16
"""The smallest ``--max-side`` any command accepts (pixels), the same as the Stylizer's."""


def _max_side(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < MIN_MAX_SIDE:
        raise argparse.ArgumentTypeError(f"{text} must be at least {MIN_MAX_SIDE} pixels")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a finite number ≥ 0")
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, status 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def _unit_float(text: str) -> float:
    value = _non_negative_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"{text} must be from 0 to 1")
    return value


_FIELD_TYPES = {"float": _non_negative_float, "int": _non_negative_int, float: _non_negative_float,
                int: _non_negative_int}


def add_method_options(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    """``--method`` from the registry, and one option per field of every method's parameters.

    Options default to None (the method's own default applies); each params dataclass validates
    its values.  A field shared by several methods (e.g. ``threshold``) is one option.
    """
    import dataclasses

    from .stabilize.base import METHODS, method_names

    names = method_names()
    default = default or ("adaptive" if "adaptive" in names else "frame-diff")
    lines = "; ".join(f"{m}: {METHODS[m].summary}" for m in names)
    parser.add_argument("--method", choices=names, default=default, help=f"stabilization method (default {default}). {lines}")
    seen: set[str] = set()
    group = parser.add_argument_group("method parameters (each method uses its own; defaults are the method's)")
    for name in names:
        for f in dataclasses.fields(METHODS[name].params):
            if f.name in seen:
                continue
            seen.add(f.name)
            flag = "--" + f.name.replace("_", "-")
            help_text = f"{f.metadata.get('help', '')} [{name}: {f.default}]"
            if f.type in ("bool", bool):
                group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=help_text)
            else:
                group.add_argument(flag, dest=f.name, type=_FIELD_TYPES.get(f.type, str), default=None, help=help_text)


def method_params(args: argparse.Namespace):
    """The params dataclass of ``args.method`` from the parsed options.

    A parameter given on the command line that belongs only to other methods is a one-line error
    (it would otherwise be silently ignored).
    """
    import dataclasses

    from .stabilize.base import METHODS, make_params

    own = {f.name for f in dataclasses.fields(METHODS[args.method].params)}
    for name, method in METHODS.items():
        for f in dataclasses.fields(method.params):
            if f.name not in own and getattr(args, f.name, None) is not None:
                raise SteadyStyleError(f"--{f.name.replace('_', '-')} is a parameter of --method {name}, "
                                       f"not of --method {args.method}")
    return make_params(args.method, **vars(args))


def add_control_options(parser: argparse.ArgumentParser) -> None:
    """``--strength`` and ``--preserve-colors``."""
    parser.add_argument("--strength", type=_unit_float, default=1.0,
                        help="style strength: 1 = full style (default), 0 = the unchanged input")
    parser.add_argument("--preserve-colors", action="store_true",
                        help="keep the input's colours, take only the style's luminance (faces keep their colour)")


def build_parser() -> argparse.ArgumentParser:
    from .commands import add_command_parsers

    p = _Parser(prog="steadystyle", description="Flicker-free neural style transfer for video and video calls.")
    p.add_argument("--version", action="version", version=f"steadystyle {_version()}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("stylize", help="stylize a video file or image sequence")
    s.add_argument("input", help="video file (mp4, mkv, avi, .264, gif …), image folder or pattern like frames/%%05d.png")
    s.add_argument("-o", "--output", required=True, help="output .mp4/.mkv, or PNG pattern like out/%%05d.png")
    s.add_argument("--style", default=None, help="shipped style name (see 'steadystyle styles') or model file path")
    add_method_options(s)
    add_control_options(s)
    s.add_argument("--max-side", type=_max_side, default=None,
                   help="run the network with the longer side at most N pixels (sets stroke scale, saves memory)")
    s.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    s.add_argument("--side-by-side", action="store_true", help="write input | result side by side")
    s.add_argument("--stats", default=None, metavar="STATS.json", help="write per-frame foreground fraction and stage timings")
    s.add_argument("--crf", type=_non_negative_int, default=18, help="H.264 quality (lower is better, default 18)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--strict", action="store_true",
                   help="treat a damaged input (missing numbered frames, a video shorter than announced) as an error")

    st = sub.add_parser("styles", help="list the shipped styles")
    st.add_argument("--json", action="store_true", help="print a JSON list")

    dm = sub.add_parser("demo", help="stylize the built-in synthetic video call: input | per-frame | frame-diff")
    dm.add_argument("-o", "--output", default="steadystyle-demo.mp4")
    dm.add_argument("--style", default=None)
    dm.add_argument("--seconds", type=_non_negative_float, default=4.0)
    dm.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    dm.add_argument("--quiet", action="store_true")

    _add_train_parser(sub)
    add_command_parsers(sub)
    return p


def _add_train_parser(sub) -> None:
    t = sub.add_parser("train", help="train a style network from a painting")
    t.add_argument("--style-image", required=True, type=Path)
    t.add_argument("--content", required=True, nargs="+", type=Path, help="folders of content photos")
    t.add_argument("-o", "--output", required=True, type=Path, help="MODEL.safetensors")
    t.add_argument("--name", default=None)
    t.add_argument("--variant", choices=("full", "light"), default="light")
    t.add_argument("--image-size", type=_positive_int, default=128)
    t.add_argument("--style-size", type=_positive_int, default=256)
    t.add_argument("--batch-size", type=_positive_int, default=4)
    t.add_argument("--iterations", type=_positive_int, default=2000)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--content-weight", type=_non_negative_float, default=None)
    t.add_argument("--style-weight", type=_non_negative_float, default=None)
    t.add_argument("--tv-weight", type=_non_negative_float, default=None)
    t.add_argument("--loss-network", choices=("vgg19", "vgg16"), default="vgg19")
    t.add_argument("--vgg-weights", default=None, help="loss-network weights file (vgg16: torchvision .pth, or 'download')")
    t.add_argument("--temporal", choices=("none", "c-fdb", "p-fdb"), default="none", help="frame-difference temporal loss")
    t.add_argument("--temporal-pixel-weight", type=_non_negative_float, default=None)
    t.add_argument("--temporal-feature-weight", type=_non_negative_float, default=None)
    t.add_argument("--video-frames", nargs="*", type=Path, default=[], help="folders of consecutive video frames")
    t.add_argument("--init", type=Path, default=None, help="start from a trained model (temporal fine-tuning)")
    t.add_argument("--checkpoint-every", type=_positive_int, default=100)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="auto")
    t.add_argument("--threads", type=_positive_int, default=None)
    t.add_argument("--amp", action="store_true", help="bfloat16 autocast on the CPU (always on for CUDA)")
    t.add_argument("--resume", action="store_true", help="continue from MODEL.ckpt.pt if it exists")
    t.add_argument("--quiet", action="store_true")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("steadystyle")
    except PackageNotFoundError:
        return "dev"


def cmd_stylize(args) -> int:
    from .pipeline import stylize_video
    from .styles import default_style

    stats = stylize_video(args.input, args.output, args.style or default_style(), args.method, method_params(args),
                          max_side=args.max_side, device=args.device, side_by_side_output=args.side_by_side,
                          stats_path=args.stats, progress=not args.quiet, crf=args.crf, strength=args.strength,
                          preserve_colors=args.preserve_colors, strict=args.strict)
    for warning in stats.warnings:
        print(f"steadystyle: warning: {warning}", file=sys.stderr)
    fg = sum(stats.foreground_fraction) / max(1, len(stats.foreground_fraction))
    print(f"wrote {args.output}: {stats.frames} frames, {stats.width}×{stats.height}, style {stats.style}, {args.method}, "
          f"{stats.frames / max(stats.wall_seconds, 1e-9):.1f} fps, mean foreground {fg:.1%}, "
          f"network ran on {stats.stylized_frames} frames")
    return 0


def cmd_styles(args) -> int:
    from .styles import list_styles

    styles = list_styles()
    if args.json:
        print(json.dumps(styles, indent=1))
        return 0
    if not styles:
        print("no shipped styles installed")
        return 0
    print(f"{'name':<22}{'variant':<9}painting")
    for s in styles:
        print(f"{s['name']:<22}{s['variant']:<9}{s['painting']}")
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo

    run_demo(args.output, style=args.style, seconds=args.seconds, device=args.device, progress=not args.quiet)
    return 0


def cmd_train(args) -> int:
    from .train.trainer import TrainConfig, train

    config = TrainConfig(style_image=args.style_image, content=args.content, output=args.output, name=args.name,
                         variant=args.variant, image_size=args.image_size, style_size=args.style_size,
                         batch_size=args.batch_size, iterations=args.iterations, lr=args.lr,
                         loss_network=args.loss_network, vgg_weights=args.vgg_weights, temporal=args.temporal,
                         temporal_pixel_weight=args.temporal_pixel_weight, video_frames=args.video_frames,
                         init=args.init, checkpoint_every=args.checkpoint_every, seed=args.seed, device=args.device,
                         threads=args.threads, amp=args.amp, resume=args.resume, progress=not args.quiet)
    for key in ("content_weight", "style_weight", "tv_weight", "temporal_feature_weight"):
        if getattr(args, key) is not None:
            setattr(config, key, getattr(args, key))
    try:
        path = train(config)
    except KeyboardInterrupt as exc:
        from .train.trainer import interrupted_report

        print(interrupted_report(config, getattr(args, "argv", None)), file=sys.stderr)
        return _interrupt_status(exc)
    print(f"wrote {path}")
    return 0


COMMANDS = {"stylize": cmd_stylize, "styles": cmd_styles, "demo": cmd_demo, "train": cmd_train}


_STOP_SIGNALS = ("SIGTERM", "SIGHUP")


def _raise_on_signals() -> dict[int, object]:
    """Make SIGTERM and SIGHUP raise :class:`Interrupted` (a KeyboardInterrupt) in the main
    thread, so they clean up like Ctrl-C; later signals are ignored while that cleanup runs.
    Returns the previous handlers (empty when not called from the main thread)."""
    import signal
    import threading

    from .errors import Interrupted

    if threading.current_thread() is not threading.main_thread():
        return {}
    fired = False

    def handler(signum: int, frame: object) -> None:
        nonlocal fired
        if not fired:
            fired = True
            raise Interrupted(signum)

    previous: dict[int, object] = {}
    for name in _STOP_SIGNALS:
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, handler)
    return previous


def _interrupt_status(exc: KeyboardInterrupt) -> int:
    """128 + the signal's number (SIGINT: 130)."""
    return 128 + int(getattr(exc, "signum", 2))


def main(argv: list[str] | None = None) -> int:
    import signal

    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    previous = _raise_on_signals()
    try:
        handler = COMMANDS.get(args.command) or args.run
        return handler(args)
    except SteadyStyleError as exc:
        print(f"steadystyle: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print("steadystyle: interrupted; no output was written", file=sys.stderr)
        return _interrupt_status(exc)
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


if __name__ == "__main__":
    sys.exit(main())
