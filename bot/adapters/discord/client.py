"""The discord.py client and its events: what the bot asks Discord for (intents, the invite's
permissions), and each way a command arrives (a `!command` message, a slash command, the
"Report misinformation" menu), read into the neutral model and handed to the dispatcher.

Nothing here knows a particular cog: a command is a spec the dispatcher resolves.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
from discord import app_commands

from bot.adapters.base import Adapter
from bot.adapters.discord import PLATFORM
from bot.adapters.discord.answer import InteractionAnswer, MessageAnswer
from bot.adapters.discord.buttons import ChoiceView, ViewMaker, timeout_for
from bot.adapters.discord.commands import REPORT_MENU
from bot.adapters.discord.forums import ASK, ForumPicker
from bot.adapters.discord.render import plain_text_of
from bot.commands import CommandSpec
from bot.config import DiscordSection
from bot.dispatcher import Outcome
from bot.forum_settings import MODERATOR_ROLE
from bot.model import Actor, Choice, FileTooBig, Incoming, IncomingFile, Place, Reply, ReportedMessage, Surface

if TYPE_CHECKING:
    from bot.adapters.discord.adapter import DiscordAdapter

log = logging.getLogger(__name__)

REPORT_ACTION = "report_message"


def intents(message_content: bool) -> discord.Intents:
    """The gateway events the bot needs, and no more."""
    wanted = discord.Intents.none()
    wanted.guilds = True  # channels, roles and permissions for moderator checks
    wanted.guild_messages = True
    wanted.dm_messages = True
    wanted.message_content = message_content
    return wanted


def invite_permissions(*, manage_messages: bool = False) -> discord.Permissions:
    """What the bot needs in a channel: read, answer (replies need Read Message History),
    embeds and the .ics attachments. Manage Messages only lets it remove a !report command
    message so a parent's words are not left on show; everything else works without it."""
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        embed_links=True,
        attach_files=True,
        read_message_history=True,
        manage_messages=manage_messages,
    )


def invite_url(client_id: int, *, manage_messages: bool = False) -> str:
    return discord.utils.oauth_url(
        client_id,
        permissions=invite_permissions(manage_messages=manage_messages),
        scopes=("bot", "applications.commands"),
    )


def attached_file(a: discord.Attachment) -> IncomingFile:
    """A message's attachment, downloaded only if a command reads it (and never past its limit)."""

    async def read(limit: int) -> bytes:
        if a.size > limit:
            raise FileTooBig(f"{a.filename} is {a.size} bytes")
        try:
            return await a.read()
        except (discord.HTTPException, discord.NotFound) as e:
            raise ValueError(f"Discord would not give me {a.filename} ({type(e).__name__})") from None

    return IncomingFile(a.filename, a.size, read)


class SendbotClient(discord.Client):
    """A discord.Client whose hooks call back into the adapter."""

    def __init__(self, adapter: DiscordAdapter, *, intents: discord.Intents, **options: Any) -> None:
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none(), **options)
        self.adapter = adapter
        self.tree = app_commands.CommandTree(self)
        self.tree.on_error = adapter.on_tree_error  # type: ignore[method-assign]

    async def setup_hook(self) -> None:
        await self.adapter.setup(self)

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.on_message(message)

    async def on_ready(self) -> None:
        # Connected (first time, or after a reconnect that lost the session): what was cut
        # off while away (unsure deliveries, a pending delete) is retried now.
        self.adapter.core.platform_ready(PLATFORM)

    async def on_disconnect(self) -> None:
        # discord.py reconnects by itself; /healthz reports the gap meanwhile.
        self.adapter.core.platform_lost(PLATFORM)

    async def on_resumed(self) -> None:
        self.adapter.core.platform_resumed(PLATFORM)


