"""The neutral message model every adapter translates to and from.

Cogs only ever see these types, so one cog serves Discord, Slack and the console alike.
Ids are strings on every platform; storage is keyed by (platform, scope_id), where the
scope is a Discord guild, a Slack team, or "console".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal


@dataclass(frozen=True)
class Actor:
    """Someone who sent a message or ran a command."""

    platform: str
    id: str
    name: str
    is_moderator: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.platform, self.id)


@dataclass(frozen=True)
class ChannelRef:
    """The minimum needed to post somewhere: what outbound delivery stores."""

    platform: str
    scope_id: str
    channel_id: str


@dataclass(frozen=True)
class Place:
    """Where a message was seen: a channel, a thread's channel, or a direct message."""

    platform: str
    scope_id: str
    id: str
    name: str
    is_direct: bool = False

    @property
    def ref(self) -> ChannelRef:
        return ChannelRef(self.platform, self.scope_id, self.id)


# Where a command came from: typed in chat, a slash command, a message menu, `sendbot ask`.
Surface = Literal["prefix", "slash", "action", "cli"]


@dataclass(frozen=True)
class IncomingFile:
    """A file sent with a command (an OPML file for `!feeds import`). Nothing is downloaded
    until a command asks: `read(limit)` returns the bytes, or raises FileTooBig past `limit`
    (or ValueError if it can't be fetched)."""

    filename: str
    size: int
    read: Callable[[int], Awaitable[bytes]] = field(compare=False, repr=False)


class FileTooBig(ValueError):
    """An incoming file larger than the command accepts."""


@dataclass(frozen=True)
class Incoming:
    """One message (or slash command, or shortcut) arriving from a platform."""

    text: str
    author: Actor
    place: Place
    message_id: str | None = None
    thread_id: str | None = None
    # "prefix" for !commands typed in chat, "slash" for slash commands, "action" for
    # context menus/shortcuts, "cli" for `sendbot ask`. Cogs rarely need it; adapters do.
    surface: Surface = "prefix"
    raw: Any = field(default=None, compare=False, repr=False)
    # Files attached to the message (Discord attachments, Slack files, the console's `< path`).
    files: tuple[IncomingFile, ...] = ()


@dataclass(frozen=True)
class CardField:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True)
class Card:
    """Rich content: an embed on Discord, Block Kit on Slack, framed text on the console.

    Text is the neutral markup of bot.markup: **bold**, *italic*, [label](url), `- ` lists.
    """

    title: str
    body: str = ""
    fields: tuple[CardField, ...] = ()
    url: str | None = None
    footer: str | None = None
    colour: int | None = None
    # A picture for the card (a feed item's image), shown only when it is https; and when the
    # thing it describes happened (a feed item's published date, timezone-aware). Adapters
    # that can show them do (Discord: the embed's image and timestamp); others leave them out.
    image_url: str | None = None
    timestamp: datetime | None = None


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


ChoiceStyle = Literal["primary", "secondary", "danger"]


@dataclass(frozen=True)
class Choice:
    """A button under a reply (Discord: a button in a view; Slack: a Block Kit button; the
    console: listed as words, since a terminal has no buttons).

    Pressing one sends back only `token`. What the button does (`action`, the handler the core
    routes to, with the data it needs) and who may press it are kept server-side by
    `bot/choices.py`, so nothing a client sends decides what is posted. `action` is here for
    logs and tests; adapters route by the token alone."""

    action: str
    label: str
    token: str
    style: ChoiceStyle = "secondary"
    # When the button stops working (the offer's expiry), for a platform's own timeout.
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Reply:
    """What a cog answers. An adapter that lacks a feature degrades, never drops:
    ephemeral falls back to a direct message, then to a public reply."""

    text: str = ""
    card: Card | None = None
    ephemeral: bool = False
    files: tuple[Attachment, ...] = ()
    # The one role a feed subscription was explicitly configured to ping; adapters allow
    # that role only. Every other mention in any reply is rendered inert.
    ping_role: str | None = None
    # Buttons under the reply. Only the person the reply answers may press them (the token is
    # bound to them); on a surface without buttons they are listed as words.
    choices: tuple[Choice, ...] = ()

    def plain_fallback(self) -> str:
        """Text for surfaces that need one (notifications, Slack's `text`)."""
        if self.text:
            return self.text
        if self.card:
            return self.card.title
        return ""


@dataclass(frozen=True)
class ReportedMessage:
    """A message someone flagged as misinformation through a platform's context menu."""

    text: str
    author: Actor
    place: Place
    message_id: str
    link: str | None = None
