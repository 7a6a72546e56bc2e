"""Issue 13: a fetch no channel would post from skips converting its items' HTML.

A first sight with `latest = 0` posts nothing, so its items need keys and hashes only, not
rendered text (converting the HTML was about a third of a cold cycle's parse). What must
still hold: new items after that post with their text; an item never rendered, then edited,
sends no update (it was never posted); and a channel that would post, added while a fetch
was parsed without text, still gets its posts with text.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from bot.model import ChannelRef
from feeds.parse import parse_bytes
from storage.feeds import KnownHashes
from storage.feeds.items import UNRENDERED, _h, _h32
from tests.support.feeds import cycle, make, service, titles
from tests.support.feedserver import FeedServer, rss, snj_entries


def _spy_parse(h: Any) -> list[bool]:
    """Records `text_for_new` of each parse the service asks for."""
    asked: list[bool] = []
    real = service(h).parser.parse

    async def spy(*args: Any, text_for_new: bool = True, **kwargs: Any) -> Any:
        asked.append(text_for_new)
        return await real(*args, text_for_new=text_for_new, **kwargs)

    service(h).parser.parse = spy  # type: ignore[method-assign]
    return asked


async def test_quiet_first_sight_renders_nothing_then_posts_new_items(tmp_path: Path, feed_server: FeedServer) -> None:
    entries = snj_entries(3)
    url = feed_server.set("/snj", rss(entries))
    h = await make(tmp_path)
    try:
        store = service(h).store
        await store.subscribe(url, ChannelRef("console", "console", "news"), h.core.now())
        asked = _spy_parse(h)
        await cycle(h)
        assert asked == [False] and titles(h) == []
        rows = await h.core.db.fetchall("SELECT content_hash FROM feed_items")
        assert [r[0] for r in rows] == [UNRENDERED] * 3

        # Story 1 edited (never posted: no update), story 4 new (posted, with its text).
        entries[0].summary = "<p>Edited text.</p>"
        entries.append(snj_entries(4)[3])
        feed_server.set("/snj", rss(entries))
        summary = await service(h).poll_due(force=True)
        await service(h).deliver_due()
        assert asked == [False, True]
        assert (summary.new_items, summary.changed_items) == (1, 0), "an unposted item's first text is no change"
        sent = h.messengers["console"].sent
        assert [s.kind for s in sent] == ["post"] and titles(h) == ["SNJ story 4"]
        card = sent[0].reply.card if sent[0].reply else None
        assert card is not None and "Story 4 about EHC plans." in (card.body or "")
        rows = await h.core.db.fetchall("SELECT content_hash FROM feed_items ORDER BY id")
        assert rows[0][0] != UNRENDERED, "an item's first rendering fills its content hash in"

        # Story 4 edited: it was posted, so the post is edited.
        entries[3].summary = "<p>Story 4, corrected.</p>"
        feed_server.set("/snj", rss(entries))
        await cycle(h)
        assert [s.kind for s in h.messengers["console"].sent] == ["post", "edit"]
    finally:
        await h.close()


async def test_a_posting_channel_added_meanwhile_still_gets_text(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(3)))
    h = await make(tmp_path)
    try:
        svc = service(h)
        now = h.core.now()
        await svc.store.subscribe(url, ChannelRef("console", "console", "quiet"), now)
        await svc.store.subscribe(url, ChannelRef("console", "console", "news"), now, latest=2)
        [feed] = await svc.store.due_feeds(now, force=True)
        assert feed.posting is True
        asked = _spy_parse(h)
        # As if the latest=2 channel was added after the poller looked: parsed without text,
        # ingest refuses it (writing nothing), and the fetch is parsed again in full.
        outcome = await svc.poll_feed(dataclasses.replace(feed, posting=False))
        assert asked == [False, True]
        assert outcome.report is not None and outcome.report.new == 3 and outcome.report.queued == 2
        await svc.deliver_due()
        sent = h.messengers["console"].sent
        assert titles(h) == ["SNJ story 2", "SNJ story 3"]
        assert all(s.reply and s.reply.card and "about EHC plans." in (s.reply.card.body or "") for s in sent)
    finally:
        await h.close()


def test_parse_without_text_for_new_items() -> None:
    body = rss(snj_entries(3))
    full = parse_bytes(body, "https://www.specialneedsjungle.com/feed/")
    one, two, _three = full.items
    # Story 1 listed before with the same raw text, story 2 with other text, story 3 not at all.
    known = KnownHashes({_h(one.item_key): _h32(one.raw_hash), _h(two.item_key): _h32("older")})
    quiet = parse_bytes(body, "https://www.specialneedsjungle.com/feed/", known, text_for_new=False)
    assert [it.summary is None for it in quiet.items] == [True, False, True]
    assert quiet.items[1] == two  # a changed item is rendered as ever (updates need it)
    assert [(it.item_key, it.story_key, it.raw_hash) for it in quiet.items] == [
        (it.item_key, it.story_key, it.raw_hash) for it in full.items
    ]
