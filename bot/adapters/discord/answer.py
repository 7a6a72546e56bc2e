"""Answering one command on Discord: the platform calls `Adapter.deliver` is made of.

Two surfaces: a `!command` typed in a channel, a thread or a DM (`MessageAnswer`), and a slash
command or the message menu (`InteractionAnswer`). The rules (which way a private reply goes,
when the command message is removed, the failure note) are `bot/adapters/base.py`'s.
"""

from __future__ import annotations

import contextlib
from typing import Any

import discord

from bot.adapters.base import Answer
from bot.adapters.discord import PLATFORM
from bot.adapters.discord.buttons import ChoiceView, ViewMaker, sent_message
from bot.adapters.discord.messenger import delivery_errors
from bot.adapters.discord.render import render
from bot.messenger import DeliveryError
from bot.model import ChannelRef, Reply


def _with_view(kwargs: dict[str, Any], view: ChoiceView | None, last: bool) -> dict[str, Any]:
    """A reply's buttons ride on its last message."""
    return {**kwargs, "view": view} if view is not None and last else kwargs


def _followup(kwargs: dict[str, Any]) -> dict[str, Any]:
    """A followup with buttons waits for its message, so the buttons know where they are."""
    return {**kwargs, "wait": True} if "view" in kwargs else kwargs


def _remember(view: ChoiceView | None, result: Any) -> None:
    if view is not None and view.message is None:
        view.message = sent_message(result)


class MessageAnswer(Answer):
    """Answering a !command typed in a channel, a thread or a direct message. Discord has no
    ephemeral messages outside interactions, so a private reply is a direct message, then
    (DMs closed) a reply in the channel."""

    def __init__(self, message: discord.Message, *, views: ViewMaker | None = None) -> None:
        self.message = message
        self.views = views
        self.where = ChannelRef(PLATFORM, str(message.guild.id) if message.guild else "dm", str(message.channel.id))
        self.removed = False

    async def direct(self, reply: Reply) -> bool:
        if self.message.guild is None:
            return False  # already in a direct message: the reply there is private
        rendered = render(reply)
        view = self.views(reply.choices) if self.views and reply.choices else None
        try:
            for i, part in enumerate(rendered.parts):
                kwargs = _with_view(part.kwargs(), view, i == len(rendered.parts) - 1)
                _remember(view, await self.message.author.send(**kwargs, allowed_mentions=rendered.allowed_mentions))
        except discord.HTTPException:
            return False  # DMs closed (Forbidden) or failed: fall back to the channel
        return True

    async def public(self, reply: Reply) -> None:
        rendered = render(reply)
        view = self.views(reply.choices) if self.views and reply.choices else None
        # Never a reply to a message that has just been removed.
        reference = None if self.removed else self.message.to_reference(fail_if_not_exists=False)
        with delivery_errors(self.where):
            for i, part in enumerate(rendered.parts):
                kwargs = _with_view(part.kwargs(), view, i == len(rendered.parts) - 1)
                try:
                    send = {**kwargs, "allowed_mentions": rendered.allowed_mentions}
                    if reference is not None:
                        send["reference"] = reference
                    _remember(view, await self.message.channel.send(**send))
                except discord.Forbidden:
                    if reference is None:
                        raise
                    # Replying needs Read Message History; a plain message does not.
                    sent = await self.message.channel.send(**kwargs, allowed_mentions=rendered.allowed_mentions)
                    _remember(view, sent)
                reference = None

    async def remove_trigger(self) -> None:
        # Already gone (the author was quicker) counts as removed.
        with delivery_errors(self.where), contextlib.suppress(discord.NotFound):
            await self.message.delete()
        self.removed = True

    def why_kept(self, error: DeliveryError) -> str:
        if error.permanent:
            # Removing someone else's message needs Manage Messages (see invite_permissions).
            return "I don't have the Manage Messages permission in this channel"
        return "Discord did not answer in time"

    async def failure(self, reply: Reply) -> None:
        # In the channel, not by DM: the direct message may be what failed, and the channel
        # is where the person is waiting for an answer. The note holds nothing private.
        await self.message.channel.send(reply.text, allowed_mentions=discord.AllowedMentions.none())


class InteractionAnswer(Answer):
    """Answering a slash command or the message menu. The first part answers the interaction
    (or, once deferred, replaces the private "thinking…" message); the rest are followups."""

    # Unanswered, an interaction ends in Discord's "did not respond", or stays "thinking…"
    # once deferred: a reply that cannot be sent is replaced by the failure note.
    must_answer = True

    def __init__(
        self, interaction: discord.Interaction, *, deferred: bool = False, views: ViewMaker | None = None
    ) -> None:
        self.interaction = interaction
        self.views = views
        self.deferred = deferred
        self.first = True
        scope = str(interaction.guild_id) if interaction.guild_id else "dm"
        self.where = ChannelRef(PLATFORM, scope, str(interaction.channel_id or 0))

    async def private(self, reply: Reply) -> bool:
        await self._send(reply, ephemeral=True)
        return True

    async def public(self, reply: Reply) -> None:
        await self._send(reply, ephemeral=False)

    async def _send(self, reply: Reply, *, ephemeral: bool) -> None:
        interaction = self.interaction
        rendered = render(reply)
        mentions = rendered.allowed_mentions
        view = self.views(reply.choices) if self.views and reply.choices else None
        sent: Any
        with delivery_errors(self.where):
            for i, part in enumerate(rendered.parts):
                kwargs = _with_view(part.kwargs(), view, i == len(rendered.parts) - 1)
                if self.first and not self.deferred:
                    sent = await interaction.response.send_message(
                        **kwargs, ephemeral=ephemeral, allowed_mentions=mentions
                    )
                elif self.first:
                    # The private "thinking…" message becomes the answer, or a pointer to it.
                    if ephemeral:
                        if "files" in kwargs:
                            kwargs["attachments"] = kwargs.pop("files")
                        sent = await interaction.edit_original_response(**kwargs, allowed_mentions=mentions)
                    else:
                        await interaction.edit_original_response(
                            content="Done: posted in the channel.", allowed_mentions=mentions
                        )
                        sent = await interaction.followup.send(**_followup(kwargs), allowed_mentions=mentions)
                else:
                    sent = await interaction.followup.send(
                        **_followup({**kwargs, "ephemeral": ephemeral}), allowed_mentions=mentions
                    )
                _remember(view, sent)
                self.first = False

    async def failure(self, reply: Reply) -> None:
        interaction, none = self.interaction, discord.AllowedMentions.none()
        if not interaction.response.is_done():
            await interaction.response.send_message(reply.text, ephemeral=True, allowed_mentions=none)
        else:
            # Already deferred or partly answered: without a followup the person would be
            # left with "thinking…" or half an answer and no word of what happened.
            await interaction.followup.send(reply.text, ephemeral=True, allowed_mentions=none)
