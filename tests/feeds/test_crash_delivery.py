"""Crash tests (issue 11): nothing lost, nothing doubled, whatever stops the bot mid-delivery.

`sendbot run` runs as a real subprocess against the Discord or Slack fake, with a loopback feed
subscribed in several channels. It is stopped with SIGKILL or SIGTERM at the named points of a
delivery (storage/faults.py: before the send, after the platform accepted it but before the
database recorded it, during the commit that records it), and at 20 seeded random moments while
posts are going out; each time it is started again. At the end every item must be visible
exactly once in every channel. The Discord fake honours a repeated nonce only within its
window (as Discord does, shortened here), so a retry must come promptly at start; the Slack
fake keeps a history the bot can search for a delivery's nonce.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import signal
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.fakes.discord_fake import CHANNEL_ID, GUILD_ID, FakeDiscord
from tests.support.fakes.slack_fake import SlackFake
from tests.support.feedserver import FeedServer, rss, snj_entries
from tests.support.processes import clean_env, start_run
from tests.support.slack import populate

pytestmark = pytest.mark.slow  # real subprocesses: left out of `make test-fast`

TITLE = re.compile(r"SNJ story (\d+)")
DISCORD_NONCE_WINDOW = 20.0  # seconds: far shorter than Discord's, so a late retry would show
# Deliveries go to every channel at once, paced by the platform's shared limit: set low here,
# so that each of the 20 random stops lands mid-run (a feed posts at most 20 items at first).
PACE = {"discord": "requests_per_second = 10", "slack": "workspace_posts_per_second = 1.5"}


@dataclass
class World:
    platform: str
    tmp: Path
    fake: Any
    feeds: FeedServer
    channels: list[str]
    items: int
    cfg: Path = field(init=False)
    env: dict[str, str] = field(init=False)

    def expected(self) -> Counter[tuple[str, int]]:
        return Counter((c, i) for c in self.channels for i in range(1, self.items + 1))

    def visible(self) -> Counter[tuple[str, int]]:
        """(channel, item number) of every message a member can see now."""
        seen: Counter[tuple[str, int]] = Counter()
        for channel in self.channels:
            if self.platform == "discord":
                messages = [json.dumps(m.get("embeds")) for m in self.fake.channel_messages(int(channel))]
            else:
                messages = [str(m.get("text")) for m in self.fake.history.get(channel, [])]
            for text in messages:
                numbers = set(TITLE.findall(text))
                assert len(numbers) == 1, text
                seen[(channel, int(numbers.pop()))] += 1
        return seen


async def make_world(tmp: Path, platform: str, *, channels: int, items: int) -> World:
    feeds = await FeedServer().start()
    url = feeds.set("/feed", rss(snj_entries(items)))
    if platform == "discord":
        fake: Any = await FakeDiscord.start(nonce_window=DISCORD_NONCE_WINDOW, post_delay=0.05)
        ids = [str(CHANNEL_ID)] + [str(300000000000000000 + i) for i in range(1, channels)]
        for i, cid in enumerate(ids[1:], 1):
            fake.add_text_channel(int(cid), f"news-{i}")
        scope = str(GUILD_ID)
    else:
        fake = await SlackFake().start()
        populate(fake)
        ids = [f"C0NEWS{i:02d}" for i in range(channels)]
        scope = "T0FORUM"
    world = World(platform, tmp, fake, feeds, ids, items)
    subs = "".join(
        f'\n[[feeds.subscriptions]]\nurl = "{url}"\nplatform = "{platform}"\nscope = "{scope}"\n'
        f'channel = "{cid}"\nlatest = {items}\n'
        for cid in ids
    )
    if platform == "discord":
        adapter = (
            f'[discord]\napi_base_url = "{fake.api_base_url}"\ngateway_url = "{fake.gateway_url}"\n'
            f"guild_ids = [{GUILD_ID}]\n{PACE['discord']}\n"
        )
        env = clean_env(DISCORD_TOKEN="x")
    else:
        adapter = f'[slack]\nmode = "socket"\napi_base_url = "{fake.base_url}"\n{PACE["slack"]}\n'
        env = clean_env(SLACK_BOT_TOKEN=fake.bot_token, SLACK_APP_TOKEN=fake.app_token)
    world.cfg = tmp / "config.toml"
    world.cfg.write_text(
        f'[storage]\npath = "{tmp / "bot.sqlite3"}"\n\n[logging]\nlevel = "INFO"\n\n'
        f"[feeds]\nallow_private_addresses = true\n{subs}\n{adapter}",
        encoding="utf-8",
    )
    world.env = env
    return world


async def close_world(world: World) -> None:
    await world.fake.close()
    await world.feeds.close()


async def run(world: World, *, fault: str | None = None, stop_when_all: bool = False, within: float = 60) -> int:
    """One `sendbot run`: until it stops itself (a fault), or, with stop_when_all, until every
    item is visible (then a normal stop). Returns the exit code."""
    env = {**world.env, **({"SENDBOT_FAULT": fault} if fault else {})}
    proc = await start_run(world.cfg, cwd=world.tmp, env=env)
    try:
        async with asyncio.timeout(within):
            while proc.returncode is None:
                if stop_when_all and world.visible() == world.expected():
                    await asyncio.sleep(0.5)  # a late double would show up now
                    proc.send_signal(signal.SIGTERM)
                    break
                await asyncio.sleep(0.05)
            _, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert b"Traceback" not in err, err.decode()[-3000:]
    return int(proc.returncode or 0)


async def stop_at_random(world: World, rng: random.Random, sig: signal.Signals) -> None:
    """Start the bot; once a new post appears, stop it `sig` within a moment (seeded)."""
    proc = await start_run(world.cfg, cwd=world.tmp, env=world.env)
    try:
        before = sum(world.visible().values())
        async with asyncio.timeout(60):
            # Polling is the point: the posts are made by another process, seen through the fake.
            while sum(world.visible().values()) == before and world.visible() != world.expected():  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            await asyncio.sleep(rng.uniform(0.0, 0.3 if world.platform == "discord" else 1.2))
            proc.send_signal(sig)
            _, err = await proc.communicate()
        assert b"Traceback" not in err, err.decode()[-3000:]
        if sig == signal.SIGTERM:
            assert proc.returncode == 0, err.decode()[-3000:]
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def assert_exactly_once(world: World) -> None:
    seen = world.visible()
    doubled = {k: n for k, n in seen.items() if n > 1}
    lost = sorted(set(world.expected()) - set(seen))
    assert not doubled, f"posted more than once: {doubled}"
    assert not lost, f"never posted: {lost}"


@pytest.mark.parametrize("platform", ["discord", "slack"])
@pytest.mark.parametrize("point", ["before-send", "after-send", "commit"])
@pytest.mark.parametrize("action", ["kill", "term"])
async def test_stopped_at_a_named_point_of_a_delivery_nothing_is_lost_or_doubled(
    tmp_path: Path, platform: str, point: str, action: str
) -> None:
    world = await make_world(tmp_path, platform, channels=2, items=3)
    try:
        code = await run(world, fault=f"{point}:{action}:3")
        # SIGKILL: the process dies where it stands. SIGTERM: it finishes the send in hand,
        # records it, and exits normally.
        assert code == (-signal.SIGKILL if action == "kill" else 0)
        assert 0 < sum(world.visible().values()) < len(world.expected())
        assert await run(world, stop_when_all=True) == 0
        assert_exactly_once(world)
    finally:
        await close_world(world)


@pytest.mark.parametrize("platform", ["discord", "slack"])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
async def test_stopped_at_20_random_moments_nothing_is_lost_or_doubled(
    tmp_path: Path, platform: str, sig: signal.Signals
) -> None:
    world = await make_world(tmp_path, platform, channels=5, items=20 if platform == "discord" else 10)
    rng = random.Random(f"{platform}-{sig.name}")
    try:
        stops = 0
        while stops < 20 and world.visible() != world.expected():
            await stop_at_random(world, rng, sig)
            stops += 1
        assert stops == 20, f"everything was delivered after {stops} stops: add items so each stop lands mid-run"
        assert await run(world, stop_when_all=True, within=90) == 0
        assert_exactly_once(world)
    finally:
        await close_world(world)
