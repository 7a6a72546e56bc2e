"""!changes: what is proposal and what is law in SEND reform, with dates and sources.

Parents are often told that EHC plans have been abolished or that "the new system has
started". This answer holds the line the content file states: proposals are not law until
Parliament changes it. The text lives in cogs/content/reform.toml with its "as of" date.
"""

from __future__ import annotations

from bot.cog import Cog
from bot.commands import command
from bot.context import CommandContext
from bot.core import BotCore
from bot.markup import escape
from bot.model import Card, CardField, Reply
from cogs.content.check import check
from cogs.content.model import Content, load_for, load_or_exit
from cogs.content.render import CHANGES_COLOUR, SIGNPOST, sources_text
from cogs.content.settings import ContentSettings as SETTINGS
from cogs.timeline.dates import format_long

__all__ = ["SETTINGS", "ChangesCog", "check", "setup"]


class ChangesCog(Cog):
    name = "changes"
    description = "SEND reform: what is proposed and what is law."

    def __init__(self, core: BotCore, content: Content | None = None) -> None:
        super().__init__(core)
        self.content = content or load_for(core.config)

    @command(
        "changes",
        help="SEND reform status: what is only proposed, and the law that still applies.",
        aliases=("reform",),
        examples=("!changes",),
    )
    async def changes(self, ctx: CommandContext) -> Reply:
        return Reply(card=self.changes_card())

    def changes_card(self) -> Card:
        reform = self.content.reform
        status = reform.status
        fields = [
            CardField(
                escape(item.title),
                "\n".join(
                    [
                        f"**When:** {escape(item.when)}",
                        f"**Status:** {escape(item.status)}",
                        item.body.strip(),
                        sources_text(item.sources),
                    ]
                ),
            )
            for item in reform.items
        ]
        fields.append(CardField("The law that applies now", sources_text(status.sources)))
        fields.append(CardField("As of", format_long(reform.as_of), inline=True))
        return Card(
            title=status.title,
            body=status.body.strip(),
            fields=tuple(fields),
            footer=SIGNPOST,
            colour=CHANGES_COLOUR,
        )


def setup(core: BotCore) -> Cog:
    return ChangesCog(core, load_or_exit(core.config))
