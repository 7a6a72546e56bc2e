"""The feeds pipeline end to end: loopback feeds -> SQLite outbox -> recording messengers."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.messenger import DeliveryError
from feeds.service import MAX_DELIVERY_ATTEMPTS
from tests.support.feeds import cycle, make, service, titles
from tests.support.feedserver import Entry, FeedServer, atom, rss, snj_entries

# On both storage backends: SQLite and PostgreSQL (tests/support/backends.py).
pytestmark = pytest.mark.usefixtures("each_backend")


async def test_first_sight_posts_nothing_then_new_items_once(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(3)))
    h = await make(tmp_path)
    try:
        text = await h.say_text(f"!feeds add {url}", moderator=True)
        assert "Recorded 3 current item(s)" in text
        assert "None of those were posted" in text
        await service(h).deliver_due()
        assert titles(h) == []

        feed_server.set("/snj", rss(snj_entries(4)))
        await cycle(h)
        assert titles(h) == ["SNJ story 4"]
        post = h.messengers["console"].posts()[0]
        assert post.nonce and post.reply is not None and post.reply.card is not None
        assert post.reply.card.url == "https://www.specialneedsjungle.com/story-4/"  # tracking stripped
        assert "Special Needs Jungle" in (post.reply.card.footer or "")
        assert post.reply.ping_role is None

        await cycle(h)  # unchanged: a conditional GET answered 304
        assert titles(h) == ["SNJ story 4"]
        assert feed_server.hits("/snj")[-1].headers.get("If-None-Match")
    finally:
        await h.close()


async def test_identical_body_without_etag_is_not_parsed(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/plain", rss(snj_entries(2)), etag=False)
    h = await make(tmp_path)
    try:
        await h.say(f"!feeds add {url}", moderator=True)
        calls = 0
        real = service(h).parser.parse

        async def counting(*a, **kw):
            nonlocal calls
            calls += 1
            return await real(*a, **kw)

        service(h).parser.parse = counting  # type: ignore[method-assign]
        await cycle(h)
        assert calls == 0 and titles(h) == []
        feed_server.set("/plain", rss(snj_entries(3)), etag=False)
        await cycle(h)
        assert calls == 1 and titles(h) == ["SNJ story 3"]
    finally:
        await h.close()


async def test_latest_n_posts_the_newest_oldest_first(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(list(reversed(snj_entries(5)))))
    h = await make(tmp_path)
    try:
        text = await h.say_text(f"!feeds add {url} latest=2", moderator=True)
        assert "Queued the latest 2" in text
        await service(h).deliver_due()
        assert titles(h) == ["SNJ story 4", "SNJ story 5"]
        await cycle(h)
        assert len(titles(h)) == 2
    finally:
        await h.close()


async def test_govuk_atom_filtered_for_send(tmp_path: Path, feed_server: FeedServer) -> None:
    entries = [
        Entry("Schools funding update", "https://www.gov.uk/a", summary="Money for schools."),
        Entry("New guidance on EHCP reviews", "https://www.gov.uk/b", summary="Annual reviews."),
        Entry("Send your views on teacher pay", "https://www.gov.uk/c", summary="A consultation."),
        Entry("SEND and alternative provision plan", "https://www.gov.uk/d", summary="Reform."),
        Entry("Support for disabled children", "https://www.gov.uk/e", summary="Short breaks."),
    ]
    url = feed_server.set("/dfe.atom", atom(entries), content_type="application/atom+xml")
    h = await make(tmp_path)
    try:
        include = 'include="SEND,special educational,EHC,alternative provision,high needs,disabled,disability"'
        text = await h.say_text(f"!feeds add {url} {include} latest=10", moderator=True)
        assert "3 pass the filters" in text
        await service(h).deliver_due()
        assert sorted(titles(h)) == [
            "New guidance on EHCP reviews",
            "SEND and alternative provision plan",
            "Support for disabled children",
        ]
    finally:
        await h.close()


async def test_date_bump_does_nothing_and_a_change_edits(tmp_path: Path, feed_server: FeedServer) -> None:
    entries = snj_entries(2)
    url = feed_server.set("/snj", rss(entries))
    h = await make(tmp_path)
    try:
        await h.say(f"!feeds add {url} latest=2", moderator=True)
        await service(h).deliver_due()
        assert len(titles(h)) == 2
        entries[0].published = datetime(2026, 11, 26, tzinfo=UTC)  # date bump only
        feed_server.set("/snj", rss(entries))
        await cycle(h)
        assert [s.kind for s in h.messengers["console"].sent if s.kind != "followup"] == ["post", "post"]

        entries[0].title = "SNJ story 1 (corrected)"
        feed_server.set("/snj", rss(entries))
        await cycle(h)
        sent = h.sent("console", lambda s: s.kind != "followup")
        assert [s.kind for s in sent] == ["post", "post", "edit"]
        edit = sent[-1]
        first = sent[0]
        assert edit.message_id == first.message_id
        assert edit.reply is not None and edit.reply.card is not None
        assert edit.reply.card.title == "SNJ story 1 \\(corrected\\)"
        await cycle(h)
        assert len(h.sent("console", lambda s: s.kind != "followup")) == 3
    finally:
        await h.close()


async def test_change_posts_once_marked_updated_where_edit_is_impossible(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    entries = snj_entries(1)
    url = feed_server.set("/snj", rss(entries))
    h = await make(tmp_path)
    h.messengers["console"].can_edit = False
    try:
        await h.say(f"!feeds add {url} latest=1", moderator=True)
        await service(h).deliver_due()
        entries[0].summary = "<p>A new paragraph about tribunals.</p>"
        feed_server.set("/snj", rss(entries))
        await cycle(h)
        await cycle(h)
        assert titles(h) == ["SNJ story 1", "Updated: SNJ story 1"]
    finally:
        await h.close()


async def test_same_story_from_two_feeds_is_one_post_per_channel(tmp_path: Path, feed_server: FeedServer) -> None:
    a = feed_server.set("/a", rss(snj_entries(1)))
    b = feed_server.set("/b", rss(snj_entries(1)), etag=False)
    h = await make(tmp_path)
    try:
        await h.say(f"!feeds add {a}", moderator=True)
        await h.say(f"!feeds add {b}", moderator=True)
        await h.say(f"!feeds add {a}", moderator=True, channel="news")
        shared = Entry("Shared story", "https://www.specialneedsjungle.com/shared/?utm_campaign=x", guid="a-1")
        feed_server.set("/a", rss([shared, *snj_entries(1)]))
        other = Entry("Shared story", "https://www.specialneedsjungle.com/shared/#top", guid="b-99")
        feed_server.set("/b", rss([other, *snj_entries(1)]), etag=False)
        await cycle(h)
        by_channel = sorted(s.channel.channel_id for s in h.messengers["console"].posts() if s.channel)
        assert by_channel == ["general", "news"]
    finally:
        await h.close()


async def test_changing_guids_do_not_repost(tmp_path: Path, feed_server: FeedServer) -> None:
    def churned(n: int) -> bytes:
        return rss([Entry(f"Story {i}", f"https://e.org/{i}", guid=f"gen{n}-{i}") for i in range(3)])

    url = feed_server.set("/churn", churned(0))
    h = await make(tmp_path)
    try:
        await h.say(f"!feeds add {url}", moderator=True)
        for n in range(1, 4):
            feed_server.set("/churn", churned(n))
            await cycle(h)
        assert titles(h) == []
        rows = await h.core.db.fetchall("SELECT COUNT(*) FROM feed_items")
        assert rows[0][0] == 3
    finally:
        await h.close()


async def test_mention_role_only_when_configured(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(1)))
    cfg_sub = {"url": url, "platform": "discord", "scope": "g1", "channel": "c1", "mention_role": "r-news"}
    h = await make(tmp_path, subscriptions=[cfg_sub])
    try:
        await h.say(f"!feeds add {url}", moderator=True)
        feed_server.set("/snj", rss(snj_entries(2)))
        await cycle(h)
        [discord_post] = h.messengers["discord"].posts()
        [console_post] = h.messengers["console"].posts()
        assert discord_post.reply is not None and discord_post.reply.ping_role == "r-news"
        assert console_post.reply is not None and console_post.reply.ping_role is None
    finally:
        await h.close()


async def test_failed_sends_retry_with_backoff(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(1)))
    h = await make(tmp_path)
    try:
        await h.say(f"!feeds add {url} latest=1", moderator=True)
        h.messengers["console"].fail_next.append(DeliveryError("rate limited", retry_after=120))
        summary = await service(h).deliver_due()
        assert summary.retrying == 1 and titles(h) == []
        await service(h).deliver_due()  # not due yet
        assert titles(h) == []
        h.clock.advance(seconds=121)
        await service(h).deliver_due()
        assert titles(h) == ["SNJ story 1"]
        h.messengers["console"].fail_next.append(DeliveryError("unknown channel", permanent=True))
        feed_server.set("/snj", rss(snj_entries(2)))
        await cycle(h)
        status = await h.say_text("!feeds status", moderator=True)
        assert "Posted: 1; waiting: 0; failed: 1" in status
    finally:
        await h.close()


async def test_restart_delivers_pending_once_and_never_repeats_confirmed(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.set("/snj", rss(snj_entries(3)))
    h = await make(tmp_path)
    await h.say(f"!feeds add {url} latest=1", moderator=True)
    await service(h).deliver_due()
    assert titles(h) == ["SNJ story 3"]
    feed_server.set("/snj", rss(snj_entries(5)))
    await service(h).poll_due(force=True)  # two new items recorded and queued...
    await h.close()  # ...then the bot "crashes" before delivering them

    h2 = await make(tmp_path)
    try:
        await service(h2).deliver_due()
        assert titles(h2) == ["SNJ story 4", "SNJ story 5"]
        await cycle(h2)
        await service(h2).deliver_due()
        assert titles(h2) == ["SNJ story 4", "SNJ story 5"]
    finally:
        await h2.close()


async def test_platform_without_messenger_keeps_deliveries_pending(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(1)))
    sub = {"url": url, "platform": "slack", "scope": "T1", "channel": "C1", "latest": 1}
    h = await make(tmp_path, subscriptions=[sub])
    try:
        slack = h.core.messengers.pop("slack")
        await cycle(h)
        await cycle(h)
        row = await h.core.db.fetchone("SELECT status, attempts FROM feed_deliveries WHERE platform = 'slack'")
        assert row is not None and (row["status"], row["attempts"]) == ("pending", 0)
        h.core.register_messenger(slack)
        await service(h).deliver_due()
        assert titles(h, "slack") == ["SNJ story 1"]
    finally:
        await h.close()


async def test_paused_after_a_day_of_failures_with_a_notice(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(1)))
    h = await make(tmp_path)
    try:
        await h.say(f"!feeds add {url}", moderator=True)
        feed_server.set("/snj", status=500)
        await cycle(h)
        status = await h.say_text("!feeds status", moderator=True)
        assert "failing since" in status and "HTTP 500" in status
        h.clock.advance(hours=12)
        await cycle(h)
        assert h.sent("console", lambda s: s.kind != "followup") == []
        h.clock.advance(hours=12, minutes=1)
        summary = await service(h).poll_due(force=True)
        assert summary.paused
        await service(h).deliver_due()
        [notice] = h.messengers["console"].posts()
        assert notice.reply is not None
        assert "paused" in notice.reply.text and "HTTP 500" in notice.reply.text
        assert "!feeds resume 1" in notice.reply.text
        assert (await service(h).poll_due(force=True)).feeds == 0  # paused feeds are not fetched
        status = await h.say_text("!feeds status", moderator=True)
        assert "paused by the bot" in status

        feed_server.set("/snj", rss(snj_entries(2)))
        assert "Resumed" in await h.say_text("!feeds resume 1", moderator=True)
        await cycle(h)
        assert titles(h) == ["SNJ story 2"]
    finally:
        await h.close()


async def test_retry_after_and_max_age_set_the_next_fetch(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(1)), headers={"Cache-Control": "public, max-age=7200"})
    h = await make(tmp_path)
    try:
        await h.say(f"!feeds add {url}", moderator=True)
        feed = await service(h).store.feed(1)
        assert feed is not None and feed.next_fetch_at == "2026-11-27T14:00:00Z"
        feed_server.set("/snj", status=429, headers={"Retry-After": "5400"})
        await cycle(h)
        feed = await service(h).store.feed(1)
        assert feed is not None and feed.next_fetch_at is not None
        assert feed.next_fetch_at >= "2026-11-27T13:30:00Z"
        assert "slow down" in (feed.last_error or "")
    finally:
        await h.close()


async def test_hostile_titles_cannot_ping_or_inject(tmp_path: Path, feed_server: FeedServer) -> None:
    evil = Entry(
        "@everyone <script>alert(1)</script> [click](https://evil.example) <@&123>",
        "https://e.org/evil",
        summary="<p>@here <script>steal()</script><img src=x onerror=y> <a href='javascript:z'>js</a></p>",
    )
    url = feed_server.set("/evil", rss([evil]))
    h = await make(tmp_path)
    try:
        await h.say(f"!feeds add {url} latest=1", moderator=True)
        await service(h).deliver_due()
        [post] = h.messengers["console"].posts()
        card = post.reply.card if post.reply else None
        assert card is not None
        visible = card.title + card.body
        assert "@everyone" not in visible and "@here" not in visible and "<@&" not in visible
        assert "script" not in card.body and "steal" not in card.body and "javascript" not in card.body
        assert "](https://evil.example)" not in card.title  # a literal, not a link
    finally:
        await h.close()


async def test_items_without_link_or_date(tmp_path: Path, feed_server: FeedServer) -> None:
    entries = [Entry("No link", None, published=None), Entry("No link either", None, guid="g2", published=None)]
    url = feed_server.set("/bare", rss(entries))
    h = await make(tmp_path)
    try:
        await h.say(f"!feeds add {url} latest=5", moderator=True)
        await service(h).deliver_due()
        assert sorted(titles(h)) == ["No link", "No link either"]
        assert all(p.reply and p.reply.card and p.reply.card.url is None for p in h.messengers["console"].posts())
        await cycle(h)
        assert len(titles(h)) == 2
    finally:
        await h.close()


async def test_unexpected_messenger_errors_are_retried_within_the_cap(
    tmp_path: Path, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = feed_server.set("/snj", rss(snj_entries(1)))
    h = await make(tmp_path)
    try:
        await h.say(f"!feeds add {url} latest=1", moderator=True)
        h.messengers["console"].fail_next.extend(RuntimeError("bug") for _ in range(MAX_DELIVERY_ATTEMPTS + 5))
        results = []
        with caplog.at_level(logging.ERROR, logger="feeds.service"):
            for _ in range(MAX_DELIVERY_ATTEMPTS + 5):
                summary = await service(h).deliver_due()
                results.append((summary.retrying, summary.failed))
                h.clock.advance(hours=2)  # past any backoff
        assert results[: MAX_DELIVERY_ATTEMPTS - 1] == [(1, 0)] * (MAX_DELIVERY_ATTEMPTS - 1)
        assert results[MAX_DELIVERY_ATTEMPTS - 1] == (0, 1)
        assert set(results[MAX_DELIVERY_ATTEMPTS:]) == {(0, 0)}  # given up: no longer tried
        assert "failed for good" in caplog.text and all(r.exc_info for r in caplog.records)
        assert "failed: 1" in await h.say_text("!feeds status", moderator=True)
        assert titles(h) == []
    finally:
        await h.close()
