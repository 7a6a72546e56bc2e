"""Cog base class: a group of commands plus optional start/stop hooks for background work."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from bot.commands import ArgSpec, CommandSpec

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
                args = tuple(self._bind_completer(spec, a) for a in spec.args)
                specs.append(dataclasses.replace(spec, callback=getattr(self, attr), cog=self, args=args))
        return sorted(specs, key=lambda s: s.name)

    def _bind_completer(self, spec: CommandSpec, arg: ArgSpec) -> ArgSpec:
        """`autocomplete={"topic": "complete_topic"}` names a method: bind it now, so a typo
        fails when the cog loads rather than when someone types."""
        if not arg.autocomplete:
            return arg
        method = getattr(self, arg.autocomplete, None)
        if not callable(method):
            raise TypeError(f"{spec.name}: autocomplete method {arg.autocomplete!r} is not on {type(self).__name__}")
        return dataclasses.replace(arg, complete=method)

    async def on_start(self) -> None:
        """Called once the database is open and adapters are registered."""

    async def on_stop(self) -> None:
        """Called at shutdown, while the adapters are still open: stop background work here
        (let a send in progress finish, briefly)."""

    async def on_platform_ready(self, platform: str) -> None:
        """Called when a platform's adapter has connected (at start, and after reconnecting):
        retry now what was cut off while it was away."""
