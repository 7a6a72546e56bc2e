"""The Discord adapter end to end: real discord.py against the loopback fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.discord_support import DiscordEnv, discord_env
from tests.fakes.discord_fake import CHANNEL_ID

MESSAGES = rf"/channels/{CHANNEL_ID}/messages"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[DiscordEnv]:
    async with discord_env(tmp_path) as e:
        yield e


async def test_prefix_command_gets_a_reply(env: DiscordEnv) -> None:
    fake = env.fake
    msg = fake.message_payload("!help", author=fake.member_user)
    await fake.push("MESSAGE_CREATE", msg)
    call = await fake.wait_for_call("POST", MESSAGES)
    assert call.json["embeds"][0]["title"] == "SEND forum bot: commands"
    assert str(call.json["message_reference"]["message_id"]) == msg["id"]
    assert call.json["allowed_mentions"]["parse"] == []
