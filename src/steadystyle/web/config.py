"""What ``steadystyle serve`` offers (:class:`ServerConfig`) and how a request is checked.

Every request body and control message is validated here before it reaches a call: a bad one
is a :class:`BadRequest` (a one-line message and an HTTP status), never a disturbed call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import SteadyStyleError
from ..spec import RunSpec, default_style_name

MAX_OFFER_BYTES = 64 * 1024  # a browser offer is a few KB
MAX_CONTROL_BYTES = 4 * 1024
DEFAULT_SIZES = ("160x120", "320x240", "480x360", "640x480")
CONTROL_KEYS = ("style", "method", "strength", "steadiness", "face_detail", "preserve_colors", "size")


class BadRequest(SteadyStyleError):
    """A client error: ``status`` is the HTTP status to answer with (400 unless told)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def parse_size(text: Any, allowed: Sequence[str]) -> tuple[int, int]:
    """``"WxH"`` (one of ``allowed``) → (width, height) in pixels; :class:`BadRequest` otherwise."""
    if not isinstance(text, str) or text not in allowed:
        raise BadRequest(f"size must be one of {', '.join(allowed)} (got {text!r})")
    w, h = (int(v) for v in text.split("x"))
    return w, h


@dataclass
class ServerConfig:
    """What the server offers.

    spec: the run every call starts from (style, backend, device, max_side, method + params,
    strength, colours); its ``style`` names the starting style among ``styles`` (or is one of
    their values).  styles: the styles the page may pick, name → what
    :class:`~steadystyle.spec.RunSpec` takes as ``style`` (a shipped name, a model file, or a
    stylizer already built); a list of shipped names, or nothing for every shipped style.
    size: the processing size (``WxH``) a call starts with, one of ``sizes``.  max_sessions:
    calls served at once (more get 503).  connect_timeout: seconds a new call may take to
    connect before it is dropped.  gather_timeout: seconds the page waits for its ICE
    candidates.  host: the address served on — ICE gathers on that interface only (loopback
    when it is a loopback address).  ice_peers: whom a call on loopback may talk to: ``host``
    (loopback and this machine's own addresses: a browser on this machine connects, no packet
    leaves it) or ``loopback`` (127.0.0.0/8 or ::1 only; browsers then need e.g. Chromium's
    ``--allow-loopback-in-peer-connection``).  study_dir: also serve the study prepared there.
    """

    spec: RunSpec | None = None
    styles: Mapping[str, Any] | Sequence[str] = ()
    size: str = "320x240"
    sizes: tuple[str, ...] = DEFAULT_SIZES
    max_sessions: int = 4
    connect_timeout: float = 30.0
    gather_timeout: float = 10.0
    host: str = "127.0.0.1"
    ice_peers: str = "host"
    study_dir: str | None = None
    style: str = field(init=False, default="")  # the starting style's name (a key of ``styles``)

    def __post_init__(self) -> None:
        if isinstance(self.styles, Mapping):
            styles = dict(self.styles)
        else:
            styles = {str(name): name for name in self.styles}
        if not styles:
            from ..styles import list_styles

            styles = {s["name"]: s["name"] for s in list_styles()}
        if not styles:
            raise SteadyStyleError("no styles to serve; install the shipped styles or pass --style")
        self.styles = styles
        spec = self.spec
        if spec is None:
            wanted = default_style_name()
            start = wanted if wanted in styles else next(iter(styles))
            spec = RunSpec(style=start)
        if isinstance(spec.style, str) and spec.style in styles:
            self.style = spec.style
        else:
            named = [name for name, value in styles.items() if value is spec.style or value == spec.style]
            if not named:
                raise SteadyStyleError(f"default style {spec.style_name!r} is not among the served styles "
                                       f"({', '.join(styles)})")
            self.style = named[0]
        self.spec = spec.replace(style=styles[self.style])
        if self.size not in self.sizes:
            raise SteadyStyleError(f"size must be one of {', '.join(self.sizes)}")
        if self.ice_peers not in ("host", "loopback"):
            raise SteadyStyleError(f"ice_peers must be 'host' or 'loopback' (got {self.ice_peers!r})")
        if int(self.max_sessions) < 1:
            raise SteadyStyleError("--max-calls must be at least 1")

    @property
    def run(self) -> RunSpec:
        """The starting :class:`RunSpec` (never None after construction)."""
        assert self.spec is not None
        return self.spec

    def spec_for(self, style: str) -> RunSpec:
        """The starting spec with the served style named ``style``."""
        return self.run.replace(style=self.styles[style])  # type: ignore[index]

    def start_controls(self) -> dict[str, Any]:
        """The controls a call starts with."""
        spec = self.run
        return {"style": self.style, "method": spec.method, "strength": spec.strength,
                "steadiness": spec.steadiness, "face_detail": spec.face_detail,
                "preserve_colors": spec.preserve_colors, "size": self.size}


