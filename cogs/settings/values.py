"""What `!settings set` accepts for each kind of setting, and how a stored value is shown.

Each reader turns what a moderator typed into the stored form, or raises `UserError` with a
short reason (nothing is changed then). A channel or role is also checked against the forum,
when the platform's adapter can say (`bot.messenger.Directory`): Discord's server, for one.
"""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import UserError
from bot.forum_settings import NO, YES, Kind
from bot.markup import channel as channel_ref
from bot.markup import escape
from bot.messenger import Directory

# Discord: <#123> or the id. Slack: <#C123|name>, <#C123> or the id. The console: a name.
_DISCORD_CHANNEL = re.compile(r"^(?:<#(\d{1,20})>|(\d{1,20}))$")
_SLACK_CHANNEL = re.compile(r"^(?:<#([CG][A-Z0-9]{2,30})(?:\|[^>]{0,80})?>|([CG][A-Z0-9]{2,30}))$")
_CONSOLE_CHANNEL = re.compile(r"^#?([a-z0-9][a-z0-9_-]{0,79})$")
# Discord: <@&123> or the id. Slack, a user group: <!subteam^S123|@mods>, <!subteam^S123> or the id.
_DISCORD_ROLE = re.compile(r"^(?:<@&(\d{1,20})>|(\d{1,20}))$")
_SLACK_GROUP = re.compile(r"^(?:<!subteam\^(S[A-Z0-9]{2,30})(?:\|[^>]{0,80})?>|(S[A-Z0-9]{2,30}))$")

_YES = {"yes", "y", "on", "true", "1"}
_NO = {"no", "n", "off", "false", "0"}

_CHANNEL_HELP = {
    "discord": "Name it as a channel link (type # and pick it) or its id.",
    "slack": "Name it as a channel link (type # and pick it) or its id, such as C0123ABC.",
    "console": "Give the channel's name, such as general.",
}
_ROLE_HELP = {
    "discord": "Name it as a role mention (type @ and pick the role) or its id.",
    "slack": "On Slack this is a user group: mention it (type @ and pick it) or give its id, such as S0123ABC.",
}


def _first(m: re.Match[str] | None) -> str | None:
    return None if m is None else next(g for g in m.groups() if g)


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    return {z.lower(): z for z in available_timezones()}


async def read(kind: Kind, text: str, *, platform: str, scope_id: str, directory: object) -> str:
    """The stored form of `text` for a setting of this kind in this forum, or a UserError."""
    text = text.strip()
    if not text:
        raise UserError("Give a value after the setting's name.")
    if kind == "yesno":
        word = text.lower()
        if word in _YES:
            return YES
        if word in _NO:
            return NO
        raise UserError(f"`{escape(text[:20])}` is not yes or no. Say `yes` or `no`.")
    if kind == "timezone":
        return _read_zone(text)
    if kind == "channel":
        return await _read_channel(text, platform, scope_id, directory)
    return await _read_role(text, platform, scope_id, directory)


def _read_zone(text: str) -> str:
    name = _zones().get(text.lower())
    if name is None:
        raise UserError(
            f"I don't know the time zone `{escape(text[:40])}`. Use a name such as Europe/London or America/New_York."
        )
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"The time zone `{escape(name)}` cannot be loaded here. Try another name.") from None
    return name


async def _read_channel(text: str, platform: str, scope_id: str, directory: object) -> str:
    pattern = {"discord": _DISCORD_CHANNEL, "slack": _SLACK_CHANNEL}.get(platform, _CONSOLE_CHANNEL)
    found = _first(pattern.fullmatch(text))
    if found is None:
        raise UserError(f"That is not a channel. {_CHANNEL_HELP.get(platform, '')}".strip())
    if isinstance(directory, Directory) and await directory.channel_name(scope_id, found) is None:
        raise UserError("I can't find that channel in this forum, or I can't see it. Pick a channel here.")
    return found


async def _read_role(text: str, platform: str, scope_id: str, directory: object) -> str:
    pattern = {"discord": _DISCORD_ROLE, "slack": _SLACK_GROUP}.get(platform)
    if pattern is None:
        raise UserError("There are no roles here.")
    found = _first(pattern.fullmatch(text))
    if found is None:
        raise UserError(f"That is not a role. {_ROLE_HELP[platform]}")
    if isinstance(directory, Directory) and await directory.role_name(scope_id, found) is None:
        raise UserError("I can't find that role in this forum. Pick one of this forum's roles.")
    return found


async def show(kind: Kind, value: str, *, platform: str, scope_id: str, directory: object) -> str:
    """A stored value in words (a channel as a link the surface renders)."""
    if kind == "channel":
        return channel_ref(value)
    if kind == "role":
        name = await directory.role_name(scope_id, value) if isinstance(directory, Directory) else None
        what = "user group" if platform == "slack" else "role"
        return f"the {what} {escape(name)} ({value})" if name else f"the {what} {value}"
    return escape(value)
