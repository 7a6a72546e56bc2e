"""The slash-command tree: every command spec as a Discord application command, and its sync.

Slash commands are generated from `core.dispatcher.specs`, so a new cog appears on Discord
without Discord code: `!feeds add` becomes `/feeds add` with typed options, choices and
autocomplete. The "Report misinformation" message menu is registered here too. What happens
when one is used is the events' business (client.py); this module only describes them.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, Literal, Optional

import discord
from discord import app_commands

from bot.commands import ArgSpec, CommandSpec
from bot.dispatcher import Dispatcher

if TYPE_CHECKING:
    from storage.state import BotState

log = logging.getLogger(__name__)

REPORT_MENU = "Report misinformation"

# Discord's rules for application command names and its size limits.
_NAME_RE = re.compile(r"^[-_\w]{1,32}$")
DESCRIPTION_LIMIT = 100
CHOICES_LIMIT = 25
SUBCOMMAND_LIMIT = 25

_KIND_TYPES: dict[str, Any] = {"str": str, "rest": str, "int": int, "bool": bool}
# The option a command that reads a file (CommandSpec.file_help) takes it in: `/feeds import file:`.
FILE_OPTION = "file"

# What a slash command and the message menu call when used (the adapter's events).
OnSlash = Callable[[discord.Interaction, CommandSpec, dict[str, Any]], Awaitable[None]]
OnReport = Callable[[discord.Interaction, discord.Message], Awaitable[None]]


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


# Who sees a moderator command (`moderator_only` specs) in Discord's command list: members
# with Manage Messages, unless a server admin grants it to a role or person in Server
# Settings -> Integrations. The moderator check inside the command stays either way.
MODERATOR_PERMISSIONS = discord.Permissions(manage_messages=True)


def _bare_name(spec: CommandSpec, taken: set[str]) -> str | None:
    """The subcommand a bare command with subcommands takes in its group (`!reports` is
    `/reports list`): its first two-word alias in the group, else `help`; None if taken."""
    for alias in spec.aliases:
        words = alias.split()
        if len(words) == 2 and words[0] == spec.name and _NAME_RE.match(words[1]) and words[1] not in taken:
            return words[1]
    return "help" if "help" not in taken else None


def build_tree(
    tree: app_commands.CommandTree,
    dispatcher: Dispatcher,
    guild_ids: list[int],
    *,
    on_slash: OnSlash,
    on_report: OnReport,
) -> None:
    """Add a slash command for every spec that Discord can show, grouped by first word
    (`/feeds add`), and the message menu; to the configured servers, or globally.

    A bare command that also has subcommands (`!reports`, the queue) becomes a subcommand of
    its group (`/reports list`), since Discord cannot run a group by itself. Moderator
    commands, and groups whose commands all are, carry `default_member_permissions`
    (Manage Messages), so members do not see them."""
    guilds = [discord.Object(id=g) for g in guild_ids]
    specs = dispatcher.specs
    groups: dict[str, app_commands.Group] = {}
    group_names = {s.parent for s in specs if s.parent}
    members: dict[str, list[CommandSpec]] = {}
    for s in specs:
        members.setdefault(s.words[0], []).append(s)
    items: list[app_commands.Command | app_commands.Group | app_commands.ContextMenu] = []
    for spec in specs:
        placed = _slash_place(spec, specs, group_names)
        if placed is None:
            continue
        words, name = placed
        try:
            cmd = slash_command(spec, name, on_slash)
        except (TypeError, ValueError) as e:
            # One odd spec (an option name Discord won't take) must not cost the rest.
            log.warning("command %r has no slash form: %s", spec.name, e)
            continue
        if len(words) == 1:
            if spec.moderator_only:
                cmd.default_permissions = MODERATOR_PERMISSIONS
            items.append(cmd)
            continue
        group = groups.get(words[0])
        if group is None:
            group = groups[words[0]] = _new_group(dispatcher, words[0], members[words[0]])
            items.append(group)
        if len(group.commands) >= SUBCOMMAND_LIMIT:
            log.warning("/%s has more than %d subcommands; %s is !-only", words[0], SUBCOMMAND_LIMIT, spec.name)
            continue
        group.add_command(cmd)
    items.append(app_commands.ContextMenu(name=REPORT_MENU, callback=_report_callback(on_report)))
    for item in items:
        if guilds:
            tree.add_command(item, guilds=guilds)
        else:
            tree.add_command(item)


def _new_group(dispatcher: Dispatcher, name: str, members: list[CommandSpec]) -> app_commands.Group:
    """The slash group `/name`, described by the `!name` command's help if there is one."""
    head = dispatcher.get(name)
    description = _describe(head.help if head else "", f"{name} commands")
    # Discord takes the permission on the top-level command only, so a group is
    # hidden from members only when every command in it is for moderators.
    only_mods = all(s.moderator_only for s in members)
    return app_commands.Group(
        name=name,
        description=description,
        default_permissions=MODERATOR_PERMISSIONS if only_mods else None,
    )


