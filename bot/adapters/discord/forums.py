"""Which forum a direct message is for (issue 17).

A report made in a direct message is filed under a server, so that server's moderators see
it. When the bot serves one server that is simply it. When the person is a member of several
of the bot's servers, they are asked, with a select menu, before anything is filed: their
command is held (in memory, for `PICK_TIMEOUT` seconds) until they choose, and then runs as
if typed in that forum. Only commands whose words are private (`private_input`, i.e.
`!report`) ask; others keep the default scope.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence

import aiohttp
import discord

from bot.choices import NOT_YOURS

PICK_TIMEOUT = 600.0
OPTIONS_LIMIT = 25  # Discord's limit on a select menu's options
ASK = "You're in more than one of the forums I serve. Which forum is this report for? Only its moderators will see it."
TIMED_OUT = "I didn't hear which forum this was for, so nothing was sent. Please send it again."

OnPick = Callable[[discord.Interaction, int], Awaitable[None]]


class ForumPicker(discord.ui.View):
    """A select menu of servers for one person; choosing runs `on_pick` once."""

    def __init__(self, forums: Sequence[discord.Guild], *, user_id: int, on_pick: OnPick) -> None:
        super().__init__(timeout=PICK_TIMEOUT)
        self.user_id = user_id
        self.on_pick = on_pick
        self.message: discord.Message | None = None
        self.picked = False
        options = [discord.SelectOption(label=g.name[:100], value=str(g.id)) for g in forums[:OPTIONS_LIMIT]]
        select: discord.ui.Select[ForumPicker] = discord.ui.Select(
            custom_id="sendbot:forum", placeholder="Choose the forum", options=options
        )
        select.callback = self._chosen  # type: ignore[method-assign]
        self.select = select
        self.add_item(select)

    async def _chosen(self, interaction: discord.Interaction) -> None:
        if self.picked:
            await interaction.response.send_message(
                "You've already chosen.", ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
            return
        self.picked = True
        self.stop()
        await self.on_pick(interaction, int(self.select.values[0]))
        self.select.disabled = True
        await self._edit()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.user_id:
            return True
        await interaction.response.send_message(
            NOT_YOURS, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )
        return False

    async def on_timeout(self) -> None:
        if not self.picked:
            self.select.disabled = True
            await self._edit(TIMED_OUT)

    async def _edit(self, content: str | None = None) -> None:
        if self.message is None:
            return
        with contextlib.suppress(discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError):
            if content is None:
                await self.message.edit(view=self)
            else:
                await self.message.edit(content=content, view=self)
