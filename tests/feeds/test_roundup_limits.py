"""Round-ups (digests, posts that waited through quiet hours) as the platforms take them:
a digest of 60 posts is one message each platform accepts, and hostile titles stay inert.
Posted through the real discord.py and slack_sdk clients against the loopback fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.adapters.discord.render import render_embed
from bot.model import Card, ChannelRef
from feeds.roundup import render_roundup
from storage.feeds import StoredItem
from tests.support.discord import discord_env
from tests.support.fakes.discord_fake import CHANNEL_ID, GUILD_ID
from tests.support.fakes.slack_fake import TEAM_ID
from tests.support.feeds import cycle, make, service
from tests.support.feedserver import Entry, FeedServer, rss, snj_entries
from tests.support.harness import Harness
from tests.support.slack import running

DISCORD_NEWS = ChannelRef("discord", str(GUILD_ID), str(CHANNEL_ID))
SLACK_NEWS = ChannelRef("slack", TEAM_ID, "C0FEEDS01")
MESSAGES = rf"/channels/{CHANNEL_ID}/messages"


def item(i: int, title: str, link: str | None = None, feed: str = "Special Needs Jungle") -> StoredItem:
    if link is None:
        link = f"https://www.specialneedsjungle.com/2026/11/a-long-slug-for-story-{i}-" + "y" * 60
    return StoredItem(i, 1, title, link, "", "2026-11-27T10:00:00Z", None, feed)


def sixty() -> list[StoredItem]:
    return [item(i, f"Story {i}: " + "a long headline about EHC plans " * 3) for i in range(1, 61)]


HOSTILE = [
    item(1, "@everyone free tribunal help"),
    item(2, "<!channel> <!here> <@U0MOD> <@&123456> <#C0FEEDS01> look"),
    item(3, "[Council login](http://192.168.1.1/admin) and [x](http://localhost/)"),
    item(4, "Private link", "http://10.0.0.1/secret"),
    item(5, "Userinfo link", "https://user:pw@example.org/5"),
    item(6, "Script link", "javascript:alert(1)"),
]


def listed_count(lines: list[str]) -> int:
    """How many posts the list names: its whole lines plus the "and N more"."""
    whole = [line for line in lines if line.startswith("- ")]
    more = [line for line in lines if line.startswith("… and ")]
    return len(whole) + (int(more[0].split()[2]) if more else 0)


async def test_a_digest_of_sixty_posts_is_one_discord_message_with_whole_lines(tmp_path: Path) -> None:
    reply = render_roundup(sixty(), "digest", UTC)
    async with discord_env(tmp_path) as env:
        await env.adapter.post(DISCORD_NEWS, reply, nonce="roundup-1")
        (call,) = env.fake.find_calls("POST", MESSAGES)
        assert call.status == 200
        (embed,) = call.json["embeds"]
        assert embed["title"] == "Digest: 60 new posts from Special Needs Jungle"
        description = embed["description"]
        assert len(description) <= 4096
        lines = description.splitlines()
        # Every listed post is a whole line with its link (never cut in half) ...
        assert all(line.endswith("(27 Nov 2026)") for line in lines[:-1])
        # ... and the last says how many more there were, so none is silently lost.
        assert lines[-1].startswith("… and ") and "The feed's website has them all." in lines[-1]
        assert listed_count(lines) == 60


async def test_a_digest_of_sixty_posts_is_one_slack_message_within_its_limits(tmp_path: Path) -> None:
    reply = render_roundup(sixty(), "digest", UTC)
    async with running(tmp_path, "http") as r:
        await r.core.post(SLACK_NEWS, reply, nonce="roundup-1")
        (post,) = r.fake.of("chat.postMessage")
        blocks = post.json_arg("blocks")
        assert len(blocks) <= 50
        sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
        assert sections and all(len(s) <= 3000 for s in sections)
        lines = "\n".join(sections).splitlines()
        assert listed_count(lines) == 60


async def test_hostile_titles_in_a_round_up_ping_nobody_on_discord(tmp_path: Path) -> None:
    reply = render_roundup(HOSTILE, "quiet", UTC)
    async with discord_env(tmp_path) as env:
        await env.adapter.post(DISCORD_NEWS, reply, nonce="roundup-2")
        (call,) = env.fake.find_calls("POST", MESSAGES)
        assert call.json["allowed_mentions"] == {"parse": []} or call.json["allowed_mentions"]["parse"] == []
        description = call.json["embeds"][0]["description"]
        assert "@everyone" not in description and "<@" not in description and "<#" not in description
        assert "<!channel>" not in description
        for private in ("192.168.1.1", "localhost/", "10.0.0.1", "user:pw", "javascript:"):
            # Shown as escaped text at most, never as a link's target.
            assert f"]({private}" not in description and f"](http://{private}" not in description
        assert "](https://example.org/5)" not in description and "javascript:alert" not in description


async def test_hostile_titles_in_a_round_up_ping_nobody_on_slack(tmp_path: Path) -> None:
    reply = render_roundup(HOSTILE, "quiet", UTC)
    async with running(tmp_path, "http") as r:
        await r.core.post(SLACK_NEWS, reply, nonce="roundup-2")
        (post,) = r.fake.of("chat.postMessage")
        text = "\n".join(b["text"]["text"] for b in post.json_arg("blocks") if b["type"] == "section")
        for mention in ("<!channel>", "<!here>", "<@U0MOD>", "<!everyone>", "<#C0FEEDS01>", "@everyone"):
            assert mention not in text
        for private in ("http://192.168.1.1", "http://localhost", "http://10.0.0.1", "user:pw@", "javascript:"):
            assert f"<{private}" not in text


def long_entries(n: int) -> list[Entry]:
    """Stories with the longest titles and links a round-up shows whole, markdown in the titles."""
    base = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    return [
        Entry(
            title=f"Story {i}: *EHC* _plans_ [tribunal] " + "and a long headline " * 5,
            link=f"https://www.specialneedsjungle.com/2026/11/story-{i}-" + "a-very-long-slug-" * 13,
            guid=f"long-{i}",
            published=base + timedelta(minutes=i),
        )
        for i in range(1, n + 1)
    ]


def cards(h: Harness) -> list[tuple[str, str]]:
    posts = h.messengers["console"].posts()
    return [(s.reply.card.title, s.reply.card.body) for s in posts if s.reply and s.reply.card]


async def test_a_digest_of_sixty_long_posts_names_every_one_once_within_discords_limit(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.set("/long", rss(long_entries(1)))
    h = await make(tmp_path)
    try:
        h.clock.value = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
        assert "Subscribed" in await h.say_text(f"!feeds add {url} mode=digest at=18:00", moderator=True)
        feed_server.set("/long", rss(long_entries(61)))  # 60 new stories in one day
        await cycle(h)
        assert cards(h) == []
        h.clock.value = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
        await service(h).deliver_due()
        posted = cards(h)
        assert posted and all(title.startswith("Digest: ") for title, _ in posted)
        named: list[int] = []
        for title, body in posted:
            # What Discord would be sent: the description holds the whole list, uncut.
            description = render_embed(Card(title=title, body=body)).description or ""
            assert description == body and len(body) <= 4096
            for line in body.splitlines():
                assert line.startswith("- ") and line.endswith("(1 Nov 2026)"), line
                named.append(int(line.split("Story ", 1)[1].split(":", 1)[0]))
        assert sorted(named) == list(range(2, 62))  # every new story once, none lost
        await cycle(h)
        assert len(cards(h)) == len(posted)  # and nothing twice
    finally:
        await h.close()


async def test_a_digest_day_with_nothing_new_sends_nothing(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(2)))
    h = await make(tmp_path)
    try:
        h.clock.value = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
        assert "Subscribed" in await h.say_text(f"!feeds add {url} mode=digest at=18:00", moderator=True)
        for day in (27, 28, 29):
            h.clock.value = datetime(2026, 11, day, 18, 0, tzinfo=UTC)
            await cycle(h)
        assert h.messengers["console"].posts() == []
        rows = await service(h).store.db.fetchall("SELECT kind FROM feed_deliveries WHERE kind = 'roundup'")
        assert rows == []
    finally:
        await h.close()


async def test_a_round_ups_dates_are_in_the_forums_own_time_zone(tmp_path: Path, feed_server: FeedServer) -> None:
    late = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 27 November in New York, the 28th in London
    first = Entry("Older story", "https://www.specialneedsjungle.com/older", "g0", published=late - timedelta(days=3))
    story = Entry("Late story", "https://www.specialneedsjungle.com/late", "g1", published=late)
    url = feed_server.set("/snj", rss([first]))
    h = await make(tmp_path)
    try:
        assert "America/New_York" in await h.say_text("!settings set timezone America/New_York", moderator=True)
        h.clock.value = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
        assert "Subscribed" in await h.say_text(f"!feeds add {url} mode=digest at=18:00", moderator=True)
        feed_server.set("/snj", rss([first, story]))
        await cycle(h)
        h.clock.value = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)  # 18:00 in New York
        await service(h).deliver_due()
        ((title, body),) = cards(h)
        assert title == "Digest: 1 new post from Special Needs Jungle"
        assert body.endswith("(27 Nov 2026)"), body
    finally:
        await h.close()
