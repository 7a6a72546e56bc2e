"""A workspace's own moderators' user group (`!settings set moderator-role`), against the
Slack fake with the real slack_sdk client: it replaces `[slack] moderator_usergroup` for
that workspace; admins and `moderator_user_ids` stay moderators."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from bot.forum_settings import MODERATOR_ROLE
from cogs.settings import SettingsCog
from tests.support.fakes.slack_fake import TEAM_ID, form_body, message_event, sign, slash_command
from tests.support.slack import ADMIN, GROUP_MOD, MEMBER, SECRET, Running, running

FORM = "application/x-www-form-urlencoded"
HELPERS = "S0HELPERS"


async def send(r: Running, body: str, content_type: str) -> None:
    headers = {"Content-Type": content_type, **sign(SECRET, body)}
    async with aiohttp.ClientSession() as s, s.post(r.events_url, data=body.encode(), headers=headers) as resp:
        assert resp.status == 200


async def purge(r: Running, user_id: str, ts: str) -> str:
    """What the bot answers `!purge` from `user_id`: "purged" in public, else the refusal."""

    def answers() -> list[str]:
        return [str(c.args["text"]) for c in r.fake.calls if c.method in ("chat.postMessage", "chat.postEphemeral")]

    before = len(answers())
    await send(r, json.dumps(message_event("!purge", user_id=user_id, ts=ts)), "application/json")

    def answered() -> str | None:
        texts = answers()
        return texts[before] if len(texts) > before else None

    return await r.fake.wait_until(answered)


async def test_an_unknown_group_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        r.core.add_cog(SettingsCog(r.core))
        text = "settings set moderator-role <!subteam^S0NOPE|@nope>"
        await send(r, form_body(slash_command("/sendbot", text, user_id=GROUP_MOD)), FORM)
        [refusal] = await r.fake.wait_for("chat.postEphemeral")
        assert "I can't find one role called `@nope`" in refusal.args["text"]
        assert await r.core.forum_settings.stored("slack", TEAM_ID) == {}


async def test_the_workspaces_stored_group_decides_who_is_a_moderator(tmp_path: Path) -> None:
    async with running(tmp_path, "http") as r:
        r.core.add_cog(SettingsCog(r.core))
        r.fake.usergroups[HELPERS] = [MEMBER]
        assert "for the forum's moderators" in await purge(r, MEMBER, "1790000000.000101")

        # A moderator (in the configured group) picks another group, mentioned as Slack writes it.
        # (The adapter reads it as "@s0helpers", the group's handle, and asks Slack for its id.)
        text = f"settings set moderator-role <!subteam^{HELPERS}|@{HELPERS.lower()}>"
        await send(r, form_body(slash_command("/sendbot", text, user_id=GROUP_MOD)), FORM)
        [_, done] = await r.fake.wait_for("chat.postEphemeral", count=2)
        assert (
            done.args["text"]
            == f"Done. `moderator-role` is now the user group @{HELPERS.lower()} ({HELPERS}) for this forum."
        )
        assert await r.core.forum_settings.forum_value("slack", TEAM_ID, MODERATOR_ROLE) == HELPERS

        assert await purge(r, MEMBER, "1790000000.000102") == "purged"
        assert "for the forum's moderators" in await purge(r, GROUP_MOD, "1790000000.000103")
        assert await purge(r, ADMIN, "1790000000.000104") == "purged"  # admins always are
        assert HELPERS in [c.args.get("usergroup") for c in r.fake.of("usergroups.users.list")]
