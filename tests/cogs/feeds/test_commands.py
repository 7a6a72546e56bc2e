"""!feeds commands through the harness: moderators only, clear answers to bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.feeds import make, service, titles
from tests.support.feedserver import FeedServer, rss, snj_entries
from tests.support.harness import Harness

# On both storage backends: SQLite and PostgreSQL (tests/support/backends.py).
pytestmark = pytest.mark.usefixtures("each_backend")


@pytest.mark.parametrize(
    "command",
    ["!feeds list", "!feeds add https://example.org/feed", "!feeds remove 1", "!feeds preview 1",
     "!feeds pause 1", "!feeds resume 1", "!feeds status", "!feeds"],
)  # fmt: skip
async def test_members_get_a_polite_refusal(harness: Harness, command: str) -> None:
    outcome = await harness.outcome(command)
    assert outcome.status == "denied"
    assert "for the forum's moderators" in outcome.replies[0].text


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("!feeds add", "Missing url"),
        ("!feeds add notaurl", "only http and https"),
        ("!feeds add https://example.org/f latest=abc", "latest should be a whole number"),
        ("!feeds add https://example.org/f latest=99", "between 0 and 20"),
        ("!feeds add https://example.org/f colour=red", "I didn't expect"),
        ("!feeds add https://example.org/f interval=1", "between 2 and 1440 minutes"),
        ("!feeds remove", "Missing id"),
        ("!feeds remove x", "should be a whole number"),
        ("!feeds remove 999", "no feed subscription 999 here"),
        ("!feeds pause 999", "no feed subscription 999 here"),
        ("!feeds resume 999", "no feed subscription 999 here"),
        ("!feeds preview 999", "no feed subscription 999 here"),
        ("!feeds preview javascript:alert(1)", "only http and https"),
        ("!feeds add http://xn--/", "not a valid web address"),
        ("!feeds preview http://xn--/", "not a valid web address"),
        ("!feeds frobnicate", "I don't know !feeds frobnicate"),
    ],
)
async def test_bad_input_gets_one_clear_line(harness: Harness, command: str, expected: str) -> None:
    text = await harness.say_text(command, moderator=True)
    assert expected in text
    assert "Traceback" not in text and "something went wrong" not in text


async def test_list_preview_pause_resume_remove(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(3)))
    h = await make(tmp_path)
    try:
        assert "No feeds yet" in await h.say_text("!feeds list", moderator=True)
        text = await h.say_text(f"!feeds add {url} exclude=tribunal interval=30", moderator=True)
        assert "(id 1)" in text and "exclude: tribunal" in text and "within about 30 minutes" in text
        assert "already has that feed" in await h.say_text(f"!feeds add {url}", moderator=True)

        listing = await h.say_text("!feeds list", moderator=True)
        assert "1 Special Needs Jungle → #general" in listing and url in listing

        preview = await h.say_text("!feeds preview 1", moderator=True)
        assert "would post: SNJ story 3" in preview and "Nothing was posted" in preview
        preview = await h.say_text(f'!feeds preview {url} include="story 2"', moderator=True)
        assert "would post: SNJ story 2" in preview and "filtered out: SNJ story 3" in preview
        assert titles(h) == []

        assert "Paused" in await h.say_text("!feeds pause 1", moderator=True)
        assert "already paused" in await h.say_text("!feeds pause 1", moderator=True)
        feed_server.set("/snj", rss(snj_entries(4)))
        await service(h).poll_due(force=True)
        await service(h).deliver_due()
        assert titles(h) == []  # paused: nothing fetched, nothing posted
        assert "Resumed" in await h.say_text("!feeds resume 1", moderator=True)
        assert "is not paused" in await h.say_text("!feeds resume 1", moderator=True)
        await service(h).poll_due(force=True)
        await service(h).deliver_due()
        assert titles(h) == []  # what arrived during the pause is recorded, not flooded
        feed_server.set("/snj", rss(snj_entries(5)))
        await service(h).poll_due(force=True)
        await service(h).deliver_due()
        assert titles(h) == ["SNJ story 5"]

        status = await h.say_text("!feeds status", moderator=True)
        assert "working" in status and "Posted: 1" in status

        assert "Removed" in await h.say_text("!feeds remove 1", moderator=True)
        assert "No feeds yet" in await h.say_text("!feeds list", moderator=True)
        assert await service(h).store.feeds() == []
        audit = [e.action for e in await h.core.audit.recent("console", "console")]
        assert audit == ["feeds.remove", "feeds.resume", "feeds.pause", "feeds.add"]
    finally:
        await h.close()


async def test_other_servers_cannot_see_or_touch_a_subscription(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(1)))
    h = await make(tmp_path)
    try:
        await h.say(f"!feeds add {url}", moderator=True, platform="discord", scope="guild-a", channel="c1")
        other = {"moderator": True, "platform": "discord", "scope": "guild-b", "channel": "c9"}
        assert "No feeds yet" in await h.say_text("!feeds list", **other)
        assert "no feed subscription 1 here" in await h.say_text("!feeds remove 1", **other)
        mine = {"moderator": True, "platform": "discord", "scope": "guild-a", "channel": "c1"}
        assert "→ #c1" in await h.say_text("!feeds list", **mine)
    finally:
        await h.close()


async def test_add_reports_unreachable_feed_and_adds_nothing(tmp_path: Path, feed_server: FeedServer) -> None:
    h = await make(tmp_path)
    try:
        text = await h.say_text(f"!feeds add {feed_server.url('/missing')}", moderator=True)
        assert text.startswith("Added. I am checking the feed now...")  # the answer, at once
        assert "not found (HTTP 404): has its address changed? Nothing was added" in text  # the follow-up
        assert await service(h).store.feeds() == []
    finally:
        await h.close()


async def test_help_lists_the_feed_subcommands(harness: Harness) -> None:
    text = await harness.say_text("!help feeds", moderator=True)
    for sub in ("add", "remove", "preview", "pause", "resume", "status", "list"):
        assert f"!feeds {sub}" in text


async def test_help_for_import_says_where_the_file_goes(harness: Harness) -> None:
    # Volunteers on Discord use the slash command, where a file goes in its own box.
    text = await harness.say_text("!help feeds import", moderator=True)
    assert "Attach the OPML file" in text and "use the file box" in text.replace("`", "")
    other = await harness.say_text("!help feeds add", moderator=True)
    assert "Attach" not in other  # only commands that read a file say so


async def test_pause_holds_queued_posts_and_resume_posts_nothing_from_the_pause(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.set("/snj", rss(snj_entries(3)))
    h = await make(tmp_path)
    try:
        await h.say_text(f"!feeds add {url} latest=1", moderator=True)
        await service(h).poll_due(force=True)
        await service(h).deliver_due()
        assert titles(h) == ["SNJ story 3"]  # first sight: the latest one
        feed_server.set("/snj", rss(snj_entries(4)))
        await service(h).poll_due(force=True)  # story 4 is queued...
        assert "Paused" in await h.say_text("!feeds pause 1", moderator=True)
        await service(h).deliver_due()
        assert titles(h) == ["SNJ story 3"]  # ...and waits while the channel is paused
        assert await service(h).store.next_delivery_time(["console"]) is None

        feed_server.set("/snj", rss(snj_entries(6)))  # stories 5 and 6 appear during the pause
        assert "Resumed" in await h.say_text("!feeds resume 1", moderator=True)
        await service(h).poll_due(force=True)
        await service(h).deliver_due()
        # Story 4 was queued before the pause; `latest=1` does not bring back story 6.
        assert titles(h) == ["SNJ story 3", "SNJ story 4"]
        feed_server.set("/snj", rss(snj_entries(7)))
        await service(h).poll_due(force=True)
        await service(h).deliver_due()
        assert titles(h) == ["SNJ story 3", "SNJ story 4", "SNJ story 7"]
    finally:
        await h.close()
