"""One description of a run, and the one place that builds what runs from it.

A :class:`RunSpec` says which style on which backend and device, at which working size, with
which stabilization method and parameters, and with which controls (strength, colours).  Every
entry point — ``stylize``, ``demo``, ``live``, ``serve``, ``study``, ``evaluate``, ``bench``,
``batch`` — describes its run with one and builds the :class:`~steadystyle.loop.Processor` with
:meth:`RunSpec.processor`, so every entry point gets every backend and the same defaults.

>>> from steadystyle.spec import RunSpec
>>> spec = RunSpec(style="scream", method="frame-diff")
>>> processor = spec.processor()                                   # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .backends import BACKENDS, make_stylizer
from .backends.base import Stylizer, check_max_side
from .color import check_strength
from .errors import SteadyStyleError

#: The stabilization method every entry point starts with (the CLI's ``--method`` default).
DEFAULT_METHOD = "adaptive"


def default_style_name() -> str:
    """The shipped style every entry point uses when none is named."""
    from .styles import default_style

    return default_style()


@dataclass(frozen=True)
class RunSpec:
    """Everything that decides what one stream's frames become.

    style: a shipped style name, a model file, a loaded ``StyleModel``, or a stylizer already
    built (then ``backend``/``device``/``max_side`` are its own).  backend: ``auto`` or a name in
    :data:`~steadystyle.backends.BACKENDS`.  device: ``auto``, ``cpu``, ``cuda``.  max_side: the
    network's working size (longer side, pixels; None = the frame's own).  method: a registered
    stabilization method; params: its params dataclass (None = the method's defaults).
    strength: 0–1 blend with the input.  preserve_colors: keep the input's colours.
    face_detail: 0 (off) to 1: on the faces a detector finds, how much of the input's detail
    comes back (feathered, tracked, before the stabilizer; ``steadystyle.face``).
    threads: CPU threads of the network (None: the backend's default, every core).
    steadiness: 0 (per-frame) to 1 (the method alone, the default): below 1 each frame's full
    stylization is blended in (:class:`~steadystyle.loop.Processor`).
    """

    style: Any = None
    backend: str = "auto"
    device: str = "auto"
    max_side: int | None = None
    method: str = DEFAULT_METHOD
    params: Any = None
    strength: float = 1.0
    preserve_colors: bool = False
    face_detail: float = 0.0
    threads: int | None = None
    steadiness: float = 1.0

    def __post_init__(self) -> None:
        if self.style is None:
            object.__setattr__(self, "style", default_style_name())
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise SteadyStyleError(f"threads must be a whole number ≥ 1, got {self.threads!r}")
        if self.backend not in BACKENDS:
            raise SteadyStyleError(f"unknown backend {self.backend!r}; choose {', '.join(BACKENDS)}")
        object.__setattr__(self, "max_side", check_max_side(self.max_side))
        object.__setattr__(self, "strength", check_strength(self.strength))
        from .loop import check_steadiness

        object.__setattr__(self, "steadiness", check_steadiness(self.steadiness))
        from .face import check_face_detail

        object.__setattr__(self, "face_detail", check_face_detail(self.face_detail))
        from .stabilize.base import get_method

        method = get_method(self.method)
        if self.params is None:
            object.__setattr__(self, "params", method.params())
        elif not isinstance(self.params, method.params):
            raise SteadyStyleError(f"method {self.method!r} takes {method.params.__name__}, "
                                   f"got {type(self.params).__name__}")

    def replace(self, **changes: Any) -> RunSpec:
        """A copy with ``changes``; a new ``method`` without ``params`` takes that method's defaults."""
        if "method" in changes and "params" not in changes and changes["method"] != self.method:
            changes["params"] = None
        return dataclasses.replace(self, **changes)

    @property
    def style_name(self) -> str:
        """The style as people read it: a shipped name, a file's stem, or the model's name."""
        name = getattr(self.style, "name", None)
        return str(name) if name is not None else str(self.style)

    def style_file(self) -> Path | None:
        """The model file the style is read from (a shipped style's too), or None when the style
        is no file (a loaded model, a stylizer, a name that names nothing yet): what a command
        names among the files it reads, so nothing it writes (``--stats``, ``--record`` …) can
        replace the model."""
        if isinstance(self.style, (str, os.PathLike)):
            from .styles import style_paths

            shipped = style_paths()
            if isinstance(self.style, str) and self.style in shipped:
                return shipped[self.style]
            path = Path(os.path.expanduser(os.fspath(self.style)))
            return path if path.exists() else None
        path = getattr(self.style, "path", None)
        return Path(path) if isinstance(path, (str, os.PathLike)) and str(path) else None

    def stylizer(self) -> Stylizer:
        """The stylizer this spec describes (the only factory: :func:`steadystyle.backends.make_stylizer`)."""
        return make_stylizer(self.style, backend=self.backend, device=self.device, max_side=self.max_side,
                             threads=self.threads)

    def stabilizer(self):
        """A fresh stabilizer of ``method`` with ``params``."""
        from .stabilize.base import make_stabilizer

        return make_stabilizer(self.method, self.params)

    def processor(self, *, stylizer: Stylizer | None = None, timed: bool = False):
        """The :class:`~steadystyle.loop.Processor` for one stream.  ``stylizer``: reuse one built
        already (e.g. shared by the streams of one server); ``timed``: wait for the device after
        each network pass so timings are the network's own."""
        from .loop import Processor

        stylizer = stylizer if stylizer is not None else self.stylizer()
        return Processor(stylizer, self.stabilizer(), strength=self.strength, preserve_colors=self.preserve_colors,
                         face_detail=self.face_detail, steadiness=self.steadiness, sync=stylizer.synchronize if timed else None)

    def describe(self) -> dict[str, Any]:
        """The spec as plain JSON-ready values (for statistics and reports)."""
        from .stabilize.base import params_dict

        return {"style": self.style_name, "backend": self.backend, "device": self.device, "max_side": self.max_side,
                "method": self.method, "params": params_dict(self.params), "strength": self.strength,
                "preserve_colors": self.preserve_colors, "face_detail": self.face_detail, "threads": self.threads,
                "steadiness": self.steadiness}


__all__ = ["RunSpec", "DEFAULT_METHOD", "default_style_name"]
