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
from tests.support.fakes.slack_fake import (
    TEAM_ID,
    form_body,
    interactive_body,
    message_event,
    message_shortcut,
    sign,
    slash_command,
)
from tests.support.slack import ADMIN, LISTED_MOD, MEMBER, SECRET, running

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


# -- issue 14: a correction's Confirm button, and the parent told the outcome -------------------


def _component(call_json: dict[str, Any], label: str) -> str:
    """The custom_id of the button with this label in a message the bot sent."""
    for row in call_json.get("components") or []:
        for item in row.get("components") or []:
            if item.get("label") == label:
                return str(item["custom_id"])
    raise AssertionError(f"no {label!r} button in {call_json.get('components')}")


async def test_discord_confirm_button_posts_the_correction_and_the_parent_is_told(tmp_path: Path) -> None:
    mods = {"platform": "discord", "scope": str(GUILD_ID), "channel": str(OTHER_CHANNEL_ID)}
    config = {"reports": {"moderator_channels": [mods]}}
    async with discord_env(tmp_path, cog_modules=REAL_COGS, config=config) as env:
        fake = env.fake
        # A parent reports, asking to be told what happens.
        said = "!report the school says he can only come in the mornings for ever notify=yes"
        msg = fake.message_payload(said, author=fake.member_user)
        fake.messages[int(msg["id"])] = msg
        await fake.push("MESSAGE_CREATE", msg)
        await receipt_recorded(env.harness.core.cogs["reports"], 1)

        # A moderator asks for the correction in the moderators' channel: the card comes back
        # privately (a direct message, for a !command), with Confirm and Cancel buttons.
        typed = fake.message_payload(
            "!reports correct 1 part-time-timetables", author=fake.mod_user, channel_id=OTHER_CHANNEL_ID
        )
        await fake.push("MESSAGE_CREATE", typed)

        def preview_call() -> Any:
            for call in fake.find_calls("POST", r"/channels/\d+/messages"):
                if call.json.get("components") and "Preview, only you can see this" in json.dumps(call.json):
                    return call
            return None

        preview = await fake.wait_until(preview_call)
        dm_id = int(preview.path.split("/")[2])
        assert fake.channels[dm_id]["type"] == 1  # private, never the channel
        assert "Part-time (reduced) timetables" in json.dumps(preview.json["embeds"])
        assert not [c for c in fake.find_calls("POST", rf"/channels/{CHANNEL_ID}/messages") if "sharing" in str(c.json)]
        [stored] = [m for m in fake.channel_messages(dm_id) if m.get("embeds")]

        async def press(label: str, by: dict[str, Any]) -> None:
            data = {"custom_id": _component(preview.json, label), "component_type": 2}
            payload = fake.interaction_payload(data, by=by, itype=3, channel_id=dm_id)
            payload["message"] = stored
            await fake.push("INTERACTION_CREATE", payload)

        def answered(needle: str) -> Any:
            calls = fake.find_calls("POST", r"/interactions/\d+/[^/]+/callback")
            return next((c for c in calls if needle in json.dumps(c.json)), None)

        # Someone else cannot press it: they are told so, privately, and nothing is posted.
        await press("Confirm", fake.helper_user)
        refused = await fake.wait_until(lambda: answered("These buttons are for the person who asked"))
        assert refused.json["data"]["flags"] & EPHEMERAL

        # The moderator presses Confirm: the card goes where the claim was seen.
        await press("Confirm", fake.mod_user)
        done = await fake.wait_until(lambda: answered("correction in #general"))
        assert done.json["data"]["flags"] & EPHEMERAL
        assert "I told the parent who reported it" in json.dumps(done.json)
        posted = await fake.wait_for_call("POST", rf"/channels/{CHANNEL_ID}/messages")
        assert "The moderators are sharing this" in posted.json["content"]
        assert "Part-time (reduced) timetables" in json.dumps(posted.json["embeds"])

        # The parent gets a private message with the outcome and the sourced card.
        def told() -> Any:
            for call in fake.find_calls("POST", r"/channels/\d+/messages"):
                cid = int(call.path.split("/")[2])
                recipients = fake.channels.get(cid, {}).get("recipients") or [{}]
                if recipients[0].get("id") == fake.member_user["id"] and "Hello." in str(call.json.get("content")):
                    return call
            return None

        dm = await fake.wait_until(told)
        assert "posted a correction about your report #1" in dm.json["content"]
        assert "legislation.gov.uk" in json.dumps(dm.json["embeds"])
        audit = await env.harness.core.audit.recent("discord", str(GUILD_ID))
        assert [a.action for a in audit if a.action == "report.correct"] == ["report.correct"]


def _slack_button(call: Any, label: str) -> dict[str, Any]:
    for block in call.json_arg("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("type") == "button" and element["text"]["text"] == label:
                return dict(element)
    raise AssertionError(f"no {label!r} button in {call.args.get('blocks')}")


def block_actions(user_id: str, channel: str, element: dict[str, Any], response_url: str) -> dict[str, Any]:
    """What Slack sends when a button in an ephemeral message is pressed."""
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": "someone", "name": "someone", "team_id": TEAM_ID},
        "api_app_id": "A0SENDBOT",
        "token": "legacy-unused",
        "container": {
            "type": "message",
            "message_ts": "1790000200.000001",
            "channel_id": channel,
            "is_ephemeral": True,
        },
        "trigger_id": "1.2.3",
        "team": {"id": TEAM_ID, "domain": "forum"},
        "channel": {"id": channel, "name": "general"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": element["action_id"],
                "block_id": "b1",
                "text": element["text"],
                "value": element["value"],
                "type": "button",
                "action_ts": "1790000201.000001",
            }
        ],
    }


