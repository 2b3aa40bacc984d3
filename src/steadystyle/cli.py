"""The ``steadystyle`` command: a thin layer over the Python API.

Each subcommand is a module of :mod:`steadystyle.commands` with ``add_parser(sub)``, which sets
``run`` (parsed arguments → exit status); this module only parses, dispatches and turns errors
into one line.  Known user errors (:class:`SteadyStyleError`) and argument errors print
``steadystyle: error: …`` and exit with status 2; Ctrl-C exits with 130, SIGTERM/SIGHUP with
128 + the signal, leaving no partial output behind.
"""

from __future__ import annotations

import argparse
import sys

from .commands.options import Parser
from .commands.options import add_control_options, add_method_options, method_params  # noqa: F401  (API names)
from .commands.options import non_negative_float as _non_negative_float  # noqa: F401
from .commands.options import non_negative_int as _non_negative_int  # noqa: F401
from .commands.options import positive_int as _positive_int  # noqa: F401
from .errors import SteadyStyleError


def build_parser() -> argparse.ArgumentParser:
    from .commands import add_command_parsers

    p = Parser(prog="steadystyle", description="Flicker-free neural style transfer for video and video calls.")
    p.add_argument("--version", action="version", version=f"steadystyle {_version()}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    add_command_parsers(sub)
    return p


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("steadystyle")
    except PackageNotFoundError:
        return "dev"


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
    previous = _raise_on_signals()  # first: building the parser imports the commands (torch, seconds)
    try:
        args = build_parser().parse_args(argv)
        args.argv = argv
        return args.run(args)
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
