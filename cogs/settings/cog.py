"""`!settings`: a forum's moderators see and change the forum's own settings in chat.

Which settings exist is whatever the core and the loaded cogs define (bot/forum_settings.py);
this cog only shows them, reads new values (values.py) and stores them, audited. A value
not set here is the config file's, which stays each setting's default.
"""

from __future__ import annotations

import difflib

from bot.cog import Cog
from bot.commands import Rest, command
from bot.context import CommandContext
from bot.errors import UserError
from bot.forum_settings import Effective, SettingDef
from bot.markup import escape
from bot.model import Card, CardField, Reply
from cogs.settings import values

_NAME_HELP = {"name": "which setting, e.g. timezone (see `!settings`)"}


class SettingsCog(Cog):
    name = "settings"
    description = "This forum's own settings, changed by its moderators."

    @command(
        "settings",
        help="Show this forum's settings and where each comes from. Change one with `!settings set`.",
        aliases=("settings show",),
        moderator_only=True,
        examples=("!settings", "!settings set timezone Europe/London", "!settings reset timezone"),
    )
    async def settings(self, ctx: CommandContext, what: Rest = "") -> Reply:  # type: ignore[assignment]
        p = ctx.prefix
        lead = ""
        if what.strip():
            lead = f"I don't know `{p}settings {escape(what.split()[0][:20])}`. "
        fields = [await self._field(ctx, d) for d in self._defs(ctx)]
        body = (
            f"{lead}**This forum** means a moderator set it here. **Default** means it comes from "
            f"the bot's config file. Change one: `{p}settings set <name> <value>`. "
            f"Go back to the default: `{p}settings reset <name>`."
        )
        return Reply(card=Card(title="Settings for this forum", body=body, fields=tuple(fields)), ephemeral=True)

    @command(
        "settings set",
        help="Change one of this forum's settings: `!settings set <name> <value>`.",
        moderator_only=True,
        args_help={**_NAME_HELP, "value": "the new value: a channel, a role, a time zone, or yes/no"},
        autocomplete={"name": "complete_key"},
        examples=(
            "!settings set moderators-channel #mods",
            "!settings set moderator-role @Moderators",
            "!settings set timezone Europe/London",
            "!settings set show-reporter no",
        ),
    )
    async def settings_set(self, ctx: CommandContext, name: str, value: Rest) -> Reply:
        definition, typed = self._name_and_value(ctx, name, value)
        self._not_in_a_dm(ctx)
        place = ctx.place
        where = self._where(ctx)
        stored = await values.read(definition.kind, typed, where, private=definition.private)
        shown = await values.show(definition.kind, stored, where)
        if await self.core.forum_settings.forum_value(place.platform, place.scope_id, definition.key) == stored:
            return Reply(f"`{definition.key}` is already {shown} for this forum. Nothing changed.", ephemeral=True)
        await self.core.forum_settings.set(ctx.author, place.scope_id, definition.key, stored)
        note = values.note(definition.kind, stored)
        done = f"Done. `{definition.key}` is now {shown} for this forum."
        return Reply(f"{done}\n{note}" if note else done, ephemeral=True)

    @command(
        "settings reset",
        help="Go back to the default for one setting: `!settings reset <name>`.",
        moderator_only=True,
        args_help=_NAME_HELP,
        autocomplete={"name": "complete_key"},
        examples=("!settings reset timezone",),
    )
    async def settings_reset(self, ctx: CommandContext, name: Rest) -> Reply:
        definition = self._definition(ctx, name)
        self._not_in_a_dm(ctx)
        old = await self.core.forum_settings.reset(ctx.author, ctx.place.scope_id, definition.key)
        now = await self._words(ctx, await self.core.forum_settings.effective(*self._scope(ctx), definition.key))
        if old is None:
            return Reply(f"`{definition.key}` was not set for this forum. It is the default: {now}.", ephemeral=True)
        return Reply(f"Done. `{definition.key}` is back to the default: {now}.", ephemeral=True)

    async def complete_key(self, partial: str) -> list[tuple[str, str]]:
        keys = [d.key for d in self.core.forum_settings.definitions()]
        return [(k, k) for k in keys if partial.lower() in k][:25]

    # -- helpers ---------------------------------------------------------------------

    def _where(self, ctx: CommandContext) -> values.Where:
        return values.Where(ctx.place, self.core.messengers.get(ctx.place.platform))

    def _scope(self, ctx: CommandContext) -> tuple[str, str]:
        return ctx.place.platform, ctx.place.scope_id

    def _defs(self, ctx: CommandContext) -> list[SettingDef]:
        return self.core.forum_settings.definitions(ctx.place.platform)

    def _name_and_value(self, ctx: CommandContext, name: str, value: str) -> tuple[SettingDef, str]:
        """The setting and its new value, when the name was typed as two words ("time zone",
        "show reporter"): the value's first word may be the name's second half."""
        known = {d.key: d for d in self._defs(ctx)}
        first, _, rest = value.strip().partition(" ")
        if _key(name) not in known and rest.strip():
            for joined in (f"{_key(name)}-{_key(first)}", f"{_key(name)}{_key(first)}"):
                if joined in known:
                    return known[joined], rest
        return self._definition(ctx, name, also=f"{name}-{first}"), value

    def _definition(self, ctx: CommandContext, key: str, *, also: str = "") -> SettingDef:
        wanted = _key(key)
        # A name in two words ("show reporter", "time zone") is the setting of either spelling.
        spellings = {wanted, "-".join(wanted.split()), "".join(wanted.split())}
        for d in self._defs(ctx):
            if d.key in spellings:
                return d
        keys = [d.key for d in self._defs(ctx)]
        names = ", ".join(f"`{k}`" for k in keys)
        if self.core.forum_settings.definition(wanted) is not None:
            raise UserError(f"`{wanted}` means nothing here. Settings you can change: {names}.")
        close = [*difflib.get_close_matches(_key(also), keys, n=1, cutoff=0.85)] if also else []
        close = close or difflib.get_close_matches(wanted, keys, n=1, cutoff=0.8)
        meant = f"Did you mean `{close[0]}`? " if close else ""
        raise UserError(f"There is no setting called `{escape(key[:40])}`. {meant}Settings you can change: {names}.")

    def _not_in_a_dm(self, ctx: CommandContext) -> None:
        if ctx.place.is_direct:
            raise UserError("Change settings in one of the forum's channels, not in a direct message.")

    async def _field(self, ctx: CommandContext, definition: SettingDef) -> CardField:
        effective = await self.core.forum_settings.effective(*self._scope(ctx), definition.key)
        where = "this forum" if effective.source == "forum" else "default"
        value = f"{await self._words(ctx, effective)} ({where})\n{definition.help}"
        return CardField(definition.key, value)

    async def _words(self, ctx: CommandContext, effective: Effective) -> str:
        d = effective.definition
        if effective.value is None:
            return d.default_words(ctx.place.platform) if d.default_words else "not set"
        return await values.show(d.kind, effective.value, self._where(ctx))


def _key(typed: str) -> str:
    """A setting's name as typed ("Show_Reporter") in its own form ("show-reporter")."""
    return typed.strip().lower().replace("_", "-")