def _slash_place(
    spec: CommandSpec, specs: Sequence[CommandSpec], group_names: set[str]
) -> tuple[tuple[str, ...], str] | None:
    """Where `spec` goes in the tree: its words (a group's name first, if any) and its slash
    name; None, logged, when Discord cannot show it."""
    words = spec.words
    if not all(_NAME_RE.match(w) for w in words) or len(words) > 2:
        log.warning("command %r has no slash form (Discord allows lowercase words only)", spec.name)
        return None
    name = words[-1]
    if len(words) == 1 and spec.name in group_names:
        taken = {s.words[1] for s in specs if s.parent == spec.name}
        bare = _bare_name(spec, taken)
        if bare is None:
            log.warning("/%s has subcommands, so its bare form is available as !%s only", spec.name, spec.name)
            return None
        words, name = (spec.name, bare), bare
    return words, name


def slash_command(spec: CommandSpec, name: str, on_slash: OnSlash) -> app_commands.Command[Any, ..., Any]:
    """One spec as a slash command: discord.py reads the options from the callback's
    signature, so the signature is made from the spec's arguments."""

    async def callback(interaction: discord.Interaction, **options: Any) -> None:
        await on_slash(interaction, spec, options)

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
    descriptions = {a.name: _arg_description(a) for a in spec.args}
    if spec.file_help:
        if any(a.name == FILE_OPTION for a in spec.args):
            raise ValueError(f"option {FILE_OPTION!r} is the attached file's; the command has an argument so named")
        # An optional upload: discord.py sends it as an attachment option (type 11).
        annotation: Any = Optional[discord.Attachment]  # noqa: UP045 - discord.py reads typing.Optional
        upload = inspect.Parameter(FILE_OPTION, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=None)
        params.append(upload)
        descriptions[FILE_OPTION] = _describe(spec.file_help, "a file")
    callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    callback.__discord_app_commands_param_description__ = descriptions  # type: ignore[attr-defined]
    callback.__qualname__ = callback.__name__ = f"slash_{spec.name.replace(' ', '_')}"
    description = _describe(spec.help.splitlines()[0] if spec.help else "", spec.name)
    cmd: app_commands.Command[Any, ..., Any] = app_commands.Command(
        name=name, description=description, callback=callback
    )
    for arg in spec.args:
        if arg.complete is not None and arg.kind in ("str", "rest"):
            cmd.autocomplete(arg.name)(_autocompleter(spec, arg))
    return cmd


def _autocompleter(
    spec: CommandSpec, arg: ArgSpec
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


def _report_callback(
    on_report: OnReport,
) -> Callable[[discord.Interaction, discord.Message], Coroutine[Any, Any, None]]:
    # A plain function: discord.py reads the menu's target type (a message) from its annotations.
    async def report_message(interaction: discord.Interaction, message: discord.Message) -> None:
        await on_report(interaction, message)

    return report_message


def command_payload(tree: app_commands.CommandTree, guild: discord.abc.Snowflake | None) -> list[dict[str, Any]]:
    """What a sync would send Discord for one server (or globally), in a stable order."""
    payload = [c.to_dict(tree) for c in tree.get_commands(guild=guild)]
    return sorted(payload, key=lambda c: (c.get("type", 1), c["name"]))


def payload_hash(payload: list[dict[str, Any]]) -> str:
    """A stable fingerprint of a command payload: the same definition hashes the same in
    every run (keys sorted, no ids)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def sync_key(application_id: int, guild: discord.abc.Snowflake | None) -> str:
    """Where the last synced hash is kept (`bot_state`): per application and server."""
    return f"discord.commands.{application_id}.{guild.id if guild else 'global'}"


async def sync_commands(
    tree: app_commands.CommandTree,
    guild_ids: list[int],
    *,
    state: BotState | None = None,
    application_id: int | None = None,
    force: bool = False,
) -> int:
    """Register the tree with Discord: per configured server (at once), else globally.

    With `state`, a server whose commands hash the same as at the last successful sync is
    left alone (Discord rate-limits command registration, and a restart changes nothing);
    `force` (`sendbot discord sync`) syncs regardless. Returns how many syncs were made."""
    targets: list[discord.Object | None] = [discord.Object(id=g) for g in guild_ids] or [None]
    made = 0
    for guild in targets:
        where = f"server {guild.id}" if guild else "all servers (Discord may take up to an hour to show them)"
        key = digest = None
        if state is not None and application_id:
            key = sync_key(application_id, guild)
            digest = payload_hash(command_payload(tree, guild))
            if not force and await _stored(state, key) == digest:
                log.info("slash commands for %s unchanged since the last sync; not synced", where)
                continue
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
            made += 1
            log.info("synced %d slash commands to %s", len(synced), where)
            if state is not None and key is not None and digest is not None:
                try:
                    await state.set(key, digest)
                except Exception:
                    # Only costs a needless sync at the next start.
                    log.warning("could not remember the synced commands' hash", exc_info=True)
    return made


async def _stored(state: BotState, key: str) -> str | None:
    """The hash of the last sync, or None (sync again) if the database cannot say."""
    try:
        return await state.get(key)
    except Exception:
        log.warning("could not read the last synced commands' hash; syncing", exc_info=True)
        return None
