"""A fan-out world: one feed subscribed in many channels of the Discord or Slack fake, with the
fake enforcing the platform's limits, the real adapter (discord.py or slack_sdk) as the
messenger, and the deliveries queued in the outbox, ready for `service.deliver_due()`.

Used by the fan-out tests and by `python -m bench.fanout`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.adapters.discord import DiscordAdapter
from bot.adapters.slack import SlackAdapter
from bot.config import parse
from bot.core import BotCore
from bot.model import ChannelRef
from feeds.service import FeedService
from tests.support.fakes.discord_fake import GUILD_ID, FakeDiscord
from tests.support.fakes.slack_fake import TEAM_ID, SlackFake
from tests.support.feedserver import FeedServer, rss, snj_entries

DISCORD_GLOBAL = 50  # Discord's global limit, requests per second per bot token
DISCORD_ROUTE = (5, 5.0)  # Discord's limit on one channel's message POSTs: 5 per 5 s
SLACK_CHANNEL_INTERVAL = 1.0  # Slack: about one post per second per channel
TITLE = re.compile(r"SNJ story (\d+)")


@dataclass
class FanoutWorld:
    platform: str
    core: BotCore
    service: FeedService
    fake: Any  # FakeDiscord | SlackFake
    adapter: Any  # DiscordAdapter | SlackAdapter
    channels: list[str]
    items: int
    workspace_rate: int

    @property
    def queued(self) -> int:
        return len(self.channels) * self.items

    def floor_s(self) -> float:
        """The time the fake's limits allow for every queued post (Discord: the global rate;
        Slack: the workspace rate; both assume the per-channel limits are never the bound)."""
        rate = DISCORD_GLOBAL if self.platform == "discord" else self.workspace_rate
        return self.queued / rate

    @property
    def http_429(self) -> int:
        return int(self.fake.http_429)

    def posted(self) -> dict[str, list[int]]:
        """Item numbers each channel shows, oldest post first."""
        out: dict[str, list[int]] = {}
        for channel in self.channels:
            if self.platform == "discord":
                texts = [json.dumps(m.get("embeds")) for m in self.fake.channel_messages(int(channel))]
            else:
                texts = [str(m.get("text")) for m in reversed(self.fake.history.get(channel, []))]
            out[channel] = [int(n) for t in texts for n in TITLE.findall(t)[:1]]
        return out


@contextlib.asynccontextmanager
async def fanout_world(
    tmp: Path,
    platform: str,
    *,
    channels: int,
    items: int = 1,
    rtt: float = 0.0,
    workspace_rate: int = 20,
    paced: bool = True,
) -> AsyncIterator[FanoutWorld]:
    """`paced=False` is the code before issue 13 part 2, for comparison: one delivery at a
    time and no global (Discord) or workspace (Slack) pacer."""
    feeds = await FeedServer().start()
    url = feeds.set("/feed", rss(snj_entries(items)))
    fake: Any
    section: dict[str, Any]
    if platform == "discord":
        fake = await FakeDiscord.start(global_rate=DISCORD_GLOBAL, route_limit=DISCORD_ROUTE, rtt=rtt)
        ids = [str(300000000000000001 + i) for i in range(channels)]
        for i, cid in enumerate(ids):
            fake.add_text_channel(int(cid), f"news-{i}")
        scope = str(GUILD_ID)
        section = {"token": "x", "api_base_url": fake.api_base_url, "gateway_url": fake.gateway_url}
        section["guild_ids"] = [GUILD_ID]
    else:
        fake = await SlackFake(channel_interval=SLACK_CHANNEL_INTERVAL, workspace_rate=workspace_rate, rtt=rtt).start()
        ids = [f"C{i:08d}" for i in range(channels)]
        scope = TEAM_ID
        section = {"bot_token": fake.bot_token, "app_token": fake.app_token, "api_base_url": fake.base_url}
        section["workspace_posts_per_second"] = workspace_rate
    cfg = parse(
        {
            "storage": {"path": str(tmp / "fanout.sqlite3")},
            "feeds": {"enabled": False, "allow_private_addresses": True},
            platform: section,
        },
        environ={},
    )
    core = await BotCore.create(cfg, cog_modules=["cogs.feeds"])
    adapter: Any
    if platform == "discord":
        adapter = DiscordAdapter(core) if paced else DiscordAdapter(core, global_rate=0)
    else:
        adapter = SlackAdapter(core) if paced else SlackAdapter(core, workspace_rate=0)
    await core.start()
    task = asyncio.create_task(adapter.run(), name=f"{platform}-adapter")
    try:
        ready = adapter.logged_in if platform == "discord" else adapter.ready
        waiter = asyncio.ensure_future(ready.wait())
        done, _ = await asyncio.wait([waiter, task], timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:
            waiter.cancel()
            if task.done():
                task.result()
            raise TimeoutError(f"the {platform} adapter never became ready")
        if platform == "discord":
            await fake.wait_identified()
        service: FeedService = core.cogs["feeds"].service  # type: ignore[attr-defined]
        if not paced:
            service.delivery_concurrency = 1
        now = core.now()
        for cid in ids:
            await service.store.subscribe(url, ChannelRef(platform, scope, cid), now, latest=items)
        summary = await service.poll_due(force=True)
        feed = await service.store.feed(1)
        assert summary.queued == channels * items, (summary.line(), feed and feed.last_error)
        yield FanoutWorld(platform, core, service, fake, adapter, ids, items, workspace_rate)
    finally:
        await adapter.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, 10)
        if not task.done():
            task.cancel()
        await core.stop()
        await fake.close()
        await feeds.close()
