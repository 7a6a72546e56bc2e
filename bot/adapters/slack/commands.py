"""The ways a command arrives on Slack, each ending in the core dispatcher:

- `!rights ehcp` typed in a channel the bot is in (message events);
- slash commands: `/sendbot <command>` for everything, plus any `/name` the app manifest
  declares (`/rights`, `/timeline`, `/report`), read as `!name <text>`; each is ack()ed
  before the cog runs, so Slack's 3-second limit never depends on a cog;
- the "Report misinformation" message shortcut, which performs the `report_message` action.

app.py registers these handlers with the bolt app; answers go through answer.py.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError

from bot.adapters.slack.answer import SlackAnswer
from bot.adapters.slack.blocks import settled_blocks
from bot.adapters.slack.files import shared_files
from bot.adapters.slack.messenger import SlackMessenger
from bot.adapters.slack.people import PLATFORM, SlackPeople
from bot.adapters.slack.text import from_slack_text
from bot.dispatcher import Outcome
from bot.model import Actor, Incoming, Place, Reply, ReportedMessage

log = logging.getLogger(__name__)

# The catch-all slash command; others (/rights ...) are read as the command of their name.
CATCH_ALL_COMMAND = "sendbot"
# callback_id of the message shortcut in slack-manifest.json.
REPORT_SHORTCUT_ID = "report_misinformation"
# Message subtypes that are still a person typing (others: edits, joins, bot posts...).
_TYPED_SUBTYPES = {None, "thread_broadcast", "file_share"}
_SEEN_MESSAGES = 1000


class SlackCommands(SlackMessenger):
    """The inbound half of `SlackAdapter` (app.py), which sets the state below. It builds on
    the Messenger because every answer is made of the Messenger's Web API calls."""

    people: SlackPeople
    # Slack redelivers an event it thinks went unacknowledged (a slow network, a
    # reconnect); remembering recent messages keeps a command from running twice.
    _seen_messages: OrderedDict[tuple[str, str], None]

    async def _on_link_click(self, ack: Callable[..., Awaitable[Any]]) -> None:
        await ack()  # a URL button opens in the browser; Slack only wants the ack

    async def _on_message(self, event: dict[str, Any], body: dict[str, Any], context: Any) -> None:
        if event.get("subtype") not in _TYPED_SUBTYPES or event.get("bot_id") or not event.get("user"):
            return
        text = from_slack_text(event.get("text") or "").strip()
        if not self.core.dispatcher.is_command(text) or self._is_repeat(event):
            return
        channel = str(event.get("channel"))
        answer = SlackAnswer(
            self, channel, str(event["user"]), thread_ts=event.get("thread_ts"), trigger_ts=event.get("ts")
        )
        try:
            team = context.team_id or body.get("team_id") or event.get("team") or ""
            author = await self.people.actor(event["user"], team=team)
            place = Place(PLATFORM, team, channel, channel, is_direct=event.get("channel_type") == "im")
            incoming = Incoming(
                text=text,
                author=author,
                place=place,
                message_id=event.get("ts"),
                thread_id=event.get("thread_ts"),
                surface="prefix",
                raw=event,
                files=shared_files(event, getattr(context, "bot_token", None), self.client.base_url),
            )
            outcome = await self.core.dispatcher.handle(incoming)
            if outcome is not None:
                await self.deliver(outcome, incoming, answer)
        except Exception:
            await self.tell_failure(answer, f"a message command in {channel}")

    def _is_repeat(self, event: dict[str, Any]) -> bool:
        key = (str(event.get("channel")), str(event.get("ts")))
        if key in self._seen_messages:
            return True
        self._seen_messages[key] = None
        while len(self._seen_messages) > _SEEN_MESSAGES:
            self._seen_messages.popitem(last=False)
        return False

    async def _on_command(
        self, ack: Callable[..., Awaitable[Any]], command: dict[str, Any], respond: Callable[..., Awaitable[Any]]
    ) -> None:
        await ack()  # first, always: Slack shows an error if this takes over 3 seconds
        answer = SlackAnswer(self, str(command.get("channel_id", "")), str(command.get("user_id", "")), respond=respond)
        try:
            incoming = await self._slash_incoming(command)
            outcome = await self.core.dispatcher.handle(incoming)
            if outcome is None:
                hint = f"I don't know that command. Try `/{CATCH_ALL_COMMAND} help` or `{self.core.prefix}help`."
                outcome = Outcome([Reply(hint, ephemeral=True)], status="unknown")
            await self.deliver(outcome, incoming, answer)
        except Exception:
            await self.tell_failure(answer, str(command.get("command")))

    async def _slash_incoming(self, command: dict[str, Any]) -> Incoming:
        prefix = self.core.prefix
        name = str(command.get("command", "")).lstrip("/").lower()
        text = from_slack_text(str(command.get("text") or "")).strip()
        if name == CATCH_ALL_COMMAND:
            body = text[len(prefix) :] if text.startswith(prefix) else text
            body = body or "help"
        else:
            body = f"{name} {text}".strip()
        channel = str(command.get("channel_id", ""))
        channel_name = str(command.get("channel_name") or channel)
        place = Place(
            PLATFORM,
            str(command.get("team_id", "")),
            channel,
            channel_name,
            is_direct=channel_name == "directmessage" or channel.startswith("D"),
        )
        author = await self.people.actor(
            str(command.get("user_id", "")), command.get("user_name"), team=str(command.get("team_id", ""))
        )
        return Incoming(text=prefix + body, author=author, place=place, surface="slash", raw=command)

    async def _on_report_shortcut(
        self, ack: Callable[..., Awaitable[Any]], shortcut: dict[str, Any], respond: Callable[..., Awaitable[Any]]
    ) -> None:
        await ack()
        chan = shortcut.get("channel") or {}
        channel = str(chan.get("id", ""))
        user = shortcut.get("user") or {}
        answer = SlackAnswer(self, channel, str(user.get("id", "")), respond=respond)
        try:
            team = str((shortcut.get("team") or {}).get("id") or self.team_id or "")
            place = Place(PLATFORM, team, channel, str(chan.get("name") or channel), is_direct=channel.startswith("D"))
            reporter = await self.people.actor(str(user.get("id", "")), user.get("name"), team=team)
            message = shortcut.get("message") or {}
            ts = str(message.get("ts") or shortcut.get("message_ts") or "")
            if message.get("user"):
                author = await self.people.actor(str(message["user"]))
            else:  # a bot's or an app's message
                app_id = str(message.get("bot_id") or "unknown")
                author = Actor(PLATFORM, app_id, str(message.get("username") or "an app"))
            reported = ReportedMessage(
                text=from_slack_text(str(message.get("text") or "")),
                author=author,
                place=place,
                message_id=ts,
                link=await self._permalink(channel, ts),
            )
            incoming = Incoming(text="", author=reporter, place=place, message_id=ts, surface="action", raw=shortcut)
            outcome = await self.core.dispatcher.perform("report_message", incoming, message=reported)
            await self.deliver(outcome, incoming, answer)
        except Exception:
            await self.tell_failure(answer, "the report shortcut")

    async def _on_choice(
        self,
        ack: Callable[..., Awaitable[Any]],
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Callable[..., Awaitable[Any]],
    ) -> None:
        """A button under one of the bot's replies (Block Kit `block_actions`). Acked first;
        only the button's value (its token) goes to the core, which knows what it means and
        who may press it. The answer is always private."""
        await ack()
        user = str((body.get("user") or {}).get("id", ""))
        container = body.get("container") or {}
        channel = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
        answer = SlackAnswer(self, channel, user, respond=respond if body.get("response_url") else None)
        try:
            team = str((body.get("team") or {}).get("id") or self.team_id or "")
            name = str((body.get("channel") or {}).get("name") or channel)
            place = Place(PLATFORM, team, channel, name, is_direct=channel.startswith("D"))
            author = await self.people.actor(user, (body.get("user") or {}).get("name"), team=team)
            incoming = Incoming(text="", author=author, place=place, surface="action", raw=body)
            token = str(action.get("value") or "")
            if not self.core.choices.held_for_another(token[:100], author):
                # The whole set is used up by this press (or was already): off the message first,
                # so a second press cannot happen while the first is still running.
                await self._settle_buttons(body, action, respond)
            outcome = await self.core.dispatcher.choose(incoming, token)
            outcome = dataclasses.replace(
                outcome, replies=[dataclasses.replace(r, ephemeral=True) for r in outcome.replies]
            )
            await self.deliver(outcome, incoming, answer)
        except Exception:
            await self.tell_failure(answer, "a button")

    async def _settle_buttons(
        self, body: dict[str, Any], action: dict[str, Any], respond: Callable[..., Awaitable[Any]]
    ) -> None:
        """Take the pressed buttons off their message, as Discord greys them out. A message
        only its reader sees (ephemeral) can be changed only through the press's response_url;
        any other through chat.update. Best effort: the core refuses a second press anyway."""
        container = body.get("container") or {}
        found = body.get("message")
        message: dict[str, Any] = found if isinstance(found, dict) else {}
        pressed = str((action.get("text") or {}).get("text") or "a button")
        blocks = settled_blocks(list(message.get("blocks") or []), pressed)
        text = str(message.get("text") or f"You pressed {pressed}.")
        channel = str(container.get("channel_id") or "")
        ts = str(container.get("message_ts") or "")
        try:
            if container.get("is_ephemeral") or not message:
                if body.get("response_url"):
                    await respond(text=text, blocks=blocks, replace_original=True)
            elif channel and ts:
                await self.settle_choices(channel, ts, text=text, blocks=blocks)
        except Exception as e:  # never in the way of the press itself
            log.info("slack: could not take the buttons off a message (%s)", type(e).__name__)

    async def _permalink(self, channel: str, ts: str) -> str | None:
        if not channel or not ts:
            return None
        try:
            resp = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
            return resp.get("permalink")
        except (SlackApiError, ClientError, TimeoutError) as e:
            log.info("slack: no permalink for a reported message: %s", type(e).__name__)
            return None
