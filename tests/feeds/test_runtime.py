"""The feeds cog at run time: config subscriptions, the background poller, the CLI."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.messenger import Messenger
from bot.model import ChannelRef, Reply
from tests.support.feeds import feeds_config, make, service
from tests.support.feedserver import FeedServer, rss, snj_entries
from tests.support.harness import Harness, RecordingMessenger
from tests.support.processes import run_cli

# On both storage backends: SQLite and PostgreSQL (tests/support/backends.py).
pytestmark = pytest.mark.usefixtures("each_backend")

ROOT = Path(__file__).resolve().parents[2]


async def test_config_subscriptions_are_upserted_and_pruned(tmp_path: Path, feed_server: FeedServer) -> None:
    a = feed_server.set("/a", rss(snj_entries(1)))
    b = feed_server.set("/b", rss(snj_entries(1)))
    subs: list[dict[str, Any]] = [
        {"url": a, "name": "Feed A", "channel": "general", "include": ["SEND"]},
        {"url": b, "channel": "news", "interval_minutes": 30},
    ]
    h = await make(tmp_path, subscriptions=subs)
    await h.close()
    h = await make(tmp_path, subscriptions=[{**subs[0], "include": ["EHC"]}])
    try:
        listing = await service(h).store.subscriptions()
        assert [(s.feed_id, s.channel_id, s.include, s.source) for s in listing] == [(1, "general", ("EHC",), "config")]
        feed = await service(h).store.feed(1)
        assert feed is not None and feed.display_name == "Feed A"
    finally:
        await h.close()


class SignallingMessenger(RecordingMessenger):
    """Sets an event on each post, so a test can wait for the background loop."""

    def __init__(self, platform: str) -> None:
        super().__init__(platform)
        self.posted = asyncio.Event()

    async def post(self, channel: ChannelRef, reply: Reply, *, nonce: str | None = None, unsure: bool = False) -> str:
        mid = await super().post(channel, reply, nonce=nonce)
        self.posted.set()
        return mid


async def test_background_poller_runs_only_when_serving(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(2)))
    cfg = feeds_config(enabled=True, subscriptions=[{"url": url, "channel": "general", "latest": 1}])
    idle = await Harness.create(tmp_path / "idle", cfg)
    try:
        assert idle.core.cogs["feeds"]._task is None  # type: ignore[attr-defined]
    finally:
        await idle.close()

    h = await Harness.create(tmp_path, cfg, start=False)
    messenger = SignallingMessenger("console")
    assert isinstance(messenger, Messenger)
    h.core.register_messenger(messenger)
    h.core.serving = True
    await h.core.start()
    try:
        await asyncio.wait_for(messenger.posted.wait(), timeout=10)
        [post] = messenger.posts()
        assert post.reply is not None and post.reply.card is not None
        assert post.reply.card.title == "SNJ story 2"
        # The loop keeps the bot responsive while it works.
        assert "!help" in await h.say_text("!help")
    finally:
        await h.close()
    assert h.core.cogs["feeds"]._task is None  # type: ignore[attr-defined]


async def _run_cli(*args: str, cwd: Path) -> tuple[int, str, str]:
    return await run_cli(*args, cwd=cwd, root=ROOT)


async def test_cli_poll_once_prints_posts_and_a_summary(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(3)))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\npath = "{tmp_path / "db.sqlite3"}"\n'
        "[feeds]\nallow_private_addresses = true\n"
        f'[[feeds.subscriptions]]\nurl = "{url}"\nname = "SNJ test"\nchannel = "general"\nlatest = 2\n'
    )
    code, out, err = await _run_cli("feeds", "poll", "--once", "--config", str(config), cwd=tmp_path)
    assert code == 0, err
    assert "[#general] SNJ story 2\n" in out and "[#general] SNJ story 3\n" in out
    assert "  https://www.specialneedsjungle.com/story-3/\n" in out
    assert out.strip().splitlines()[-1].startswith("Polled 1 feed(s): 1 with news")
    assert "delivered 2 post(s)" in out
    code, out, err = await _run_cli("feeds", "poll", "--once", "--config", str(config), cwd=tmp_path)
    assert code == 0 and "delivered 0 post(s)" in out and "SNJ story" not in out

    code, out, err = await _run_cli(
        "feeds", "preview", url, "--include", "story 1", "--config", str(config), cwd=tmp_path
    )
    assert code == 0, err
    assert "would post: SNJ story 1" in out and "filtered out: SNJ story 3" in out and "Nothing was posted." in out


async def test_cli_preview_refuses_private_address_by_default(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[bot]\nprefix = '!'\n")
    code, _, err = await _run_cli("feeds", "preview", "http://127.0.0.1:9/feed", "--config", str(config), cwd=tmp_path)
    assert code == 2 and "private or local" in err and "Traceback" not in err


async def test_a_channel_added_later_sees_the_feed_afresh(tmp_path: Path, feed_server: FeedServer) -> None:
    from tests.support.feeds import cycle, titles
    from tests.support.feedserver import Entry

    entries = [*snj_entries(3), Entry("Hearing news", "https://e.org/t", guid="t1", summary="<p>At tribunal.</p>")]
    url = feed_server.set("/snj", rss(entries))
    general = {"url": url, "channel": "general"}
    h = await make(tmp_path, subscriptions=[general])
    await cycle(h)
    assert titles(h) == []
    await h.close()

    news = {"url": url, "channel": "news", "latest": 1, "include": ["tribunal"]}
    h = await make(tmp_path, subscriptions=[general, news])
    try:
        await cycle(h)  # 304 would hide the items: the new channel forces a full fetch
        posts = h.messengers["console"].posts()
        assert [(p.channel.channel_id if p.channel else "", t) for p, t in zip(posts, titles(h), strict=True)] == [
            ("news", "Hearing news")
        ]
    finally:
        await h.close()
