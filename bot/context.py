"""What a command method receives besides its arguments."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.commands import CommandSpec
from bot.model import Actor, Incoming, Place

if TYPE_CHECKING:
    from bot.core import BotCore


@dataclass
class CommandContext:
    core: BotCore
    incoming: Incoming
    spec: CommandSpec | None
    # Set by a cog (e.g. !report) to ask the adapter to remove the command message, so
    # that what a parent wrote is not left on show in a public channel.
    delete_trigger: bool = False
    # Run once the adapter has delivered the answer (see Outcome.delivered).
    after_reply: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @property
    def author(self) -> Actor:
        return self.incoming.author

    @property
    def place(self) -> Place:
        return self.incoming.place

    @property
    def prefix(self) -> str:
        return self.core.prefix
