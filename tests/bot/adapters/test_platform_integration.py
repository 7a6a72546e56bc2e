"""The real cogs (rights, reports) through the real platform clients and their loopback fakes.

The adapter tests use probe cogs to pin down each adapter's behaviour; these check that the
features parents and moderators use actually arrive intact on each platform.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.discord import discord_env
from tests.support.fakes.discord_fake import CHANNEL_ID, GUILD_ID, OTHER_CHANNEL_ID
from tests.support.fakes.slack_fake import TEAM_ID, form_body, interactive_body, message_shortcut, sign, slash_command
from tests.support.slack import ADMIN, MEMBER, SECRET, running

REAL_COGS = ["cogs.help", "cogs.rights", "cogs.reports"]


async def receipt_recorded(reports: Any, report_id: int) -> None:
    """The adapter marks the receipt delivered just after sending it: wait briefly for that."""
    for _ in range(200):
        report = await reports.repo.get(report_id)
        if report is not None and not report.receipt_pending:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"report #{report_id}: the receipt was never recorded as delivered")


EPHEMERAL = 64


async def test_discord_context_menu_files_a_real_report_and_moderators_are_told(tmp_path: Path) -> None:
    mods = {"platform": "discord", "scope": str(GUILD_ID), "channel": str(OTHER_CHANNEL_ID)}
    config = {"reports": {"moderator_channels": [mods]}}
    async with discord_env(tmp_path, cog_modules=REAL_COGS, config=config) as env:
        fake = env.fake
        claim = "EHCPs are abolished from next term @everyone, email head@school.example"
        target = fake.message_payload(claim, author=fake.helper_user)
        data = {
            "id": "700000000000000009",
            "name": "Report misinformation",
            "type": 3,
            "guild_id": str(GUILD_ID),
            "target_id": target["id"],
            "resolved": {"messages": {target["id"]: target}},
        }
        await fake.push("INTERACTION_CREATE", fake.interaction_payload(data, by=fake.member_user))
        callback = await fake.wait_for_call("POST", r"/interactions/\d+/[^/]+/callback")
        assert callback.json["data"]["flags"] & EPHEMERAL
        assert "#1" in json.dumps(callback.json["data"])

        notice = await fake.wait_for_call("POST", rf"/channels/{OTHER_CHANNEL_ID}/messages")
        body = json.dumps(notice.json)
        assert "EHCPs are abolished" in body
        assert "head@school.example" not in body  # redacted before it was stored
        assert notice.json["allowed_mentions"]["parse"] == []  # "@everyone" in the text pings nobody

        report = await env.harness.core.cogs["reports"].repo.get(1)  # type: ignore[attr-defined]
        assert report is not None and report.scope_id == str(GUILD_ID)
        # The adapter confirmed the parent's receipt went out: nothing to make good after a crash.
        await receipt_recorded(env.harness.core.cogs["reports"], 1)


async def test_discord_slash_rights_answers_with_sources(tmp_path: Path) -> None:
    async with discord_env(tmp_path, cog_modules=REAL_COGS) as env:
        fake = env.fake
        data = {
            "id": "700000000000000010",
            "name": "rights",
            "type": 1,
            "guild_id": str(GUILD_ID),
            "options": [{"name": "topic", "type": 3, "value": "do I need a diagnosis"}],
        }
        await fake.push("INTERACTION_CREATE", fake.interaction_payload(data, by=fake.member_user))
        callback = await fake.wait_for_call("POST", r"/interactions/\d+/[^/]+/callback")
        embed = callback.json["data"]["embeds"][0]
        assert embed["title"] == "Asking for an EHC needs assessment"
        text = json.dumps(embed)
        assert "legislation.gov.uk/ukpga/2014/6/section/36" in text
        assert "SENDIASS" in text
        assert callback.json["data"]["allowed_mentions"]["parse"] == []


async def test_slack_shortcut_files_a_real_report_announced_as_block_kit(tmp_path: Path) -> None:
    mods = {"platform": "slack", "scope": TEAM_ID, "channel": "C0MODS"}
    async with running(
        tmp_path, "http", cog_modules=REAL_COGS, extra_config={"reports": {"moderator_channels": [mods]}}
    ) as r:
        payload = message_shortcut(
            reporter_id=MEMBER, author_id=ADMIN, text="The school must spend £6,000 first &lt;!channel&gt;"
        )
        body = interactive_body(payload)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(SECRET, body)}
        async with aiohttp.ClientSession() as s, s.post(r.events_url, data=body.encode(), headers=headers) as resp:
            assert resp.status == 200
        (eph,) = await r.fake.wait_for("chat.postEphemeral")
        assert eph.args["user"] == MEMBER and "#1" in eph.args["text"]
        posts = await r.fake.wait_for("chat.postMessage")
        notice = next(p for p in posts if p.args["channel"] == "C0MODS")
        rendered = json.dumps(notice.args)
        assert "6,000" in rendered and "blocks" in notice.args
        assert "<!channel>" not in rendered  # escaped: shown, never a ping
        await receipt_recorded(r.core.cogs["reports"], 1)

        # A member asks through the catch-all slash command and gets the sourced answer.
        slash = form_body(slash_command("/sendbot", "rights 6000", user_id=MEMBER))
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(SECRET, slash)}
        async with aiohttp.ClientSession() as s, s.post(r.events_url, data=slash.encode(), headers=headers) as resp:
            assert resp.status == 200
        answers = await r.fake.wait_for("chat.postMessage", count=len(posts) + 1)
        answer = json.dumps(answers[-1].args)
        assert "Asking for an EHC needs assessment" in answer
        assert "legislation.gov.uk/ukpga/2014/6/section/36" in answer


async def test_discord_refused_public_report_gives_the_text_back_by_dm_then_removes_it(tmp_path: Path) -> None:
    """A parent types `!report` in a public channel with a `who=` the bot does not know: they
    get their words back by direct message with the reason, then their message is deleted."""
    async with discord_env(tmp_path, cog_modules=REAL_COGS) as env:
        fake = env.fake
        claim = "!report the head said my son Sam can't have an EHCP @everyone who=the-moon"
        msg = fake.message_payload(claim, author=fake.member_user)
        fake.messages[int(msg["id"])] = msg
        await fake.push("MESSAGE_CREATE", msg)
        await fake.wait_for_call("DELETE", rf"/channels/{CHANNEL_ID}/messages/{msg['id']}")
        posts = r"/channels/\d+/messages"
        reason = await fake.wait_until(
            lambda: next((c for c in fake.find_calls("POST", posts) if "don't know who" in c.json["content"]), None)
        )
        dms = [c for c in fake.find_calls("POST", posts) if c.path != f"/channels/{CHANNEL_ID}/messages"]
        back = next(c for c in dms if "Here is what you wrote" in c.json["content"])
        assert "my son Sam can't have an EHCP" in back.json["content"] and "who=the-moon" in back.json["content"]
        assert back.json["allowed_mentions"]["parse"] == []  # "@everyone" in the words pings nobody
        assert reason in dms and "council (or LA, local authority)" in reason.json["content"]
        # The words went back before the message was removed, and never to the channel.
        delete = fake.find_calls("DELETE", rf"/channels/{CHANNEL_ID}/messages/{msg['id']}")[0]
        assert fake.calls.index(back) < fake.calls.index(delete)
        assert int(msg["id"]) not in fake.messages
        public = fake.find_calls("POST", rf"/channels/{CHANNEL_ID}/messages")
        assert not [c for c in public if "Sam" in json.dumps(c.json)]
        reports = env.harness.core.cogs["reports"]
        assert await reports.repo.for_reporter("discord", str(fake.member_user["id"])) == []  # type: ignore[attr-defined]
