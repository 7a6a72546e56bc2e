"""A report sent in a direct message by a member of several of the bot's servers: the bot asks
which forum it is for with a select menu, and files it there once chosen (issue 17). Real
discord.py against the loopback fake, with the real reports cog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.discord import DiscordEnv, discord_env
from tests.support.fakes.discord_fake import GUILD_ID, MEMBER_ID, FakeDiscord

OTHER_GUILD = 100000000000000002
DM_CHANNEL = 250000000000000009
CALLBACK = r"/interactions/\d+/[^/]+/callback"
COGS = ["cogs.help", "cogs.reports"]


def _both(fake: FakeDiscord) -> None:
    fake.add_guild(OTHER_GUILD, "Second forum", {MEMBER_ID})


def _only_first(fake: FakeDiscord) -> None:
    fake.add_guild(OTHER_GUILD, "Second forum", set())


def _dm(fake: FakeDiscord) -> None:
    fake.channels[DM_CHANNEL] = {"id": str(DM_CHANNEL), "type": 1, "recipients": [fake.member_user]}


async def _reports(env: DiscordEnv) -> list[Any]:
    return list(await env.harness.core.db.fetchall("SELECT scope_id, text FROM reports"))


def _pick(fake: FakeDiscord, message: dict[str, Any], guild_id: int) -> dict[str, Any]:
    select = message["components"][0]["components"][0]
    data = {"custom_id": select["custom_id"], "component_type": 3, "values": [str(guild_id)]}
    payload = fake.interaction_payload(data, by=fake.member_user, itype=3, channel_id=DM_CHANNEL)
    payload["message"] = message
    return payload


async def test_a_dm_report_asks_which_forum_then_files_it_there(tmp_path: Path) -> None:
    servers = {"guild_ids": [GUILD_ID, OTHER_GUILD]}
    async with discord_env(tmp_path, discord=servers, before_start=_both, cog_modules=COGS) as env:
        fake = env.fake
        _dm(fake)
        msg = fake.message_payload(
            "!report the school said we must wait a year", author=fake.member_user, channel_id=DM_CHANNEL, guild=False
        )
        await fake.push("MESSAGE_CREATE", msg)
        ask = await fake.wait_for_call("POST", rf"/channels/{DM_CHANNEL}/messages")
        assert "Which forum" in ask.json["content"]
        (row,) = ask.json["components"]
        options = row["components"][0]["options"]
        assert {o["value"] for o in options} == {str(GUILD_ID), str(OTHER_GUILD)}
        assert "Second forum" in {o["label"] for o in options}
        assert await _reports(env) == []  # nothing filed before the choice
        [asked] = [m for m in fake.channel_messages(DM_CHANNEL) if "Which forum" in m["content"]]
        await fake.push("INTERACTION_CREATE", _pick(fake, {**asked, "components": ask.json["components"]}, OTHER_GUILD))
        answer = await fake.wait_for_call("POST", CALLBACK)
        assert "#1" in str(answer.json["data"].get("content"))
        [(scope, text)] = [tuple(r) for r in await _reports(env)]
        assert scope == str(OTHER_GUILD) and "wait a year" in text


async def test_a_dm_report_from_a_member_of_one_forum_is_filed_there_without_asking(tmp_path: Path) -> None:
    servers = {"guild_ids": [GUILD_ID, OTHER_GUILD]}
    async with discord_env(tmp_path, discord=servers, before_start=_only_first, cog_modules=COGS) as env:
        fake = env.fake
        _dm(fake)
        text = "!report told EHCPs stop at 16"
        await fake.push(
            "MESSAGE_CREATE", fake.message_payload(text, author=fake.member_user, channel_id=DM_CHANNEL, guild=False)
        )
        sent = await fake.wait_for_call("POST", rf"/channels/{DM_CHANNEL}/messages")
        assert "Which forum" not in str(sent.json.get("content")) and "#1" in str(sent.json)
        [(scope, _text)] = [tuple(r) for r in await _reports(env)]
        assert scope == str(GUILD_ID)


async def test_a_dm_slash_report_asks_which_forum_privately(tmp_path: Path) -> None:
    # Slash commands exist in direct messages only when registered globally (no guild_ids).
    async with discord_env(tmp_path, discord={"guild_ids": []}, before_start=_both, cog_modules=COGS) as env:
        fake = env.fake
        _dm(fake)
        options = [{"name": "text", "type": 3, "value": "the council said no assessment under 5"}]
        data = {"id": "700000000000000001", "name": "report", "type": 1, "options": options}
        await fake.push(
            "INTERACTION_CREATE", fake.interaction_payload(data, by=fake.member_user, channel_id=DM_CHANNEL)
        )
        ask = await fake.wait_for_call("POST", CALLBACK)
        assert ask.json["data"]["flags"] & 64 and "Which forum" in ask.json["data"]["content"]
        assert await _reports(env) == []
        message = next(m for m in fake.messages.values() if "Which forum" in m["content"])
        await fake.push(
            "INTERACTION_CREATE", _pick(fake, {**message, "components": ask.json["data"]["components"]}, GUILD_ID)
        )
        await fake.wait_for_call("POST", CALLBACK, count=2)
        [(scope, text)] = [tuple(r) for r in await _reports(env)]
        assert scope == str(GUILD_ID) and "assessment" in text
