"""Whose request it is behind the product's balancer: only a trusted proxy may name the client."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from carecore.client_address import client_address
from carecore.config import Settings

PROXIES = [ip_network("10.0.0.0/8"), ip_network("::1/128")]


@pytest.mark.parametrize(("peer", "forwarded_for", "client"), [
    ("203.0.113.7", ["198.51.100.1"], "203.0.113.7"),  # not a proxy of ours: its header is ignored
    ("10.1.2.3", [], "10.1.2.3"),  # a proxy that names no one: itself (its own health check)
    ("10.1.2.3", ["203.0.113.7"], "203.0.113.7"),
    ("10.1.2.3", ["198.51.100.1, 203.0.113.7"], "203.0.113.7"),  # the client may prepend anything
    ("10.1.2.3", ["203.0.113.7, 10.9.9.9"], "203.0.113.7"),  # a chain of our own proxies
    ("10.1.2.3", ["203.0.113.7", "10.9.9.9"], "203.0.113.7"),  # the chain in two headers
    ("10.1.2.3", ["10.8.8.8, 10.9.9.9"], "10.8.8.8"),  # all ours: the first one asked
    ("10.1.2.3", ["203.0.113.7, not-an-ip"], "10.1.2.3"),  # malformed: nothing in it is believed
    ("::1", ["2001:db8::5"], "2001:db8::5"),
    (None, ["203.0.113.7"], None),
])
def test_the_client_is_the_last_hop_no_proxy_of_ours_added(peer, forwarded_for, client) -> None:
    assert client_address(peer, forwarded_for, PROXIES) == client


def test_trusted_proxies_are_addresses_or_networks() -> None:
    assert Settings(trusted_proxies=["127.0.0.1", "10.0.0.0/8"]).trusted_proxies == [
        ip_network("127.0.0.1/32"), ip_network("10.0.0.0/8")]
    with pytest.raises(ValueError, match="trusted_proxies"):
        Settings(trusted_proxies=["10.0.0.1/8"])
