"""The Discord adapter: discord.py client, every command spec as a prefix and a slash
command, a "Report misinformation" message menu, and the Messenger for feed posts.

Nothing here knows a particular cog. Slash commands are generated from
`core.dispatcher.specs`, so a new cog appears on Discord without Discord code.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Literal, Optional

import aiohttp
import discord
import yarl
from discord import app_commands

from bot.adapters.base import Adapter, Answer, secret_text
from bot.adapters.discord_render import plain_text_of, render, render_single, resolve_role
from bot.commands import ArgSpec, CommandSpec
from bot.core import BotCore
from bot.dispatcher import Outcome
from bot.messenger import DeliveryError
from bot.model import Actor, ChannelRef, Incoming, Place, Reply, ReportedMessage, Surface

log = logging.getLogger(__name__)

PLATFORM = "discord"
REPORT_MENU = "Report misinformation"
REPORT_ACTION = "report_message"

# Discord's rules for application command names and its size limits.
_NAME_RE = re.compile(r"^[-_\w]{1,32}$")
DESCRIPTION_LIMIT = 100
CHOICES_LIMIT = 25
SUBCOMMAND_LIMIT = 25
NONCE_LIMIT = 25

ENABLE_PREFIX_HINT = (
    "To turn on !commands: Discord Developer Portal -> your application -> Bot -> Privileged Gateway "
    "Intents -> enable MESSAGE CONTENT INTENT, keep [discord] message_content = true, and restart. "
    "Slash commands work either way."
)

_KIND_TYPES: dict[str, Any] = {"str": str, "rest": str, "int": int, "bool": bool}


def _describe(text: str, fallback: str) -> str:
    """Discord wants 1-100 characters of plain text for every description."""
    text = " ".join(text.split()) or fallback
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


def _arg_description(arg: ArgSpec) -> str:
    if arg.help:
        return _describe(arg.help, arg.name)
    return {
        "int": "a whole number",
        "bool": "yes or no",
        "rest": "free text",
        "choice": "one of: " + ", ".join(arg.choices),
    }.get(arg.kind, arg.name)


def _annotation(arg: ArgSpec) -> Any:
    if arg.kind == "choice" and 0 < len(arg.choices) <= CHOICES_LIMIT:
        base: Any = Literal[tuple(arg.choices)]
    else:
        # More choices than Discord lists: a string, still checked by CommandSpec.convert.
        base = _KIND_TYPES.get(arg.kind, str)
    return base if arg.required else Optional[base]  # noqa: UP045 - discord.py reads typing.Optional


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


def delivery_nonce(nonce: str) -> str:
    """Discord nonces are at most 25 characters; a delivery id may be longer. A hash keeps
    the same delivery on the same nonce across retries and restarts."""
    if len(nonce) <= NONCE_LIMIT and nonce.isascii():
        return nonce
    return hashlib.sha256(nonce.encode()).hexdigest()[:NONCE_LIMIT]


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


class _MessageAnswer(Answer):
    """Answering a !command typed in a channel, a thread or a direct message. Discord has no
    ephemeral messages outside interactions, so a private reply is a direct message, then
    (DMs closed) a reply in the channel."""

    def __init__(self, message: discord.Message) -> None:
        self.message = message
        self.where = ChannelRef(PLATFORM, str(message.guild.id) if message.guild else "dm", str(message.channel.id))
        self.removed = False

    async def direct(self, reply: Reply) -> bool:
        if self.message.guild is None:
            return False  # already in a direct message: the reply there is private
        rendered = render(reply)
        try:
            for part in rendered.parts:
                await self.message.author.send(**part.kwargs(), allowed_mentions=rendered.allowed_mentions)
        except discord.HTTPException:
            return False  # DMs closed (Forbidden) or failed: fall back to the channel
        return True

    async def public(self, reply: Reply) -> None:
        rendered = render(reply)
        # Never a reply to a message that has just been removed.
        reference = None if self.removed else self.message.to_reference(fail_if_not_exists=False)
        with _delivery_errors(self.where):
            for part in rendered.parts:
                try:
                    send = {**part.kwargs(), "allowed_mentions": rendered.allowed_mentions}
                    if reference is not None:
                        send["reference"] = reference
                    await self.message.channel.send(**send)
                except discord.Forbidden:
                    if reference is None:
                        raise
                    # Replying needs Read Message History; a plain message does not.
                    await self.message.channel.send(**part.kwargs(), allowed_mentions=rendered.allowed_mentions)
                reference = None

    async def remove_trigger(self) -> None:
        # Already gone (the author was quicker) counts as removed.
        with _delivery_errors(self.where), contextlib.suppress(discord.NotFound):
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


class _InteractionAnswer(Answer):
    """Answering a slash command or the message menu. The first part answers the interaction
    (or, once deferred, replaces the private "thinking…" message); the rest are followups."""

    # Unanswered, an interaction ends in Discord's "did not respond", or stays "thinking…"
    # once deferred: a reply that cannot be sent is replaced by the failure note.
    must_answer = True

    def __init__(self, interaction: discord.Interaction, *, deferred: bool = False) -> None:
        self.interaction = interaction
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
        with _delivery_errors(self.where):
            for part in rendered.parts:
                kwargs = part.kwargs()
                if self.first and not self.deferred:
                    await interaction.response.send_message(**kwargs, ephemeral=ephemeral, allowed_mentions=mentions)
                elif self.first:
                    # The private "thinking…" message becomes the answer, or a pointer to it.
                    if ephemeral:
                        if "files" in kwargs:
                            kwargs["attachments"] = kwargs.pop("files")
                        await interaction.edit_original_response(**kwargs, allowed_mentions=mentions)
                    else:
                        await interaction.edit_original_response(
                            content="Done: posted in the channel.", allowed_mentions=mentions
                        )
                        await interaction.followup.send(**kwargs, allowed_mentions=mentions)
                else:
                    await interaction.followup.send(**kwargs, ephemeral=ephemeral, allowed_mentions=mentions)
                self.first = False

    async def failure(self, reply: Reply) -> None:
        interaction, none = self.interaction, discord.AllowedMentions.none()
        if not interaction.response.is_done():
            await interaction.response.send_message(reply.text, ephemeral=True, allowed_mentions=none)
        else:
            # Already deferred or partly answered: without a followup the person would be
            # left with "thinking…" or half an answer and no word of what happened.
            await interaction.followup.send(reply.text, ephemeral=True, allowed_mentions=none)


class DiscordAdapter(Adapter):
    """Runs the client; is also the Messenger for platform "discord"."""

    platform = PLATFORM
    can_edit = True

    def __init__(self, core: BotCore, **client_options: Any) -> None:
        self.core = core
        self.config = core.config.discord
        self.client: SendbotClient | None = None
        self.client_options = client_options
        # Slash commands answer at once when the cog is quick; a slower one (a feed fetch)
        # is deferred first, because Discord drops interactions not answered in 3 seconds.
        self.defer_after = 2.0
        self.message_content = self.config.message_content
        self.logged_in = asyncio.Event()
        self._saved_endpoints: tuple[str, yarl.URL] | None = None
        core.register_messenger(self)

    # -- lifecycle -------------------------------------------------------------------

    def _point_at_endpoints(self) -> None:
        """Aim discord.py at the configured REST and gateway addresses (a proxy or a fake).

        Both are class attributes in discord.py; they are restored in close()."""
        if self._saved_endpoints is None:
            self._saved_endpoints = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        discord.http.Route.BASE = self.config.api_base_url.rstrip("/")
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.config.gateway_url)

    def _intents(self, message_content: bool) -> discord.Intents:
        intents = discord.Intents.none()
        intents.guilds = True  # channels, roles and permissions for moderator checks
        intents.guild_messages = True
        intents.dm_messages = True
        intents.message_content = message_content
        return intents

    async def run(self) -> None:
        token = secret_text(self.config.token)
        if not token:
            raise RuntimeError("no Discord token: set DISCORD_TOKEN or [discord] token")
        self._point_at_endpoints()
        if not self.message_content:
            log.info("!commands are off ([discord] message_content = false). %s", ENABLE_PREFIX_HINT)
        while True:
            self.client = SendbotClient(self, intents=self._intents(self.message_content), **self.client_options)
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
        self.build_tree(client.tree)
        self.logged_in.set()
        if client.application_id:
            log.info("invite link (minimal permissions): %s", invite_url(client.application_id))
        await self.sync_commands(client.tree)

    async def sync_commands(self, tree: app_commands.CommandTree) -> None:
        targets: list[discord.Object | None] = [discord.Object(id=g) for g in self.config.guild_ids] or [None]
        for guild in targets:
            where = f"server {guild.id}" if guild else "all servers (Discord may take up to an hour to show them)"
            try:
                synced = await tree.sync(guild=guild)
            except discord.HTTPException as e:
                # Without the applications.commands scope Discord answers 403: !commands still work.
                log.error(
                    "could not register slash commands in %s (HTTP %s: %s); re-invite the bot with the "
                    "applications.commands scope (see docs/discord.md)",
                    where,
                    e.status,
                    e.text,
                )
            else:
                log.info("synced %d slash commands to %s", len(synced), where)

    # -- building the slash command tree ---------------------------------------------

    def build_tree(self, tree: app_commands.CommandTree) -> None:
        guilds = [discord.Object(id=g) for g in self.config.guild_ids]
        specs = self.core.dispatcher.specs
        groups: dict[str, app_commands.Group] = {}
        group_names = {s.parent for s in specs if s.parent}
        items: list[app_commands.Command | app_commands.Group | app_commands.ContextMenu] = []
        for spec in specs:
            words = spec.words
            if not all(_NAME_RE.match(w) for w in words) or len(words) > 2:
                log.warning("command %r has no slash form (Discord allows lowercase words only)", spec.name)
                continue
            if len(words) == 1 and spec.name in group_names:
                log.warning("/%s has subcommands, so its bare form is available as !%s only", spec.name, spec.name)
                continue
            try:
                cmd = self._slash_command(spec, words[-1])
            except (TypeError, ValueError) as e:
                # One odd spec (an option name Discord won't take) must not cost the rest.
                log.warning("command %r has no slash form: %s", spec.name, e)
                continue
            if len(words) == 1:
                items.append(cmd)
                continue
            group = groups.get(words[0])
            if group is None:
                bare = self.core.dispatcher.get(words[0])
                description = _describe(bare.help if bare else "", f"{words[0]} commands")
                group = groups[words[0]] = app_commands.Group(name=words[0], description=description)
                items.append(group)
            if len(group.commands) >= SUBCOMMAND_LIMIT:
                log.warning("/%s has more than %d subcommands; %s is !-only", words[0], SUBCOMMAND_LIMIT, spec.name)
                continue
            group.add_command(cmd)
        items.append(app_commands.ContextMenu(name=REPORT_MENU, callback=self._report_callback()))
        for item in items:
            if guilds:
                tree.add_command(item, guilds=guilds)
            else:
                tree.add_command(item)

    def _slash_command(self, spec: CommandSpec, name: str) -> app_commands.Command:
        adapter = self

        async def callback(interaction: discord.Interaction, **options: Any) -> None:
            await adapter.on_slash(interaction, spec, options)

        for arg in spec.args:
            # discord.py does not check option names; Discord would refuse the whole sync.
            if not _NAME_RE.match(arg.name) or arg.name.lower() != arg.name:
                raise ValueError(f"option {arg.name!r} must be 1-32 lower-case letters, digits, - or _")
        params = [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        for arg in spec.args:
            params.append(
                inspect.Parameter(
                    arg.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    annotation=_annotation(arg),
                    default=inspect.Parameter.empty if arg.required else None,
                )
            )
        callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        callback.__discord_app_commands_param_description__ = {  # type: ignore[attr-defined]
            a.name: _arg_description(a) for a in spec.args
        }
        callback.__qualname__ = callback.__name__ = f"slash_{spec.name.replace(' ', '_')}"
        description = _describe(spec.help.splitlines()[0] if spec.help else "", spec.name)
        cmd: app_commands.Command[Any, ..., Any] = app_commands.Command(
            name=name, description=description, callback=callback
        )
        for arg in spec.args:
            if arg.complete is not None and arg.kind in ("str", "rest"):
                cmd.autocomplete(arg.name)(self._autocompleter(spec, arg))
        return cmd

    def _autocompleter(
        self, spec: CommandSpec, arg: ArgSpec
    ) -> Callable[[discord.Interaction, str], Coroutine[Any, Any, list[app_commands.Choice[str]]]]:
        async def complete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            if arg.complete is None:
                return []
            try:
                pairs = await arg.complete(current[:100])
            except Exception:
                log.exception("autocomplete for /%s %s failed", spec.name, arg.name)
                return []
            choices = []
            for label, value in list(pairs)[:CHOICES_LIMIT]:
                label, value = str(label)[:100] or str(value)[:100], str(value)[:100]
                if value:
                    choices.append(app_commands.Choice(name=label, value=value))
            return choices

        return complete

    def _report_callback(self) -> Callable[[discord.Interaction, discord.Message], Coroutine[Any, Any, None]]:
        adapter = self

        async def report_message(interaction: discord.Interaction, message: discord.Message) -> None:
            await adapter.on_report(interaction, message)

        return report_message

    # -- translating to the neutral model --------------------------------------------

    def _is_moderator(self, member: discord.abc.User, permissions: discord.Permissions | None) -> bool:
        if not isinstance(member, discord.Member):
            return False
        if permissions is not None and permissions.manage_messages:
            return True
        wanted = {r.lower() for r in self.config.moderator_roles}
        return bool(wanted) and any(role.name.lower() in wanted for role in member.roles)

    def _place(self, channel: Any, guild: discord.Guild | None, channel_id: int | None) -> Place:
        is_direct = guild is None
        name = getattr(channel, "name", None) or ("direct message" if is_direct else str(channel_id))
        return Place(PLATFORM, str(guild.id) if guild else self._dm_scope(), str(channel_id), name, is_direct=is_direct)

    def _dm_scope(self) -> str:
        """A direct message belongs to the forum's server when there is just one, so that a
        report made privately reaches that server's moderators (storage is keyed by scope)."""
        if len(self.config.guild_ids) == 1:
            return str(self.config.guild_ids[0])
        guilds = self.client.guilds if self.client is not None else []
        return str(guilds[0].id) if len(guilds) == 1 else "dm"

    def _actor(self, user: discord.abc.User, permissions: discord.Permissions | None) -> Actor:
        return Actor(PLATFORM, str(user.id), user.display_name, is_moderator=self._is_moderator(user, permissions))

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
            author=self._actor(message.author, perms),
            place=self._place(message.channel, message.guild, message.channel.id),
            message_id=str(message.id),
            surface="prefix",
            raw=message,
        )
        outcome = await self.core.dispatcher.handle(incoming)
        if outcome is None:
            return
        answer = _MessageAnswer(message)
        try:
            await self.deliver(outcome, incoming, answer)
        except Exception:
            # A failure in the adapter itself (the dispatcher handled the cog's own): the
            # person gets its reference rather than silence.
            await self.tell_failure(answer, f"!{outcome.command} in channel {message.channel.id}")

    # -- slash commands and the context menu -----------------------------------------

    def _interaction_incoming(self, interaction: discord.Interaction, text: str, surface: Surface) -> Incoming:
        channel_id = interaction.channel_id or 0
        return Incoming(
            text=text,
            author=self._actor(interaction.user, interaction.permissions if interaction.guild_id else None),
            place=self._place(interaction.channel, interaction.guild, channel_id),
            message_id=str(interaction.id),
            surface=surface,
            raw=interaction,
        )

    async def on_slash(self, interaction: discord.Interaction, spec: CommandSpec, options: dict[str, Any]) -> None:
        raw_args = {k: v for k, v in options.items() if v is not None}
        shown = " ".join(f"{k}:{v}" for k, v in raw_args.items())
        incoming = self._interaction_incoming(interaction, f"/{spec.name} {shown}".strip(), "slash")
        await self._respond(interaction, incoming, self.core.dispatcher.invoke(spec, incoming, raw_args))

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
        incoming = self._interaction_incoming(interaction, REPORT_MENU, "action")
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
        await self.deliver(outcome, incoming, _InteractionAnswer(interaction, deferred=deferred))

    async def on_tree_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """Errors outside the dispatcher's own handler: an answer that failed to send, or a
        slash command Discord still lists but this version of the bot no longer has."""
        answer = _InteractionAnswer(interaction)
        if isinstance(error, app_commands.CommandNotFound):
            log.warning("slash command %r is not known to this bot (stale registration)", error.name)
            text = "That command isn't available any more. Type / to see the current commands."
            with contextlib.suppress(discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError):
                await answer.failure(Reply(text, ephemeral=True))
            return
        await self.tell_failure(answer, "a slash command", error)

    # -- Messenger -------------------------------------------------------------------

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
        with _delivery_errors(channel):
            for i, part in enumerate(rendered.parts):
                # The first message carries the delivery's nonce: Discord then returns the
                # message already made instead of posting a retried send twice.
                part_nonce = delivery_nonce(nonce if i == 0 else f"{nonce}:{i}") if nonce else None
                send = {**part.kwargs(), "allowed_mentions": rendered.allowed_mentions}
                if part_nonce:
                    send["nonce"] = part_nonce
                sent = await target.send(**send)
                first_id = first_id or str(sent.id)
        return first_id

    async def edit(self, channel: ChannelRef, message_id: str, reply: Reply) -> None:
        target = self._messageable(channel)
        rendered = render_single(reply, ping_role_id=self._ping_role_id(channel, reply))
        part = rendered.parts[0]
        with _delivery_errors(channel):
            await target.get_partial_message(int(message_id)).edit(
                content=part.content,
                embed=part.embed,
                attachments=part.files,
                allowed_mentions=rendered.allowed_mentions,
            )

    async def delete(self, channel: ChannelRef, message_id: str) -> None:
        target = self._messageable(channel)
        with _delivery_errors(channel):
            await target.get_partial_message(int(message_id)).delete()

    async def send_direct(self, scope_id: str, user_id: str, reply: Reply) -> str:
        if self.client is None or not self.logged_in.is_set():
            raise DeliveryError("Discord is not connected yet", permanent=False)
        rendered = render(reply)
        first_id = ""
        with _delivery_errors(ChannelRef(PLATFORM, scope_id, f"dm:{user_id}")):
            dm = await self.client.create_dm(discord.Object(id=int(user_id)))
            for part in rendered.parts:
                sent = await dm.send(**part.kwargs(), allowed_mentions=rendered.allowed_mentions)
                first_id = first_id or str(sent.id)
        return first_id


@contextlib.contextmanager
def _delivery_errors(channel: ChannelRef) -> Any:
    """discord.py errors as DeliveryError: gone or forbidden is permanent, the rest retry."""
    where = f"discord channel {channel.channel_id}"
    try:
        yield
    except discord.RateLimited as e:
        raise DeliveryError(f"{where}: rate limited", retry_after=e.retry_after) from e
    except (discord.NotFound, discord.Forbidden) as e:
        raise DeliveryError(f"{where}: {e.status} {e.text or type(e).__name__}", permanent=True) from e
    except discord.HTTPException as e:
        raise DeliveryError(f"{where}: HTTP {e.status}", permanent=400 <= e.status < 500) from e
    except (aiohttp.ClientError, OSError, TimeoutError) as e:
        raise DeliveryError(f"{where}: {type(e).__name__}") from e


def build(core: BotCore) -> DiscordAdapter:
    return DiscordAdapter(core)
