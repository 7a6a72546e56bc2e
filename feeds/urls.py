"""Which feed addresses the bot may fetch: the SSRF policy a command or check applies before
any connection (fetch.py applies it again at every redirect and at DNS time)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from yarl import URL

from bot.netaddr import address_is_public, host_ip
from feeds.model import FetchError


class BlockedAddress(OSError):
    """The target is on a network the bot must not reach (SSRF guard)."""


def address_allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Only public addresses (the policy is shared with the links the bot posts)."""
    return address_is_public(ip)


def literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host names when it is an IP literal in any form the resolver accepts
    (2130706433, 127.1, 0177.0.0.1, 0x7f.0.0.1 as well as 127.0.0.1 and [::1])."""
    return host_ip(host)


AddressPolicy = Callable[[ipaddress.IPv4Address | ipaddress.IPv6Address], bool]


def check_url(url: str, allow_private: bool, allowed: AddressPolicy = address_allowed) -> URL:
    """Raise FetchError unless `url` is an http(s) URL the guard allows (literal IPs here, in
    every numeric form the resolver would accept; names are checked by the resolver at
    connect time)."""
    try:
        parsed = URL(url)
        # yarl decodes the host (IDNA) lazily: read it here, where a bad one is caught.
        scheme, host = parsed.scheme, parsed.host
    except (ValueError, TypeError):  # UnicodeError is a ValueError
        raise FetchError("not a valid web address") from None
    if scheme not in ("http", "https"):
        raise FetchError("only http and https addresses are allowed")
    if not host:
        raise FetchError("the address has no host name")
    if not allow_private:
        ip = literal_ip(host)
        if ip is not None and not allowed(ip):
            raise FetchError("refused: the address is on a private or local network")
        if host.rstrip(".").lower() == "localhost" or host.lower().endswith(".localhost"):
            raise FetchError("refused: the address is on a private or local network")
    return parsed
