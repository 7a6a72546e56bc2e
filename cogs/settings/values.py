"""What `!settings set` accepts for each kind of setting, and how a stored value is shown.

Each reader turns what a moderator typed into the stored form, or raises `UserError` with a
short reason (nothing is changed then). A channel or role is also checked against the forum
when the platform's adapter can say (`bot.messenger.ChannelDirectory`, `RoleDirectory`):
Discord's server cache for both, Slack's user groups. `here` names the channel the command
was typed in, which works on every platform (Slack's message text carries a channel's name,
not its id, and the bot may not list channels).
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Awaitable
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import UserError
from bot.forum_settings import NO, YES, Kind
from bot.markup import channel as channel_ref
from bot.markup import escape
from bot.messenger import ChannelDirectory, ChannelPrivacy, RoleDirectory
from bot.model import Place

log = logging.getLogger(__name__)
T = TypeVar("T")

# Discord: <#123> or the id. Slack: <#C123|name>, <#C123> or the id. The console: a name.
_DISCORD_CHANNEL = re.compile(r"(?:<#(\d{1,20})>|(\d{1,20}))")
_SLACK_CHANNEL = re.compile(r"(?:<#([CG][A-Z0-9]{2,30})(?:\|[^>]{0,80})?>|([CG][A-Z0-9]{2,30}))")
_CONSOLE_CHANNEL = re.compile(r"#?([a-z0-9][a-z0-9_-]{0,79})")
# Discord: <@&123> or the id. Slack, a user group: <!subteam^S123|@mods>, <!subteam^S123> or the id.
_DISCORD_ROLE = re.compile(r"(?:<@&(\d{1,20})>|(\d{1,20}))")
_SLACK_GROUP = re.compile(r"(?:<!subteam\^(S[A-Z0-9]{2,30})(?:\|[^>]{0,80})?>|(S[A-Z0-9]{2,30}))")
_ROLE_NAME = re.compile(r"@([^\s@<>#][^<>#]{0,99})")
_HERE = {"here", "this", "this channel"}

_YES = {"yes", "y", "on", "true", "1"}
_NO = {"no", "n", "off", "false", "0"}
# Quotes a value may be typed in (phones turn " into smart quotes), taken off the ends.
_QUOTES = "\"'`\u201c\u201d\u2018\u2019\u00ab\u00bb"
# Who a moderators' role must never be: every member.
_EVERYONE = {"@everyone", "@here", "everyone", "<!everyone>", "<!here>", "<!channel>"}

# Time zone names that are files of the time zone database, not places.
_NOT_ZONES = {"localtime", "factory", "posixrules"}
# Regions whose zones are named for a city (Europe/London): "London" alone is enough.
_REGIONS: tuple[str, ...] = ("Africa/", "America/", "Antarctica/", "Arctic/", "Asia/", "Atlantic/")
_REGIONS += ("Australia/", "Europe/", "Indian/", "Pacific/")
# What people in the UK and Ireland call their time, which is not a zone's name.
_UK = "Europe/London"
_ZONE_WORDS = {
    **dict.fromkeys(("uk", "england", "britain", "great britain", "united kingdom", "scotland", "wales"), _UK),
    **dict.fromkeys(("northern ireland", "bst", "british summer time", "uk time", "british time"), _UK),
    **dict.fromkeys(("ireland", "republic of ireland", "irish time"), "Europe/Dublin"),
}
# Zones that never change for summer time, though a UK forum may think they do.
_NO_SUMMER_TIME = {"gmt", "etc/gmt", "gmt0", "etc/gmt0", "gmt+0", "gmt-0", "etc/gmt+0", "etc/gmt-0"}
_NO_SUMMER_TIME |= {"greenwich", "etc/greenwich"}

_CHANNEL_HELP = {
    "discord": "Type # and pick the channel, or say `here` in that channel.",
    "slack": "Say `here` in that channel, or give the channel's id (such as C0123ABC).",
    "console": "Give the channel's name, such as general.",
}
_ROLE_HELP = {
    "discord": "Type @ and pick the role, or give its id.",
    "slack": "On Slack this is a user group: type @ and pick it, or give its id (such as S0123ABC).",
}


@dataclass(frozen=True)
class Where:
    """The forum and channel a command was typed in, and what the platform can look up."""

    place: Place
    directory: object  # the platform's Messenger; maybe a ChannelDirectory, a RoleDirectory

    @property
    def platform(self) -> str:
        return self.place.platform

    @property
    def scope_id(self) -> str:
        return self.place.scope_id


def _first(m: re.Match[str] | None) -> str | None:
    return None if m is None else next(g for g in m.groups() if g)


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    return {z.lower(): z for z in available_timezones()}


async def _ask(call: Awaitable[T]) -> T:
    """A platform lookup; a failure is the platform's, and says so, rather than "not found"."""
    try:
        return await call
    except Exception as e:
        log.warning("settings: could not look up a channel or role (%s)", type(e).__name__)
        raise UserError("I couldn't check that with the platform just now. Nothing changed. Try again soon.") from None


async def read(kind: Kind, text: str, where: Where, *, private: bool = False) -> str:
    """The stored form of `text` for a setting of this kind in this forum, or a UserError
    (`private`: a channel every member can read is refused, where the platform can tell)."""
    text = text.strip().strip(_QUOTES).strip()
    if kind in ("yesno", "timezone"):
        text = text.rstrip(".!").strip()  # "Yes." is yes
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
        return await _read_channel(text, where, private=private)
    return await _read_role(text, where)


