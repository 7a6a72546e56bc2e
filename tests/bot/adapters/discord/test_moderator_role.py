"""A server's own moderator role (`!settings set moderator-role`), against the Discord fake
with the real discord.py client: stored by id for that server, it decides who is a
moderator there; role names in `[discord] moderator_roles` are only the default."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.forum_settings import MODERATOR_ROLE
from tests.support.discord import DiscordEnv, discord_env
from tests.support.fakes.discord_fake import (
    ALERT_ROLE_ID,
    BOT_ID,
    CHANNEL_ID,
    GUILD_ID,
    MEMBER_ID,
    OTHER_CHANNEL_ID,
    THREAD_ID,
    FakeDiscord,
)

MESSAGES = r"/channels/\d+/messages"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[DiscordEnv]:
    # The probe cog's !purge is moderator-only; cogs.settings gives !settings.
    async with discord_env(tmp_path, cog_modules=["cogs.help", "cogs.settings"]) as e:
        yield e


async def say(env: DiscordEnv, text: str, who: str) -> str:
    """Send `text` as `who`; the text of the bot's next message (public, or by DM)."""
    fake = env.fake
    before = len([c for c in fake.find_calls("POST", MESSAGES) if c.status < 300])
    await fake.push("MESSAGE_CREATE", fake.message_payload(text, author=getattr(fake, who)))
    call = await fake.wait_for_call("POST", MESSAGES, count=before + 1)
    return str(call.json.get("content", ""))


async def test_the_stored_role_id_decides_who_is_a_moderator_in_that_server(env: DiscordEnv) -> None:
    fake = env.fake
    fake.roles[MEMBER_ID] = [str(ALERT_ROLE_ID)]  # the member holds the role to be chosen
    # Before: the member is refused, the helper is a moderator by the configured role name.
    assert "for the forum's moderators" in await say(env, "!purge", "member_user")
    assert await say(env, "!purge", "helper_user") == "purged"

    # A moderator (Manage Messages) picks the role by mention; it is checked against the server.
    done = await say(env, f"!settings set moderator-role <@&{ALERT_ROLE_ID}>", "mod_user")
    assert "Done" in done and "Feed alerts" in done
    assert await env.harness.core.forum_settings.forum_value("discord", str(GUILD_ID), MODERATOR_ROLE) == str(
        ALERT_ROLE_ID
    )

    # After: the member with that role id is a moderator; the helper, whose role only the
    # config names, is not any more (the config's names are the default, not an addition).
    assert await say(env, "!purge", "member_user") == "purged"
    assert "for the forum's moderators" in await say(env, "!purge", "helper_user")

    # Back to the default: the names in the config apply again.
    await say(env, "!settings reset moderator-role", "mod_user")
    assert "for the forum's moderators" in await say(env, "!purge", "member_user")
    assert await say(env, "!purge", "helper_user") == "purged"


async def test_a_role_or_channel_not_in_the_server_is_refused_and_nothing_changes(env: DiscordEnv) -> None:
    answer = await say(env, "!settings set moderator-role <@&123456789>", "mod_user")
    assert "can't find that role" in answer
    for everyone in (f"<@&{GUILD_ID}>", "@everyone", "@here", f"{GUILD_ID}"):  # @everyone's id is the server's
        answer = await say(env, f"!settings set moderator-role {everyone}", "mod_user")
        assert answer.startswith("That would make every member a moderator."), answer
    answer = await say(env, "!settings set moderators-channel <#987654321>", "mod_user")
    assert "There is no setting called" in answer  # the reports cog is not loaded
    assert await env.harness.core.forum_settings.stored("discord", str(GUILD_ID)) == {}


async def test_a_moderators_channel_must_be_one_of_this_servers(tmp_path: Path) -> None:
    cogs = ["cogs.help", "cogs.settings", "cogs.reports"]
    async with discord_env(tmp_path, cog_modules=cogs, before_start=_staff_channels) as env:
        answer = await say(env, "!settings set moderators-channel <#987654321>", "mod_user")
        assert "can't post in that channel, or it is not in this forum" in answer
        assert await env.harness.core.forum_settings.stored("discord", str(GUILD_ID)) == {}
        answer = await say(env, f"!settings set moderators-channel <#{MODS_ID}>", "mod_user")
        assert f"<#{MODS_ID}>" in answer
        stored = await env.harness.core.forum_settings.stored("discord", str(GUILD_ID))
        assert stored["moderators-channel"].value == str(MODS_ID)


async def test_a_moderators_channel_every_member_can_read_is_refused(tmp_path: Path) -> None:
    """Reports are shown in the moderators' channel: one the whole server reads would show
    parents' reports to everyone (a 'here' typed in #general by mistake)."""
    cogs = ["cogs.help", "cogs.settings", "cogs.reports"]
    async with discord_env(tmp_path, cog_modules=cogs, before_start=_staff_channels) as env:
        for typed in (f"<#{OTHER_CHANNEL_ID}>", "here"):  # the mod types in #general
            answer = await say(env, f"!settings set moderators-channel {typed}", "mod_user")
            assert answer.startswith("Everyone in this forum can read that channel"), answer
        assert await env.harness.core.forum_settings.stored("discord", str(GUILD_ID)) == {}


