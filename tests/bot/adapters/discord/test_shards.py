"""Discord sharding across instances (issue 15): `[discord] shard_count` and `shard_ids`.

Two instances of the real adapter (discord.py's AutoShardedClient) against one loopback fake,
each running one of two shards: each identifies with its own [shard_id, shard_count], the
fake routes a server's events to the shard that has it (as Discord does), and a command is
answered once, by the instance whose shard received it."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord import DiscordAdapter
from bot.adapters.discord.client import ShardedSendbotClient
from bot.config import ConfigError, parse
from tests.support.discord import ProbeCog
from tests.support.fakes.discord_fake import CHANNEL_ID, GUILD_ID, FakeDiscord
from tests.support.harness import Harness


def commands_handled(h: Harness) -> float:
    return sum(
        s.value
        for m in h.core.metrics.registry.collect()
        if m.name == "sendbot_commands"
        for s in m.samples
        if s.name.endswith("_total")
    )


class ReadyProbe(ProbeCog):
    """The probe cog, told when its instance's client is ready (all of its shards)."""

    def __init__(self, core: Any) -> None:
        super().__init__(core)
        self.ready = asyncio.Event()

    async def on_platform_ready(self, platform: str) -> None:
        self.ready.set()


async def test_two_instances_split_the_shards_and_the_owner_answers(tmp_path: Path) -> None:
    fake = await FakeDiscord.start()
    harnesses: list[Harness] = []
    adapters: list[DiscordAdapter] = []
    tasks: list[asyncio.Task[None]] = []
    probes: list[ReadyProbe] = []
    try:
        for shard in (0, 1):
            cfg = {
                "token": "test-token",
                "api_base_url": fake.api_base_url,
                "gateway_url": fake.gateway_url,
                "guild_ids": [GUILD_ID],
                "shard_count": 2,
                "shard_ids": [shard],
            }
            h = await Harness.create(tmp_path / f"instance{shard}", {"discord": cfg}, cog_modules=["cogs.help"])
            probe = ReadyProbe(h.core)
            h.core.add_cog(probe)
            probes.append(probe)
            adapter = DiscordAdapter(h.core)
            harnesses.append(h)
            adapters.append(adapter)
            tasks.append(asyncio.create_task(adapter.run(), name=f"discord-shard-{shard}"))
        await asyncio.wait_for(fake.wait_identified(2), 15)
        assert sorted(tuple(i["shard"]) for i in fake.identifies) == [(0, 2), (1, 2)]
        assert all(isinstance(a.client, ShardedSendbotClient) for a in adapters)

        owner = (GUILD_ID >> 22) % 2  # Discord's rule: the shard that gets this server's events
        await asyncio.wait_for(adapters[owner].logged_in.wait(), 15)
        await asyncio.wait_for(probes[owner].ready.wait(), 15)  # on_ready: all of its shards
        assert not any(t.done() for t in tasks), [t.exception() for t in tasks if t.done()]
        mine, theirs = adapters[owner].client, adapters[1 - owner].client
        assert mine is not None and mine.get_guild(GUILD_ID) is not None
        assert theirs is not None and theirs.get_guild(GUILD_ID) is None  # never told of it

        msg = fake.message_payload("!whereami", author=fake.member_user)
        await fake.push("MESSAGE_CREATE", msg)
        call = await fake.wait_for_call("POST", rf"/channels/{CHANNEL_ID}/messages")
        assert f"scope={GUILD_ID}" in call.json["content"]
        assert [commands_handled(h) for h in harnesses] == [1.0 if i == owner else 0.0 for i in (0, 1)]
        assert len(fake.find_calls("POST", rf"/channels/{CHANNEL_ID}/messages")) == 1
    finally:
        for adapter in reversed(adapters):  # each restores the endpoints it found
            await adapter.close()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await fake.close()
        for h in harnesses:
            await h.close()


@pytest.mark.parametrize(
    ("shards", "problem"),
    [
        ({"shard_count": 2, "shard_ids": [0, 2]}, "discord.shard_ids: shards are numbered 0 to 1"),
        ({"shard_ids": [0]}, "discord.shard_ids: needs shard_count too"),
        ({"shard_count": 3, "shard_ids": [1, 1]}, "discord.shard_ids: each shard may be listed only once"),
        ({"shard_count": 0}, "discord.shard_count"),
    ],
)
def test_shard_settings_are_checked(shards: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse({"discord": shards}, environ={})
    assert problem in str(err.value)


def test_shards_are_optional() -> None:
    config = parse({"discord": {"shard_count": 4, "shard_ids": [1, 3]}}, environ={})
    assert (config.discord.shard_count, config.discord.shard_ids) == (4, [1, 3])
    assert parse({}, environ={}).discord.shard_count is None
