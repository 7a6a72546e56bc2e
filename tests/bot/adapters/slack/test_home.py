"""The App Home (issue 17): the manifest turns it on, the Home tab is published when opened,
and its "Report misinformation" form files a report through the same `report` command as
`!report`. Real slack_sdk and slack-bolt in Socket Mode against the loopback fake."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.adapters.slack.home import HOME_REPORT_ACTION, REPORT_MODAL_ID
from tests.support.fakes.slack_fake import (
    app_home_opened,
    home_button,
    message_shortcut,
    slash_command,
    view_submission,
)
from tests.support.slack import ADMIN, MEMBER, Running, running

MANIFEST = json.loads((Path(__file__).parents[4] / "slack-manifest.json").read_text(encoding="utf-8"))
COGS = ["cogs.help", "cogs.rights", "cogs.timeline", "cogs.reports"]
UNKNOWN = "I don't know that command"


def test_the_manifest_turns_on_the_app_home() -> None:
    home = MANIFEST["features"]["app_home"]
    assert home["home_tab_enabled"] is True and home["messages_tab_enabled"] is True
    assert "app_home_opened" in MANIFEST["settings"]["event_subscriptions"]["bot_events"]


def _texts(r: Running) -> list[str]:
    out = []
    for c in r.fake.calls:
        if c.method in ("chat.postMessage", "chat.postEphemeral", "response_url"):
            out.append(str(c.args.get("text")) + json.dumps(c.args.get("blocks") or ""))
    return out


async def test_every_manifest_command_and_shortcut_has_a_handler(tmp_path: Path) -> None:
    async with running(tmp_path, "socket", cog_modules=COGS) as r:
        for cmd in MANIFEST["features"]["slash_commands"]:
            before = len(_texts(r))
            await r.fake.push("slash_commands", slash_command(cmd["command"], "", user_id=MEMBER))

            def answered(before: int = before) -> bool | None:
                return len(_texts(r)) > before or None

            await r.fake.wait_until(answered)
            assert not any(UNKNOWN in t for t in _texts(r)), cmd["command"]
        for shortcut in MANIFEST["features"]["shortcuts"]:
            claim = "They said EHCPs end at 16"
            callback = shortcut["callback_id"]
            payload = message_shortcut(reporter_id=MEMBER, author_id=ADMIN, text=claim, callback_id=callback)
            await r.fake.push("interactive", payload)
            eph = await r.fake.wait_until(
                lambda: [c for c in r.fake.of("chat.postEphemeral") if "#1" in str(c.args.get("text"))] or None
            )
            assert eph[0].args["user"] == MEMBER


def _home_text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"])


async def test_home_tab_lists_the_commands_and_the_report_button(tmp_path: Path) -> None:
    async with running(tmp_path, "socket", cog_modules=COGS) as r:
        await r.fake.push("events_api", app_home_opened(MEMBER))
        (publish,) = await r.fake.wait_for("views.publish")
        assert publish.args["user_id"] == MEMBER
        text = _home_text(r.fake.home_views[MEMBER])
        assert "/sendbot rights" in text and "/sendbot report" in text and "/sendbot myreports" in text
        assert "reports resolve" not in text  # moderators' commands are not shown to a parent
        assert HOME_REPORT_ACTION in text
        # The Messages tab being opened is not a reason to publish.
        await r.fake.push("events_api", app_home_opened(MEMBER, tab="messages"))
        await r.fake.push("events_api", app_home_opened(ADMIN))
        await r.fake.wait_for("views.publish", count=2)
        assert [c.args["user_id"] for c in r.fake.of("views.publish")] == [MEMBER, ADMIN]
        assert "reports resolve" in _home_text(r.fake.home_views[ADMIN])


async def test_the_report_form_files_a_redacted_report_and_shows_it_at_home(tmp_path: Path) -> None:
    async with running(tmp_path, "socket", cog_modules=COGS) as r:
        await r.fake.push("interactive", home_button(MEMBER, HOME_REPORT_ACTION))
        (opened,) = await r.fake.wait_for("views.open")
        modal = opened.json_arg("view")
        assert modal["callback_id"] == REPORT_MODAL_ID and opened.args["trigger_id"] == "4.5.6"
        values: dict[str, dict[str, Any]] = {
            "text": {"text": {"type": "plain_text_input", "value": "School said call 07700 900123 to wait a year"}},
            "who": {"who": {"type": "plain_text_input", "value": "school"}},
            "notify": {"notify": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}},
        }
        ack = await r.fake.push("interactive", view_submission(MEMBER, modal, values))
        assert "errors" not in json.dumps(ack)
        # The confirmation comes by direct message, then the Home tab shows the report.
        dm = await r.fake.wait_until(
            lambda: [c for c in r.fake.of("chat.postMessage") if c.args["channel"] == "D" + MEMBER] or None
        )
        assert "#1" in dm[0].args["text"]
        await r.fake.wait_for("views.publish")
        home = _home_text(r.fake.home_views[MEMBER])
        assert "#1" in home and "07700" not in home
        rows = await r.core.db.fetchall("SELECT text, source, notify_outcome, scope_id FROM reports")
        assert len(rows) == 1
        assert "07700" not in rows[0]["text"] and rows[0]["source"] == "school" and rows[0]["notify_outcome"] == 1
        assert rows[0]["scope_id"] == "T0FORUM01"


async def test_an_empty_report_form_is_sent_back_with_an_error(tmp_path: Path) -> None:
    async with running(tmp_path, "socket", cog_modules=COGS) as r:
        await r.fake.push("interactive", home_button(MEMBER, HOME_REPORT_ACTION))
        (opened,) = await r.fake.wait_for("views.open")
        values = {"text": {"text": {"type": "plain_text_input", "value": "   "}}}
        ack = await r.fake.push("interactive", view_submission(MEMBER, opened.json_arg("view"), values))
        assert ack["payload"]["response_action"] == "errors"
        assert await r.core.db.fetchall("SELECT id FROM reports") == []


async def test_a_refused_report_keeps_the_form_open_with_the_reason(tmp_path: Path) -> None:
    async with running(tmp_path, "socket", cog_modules=COGS) as r:
        await r.fake.push("interactive", home_button(MEMBER, HOME_REPORT_ACTION))
        (opened,) = await r.fake.wait_for("views.open")
        modal = opened.json_arg("view")
        values = {"text": {"text": {"type": "plain_text_input", "value": "They said no EHCP before age 5"}}}
        first = await r.fake.push("interactive", view_submission(MEMBER, modal, values))
        assert "errors" not in json.dumps(first)
        await r.fake.wait_for("views.publish")
        again = await r.fake.push("interactive", view_submission(MEMBER, modal, values))
        assert again["payload"]["response_action"] == "errors"
        assert "already reported" in again["payload"]["errors"]["text"]
        assert len(await r.core.db.fetchall("SELECT id FROM reports")) == 1
