"""What every video of a batch is stylized with: one :class:`~steadystyle.spec.RunSpec` and the
H.264 quality, and the description of them that decides whether a finished output still fits."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SteadyStyleError
from ..spec import RunSpec


def style_file(style: str | os.PathLike) -> Path:
    """The model file of a shipped style name or a path (one-line error when there is none)."""
    from ..styles import style_paths

    shipped = style_paths()
    if isinstance(style, str) and style in shipped:
        return shipped[style]
    path = Path(style).expanduser()
    if not path.is_file():
        known = ", ".join(shipped) or "none installed"
        raise SteadyStyleError(f"unknown style {str(style)!r} (shipped styles: {known}; or give a path to a model file)")
    return path


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_crf(crf: int) -> int:
    """The x264 quality ``crf`` (0 lossless … 51); a one-line error otherwise."""
    if isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= 51:
        raise SteadyStyleError(f"--crf must be a whole number from 0 to 51 (got {crf!r})")
    return crf


@dataclass(frozen=True)
class BatchSettings:
    """What every video of a batch is stylized with.

    spec: the run — its style must be a shipped style name or a model file (its weights are
    hashed for the done-markers and sent once to every worker).  crf: x264 quality, 0–51.
    """

    spec: RunSpec
    crf: int = 18

    def __post_init__(self) -> None:
        if not isinstance(self.spec, RunSpec):
            raise SteadyStyleError(f"BatchSettings.spec must be a RunSpec, got {type(self.spec).__name__}")
        if not isinstance(self.spec.style, (str, os.PathLike)):
            raise SteadyStyleError("a batch's style must be a shipped style name or a model file path")
        check_crf(self.crf)

    @property
    def style(self) -> str:
        """The style as given (a shipped name or a path)."""
        return os.fspath(self.spec.style)

    def backend(self) -> str:
        """The backend ``spec.backend`` means on ``spec.device`` here (``auto`` resolved)."""
        from ..backends import resolve_backend

        return resolve_backend(self.spec.backend, self.spec.device)

    def describe(self, style_sha256: str) -> dict[str, Any]:
        """The settings that decide an output's pixels, as JSON: the style's weights, the backend
        (resolved on this machine), method and params, controls, working size and crf (the device
        is not one of them)."""
        run = self.spec.describe()
        return {"style_sha256": style_sha256, "backend": self.backend(), "method": run["method"],
                "params": run["params"], "strength": float(run["strength"]),
                "preserve_colors": bool(run["preserve_colors"]), "max_side": run["max_side"], "crf": int(self.crf)}


def settings_json(settings: BatchSettings) -> dict[str, Any]:
    """Settings for the JSON report (style name as given, plus the hashed description)."""
    return {"style": settings.style, "device": settings.spec.device,
            **settings.describe(file_sha256(style_file(settings.style)))}


__all__ = ["BatchSettings", "style_file", "file_sha256", "check_crf", "settings_json"]
