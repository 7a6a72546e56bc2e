"""The App Home (issue 17): what a parent sees when they open the bot in Slack's sidebar.

- the **Home tab** (`views.publish` on `app_home_opened`): the commands they can use, a
  "Report misinformation" button, and their own reports as `!myreports` shows them;
- the **report form** (`views.open` from that button): a modal whose submission runs the
  same `report` command as `!report` and `/report`, through the dispatcher, so the text is
  redacted, limited and confirmed exactly as it is there. The confirmation arrives as a
  direct message (the Home tab is not a channel), and the Home tab is published again so
  the new report shows.

The Messages tab (a DM with the bot, where `!commands` work) is turned on in
slack-manifest.json; nothing here is needed for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError

from bot.adapters.base import Answer
from bot.adapters.slack.blocks import MAX_TEXT, card_blocks, mrkdwn, split_text
from bot.adapters.slack.commands import CATCH_ALL_COMMAND, SlackCommands
from bot.adapters.slack.people import PLATFORM
from bot.commands import CommandSpec
from bot.dispatcher import Outcome
from bot.markup import to_plain
from bot.messenger import DeliveryError
from bot.model import Actor, Incoming, Place, Reply
from cogs.reports.settings import ReportsSettings

log = logging.getLogger(__name__)

# The Home tab's button, and the modal it opens (its callback_id).
HOME_REPORT_ACTION = "sendbot_home_report"
REPORT_MODAL_ID = "sendbot_report_modal"
# Slack drops a view_submission not answered within 3 seconds; the report is usually filed
# well inside this, and a refusal can then keep the form open with the reason.
FORM_ANSWER_WITHIN = 2.0
# Outcomes that refuse the report (rather than fail): the form stays open with the reason.
_REFUSED = {"usage", "user_error", "cooldown", "denied"}
# Slack allows 100 blocks in a Home tab.
MAX_HOME_BLOCKS = 100
WHO_HINT = "school, SENCO, head teacher, council, LA, NHS, GP, CAMHS or other"
# Slack's own limit on a plain_text_input.
MAX_INPUT = 3000


class HomeAnswer(Answer):
    """Answers to something done in the Home tab: by direct message, since the Home tab is
    not a channel to post in and ephemerals need one."""

    def __init__(self, adapter: SlackCommands, user: str) -> None:
        self.adapter = adapter
        self.user = user

    async def direct(self, reply: Reply) -> bool:
        await self.adapter.send_direct(self.adapter.team_id or "", self.user, reply)
        return True

    async def public(self, reply: Reply) -> None:
        # Only the person sees the Home tab, so its "public" answer is theirs alone too.
        await self.direct(reply)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def report_modal(max_length: int) -> dict[str, Any]:
    """The report form: what they were told (required), who told them, and whether to be told
    the outcome; the same three things `!report` takes."""
    return {
        "type": "modal",
        "callback_id": REPORT_MODAL_ID,
        "title": {"type": "plain_text", "text": "Report misinformation"},
        "submit": {"type": "plain_text", "text": "Send to moderators"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _section(
                "Only the forum's moderators see this. Please don't put names in it: I remove phone "
                "numbers, emails, addresses, postcodes, dates of birth and NHS and National Insurance numbers."
            ),
            {
                "type": "input",
                "block_id": "text",
                "label": {"type": "plain_text", "text": "What were you told?"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text",
                    "multiline": True,
                    "max_length": min(max_length, MAX_INPUT),
                },
            },
            {
                "type": "input",
                "block_id": "who",
                "optional": True,
                "label": {"type": "plain_text", "text": "Who told you?"},
                "hint": {"type": "plain_text", "text": WHO_HINT},
                "element": {"type": "plain_text_input", "action_id": "who"},
            },
            {
                "type": "input",
                "block_id": "notify",
                "optional": True,
                "label": {"type": "plain_text", "text": "Tell me what happens"},
                "element": {
                    "type": "checkboxes",
                    "action_id": "notify",
                    "options": [
                        {
                            "text": {"type": "plain_text", "text": "Message me when the moderators deal with it"},
                            "value": "yes",
                        }
                    ],
                },
            },
        ],
    }


def submitted_values(view: dict[str, Any]) -> dict[str, Any]:
    """The report form's answers as the `report` command's arguments."""
    values = (view.get("state") or {}).get("values") or {}

    def text_of(block: str) -> str:
        return str(((values.get(block) or {}).get(block) or {}).get("value") or "").strip()

    chosen = ((values.get("notify") or {}).get("notify") or {}).get("selected_options") or []
    who = text_of("who")
    return {
        "text": text_of("text"),
        "who": who or None,
        "notify": any(o.get("value") == "yes" for o in chosen),
    }


class SlackHome(SlackCommands):
    """The App Home half of `SlackAdapter` (app.py)."""

    def _command_lines(self, actor: Actor) -> str:
        p = self.core.prefix
        lines = []
        for spec in self.core.dispatcher.specs:
            if spec.hidden or (spec.moderator_only and not actor.is_moderator):
                continue
            summary = spec.help.splitlines()[0] if spec.help else ""
            lines.append(f"`/{CATCH_ALL_COMMAND} {spec.name}` (or `{p}{spec.name}`): {summary}")
        return "\n".join(lines)

    async def home_view(self, user: str, team: str, channel: str) -> dict[str, Any]:
        """The Home tab for one person: their commands, the report button, their reports."""
        actor = await self.people.actor(user, team=team)
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": "SEND forum helper"}},
            _section(
                mrkdwn(
                    "Cited answers about SEND rights and deadlines, and a private way to tell the "
                    "moderators about something you were told that may be wrong."
                )
            ),
        ]
        if self.core.dispatcher.get("report") is not None:
            button = {
                "type": "button",
                "action_id": HOME_REPORT_ACTION,
                "style": "primary",
                "text": {"type": "plain_text", "text": "Report misinformation"},
            }
            blocks.append({"type": "actions", "elements": [button]})
        blocks += [{"type": "divider"}, {"type": "header", "text": {"type": "plain_text", "text": "Commands"}}]
        lines = mrkdwn(
            self._command_lines(actor) + "\n\nType them in any channel the bot is in, or in the Messages tab."
        )
        blocks += [_section(part) for part in split_text(lines, MAX_TEXT)]
        mine = await self._my_reports(actor, team, channel)
        if mine is not None and mine.card is not None:
            blocks.append({"type": "divider"})
            blocks += card_blocks(mine.card)
        return {"type": "home", "blocks": blocks[:MAX_HOME_BLOCKS]}

    async def _my_reports(self, actor: Actor, team: str, channel: str) -> Reply | None:
        """The person's reports as `!myreports` shows them (None without the reports cog)."""
        spec = self.core.dispatcher.get("myreports")
        if spec is None:
            return None
        outcome = await self.core.dispatcher.invoke(spec, self._home_incoming(actor, team, channel, spec), {})
        return next((r for r in outcome.replies if r.card is not None), None)

    def _home_incoming(self, actor: Actor, team: str, channel: str, spec: CommandSpec) -> Incoming:
        place = Place(PLATFORM, team, channel, "App Home", is_direct=True)
        return Incoming(text=f"(App Home: {spec.name})", author=actor, place=place, surface="action")

    async def publish_home(self, user: str, team: str, channel: str = "") -> None:
        try:
            view = await self.home_view(user, team, channel)
            await self.client.views_publish(user_id=user, view=view)
        except (SlackApiError, ClientError, TimeoutError) as e:
            log.warning("slack: could not publish the Home tab: %s", type(e).__name__)

    async def _on_home_opened(self, event: dict[str, Any], body: dict[str, Any], context: Any) -> None:
        if event.get("tab") != "home" or not event.get("user"):
            return
        team = str(context.team_id or body.get("team_id") or self.team_id or "")
        await self.publish_home(str(event["user"]), team, str(event.get("channel") or ""))

    async def _on_home_report(self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any]) -> None:
        """The Home tab's button: open the report form (a trigger_id lasts 3 seconds)."""
        await ack()
        limit = self.core.config.section(ReportsSettings).max_length
        try:
            await self.client.views_open(trigger_id=str(body.get("trigger_id", "")), view=report_modal(limit))
        except (SlackApiError, ClientError, TimeoutError) as e:
            log.warning("slack: could not open the report form: %s", type(e).__name__)

    async def _on_report_submitted(
        self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        """The report form was sent: the `report` command runs as if typed. A refusal (over the
        daily limit, a duplicate) keeps the form open with the reason, so nothing typed is
        lost; otherwise the form closes and the confirmation follows by direct message."""
        values = submitted_values(view)
        if not values["text"]:
            await ack(response_action="errors", errors={"text": "Tell me what you were told."})
            return
        user = str((body.get("user") or {}).get("id", ""))
        team = str((body.get("team") or {}).get("id") or self.team_id or "")
        answer = HomeAnswer(self, user)
        spec = self.core.dispatcher.get("report")
        if spec is None:
            await ack()
            with contextlib.suppress(DeliveryError):
                await answer.direct(Reply("Reports are not turned on in this forum."))
            return
        work = asyncio.ensure_future(
            self._file_from_form(spec, user, (body.get("user") or {}).get("name"), team, values)
        )
        acked = False
        try:
            try:
                # Slack wants the answer to a submission within 3 seconds.
                incoming, outcome = await asyncio.wait_for(asyncio.shield(work), FORM_ANSWER_WITHIN)
            except TimeoutError:
                await ack()
                acked = True
                incoming, outcome = await work
            if not acked:
                refusal = outcome.replies[0] if outcome.status in _REFUSED and outcome.replies else None
                if refusal is not None:
                    await ack(response_action="errors", errors={"text": _clip(to_plain(refusal.text), 300)})
                    return
                await ack()
                acked = True
            await self.deliver(outcome, incoming, answer)
        except Exception:
            if not acked:
                with contextlib.suppress(Exception):
                    await ack()
            await self.tell_failure(answer, "the report form")
            return
        await self.publish_home(user, team)

    async def _file_from_form(
        self, spec: CommandSpec, user: str, name: Any, team: str, values: dict[str, Any]
    ) -> tuple[Incoming, Outcome]:
        actor = await self.people.actor(user, name, team=team)
        channel = await self._open_dm(user)
        incoming = self._home_incoming(actor, team, channel, spec)
        return incoming, await self.core.dispatcher.invoke(spec, incoming, values)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
