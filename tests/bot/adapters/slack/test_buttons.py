"""Slack buttons after a press (issue 14): Slack cannot grey a button out as Discord does, so
the pressed set is taken off its message: an ephemeral message (a correction's preview)
through the press's response_url, any other (a receipt in a direct message) with
chat.update. Someone else pressing a copy changes nothing. The real slack_sdk and bolt
clients against the loopback fake."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.bot.adapters.test_platform_integration import REAL_COGS, _slack_button, block_actions, receipt_recorded
from tests.support.fakes.slack_fake import Call, SlackFake, message_event
from tests.support.slack import LISTED_MOD, MEMBER, running

TOPIC = "part-time-timetables"


def _choice_buttons(blocks: Any) -> list[dict[str, Any]]:
    return [
        e
        for b in blocks or []
        if b.get("type") == "actions"
        for e in b.get("elements") or []
        if str(e.get("action_id", "")).startswith("sendbot_choice_")
    ]


def _replaced(fake: SlackFake) -> list[Call]:
    return [c for c in fake.of("response_url") if c.args.get("replace_original") is True]


def _corrections(fake: SlackFake) -> list[Call]:
    return [c for c in fake.of("chat.postMessage") if "sharing this" in str(c.args.get("text"))]


async def test_a_pressed_preview_loses_its_buttons_and_a_copy_pressed_by_someone_else_changes_nothing(
    tmp_path: Path,
) -> None:
    mods = {"platform": "slack", "scope": "T0FORUM01", "channel": "C0MODS"}
    async with running(
        tmp_path, "socket", cog_modules=REAL_COGS, extra_config={"reports": {"moderator_channels": [mods]}}
    ) as r:
        fake = r.fake
        await fake.push("events_api", message_event("!report they said mornings only", user_id=MEMBER))
        await receipt_recorded(r.core.cogs["reports"], 1)
        typed = message_event(f"!reports correct 1 {TOPIC}", user_id=LISTED_MOD, ts="1790000100.000002")
        await fake.push("events_api", typed)
        preview = await fake.wait_until(
            lambda: next(
                (c for c in fake.of("chat.postEphemeral") if "Preview, only you can see this" in str(c.args)), None
            )
        )
        confirm = _slack_button(preview, "Confirm")

        # A member presses a forwarded copy: refused, and the moderator's buttons stay.
        await fake.push("interactive", block_actions(MEMBER, "C0GENERAL", confirm, fake.response_url()))
        await fake.wait_until(
            lambda: next((c for c in fake.of("chat.postEphemeral") if c.args["user"] == MEMBER), None)
        )
        assert _replaced(fake) == []

        # The moderator presses Confirm: the preview is replaced, without buttons.
        await fake.push("interactive", block_actions(LISTED_MOD, "C0GENERAL", confirm, fake.response_url()))
        [replaced] = await fake.wait_until(lambda: _replaced(fake) or None)
        assert _choice_buttons(replaced.args.get("blocks")) == []
        assert "You pressed *Confirm*." in json.dumps(replaced.args["blocks"])
        await fake.wait_until(lambda: _corrections(fake) or None)

        # A press that arrives anyway (a second tab) posts nothing more.
        await fake.push("interactive", block_actions(LISTED_MOD, "C0GENERAL", confirm, fake.response_url()))
        await fake.wait_until(
            lambda: next((c for c in fake.of("chat.postEphemeral") if "already used" in str(c.args.get("text"))), None)
        )
        assert len(_corrections(fake)) == 1


async def test_a_button_on_a_direct_message_is_taken_off_with_chat_update(tmp_path: Path) -> None:
    """When the bot cannot answer privately in the channel, the receipt comes as a direct
    message, which chat.update can change."""
    async with running(tmp_path, "socket", cog_modules=REAL_COGS) as r:
        fake = r.fake
        fake.script("chat.postEphemeral", body={"ok": False, "error": "channel_not_found"})
        await fake.push("events_api", message_event("!report they said wait a year", user_id=MEMBER))
        receipt = await fake.wait_until(
            lambda: next((c for c in fake.of("chat.postMessage") if _choice_buttons(c.json_arg("blocks"))), None)
        )
        dm = receipt.args["channel"]
        assert dm == f"D{MEMBER}"
        ask = _slack_button(receipt, "Tell me what happens")
        [posted] = [m for m in fake.history[dm] if m["text"] == receipt.args["text"]]
        press = block_actions(MEMBER, dm, ask, fake.response_url())
        press["container"] = {"type": "message", "message_ts": posted["ts"], "channel_id": dm, "is_ephemeral": False}
        press["message"] = {"ts": posted["ts"], "text": receipt.args["text"], "blocks": receipt.json_arg("blocks")}
        await fake.push("interactive", press)

        [update] = await fake.wait_for("chat.update")
        assert (update.args["channel"], update.args["ts"]) == (dm, posted["ts"])
        blocks = update.json_arg("blocks")
        assert _choice_buttons(blocks) == [] and "You pressed *Tell me what happens*." in json.dumps(blocks)
        # The rest of the receipt is kept as it was.
        assert [b for b in blocks if b.get("type") != "context"] == [
            b for b in receipt.json_arg("blocks") if not _choice_buttons([b])
        ]
        assert _replaced(fake) == []
        # And the press itself did what it says.
        thanks = "I will send you a private message when the moderators deal with report #1"
        await fake.wait_until(lambda: next((c for c in fake.calls if thanks in str(c.args.get("text"))), None))
        report = await r.core.cogs["reports"].repo.get(1)  # type: ignore[attr-defined]
        assert report is not None and report.notify_outcome
