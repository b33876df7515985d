"""Behind a proxy: whose X-Forwarded-For is believed, and per-address limits per real client."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.client_address import parse_address, resolve_client
from app.db import Database
from app.main import create_app
from app.settings import Settings, SettingsError
from tests.conftest import with_settings
from tests.helpers import REQUEST_OTP

TRUSTED = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "2001:db8:ffff::/48"))
PROXY = ("10.1.2.3", 41000)  # the load balancer, in HAPPY_TRUSTED_PROXIES
STRANGER = ("203.0.113.77", 41000)  # a peer that is not


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        # an untrusted peer: the header is ignored whatever it says
        ("203.0.113.7", ["198.51.100.1"], "203.0.113.7"),
        ("203.0.113.7", [], "203.0.113.7"),
        # a trusted peer: the right-most address that is not a trusted proxy
        ("10.1.2.3", ["198.51.100.1"], "198.51.100.1"),
        ("10.1.2.3", ["198.51.100.1, 10.9.9.9"], "198.51.100.1"),
        ("10.1.2.3", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # client-forged prefix
        ("10.1.2.3", ["6.6.6.6", "198.51.100.1"], "198.51.100.1"),  # two header lines
        ("10.1.2.3", [], "10.1.2.3"),  # no header: the proxy itself
        ("10.1.2.3", ["10.0.0.9, 10.7.7.7"], "10.0.0.9"),  # all trusted: the farthest
        ("10.1.2.3", ["garbage, 10.7.7.7"], "10.7.7.7"),  # malformed: stop at last trusted
        ("10.1.2.3", ["198.51.100.1:5123"], "198.51.100.1"),  # with a port
        ("10.1.2.3", ["[2001:db8::1]:443"], "2001:db8::1"),
        ("10.1.2.3", ["2001:db8::2, 2001:db8:ffff::1"], "2001:db8::2"),
        ("2001:db8:ffff::9", ["198.51.100.4"], "198.51.100.4"),  # an IPv6 proxy
        ("10.1.2.3", ["::ffff:198.51.100.5"], "198.51.100.5"),  # IPv4-mapped
    ],
)
def test_resolve_client(peer: str, forwarded: list[str], client: str) -> None:
    assert resolve_client(peer, forwarded, TRUSTED) == client


def test_nothing_is_trusted_by_default() -> None:
    assert resolve_client("10.1.2.3", ["198.51.100.1"], ()) == "10.1.2.3"
    assert parse_address("not-an-ip") is None


def test_trusted_proxies_setting_is_validated(settings: Settings) -> None:
    good = with_settings(settings, trusted_proxies=("10.0.0.0/8", "192.0.2.1", "2001:db8::/32"))
    assert len(good.trusted_proxy_networks()) == 3
    with pytest.raises(SettingsError, match=r"HAPPY_TRUSTED_PROXIES: 'proxy\.local'"):
        with_settings(settings, trusted_proxies=("proxy.local",)).validate()


@pytest.fixture
def proxied_settings(settings: Settings) -> Settings:
    return with_settings(settings, trusted_proxies=("10.0.0.0/8",), otp_sends_per_ip_per_hour=3)


@pytest.fixture
async def via(proxied_settings: Settings, db: Database) -> AsyncIterator[Any]:
    """``via(peer)``: a client whose TCP peer is ``peer``."""
    app = create_app(proxied_settings, db)
    clients: list[httpx.AsyncClient] = []

    def make(peer: tuple[str, int]) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=peer)
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def _request_code(client: httpx.AsyncClient, phone: str, forwarded: str | None) -> str:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    response = await client.post(
        "/graphql", json={"query": REQUEST_OTP, "variables": {"phone": phone}}, headers=headers
    )
    assert response.status_code == 200, response.text
    typename: str = response.json()["data"]["requestOtp"]["__typename"]
    return typename


async def test_two_proxied_clients_never_block_each_other(via: Any) -> None:
    proxy = via(PROXY)
    alice, bob = "198.51.100.1", "198.51.100.2"
    for n in range(3):
        assert await _request_code(proxy, f"+35569100000{n}", alice) == "OtpRequested"
    assert await _request_code(proxy, "+355691000009", alice) == "RateLimitedError"
    # Alice forging a prefix does not give her a fresh address: the proxy appended hers.
    assert await _request_code(proxy, "+355691000008", f"1.2.3.4, {alice}") == "RateLimitedError"
    # Bob, behind the same proxy, is untouched by Alice's limit.
    for n in range(3):
        assert await _request_code(proxy, f"+35569200000{n}", bob) == "OtpRequested"
    assert await _request_code(proxy, "+355692000009", bob) == "RateLimitedError"


async def test_an_untrusted_peers_forwarded_for_is_ignored(via: Any) -> None:
    stranger = via(STRANGER)
    for n in range(3):
        forged = f"198.51.100.{50 + n}"  # a new "address" every time
        assert await _request_code(stranger, f"+35569300000{n}", forged) == "OtpRequested"
    assert await _request_code(stranger, "+355693000009", "198.51.100.99") == "RateLimitedError"
    # ...and the stranger's limit is its own: a proxied client is not affected.
    proxy = via(PROXY)
    assert await _request_code(proxy, "+355694000000", "198.51.100.3") == "OtpRequested"


async def test_without_trusted_proxies_the_header_is_never_believed(
    settings: Settings, db: Database
) -> None:
    app = create_app(with_settings(settings, otp_sends_per_ip_per_hour=2), db)
    transport = httpx.ASGITransport(app=app, client=PROXY)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as proxy:
        assert await _request_code(proxy, "+355695000000", "198.51.100.1") == "OtpRequested"
        assert await _request_code(proxy, "+355695000001", "198.51.100.2") == "OtpRequested"
        assert await _request_code(proxy, "+355695000002", "198.51.100.3") == "RateLimitedError"
