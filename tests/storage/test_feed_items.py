"""What an item row keeps (migration 0006): keys and hashes for dedup, text only while a
delivery is pending, forgetting what left the feed beyond the window; ingest reads only the
fetched keys. On both backends (a real SQLite file, a throwaway PostgreSQL) where they
share the behaviour; the query-plan and 0006 upgrade tests are SQLite's own."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.model import ChannelRef
from storage.db import Database as SqliteDatabase
from storage.db import bundled_migrations
from storage.feeds import FeedStore, IngestReport
from storage.feeds.items import FORGET_AFTER, _h, _read_stored
from storage.handle import Database

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
CHANNEL = ChannelRef("console", "forum", "news")


def _hex(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Item:
    """An ItemLike as the parser makes one (text rendered)."""

    item_key: str
    story_key: str
    title: str
    summary: str | None
    link: str | None = None
    published: str | None = None

    @property
    def raw_hash(self) -> str:
        return _hex("raw", self.title, self.summary or "")

    @property
    def content_hash(self) -> str | None:
        return None if self.summary is None else _hex(self.title, self.summary)


def item(n: int, title: str | None = None, summary: str | None = None) -> Item:
    return Item(
        f"guid:{n}",
        f"link:https://e.org/{n}",
        title or f"Story {n}",
        summary if summary is not None else f"About story {n}.",
        link=f"https://e.org/{n}",
        published=f"2026-11-{n % 28 + 1:02d}T09:00:00Z",
    )


def accept_all(sub: object, title: str, summary: str) -> bool:
    return True


async def ingest(store: FeedStore, feed_id: int, items: Sequence[Item], now: datetime) -> IngestReport:
    return await store.ingest(
        feed_id,
        "Feed",
        items,
        accept_all,
        now,
        now + timedelta(minutes=30),
        etag=None,
        last_modified=None,
        body_hash=None,
    )


async def send_all(store: FeedStore, now: datetime) -> list[int]:
    """Mark every due delivery sent; returns their ids."""
    sent = []
    for d in await store.due_deliveries(now, ["console"]):
        await store.mark_sent(d.id, f"m{d.id}", now)
        sent.append(d.id)
    return sent


async def text_of(db: Database, item_id: int) -> tuple[str | None, str | None]:
    """The item's stored text, (None, None) when none is kept."""
    assert await db.fetchone("SELECT 1 FROM feed_items WHERE id = ?", (item_id,)) is not None
    row = await db.fetchone("SELECT title, summary FROM feed_item_texts WHERE item_id = ?", (item_id,))
    return (row["title"], row["summary"]) if row else (None, None)


async def item_id(db: Database, n: int) -> int:
    row = await db.fetchone("SELECT id FROM feed_items WHERE key_id = ?", (_h(f"guid:{n}"),))
    assert row is not None
    return int(row[0])


async def primed_store(db: Database, items: Sequence[Item]) -> tuple[FeedStore, int]:
    store = FeedStore(db)
    sub, _ = await store.subscribe("https://e.org/feed", CHANNEL, T0)
    await ingest(store, sub.feed_id, items, T0)  # first sight: recorded, nothing posted
    return store, sub.feed_id


async def test_text_is_dropped_once_delivered_and_a_change_still_edits_the_post(database: Database) -> None:
    db = database
    store, feed_id = await primed_store(db, [item(1)])
    assert await text_of(db, await item_id(db, 1)) == (None, None)  # nothing to deliver: no text kept
    report = await ingest(store, feed_id, [item(2), item(1)], T0 + timedelta(hours=1))
    assert report.new == 1 and report.queued == 1
    new_id = await item_id(db, 2)
    assert await text_of(db, new_id) == ("Story 2", "About story 2.")  # kept while the post waits
    stored = await store.item(new_id)
    assert stored is not None and stored.title == "Story 2" and stored.link == "https://e.org/2"

    [post_id] = await send_all(store, T0 + timedelta(hours=1))
    assert await text_of(db, new_id) == (None, None)
    row = await db.fetchone("SELECT nonce, next_attempt_at, message_id FROM feed_deliveries WHERE id = ?", (post_id,))
    assert row is not None and (row["nonce"], row["next_attempt_at"], row["message_id"]) == (
        None,
        None,
        f"m{post_id}",
    )

    # A date bump does nothing.
    bumped = replace(item(2), published="2026-11-28T10:00:00Z")
    report = await ingest(store, feed_id, [bumped, item(1)], T0 + timedelta(hours=2))
    assert (report.new, report.changed, report.queued) == (0, 0, 0)

    # A change: the text comes back from the fetch, an update waits, and it edits the post.
    changed = item(2, title="Story 2 (corrected)")
    report = await ingest(store, feed_id, [changed, item(1)], T0 + timedelta(hours=3))
    assert (report.changed, report.queued) == (1, 1)
    [update] = await store.due_deliveries(T0 + timedelta(hours=3), ["console"])
    assert update.kind == "update" and await store.original_message(update) == f"m{post_id}"
    stored = await store.item(new_id)
    assert stored is not None and stored.title == "Story 2 (corrected)" and stored.summary == "About story 2."
    await store.mark_sent(update.id, f"m{post_id}", T0 + timedelta(hours=3))
    assert await text_of(db, new_id) == (None, None)
    sub = (await store.subscriptions())[0]
    assert sub.posts_sent == 1  # posts only; the edit is not a second post


