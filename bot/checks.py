"""`sendbot check`: config problems, plus the checks that modules register (the database, content, ...)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from bot.config import Config

# Modules with `check(config) -> tuple[list[str], list[str]]` (problems, warnings), e.g.
# content validation that reports stale reviews.
CHECK_MODULES: list[str] = [
    "bot.storage_check",  # the database file: readable, writable, not damaged, not from a newer sendbot
    "cogs.content_check",
    "cogs.reports",
    "feeds.checks",
    "bot.adapters.slack_checks",
    "bot.adapters.discord_checks",
]

CheckFn = Callable[[Config], tuple[list[str], list[str]]]


def run_checks(config: Config) -> tuple[list[str], list[str]]:
    problems: list[str] = []
    warnings: list[str] = []
    if config.slack_enabled and config.slack.mode == "socket" and not config.slack.app_token:
        problems.append("slack.app_token: Socket Mode needs an app-level token (xapp-…) or SLACK_APP_TOKEN")
    if config.slack_enabled and config.slack.mode == "http" and not config.slack.signing_secret:
        problems.append("slack.signing_secret: HTTP mode needs the signing secret or SLACK_SIGNING_SECRET")
    for name in CHECK_MODULES:
        fn: CheckFn = importlib.import_module(name).check
        p, w = fn(config)
        problems += p
        warnings += w
    return problems, warnings
