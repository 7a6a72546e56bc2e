"""Feeds, the channels subscribed to them, and each feed's fetch state.

What changes here: which feeds are followed and by whom (subscribe, remove, pause a
channel), and when a feed is fetched next (due, failing, paused, resumed). What a fetch
brought is items.py; what is waiting to be posted is outbox.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from storage.feeds.items import drop_delivered_text
from storage.feeds.records import (
    FEED_COLS,
    ChannelLike,
    Feed,
    Subscription,
    Timing,
    UnchangedFetch,
    from_iso,
    iso,
    new_nonce,
)
from storage.handle import Database, Tx
from storage.turns import take_turns

# A subscription (alias p) that posts from a fetch: active, and it has seen the feed (it
# posts new items) or asks for the `latest` items on first sight. Resuming ones post nothing.
POSTING = "p.paused = 0 AND (p.primed = 1 OR p.latest > 0)"


async def _set_timing(tx: Tx, sub_id: int, t: Timing) -> None:
    await tx.execute(
        "UPDATE feed_subscriptions SET mode = ?, digest_at = ?, digest_every = ?, digest_day = ?, quiet_hours = ?"
        " WHERE id = ?",
        (t.mode, t.digest_at, t.digest_every, t.digest_day, t.quiet_hours, sub_id),
    )


class Subscriptions:
    """FeedStore's feeds and subscriptions (a mixin: FeedStore sets `db`)."""

    db: Database

    async def ensure_feed(self, url: str, now: datetime, *, name: str | None = None) -> int:
        async with self.db.transaction() as tx:
            return await self._ensure_feed(tx, url, now, name)

    async def _ensure_feed(self, tx: Tx, url: str, now: datetime, name: str | None) -> int:
        # Instances sharing PostgreSQL add a feed (and subscribe to it) one at a time per URL.
        await take_turns(self.db, tx, f"feed:{url}")
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
        channel: ChannelLike,
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
        timing: Timing | None = None,
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
            if timing is not None:
                await _set_timing(tx, sub_id, timing)
            sub_row = await tx.fetchone("SELECT * FROM feed_subscriptions WHERE id = ?", (sub_id,))
            assert sub_row is not None
            return Subscription.from_row(sub_row), created

    async def set_timing(self, sub_id: int, timing: Timing) -> None:
        """A subscription's mode and quiet hours (`!feeds set`). Posts already held keep
        their time; new ones follow the new setting."""
        async with self.db.transaction() as tx:
            await _set_timing(tx, sub_id, timing)

    async def remove_subscription(self, sub_id: int) -> Subscription | None:
        """Remove one subscription; a feed left with none is forgotten with its items."""
        async with self.db.transaction() as tx:
            row = await tx.fetchone("SELECT * FROM feed_subscriptions WHERE id = ?", (sub_id,))
            if row is None:
                return None
            sub = Subscription.from_row(row)
            waiting = await tx.fetchall(
                "SELECT item_id FROM feed_deliveries WHERE subscription_id = ? AND status = 'pending'"
                " AND item_id IS NOT NULL",
                (sub_id,),
            )
            await tx.execute(
                "DELETE FROM feed_deliveries WHERE subscription_id = ? AND status = 'pending'",
                (sub_id,),
            )
            await drop_delivered_text(tx, [int(r["item_id"]) for r in waiting])
            await tx.execute("DELETE FROM feed_subscriptions WHERE id = ?", (sub_id,))
            left = await tx.fetchone("SELECT COUNT(*) FROM feed_subscriptions WHERE feed_id = ?", (sub.feed_id,))
            if left is not None and left[0] == 0:
                await tx.execute(
                    "DELETE FROM feed_deliveries WHERE item_id IN (SELECT id FROM feed_items WHERE feed_id = ?)",
                    (sub.feed_id,),
                )
                await tx.execute("DELETE FROM feeds WHERE id = ?", (sub.feed_id,))
            return sub

    # -- reading (on the read-only connection: committed rows, never behind a write) -----

    async def feed(self, feed_id: int) -> Feed | None:
        row = await self.db.reader.fetchone(f"SELECT {FEED_COLS} FROM feeds WHERE id = ?", (feed_id,))
        return Feed.from_row(row) if row else None

    async def feed_by_url(self, url: str) -> Feed | None:
        row = await self.db.reader.fetchone(f"SELECT {FEED_COLS} FROM feeds WHERE url = ?", (url,))
        return Feed.from_row(row) if row else None

    async def feeds(self, *, ids: Iterable[int] | None = None) -> list[Feed]:
        """Every feed, or only those with these ids (a server's, for `!feeds list`)."""
        if ids is None:
            rows = await self.db.reader.fetchall(f"SELECT {FEED_COLS} FROM feeds ORDER BY id")
            return [Feed.from_row(r) for r in rows]
        wanted = sorted(set(ids))
        found: list[Feed] = []
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            rows = await self.db.reader.fetchall(
                f"SELECT {FEED_COLS} FROM feeds WHERE id IN ({','.join('?' * len(chunk))}) ORDER BY id", chunk
            )
            found += [Feed.from_row(r) for r in rows]
        return found

    async def subscription(self, sub_id: int) -> Subscription | None:
        row = await self.db.reader.fetchone("SELECT * FROM feed_subscriptions WHERE id = ?", (sub_id,))
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
        rows = await self.db.reader.fetchall(sql + " ORDER BY id", params)
        return [Subscription.from_row(r) for r in rows]

    # -- when to fetch -------------------------------------------------------------------

    async def due_feeds(self, now: datetime, *, force: bool = False) -> list[Feed]:
        """Feeds to fetch now: not paused, with an active subscription, and due (or all, if forced)."""
        rows = await self.db.fetchall(
            f"SELECT {FEED_COLS}, EXISTS (SELECT 1 FROM feed_subscriptions u WHERE u.feed_id = feeds.id"
            " AND u.primed != 1 AND u.paused = 0) AS unprimed,"
            f" EXISTS (SELECT 1 FROM feed_subscriptions p WHERE p.feed_id = feeds.id AND {POSTING}) AS posting"
            " FROM feeds WHERE paused = 0"
            " AND EXISTS (SELECT 1 FROM feed_subscriptions s WHERE s.feed_id = feeds.id AND s.paused = 0)"
            " AND (? = 1 OR next_fetch_at IS NULL OR next_fetch_at <= ?) ORDER BY next_fetch_at NULLS FIRST, id",
            (int(force), iso(now)),
        )
        return [Feed.from_row(r) for r in rows]

    async def next_fetch_time(self) -> datetime | None:
        row = await self.db.fetchone(
            "SELECT MIN(next_fetch_at) FROM feeds WHERE paused = 0"
            " AND EXISTS (SELECT 1 FROM feed_subscriptions s WHERE s.feed_id = feeds.id AND s.paused = 0)"
        )
        return from_iso(row[0]) if row and row[0] else None

    async def has_posting(self, feed_id: int) -> bool:
        """A subscription would post from this feed's next fetch (see Feed.posting)."""
        row = await self.db.fetchone(
            f"SELECT 1 FROM feed_subscriptions p WHERE p.feed_id = ? AND {POSTING} LIMIT 1", (feed_id,)
        )
        return row is not None

    async def has_unprimed(self, feed_id: int) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM feed_subscriptions WHERE feed_id = ? AND primed != 1 AND paused = 0 LIMIT 1", (feed_id,)
        )
        return row is not None

    # -- fetch bookkeeping (a fetch that brought items is written by Items.ingest) --------

    async def record_unchanged(self, rows: Sequence[UnchangedFetch]) -> None:
        """Bookkeeping for feeds that had nothing new, many in one transaction (a steady
        cycle is mostly these). Losing a batch in a crash only means fetching again."""
        if not rows:
            return

        async def write(tx: Tx) -> int:  # awaits only its statement: one trip (storage/thread_tx.py)
            return await tx.executemany(
                "UPDATE feeds SET etag = ?, last_modified = ?, next_fetch_at = ?, last_fetch_at = ?,"
                " last_success_at = ?, last_error = NULL, failing_since = NULL, consecutive_failures = 0"
                " WHERE id = ?",
                [(r.etag, r.last_modified, iso(r.next_at), iso(r.at), iso(r.at), r.feed_id) for r in rows],
            )

        await self.db.run_transaction(write)

    async def record_failure(self, feed_id: int, error: str, now: datetime, next_at: datetime) -> Feed | None:
        await self.db.execute(
            "UPDATE feeds SET last_error = ?, last_error_at = ?, last_fetch_at = ?, next_fetch_at = ?,"
            " failing_since = COALESCE(failing_since, ?), consecutive_failures = consecutive_failures + 1"
            " WHERE id = ?",
            (error[:300], iso(now), iso(now), iso(next_at), iso(now), feed_id),
        )
        return await self.feed(feed_id)

    # -- pausing -------------------------------------------------------------------------

    async def pause(
        self, feed_id: int, reason: str, now: datetime, notices: Iterable[tuple[ChannelLike, str]] = ()
    ) -> None:
        """Pause a feed and queue the moderators' notices in the same transaction (they are
        outbox rows, sent like posts: see outbox.py)."""
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
            " primed = CASE WHEN ? = 1 OR primed = 0 THEN primed ELSE 2 END WHERE id = ?",
            (int(paused), int(paused), sub_id),
        )

    async def resume(self, feed_id: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE feeds SET paused = 0, paused_reason = NULL, failing_since = NULL, consecutive_failures = 0,"
            " next_fetch_at = ? WHERE id = ?",
            (iso(now), feed_id),
        )
