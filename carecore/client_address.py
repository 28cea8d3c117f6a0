"""The client's address when a server stands behind the product's own balancer.

Behind HAProxy or an ingress every request comes from the proxy: a limit per address (the console's
failed logins, the assistant's anonymous chat sessions) would count every client as one, and one
stranger would lock everybody out. A request from a trusted proxy (``TRUSTED_PROXIES``) is taken to
come from the last address in its ``X-Forwarded-For`` that is not itself a trusted proxy. Anyone
else's header is ignored, so a client cannot name its own address.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Optional, Sequence, Union

Network = Union[IPv4Network, IPv6Network]


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
