"""ICE on the serving interface only: a call served on loopback keeps every packet on loopback.

aiortc gathers its ICE candidates with :func:`aioice.ice.get_host_addresses`, which lists every
interface but leaves out ``127.0.0.1`` — so a loopback-only machine gathers nothing and a
server on 127.0.0.1 still opens sockets on (and sends checks from) every other interface.
Here:

- :func:`ice_addresses` says which local addresses a call may use, from the address served on:
  ``127.0.0.1``/``localhost`` → ``127.0.0.1``; ``::1`` → ``::1``; a specific address → that
  address; a wildcard (``0.0.0.0``, ``::``, empty) → every interface (aioice's own choice);
- :func:`gather_on` restricts gathering of the peer connections set up inside it (a context
  variable read by a wrapper around aioice's function, installed once; outside it aioice
  behaves as shipped);
- :func:`keep_candidates` drops from a remote SDP the candidates outside the allowed networks,
  so no check is ever sent elsewhere (and, on loopback, no mDNS name is resolved on the LAN);
  checks that arrive from outside them are dropped too (:func:`install`) — a browser pairs its
  LAN address with our loopback candidate, and answering it would send to the LAN address.

Chromium offers a loopback candidate only with ``--allow-loopback-in-peer-connection``.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import socket
from collections.abc import Iterator, Sequence

_ADDRESSES: contextvars.ContextVar[tuple[str, ...] | None] = contextvars.ContextVar(
    "steadystyle_ice_addresses", default=None)

WILDCARDS = ("", "0.0.0.0", "::", "*")
LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def ice_addresses(host: str) -> tuple[str, ...] | None:
    """The local addresses ICE may use when serving on ``host`` (None: every interface)."""
    host = (host or "").strip().strip("[]")
    if host in WILDCARDS:
        return None
    if host.lower() in LOOPBACK_NAMES:
        return ("127.0.0.1",)
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
        ip = ipaddress.ip_address(infos[0][4][0])
    if ip.is_unspecified:
        return None
    if ip.is_loopback:
        return ("::1",) if ip.version == 6 else ("127.0.0.1",)
    return (str(ip),)


def networks(addresses: Sequence[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The networks of ``addresses`` (loopback: all of 127.0.0.0/8 and ::1; an interface address:
    its subnet as the interface declares it, else that one address)."""
    out: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for text in addresses:
        ip = ipaddress.ip_address(text)
        if ip.is_loopback:
            out.append(ipaddress.ip_network("::1/128" if ip.version == 6 else "127.0.0.0/8"))
            continue
        out.append(ipaddress.ip_network(f"{ip}/{_prefix(ip)}", strict=False))
    return out


def _prefix(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> int:
    """The prefix length of the interface holding ``ip`` (a host prefix when none is found)."""
    import ifaddr

    for adapter in ifaddr.get_adapters():
        for entry in adapter.ips:
            address = entry.ip if isinstance(entry.ip, str) else entry.ip[0]
            try:
                if ipaddress.ip_address(address.split("%")[0]) == ip:
                    return int(entry.network_prefix)
            except ValueError:
                continue
    return ip.max_prefixlen


def allowed(address: str, nets: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    """Whether the IP ``address`` lies in one of ``nets`` (a host name never does)."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in nets)


def install() -> None:
    """Wrap aioice once so that :func:`gather_on` restricts a connection gathered inside it.

    - :func:`aioice.ice.get_host_addresses`: only the allowed addresses are gathered;
    - ``Connection.gather_candidates`` notes the allowed networks on the connection;
    - ``Connection.request_received``: a check from outside those networks is dropped, so no
      peer-reflexive candidate (and no reply) is ever made for another interface;
    - ``Connection._add_remote_candidate``: a remote candidate outside them is ignored.

    Connections gathered outside :func:`gather_on` behave as aioice ships them.
    """
    import aioice.ice as ice

    original = ice.get_host_addresses
    if getattr(original, "steadystyle_wrapped", False):
        return

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        chosen = _ADDRESSES.get()
        if chosen is None:
            return original(use_ipv4, use_ipv6)
        return [a for a in chosen if (use_ipv6 if ":" in a else use_ipv4)]

    get_host_addresses.steadystyle_wrapped = True  # type: ignore[attr-defined]
    ice.get_host_addresses = get_host_addresses
    connection = ice.Connection
    gather, request, add_remote = (connection.gather_candidates, connection.request_received,
                                   connection._add_remote_candidate)

    async def gather_candidates(self, *args, **kwargs):
        chosen = _ADDRESSES.get()
        if chosen is not None:
            self.steadystyle_networks = networks(chosen)
        return await gather(self, *args, **kwargs)

    def request_received(self, message, addr, protocol, *args, **kwargs):
        nets = getattr(self, "steadystyle_networks", None)
        if nets is not None and not allowed(addr[0], nets):
            return None
        return request(self, message, addr, protocol, *args, **kwargs)

    def _add_remote_candidate(self, remote_candidate, network_host, *args, **kwargs):
        nets = getattr(self, "steadystyle_networks", None)
        if nets is not None and not allowed(network_host, nets):
            return None
        return add_remote(self, remote_candidate, network_host, *args, **kwargs)

    connection.gather_candidates = gather_candidates
    connection.request_received = request_received
    connection._add_remote_candidate = _add_remote_candidate


@contextlib.contextmanager
def gather_on(addresses: Sequence[str] | None) -> Iterator[None]:
    """Peer connections that gather inside this block (in this task) use only ``addresses``
    (None: every interface)."""
    install()
    token = _ADDRESSES.set(None if addresses is None else tuple(addresses))
    try:
        yield
    finally:
        _ADDRESSES.reset(token)


def keep_candidates(sdp: str, addresses: Sequence[str] | None) -> str:
    """``sdp`` without the ``a=candidate`` lines whose address lies outside the networks of
    ``addresses`` (None: unchanged).  Host names (mDNS ``.local``) are kept only when the
    allowed networks are not loopback."""
    if addresses is None:
        return sdp
    allowed = networks(addresses)
    loopback_only = all(net.is_loopback for net in allowed)
    newline = "\r\n" if "\r\n" in sdp else "\n"
    kept = []
    for line in sdp.split(newline):
        if line.startswith("a=candidate:"):
            fields = line.split()
            if len(fields) < 6:
                continue
            try:
                ip = ipaddress.ip_address(fields[4].split("%")[0])
            except ValueError:  # a host name (mDNS)
                if loopback_only:
                    continue
                kept.append(line)
                continue
            if not any(ip.version == net.version and ip in net for net in allowed):
                continue
        kept.append(line)
    return newline.join(kept)


__all__ = ["ice_addresses", "gather_on", "keep_candidates", "networks", "allowed", "install"]
