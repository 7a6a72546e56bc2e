"""The Discord `Messenger`: messages the bot starts itself (feed posts, notices), their edits
and deletes, and direct messages; and discord.py's errors as `DeliveryError`.

Every feed post carries a nonce derived from its delivery id (discord.py sends it with
`enforce_nonce`), so a retried send (after a timeout, or a crash) returns the message Discord already made instead
of posting it twice. Mentions are off except a subscription's explicit `mention_role`.

Every REST call made here goes through the adapter's pacer (bot/adapters/pacing.py), kept
under Discord's global limit of 50 requests per second per bot token (`[discord]
requests_per_second`): discord.py keeps the
per-route buckets (from the X-RateLimit headers) and waits out a 429 by itself, but nothing
in it spreads a fan-out to hundreds of channels under the global limit before it is hit.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import aiohttp
import discord

from bot.adapters.base import Adapter
from bot.adapters.discord import PLATFORM
from bot.adapters.discord.render import render, render_single, resolve_role
from bot.adapters.pacing import Pacer
from bot.messenger import DeliveryError
from bot.model import ChannelRef, Reply

if TYPE_CHECKING:
    from bot.adapters.discord.client import SendbotClient

log = logging.getLogger(__name__)

NONCE_LIMIT = 25


def delivery_nonce(nonce: str) -> str:
    """Discord nonces are at most 25 characters; a delivery id may be longer. A hash keeps
    the same delivery on the same nonce across retries and restarts."""
    if len(nonce) <= NONCE_LIMIT and nonce.isascii():
        return nonce
    return hashlib.sha256(nonce.encode()).hexdigest()[:NONCE_LIMIT]


def _retry_after(e: discord.HTTPException) -> float | None:
    """The wait a 429 asked for (its Retry-After header), if it said."""
    try:
        return float(e.response.headers["Retry-After"])
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


@contextlib.contextmanager
def delivery_errors(channel: ChannelRef) -> Iterator[None]:
    """discord.py errors as DeliveryError: gone or forbidden is permanent, the rest retry."""
    where = f"discord channel {channel.channel_id}"
    try:
        yield
    except discord.RateLimited as e:
        raise DeliveryError(f"{where}: rate limited", retry_after=e.retry_after) from e
    except (discord.NotFound, discord.Forbidden) as e:
        raise DeliveryError(f"{where}: {e.status} {e.text or type(e).__name__}", permanent=True) from e
    except discord.HTTPException as e:
        # discord.py waits out a 429 itself, but gives up after five tries and raises it: the
        # limit passes, so a 429 (like a timeout, 408) is retried later, never failed for good.
        if e.status in (408, 429):
            raise DeliveryError(f"{where}: HTTP {e.status}", retry_after=_retry_after(e)) from e
        raise DeliveryError(f"{where}: HTTP {e.status}", permanent=400 <= e.status < 500) from e
    except (aiohttp.ClientError, OSError, TimeoutError) as e:
        raise DeliveryError(f"{where}: {type(e).__name__}") from e


class DiscordMessenger(Adapter):
    """The Messenger half of `DiscordAdapter` (adapter.py), which sets the state below."""

    client: SendbotClient | None
    logged_in: asyncio.Event  # set once the client has logged in and built its commands
    pacer: Pacer | None  # the global limit (None: unpaced, for the benchmark's baseline)

    async def _paced(self, *, may_give_up: bool = True) -> None:
        if self.pacer is not None:
            await self.pacer.acquire(may_give_up=may_give_up)

    # -- bot.messenger.ChannelDirectory and RoleDirectory: what `!settings` checks against --

    def _guild(self, scope_id: str) -> discord.Guild | None:
        if self.client is None or not scope_id.isdigit():
            return None
        return self.client.get_guild(int(scope_id))

    async def channel_name(self, scope_id: str, channel_id: str) -> str | None:
        """The channel's name if it is in this server and the bot can post there (from the
        cache the Guilds intent keeps, so no API call): not a category or a forum, which hold
        no messages, nor a channel where the bot may not send messages."""
        guild = self._guild(scope_id)
        found = guild.get_channel_or_thread(int(channel_id)) if guild and channel_id.isdigit() else None
        if found is None or not isinstance(found, discord.abc.Messageable):
            return None
        if guild is not None and guild.me is not None:
            perms = found.permissions_for(guild.me)
            may_send = perms.send_messages_in_threads if isinstance(found, discord.Thread) else perms.send_messages
            if not (perms.view_channel and may_send):
                return None
        return found.name

    async def everyone_can_read(self, scope_id: str, channel_id: str) -> bool | None:
        """Whether the server's @everyone role may view the channel (from the cache)."""
        guild = self._guild(scope_id)
        found = guild.get_channel_or_thread(int(channel_id)) if guild and channel_id.isdigit() else None
        if guild is None or found is None:
            return None
        return bool(found.permissions_for(guild.default_role).view_channel)

    async def role_name(self, scope_id: str, role_id: str) -> str | None:
        guild = self._guild(scope_id)
        role = guild.get_role(int(role_id)) if guild and role_id.isdigit() else None
        return None if role is None or role.is_default() else role.name

    async def find_role(self, scope_id: str, name: str) -> str | None:
        """A role typed as plain @name (Discord writes a mention only for a role that may be
        mentioned): its id if exactly one role has that name."""
        guild = self._guild(scope_id)
        roles = [r for r in guild.roles if r.name.lower() == name.lower() and not r.is_default()] if guild else []
        return str(roles[0].id) if len(roles) == 1 else None

    def _messageable(self, channel: ChannelRef) -> discord.PartialMessageable:
        if self.client is None or not self.logged_in.is_set() or self.client.is_closed():
            raise DeliveryError("Discord is not connected yet", permanent=False)
        try:
            channel_id = int(channel.channel_id)
        except ValueError:
            raise DeliveryError(f"not a Discord channel id: {channel.channel_id!r}", permanent=True) from None
        guild_id = int(channel.scope_id) if channel.scope_id.isdigit() else None
        return self.client.get_partial_messageable(channel_id, guild_id=guild_id)

    def _ping_role_id(self, channel: ChannelRef, reply: Reply) -> int | None:
        if not reply.ping_role:
            return None
        guild_id = int(channel.scope_id) if channel.scope_id.isdigit() else None
        guild = self.client.get_guild(guild_id) if self.client and guild_id else None
        role_id = resolve_role(reply.ping_role, guild.roles if guild else (), guild_id)
        if role_id is None:
            log.warning("feed role %r not found in server %s: posting without a ping", reply.ping_role, guild_id)
        return role_id

    async def post(self, channel: ChannelRef, reply: Reply, *, nonce: str | None = None, unsure: bool = False) -> str:
        # `unsure` needs nothing more here: the same enforced nonce makes Discord return the
        # message an interrupted try already made (within its nonce window, which is why
        # unsure deliveries are retried first thing at start).
        target = self._messageable(channel)
        rendered = render(reply, ping_role_id=self._ping_role_id(channel, reply))
        first_id = ""
        with delivery_errors(channel):
            for i, part in enumerate(rendered.parts):
                # The first message carries the delivery's nonce: Discord then returns the
                # message already made instead of posting a retried send twice.
                part_nonce = delivery_nonce(nonce if i == 0 else f"{nonce}:{i}") if nonce else None
                send = {**part.kwargs(), "allowed_mentions": rendered.allowed_mentions}
                if part_nonce:
                    send["nonce"] = part_nonce
                await self._paced(may_give_up=i == 0)
                sent = await target.send(**send)
                first_id = first_id or str(sent.id)
        return first_id

    async def edit(self, channel: ChannelRef, message_id: str, reply: Reply) -> None:
        target = self._messageable(channel)
        rendered = render_single(reply, ping_role_id=self._ping_role_id(channel, reply))
        part = rendered.parts[0]
        with delivery_errors(channel):
            await self._paced()
            await target.get_partial_message(int(message_id)).edit(
                content=part.content,
                embed=part.embed,
                attachments=part.files,
                allowed_mentions=rendered.allowed_mentions,
            )

    async def delete(self, channel: ChannelRef, message_id: str) -> None:
        target = self._messageable(channel)
        with delivery_errors(channel):
            await self._paced()
            await target.get_partial_message(int(message_id)).delete()

    async def send_direct(self, scope_id: str, user_id: str, reply: Reply) -> str:
        if self.client is None or not self.logged_in.is_set():
            raise DeliveryError("Discord is not connected yet", permanent=False)
        rendered = render(reply)
        first_id = ""
        with delivery_errors(ChannelRef(PLATFORM, scope_id, f"dm:{user_id}")):
            await self._paced()
            dm = await self.client.create_dm(discord.Object(id=int(user_id)))
            for i, part in enumerate(rendered.parts):
                await self._paced(may_give_up=i == 0)
                sent = await dm.send(**part.kwargs(), allowed_mentions=rendered.allowed_mentions)
                first_id = first_id or str(sent.id)
        return first_id