class ShardedSendbotClient(SendbotClient, discord.AutoShardedClient):
    """The same client over several gateway connections (`[discord] shard_count`,
    `shard_ids`): discord.py runs this instance's shards, each receiving the events of its
    own servers, so a command is answered by the instance whose shard received it. Feed
    posts are REST calls, made by whichever instance claimed them."""


def make_client(adapter: DiscordAdapter, *, intents: discord.Intents, **options: Any) -> SendbotClient:
    """Sharded when `[discord] shard_count` is set (every shard, or those in `shard_ids`)."""
    config = adapter.config
    if config.shard_count is None:
        return SendbotClient(adapter, intents=intents, **options)
    shard_ids = list(config.shard_ids) or None
    return ShardedSendbotClient(
        adapter, intents=intents, shard_count=config.shard_count, shard_ids=shard_ids, **options
    )


class DiscordEvents(Adapter):
    """The inbound half of `DiscordAdapter` (adapter.py), which sets the state below."""

    config: DiscordSection
    client: SendbotClient | None
    # Slash commands answer at once when the cog is quick; a slower one is deferred after this.
    defer_after: float

    # -- translating to the neutral model --------------------------------------------

    async def _is_moderator(self, member: discord.abc.User, permissions: discord.Permissions | None) -> bool:
        """Manage Messages where the command was used, or the server's moderator role: the
        one its moderators chose with `!settings set moderator-role` (by id), else a role
        named in `[discord] moderator_roles`."""
        if not isinstance(member, discord.Member):
            return False
        if permissions is not None and permissions.manage_messages:
            return True
        chosen = await self.core.forum_settings.forum_value(PLATFORM, str(member.guild.id), MODERATOR_ROLE)
        if chosen is not None:
            return any(str(role.id) == chosen for role in member.roles)
        wanted = {r.lower() for r in self.config.moderator_roles}
        return bool(wanted) and any(role.name.lower() in wanted for role in member.roles)

    def _place(self, channel: Any, guild: discord.Guild | None, channel_id: int | None) -> Place:
        is_direct = guild is None
        name = getattr(channel, "name", None) or ("direct message" if is_direct else str(channel_id))
        return Place(PLATFORM, str(guild.id) if guild else self._dm_scope(), str(channel_id), name, is_direct=is_direct)

    async def _forums_of(self, user: discord.abc.User) -> list[discord.Guild]:
        """The bot's servers (the configured ones, when `guild_ids` is set) this person is a
        member of. Asked of Discord one server at a time (the bot has no member list: it does
        not ask for the Server Members intent), and only when there is more than one."""
        if self.client is None:
            return []
        guilds = list(self.client.guilds)
        if self.config.guild_ids:
            wanted = set(self.config.guild_ids)
            guilds = [g for g in guilds if g.id in wanted]
        if len(guilds) <= 1:
            return guilds
        found = []
        for guild in guilds:
            if guild.get_member(user.id) is None:
                try:
                    await guild.fetch_member(user.id)
                except discord.NotFound:
                    continue
                except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as e:
                    log.info("could not tell whether a member is in server %s: %s", guild.id, type(e).__name__)
                    continue
            found.append(guild)
        return found

    async def _forum_for(
        self, spec: CommandSpec | None, user: discord.abc.User, place: Place
    ) -> Place | list[discord.Guild]:
        """A direct message's place for this command: scoped to the one forum the person is in,
        or the forums to ask them to choose from (only for commands whose words are private,
        such as `!report`, which must reach the right moderators)."""
        if not place.is_direct or spec is None or not spec.private_input:
            return place
        forums = await self._forums_of(user)
        if len(forums) > 1:
            return forums
        return dataclasses.replace(place, scope_id=str(forums[0].id)) if forums else place

    def _dm_scope(self) -> str:
        """A direct message belongs to the forum's server when there is just one, so that a
        report made privately reaches that server's moderators (storage is keyed by scope)."""
        if len(self.config.guild_ids) == 1:
            return str(self.config.guild_ids[0])
        guilds = self.client.guilds if self.client is not None else []
        return str(guilds[0].id) if len(guilds) == 1 else "dm"

    async def _actor(self, user: discord.abc.User, permissions: discord.Permissions | None) -> Actor:
        moderator = await self._is_moderator(user, permissions)
        return Actor(PLATFORM, str(user.id), user.display_name, is_moderator=moderator)

    # -- prefix commands -------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.webhook_id is not None or not message.content:
            return
        if not self.core.dispatcher.is_command(message.content.strip()):
            return
        perms = None
        if isinstance(message.author, discord.Member) and hasattr(message.channel, "permissions_for"):
            perms = message.channel.permissions_for(message.author)
        incoming = Incoming(
            text=message.content,
            author=await self._actor(message.author, perms),
            place=self._place(message.channel, message.guild, message.channel.id),
            message_id=str(message.id),
            surface="prefix",
            raw=message,
            files=tuple(attached_file(a) for a in message.attachments),
        )
        if incoming.place.is_direct:
            body = message.content.strip()[len(self.core.prefix) :]
            forum = await self._forum_for(self.core.dispatcher.resolve(body)[0], message.author, incoming.place)
            if isinstance(forum, list):
                await self._ask_forum_by_message(message, incoming, forum)
                return
            incoming = dataclasses.replace(incoming, place=forum)
        outcome = await self.core.dispatcher.handle(incoming)
        if outcome is None:
            return
        answer = MessageAnswer(message, views=self._views(message.author.id))
        try:
            await self.deliver(outcome, incoming, answer)
        except Exception:
            # A failure in the adapter itself (the dispatcher handled the cog's own): the
            # person gets its reference rather than silence.
            await self.tell_failure(answer, f"!{outcome.command} in channel {message.channel.id}")

    # -- slash commands and the context menu -----------------------------------------

    async def _interaction_incoming(self, interaction: discord.Interaction, text: str, surface: Surface) -> Incoming:
        channel_id = interaction.channel_id or 0
        return Incoming(
            text=text,
            author=await self._actor(interaction.user, interaction.permissions if interaction.guild_id else None),
            place=self._place(interaction.channel, interaction.guild, channel_id),
            message_id=str(interaction.id),
            surface=surface,
            raw=interaction,
        )

    async def on_slash(self, interaction: discord.Interaction, spec: CommandSpec, options: dict[str, Any]) -> None:
        raw_args = {k: v for k, v in options.items() if v is not None}
        shown = " ".join(f"{k}:{v}" for k, v in raw_args.items())
        incoming = await self._interaction_incoming(interaction, f"/{spec.name} {shown}".strip(), "slash")
        forum = await self._forum_for(spec, interaction.user, incoming.place)
        if isinstance(forum, list):

            async def picked(chosen: discord.Interaction, guild_id: int) -> None:
                scoped = self._in_forum(incoming, guild_id)
                try:
                    await self._respond(chosen, scoped, self.core.dispatcher.invoke(spec, scoped, raw_args))
                except Exception:
                    await self.tell_failure(InteractionAnswer(chosen), f"/{spec.name} after choosing a forum")

            picker = ForumPicker(forum, user_id=interaction.user.id, on_pick=picked)
            await interaction.response.send_message(
                ASK, view=picker, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
            return
        incoming = dataclasses.replace(incoming, place=forum)
        await self._respond(interaction, incoming, self.core.dispatcher.invoke(spec, incoming, raw_args))

    @staticmethod
    def _in_forum(incoming: Incoming, guild_id: int) -> Incoming:
        return dataclasses.replace(incoming, place=dataclasses.replace(incoming.place, scope_id=str(guild_id)))

    async def _ask_forum_by_message(
        self, message: discord.Message, incoming: Incoming, forums: list[discord.Guild]
    ) -> None:
        """Ask which forum a `!report` sent in a direct message is for; it runs once chosen."""

        async def picked(chosen: discord.Interaction, guild_id: int) -> None:
            scoped = self._in_forum(incoming, guild_id)

            async def run() -> Outcome:
                return await self.core.dispatcher.handle(scoped) or Outcome([])

            try:
                await self._respond(chosen, scoped, run())
            except Exception:
                await self.tell_failure(InteractionAnswer(chosen), "a direct-message command after choosing a forum")

        picker = ForumPicker(forums, user_id=message.author.id, on_pick=picked)
        try:
            picker.message = await message.channel.send(
                ASK, view=picker, allowed_mentions=discord.AllowedMentions.none()
            )
        except Exception:
            picker.stop()
            await self.tell_failure(MessageAnswer(message), "asking which forum a direct message is for")

    async def on_report(self, interaction: discord.Interaction, message: discord.Message) -> None:
        guild = interaction.guild
        place = self._place(message.channel, guild, message.channel.id)
        author = message.author
        reported = ReportedMessage(
            text=plain_text_of(message),
            author=Actor(PLATFORM, str(author.id), author.display_name, is_moderator=False),
            place=place,
            message_id=str(message.id),
            link=message.jump_url,
        )
        incoming = await self._interaction_incoming(interaction, REPORT_MENU, "action")
        # Always private: a public answer would tell the channel who made the report.
        await self._respond(
            interaction, incoming, self.core.dispatcher.perform(REPORT_ACTION, incoming, message=reported), private=True
        )

    async def _respond(
        self, interaction: discord.Interaction, incoming: Incoming, work: Awaitable[Outcome], *, private: bool = False
    ) -> None:
        task = asyncio.ensure_future(work)
        deferred = False
        try:
            outcome = await asyncio.wait_for(asyncio.shield(task), self.defer_after)
        except TimeoutError:
            # The visibility of a deferred answer is fixed at deferral, before we know the
            # answer. Defer privately: a private answer can then never appear in public,
            # and a public one is still posted as a followup (or, at worst, privately).
            deferred = True
            await interaction.response.defer(thinking=True, ephemeral=True)
            outcome = await task
        # An interaction must be answered, even by a command with nothing to say.
        replies = outcome.replies or [Reply("Done.", ephemeral=True)]
        if private:
            replies = [dataclasses.replace(r, ephemeral=True) for r in replies]
        outcome = dataclasses.replace(outcome, replies=replies)
        # Errors other than a refused send reach on_tree_error, which answers with a reference.
        answer = InteractionAnswer(interaction, deferred=deferred, views=self._views(interaction.user.id))
        await self.deliver(outcome, incoming, answer)

    # -- buttons ---------------------------------------------------------------------

    def _views(self, user_id: int) -> ViewMaker:
        """Buttons for a reply to this person: only they can press them."""

        def make(choices: Sequence[Choice]) -> ChoiceView | None:
            if not choices:
                return None
            timeout = timeout_for(choices, self.core.now())
            return ChoiceView(choices, user_id=user_id, on_choice=self.on_choice, timeout=timeout)

        return make

    async def on_choice(self, interaction: discord.Interaction, token: str) -> None:
        """A button was pressed: the core looks its token up and answers, always privately."""
        incoming = await self._interaction_incoming(interaction, "(a button)", "action")
        try:
            await self._respond(interaction, incoming, self.core.dispatcher.choose(incoming, token), private=True)
        except Exception:
            await self.tell_failure(InteractionAnswer(interaction), "a button")

    async def on_tree_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """Errors outside the dispatcher's own handler: an answer that failed to send, or a
        slash command Discord still lists but this version of the bot no longer has."""
        answer = InteractionAnswer(interaction)
        if isinstance(error, app_commands.CommandNotFound):
            log.warning("slash command %r is not known to this bot (stale registration)", error.name)
            text = "That command isn't available any more. Type / to see the current commands."
            with contextlib.suppress(discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError):
                await answer.failure(Reply(text, ephemeral=True))
            return
        await self.tell_failure(answer, "a slash command", error)
