"""Quiet hours and digests through the real pipeline (loopback feed server, real SQLite,
the outbox), with the harness's clock moved by hand: no sleeps."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import ConfigError, parse
from bot.messenger import DeliveryError
from feeds.settings import FeedsSettings
from storage.db import Database
from storage.feeds import FeedStore, Timing
from tests.support.feeds import cycle, make, service, titles
from tests.support.feedserver import FeedServer, rss, snj_entries
from tests.support.harness import Harness, reply_text

# On both storage backends: SQLite and PostgreSQL (tests/support/backends.py).
pytestmark = pytest.mark.usefixtures("each_backend")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


async def add(h: Harness, url: str, words: str) -> str:
    text = await h.say_text(f"!feeds add {url} {words}", moderator=True)
    assert "Subscribed #general" in text, text
    return text


async def counts(store: FeedStore) -> dict[str, int]:
    rows = await store.db.fetchall("SELECT kind || ':' || status, COUNT(*) FROM feed_deliveries GROUP BY 1")
    return {r[0]: r[1] for r in rows}


async def test_quiet_hours_hold_posts_and_release_them_in_order(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(2)))
    h = await make(tmp_path)
    try:
        h.clock.value = utc(2026, 11, 27, 22, 0)  # 22:00 in London (GMT)
        await add(h, url, "quiet=21:00-07:00")
        feed_server.set("/snj", rss(snj_entries(5)))  # stories 3, 4 and 5 arrive at night
        await cycle(h)
        assert titles(h) == []
        h.clock.value = utc(2026, 11, 28, 6, 59)
        await service(h).deliver_due()
        assert titles(h) == []
        h.clock.value = utc(2026, 11, 28, 7, 0)
        await service(h).deliver_due()
        # Three or fewer: each on its own, oldest first.
        assert titles(h) == ["SNJ story 3", "SNJ story 4", "SNJ story 5"]
        # By day they go at once.
        feed_server.set("/snj", rss(snj_entries(6)))
        await cycle(h)
        assert titles(h)[-1] == "SNJ story 6"
    finally:
        await h.close()


async def test_more_than_three_held_go_out_as_one_message(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(1)))
    h = await make(tmp_path)
    try:
        h.clock.value = utc(2026, 11, 27, 23, 30)
        await add(h, url, "quiet=21:00-07:00")
        feed_server.set("/snj", rss(snj_entries(4)))  # 2, 3, 4
        await cycle(h)
        h.clock.value = utc(2026, 11, 28, 3, 0)
        feed_server.set("/snj", rss(snj_entries(6)))  # 5, 6 later in the night
        await cycle(h)
        assert h.messengers["console"].posts() == []
        h.clock.value = utc(2026, 11, 28, 7, 0)
        await cycle(h)
        cards = [s.reply.card for s in h.messengers["console"].posts() if s.reply and s.reply.card]
        assert len(cards) == 1
        assert cards[0].title == "While the channel was quiet: 5 new posts from Special Needs Jungle"
        lines = cards[0].body.splitlines()
        assert [line.split("](")[0] for line in lines] == [f"- [SNJ story {i}" for i in range(2, 7)]
        store = service(h).store
        assert await counts(store) == {"post:sent": 5, "roundup:sent": 1}
        sub = (await store.subscriptions())[0]
        assert sub.posts_sent == 5
        await cycle(h)  # nothing more, nothing twice
        assert len([s for s in h.messengers["console"].posts() if s.reply and s.reply.card]) == 1
    finally:
        await h.close()


async def test_daily_digest_at_local_time_across_the_clock_change(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(1)))
    h = await make(tmp_path)
    try:
        # Saturday 27 March 2027, 18:30 GMT: today's 18:00 has passed.
        h.clock.value = utc(2027, 3, 27, 18, 30)
        text = await add(h, url, "mode=digest at=18:00")
        assert "Posts: digest daily at 18:00" in text
        feed_server.set("/snj", rss(snj_entries(3)))
        await cycle(h)
        # The clocks went forward overnight: 18:00 BST on Sunday is 17:00 UTC.
        h.clock.value = utc(2027, 3, 28, 16, 59)
        await cycle(h)
        assert titles(h) == []
        h.clock.value = utc(2027, 3, 28, 17, 0)
        await service(h).deliver_due()
        assert titles(h) == ["Digest: 2 new posts from Special Needs Jungle"]
        (digest,) = [s.reply for s in h.messengers["console"].posts() if s.reply and s.reply.card]
        assert "SNJ story 2" in reply_text(digest) and "SNJ story 3" in reply_text(digest)
        # One item is a digest too (one message, whatever the count).
        feed_server.set("/snj", rss(snj_entries(4)))
        await cycle(h)
        h.clock.value = utc(2027, 3, 29, 17, 0)
        await cycle(h)
        assert titles(h)[-1] == "Digest: 1 new post from Special Needs Jungle"
    finally:
        await h.close()


async def test_weekly_digest_waits_for_its_day(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(1)))
    h = await make(tmp_path)
    try:
        h.clock.value = utc(2026, 11, 28, 10, 0)  # Saturday
        await add(h, url, "mode=digest every=week day=friday at=17:00")
        assert "digest every Friday at 17:00" in await h.say_text("!feeds list", moderator=True)
        feed_server.set("/snj", rss(snj_entries(2)))
        await cycle(h)
        h.clock.value = utc(2026, 12, 3, 17, 0)  # Thursday
        feed_server.set("/snj", rss(snj_entries(3)))
        await cycle(h)
        assert titles(h) == []
        h.clock.value = utc(2026, 12, 4, 17, 0)  # Friday 17:00
        await service(h).deliver_due()
        assert titles(h) == ["Digest: 2 new posts from Special Needs Jungle"]
    finally:
        await h.close()


async def test_a_failed_digest_send_is_retried_whole_and_never_split(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(1)))
    h = await make(tmp_path)
    try:
        h.clock.value = utc(2026, 11, 27, 9, 0)
        await add(h, url, "mode=digest at=18:00")
        feed_server.set("/snj", rss(snj_entries(3)))
        await cycle(h)
        h.clock.value = utc(2026, 11, 27, 18, 0)
        h.messengers["console"].fail_next.append(DeliveryError("gateway away"))
        await service(h).deliver_due()
        assert titles(h) == []
        store = service(h).store
        assert await counts(store) == {"post:pending": 2, "roundup:pending": 1}
        # A restart in between: the round-up is still one delivery, its items inside it.
        await h.close()
        h = await make(tmp_path)
        h.clock.value = utc(2026, 11, 27, 19, 0)
        await service(h).deliver_due()
        assert titles(h) == ["Digest: 2 new posts from Special Needs Jungle"]
        assert await counts(service(h).store) == {"post:sent": 2, "roundup:sent": 1}
    finally:
        await h.close()


async def test_set_changes_the_mode_and_refuses_bad_words(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(1)))
    h = await make(tmp_path)
    try:
        await add(h, url, "")
        text = await h.say_text("!feeds set 1 mode=digest at=8:30 quiet=21:00-07:00", moderator=True)
        assert "now posts: digest daily at 08:30, quiet 21:00-07:00" in text
        bad = await h.say_text("!feeds set 1 quiet=late", moderator=True)
        assert "two times, like 21:00-07:00" in bad
        assert "digest daily at 08:30, quiet 21:00-07:00" in await h.say_text("!feeds list", moderator=True)
        assert "Say what to change" in await h.say_text("!feeds set 1", moderator=True)
        assert "no feed subscription 9 here" in await h.say_text("!feeds set 9 mode=each", moderator=True)
        refused = await h.say_text(f"!feeds add {url}x mode=weekly", moderator=True)
        assert "mode should be each" in refused
        assert len(await service(h).store.subscriptions()) == 1
    finally:
        await h.close()


async def test_add_answers_before_the_first_fetch_and_reports_it_after(tmp_path: Path, feed_server: FeedServer) -> None:
    gate = asyncio.Event()
    url = feed_server.set("/snj", rss(snj_entries(3)), gate=gate)
    h = await make(tmp_path)
    try:
        result = await h.core.dispatcher.handle(h.incoming(f"!feeds add {url}", moderator=True))
        assert result is not None
        (answer,) = result.replies
        assert answer.text.startswith("Added. I am checking the feed now...")
        await result.delivered()  # the answer is out: the first fetch starts now
        await asyncio.wait_for(feed_server.routes["/snj"].arrived.wait(), 5)
        assert h.sent("console") == []  # the site has not answered yet
        gate.set()
        await h.settle()
        (report,) = h.sent("console", lambda s: s.kind == "followup")
        assert report.reply is not None
        assert "Subscribed #general to Special Needs Jungle (id 1)" in reply_text(report.reply)
        assert "Recorded 3 current item(s)" in reply_text(report.reply)
    finally:
        gate.set()
        await h.close()


async def test_config_subscriptions_carry_mode_and_quiet_hours(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(1)))
    sub = {
        "url": url,
        "channel": "general",
        "mode": "digest",
        "digest_at": "7:30",
        "digest_every": "week",
        "digest_day": "Sun",
        "quiet_hours": "22:00-06:00",
    }
    h = await make(tmp_path, subscriptions=[sub])
    try:
        (s,) = await service(h).store.subscriptions()
        assert (s.mode, s.digest_at, s.digest_every, s.digest_day, s.quiet_hours) == (
            "digest",
            "07:30",
            "week",
            6,
            "22:00-06:00",
        )
    finally:
        await h.close()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("quiet_hours", "10pm-6", "morning or the evening"),
        ("digest_at", "25:00", "like 18:00 or 6pm"),
        ("digest_day", "someday", "a day of the week"),
        ("mode", "hourly", "each"),
    ],
)
def test_bad_config_timing_is_a_config_error(key: str, value: str, message: str) -> None:
    sub = {"url": "https://example.org/feed", "channel": "general", key: value}
    with pytest.raises(ConfigError, match=message):
        parse({"feeds": {"subscriptions": [sub]}}, environ={})


async def test_a_crash_while_recording_a_digest_leaves_it_whole_and_unsure(
    tmp_path: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The round-up and its members are marked sent in one transaction: stopped just before
    COMMIT, none of them is sent, none is due on its own, and the retry reuses the nonce."""
    import storage.feeds.outbox as outbox

    url = feed_server.set("/snj", rss(snj_entries(1)))
    h = await make(tmp_path)
    try:
        h.clock.value = utc(2026, 11, 27, 9, 0)
        await add(h, url, "mode=digest at=18:00")
        feed_server.set("/snj", rss(snj_entries(4)))
        await cycle(h)
        h.clock.value = utc(2026, 11, 27, 18, 0)

        def crash(name: str) -> None:
            if name == "commit":
                raise RuntimeError("power cut")

        monkeypatch.setattr(outbox, "fault_point", crash)
        with pytest.raises(RuntimeError, match="power cut"):
            await service(h).deliver_due()
        monkeypatch.undo()
        store = service(h).store
        assert await counts(store) == {"post:pending": 3, "roundup:pending": 1}
        rows = await store.db.fetchall(
            "SELECT kind, sending_at IS NOT NULL AS unsure, next_attempt_at, roundup_id FROM feed_deliveries"
        )
        (roundup,) = [r for r in rows if r["kind"] == "roundup"]
        assert roundup["unsure"] == 1
        assert all(r["next_attempt_at"] is None and r["roundup_id"] for r in rows if r["kind"] == "post")
        first = h.messengers["console"].posts()[0]
        await store.settle_in_flight(h.clock.value)  # as the next start does
        await service(h).deliver_due()
        again = h.messengers["console"].posts()
        assert len(again) == 2 and again[1].nonce == first.nonce  # the platform recognises it
        assert await counts(store) == {"post:sent": 3, "roundup:sent": 1}
    finally:
        await h.close()


