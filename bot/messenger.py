"""What an adapter offers for messages the bot starts itself (feed posts, moderator notices).

Replies to commands go back through the adapter that received them; everything else goes
through a Messenger looked up by platform, so cogs and feeds never touch a platform library.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from bot.model import ChannelRef, Reply


class DeliveryError(Exception):
    """A send failed. `permanent` means retrying will not help (unknown channel, no access)."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class NotSent(DeliveryError):
    """The platform was never called (the bot is stopping and the send was still waiting for
    its turn): nothing was posted, so nothing needs settling."""


@runtime_checkable
class Messenger(Protocol):
    platform: str
    can_edit: bool

    async def post(self, channel: ChannelRef, reply: Reply, *, nonce: str | None = None, unsure: bool = False) -> str:
        """Post and return the platform's message id once the platform has confirmed it.

        `nonce` is a stable id for this delivery, used so a retried send is not posted
        twice: Discord sends it as an enforced message nonce; Slack attaches it as message
        metadata and, after an unclear failure, looks for it in recent history before
        posting again. `unsure` says an earlier try may have been posted (the bot was stopped
        mid-send): Slack then looks in history first; Discord's nonce settles it. Raise
        DeliveryError on failure.
        """
        ...

    async def edit(self, channel: ChannelRef, message_id: str, reply: Reply) -> None:
        """Replace a message this bot posted. Raise DeliveryError on failure."""
        ...

    async def delete(self, channel: ChannelRef, message_id: str) -> None:
        """Delete a message (a command a parent typed, or the bot's own)."""
        ...

    async def send_direct(self, scope_id: str, user_id: str, reply: Reply) -> str:
        """Send a private message to a user; return the message id."""
        ...


@runtime_checkable
class ChannelDirectory(Protocol):
    """Optional, beside `Messenger`: an adapter that can tell whether a channel belongs to a
    forum (`!settings` checks the channel a moderator names). The channel's name, or None
    when the forum has no such channel the bot can post in."""

    async def channel_name(self, scope_id: str, channel_id: str) -> str | None: ...


@runtime_checkable
class ChannelPrivacy(Protocol):
    """Optional: whether every member of the forum can read a channel (`!settings` keeps
    the moderators' channel, where reports are shown, to one members cannot read). None
    when the adapter cannot tell."""

    async def everyone_can_read(self, scope_id: str, channel_id: str) -> bool | None: ...


@runtime_checkable
class RoleDirectory(Protocol):
    """Optional: the forum's roles (Discord) or user groups (Slack), for `!settings`.
    `role_name`: the name of the role with this id, or None if the forum has none such;
    `find_role`: the id of the one role with this name, or None. Either may raise when
    the platform could not be asked."""

    async def role_name(self, scope_id: str, role_id: str) -> str | None: ...

    async def find_role(self, scope_id: str, name: str) -> str | None: ...
