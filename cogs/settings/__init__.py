"""Per-forum settings: `!settings`, `!settings set`, `!settings reset` (moderators only).

cog.py holds the commands; values.py reads and shows each kind of value. The settings
themselves, their defaults from the config file and the cache are the core's
(bot/forum_settings.py); the table and its audit are storage/forum_settings.py.
"""

from bot.core import BotCore
from cogs.settings.cog import SettingsCog


def setup(core: BotCore) -> SettingsCog:
    return SettingsCog(core)


__all__ = ["SettingsCog", "setup"]
