"""Fetch feeds politely and defensively with one shared aiohttp session.

Polite: conditional GET (ETag, Last-Modified), a clear User-Agent, bounded concurrency in
all and per host, and the server's Retry-After and Cache-Control max-age honoured.
Defensive: only http(s); no loopback, private, link-local, multicast or reserved targets
(checked for every redirect hop and, through the resolver, for every address a name
resolves to, which also covers DNS rebinding); a body cap counted while streaming (after
decompression, so a gzip bomb stops at the cap); connect and total timeouts; a redirect
limit. Every failure becomes a FetchResult with a one-line reason a moderator can read.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import logging
import re
import socket
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from bot.netaddr import embedded_ipv4 as embedded_ipv4  # re-exported: it lived here
from feeds.digest import stable_digest
from feeds.model import FetchError as FetchError
from feeds.model import FetchResult as FetchResult
from feeds.model import FetchSettings as FetchSettings
from feeds.urls import AddressPolicy as AddressPolicy
from feeds.urls import BlockedAddress as BlockedAddress
from feeds.urls import address_allowed as address_allowed
from feeds.urls import check_url as check_url
from feeds.urls import literal_ip as literal_ip

log = logging.getLogger(__name__)

_REDIRECTS = {301, 302, 303, 307, 308}
_CHECKED_URLS = 10_000  # feed addresses whose check is remembered (then forgotten all at once)
# aiohttp 3.10 added a distinct DNS error; older versions report it as a connect error.
_DNS_ERRORS: tuple[type[Exception], ...] = tuple(
    t for t in (getattr(aiohttp, "ClientConnectorDNSError", None),) if isinstance(t, type)
)
_MAX_AGE_RE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d{1,10})", re.I)
MAX_SERVER_DELAY = 24 * 3600.0  # never let a header push the next fetch beyond a day


class GuardedResolver(AbstractResolver):
    """Resolves names, then drops every address the bot must not reach."""

    def __init__(self, inner: AbstractResolver | None = None, allowed: AddressPolicy = address_allowed) -> None:
        self._inner = inner or DefaultResolver()
        self._allowed = allowed

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed = [r for r in results if self._allowed(ipaddress.ip_address(r["host"]))]
        if not allowed:
            raise BlockedAddress(f"{host} resolves to a private or local address")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_SERVER_DELAY)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, (when - now).total_seconds()), MAX_SERVER_DELAY)


def parse_max_age(value: str | None) -> float | None:
    if not value or "no-store" in value.lower():
        return None
    m = _MAX_AGE_RE.search(value)
    return min(float(m.group(1)), MAX_SERVER_DELAY) if m else None


class Fetcher:
    """One aiohttp session for all feeds. Create inside the running loop; `close()` at the end."""

    def __init__(
        self,
        settings: FetchSettings,
        *,
        clock: Any = None,
        allowed: AddressPolicy = address_allowed,
        resolver: AbstractResolver | None = None,
    ) -> None:
        """`allowed` and `resolver` exist for tests of the guard itself; leave them be."""
        self.settings = settings
        self._clock = clock or (lambda: datetime.now(UTC))
        self._allowed = allowed
        self._allowed_urls: dict[str, URL] = {}
        # Requests in flight, taken before a fetch's time limit starts: the poller runs more
        # workers than connections, and a feed waiting for a free connection must not be
        # timed out without the site ever being asked.
        self._slots = asyncio.Semaphore(settings.max_concurrency)
        if not settings.allow_private_addresses:
            resolver = GuardedResolver(resolver, allowed)
        connector = aiohttp.TCPConnector(
            limit=settings.max_concurrency,
            limit_per_host=settings.max_per_host,
            resolver=resolver,
            ttl_dns_cache=60,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": settings.user_agent, "Accept": _ACCEPT},
            timeout=aiohttp.ClientTimeout(total=None, connect=settings.connect_timeout),
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=True,
        )

    async def close(self) -> None:
        await self._session.close()

    def _checked(self, url: str) -> URL:
        """check_url's answer for `url`, remembered: a feed's address is the same every cycle,
        and parsing it again cost more than anything else the poller does per feed. Only
        allowed addresses are kept (a refusal raises FetchError every time)."""
        target = self._allowed_urls.get(url)
        if target is None:
            target = check_url(url, self.settings.allow_private_addresses, self._allowed)
            if len(self._allowed_urls) >= _CHECKED_URLS:
                self._allowed_urls.clear()
            self._allowed_urls[url] = target
        return target

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        last_hash: str | None = None,
    ) -> FetchResult:
        """Never raises for a feed's own problems: they come back as outcome "error"."""
        try:
            async with self._slots, asyncio.timeout(self.settings.total_timeout):
                return await self._fetch(url, etag, last_modified, last_hash)
        except FetchError as e:
            return FetchResult("error", url, status=e.status, error=e.message, retry_after=e.retry_after)
        except TimeoutError:
            return FetchResult("error", url, error=f"timed out after {self.settings.total_timeout:g} s")
        except aiohttp.ClientConnectorError as e:
            if isinstance(e.os_error, BlockedAddress) or isinstance(e.__cause__, BlockedAddress):
                return FetchResult("error", url, error="refused: the address is on a private or local network")
            if isinstance(e, _DNS_ERRORS):
                return FetchResult("error", url, error=f"could not look up the site's name ({e.host})")
            return FetchResult("error", url, error=f"could not connect ({_short(e.os_error or e)})")
        except aiohttp.ClientPayloadError:
            return FetchResult("error", url, error="the server sent a broken or truncated response")
        except aiohttp.ClientResponseError as e:
            return FetchResult("error", url, status=e.status, error=f"bad response from the server ({_short(e)})")
        except aiohttp.ClientError as e:
            return FetchResult("error", url, error=f"network error ({type(e).__name__})")
        except (UnicodeError, ValueError) as e:
            return FetchResult("error", url, error=f"bad address or response ({type(e).__name__})")

    async def _fetch(self, url: str, etag: str | None, last_modified: str | None, last_hash: str | None) -> FetchResult:
        """One request per redirect hop, each hop's address checked first; about 60 lines because
        the checks of one response (redirect, 304, error status, size limit) read best in order."""
        s = self.settings
        current = url
        for _hop in range(s.max_redirects + 1):
            # The feed's own address is remembered; a redirect's (the site's choice) never is.
            if current == url:
                target = self._checked(url)
            else:
                target = check_url(current, s.allow_private_addresses, self._allowed)
            headers = {}
            if etag and current == url:
                headers["If-None-Match"] = etag
            if last_modified and current == url:
                headers["If-Modified-Since"] = last_modified
            async with self._session.get(target, headers=headers, allow_redirects=False) as resp:
                if resp.status in _REDIRECTS:
                    location = resp.headers.get("Location")
                    if not location:
                        raise FetchError(f"HTTP {resp.status} redirect without a Location", status=resp.status)
                    current = urljoin(str(resp.url), location)
                    continue
                now = self._clock()
                retry_after = parse_retry_after(resp.headers.get("Retry-After"), now)
                max_age = parse_max_age(resp.headers.get("Cache-Control"))
                if resp.status == 304:
                    return FetchResult(
                        "unchanged",
                        url,
                        final_url=current,
                        status=304,
                        etag=resp.headers.get("ETag") or etag,
                        last_modified=resp.headers.get("Last-Modified") or last_modified,
                        body_hash=last_hash,
                        max_age=max_age,
                    )
                if resp.status >= 400:
                    raise FetchError(
                        _status_text(resp.status, resp.reason), status=resp.status, retry_after=retry_after
                    )
                if resp.status != 200:
                    raise FetchError(f"unexpected HTTP {resp.status}", status=resp.status)
                length = resp.content_length
                if length is not None and length > s.max_body_bytes:
                    raise FetchError(f"the feed is larger than the {_mib(s.max_body_bytes)} limit", status=200)
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.content.iter_chunked(65536):
                    size += len(chunk)
                    if size > s.max_body_bytes:
                        raise FetchError(f"the feed is larger than the {_mib(s.max_body_bytes)} limit", status=200)
                    chunks.append(chunk)
                body = b"".join(chunks)
                digest = stable_digest(body)
                return FetchResult(
                    "unchanged" if digest == last_hash else "ok",
                    url,
                    final_url=current,
                    status=200,
                    body=body,
                    body_hash=digest,
                    etag=resp.headers.get("ETag"),
                    last_modified=resp.headers.get("Last-Modified"),
                    max_age=max_age,
                )
        raise FetchError(f"more than {s.max_redirects} redirects")


_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"


def _status_text(status: int, reason: str | None) -> str:
    hints = {
        404: "the feed was not found (HTTP 404): has its address changed?",
        410: "the feed is gone for good (HTTP 410)",
        429: "the site asked us to slow down (HTTP 429)",
        401: "the feed needs a login (HTTP 401)",
        403: "the site refused access (HTTP 403)",
    }
    if status in hints:
        return hints[status]
    if status >= 500:
        return f"the site had an error (HTTP {status})"
    return f"HTTP {status} {(reason or '')[:40]}".strip()


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):g} MiB" if n >= 1024 * 1024 else f"{n // 1024} KiB"


def _short(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return text[:120]