async def test_a_failed_delivery_drops_the_text_too(database: Database) -> None:
    db = database
    store, feed_id = await primed_store(db, [item(1)])
    await ingest(store, feed_id, [item(2), item(1)], T0 + timedelta(hours=1))
    [d] = await store.due_deliveries(T0 + timedelta(hours=1), ["console"])
    await store.mark_failed(d.id, "unknown channel")
    assert await text_of(db, await item_id(db, 2)) == (None, None)


async def test_first_sight_of_a_second_channel_posts_an_item_whose_text_was_dropped(database: Database) -> None:
    db = database
    store, feed_id = await primed_store(db, [item(1)])
    other = ChannelRef("console", "forum", "other")
    await store.subscribe("https://e.org/feed", other, T0, latest=1)
    report = await ingest(store, feed_id, [item(1)], T0 + timedelta(hours=1))
    assert report.queued == 1
    [d] = await store.due_deliveries(T0 + timedelta(hours=1), ["console"])
    assert d.channel_id == "other"
    stored = await store.item(int(d.item_id or 0))
    assert stored is not None and stored.title == "Story 1" and stored.summary == "About story 1."


async def test_an_item_back_within_the_window_is_not_posted_again(database: Database) -> None:
    db = database
    store, feed_id = await primed_store(db, [item(1)])
    await ingest(store, feed_id, [item(2), item(1)], T0 + timedelta(hours=1))
    await send_all(store, T0 + timedelta(hours=1))
    left = T0 + timedelta(days=1)
    await ingest(store, feed_id, [item(3)], left)  # 1 and 2 leave the feed
    await send_all(store, left)
    row = await db.fetchone("SELECT gone_at FROM feed_items WHERE id = ?", (await item_id(db, 2),))
    assert row is not None and row[0] == int(left.timestamp())

    back = left + FORGET_AFTER - timedelta(days=1)
    report = await ingest(store, feed_id, [item(3), item(2), item(1)], back)
    assert (report.new, report.queued, report.forgotten) == (0, 0, 0)
    row = await db.fetchone("SELECT gone_at FROM feed_items WHERE id = ?", (await item_id(db, 2),))
    assert row is not None and row[0] is None  # listed again


async def test_items_gone_longer_than_the_window_are_forgotten_with_their_deliveries(database: Database) -> None:
    db = database
    store, feed_id = await primed_store(db, [item(1)])
    await ingest(store, feed_id, [item(2), item(1)], T0 + timedelta(hours=1))
    await send_all(store, T0 + timedelta(hours=1))
    left = T0 + timedelta(days=1)
    await ingest(store, feed_id, [item(3)], left)
    await send_all(store, left)
    # A feed that sends the same bytes (304) keeps what it lists: no fetch forgets item 3.
    report = await ingest(store, feed_id, [item(4), item(3)], left + FORGET_AFTER + timedelta(seconds=1))
    assert report.forgotten == 2
    kept = await db.fetchall("SELECT id FROM feed_items ORDER BY id")
    assert [r[0] for r in kept] == [await item_id(db, 3), await item_id(db, 4)]
    posts = await db.fetchall("SELECT item_id, status FROM feed_deliveries ORDER BY id")
    # Item 2's post went with it; item 3's stays (the feed still lists it); item 4's waits.
    assert [tuple(p) for p in posts] == [(await item_id(db, 3), "sent"), (await item_id(db, 4), "pending")]
    sub = (await store.subscriptions())[0]
    assert sub.posts_sent == 2  # the count of posts made is history, not rows


