"""Importing this module registers the built-in stabilization methods (one line per module)."""

from . import perframe, framediff  # noqa: F401  (order = order in --help)
from . import flow, adaptive  # noqa: F401
from . import steady  # noqa: F401
