"""The command line's shared pieces: one argument parser class, the value validators, and the
options that describe a run (style, backend, device, working size, method, controls) with
:func:`run_spec`, which turns them into the one :class:`~steadystyle.spec.RunSpec`.

Every validator raises :class:`argparse.ArgumentTypeError` with a one-line reason; the parser
prints ``steadystyle: error: …`` and exits with status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from ..backends.base import MIN_MAX_SIDE
from ..errors import SteadyStyleError


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, ``steadystyle: error: …``, exit status 2."""

    def error(self, message: str) -> None:
        self.exit(2, f"steadystyle: error: {message}\n")


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def positive_int(text: str) -> int:
    """A whole number ≥ 1."""
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def non_negative_int(text: str) -> int:
    """A whole number ≥ 0."""
    value = _whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must not be negative")
    return value


def odd_kernel(text: str) -> int:
    """An odd kernel size ≥ 1 (pixels)."""
    value = positive_int(text)
    if value % 2 == 0:
        raise argparse.ArgumentTypeError(f"kernel size {value} must be odd")
    return value


def max_side(text: str) -> int:
    """A working size (longer side, pixels) ≥ :data:`~steadystyle.backends.base.MIN_MAX_SIDE`."""
    value = _whole(text)
    if value < MIN_MAX_SIDE:
        raise argparse.ArgumentTypeError(f"{text} must be at least {MIN_MAX_SIDE} pixels")
    return value


def non_negative_float(text: str) -> float:
    """A finite number ≥ 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a finite number ≥ 0")
    return value


def unit_float(text: str) -> float:
    """A number from 0 to 1."""
    value = non_negative_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"{text} must be from 0 to 1")
    return value


_FIELD_TYPES = {"float": non_negative_float, "int": non_negative_int, float: non_negative_float,
                int: non_negative_int}


def add_method_options(parser: argparse.ArgumentParser) -> None:
    """``--method`` from the registry (default :data:`~steadystyle.spec.DEFAULT_METHOD`), and one
    option per field of every method's parameters.

    Options default to None (the method's own default applies); each params dataclass validates
    its values.  A field shared by several methods (e.g. ``threshold``) is one option.
    """
    from ..spec import DEFAULT_METHOD
    from ..stabilize.base import METHODS, method_names

    names = method_names()
    lines = "; ".join(f"{m}: {METHODS[m].summary}" for m in names)
    parser.add_argument("--method", choices=names, default=DEFAULT_METHOD,
                        help=f"stabilization method (default {DEFAULT_METHOD}). {lines}")
    owners: dict[str, list[tuple[str, dataclasses.Field]]] = {}
    for name in names:
        for f in dataclasses.fields(METHODS[name].params):
            owners.setdefault(f.name, []).append((name, f))
    group = parser.add_argument_group("method parameters (each method uses its own; defaults are the method's)")
    for fields in owners.values():
        f = fields[0][1]
        flag = "--" + f.name.replace("_", "-")
        defaults = "; ".join(f"{name}: {field.default}" for name, field in fields)
        text = f.metadata.get("help", "")
        if len(fields) > 1 and text.startswith(fields[0][0] + ": "):  # one option for several methods: name them all
            text = ", ".join(name for name, _ in fields) + text[len(fields[0][0]):]
        help_text = f"{text} [{defaults}]"
        if f.type in ("bool", bool):
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            group.add_argument(flag, dest=f.name, type=_FIELD_TYPES.get(f.type, str), default=None, help=help_text)


def method_params(args: argparse.Namespace) -> Any:
    """The params dataclass of ``args.method`` from the parsed options.

    A parameter given on the command line that belongs only to other methods is a one-line error
    (it would otherwise be silently ignored).
    """
    from ..stabilize.base import METHODS, make_params

    own = {f.name for f in dataclasses.fields(METHODS[args.method].params)}
    for name, method in METHODS.items():
        for f in dataclasses.fields(method.params):
            if f.name not in own and getattr(args, f.name, None) is not None:
                raise SteadyStyleError(f"--{f.name.replace('_', '-')} is a parameter of --method {name}, "
                                       f"not of --method {args.method}")
    return make_params(args.method, **vars(args))


def add_control_options(parser: argparse.ArgumentParser) -> None:
    """``--strength``, ``--steadiness``, ``--preserve-colors`` and ``--face-detail`` (on by
    default in every entry point: :func:`~steadystyle.face.default_face_detail`)."""
    parser.add_argument("--strength", type=unit_float, default=1.0,
                        help="style strength: 1 = full style (default), 0 = the unchanged input")
    parser.add_argument("--steadiness", type=unit_float, default=1.0,
                        help="0–1: 1 = the method's steadiest (default), 0 = per-frame; between, each frame's "
                             "fresh stylization is blended in (fresher texture, more flicker, a full pass a frame)")
    parser.add_argument("--preserve-colors", action="store_true",
                        help="keep the input's colours, take only the style's luminance (faces keep their colour)")
    if not any("--face-detail" in a.option_strings for a in parser._actions):
        from ..face import default_face_detail

        default = default_face_detail()
        parser.add_argument("--face-detail", type=unit_float, default=default,
                            help=f"0–1: on detected faces, bring back this much of the input so faces stay "
                                 f"recognisable (default {default:g}; 0 = the pure painting)")


def add_run_options(parser: argparse.ArgumentParser, *, working_size: bool = True, method: bool = True) -> None:
    """The options of a :class:`~steadystyle.spec.RunSpec`: ``--style``, ``--backend``,
    ``--device``, ``--max-side`` (``working_size``), the method and its parameters (``method``),
    and the controls.  :func:`run_spec` reads them back."""
    from ..backends import BACKENDS

    parser.add_argument("--style", default=None, help="shipped style name (see 'steadystyle styles') or model file path")
    parser.add_argument("--backend", default="auto", choices=BACKENDS,
                        help="where the network runs (default auto: the fastest installed for the device)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    if not any("--threads" in a.option_strings for a in parser._actions):
        parser.add_argument("--threads", type=positive_int, default=None,
                            help="CPU threads for the network (default: the backend's, every core)")
    if working_size:
        parser.add_argument("--max-side", type=max_side, default=None,
                            help="run the network with the longer side at most N pixels (sets stroke scale, saves memory)")
    if method:
        add_method_options(parser)
    add_control_options(parser)


def run_spec(args: argparse.Namespace, **overrides: Any):
    """The :class:`~steadystyle.spec.RunSpec` the options of :func:`add_run_options` describe."""
    from ..spec import RunSpec

    values: dict[str, Any] = {"style": getattr(args, "style", None), "backend": getattr(args, "backend", "auto"),
                              "device": getattr(args, "device", "auto"), "max_side": getattr(args, "max_side", None),
                              "strength": getattr(args, "strength", 1.0),
                              "preserve_colors": getattr(args, "preserve_colors", False),
                              "face_detail": getattr(args, "face_detail", 0.0),
                              "steadiness": getattr(args, "steadiness", 1.0),
                              "threads": getattr(args, "threads", None)}
    if getattr(args, "method", None) is not None:
        values["method"], values["params"] = args.method, method_params(args)
    values.update(overrides)
    return RunSpec(**values)


def warn(message: str) -> None:
    """One ``steadystyle: warning: …`` line on standard error."""
    print(f"steadystyle: warning: {message}", file=sys.stderr)


__all__ = ["Parser", "positive_int", "non_negative_int", "odd_kernel", "max_side", "non_negative_float", "unit_float",
           "add_method_options", "method_params", "add_control_options", "add_run_options", "run_spec", "warn"]
