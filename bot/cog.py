"""Cog base class: a group of commands plus optional start/stop hooks for background work."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from bot.commands import CommandSpec

if TYPE_CHECKING:
    from bot.core import BotCore


class Cog:
    """Subclass, decorate methods with `@command`, and list the module in `[bot] cogs`
    (bot.config.DEFAULT_COGS for the built-in ones).

    A cog module exposes `setup(core) -> Cog`. Cogs never import a platform library.
    """

    name: str = "cog"
    description: str = ""

    def __init__(self, core: BotCore) -> None:
        self.core = core

    def commands(self) -> list[CommandSpec]:
        """This cog's command specs, bound to this instance."""
        specs = []
        for attr in dir(type(self)):
            fn = getattr(type(self), attr, None)
            spec = getattr(fn, "__command_spec__", None)
            if spec is not None:
                specs.append(dataclasses.replace(spec, callback=getattr(self, attr), cog=self))
        return sorted(specs, key=lambda s: s.name)

    async def on_start(self) -> None:
        """Called once the database is open and adapters are registered."""

    async def on_stop(self) -> None:
        """Called at shutdown, while the adapters are still open: stop background work here
        (let a send in progress finish, briefly)."""

    async def on_platform_ready(self, platform: str) -> None:
        """Called when a platform's adapter has connected (at start, and after reconnecting):
        retry now what was cut off while it was away."""
