"""The feeds pipeline's plain values: what a fetch and a parse give back, and their errors.

Kept apart from fetch.py (aiohttp) and parse.py (feedparser, lxml, a process pool) so that a
command, a check or `sendbot ask` can use them without loading those libraries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FetchSettings:
    user_agent: str
    max_body_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    connect_timeout: float = 10.0
    total_timeout: float = 30.0
    max_concurrency: int = 16
    max_per_host: int = 2
    allow_private_addresses: bool = False

    @classmethod
    def from_config(cls, feeds: Any) -> FetchSettings:
        return cls(
            user_agent=feeds.user_agent,
            max_body_bytes=feeds.max_body_bytes,
            max_redirects=feeds.max_redirects,
            connect_timeout=feeds.connect_timeout_seconds,
            total_timeout=feeds.total_timeout_seconds,
            max_concurrency=feeds.max_concurrency,
            max_per_host=feeds.max_per_host,
            allow_private_addresses=feeds.allow_private_addresses,
        )


@dataclass(frozen=True)
class FetchResult:
    """outcome: "ok" (body is new), "unchanged" (304, or the same bytes but for feed-level dates:
    feeds.digest), or "error"."""

    outcome: str
    url: str
    final_url: str | None = None
    status: int | None = None
    body: bytes | None = None
    body_hash: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    # Seconds the server asked us to wait (Retry-After) or may cache for (max-age).
    retry_after: float | None = None
    max_age: float | None = None

    @property
    def ok(self) -> bool:
        return self.outcome != "error"


class FetchError(Exception):
    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


class ParseError(Exception):
    """The body is not a usable feed; the message is shown to moderators."""


@dataclass(frozen=True)
class ParsedItem:
    item_key: str
    story_key: str
    raw_hash: str
    title: str  # plain text (escape before use in markup)
    link: str | None
    published: str | None  # ISO 8601 UTC
    # None when the raw text matched what storage already has (not re-rendered).
    summary: str | None
    content_hash: str | None
    # An https picture on a public host (feeds/images.py), or None.
    image: str | None = None


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    items: list[ParsedItem] = field(default_factory=list)
    warning: str | None = None  # feedparser's "bozo" complaint, when it still found items
    # What each item's bytes gave, for the next fetch of this feed (feeds/chunks.py ItemCache,
    # encoded), and how many items feedparser read this time (the others came from the cache).
    cache: bytes | None = None
    items_read: int = 0
