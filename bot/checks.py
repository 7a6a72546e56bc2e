"""`sendbot check`: config problems, the core's own checks, and each loaded cog's `check(config)`."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from bot.config import Config

CheckFn = Callable[[Config], tuple[list[str], list[str]]]

# The core's checks, each a module with `check(config) -> (problems, warnings)`.
CORE_CHECK_MODULES: list[str] = [
    "bot.storage_check",  # the database file: readable, writable, not damaged, not from a newer sendbot
    "bot.adapters.slack_checks",
    "bot.adapters.discord_checks",
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
    if config.slack_enabled and config.slack.mode == "socket" and not config.slack.app_token:
        problems.append("slack.app_token: Socket Mode needs an app-level token (xapp-…) or SLACK_APP_TOKEN")
    if config.slack_enabled and config.slack.mode == "http" and not config.slack.signing_secret:
        problems.append("slack.signing_secret: HTTP mode needs the signing secret or SLACK_SIGNING_SECRET")
    for fn in check_functions(config):
        p, w = fn(config)
        problems += p
        warnings += w
    return problems, warnings
