"""!help: generated from the command specs, so it can never drift from what exists."""

from __future__ import annotations

from rapidfuzz import fuzz, process

from bot.cog import Cog
from bot.commands import CommandSpec, Rest, command
from bot.context import CommandContext
from bot.core import BotCore
from bot.errors import UserError
from bot.model import Card, CardField, Reply
from cogs.content.render import SIGNPOST


class HelpCog(Cog):
    name = "help"
    description = "How to use the bot."

    @command(
        "help",
        help="List the commands, or explain one: `!help timeline`.",
        aliases=("commands",),
        args_help={"topic": "a command name, e.g. rights"},
        examples=("!help", "!help rights"),
    )
    async def help(self, ctx: CommandContext, topic: Rest = "") -> Reply:  # type: ignore[assignment]
        dispatcher = self.core.dispatcher
        p = ctx.prefix
        if topic:
            name = topic.strip().lstrip(p).lower()
            spec = dispatcher.get(name)
            if spec is None or (spec.hidden and not ctx.author.is_moderator):
                hint = self._suggest(name, ctx)
                raise UserError(f"There is no command called `{p}{name[:30]}`.{hint} Type `{p}help` for the list.")
            return Reply(card=self._detail(spec, ctx))
        lines = []
        mod_lines = []
        seen_groups: set[str] = set()
        for spec in dispatcher.specs:
            if spec.hidden:
                continue
            top = spec.words[0]
            if spec.parent:
                # A group shows once; `!help feeds` lists its subcommands.
                if top in seen_groups or dispatcher.get(top) is not None:
                    continue
                seen_groups.add(top)
            line = f"`{p}{spec.name}` – {spec.help.splitlines()[0]}"
            if spec.moderator_only:
                mod_lines.append(line)
            else:
                lines.append(line)
        fields: list[CardField] = []
        if ctx.author.is_moderator and mod_lines:
            fields.append(CardField("For moderators", "\n".join(mod_lines)))
        return Reply(
            card=Card(
                title="SEND forum bot: commands",
                body="\n".join(lines) + f"\n\nType `{p}help <command>` for details.",
                fields=tuple(fields),
                footer=SIGNPOST,
            )
        )

    def _suggest(self, name: str, ctx: CommandContext) -> str:
        """' Did you mean `!help timeline`?' for a near miss, as for an unknown command."""
        names = [
            n
            for spec in self.core.dispatcher.specs
            if not spec.hidden and (ctx.author.is_moderator or not spec.moderator_only)
            for n in (spec.name, *spec.aliases)
        ]
        match = process.extractOne(" ".join(name.split()), names, scorer=fuzz.ratio, score_cutoff=60)
        return f" Did you mean `{ctx.prefix}help {match[0]}`?" if match else ""

    def _detail(self, spec: CommandSpec, ctx: CommandContext) -> Card:
        p = ctx.prefix
        fields = [CardField("Usage", f"`{spec.usage(p)}`")]
        described = [a for a in spec.args if a.help]
        if described:
            fields.append(CardField("Arguments", "\n".join(f"`{a.name}`: {a.help}" for a in described)))
        if spec.file_help:
            # Where the file goes differs by app: attached to the message, or the slash
            # command's own `file` box on Discord (bot/adapters/discord/commands.py).
            where = f"Attach {spec.file_help} to your message. With Discord's `/` commands, use the `file` box."
            fields.append(CardField("File", where))
        if spec.aliases:
            fields.append(CardField("Also", ", ".join(f"`{p}{a}`" for a in spec.aliases)))
        subs = [s for s in self.core.dispatcher.subcommands(spec.name) if not s.hidden]
        if subs:
            lines = [f"`{s.usage(p)}` – {s.help.splitlines()[0]}" for s in subs]
            fields.append(CardField("Subcommands", "\n".join(lines)))
        if spec.examples:
            fields.append(CardField("Examples", "\n".join(f"`{e}`" for e in spec.examples)))
        if spec.moderator_only:
            fields.append(CardField("Who", "Moderators only"))
        return Card(title=f"{p}{spec.name}", body=spec.help, fields=tuple(fields))


def setup(core: BotCore) -> Cog:
    return HelpCog(core)
