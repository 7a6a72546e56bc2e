"""Round-ups (digests, posts that waited through quiet hours) as the platforms take them:
a digest of 60 posts is one message each platform accepts, and hostile titles stay inert.
Posted through the real discord.py and slack_sdk clients against the loopback fakes."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

from bot.model import ChannelRef
from feeds.roundup import render_roundup
from storage.feeds import StoredItem
from tests.support.discord import discord_env
from tests.support.fakes.discord_fake import CHANNEL_ID, GUILD_ID
from tests.support.fakes.slack_fake import TEAM_ID
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