def _short(value: Any, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters (a 4000-digit number stays one short line)."""
    text = repr(value) if not isinstance(value, int) or abs(value) < 10 ** 30 else "a huge integer"
    return text if len(text) <= limit else text[:limit] + "…"


def check_controls(data: Any, config: ServerConfig) -> dict[str, Any]:
    """Validate a control message (all keys optional) → normalized values; :class:`BadRequest`
    naming the first bad key otherwise."""
    from ..color import check_strength
    from ..stabilize.base import method_names

    if not isinstance(data, dict):
        raise BadRequest("controls must be a JSON object")
    unknown = sorted(set(data) - set(CONTROL_KEYS) - {"type", "id"})
    if unknown:
        raise BadRequest(f"unknown control {unknown[0]!r}; known: {', '.join(CONTROL_KEYS)}")
    out: dict[str, Any] = {}
    if "style" in data:
        if not isinstance(data["style"], str) or data["style"] not in config.styles:
            raise BadRequest(f"unknown style {_short(data['style'])}; choose {', '.join(config.styles)}")
        out["style"] = data["style"]
    if "method" in data:
        if not isinstance(data["method"], str) or data["method"] not in method_names():
            raise BadRequest(f"unknown method {_short(data['method'])}; choose {', '.join(method_names())}")
        out["method"] = data["method"]
    if "strength" in data:
        value = data["strength"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadRequest(f"strength must be a number from 0 to 1 (got {_short(value)})")
        try:
            out["strength"] = check_strength(value)
        except OverflowError:
            raise BadRequest(f"strength must be a number from 0 to 1 (got {_short(value)})") from None
        except SteadyStyleError as exc:
            raise BadRequest(str(exc)) from None
    if "steadiness" in data:
        out["steadiness"] = _unit_number(data["steadiness"], "steadiness", "0 (per-frame) to 1 (the method alone)")
    if "face_detail" in data:
        out["face_detail"] = _unit_number(data["face_detail"], "face_detail", "0 (off) to 1 (the face unstylized)")
        if out["face_detail"] > 0 and not faces_available():
            raise BadRequest("face_detail needs the face models, which this server lacks "
                             "(pip install 'steadystyle[face]'); only 0 (off) is possible")
    if "preserve_colors" in data:
        if not isinstance(data["preserve_colors"], bool):
            raise BadRequest("preserve_colors must be true or false")
        out["preserve_colors"] = data["preserve_colors"]
    if "size" in data:
        parse_size(data["size"], config.sizes)
        out["size"] = data["size"]
    return out


def _unit_number(value: Any, key: str, meaning: str) -> float:
    """A control that is a number from 0 to 1 (a JSON number: not a bool, not NaN/inf, not a
    float-overflowing integer) → float; :class:`BadRequest` naming ``key`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequest(f"{key} must be a number from {meaning} (got {_short(value)})")
    try:
        number = float(value)
    except OverflowError:
        number = float("inf")
    if not 0.0 <= number <= 1.0:  # NaN fails this too
        raise BadRequest(f"{key} must be a number from {meaning} (got {_short(value)})")
    return number


def faces_available() -> bool:
    """Whether this server can run the face-detail control (the face models are installed)."""
    from ..facedetect import detector_available

    return detector_available()


def check_sdp(sdp: str) -> None:
    """The shape of an SDP offer (RFC 8866): ``v=0`` first, ``x=value`` lines, a media section;
    aiortc checks the rest.  :class:`BadRequest` ("malformed offer") otherwise."""
    lines = [line for line in sdp.replace("\r\n", "\n").split("\n") if line]
    if not lines or lines[0] != "v=0":
        raise BadRequest("malformed offer: an SDP starts with 'v=0'")
    for number, line in enumerate(lines, 1):
        if len(line) < 2 or line[1] != "=" or not line[0].isalpha():
            raise BadRequest(f"malformed offer: SDP line {number} is not 'x=value': {line[:40]!r}")
    if not any(line.startswith("m=") for line in lines):
        raise BadRequest("malformed offer: the SDP has no media section")


def parse_json(body: bytes, limit: int) -> Any:
    """A request body (at most ``limit`` bytes) as JSON; :class:`BadRequest` (413 or 400) otherwise."""
    if len(body) > limit:
        raise BadRequest(f"request body too large (at most {limit} bytes)", 413)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("request body is not UTF-8 text") from None
    return loads_strict(text, "request body")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:20]}{'…' if len(text) > 20 else ''} is out of range")
    return value


def loads_strict(text: str, what: str = "message") -> Any:
    """``text`` as strict JSON (RFC 8259): no ``NaN``/``Infinity``, no number that overflows a
    float (``1e999``), no integer past Python's digit limit; :class:`BadRequest` (400) naming
    ``what`` otherwise — never a ``ValueError`` that would become a 500."""
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except RecursionError:
        raise BadRequest(f"{what} is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, the int digit limit, NaN/inf refused above
        reason = str(exc).splitlines()[0][:120]
        raise BadRequest(f"{what} is not valid JSON ({reason})") from None


def check_offer(data: Any, config: ServerConfig) -> tuple[str, dict[str, Any]]:
    """``{"sdp", "type": "offer", [controls]}`` → (sdp, requested controls); :class:`BadRequest`
    otherwise."""
    if not isinstance(data, dict):
        raise BadRequest("the offer must be a JSON object with 'sdp' and 'type'")
    if data.get("type") != "offer":
        raise BadRequest(f"'type' must be \"offer\" (got {data.get('type')!r})")
    sdp = data.get("sdp")
    if not isinstance(sdp, str) or not sdp.strip():
        raise BadRequest("'sdp' must be a non-empty string")
    check_sdp(sdp)
    requested = check_controls({k: v for k, v in data.items() if k not in ("sdp", "type")}, config)
    return sdp, requested


__all__ = ["ServerConfig", "BadRequest", "check_controls", "faces_available", "check_sdp", "check_offer", "parse_size", "parse_json", "loads_strict",
           "MAX_OFFER_BYTES", "MAX_CONTROL_BYTES", "DEFAULT_SIZES", "CONTROL_KEYS"]
