"""The feeds repository: feeds, subscriptions, items seen, and deliveries as an outbox.

The outbox is what makes "never lost, never twice" hold across crashes: new items and
one delivery row per subscribed channel are written in the same transaction as the feed's
new state, and a delivery becomes `sent` only after the platform confirmed the post. A
unique index allows one post per story per channel, whichever feed carried the story.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from bot.model import ChannelRef
from storage.db import Database, Tx
from storage.faults import fault_point


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


# Does a subscription want an item with this title and summary? (feeds.filters decides.)
Accepts = Callable[["Subscription", str, str], bool]


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def new_nonce() -> str:
    # Discord accepts nonces up to 25 characters.
    return "f" + secrets.token_hex(10)


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

    @property
    def display_name(self) -> str:
        return self.name or self.title or self.url

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Feed:
        d = dict(row)
        d["paused"] = bool(d["paused"])
        if "unprimed" in d:
            d["unprimed"] = bool(d["unprimed"])
        return cls(**d)


# feed_subscriptions.primed: 0 = never fetched for this channel (first sight posts up to
# `latest`), 1 = seen, 2 = resumed after a pause (the next fetch marks everything seen).
PRIMED = 1
RESUMING = 2


@dataclass(frozen=True)
class Subscription:
    id: int
    feed_id: int
    channel: ChannelRef
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    latest: int
    mention_role: str | None
    primed: bool
    source: str
    paused: bool = False
    resuming: bool = False  # resumed after a pause: the next fetch is recorded, not posted

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Subscription:
        return cls(
            id=row["id"],
            feed_id=row["feed_id"],
            channel=ChannelRef(row["platform"], row["scope_id"], row["channel_id"]),
            include=tuple(json.loads(row["include_json"])),
            exclude=tuple(json.loads(row["exclude_json"])),
            latest=row["latest"],
            mention_role=row["mention_role"],
            primed=row["primed"] == PRIMED,
            source=row["source"],
            paused=bool(row["paused"]),
            resuming=row["primed"] == RESUMING,
        )


@dataclass(frozen=True)
class Delivery:
    id: int
    subscription_id: int | None
    item_id: int | None
    channel: ChannelRef
    story_key: str | None
    kind: str
    body: str | None
    ping_role: str | None
    status: str
    attempts: int
    nonce: str
    message_id: str | None
    # Cut off mid-send by a crash: the platform may or may not have the message.
    unsure: bool = False

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Delivery:
        return cls(
            id=row["id"],
            subscription_id=row["subscription_id"],
            item_id=row["item_id"],
            channel=ChannelRef(row["platform"], row["scope_id"], row["channel_id"]),
            story_key=row["story_key"],
            kind=row["kind"],
            body=row["body"],
            ping_role=row["ping_role"],
            status=row["status"],
            attempts=row["attempts"],
            nonce=row["nonce"],
            message_id=row["message_id"],
            unsure=row["sending_at"] is not None,
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


@dataclass(frozen=True)
class UnchangedFetch:
    feed_id: int
    at: datetime
    next_at: datetime
    etag: str | None
    last_modified: str | None


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


_FEED_COLS = (
    "id, url, name, title, interval_minutes, paused, paused_reason, etag, last_modified, body_hash,"
    " next_fetch_at, last_fetch_at, last_success_at, last_error, last_error_at, failing_since,"
    " consecutive_failures, created_at"
)


def _order_key(item: ItemLike, index: int) -> tuple[str, int]:
    # Newest first: by date when known; feeds list newest first, so document order breaks ties.
    return (item.published or "", -index)


class FeedStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- feeds and subscriptions -------------------------------------------------------

    async def ensure_feed(self, url: str, now: datetime, *, name: str | None = None) -> int:
        async with self.db.transaction() as tx:
            return await self._ensure_feed(tx, url, now, name)

    async def _ensure_feed(self, tx: Tx, url: str, now: datetime, name: str | None) -> int:
        row = await tx.fetchone("SELECT id, name FROM feeds WHERE url = ?", (url,))
        if row is not None:
            if name and row["name"] != name:
                await tx.execute("UPDATE feeds SET name = ? WHERE id = ?", (name, row["id"]))
            return int(row["id"])
        cur = await tx.execute("INSERT INTO feeds(url, name, created_at) VALUES (?, ?, ?)", (url, name, iso(now)))
        return int(cur.lastrowid or 0)

    async def subscribe(
        self,
        url: str,
        channel: ChannelRef,
        now: datetime,
        *,
        name: str | None = None,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        latest: int = 0,
        mention_role: str | None = None,
        interval_minutes: int | None = None,
        source: str = "command",
        created_by: str | None = None,
    ) -> tuple[Subscription, bool]:
        """Create (or, for config, update in place) a subscription. Returns (sub, created)."""
        async with self.db.transaction() as tx:
            feed_id = await self._ensure_feed(tx, url, now, name)
            if interval_minutes is not None:
                await tx.execute("UPDATE feeds SET interval_minutes = ? WHERE id = ?", (interval_minutes, feed_id))
            row = await tx.fetchone(
                "SELECT id FROM feed_subscriptions"
                " WHERE feed_id = ? AND platform = ? AND scope_id = ? AND channel_id = ?",
                (feed_id, channel.platform, channel.scope_id, channel.channel_id),
            )
            created = row is None
            if created:
                cur = await tx.execute(
                    "INSERT INTO feed_subscriptions(feed_id, platform, scope_id, channel_id, include_json,"
                    " exclude_json, latest, mention_role, source, created_by, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        feed_id,
                        channel.platform,
                        channel.scope_id,
                        channel.channel_id,
                        json.dumps(list(include)),
                        json.dumps(list(exclude)),
                        latest,
                        mention_role,
                        source,
                        created_by,
                        iso(now),
                    ),
                )
                sub_id = int(cur.lastrowid or 0)
            else:
                assert row is not None
                sub_id = int(row["id"])
                await tx.execute(
                    "UPDATE feed_subscriptions SET include_json = ?, exclude_json = ?, latest = ?,"
                    " mention_role = ? WHERE id = ?",
                    (json.dumps(list(include)), json.dumps(list(exclude)), latest, mention_role, sub_id),
                )
            sub_row = await tx.fetchone("SELECT * FROM feed_subscriptions WHERE id = ?", (sub_id,))
            assert sub_row is not None
            return Subscription.from_row(sub_row), created

    async def remove_subscription(self, sub_id: int) -> Subscription | None:
        """Remove one subscription; a feed left with none is forgotten with its items."""
        async with self.db.transaction() as tx:
            row = await tx.fetchone("SELECT * FROM feed_subscriptions WHERE id = ?", (sub_id,))
            if row is None:
                return None
            sub = Subscription.from_row(row)
            await tx.execute(
                "DELETE FROM feed_deliveries WHERE subscription_id = ? AND status = 'pending'",
                (sub_id,),
            )
            await tx.execute("DELETE FROM feed_subscriptions WHERE id = ?", (sub_id,))
            left = await tx.fetchone("SELECT COUNT(*) FROM feed_subscriptions WHERE feed_id = ?", (sub.feed_id,))
            if left is not None and left[0] == 0:
                await tx.execute(
                    "DELETE FROM feed_deliveries WHERE item_id IN (SELECT id FROM feed_items WHERE feed_id = ?)",
                    (sub.feed_id,),
                )
                await tx.execute("DELETE FROM feeds WHERE id = ?", (sub.feed_id,))
            return sub

    async def feed(self, feed_id: int) -> Feed | None:
        row = await self.db.fetchone(f"SELECT {_FEED_COLS} FROM feeds WHERE id = ?", (feed_id,))
        return Feed.from_row(row) if row else None

    async def feed_by_url(self, url: str) -> Feed | None:
        row = await self.db.fetchone(f"SELECT {_FEED_COLS} FROM feeds WHERE url = ?", (url,))
        return Feed.from_row(row) if row else None

    async def feeds(self) -> list[Feed]:
        rows = await self.db.fetchall(f"SELECT {_FEED_COLS} FROM feeds ORDER BY id")
        return [Feed.from_row(r) for r in rows]

    async def subscription(self, sub_id: int) -> Subscription | None:
        row = await self.db.fetchone("SELECT * FROM feed_subscriptions WHERE id = ?", (sub_id,))
        return Subscription.from_row(row) if row else None

    async def subscriptions(
        self, *, feed_id: int | None = None, platform: str | None = None, scope_id: str | None = None
    ) -> list[Subscription]:
        sql = "SELECT * FROM feed_subscriptions WHERE 1 = 1"
        params: list[object] = []
        if feed_id is not None:
            sql += " AND feed_id = ?"
            params.append(feed_id)
        if platform is not None:
            sql += " AND platform = ?"
            params.append(platform)
        if scope_id is not None:
            sql += " AND scope_id = ?"
            params.append(scope_id)
        rows = await self.db.fetchall(sql + " ORDER BY id", params)
        return [Subscription.from_row(r) for r in rows]

    async def due_feeds(self, now: datetime, *, force: bool = False) -> list[Feed]:
        """Feeds to fetch now: not paused, with an active subscription, and due (or all, if forced)."""
        rows = await self.db.fetchall(
            f"SELECT {_FEED_COLS}, EXISTS (SELECT 1 FROM feed_subscriptions u WHERE u.feed_id = feeds.id"
            " AND u.primed != 1 AND u.paused = 0) AS unprimed FROM feeds WHERE paused = 0"
            " AND EXISTS (SELECT 1 FROM feed_subscriptions s WHERE s.feed_id = feeds.id AND s.paused = 0)"
            " AND (? OR next_fetch_at IS NULL OR next_fetch_at <= ?) ORDER BY next_fetch_at, id",
            (int(force), iso(now)),
        )
        return [Feed.from_row(r) for r in rows]

    async def next_fetch_time(self) -> datetime | None:
        row = await self.db.fetchone(
            "SELECT MIN(next_fetch_at) FROM feeds WHERE paused = 0"
            " AND EXISTS (SELECT 1 FROM feed_subscriptions s WHERE s.feed_id = feeds.id AND s.paused = 0)"
        )
        return from_iso(row[0]) if row and row[0] else None

    async def has_unprimed(self, feed_id: int) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM feed_subscriptions WHERE feed_id = ? AND primed != 1 AND paused = 0 LIMIT 1", (feed_id,)
        )
        return row is not None

    async def known_hashes(self, feed_id: int) -> dict[str, str]:
        rows = await self.db.fetchall("SELECT item_key, raw_hash FROM feed_items WHERE feed_id = ?", (feed_id,))
        return {r[0]: r[1] for r in rows}

    # -- fetch bookkeeping ---------------------------------------------------------------

    async def record_unchanged(self, rows: Sequence[UnchangedFetch]) -> None:
        """Bookkeeping for feeds that had nothing new, many in one transaction (a steady
        cycle is mostly these). Losing a batch in a crash only means fetching again."""
        if not rows:
            return
        async with self.db.transaction() as tx:
            await tx.executemany(
                "UPDATE feeds SET etag = ?, last_modified = ?, next_fetch_at = ?, last_fetch_at = ?,"
                " last_success_at = ?, last_error = NULL, failing_since = NULL, consecutive_failures = 0"
                " WHERE id = ?",
                [(r.etag, r.last_modified, iso(r.next_at), iso(r.at), iso(r.at), r.feed_id) for r in rows],
            )

    async def record_failure(self, feed_id: int, error: str, now: datetime, next_at: datetime) -> Feed | None:
        await self.db.execute(
            "UPDATE feeds SET last_error = ?, last_error_at = ?, last_fetch_at = ?, next_fetch_at = ?,"
            " failing_since = COALESCE(failing_since, ?), consecutive_failures = consecutive_failures + 1"
            " WHERE id = ?",
            (error[:300], iso(now), iso(now), iso(next_at), iso(now), feed_id),
        )
        return await self.feed(feed_id)

    async def pause(
        self, feed_id: int, reason: str, now: datetime, notices: Iterable[tuple[ChannelRef, str]] = ()
    ) -> None:
        """Pause a feed and queue the moderators' notices in the same transaction."""
        async with self.db.transaction() as tx:
            await tx.execute("UPDATE feeds SET paused = 1, paused_reason = ? WHERE id = ?", (reason[:300], feed_id))
            await tx.executemany(
                "INSERT INTO feed_deliveries(platform, scope_id, channel_id, kind, body, next_attempt_at, nonce,"
                " created_at) VALUES (?, ?, ?, 'notice', ?, ?, ?, ?)",
                [(c.platform, c.scope_id, c.channel_id, text, iso(now), new_nonce(), iso(now)) for c, text in notices],
            )

    async def set_subscription_paused(self, sub_id: int, paused: bool) -> None:
        """While paused, the channel's queued deliveries wait (due_deliveries skips them).
        Resuming makes the channel see the feed afresh: the next fetch records everything
        there, including what arrived during the pause, and posts none of it (`latest` is
        for first sight only). A channel that never saw the feed keeps its first sight."""
        await self.db.execute(
            "UPDATE feed_subscriptions SET paused = ?,"
            " primed = CASE WHEN ? OR primed = 0 THEN primed ELSE 2 END WHERE id = ?",
            (int(paused), int(paused), sub_id),
        )

    async def resume(self, feed_id: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE feeds SET paused = 0, paused_reason = NULL, failing_since = NULL, consecutive_failures = 0,"
            " next_fetch_at = ? WHERE id = ?",
            (iso(now), feed_id),
        )

    # -- ingest: the outbox write --------------------------------------------------------

    async def ingest(
        self,
        feed_id: int,
        feed_title: str,
        items: Sequence[ItemLike],
        accepts: Accepts,
        now: datetime,
        next_at: datetime,
        *,
        etag: str | None,
        last_modified: str | None,
        body_hash: str | None,
    ) -> IngestReport:
        """Record items and queue deliveries, all in one transaction with the feed's new state."""
        report = IngestReport(seen=len(items))
        stamp = iso(now)
        async with self.db.transaction() as tx:
            existing = await tx.fetchall(
                "SELECT id, item_key, story_key, raw_hash, content_hash FROM feed_items WHERE feed_id = ?", (feed_id,)
            )
            by_key = {r["item_key"]: r for r in existing}
            by_story = {r["story_key"]: r for r in existing}
            subs = [
                Subscription.from_row(r)
                for r in await tx.fetchall("SELECT * FROM feed_subscriptions WHERE feed_id = ?", (feed_id,))
            ]
            new_items: list[tuple[int, ItemLike]] = []
            changed_ids: list[tuple[int, str]] = []  # (item id, story key)
            present: list[tuple[int, ItemLike]] = []  # every parsed item, deduplicated, with its index
            seen_keys: set[str] = set()
            for index, item in enumerate(items):
                if item.item_key in seen_keys or item.story_key in seen_keys:
                    continue
                seen_keys.update((item.item_key, item.story_key))
                row = by_key.get(item.item_key) or by_story.get(item.story_key)
                present.append((index, item))
                if row is None:
                    new_items.append((index, item))
                    continue
                if row["item_key"] != item.item_key and item.item_key not in by_key:
                    # Same story, new GUID (some feeds mint one per fetch): follow it, post nothing.
                    await tx.execute("UPDATE feed_items SET item_key = ? WHERE id = ?", (item.item_key, row["id"]))
                if item.raw_hash == row["raw_hash"] or item.summary is None or item.content_hash is None:
                    continue
                if item.content_hash == row["content_hash"]:
                    await tx.execute("UPDATE feed_items SET raw_hash = ? WHERE id = ?", (item.raw_hash, row["id"]))
                    continue
                await tx.execute(
                    "UPDATE feed_items SET title = ?, summary = ?, link = COALESCE(?, link), raw_hash = ?,"
                    " content_hash = ?, updated_at = ? WHERE id = ?",
                    (item.title, item.summary, item.link, item.raw_hash, item.content_hash, stamp, row["id"]),
                )
                changed_ids.append((int(row["id"]), row["story_key"]))
            if new_items:
                await tx.executemany(
                    "INSERT INTO feed_items(feed_id, item_key, story_key, raw_hash, content_hash, title, link,"
                    " summary, published, first_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            feed_id,
                            it.item_key,
                            it.story_key,
                            it.raw_hash,
                            it.content_hash or "",
                            it.title,
                            it.link,
                            it.summary or "",
                            it.published,
                            stamp,
                        )
                        for _, it in new_items
                    ],
                )
            ids = {
                r["item_key"]: int(r["id"])
                for r in await tx.fetchall("SELECT id, item_key FROM feed_items WHERE feed_id = ?", (feed_id,))
            }
            report.new = len(new_items)
            report.changed = len(changed_ids)

            rows: list[tuple[object, ...]] = []
            for sub in subs:
                if sub.paused:
                    continue  # a paused channel misses what arrives meanwhile, by design
                if sub.resuming:
                    report.resumed.append(sub.id)  # what is there now came during the pause
                    continue
                if not sub.primed:
                    report.primed.append(sub.id)
                    if any(it.summary is None for _, it in present):
                        # Unchanged items were not re-rendered: filter them on stored text.
                        matching = await self._filter_stored(tx, feed_id, present, sub, accepts)
                    else:
                        matching = [(i, it) for i, it in present if accepts(sub, it.title, it.summary or "")]
                    report.would_post += len(matching)
                    chosen = sorted(matching, key=lambda p: _order_key(p[1], p[0]), reverse=True)[: sub.latest]
                    to_post = sorted(chosen, key=lambda p: _order_key(p[1], p[0]))
                else:
                    to_post = sorted(
                        [(i, it) for i, it in new_items if accepts(sub, it.title, it.summary or "")],
                        key=lambda p: _order_key(p[1], p[0]),
                    )
                for _, it in to_post:
                    rows.append(self._delivery_row(sub, ids[it.item_key], it.story_key, "post", stamp))
            if changed_ids:
                rows += await self._update_rows(tx, subs, changed_ids, stamp)
            if rows:
                before = await tx.fetchone("SELECT total_changes()")
                await tx.executemany(
                    "INSERT OR IGNORE INTO feed_deliveries(subscription_id, item_id, platform, scope_id, channel_id,"
                    " story_key, kind, ping_role, next_attempt_at, nonce, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                after = await tx.fetchone("SELECT total_changes()")
                report.queued = int(after[0] - before[0]) if before and after else len(rows)
            if report.primed or report.resumed:
                seen = [*report.primed, *report.resumed]
                await tx.execute(
                    f"UPDATE feed_subscriptions SET primed = 1 WHERE id IN ({','.join('?' * len(seen))})", seen
                )
            await tx.execute(
                "UPDATE feeds SET title = ?, etag = ?, last_modified = ?, body_hash = ?, next_fetch_at = ?,"
                " last_fetch_at = ?, last_success_at = ?, last_error = NULL, failing_since = NULL,"
                " consecutive_failures = 0 WHERE id = ?",
                (feed_title, etag, last_modified, body_hash, iso(next_at), stamp, stamp, feed_id),
            )
        return report

    @staticmethod
    def _delivery_row(sub: Subscription, item_id: int, story: str, kind: str, stamp: str) -> tuple[object, ...]:
        c = sub.channel
        role = sub.mention_role if kind == "post" else None
        return (sub.id, item_id, c.platform, c.scope_id, c.channel_id, story, kind, role, stamp, new_nonce(), stamp)

    async def _filter_stored(
        self, tx: Tx, feed_id: int, present: list[tuple[int, ItemLike]], sub: Subscription, accepts: Accepts
    ) -> list[tuple[int, ItemLike]]:
        rows = await tx.fetchall("SELECT item_key, title, summary FROM feed_items WHERE feed_id = ?", (feed_id,))
        stored = {r["item_key"]: (r["title"], r["summary"]) for r in rows}
        out = []
        for i, it in present:
            title, summary = (
                (it.title, it.summary) if it.summary is not None else stored.get(it.item_key, (it.title, ""))
            )
            if accepts(sub, title, summary or ""):
                out.append((i, it))
        return out

    async def _update_rows(
        self, tx: Tx, subs: list[Subscription], changed: list[tuple[int, str]], stamp: str
    ) -> list[tuple[object, ...]]:
        """An update for every channel where this item's post already went out. A post still
        pending needs nothing: it is rendered from the item's latest text when sent."""
        rows: list[tuple[object, ...]] = []
        for item_id, story in changed:
            for sub in subs:
                c = sub.channel
                posted = await tx.fetchone(
                    "SELECT status FROM feed_deliveries WHERE kind = 'post' AND platform = ? AND scope_id = ?"
                    " AND channel_id = ? AND story_key = ? AND item_id = ?",
                    (c.platform, c.scope_id, c.channel_id, story, item_id),
                )
                if posted is not None and posted["status"] == "sent":
                    rows.append(self._delivery_row(sub, item_id, story, "update", stamp))
        return rows

    # -- deliveries ----------------------------------------------------------------------

    async def due_deliveries(self, now: datetime, platforms: Iterable[str], limit: int = 200) -> list[Delivery]:
        plats = sorted(set(platforms))
        if not plats:
            return []
        # A paused channel's deliveries wait for it to be resumed. Unsure ones (an earlier try
        # may have been posted) go first: Discord recognises its nonce only for a few minutes.
        rows = await self.db.fetchall(
            "SELECT d.* FROM feed_deliveries d LEFT JOIN feed_subscriptions s ON s.id = d.subscription_id"
            " WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND COALESCE(s.paused, 0) = 0"
            f" AND d.platform IN ({','.join('?' * len(plats))})"
            " ORDER BY d.sending_at IS NULL, d.id LIMIT ?",
            (iso(now), *plats, limit),
        )
        return [Delivery.from_row(r) for r in rows]

    async def next_delivery_time(self, platforms: Iterable[str]) -> datetime | None:
        plats = sorted(set(platforms))
        if not plats:
            return None
        row = await self.db.fetchone(
            "SELECT MIN(d.next_attempt_at) FROM feed_deliveries d"
            " LEFT JOIN feed_subscriptions s ON s.id = d.subscription_id"
            " WHERE d.status = 'pending' AND COALESCE(s.paused, 0) = 0"
            f" AND d.platform IN ({','.join('?' * len(plats))})",
            plats,
        )
        return from_iso(row[0]) if row and row[0] else None

    async def item(self, item_id: int) -> StoredItem | None:
        row = await self.db.fetchone(
            "SELECT i.id, i.feed_id, i.title, i.link, i.summary, i.published, i.updated_at,"
            " COALESCE(f.name, f.title, f.url) AS feed_name FROM feed_items i JOIN feeds f ON f.id = i.feed_id"
            " WHERE i.id = ?",
            (item_id,),
        )
        return StoredItem(**dict(row)) if row else None

    async def original_message(self, d: Delivery) -> str | None:
        row = await self.db.fetchone(
            "SELECT message_id FROM feed_deliveries WHERE kind = 'post' AND status = 'sent' AND platform = ?"
            " AND scope_id = ? AND channel_id = ? AND story_key = ?",
            (d.channel.platform, d.channel.scope_id, d.channel.channel_id, d.story_key),
        )
        return row["message_id"] if row else None

    async def mark_sending(self, delivery_id: int, now: datetime) -> None:
        """Recorded (committed) before the platform is called: see migration 0004. Cleared only
        when the outcome is known (sent, or failed for good); a retry keeps it, so the next try
        is made as unsure (Slack checks its history first), even after a restart."""
        await self.db.execute("UPDATE feed_deliveries SET sending_at = ? WHERE id = ?", (iso(now), delivery_id))

    async def settle_in_flight(self, now: datetime, platform: str | None = None) -> int:
        """Make every unsure delivery (of `platform`, or all) due now: at start, and when an
        adapter connects, so each is settled while Discord still recognises its nonce."""
        where = "status = 'pending' AND sending_at IS NOT NULL" + (" AND platform = ?" if platform else "")
        return await self.db.execute(
            f"UPDATE feed_deliveries SET next_attempt_at = ? WHERE {where}",
            (iso(now), *([platform] if platform else [])),
        )

    async def mark_sent(self, delivery_id: int, message_id: str | None, now: datetime) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE feed_deliveries SET status = 'sent', message_id = ?, sent_at = ?, attempts = attempts + 1,"
                " last_error = NULL, sending_at = NULL WHERE id = ?",
                (message_id, iso(now), delivery_id),
            )
            fault_point("commit")  # the crash tests stop here: recorded, not yet committed

    async def mark_retry(self, delivery_id: int, error: str, next_at: datetime) -> None:
        await self.db.execute(
            "UPDATE feed_deliveries SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?",
            (error[:300], iso(next_at), delivery_id),
        )

    async def mark_failed(self, delivery_id: int, error: str) -> None:
        await self.db.execute(
            "UPDATE feed_deliveries SET status = 'failed', attempts = attempts + 1, last_error = ?,"
            " sending_at = NULL WHERE id = ?",
            (error[:300], delivery_id),
        )

    async def delivery_counts(self) -> dict[int, dict[str, int]]:
        """Per feed: posts sent, deliveries pending and failed."""
        rows = await self.db.fetchall(
            "SELECT i.feed_id AS feed_id, d.status AS status, COUNT(*) AS n FROM feed_deliveries d"
            " JOIN feed_items i ON i.id = d.item_id WHERE d.kind = 'post' GROUP BY i.feed_id, d.status"
        )
        out: dict[int, dict[str, int]] = {}
        for r in rows:
            out.setdefault(r["feed_id"], {})[r["status"]] = r["n"]
        return out

    async def subscription_counts(self) -> dict[int, dict[str, int]]:
        """Per subscription: posts sent, pending and failed."""
        rows = await self.db.fetchall(
            "SELECT subscription_id, status, COUNT(*) AS n FROM feed_deliveries"
            " WHERE kind = 'post' AND subscription_id IS NOT NULL GROUP BY subscription_id, status"
        )
        out: dict[int, dict[str, int]] = {}
        for r in rows:
            out.setdefault(r["subscription_id"], {})[r["status"]] = r["n"]
        return out

    async def recent_items(self, feed_id: int, limit: int) -> list[StoredItem]:
        rows = await self.db.fetchall(
            "SELECT i.id, i.feed_id, i.title, i.link, i.summary, i.published, i.updated_at,"
            " COALESCE(f.name, f.title, f.url) AS feed_name FROM feed_items i JOIN feeds f ON f.id = i.feed_id"
            " WHERE i.feed_id = ? ORDER BY COALESCE(i.published, i.first_seen_at) DESC, i.id LIMIT ?",
            (feed_id, limit),
        )
        return [StoredItem(**dict(r)) for r in rows]
