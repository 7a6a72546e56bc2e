"""What the !feeds commands ask of the database: every query reaches items and deliveries
through an index, and the read-only commands are answered while a write is in progress."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.model import ChannelRef
from storage.db import Database
from storage.feeds import FeedStore
from tests.storage.test_feed_items import accept_all, item
from tests.support.feeds import make, service
from tests.support.harness import Harness

# On both storage backends (tests/support/backends.py); the query-plan test is SQLite's own.
pytestmark = pytest.mark.usefixtures("each_backend")

# A full pass over the history: what must not happen at a million rows.
FULL_SCAN = re.compile(r"^SCAN (feed_items|feed_deliveries|feed_subscriptions)\b")


async def _with_history(h: Harness) -> FeedStore:
    """Two feeds subscribed here, one with posted history, one pending post and one failed."""
    store = service(h).store
    now = h.core.now()
    here = ChannelRef("console", "console", "news")
    a, _ = await store.subscribe("https://e.org/a", here, now)
    await store.subscribe("https://e.org/b", ChannelRef("console", "console", "other"), now)
    await store.subscribe("https://e.org/c", ChannelRef("console", "elsewhere", "news"), now)
    await store.ingest(a.feed_id, "A", [item(n) for n in range(1, 60)], accept_all, now, now, etag=None,
                       last_modified=None, body_hash=None)  # fmt: skip
    for n in range(60, 64):
        await store.ingest(a.feed_id, "A", [item(n)], accept_all, now, now, etag=None, last_modified=None,
                           body_hash=None)  # fmt: skip
    due = await store.due_deliveries(now, ["console"])
    for d in due[:2]:
        await store.mark_sent(d.id, f"m{d.id}", now)
    await store.mark_failed(due[2].id, "unknown channel")
    return store


async def _trace(db: Database, callback: Callable[[str], object] | None) -> None:
    """Trace the statements of both connections: the writer (aiosqlite) and the reader."""
    await db._conn.set_trace_callback(callback)  # type: ignore[arg-type]  # None turns it off
    assert db._reader_conn is not None  # a file database has its read-only connection
    db._reader_conn.set_trace_callback(callback)


@pytest.mark.sqlite_only
async def test_every_feeds_command_reaches_items_and_deliveries_through_an_index(tmp_path: Path) -> None:
    h = await make(tmp_path)
    try:
        await _with_history(h)
        db = h.core.db
        assert isinstance(db, Database)  # SQLite's query plans (the harness's default backend)
        statements: list[str] = []
        await _trace(db, statements.append)
        try:
            for text in ("!feeds list", "!feeds status", "!feeds pause 1", "!feeds resume 1", "!feeds remove 2"):
                reply = await h.say_text(text, moderator=True)
                assert "There is no" not in reply, reply
        finally:
            await _trace(db, None)
        queries = {s for s in statements if s.lstrip().split(" ", 1)[0].upper() in ("SELECT", "UPDATE", "DELETE")}
        assert any("feed_deliveries" in q for q in queries)  # status and remove were traced
        for sql in sorted(queries):
            plan = [r[3] for r in await db.fetchall("EXPLAIN QUERY PLAN " + sql)]
            assert not [p for p in plan if FULL_SCAN.match(p)], (sql, plan)
    finally:
        await h.close()


async def test_feeds_status_counts_posts_without_reading_the_history(tmp_path: Path) -> None:
    h = await make(tmp_path)
    try:
        await _with_history(h)
        text = await h.say_text("!feeds status", moderator=True)
        assert "Posted: 2; waiting: 1; failed: 1" in text
    finally:
        await h.close()


async def test_read_only_commands_are_answered_while_a_write_transaction_is_open(tmp_path: Path) -> None:
    h = await make(tmp_path)
    try:
        await _with_history(h)
        await h.say("!report the school said EHCPs are being abolished who=school")
        db = h.core.db
        async with db.transaction() as tx:
            # An ingest in progress: it holds the writer (and its lock) until it commits.
            await tx.execute("UPDATE feeds SET title = 'Not yet committed'")
            for text, expect in (
                ("!feeds list", "e.org/a"),
                ("!feeds status", "Posted: 2"),
                ("!myreports", "#1"),
                ("!help", "commands"),
            ):
                answer = await asyncio.wait_for(h.say_text(text, moderator=text.startswith("!feeds")), timeout=5)
                assert expect in answer, (text, answer)
                assert "Not yet committed" not in answer  # a reader sees committed rows only
        # Committed now: the next command sees it.
        assert "Not yet committed" in await h.say_text("!feeds list", moderator=True)
    finally:
        await h.close()


async def test_a_command_that_writes_then_reads_sees_its_own_write(tmp_path: Path) -> None:
    h = await make(tmp_path)
    try:
        await _with_history(h)
        assert "Paused" in await h.say_text("!feeds pause 1", moderator=True)
        assert "(paused)" in await h.say_text("!feeds list", moderator=True)
        assert "already paused" in await h.say_text("!feeds pause 1", moderator=True)
        h.clock.advance(minutes=1)
        assert "Resumed" in await h.say_text("!feeds resume 1", moderator=True)
        assert "(paused)" not in await h.say_text("!feeds list", moderator=True)
    finally:
        await h.close()
