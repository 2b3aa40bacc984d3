"""The shipped styles: ``*.safetensors`` in this folder, each with a ``*.jpg`` preview.

A style is named by its file stem (``scream``, ``udnie-full`` …). :func:`load_style` takes a
shipped name or a path to a model file (ours or a pytorch/examples ``.pth``).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import SteadyStyleError
from ..weights import StyleModel, load_model, read_metadata

STYLES_DIR = Path(__file__).parent


def style_paths() -> dict[str, Path]:
    """Shipped style name → file, sorted by name."""
    return {p.stem: p for p in sorted(STYLES_DIR.glob("*.safetensors"))}


def list_styles() -> list[dict]:
    """One dict per shipped style: name, painting, variant, path, preview and the rest of its metadata."""
    out = []
    for name, path in style_paths().items():
        meta = read_metadata(path)
        preview = path.with_suffix(".jpg")
        out.append({"name": name, "painting": meta.get("painting", "unknown"), "variant": meta.get("variant", "custom"),
                    "path": str(path), "preview": str(preview) if preview.is_file() else None,
                    **{k: v for k, v in meta.items() if k not in ("name", "painting", "variant", "settings")}})
    return out


def default_style() -> str:
    """The style the demo and the CLI use when none is named."""
    names = style_paths()
    if not names:
        raise SteadyStyleError("no shipped styles are installed; pass --style PATH to a model file")
    return "scream" if "scream" in names else next(iter(names))


def load_style(name_or_path: str | os.PathLike) -> StyleModel:
    """A shipped style by name, or a model file by path (``.safetensors``, ``.pth``, ``.model``)."""
    text = str(name_or_path)
    shipped = style_paths()
    if text in shipped:
        return load_model(shipped[text])
    path = Path(text).expanduser()
    if path.is_dir():
        raise SteadyStyleError(f"{path}: is a folder, not a style; give a shipped style name or a model file "
                               f"(.safetensors, .pth)")
    if path.exists() or path.suffix in (".safetensors", ".pth", ".model", ".pt"):
        return load_model(path)
    known = ", ".join(shipped) or "none installed"
    raise SteadyStyleError(f"unknown style {text!r} (shipped styles: {known}; or give a path to a model file)")
