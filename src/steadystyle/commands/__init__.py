"""The subcommands, one module each (the one dispatch: ``set_defaults(run=…)``).

Each module named in ``MODULES`` defines ``add_parser(sub)``, which adds its subparser and sets
``run`` (a function of the parsed arguments returning the exit status) with ``set_defaults``.
"""

from __future__ import annotations

import importlib

MODULES = ("stylize", "styles", "demo", "train", "live", "bench", "batch", "serve", "study", "evaluate", "export_onnx")


def add_command_parsers(sub) -> None:
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}").add_parser(sub)