@pytest.mark.sqlite_only
async def test_holding_and_gathering_reach_deliveries_through_an_index(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(1)))
    h = await make(tmp_path)
    try:
        h.clock.value = utc(2026, 11, 27, 23, 0)
        await add(h, url, "quiet=21:00-07:00")
        feed_server.set("/snj", rss(snj_entries(6)))
        await cycle(h)
        h.clock.value = utc(2026, 11, 28, 7, 0)
        db = h.core.db
        assert isinstance(db, Database)  # SQLite's trace and query plans
        statements: list[str] = []
        await db._conn.set_trace_callback(statements.append)
        try:
            feed_server.set("/snj", rss(snj_entries(7)))
            await cycle(h)  # a new post joins the released ones; they are gathered and sent
        finally:
            await db._conn.set_trace_callback(None)  # type: ignore[arg-type]
        ours = {
            s
            for s in statements
            if ("held" in s or "roundup_id" in s) and s.lstrip().upper().startswith(("SELECT", "UPDATE"))
        }
        assert len(ours) >= 3
        for sql in sorted(ours):
            plan = [r[3] for r in await db.fetchall("EXPLAIN QUERY PLAN " + sql)]
            assert not [p for p in plan if re.match(r"SCAN feed_deliveries(?! USING (COVERING )?INDEX)", p)], (
                sql,
                plan,
            )
        cards = [s.reply.card for s in h.messengers["console"].posts() if s.reply and s.reply.card]
        assert [c.title for c in cards] == ["While the channel was quiet: 6 new posts from Special Needs Jungle"]
    finally:
        await h.close()


