"""Feed cards carry the item's picture (https, public hosts only) and its date (issue 17),
checked from the feed's bytes through storage to the payloads the real discord.py and
slack_sdk clients send to the loopback fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.model import ChannelRef
from feeds.filters import subscription_accepts
from feeds.images import safe_image_url
from feeds.parse import parse_bytes
from feeds.render import render_item
from storage.feeds import FeedStore, StoredItem
from tests.support.discord import discord_env
from tests.support.fakes.discord_fake import CHANNEL_ID, GUILD_ID
from tests.support.fakes.slack_fake import TEAM_ID
from tests.support.slack import running

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

RSS = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">
<channel><title>SNJ</title><link>https://snj.example/</link>
<item><title>Media content</title><link>https://snj.example/a</link><guid>a</guid>
  <pubDate>Fri, 20 Nov 2026 09:30:00 GMT</pubDate>
  <media:content url="https://cdn.snj.example/a.jpg" medium="image"/>
  <description>Text.</description></item>
<item><title>Thumbnail</title><link>https://snj.example/b</link><guid>b</guid>
  <media:thumbnail url="https://cdn.snj.example/b.png"/><description>Text.</description></item>
<item><title>Enclosure</title><link>https://snj.example/c</link><guid>c</guid>
  <enclosure url="https://cdn.snj.example/c.webp" type="image/webp" length="1"/>
  <description>Text.</description></item>
<item><title>First img</title><link>https://snj.example/d</link><guid>d</guid>
  <description>&lt;p&gt;Hi&lt;img src="/up/d.jpg?w=1&amp;amp;h=2"&gt;&lt;img src="https://x.example/2.jpg"&gt;&lt;/p&gt;</description></item>
<item><title>Audio only</title><link>https://snj.example/e</link><guid>e</guid>
  <enclosure url="https://cdn.snj.example/e.mp3" type="audio/mpeg" length="1"/>
  <description>Text.</description></item>
<item><title>Private picture</title><link>https://snj.example/f</link><guid>f</guid>
  <media:content url="https://192.168.1.10/f.jpg" medium="image"/>
  <media:thumbnail url="http://cdn.snj.example/f.jpg"/>
  <description>&lt;img src="https://localhost/f.jpg"&gt;</description></item>
</channel></rss>"""


def test_the_picture_comes_from_where_feeds_put_it() -> None:
    parsed = parse_bytes(RSS, "https://snj.example/feed/")
    images = {it.title: it.image for it in parsed.items}
    assert images == {
        "Media content": "https://cdn.snj.example/a.jpg",
        "Thumbnail": "https://cdn.snj.example/b.png",
        "Enclosure": "https://cdn.snj.example/c.webp",
        # The first <img>, resolved against the feed's address.
        "First img": "https://snj.example/up/d.jpg?w=1&h=2",
        "Audio only": None,
        # Every candidate refused: a private address, plain http, localhost.
        "Private picture": None,
    }


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.example/a.jpg",
        "https://127.0.0.1/a.jpg",
        "https://10.0.0.5/a.jpg",
        "https://[::1]/a.jpg",
        "https://169.254.169.254/latest/x.png",
        "https://2130706433/a.png",
        "https://localhost/a.png",
        "https://printer.local/a.png",
        "https://user:pw@cdn.example/a.png",
        "javascript:alert(1)//a.png",
        "data:image/png;base64,AAAA",
        "https://cdn.example/a b.png",
        "https://cdn.example/" + "a" * 2100 + ".png",
    ],
)
def test_pictures_the_bot_never_shows(url: str) -> None:
    assert safe_image_url(url) is None


def _item(**kw: object) -> StoredItem:
    base: dict[str, object] = {
        "id": 1,
        "feed_id": 1,
        "title": "New SEND guidance",
        "link": "https://www.gov.uk/x",
        "summary": "Summary.",
        "published": "2026-11-20T09:30:00Z",
        "updated_at": None,
        "feed_name": "GOV.UK",
        "image_url": "https://assets.gov.uk/x.png",
    }
    base.update(kw)
    return StoredItem(**base)  # type: ignore[arg-type]


