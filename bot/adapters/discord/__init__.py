"""The Discord adapter: `build(core)` for `bot.app.PLATFORM_ADAPTERS`, and the platform name.

The package, one module per reason to change:
- `adapter.py`   `DiscordAdapter`: connecting, the Message Content fallback, closing;
- `client.py`    the discord.py `Client` subclass, what the bot asks Discord for (intents, invite),
                 and the events: `!commands`, slash commands and the message menu, read into
                 the neutral model and handed to the dispatcher;
- `commands.py`  the slash-command tree built from the command specs, and its sync (only
                 when the definition changed; `sendbot discord sync` forces it);
- `forums.py`    the menu asking which server a report sent in a direct message is for;
- `answer.py`    answering one command (a channel message, or an interaction);
- `messenger.py` the `Messenger`: feed posts with a stable nonce, edits, deletes, DMs;
- `render.py`    `Reply` -> message content and embeds, mentions that ping nobody;
- `checks.py`    `sendbot check` for the `[discord]` settings.

Nothing here is imported eagerly: `sendbot check` imports `checks.py`, which runs this file,
and must not load discord.py. `build` and the names tests use are loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.adapters.discord.adapter import DiscordAdapter as DiscordAdapter
    from bot.adapters.discord.client import invite_permissions as invite_permissions
    from bot.adapters.discord.client import invite_url as invite_url
    from bot.adapters.discord.messenger import delivery_nonce as delivery_nonce
    from bot.core import BotCore

PLATFORM = "discord"

# The names this package has always offered, and the module each now lives in.
_LAZY = {
    "DiscordAdapter": "bot.adapters.discord.adapter",
    "invite_permissions": "bot.adapters.discord.client",
    "invite_url": "bot.adapters.discord.client",
    "delivery_nonce": "bot.adapters.discord.messenger",
}


def build(core: BotCore) -> DiscordAdapter:
    # Imported here, not at the top: see the module docstring.
    from bot.adapters.discord import adapter

    return adapter.DiscordAdapter(core)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
