"""Choices (`bot.model.Choice`) as Discord buttons: a `discord.ui.View` under the reply.

Only the person the reply answers can press them (`interaction_check`; anyone else is told so,
privately); a press sends the choice's token to the core (`Dispatcher.choose`), which alone
knows what it means. After a press, and when the view times out with the offer, the buttons are
greyed out where the message can still be edited.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import aiohttp
import discord

from bot.choices import NOT_YOURS
from bot.markup import to_plain
from bot.model import Choice

LABEL_LIMIT = 80  # Discord's limit for a button's label
CUSTOM_ID_LIMIT = 100
BUTTONS_LIMIT = 25  # five rows of five
DEFAULT_TIMEOUT = 600.0

OnChoice = Callable[[discord.Interaction, str], Awaitable[None]]
ViewMaker = Callable[[Sequence[Choice]], "ChoiceView | None"]

_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "danger": discord.ButtonStyle.danger,
}


def timeout_for(choices: Sequence[Choice], now: datetime) -> float:
    """Seconds until the first of these offers runs out (the view's timeout)."""
    ends = [c.expires_at for c in choices if c.expires_at is not None]
    if not ends:
        return DEFAULT_TIMEOUT
    return max(1.0, (min(ends) - now).total_seconds())


class ChoiceView(discord.ui.View):
    """Buttons for one person; a press is handed to `on_choice` with the button's token."""

    def __init__(self, choices: Sequence[Choice], *, user_id: int, on_choice: OnChoice, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.user_id = user_id
        self.on_choice = on_choice
        # The message the buttons are on, once sent: greyed out there when the view times out.
        self.message: Any = None
        for choice in list(choices)[:BUTTONS_LIMIT]:
            label = to_plain(choice.label).strip() or "…"
            self.add_item(
                _ChoiceButton(
                    choice.token,
                    label=label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1] + "…",
                    style=_STYLES.get(choice.style, discord.ButtonStyle.secondary),
                    custom_id=f"sendbot:{choice.token}"[:CUSTOM_ID_LIMIT],
                )
            )

    async def pressed(self, interaction: discord.Interaction, token: str) -> None:
        # The view stays listening until it times out, so a second press is answered by the
        # core ("already used") rather than Discord's "This interaction failed"; the buttons
        # are greyed out, as the core has used up the whole set.
        await self.on_choice(interaction, token)
        await self.grey_out()

    async def grey_out(self) -> None:
        """Show the buttons as no longer working, where the message can still be edited."""
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        if self.message is not None:
            with contextlib.suppress(discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError):
                await self.message.edit(view=self)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.user_id:
            return True
        await interaction.response.send_message(
            NOT_YOURS, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )
        return False

    async def on_timeout(self) -> None:
        await self.grey_out()


class _ChoiceButton(discord.ui.Button[ChoiceView]):
    def __init__(self, token: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.token = token

    async def callback(self, interaction: discord.Interaction) -> None:
        if self.view is not None:
            await self.view.pressed(interaction, self.token)


def sent_message(result: Any) -> Any:
    """The message a send returned (an interaction's first answer returns it as `resource`)."""
    resource = getattr(result, "resource", None)
    return (
        resource if isinstance(resource, discord.Message) else (result if isinstance(result, discord.Message) else None)
    )