async def test_quiet_hours_follow_the_forums_own_time_zone(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(1)))
    h = await make(tmp_path)
    try:
        text = await h.say_text("!settings set timezone America/New_York", moderator=True)
        assert "America/New_York" in text, text
        # 23:00 in London is 18:00 in New York: not quiet there.
        h.clock.value = utc(2026, 11, 27, 23, 0)
        await add(h, url, "quiet=21:00-07:00")
        feed_server.set("/snj", rss(snj_entries(2)))
        await cycle(h)
        assert titles(h) == ["SNJ story 2"]
        # 03:00 UTC is 22:00 in New York: quiet until 07:00 there (12:00 UTC).
        h.clock.value = utc(2026, 11, 28, 3, 0)
        feed_server.set("/snj", rss(snj_entries(3)))
        await cycle(h)
        h.clock.value = utc(2026, 11, 28, 11, 59)
        await service(h).deliver_due()
        assert titles(h) == ["SNJ story 2"]
        h.clock.value = utc(2026, 11, 28, 12, 0)
        await service(h).deliver_due()
        assert titles(h) == ["SNJ story 2", "SNJ story 3"]
    finally:
        await h.close()


def test_config_timing_reads_times_as_volunteers_write_them() -> None:
    sub = {
        "url": "https://example.org/feed",
        "channel": "general",
        "mode": "digest",
        "digest_at": "6pm",
        "digest_every": "week",
        "digest_day": "Fridays",
        "quiet_hours": "9pm-7am",
    }
    cfg = parse({"feeds": {"subscriptions": [sub]}}, environ={})
    (sc,) = cfg.section(FeedsSettings).subscriptions
    assert sc.timing() == Timing("digest", "18:00", "week", 4, "21:00-07:00")