async def test_slack_confirm_button_posts_the_correction_and_the_parent_is_told(tmp_path: Path) -> None:
    mods = {"platform": "slack", "scope": TEAM_ID, "channel": "C0MODS"}
    async with running(
        tmp_path, "socket", cog_modules=REAL_COGS, extra_config={"reports": {"moderator_channels": [mods]}}
    ) as r:
        fake = r.fake
        await fake.push(
            "events_api",
            message_event(
                "!report they said he can only do mornings notify=yes", user_id=MEMBER, ts="1790000100.000001"
            ),
        )
        await receipt_recorded(r.core.cogs["reports"], 1)
        typed = message_event("!reports correct 1 part-time-timetables", user_id=LISTED_MOD, ts="1790000100.000002")
        await fake.push("events_api", typed)

        def preview_call() -> Any:
            calls = [c for c in fake.of("chat.postEphemeral") if c.args["user"] == LISTED_MOD]
            return next((c for c in calls if "Preview, only you can see this" in str(c.args.get("blocks"))), None)

        preview = await fake.wait_until(preview_call)
        assert "Part-time (reduced) timetables" in str(preview.args.get("blocks"))
        assert not [c for c in fake.of("chat.postMessage") if "sharing this" in str(c.args.get("text"))]
        confirm = _slack_button(preview, "Confirm")
        assert confirm["style"] == "primary" and confirm["action_id"].startswith("sendbot_choice_")

        # A member pressing a forwarded copy of the button: acked, refused privately.
        ack = await fake.push("interactive", block_actions(MEMBER, "C0GENERAL", confirm, fake.response_url()))
        assert ack["envelope_id"]
        await fake.wait_until(
            lambda: next(
                (
                    c
                    for c in fake.of("chat.postEphemeral")
                    if c.args["user"] == MEMBER and "person who asked" in str(c.args.get("text"))
                ),
                None,
            )
        )
        assert not [c for c in fake.of("chat.postMessage") if "sharing this" in str(c.args.get("text"))]

        # The moderator presses Confirm: acked at once, the card is posted in the channel.
        await fake.push("interactive", block_actions(LISTED_MOD, "C0GENERAL", confirm, fake.response_url()))
        posted = await fake.wait_until(
            lambda: next((c for c in fake.of("chat.postMessage") if "sharing this" in str(c.args.get("text"))), None)
        )
        assert posted.args["channel"] == "C0GENERAL"
        assert "Part-time (reduced) timetables" in str(posted.args.get("blocks"))
        await fake.wait_until(
            lambda: next(
                (
                    c
                    for c in fake.of("chat.postEphemeral")
                    if c.args["user"] == LISTED_MOD and "Posted the" in str(c.args.get("text"))
                ),
                None,
            )
        )
        # The parent's private message: the outcome in plain words and the sourced card.
        dm = await fake.wait_until(
            lambda: next((c for c in fake.of("chat.postMessage") if c.args["channel"] == f"D{MEMBER}"), None)
        )
        assert "posted a correction about your report #1" in str(dm.args.get("text"))
        assert "legislation.gov.uk" in str(dm.args.get("blocks"))


async def test_discord_an_outcome_message_that_cannot_be_delivered_is_told_to_the_moderator(
    tmp_path: Path, caplog: Any
) -> None:
    mods = {"platform": "discord", "scope": str(GUILD_ID), "channel": str(OTHER_CHANNEL_ID)}
    config = {"reports": {"moderator_channels": [mods]}}
    async with discord_env(tmp_path, cog_modules=REAL_COGS, config=config) as env:
        fake = env.fake
        msg = fake.message_payload("!report they said wait a year notify=yes", author=fake.member_user)
        fake.messages[int(msg["id"])] = msg
        await fake.push("MESSAGE_CREATE", msg)
        await receipt_recorded(env.harness.core.cogs["reports"], 1)
        # The parent's direct messages are closed now.
        closed = {"message": "Cannot send messages to this user", "code": 50007}
        fake.fail_next("POST", rf"/channels/(?!{CHANNEL_ID}|{OTHER_CHANNEL_ID})\d+/messages", 403, closed)
        typed = fake.message_payload("!reports resolve 1", author=fake.mod_user, channel_id=OTHER_CHANNEL_ID)
        await fake.push("MESSAGE_CREATE", typed)

        def answer() -> Any:
            calls = fake.find_calls("POST", rf"/channels/{OTHER_CHANNEL_ID}/messages")
            return next((c for c in calls if "is resolved" in str(c.json.get("content"))), None)

        said = await fake.wait_until(answer)
        assert "I couldn't send the parent who reported it a private message" in said.json["content"]
        report = await env.harness.core.cogs["reports"].repo.get(1)  # type: ignore[attr-defined]
        assert report is not None and report.status == "resolved"
        assert "could not tell the reporter the outcome" in caplog.text
