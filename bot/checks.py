"""`sendbot check`: config problems, the core's own checks, and each loaded cog's `check(config)`."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from bot.config import Config

CheckFn = Callable[[Config], tuple[list[str], list[str]]]

# The core's checks, each a module with `check(config) -> (problems, warnings)`.
CORE_CHECK_MODULES: list[str] = [
    "bot.storage_check",  # the database file: readable, writable, not damaged, not from a newer sendbot
    "bot.adapters.slack.checks",
    "bot.adapters.discord.checks",
]


def check_functions(config: Config) -> list[CheckFn]:
    """The core's checks, then those of the cogs `[bot] cogs` loads. Cogs sharing one check
    (rights, timeline and changes all validate the content files) run it once."""
    fns: list[CheckFn] = []
    for name in CORE_CHECK_MODULES:
        fns.append(importlib.import_module(name).check)
    for name in config.bot.cogs:
        fn = getattr(importlib.import_module(name), "check", None)
        if fn is not None and fn not in fns:
            fns.append(fn)
    return fns


def run_checks(config: Config) -> tuple[list[str], list[str]]:
    problems: list[str] = []
    warnings: list[str] = []
    for fn in check_functions(config):
        p, w = fn(config)
        problems += p
        warnings += w
    return problems, warnings