async def test_settings_set_as_a_slash_command(env: DiscordEnv) -> None:
    fake = env.fake
    sync = await fake.wait_for_call("PUT", rf"/applications/\d+/guilds/{GUILD_ID}/commands")
    [group] = [c for c in sync.json if c["name"] == "settings"]
    assert int(group["default_member_permissions"]) == 1 << 13  # hidden from members: Manage Messages
    setter = next(o for o in group["options"] if o["name"] == "set")
    assert [o["name"] for o in setter["options"]] == ["name", "value"]
    assert setter["options"][0].get("autocomplete") is True

    options = [
        {
            "name": "set",
            "type": 1,
            "options": [
                {"name": "name", "type": 3, "value": "timezone"},
                {"name": "value", "type": 3, "value": "Europe/Paris"},
            ],
        }
    ]
    data = {"id": "1", "name": "settings", "type": 1, "guild_id": str(GUILD_ID), "options": options}
    await fake.push("INTERACTION_CREATE", fake.interaction_payload(data, by=fake.mod_user))
    call = await fake.wait_for_call("POST", r"/interactions/\d+/[^/]+/callback")
    assert call.json["data"]["content"] == "Done. `timezone` is now Europe/Paris for this forum."
    assert call.json["data"]["flags"] == 64  # only the moderator sees it
    assert await env.harness.core.forum_settings.forum_value("discord", str(GUILD_ID), "timezone") == "Europe/Paris"


CATEGORY_ID, LOCKED_ID, MODS_ID = 300000000000000009, 300000000000000012, 300000000000000013
VIEW_CHANNEL, SEND_MESSAGES = 1 << 10, 1 << 11


def _staff_channels(fake: FakeDiscord) -> None:
    """A category (holds channels, not messages), a channel where members, the bot among
    them, may not send messages, and a moderators' channel members cannot see (the bot can)."""
    base = fake.channels[CHANNEL_ID]
    fake.channels[CATEGORY_ID] = {**base, "id": str(CATEGORY_ID), "type": 4, "name": "Staff"}
    deny = {"id": str(GUILD_ID), "type": 0, "allow": "0", "deny": str(SEND_MESSAGES)}
    fake.channels[LOCKED_ID] = {**base, "id": str(LOCKED_ID), "name": "rules", "permission_overwrites": [deny]}
    hidden = [
        {"id": str(GUILD_ID), "type": 0, "allow": "0", "deny": str(VIEW_CHANNEL)},
        {"id": str(BOT_ID), "type": 1, "allow": str(VIEW_CHANNEL | SEND_MESSAGES), "deny": "0"},
    ]
    fake.channels[MODS_ID] = {**base, "id": str(MODS_ID), "name": "mods", "permission_overwrites": hidden}


async def test_a_moderators_channel_the_bot_cannot_post_in_is_refused(tmp_path: Path) -> None:
    cogs = ["cogs.help", "cogs.settings", "cogs.reports"]
    async with discord_env(tmp_path, cog_modules=cogs, before_start=_staff_channels) as env:
        for channel in (CATEGORY_ID, LOCKED_ID):
            answer = await say(env, f"!settings set moderators-channel <#{channel}>", "mod_user")
            assert answer.startswith("I can't post in that channel"), answer
        assert await env.harness.core.forum_settings.stored("discord", str(GUILD_ID)) == {}
        # The fake's @everyone lacks Send Messages in Threads, which the bot would need there.
        answer = await say(env, f"!settings set moderators-channel <#{THREAD_ID}>", "mod_user")
        assert answer.startswith("I can't post in that channel"), answer
        answer = await say(env, f"!settings set moderators-channel <#{MODS_ID}>", "mod_user")
        assert answer.startswith("Done."), answer


async def test_here_in_a_channel_the_bot_cannot_post_in_is_refused(tmp_path: Path) -> None:
    """A slash command is answered even in a channel where the bot may not send messages."""
    cogs = ["cogs.help", "cogs.settings", "cogs.reports"]
    async with discord_env(tmp_path, cog_modules=cogs, before_start=_staff_channels) as env:
        fake = env.fake
        options = [
            {
                "name": "set",
                "type": 1,
                "options": [
                    {"name": "name", "type": 3, "value": "moderators-channel"},
                    {"name": "value", "type": 3, "value": "here"},
                ],
            }
        ]
        data = {"id": "1", "name": "settings", "type": 1, "guild_id": str(GUILD_ID), "options": options}
        await fake.push("INTERACTION_CREATE", fake.interaction_payload(data, by=fake.mod_user, channel_id=LOCKED_ID))
        call = await fake.wait_for_call("POST", r"/interactions/\d+/[^/]+/callback")
        assert call.json["data"]["content"].startswith("I can't post in that channel"), call.json
        assert await env.harness.core.forum_settings.stored("discord", str(GUILD_ID)) == {}
