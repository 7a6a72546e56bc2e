"""Exceptions cogs raise to tell the central error handler what kind of failure it was.

Only these reach users as text. Anything else is an unexpected error: it is logged with a
reference id and the user sees only that id.
"""

from __future__ import annotations

import secrets

from bot.model import Reply


class BotError(Exception):
    """Base for errors whose message is safe and useful to show to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(BotError):
    """The command text could not be understood; the reply adds the usage line."""


class UserError(BotError):
    """The request was understood but cannot be done (unknown id, nothing to show...)."""


class PermissionDenied(BotError):
    """The user may not run this command."""


class CooldownActive(BotError):
    def __init__(self, retry_after: float) -> None:
        seconds = max(1, int(retry_after + 0.999))
        super().__init__(f"Please wait {seconds} second{'s' if seconds != 1 else ''} before using that again.")
        self.retry_after = retry_after


def new_reference() -> str:
    """Six hex digits: short enough to read out, enough to find one line in a day's log."""
    return secrets.token_hex(3)


def failure_reply(ref: str) -> Reply:
    """The only thing a person sees of an unexpected error: the reference the moderators can
    look up. Written once here so the dispatcher and every adapter say the same thing; the
    caller logs the error with `ref=<ref>` (never the person's text, which may name a child)."""
    text = f"Sorry, something went wrong (ref `{ref}`). The moderators can look this up in the bot's log."
    return Reply(text, ephemeral=True)