@lru_cache(maxsize=1)
def _cities() -> dict[str, list[str]]:
    """Each city's zones by the city's name in lower case, with spaces ("new york")."""
    found: dict[str, list[str]] = {}
    for zone in sorted(available_timezones()):
        if zone.startswith(_REGIONS):
            found.setdefault(zone.rsplit("/", 1)[-1].lower().replace("_", " "), []).append(zone)
    return found


def _guesses(text: str) -> list[str]:
    """Zones someone may have meant by `text`, best first (none for a mere guess)."""
    word = " ".join(text[:60].lower().replace("_", " ").split())
    if word in _ZONE_WORDS:
        return [_ZONE_WORDS[word]]
    close = difflib.get_close_matches(word.replace(" ", "_"), list(_zones()), n=3, cutoff=0.8)
    towns = difflib.get_close_matches(word, list(_cities()), n=3, cutoff=0.8)
    names = [_zones()[z] for z in close if z not in _NOT_ZONES] + [z for t in towns for z in _cities()[t]]
    return list(dict.fromkeys(names))[:3]


def _read_zone(text: str) -> str:
    name = _zones().get(text.lower())
    city = _cities().get(" ".join(text.lower().replace("_", " ").split()), [])
    if name is None and len(city) == 1:
        name = city[0]  # "London" is Europe/London: the answer names it in full
    if name is None or name.lower() in _NOT_ZONES:
        guesses = city or _guesses(text)
        meant = " or ".join(f"`{g}`" for g in guesses)
        hint = f"Did you mean {meant}?" if guesses else "Use a name such as Europe/London or America/New_York."
        raise UserError(f"I don't know the time zone `{escape(text[:40])}`. {hint} Nothing changed.")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"The time zone `{escape(name)}` cannot be loaded here. Try another name.") from None
    return name


async def _read_channel(text: str, where: Where, *, private: bool) -> str:
    pattern = {"discord": _DISCORD_CHANNEL, "slack": _SLACK_CHANNEL}.get(where.platform, _CONSOLE_CHANNEL)
    # `here` is checked too: a slash command answers even where the bot may not post.
    here = text.lower() in _HERE
    found = where.place.id if here else _first(pattern.fullmatch(text))  # (a DM is refused before)
    if found is None:
        raise UserError(f"That is not a channel I can use. {_CHANNEL_HELP.get(where.platform, '')}".strip())
    directory = where.directory
    if isinstance(directory, ChannelDirectory) and await _ask(directory.channel_name(where.scope_id, found)) is None:
        raise UserError(
            "I can't post in that channel, or it is not in this forum. "
            "Pick a channel here where I may send messages. Nothing changed."
        )
    readable: bool | None = None
    if private and isinstance(directory, ChannelPrivacy):
        readable = await _ask(directory.everyone_can_read(where.scope_id, found))
    if readable:
        raise UserError(
            "Everyone in this forum can read that channel, and reports would be shown there. "
            "Pick a channel that only moderators can see. Nothing changed."
        )
    return found


def note(kind: Kind, value: str) -> str:
    """Something a moderator should know about the value just set ("" when nothing)."""
    if kind == "timezone" and value.lower() in _NO_SUMMER_TIME:
        return f"Note: {value} stays the same all year. For UK time with summer time, use {_UK}."
    return ""


def _not_everyone() -> UserError:
    return UserError(
        "That would make every member a moderator. Pick a role that only your moderators have. Nothing changed."
    )


async def _read_role(text: str, where: Where) -> str:
    pattern = {"discord": _DISCORD_ROLE, "slack": _SLACK_GROUP}.get(where.platform)
    if pattern is None:
        raise UserError("There are no roles here.")
    if text.lower() in _EVERYONE:
        raise _not_everyone()
    directory = where.directory if isinstance(where.directory, RoleDirectory) else None
    found = _first(pattern.fullmatch(text))
    if found is not None and where.platform == "discord" and found == where.scope_id:
        raise _not_everyone()  # on Discord, @everyone's id is the server's
    named = _ROLE_NAME.fullmatch(text)
    if found is None and named is not None and directory is not None:
        # A role typed as plain @name (Slack writes a mention so; Discord a role nobody may mention).
        found = await _ask(directory.find_role(where.scope_id, named.group(1).strip()))
        if found is None:
            raise UserError(
                f"I can't find one role called `{escape(text[:60])}` in this forum. {_ROLE_HELP[where.platform]}"
            )
        return found
    if found is None:
        raise UserError(f"That is not a role. {_ROLE_HELP[where.platform]}")
    if directory is not None and await _ask(directory.role_name(where.scope_id, found)) is None:
        raise UserError("I can't find that role in this forum. Pick one of this forum's roles.")
    return found


async def show(kind: Kind, value: str, where: Where) -> str:
    """A stored value in words (a channel as a link the surface renders)."""
    if kind == "channel":
        return channel_ref(value)
    if kind == "role":
        name = None
        if isinstance(where.directory, RoleDirectory):
            try:
                name = await where.directory.role_name(where.scope_id, value)
            except Exception:
                name = None  # only for showing: the id alone will do
        what = "user group" if where.platform == "slack" else "role"
        return f"the {what} {escape(name)} ({value})" if name else f"the {what} {value}"
    return escape(value)