def test_an_item_stored_with_an_unsafe_picture_is_rendered_without_it() -> None:
    card = render_item(_item(image_url="https://10.1.1.1/x.png"), tz=LONDON, summary_chars=100).card
    assert card is not None and card.image_url is None
    card = render_item(_item(published=None), tz=LONDON, summary_chars=100).card
    assert card is not None and card.timestamp is None and card.image_url == "https://assets.gov.uk/x.png"


async def _stored_items(store: FeedStore) -> dict[str, StoredItem]:
    """The fixture feed ingested for a channel that posts everything on first sight."""
    channel = ChannelRef("console", "console", "news")
    sub, _ = await store.subscribe("https://snj.example/feed/", channel, NOW, latest=10)
    parsed = parse_bytes(RSS, "https://snj.example/feed/")
    await store.ingest(
        sub.feed_id,
        parsed.title,
        parsed.items,
        subscription_accepts,
        NOW,
        NOW + timedelta(minutes=10),
        etag=None,
        last_modified=None,
        body_hash=None,
    )
    rows = await store.db.fetchall("SELECT item_id FROM feed_deliveries WHERE status = 'pending'")
    items = [await store.item(int(r[0])) for r in rows]
    return {i.title: i for i in items if i is not None}


async def test_discord_embed_shows_the_picture_and_the_date(tmp_path: Path) -> None:
    async with discord_env(tmp_path) as env:
        items = await _stored_items(FeedStore(env.harness.core.db))
        assert items["Media content"].image_url == "https://cdn.snj.example/a.jpg"
        news = ChannelRef("discord", str(GUILD_ID), str(CHANNEL_ID))
        for title in ("Media content", "Private picture"):
            await env.adapter.post(news, render_item(items[title], tz=LONDON, summary_chars=200), nonce=title[:5])
        calls = env.fake.find_calls("POST", rf"/channels/{CHANNEL_ID}/messages")
        first, second = (c.json["embeds"][0] for c in calls)
        assert first["image"] == {"url": "https://cdn.snj.example/a.jpg"}
        assert datetime.fromisoformat(first["timestamp"]) == datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
        assert first["footer"]["text"] == "SNJ"
        assert "image" not in second


async def test_slack_blocks_show_the_picture_and_the_date(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        items = await _stored_items(FeedStore(r.core.db))
        feeds = ChannelRef("slack", TEAM_ID, "C0FEEDS01")
        for title in ("Media content", "Private picture"):
            await r.core.post(feeds, render_item(items[title], tz=LONDON, summary_chars=200))
        first, second = (p.json_arg("blocks") for p in r.fake.of("chat.postMessage"))
        (image,) = [b for b in first if b["type"] == "image"]
        assert image == {"type": "image", "image_url": "https://cdn.snj.example/a.jpg", "alt_text": "Media content"}
        context = [e["text"] for b in first if b["type"] == "context" for e in b["elements"]]
        stamp = int(datetime(2026, 11, 20, 9, 30, tzinfo=UTC).timestamp())
        assert context == ["SNJ", f"<!date^{stamp}^{{date_short_pretty}}|20 Nov 2026>"]
        assert not [b for b in second if b["type"] == "image"]


def test_the_console_shows_the_date_in_the_footer() -> None:
    from bot.adapters.console import render_reply

    text = render_reply(render_item(_item(), tz=LONDON, summary_chars=100))
    assert "└ GOV.UK · 20 Nov 2026" in text


async def test_slack_posts_without_the_picture_when_it_refuses_it(tmp_path: Path) -> None:
    # Slack refuses a whole message whose picture it cannot fetch: the post must not be lost.
    async with running(tmp_path, "http") as r:
        r.fake.script("chat.postMessage", body={"ok": False, "error": "invalid_blocks"})
        feeds = ChannelRef("slack", TEAM_ID, "C0FEEDS01")
        ts = await r.core.post(feeds, render_item(_item(), tz=LONDON, summary_chars=100), nonce="d-1")
        first, second = r.fake.of("chat.postMessage")
        assert [b["type"] for b in first.json_arg("blocks") if b["type"] == "image"] == ["image"]
        assert not [b for b in second.json_arg("blocks") if b["type"] == "image"]
        assert ts and second.json_arg("blocks")[0]["text"]["text"] == "New SEND guidance"
