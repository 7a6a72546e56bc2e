"""`sendbot check` for Discord settings: catches ids that can't work before the bot runs.

No discord.py import: checking a config file should not need the client library loaded.
"""

from __future__ import annotations

import re

from bot.config import Config
from cogs.reports.settings import ReportsSettings
from feeds.settings import FeedsSettings

_SNOWFLAKE = re.compile(r"^\d{15,21}$")
_MASS = {"everyone", "@everyone", "here", "@here"}


def check(config: Config) -> tuple[list[str], list[str]]:
    problems: list[str] = []
    warnings: list[str] = []
    d = config.discord
    if config.discord_enabled and not d.message_content:
        warnings.append("discord.message_content is false: !commands are off on Discord, slash commands only")
    for i, gid in enumerate(d.guild_ids):
        if not _SNOWFLAKE.match(str(gid)):
            problems.append(f"discord.guild_ids.{i}: {gid} is not a Discord server ID (Copy Server ID)")
    for i, sub in enumerate(config.section(FeedsSettings).subscriptions):
        if sub.platform != "discord":
            continue
        key = f"feeds.subscriptions.{i}"
        if not _SNOWFLAKE.match(sub.scope):
            problems.append(f"{key}.scope: {sub.scope!r} is not a Discord server ID (Copy Server ID)")
        if not _SNOWFLAKE.match(sub.channel):
            problems.append(f"{key}.channel: {sub.channel!r} is not a Discord channel ID (Copy Channel ID)")
        role = (sub.mention_role or "").strip()
        if role.lower() in _MASS or role == sub.scope:
            problems.append(f"{key}.mention_role: the bot never pings @everyone or @here; name a role instead")
    for i, mc in enumerate(config.section(ReportsSettings).moderator_channels):
        if mc.platform == "discord" and not (_SNOWFLAKE.match(mc.scope) and _SNOWFLAKE.match(mc.channel)):
            problems.append(f"reports.moderator_channels.{i}: Discord needs the server ID and channel ID")
    return problems, warnings
