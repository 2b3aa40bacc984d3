"""ICE on the serving interface only: a call served on loopback keeps every packet on loopback.

aiortc gathers its ICE candidates with :func:`aioice.ice.get_host_addresses`, which lists every
interface but leaves out ``127.0.0.1`` — so a loopback-only machine gathers nothing and a
server on 127.0.0.1 still opens sockets on (and sends checks from) every other interface.
Here:

- :func:`ice_addresses` says which local addresses a call may use, from the address served on:
  ``127.0.0.1``/``localhost`` → ``127.0.0.1``; ``::1`` → ``::1``; a specific address → that
  address; a wildcard (``0.0.0.0``, ``::``, empty) → every interface (aioice's own choice);
- :func:`ice_policy` adds whom a call may talk to: on a LAN address, that subnet; on loopback,
  ``peers="host"`` (the default) allows loopback and this machine's own interface addresses —
  browsers offer no loopback candidate (Chromium only with
  ``--allow-loopback-in-peer-connection``), so a browser on the same machine reaches our
  loopback candidate from its LAN address, and the answers to it still never leave the machine
  — while ``peers="loopback"`` allows 127.0.0.0/8 (or ::1) only (the tests: every packet on
  loopback);
- :func:`gather_on` restricts the peer connections set up inside it (a context variable read
  by wrappers around aioice, installed once; outside it aioice behaves as shipped): they gather
  on the allowed addresses only, and drop checks and candidates from outside the allowed peers;
- :func:`keep_candidates` drops those candidates from a remote SDP too, so no check is ever sent
  elsewhere (and, on loopback, no mDNS name is resolved on the LAN).
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

_POLICY: contextvars.ContextVar[IcePolicy | None] = contextvars.ContextVar("steadystyle_ice_policy", default=None)

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


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(addresses: Sequence[str]) -> list[Network]:
    """The networks of ``addresses`` (loopback: all of 127.0.0.0/8 and ::1; an interface address:
    its subnet as the interface declares it, else that one address)."""
    out: list[Network] = []
    for text in addresses:
        ip = ipaddress.ip_address(text)
        if ip.is_loopback:
            out.append(ipaddress.ip_network("::1/128" if ip.version == 6 else "127.0.0.0/8"))
            continue
        out.append(ipaddress.ip_network(f"{ip}/{_prefix(ip)}", strict=False))
    return out


def host_addresses() -> list[str]:
    """Every address of this machine's interfaces (IPv6 link-local left out)."""
    import ifaddr

    found = []
    for adapter in ifaddr.get_adapters():
        for entry in adapter.ips:
            address = entry.ip if isinstance(entry.ip, str) else entry.ip[0]
            try:
                ip = ipaddress.ip_address(address.split("%")[0])
            except ValueError:
                continue
            if not ip.is_link_local:
                found.append(str(ip))
    return found


@dataclass(frozen=True)
class IcePolicy:
    """Where a call's ICE runs.  addresses: local addresses to gather on (None: every interface).
    peers: networks remote candidates and checks may come from (None: any).  names: whether
    remote host names (mDNS ``.local``) are resolved."""

    addresses: tuple[str, ...] | None = None
    peers: tuple[Network, ...] | None = None
    names: bool = True


def ice_policy(host: str, peers: str = "host") -> IcePolicy:
    """The policy for a server on ``host``; ``peers``: ``host`` or ``loopback`` (see above)."""
    if peers not in ("host", "loopback"):
        raise ValueError(f"peers must be 'host' or 'loopback' (got {peers!r})")
    addresses = ice_addresses(host)
    if addresses is None:
        return IcePolicy()
    nets = networks(addresses)
    loopback = all(net.is_loopback for net in nets)
    if loopback and peers == "host":
        nets += [ipaddress.ip_network(a) for a in host_addresses()]
    return IcePolicy(addresses, tuple(nets), names=not loopback)


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


def allowed(address: str, nets: Sequence[Network]) -> bool:
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
    - ``Connection.gather_candidates`` notes the allowed peers on the connection;
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
        policy = _POLICY.get()
        if policy is None or policy.addresses is None:
            return original(use_ipv4, use_ipv6)
        return [a for a in policy.addresses if (use_ipv6 if ":" in a else use_ipv4)]

    get_host_addresses.steadystyle_wrapped = True  # type: ignore[attr-defined]
    ice.get_host_addresses = get_host_addresses
    connection = ice.Connection
    gather, request, add_remote = (connection.gather_candidates, connection.request_received,
                                   connection._add_remote_candidate)

    async def gather_candidates(self, *args, **kwargs):
        policy = _POLICY.get()
        if policy is not None and policy.peers is not None:
            self.steadystyle_networks = policy.peers
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
def gather_on(policy: IcePolicy | Sequence[str] | None) -> Iterator[None]:
    """Peer connections that gather inside this block (in this task) follow ``policy`` (a list of
    addresses: gather there and talk to their networks only; None: aioice's own behaviour)."""
    install()
    if policy is not None and not isinstance(policy, IcePolicy):
        addresses = tuple(policy)
        policy = IcePolicy(addresses, tuple(networks(addresses)), names=False)
    token = _POLICY.set(policy)
    try:
        yield
    finally:
        _POLICY.reset(token)


def keep_candidates(sdp: str, policy: IcePolicy) -> str:
    """``sdp`` without the ``a=candidate`` lines whose address lies outside ``policy.peers``
    (host names kept only when ``policy.names``)."""
    if policy.peers is None:
        return sdp
    newline = "\r\n" if "\r\n" in sdp else "\n"
    kept = []
    for line in sdp.split(newline):
        if line.startswith("a=candidate:"):
            fields = line.split()
            if len(fields) < 6:
                continue
            try:
                ipaddress.ip_address(fields[4].split("%")[0])
            except ValueError:  # a host name (mDNS)
                if policy.names:
                    kept.append(line)
                continue
            if not allowed(fields[4], policy.peers):
                continue
        kept.append(line)
    return newline.join(kept)


__all__ = ["IcePolicy", "ice_policy", "ice_addresses", "host_addresses", "gather_on", "keep_candidates", "networks",
           "allowed", "install"]
