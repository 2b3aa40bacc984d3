"""Where backends keep what they derive from a model (exported graphs): one folder."""

from __future__ import annotations

import os


def cache_dir() -> str:
    """Folder for exported graphs: ``$STEADYSTYLE_CACHE`` or ``~/.cache/steadystyle``."""
    return os.environ.get("STEADYSTYLE_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "steadystyle")


__all__ = ["cache_dir"]
