"""Answering one command on Slack: the platform calls `Adapter.deliver` is made of.

A `!command` message, a slash command and the report shortcut are all answered by
`SlackAnswer`; the rules (which way a private reply goes, when the command message is
removed, the failure note) are `bot/adapters/base.py`'s.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from bot.adapters.base import Answer
from bot.adapters.slack.blocks import render, render_all
from bot.adapters.slack.messenger import SlackDeliveryError, SlackMessenger
from bot.adapters.slack.people import PLATFORM
from bot.messenger import DeliveryError
from bot.model import ChannelRef, Reply

# A reply to a slash command in a channel the bot hasn't joined goes via response_url.
_NOT_IN_CHANNEL = {"not_in_channel", "channel_not_found", "user_not_in_channel"}

Respond = Callable[..., Awaitable[Any]]


class SlackAnswer(Answer):
    """Answering a !command message, a slash command or the report shortcut.

    A private reply is an ephemeral message; where the bot is not in the channel, a slash
    command's response_url, else a direct message. Slack offers no public fallback for a
    private reply: a channel the bot cannot post ephemerally in, it cannot post in at all."""

    def __init__(
        self,
        adapter: SlackMessenger,
        channel: str,
        user: str,
        *,
        thread_ts: str | None = None,
        respond: Respond | None = None,
        trigger_ts: str | None = None,
    ) -> None:
        self.adapter = adapter
        self.channel = channel
        self.user = user
        self.thread_ts = thread_ts
        self.respond = respond
        self.trigger_ts = trigger_ts

    async def private(self, reply: Reply) -> bool:
        msgs = [m for m in render_all(reply) if not m.empty]
        if msgs:
            try:
                for msg in msgs:
                    await self.adapter._call(
                        self.channel,
                        functools.partial(
                            self.adapter.client.chat_postEphemeral,
                            channel=self.channel,
                            user=self.user,
                            text=msg.text,
                            blocks=msg.blocks or None,
                            thread_ts=self.thread_ts,
                        ),
                        paced=False,
                    )
            except DeliveryError as e:
                if not (isinstance(e, SlackDeliveryError) and e.code in _NOT_IN_CHANNEL):
                    raise
                if self.respond is None:
                    return False  # not in that channel: a direct message, files and all
                for msg in msgs:
                    await self.respond(text=msg.text, blocks=msg.blocks or None, response_type="ephemeral")
        if reply.files:
            # Ephemeral messages cannot carry files: they go to the person privately.
            dm = await self.adapter._open_dm(self.user)
            await self.adapter._upload(dm, reply, thread_ts=None)
        return True

    async def direct(self, reply: Reply) -> bool:
        await self.adapter.send_direct(self.adapter.team_id or "", self.user, reply)
        return True

    async def public(self, reply: Reply) -> None:
        try:
            await self.adapter._post(self.channel, reply, thread_ts=self.thread_ts)
        except DeliveryError as e:
            if self.respond is None or not (isinstance(e, SlackDeliveryError) and e.code in _NOT_IN_CHANNEL):
                raise
            for msg in render_all(reply):
                await self.respond(text=msg.text, blocks=msg.blocks or None, response_type="in_channel")

    async def remove_trigger(self) -> None:
        try:
            await self.adapter.delete(
                ChannelRef(PLATFORM, self.adapter.team_id or "", self.channel), self.trigger_ts or ""
            )
        except SlackDeliveryError as e:
            if e.code != "message_not_found":  # already gone counts as removed
                raise

    def why_kept(self, error: DeliveryError) -> str:
        if isinstance(error, SlackDeliveryError) and error.code == "cant_delete_message":
            # chat.delete with a bot token may remove only the bot's own posts.
            return "Slack lets an app remove only its own messages"
        return "Slack did not allow it just now"

    async def failure(self, reply: Reply) -> None:
        if self.respond is None:
            await super().failure(reply)
            return
        # A slash command or shortcut: its response_url reaches the person even where the
        # bot is not in the channel.
        msg = render(reply)
        await self.respond(text=msg.text, blocks=msg.blocks or None, response_type="ephemeral")
