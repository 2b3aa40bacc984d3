"""The stabilizer protocol and the method registry.

A *stabilizer* turns the stream of input frames I(t) and (on demand) stylizations S(t) into the
output stream O(t).  It is a small stateful object:

- ``reset()`` forgets everything: the next call starts a new clip;
- ``__call__(frame, stylize) -> output``: ``frame`` is I(t), an H×W×3 uint8 RGB array; ``stylize``
  is how the stabilizer asks for a stylization — ``stylize()`` returns S(t) for the whole frame
  (H×W×3 uint8 RGB), ``stylize(box)`` returns only the region ``box`` (a :class:`Box`), as an
  h×w×3 uint8 array.  A stabilizer calls it only when it needs new pixels, so a still frame costs
  no network pass.  The output is a new H×W×3 uint8 RGB array.
- ``last_foreground_fraction``: the fraction of pixels that took new stylized values at the last
  call (1.0 on a first frame, 0.0 when ``stylize`` was not called).

A change of frame size starts a new clip (the stabilizer resets itself instead of failing).

Methods register themselves by name with :func:`register`; :func:`make_stabilizer` builds one
from a name and parameters, and the CLI builds its options from each method's parameter
dataclass (the ``help`` in each field's metadata), so adding a method needs no change anywhere
else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import SteadyStyleError
from ..geometry import Box



class Stylize(Protocol):
    """``stylize()`` → S(t), H×W×3 uint8; ``stylize(box)`` → S(t)[box], h×w×3 uint8."""

    def __call__(self, box: Box | None = None) -> np.ndarray: ...


@runtime_checkable
class Stabilizer(Protocol):
    """What the frame loop needs from a stabilization method (see the module docstring)."""

    last_foreground_fraction: float

    def reset(self) -> None: ...

    def __call__(self, frame: np.ndarray, stylize: Stylize) -> np.ndarray: ...


@dataclass(frozen=True)
class NoParams:
    """A method without parameters."""


@dataclass(frozen=True)
class Method:
    """A registered stabilization method.

    name: what users type (``--method NAME``).  factory: builds the stabilizer from a params
    instance.  params: the frozen dataclass of its parameters; each field's metadata may hold
    ``help`` (for the CLI) and the field's default is the method's default.
    summary: one line for ``--help`` and reports.
    """

    name: str
    factory: Callable[[Any], Stabilizer]
    params: type
    summary: str


METHODS: dict[str, Method] = {}


def register(name: str, params: type = NoParams, summary: str = "") -> Callable[[type], type]:
    """Class decorator: make a stabilizer class available as ``--method name``.

    The class is built as ``cls(params_instance)`` (or ``cls()`` for :class:`NoParams`).
    """

    def decorate(cls: type) -> type:
        if name in METHODS:
            raise ValueError(f"method {name!r} is registered twice")
        factory = (lambda p: cls()) if params is NoParams else cls
        METHODS[name] = Method(name, factory, params, summary or (cls.__doc__ or "").strip().splitlines()[0])
        return cls

    return decorate


def method_names() -> list[str]:
    """The registered method names, in registration order."""
    _load_builtin_methods()
    return list(METHODS)


def get_method(name: str) -> Method:
    """The registered method ``name``; a one-line error naming the choices otherwise."""
    _load_builtin_methods()
    if name not in METHODS:
        raise SteadyStyleError(f"unknown method {name!r}; choose {', '.join(METHODS)}")
    return METHODS[name]


def make_params(method: str, /, **values: Any) -> Any:
    """The params dataclass of ``method`` from keyword values; unknown names are ignored,
    ``None`` values take the method's default.  Validation happens in the dataclass."""
    spec = get_method(method)
    names = {f.name for f in dataclasses.fields(spec.params)}
    try:
        return spec.params(**{k: v for k, v in values.items() if k in names and v is not None})
    except (TypeError, ValueError) as exc:  # e.g. a word where a number belongs
        raise SteadyStyleError(f"method {method!r}: a parameter has a value of the wrong kind ({exc})") from None


def make_stabilizer(method: str, params: Any = None, /, **values: Any) -> Stabilizer:
    """A fresh stabilizer for ``method``, from a params instance or from keyword values."""
    spec = get_method(method)
    if params is None:
        params = make_params(method, **values)
    elif not isinstance(params, spec.params):
        raise SteadyStyleError(f"method {method!r} takes {spec.params.__name__}, got {type(params).__name__}")
    return spec.factory(params)


def params_dict(params: Any) -> dict[str, Any]:
    """A params dataclass as a plain dict (for stats and reports)."""
    return dataclasses.asdict(params) if dataclasses.is_dataclass(params) else {}


def _load_builtin_methods() -> None:
    """Import the modules that register the built-in methods (idempotent)."""
    from . import builtin  # noqa: F401


__all__ = ["Box", "Stylize", "Stabilizer", "NoParams", "Method", "METHODS", "register", "method_names", "get_method",
           "make_params", "make_stabilizer", "params_dict"]
