"""The SSRF guard: no loopback, private, link-local, multicast or reserved targets."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from feeds.fetch import Fetcher, FetchError, FetchSettings, address_allowed, check_url
from tests.support.feedserver import FeedServer, rss, snj_entries
from tests.support.harness import Harness

# On both storage backends: SQLite and PostgreSQL (tests/support/backends.py).
pytestmark = pytest.mark.usefixtures("each_backend")


@pytest.mark.parametrize(
    "ip",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
     "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1", "fe80::1", "fc00::1", "ff02::1", "::ffff:127.0.0.1", "::",
     # IPv4 inside IPv6: 6to4 and NAT64 lead to the embedded address (Python 3.11 already
     # counts all of 64:ff9b::/96 as reserved; the embedded check holds whatever it says)
     "2002:7f00:1::", "2002:a9fe:a9fe::", "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b:1::808:808"],
)  # fmt: skip
def test_refused_addresses(ip: str) -> None:
    assert not address_allowed(ipaddress.ip_address(ip))


@pytest.mark.parametrize("ip", ["8.8.8.8", "151.101.0.144", "2a04:4e42::144", "2002:808:808::"])
def test_public_addresses_allowed(ip: str) -> None:
    assert address_allowed(ipaddress.ip_address(ip))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/feed", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http://localhost/feed", "private or local"),
        ("http://127.0.0.1:8080/feed", "private or local"),
        ("http://[::1]/feed", "private or local"),
        ("http://169.254.169.254/latest/meta-data", "private or local"),
        ("http:///nohost", "no host"),
        ("http://[2002:7f00:1::]/feed", "private or local"),
        ("http://xn--/", "not a valid web address"),
    ],
)
def test_check_url_refuses(url: str, message: str) -> None:
    with pytest.raises(FetchError, match=message):
        check_url(url, allow_private=False)


async def test_loopback_refused_when_private_addresses_are_off(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(1)))
    h = await Harness.create(tmp_path, {"feeds": {"allow_private_addresses": False}})
    try:
        text = await h.say_text(f"!feeds add {url}", moderator=True)
        assert "won't do" in text and "private or local" in text
        assert feed_server.requests == []
    finally:
        await h.close()


class StubResolver(AbstractResolver):
    """Resolves every name to one fixed address (what a hostile DNS record would do)."""

    def __init__(self, address: str) -> None:
        self.address = address

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [ResolveResult(hostname=host, host=self.address, port=port, family=socket.AF_INET, proto=0, flags=0)]

    async def close(self) -> None:
        pass


def _only_loopback_one(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A test policy: the fixture server (127.0.0.1) counts as public, nothing else local does."""
    return str(ip) == "127.0.0.1" or address_allowed(ip)


def _settings() -> FetchSettings:
    return FetchSettings(user_agent="sendbot-test", total_timeout=2, allow_private_addresses=False)


async def test_redirect_to_a_private_address_is_refused(feed_server: FeedServer) -> None:
    feed_server.set("/to-metadata", redirect_to="http://169.254.169.254/latest/meta-data")
    feed_server.set("/to-private", redirect_to="http://10.0.0.5/feed")
    feed_server.set("/to-localhost", redirect_to="http://localhost:1/feed")
    feed_server.set("/fine", rss(snj_entries(1)))
    feed_server.set("/to-fine", redirect_to=feed_server.url("/fine"))
    fetcher = Fetcher(_settings(), allowed=_only_loopback_one)
    try:
        for path in ("/to-metadata", "/to-private", "/to-localhost"):
            result = await fetcher.fetch(feed_server.url(path))
            assert result.outcome == "error" and "private or local" in (result.error or ""), path
        assert (await fetcher.fetch(feed_server.url("/to-fine"))).outcome == "ok"
    finally:
        await fetcher.close()


async def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    fetcher = Fetcher(_settings(), resolver=StubResolver("192.168.0.10"))
    try:
        result = await fetcher.fetch("http://innocent-looking.example/feed")
        assert result.outcome == "error" and result.error == "refused: the address is on a private or local network"
    finally:
        await fetcher.close()


async def test_a_redirect_to_a_name_resolving_privately_is_refused(feed_server: FeedServer) -> None:
    feed_server.set("/to-name", redirect_to="http://rebind.example/feed")
    fetcher = Fetcher(_settings(), allowed=_only_loopback_one, resolver=StubResolver("10.9.8.7"))
    try:
        result = await fetcher.fetch(feed_server.url("/to-name"))
        assert result.outcome == "error" and "private or local" in (result.error or "")
        assert len(feed_server.hits("/to-name")) == 1
    finally:
        await fetcher.close()


async def test_user_agent_and_conditional_headers(feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(1)), headers={"Last-Modified": "Fri, 20 Nov 2026 09:00:00 GMT"})
    fetcher = Fetcher(FetchSettings(user_agent="sendbot/0.1 test", allow_private_addresses=True))
    try:
        first = await fetcher.fetch(url)
        assert first.outcome == "ok" and first.etag and first.last_modified
        second = await fetcher.fetch(url, etag=first.etag, last_modified=first.last_modified)
        assert second.outcome == "unchanged" and second.status == 304
        seen = feed_server.hits("/snj")[-1].headers
        assert seen["User-Agent"] == "sendbot/0.1 test"
        assert seen["If-None-Match"] == first.etag
        assert seen["If-Modified-Since"] == "Fri, 20 Nov 2026 09:00:00 GMT"
    finally:
        await fetcher.close()


async def test_gzip_bomb_stops_at_the_cap(feed_server: FeedServer) -> None:
    import gzip

    bomb = gzip.compress(b" " * (20 * 1024 * 1024))
    url = feed_server.set("/gz", bomb, etag=False, headers={"Content-Encoding": "gzip"})
    fetcher = Fetcher(FetchSettings(user_agent="t", max_body_bytes=1024 * 1024, allow_private_addresses=True))
    try:
        result = await fetcher.fetch(url)
        assert result.outcome == "error" and "larger than the 1 MiB limit" in (result.error or "")
    finally:
        await fetcher.close()
