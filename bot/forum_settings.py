"""Per-forum settings (issue 15): what each Discord server, Slack workspace or the console
sets for itself with `!settings`, over the TOML config's values, which stay the defaults.

The keys are defined where their meaning lives: the core defines `timezone` and
`moderator-role` (BotCore), a cog defines its own (the reports cog: `moderators-channel`,
`show-reporter`) with `core.forum_settings.define(...)`; the settings cog (cogs/settings/)
lists whatever is defined. Values are read many times per command and changed rarely, so each
forum's stored values are cached: a `set` or `reset` through this object replaces the cache
at once; the cache also expires after `ttl` seconds, so a change made by another instance
sharing the database is seen within that time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import Config
from storage.audit import Who
from storage.forum_settings import ForumSettingsRepo, StoredSetting
from storage.handle import Database

# How a value is read from chat and shown (cogs/settings/values.py does both).
Kind = Literal["channel", "role", "timezone", "yesno"]
Source = Literal["forum", "default"]

TIMEZONE = "timezone"
MODERATOR_ROLE = "moderator-role"
YES, NO = "yes", "no"


@dataclass(frozen=True)
class SettingDef:
    """One setting a forum may change.

    `default(platform, scope_id)` is the config's value for that forum, in the stored form
    (a channel id, "yes"), or None when the config gives none; `default_words(platform)`
    says in words what applies then, for a default that is not one value (roles by name);
    `private`: a channel that every member can read is refused."""

    key: str
    kind: Kind
    help: str
    default: Callable[[str, str], str | None]
    default_words: Callable[[str], str] | None = None
    platforms: tuple[str, ...] = ("console", "discord", "slack")
    # A channel members must not be able to read (where reports are shown), where the
    # platform can tell (bot.messenger.ChannelPrivacy).
    private: bool = False


@dataclass(frozen=True)
class Effective:
    """A setting's value for one forum, and where it came from."""

    definition: SettingDef
    value: str | None
    source: Source
    stored: StoredSetting | None = None


class ForumSettings:
    def __init__(self, db: Database, *, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.repo = ForumSettingsRepo(db)
        self.ttl = ttl
        self._clock = clock
        self._defs: dict[str, SettingDef] = {}
        self._cache: dict[tuple[str, str], tuple[float, dict[str, StoredSetting]]] = {}
        self._generation = 0  # changes made through this object, so a slow read is not cached

    # -- the keys --------------------------------------------------------------------

    def define(self, definition: SettingDef) -> None:
        """Add a setting (a cog set up again on the same core replaces its own)."""
        self._defs[definition.key] = definition

    def definitions(self, platform: str | None = None) -> list[SettingDef]:
        """The settings, by name; with `platform`, only those that mean something there."""
        defs = sorted(self._defs.values(), key=lambda d: d.key)
        return [d for d in defs if platform is None or platform in d.platforms]

    def definition(self, key: str) -> SettingDef | None:
        return self._defs.get(key)

    # -- reading ---------------------------------------------------------------------

    async def stored(self, platform: str, scope_id: str) -> dict[str, StoredSetting]:
        """What this forum has set (cached)."""
        key = (platform, scope_id)
        hit = self._cache.get(key)
        if hit is not None and hit[0] > self._clock():
            return hit[1]
        generation = self._generation
        values = await self.repo.all(platform, scope_id)
        # A change made while this read was running may not be in it: use it, don't keep it.
        if generation == self._generation:
            self._cache[key] = (self._clock() + self.ttl, values)
        return values

    async def effective(self, platform: str, scope_id: str, key: str) -> Effective:
        definition = self._defs[key]
        stored = (await self.stored(platform, scope_id)).get(key)
        if stored is not None:
            return Effective(definition, stored.value, "forum", stored)
        return Effective(definition, definition.default(platform, scope_id), "default")

    async def value(self, platform: str, scope_id: str, key: str) -> str | None:
        """The forum's own value, else the config's default (None if neither; a key nobody
        defined, e.g. its cog is not loaded, is None too)."""
        if key not in self._defs:
            return None
        return (await self.effective(platform, scope_id, key)).value

    async def forum_value(self, platform: str, scope_id: str, key: str) -> str | None:
        """The forum's own value only (for a default the caller works out itself)."""
        stored = (await self.stored(platform, scope_id)).get(key)
        return None if stored is None else stored.value

    async def flag(self, platform: str, scope_id: str, key: str) -> bool:
        return await self.value(platform, scope_id, key) == YES

    async def tz(self, platform: str, scope_id: str, fallback: ZoneInfo) -> ZoneInfo:
        """The forum's time zone (`fallback`, the config's, if it has none or it is unknown)."""
        name = await self.forum_value(platform, scope_id, TIMEZONE)
        if not name:
            return fallback
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return fallback

    # -- changing --------------------------------------------------------------------

    async def set(self, who: Who, scope_id: str, key: str, value: str) -> str | None:
        """Store and audit (one transaction); the old value or None. The cache is replaced."""
        if key not in self._defs:
            raise KeyError(key)
        try:
            return await self.repo.set(who, scope_id, key, value)
        finally:
            self.forget(who.platform, scope_id)

    async def reset(self, who: Who, scope_id: str, key: str) -> str | None:
        """Forget the forum's value, audited; the old value, or None if it had none."""
        if key not in self._defs:
            raise KeyError(key)
        try:
            return await self.repo.reset(who, scope_id, key)
        finally:
            self.forget(who.platform, scope_id)

    def forget(self, platform: str, scope_id: str) -> None:
        """Drop the cached values of one forum: the next read asks the database."""
        self._cache.pop((platform, scope_id), None)
        self._generation += 1


def core_settings(config: Config) -> list[SettingDef]:
    """The settings the core itself reads: the forum's time zone and its moderators' role."""

    def role_words(platform: str) -> str:
        if platform == "discord":
            names = ", ".join(config.discord.moderator_roles)
            by_name = f", or a role named {names} (from the config file)" if names else ""
            return f"people who may Manage Messages{by_name}"
        if platform == "slack":
            group = config.slack.moderator_usergroup
            in_group = f", and the user group {group}" if group else ""
            return f"workspace admins and owners, the people the config file names{in_group}"
        return "set when the bot starts"

    return [
        SettingDef(
            TIMEZONE,
            "timezone",
            "the forum's time zone, for dates and times the bot shows (a name such as Europe/London)",
            lambda _p, _s: config.bot.timezone,
        ),
        SettingDef(
            MODERATOR_ROLE,
            "role",
            "who counts as a moderator: a role on Discord, a user group on Slack",
            lambda _p, _s: None,
            role_words,
            platforms=("discord", "slack"),
        ),
    ]
