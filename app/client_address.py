"""The real client address behind trusted proxies (pure ASGI: ``scope["client"]``).

Per-address limits (one-time code sends and checks) are only as good as the address they
count. Behind a load balancer every request comes from the balancer, so the balancer's
``X-Forwarded-For`` must be believed; from anyone else the header is a lie anyone can tell.

The rule (the one every proxy-aware server uses): believe the header only when the peer is
a trusted proxy (``HAPPY_TRUSTED_PROXIES``: addresses or CIDR networks, IPv4 and IPv6), then
walk the chain from the right, skipping trusted proxies; the first address that is not one is
the client. Entries left of it were written by the client and are ignored. A malformed entry
ends the walk: the last trusted hop seen is then the best known address. ``uvicorn`` runs
with ``proxy_headers=False`` so that this is the only place that decides.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The peer address as the server saw it, kept for logs when scope["client"] is rewritten.
PEER_SCOPE_KEY = "happy.peer"


def parse_address(text: str) -> IPAddress | None:
    """An address from a header entry: ``1.2.3.4``, ``1.2.3.4:5678``, ``2001:db8::1``,
    ``[2001:db8::1]:443``; IPv4-mapped IPv6 becomes IPv4. None when it is not an address."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # IPv4 with a port; IPv6 has at least two colons
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def resolve_client(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]
) -> str | None:
    """The client's address given the peer and every ``X-Forwarded-For`` header value."""
    if peer is None:
        return None
    peer_address = parse_address(peer)
    if peer_address is None or not _trusted(peer_address, trusted):
        return peer
    chain = [entry for value in forwarded_for for entry in value.split(",") if entry.strip()]
    best = str(peer_address)
    for entry in reversed(chain):
        address = parse_address(entry)
        if address is None:
            return best
        if not _trusted(address, trusted):
            return str(address)
        best = str(address)
    return best


class ClientAddressMiddleware:
    """Sets ``scope["client"]`` to the real client address (see the module docstring)."""

    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[IPNetwork]) -> None:
        self.app = app
        self.trusted = tuple(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"}:
            client = scope.get("client")
            scope[PEER_SCOPE_KEY] = client
            if client and self.trusted:
                forwarded = [
                    value.decode("latin-1")
                    for name, value in scope["headers"]
                    if name == b"x-forwarded-for"
                ]
                host = resolve_client(client[0], forwarded, self.trusted)
                if host is not None and host != client[0]:
                    scope["client"] = (host, 0)
        await self.app(scope, receive, send)
