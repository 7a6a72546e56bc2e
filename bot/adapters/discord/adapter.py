"""`DiscordAdapter`: runs the discord.py client, and is the Messenger for platform "discord".

Composed of the events (client.py: `!commands`, slash commands, the message menu) and the
Messenger (messenger.py); this module holds what ties them together: the shared state, the
connection (with the fall-back to slash commands alone when Discord refuses the Message
Content intent), the addresses of a proxy or a fake, and building the commands at login.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
import yarl

from bot.adapters.base import secret_text
from bot.adapters.discord import PLATFORM
from bot.adapters.discord.client import DiscordEvents, SendbotClient, intents, invite_url, make_client
from bot.adapters.discord.commands import build_tree, sync_commands
from bot.adapters.discord.messenger import DiscordMessenger
from bot.adapters.shared_pacer import make_pacer
from bot.core import BotCore

log = logging.getLogger(__name__)

ENABLE_PREFIX_HINT = (
    "To turn on !commands: Discord Developer Portal -> your application -> Bot -> Privileged Gateway "
    "Intents -> enable MESSAGE CONTENT INTENT, keep [discord] message_content = true, and restart. "
    "Slash commands work either way."
)


class DiscordAdapter(DiscordEvents, DiscordMessenger):
    """Runs the client; is also the Messenger for platform "discord"."""

    platform = PLATFORM
    can_edit = True

    def __init__(self, core: BotCore, *, global_rate: float | None = None, **client_options: Any) -> None:
        """global_rate: Discord's global limit the bot's own requests are paced under (None:
        `[discord] requests_per_second`; 0: unpaced)."""
        self.core = core
        rate = core.config.discord.requests_per_second if global_rate is None else global_rate
        self.config = core.config.discord
        # Shared with the other instances through the database when so configured (issue 15).
        self.pacer = make_pacer(
            core.db,
            PLATFORM,
            secret_text(self.config.token),
            rate,
            shared=self.config.shared_rate_budget,
            stopping=lambda: core.stopping,
        )
        self.client: SendbotClient | None = None
        self.client_options = client_options
        # Slash commands answer at once when the cog is quick; a slower one (a feed fetch)
        # is deferred first, because Discord drops interactions not answered in 3 seconds.
        self.defer_after = 2.0
        self.message_content = self.config.message_content
        self.logged_in = asyncio.Event()
        # Sync the commands even when their hash matches the last sync (`sendbot discord sync`).
        self.force_sync = False
        self._saved_endpoints: tuple[str, yarl.URL] | None = None
        core.register_messenger(self)

    def _point_at_endpoints(self) -> None:
        """Aim discord.py at the configured REST and gateway addresses (a proxy or a fake).

        Both are class attributes in discord.py; they are restored in close()."""
        if self._saved_endpoints is None:
            self._saved_endpoints = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        discord.http.Route.BASE = self.config.api_base_url.rstrip("/")
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.config.gateway_url)

    async def run(self) -> None:
        token = secret_text(self.config.token)
        if not token:
            raise RuntimeError("no Discord token: set DISCORD_TOKEN or [discord] token")
        self._point_at_endpoints()
        if not self.message_content:
            log.info("!commands are off ([discord] message_content = false). %s", ENABLE_PREFIX_HINT)
        while True:
            self.client = make_client(self, intents=intents(self.message_content), **self.client_options)
            try:
                async with self.client:
                    await self.client.start(token)
                return
            except discord.PrivilegedIntentsRequired:
                if not self.message_content:
                    raise
                # The portal has not granted Message Content: run on slash commands alone.
                log.warning("Discord refused the Message Content intent, so !commands are off. %s", ENABLE_PREFIX_HINT)
                self.message_content = False
                self.logged_in.clear()
            except discord.LoginFailure:
                log.error("Discord rejected the bot token: check DISCORD_TOKEN or [discord] token")
                raise

    async def close(self) -> None:
        if self.client is not None and not self.client.is_closed():
            await self.client.close()
        if self._saved_endpoints is not None:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved_endpoints
            self._saved_endpoints = None

    async def setup(self, client: SendbotClient) -> None:
        """After login, before the gateway: build and sync the application commands."""
        build_tree(
            client.tree,
            self.core.dispatcher,
            self.config.guild_ids,
            on_slash=self.on_slash,
            on_report=self.on_report,
        )
        self.logged_in.set()
        if client.application_id:
            log.info("invite link (minimal permissions): %s", invite_url(client.application_id))
        # Only when the definition changed since the last sync (a hash kept in the database),
        # so a restart, or the reconnect after the Message Content fall-back, syncs nothing.
        await sync_commands(
            client.tree,
            self.config.guild_ids,
            state=self.core.state,
            application_id=client.application_id,
            force=self.force_sync,
        )

    async def sync_once(self) -> None:
        """`sendbot discord sync`: log in over REST alone (no gateway), sync the commands
        whatever the stored hash says, and close."""
        token = secret_text(self.config.token)
        if not token:
            raise RuntimeError("no Discord token: set DISCORD_TOKEN or [discord] token")
        self._point_at_endpoints()
        self.force_sync = True
        self.client = SendbotClient(self, intents=intents(False), **self.client_options)
        try:
            async with self.client:
                await self.client.login(token)  # runs setup_hook, so setup() and the sync
        finally:
            await self.close()
