"""Refuse cross-site requests: a state-changing request must come from the server's own pages.

A browser sends ``Origin`` with every cross-origin ``POST`` (even a "simple" ``text/plain`` one
that needs no preflight), so a foreign page could otherwise open calls (taking the slots) or
store study votes.  A request whose ``Origin`` is not this server's own (scheme and ``Host``) is
refused with 403; so is one whose ``Host`` is not a loopback name when serving on loopback (a
DNS-rebinding page has its own origin *and* host).  Requests without ``Origin`` (curl, scripts)
are not a browser's cross-site request and pass.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from .config import BadRequest

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def is_loopback_name(host: str) -> bool:
    """Whether ``host`` (a host name or address, no port) names this machine's loopback."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_origin(request, loopback: bool) -> None:
    """Raise :class:`~steadystyle.web.config.BadRequest` (403) for a state-changing ``request``
    from a foreign origin.  ``loopback``: the server listens on loopback only."""
    if request.method not in STATE_CHANGING:
        return
    origin = request.headers.get("Origin")
    if origin is None:
        return
    own = f"{request.scheme}://{request.host}".lower()
    if origin.lower() != own:
        raise BadRequest(f"refused: a request from {origin} (this server is {own})", 403)
    if loopback and not is_loopback_name(urlsplit(own).hostname or ""):
        raise BadRequest(f"refused: {request.host} is not a loopback name", 403)


__all__ = ["check_origin", "is_loopback_name"]
