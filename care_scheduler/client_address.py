"""The client's address when the care service stands behind the product's own balancer.

Behind HAProxy or an ingress every request comes from the proxy: the console's failed-login limit per
address would count every manager as one, and one stranger's wrong passwords would lock them all out.
A request from a trusted proxy (``TRUSTED_PROXIES``) is taken to come from the last address in its
``X-Forwarded-For`` that is not itself a trusted proxy. Anyone else's header is ignored, so a client
cannot name its own address.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Awaitable, Callable, Optional, Sequence, Union

from aiohttp import web

Network = Union[IPv4Network, IPv6Network]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in proxies)


def client_address(peer: Optional[str], forwarded_for: Sequence[str], proxies: Sequence[Network]) -> Optional[str]:
    """Who sent the request: ``peer`` itself unless it is a trusted proxy that says whom it forwards."""
    if peer is None or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ip_address(hop)
        except ValueError:
            return peer  # a malformed chain: nothing in it is believed
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer  # every hop a proxy of ours: the first one asked


def forwarded_client(proxies: Sequence[Network]) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """Middleware: ``request.remote`` is the client's address behind the trusted proxies."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        remote = client_address(request.remote, request.headers.getall("X-Forwarded-For", []), proxies)
        if remote != request.remote:
            request = request.clone(remote=remote)
        return await handler(request)

    return middleware
