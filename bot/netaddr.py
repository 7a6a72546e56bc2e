"""Which network addresses are public: one policy for the hosts the bot fetches from (the
SSRF guard in feeds/fetch.py) and the links it posts (bot/markup.py), so the two never
disagree about whether 127.1 or 0x7f.0.0.1 is this machine."""

from __future__ import annotations

import ipaddress
import re
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # well-known prefix: the last 32 bits are IPv4
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # local-use translation (RFC 8215)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries and leads to: IPv4-mapped, 6to4 or NAT64."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_is_public(ip: IPAddress) -> bool:
    """False for loopback, private, link-local, multicast, reserved, unspecified and every
    other non-global address, including IPv4 ones carried inside IPv6."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL:
            return False
        inner = embedded_ipv4(ip)
        if inner is not None and not address_is_public(inner):
            return False
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
    return not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


_NUMERIC_HOST = re.compile(r"[0-9a-fx.]+", re.I)


def host_ip(host: str) -> IPAddress | None:
    """The address a host names when it is an IP literal, read as the C library's resolver
    (and a browser) reads it: dotted (127.0.0.1), shortened (127.1), one decimal number
    (2130706433), octal (0177.0.0.1), hex (0x7f.0.0.1, 0x7f000001) or a mixture; IPv6 with
    or without brackets; one trailing dot allowed. None for a name."""
    h = host.strip().strip("[]")
    try:
        return ipaddress.ip_address(h)
    except ValueError:
        pass
    h = h.removesuffix(".")
    # inet_aton alone would also accept "127.1 anything": only digits, dots and hex pass.
    if not _NUMERIC_HOST.fullmatch(h):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(h))
    except OSError:
        return None
