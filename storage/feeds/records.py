"""The feeds repository's values: rows as frozen dataclasses, and the shapes storage accepts.

Plain values in and out: a subscription or delivery names its channel by three strings
(platform, scope_id, channel_id), and what storage is given is described by protocols
(`ItemLike`, `ChannelLike`) that the pipeline's and the bot's own types already satisfy.
So storage imports nothing of ours, and the dependency points one way: feeds/ and cogs/
build `bot.model.ChannelRef` from these fields when they need one (`feeds.channels`).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from storage.db import hash64


class ItemLike(Protocol):
    """One parsed feed item as storage needs it (feeds.parse.ParsedItem is one). Storage
    doesn't import the pipeline: the dependency points from feeds/ to storage/."""

    @property
    def item_key(self) -> str: ...
    @property
    def story_key(self) -> str: ...
    @property
    def raw_hash(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def link(self) -> str | None: ...
    @property
    def published(self) -> str | None: ...
    @property
    def summary(self) -> str | None: ...
    @property
    def content_hash(self) -> str | None: ...


class ChannelLike(Protocol):
    """Where something is posted, as storage needs it: bot.model.ChannelRef is one, and so
    are Subscription and Delivery (storage does not import the bot's model)."""

    @property
    def platform(self) -> str: ...
    @property
    def scope_id(self) -> str: ...
    @property
    def channel_id(self) -> str: ...


# Does a subscription want an item with this title and summary? (feeds.filters decides.)
Accepts = Callable[["Subscription", str, str], bool]
# When a subscription's new posts are due, if not at once, and why they wait ("quiet" or
# "digest"): feeds/schedule.py decides (quiet hours, digest times), storage only records it.
Hold = Callable[["Subscription"], "tuple[datetime, str] | None"]


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def post_key(channel: ChannelLike, story_id: int) -> int:
    """One integer for (channel, story): "one post per story per channel" is a unique index
    on it (migration 0006 computes the same in SQL: the parts joined by char(31))."""
    key = hash64(f"{channel.platform}\x1f{channel.scope_id}\x1f{channel.channel_id}\x1f{story_id}")
    assert key is not None
    return key


def new_nonce() -> str:
    # Discord accepts nonces up to 25 characters.
    return "f" + secrets.token_hex(10)


# The columns Feed.from_row reads (`unprimed` and `posting` are computed by due_feeds only).
FEED_COLS = (
    "id, url, name, title, interval_minutes, paused, paused_reason, etag, last_modified, body_hash,"
    " next_fetch_at, last_fetch_at, last_success_at, last_error, last_error_at, failing_since,"
    " consecutive_failures, created_at"
)


@dataclass(frozen=True)
class Feed:
    id: int
    url: str
    name: str | None
    title: str | None
    interval_minutes: int | None
    paused: bool
    paused_reason: str | None
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    next_fetch_at: str | None
    last_fetch_at: str | None
    last_success_at: str | None
    last_error: str | None
    last_error_at: str | None
    failing_since: str | None
    consecutive_failures: int
    created_at: str
    # Set by due_feeds: a subscription has not seen this feed yet (so fetch it in full).
    # None: not looked up.
    unprimed: bool | None = None
    # Set by due_feeds: a subscription would post from this fetch (it has seen the feed, or
    # asks for the `latest` items on first sight). If not, new items need no text.
    posting: bool | None = None

    @property
    def display_name(self) -> str:
        return self.name or self.title or self.url

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Feed:
        d = dict(row)
        d["paused"] = bool(d["paused"])
        for computed in ("unprimed", "posting"):
            if computed in d:
                d[computed] = bool(d[computed])
        return cls(**d)


# feed_subscriptions.primed: 0 = never fetched for this channel (first sight posts up to
# `latest`), 1 = seen, 2 = resumed after a pause (the next fetch marks everything seen).
PRIMED = 1
RESUMING = 2


@dataclass(frozen=True)
class Subscription:
    id: int
    feed_id: int
    # The channel, as plain values (a ChannelLike): feeds.channels.channel_of makes a ChannelRef.
    platform: str
    scope_id: str
    channel_id: str
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    latest: int
    mention_role: str | None
    primed: bool
    source: str
    paused: bool = False
    resuming: bool = False  # resumed after a pause: the next fetch is recorded, not posted
    posts_sent: int = 0  # counted as each post is confirmed (migration 0006)
    # How it posts (migration 0009): "each" or "digest" (at digest_at, local time, every
    # "day" or "week" on digest_day, 0 = Monday); quiet_hours "21:00-07:00" or None.
    mode: str = "each"
    digest_at: str = "18:00"
    digest_every: str = "day"
    digest_day: int = 0
    quiet_hours: str | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Subscription:
        return cls(
            id=row["id"],
            feed_id=row["feed_id"],
            platform=row["platform"],
            scope_id=row["scope_id"],
            channel_id=row["channel_id"],
            include=tuple(json.loads(row["include_json"])),
            exclude=tuple(json.loads(row["exclude_json"])),
            latest=row["latest"],
            mention_role=row["mention_role"],
            primed=row["primed"] == PRIMED,
            source=row["source"],
            paused=bool(row["paused"]),
            resuming=row["primed"] == RESUMING,
            posts_sent=row["posts_sent"],
            mode=row["mode"],
            digest_at=row["digest_at"],
            digest_every=row["digest_every"],
            digest_day=row["digest_day"],
            quiet_hours=row["quiet_hours"],
        )


@dataclass(frozen=True)
class Timing:
    """How a subscription posts (checked by feeds/schedule.py before it is stored)."""

    mode: str = "each"
    digest_at: str = "18:00"
    digest_every: str = "day"
    digest_day: int = 0
    quiet_hours: str | None = None

    @classmethod
    def of(cls, sub: Subscription) -> Timing:
        return cls(sub.mode, sub.digest_at, sub.digest_every, sub.digest_day, sub.quiet_hours)


@dataclass(frozen=True)
class Delivery:
    id: int
    subscription_id: int | None
    item_id: int | None
    # The channel, as plain values (a ChannelLike): feeds.channels.channel_of makes a ChannelRef.
    platform: str
    scope_id: str
    channel_id: str
    post_key: int | None  # hash64 of channel and story (records.post_key); None for notices
    kind: str
    body: str | None
    ping_role: str | None
    status: str
    attempts: int
    nonce: str | None  # NULL once settled (sent or failed)
    message_id: str | None
    # Cut off mid-send by a crash: the platform may or may not have the message.
    unsure: bool = False
    # Held back for quiet hours or a digest ("quiet", "digest"; migration 0009), and the
    # round-up delivery that carries it once gathered.
    held: str | None = None
    roundup_id: int | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Delivery:
        return cls(
            id=row["id"],
            subscription_id=row["subscription_id"],
            item_id=row["item_id"],
            platform=row["platform"],
            scope_id=row["scope_id"],
            channel_id=row["channel_id"],
            post_key=row["post_key"],
            kind=row["kind"],
            body=row["body"],
            ping_role=row["ping_role"],
            status=row["status"],
            attempts=row["attempts"],
            nonce=row["nonce"],
            message_id=row["message_id"],
            unsure=row["sending_at"] is not None,
            held=row["held"],
            roundup_id=row["roundup_id"],
        )


@dataclass(frozen=True)
class StoredItem:
    id: int
    feed_id: int
    title: str
    link: str | None
    summary: str
    published: str | None
    updated_at: str | None
    feed_name: str
    image_url: str | None = None


@dataclass(frozen=True)
class UnchangedFetch:
    feed_id: int
    at: datetime
    next_at: datetime
    etag: str | None
    last_modified: str | None


class TextNeeded(Exception):
    """`ingest` was given an item without its text that a channel would post (a subscription
    was added while the fetch was parsed without it). Nothing was written."""


@dataclass
class IngestReport:
    """What one parsed fetch changed: shown by `!feeds add` and the poll summary."""

    seen: int = 0
    new: int = 0
    changed: int = 0
    queued: int = 0  # deliveries created (posts and updates)
    primed: list[int] = field(default_factory=list)  # subscriptions seeing the feed first
    resumed: list[int] = field(default_factory=list)  # subscriptions seeing it again after a pause
    would_post: int = 0  # items that passed a first-sight subscription's filters
    forgotten: int = 0  # items gone from the feed longer than the window, forgotten