async def test_ingest_reads_only_the_fetched_keys_through_an_index(tmp_path: Path) -> None:
    history = [item(n) for n in range(1, 400)]
    db = await SqliteDatabase.open(tmp_path / "bot.sqlite3")
    _, feed_id = await primed_store(db, history)
    try:
        fetched = [item(5), item(6, title="Story 6 changed"), item(1000)]
        async with db.transaction() as tx:
            rows = await _read_stored(tx, feed_id, fetched)
            assert len(rows) == 2  # of 399 stored
            traced: list[str] = []
            await db._conn.set_trace_callback(traced.append)
            try:
                await _read_stored(tx, feed_id, fetched)
            finally:
                await db._conn.set_trace_callback(None)  # type: ignore[arg-type]  # None turns it off (sqlite3)
            [sql] = [s for s in traced if s.lstrip().upper().startswith("SELECT")]
            plan = [r[3] for r in await tx.fetchall("EXPLAIN QUERY PLAN " + sql)]
        assert any("feed_items_key" in p for p in plan) and any("feed_items_story" in p for p in plan), plan
        assert not any(p.startswith("SCAN feed_items") for p in plan), plan
    finally:
        await db.close()


async def test_migration_0006_keeps_the_items_and_their_dedup(tmp_path: Path) -> None:
    """A database made by migrations 0001-0004, with a delivered item, a pending post and a
    failed one, upgrades: nothing is posted twice, text stays only where a post waits."""
    path = tmp_path / "old.sqlite3"
    old = await SqliteDatabase.open(path, [m for m in bundled_migrations() if m.version <= 4])
    stamp = "2026-11-27T11:00:00Z"
    await old.execute(
        "INSERT INTO feeds(id, url, created_at) VALUES (1, 'https://e.org/feed', ?)",
        (stamp,),
    )
    await old.execute(
        "INSERT INTO feed_subscriptions(id, feed_id, platform, scope_id, channel_id, primed, created_at)"
        " VALUES (1, 1, 'console', 'forum', 'news', 1, ?)",
        (stamp,),
    )
    for n in (1, 2, 3):
        it = item(n)
        await old.execute(
            "INSERT INTO feed_items(id, feed_id, item_key, story_key, raw_hash, content_hash, title, link, summary,"
            " published, first_seen_at) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                n,
                it.item_key,
                it.story_key,
                it.raw_hash,
                it.content_hash,
                it.title,
                it.link,
                it.summary,
                it.published,
                stamp,
            ),
        )
    for n, status, message in ((1, "sent", "m1"), (2, "pending", None), (3, "failed", None)):
        await old.execute(
            "INSERT INTO feed_deliveries(subscription_id, item_id, platform, scope_id, channel_id, story_key, kind,"
            " status, next_attempt_at, message_id, nonce, created_at) VALUES (1, ?, 'console', 'forum', 'news', ?,"
            " 'post', ?, ?, ?, ?, ?)",
            (n, item(n).story_key, status, stamp, message, f"n{n}", stamp),
        )
    await old.close()

    db = await SqliteDatabase.open(path)
    try:
        assert await db.applied_versions() == [m.version for m in bundled_migrations()]
        assert await text_of(db, 1) == (None, None)
        assert await text_of(db, 2) == ("Story 2", "About story 2.")  # its post still waits
        assert await text_of(db, 3) == (None, None)
        rows = await db.fetchall("SELECT item_id, status, nonce, next_attempt_at FROM feed_deliveries ORDER BY id")
        assert [tuple(r) for r in rows] == [
            (1, "sent", None, None),
            (2, "pending", "n2", stamp),
            (3, "failed", None, None),
        ]
        store = FeedStore(db)
        [sub] = await store.subscriptions()
        assert sub.posts_sent == 1

        # The same items after the upgrade: recognised, nothing new, nothing queued.
        now = T0 + timedelta(hours=1)
        report = await ingest(store, 1, [item(1), item(2), item(3)], now)
        assert (report.new, report.changed, report.queued) == (0, 0, 0)
        [waiting] = await store.due_deliveries(now, ["console"])
        assert waiting.item_id == 2 and waiting.nonce == "n2"
        rendered = await store.item(2)
        assert rendered is not None and rendered.title == "Story 2"
        # A change to the delivered one still edits its post.
        report = await ingest(store, 1, [item(1, title="Story 1 (corrected)"), item(2), item(3)], now)
        assert report.queued == 1
        update = next(d for d in await store.due_deliveries(now, ["console"]) if d.kind == "update")
        assert await store.original_message(update) == "m1"
        # The same story from another feed in the same channel: still one post per story per
        # channel (the migration's post_key, made in SQL, is the one ingest makes).
        other, _ = await store.subscribe("https://other.org/feed", CHANNEL, now)
        await ingest(store, other.feed_id, [item(9)], now)  # first sight
        again = replace(item(1), item_key="guid:other-1")
        report = await ingest(store, other.feed_id, [again, item(9)], now)
        assert (report.new, report.queued) == (1, 0)
        assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        await db.close()
