"""The Slack adapter: `build(core)` for `bot.app.PLATFORM_ADAPTERS`.

The package, one module per reason to change:
- `app.py`       `SlackAdapter`: slack-bolt's AsyncApp in Socket Mode or signed HTTP, its
                 listeners, starting and stopping;
- `commands.py`  the ways a command arrives (`!commands` typed in a channel, slash commands,
                 the "Report misinformation" message shortcut), read for the dispatcher;
- `install.py`   several workspaces through OAuth: bolt's stores, each workspace's token;
- `home.py`      the App Home: the Home tab, its "Report misinformation" form (a modal);
- `answer.py`    answering one command: ephemeral, response_url, a DM, or the channel;
- `messenger.py` the `Messenger` (feed posts, edits, deletes, DMs) and every Web API call:
                 paced, retried after a 429, errors as `DeliveryError`;
- `blocks.py`    `Reply` -> Block Kit, split to Slack's limits;
- `people.py`    display names and who is a moderator;
- `pacing.py`    about one post per second per channel;
- `text.py`      Slack's inbound encoding, undone;
- `checks.py`    `sendbot check` for the `[slack]` settings, and the token rules.

Nothing here is imported eagerly: `sendbot check` imports `checks.py`, which runs this file,
and must not load slack-bolt. `build` and the names tests use are loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.adapters.slack.app import SlackAdapter as SlackAdapter
    from bot.adapters.slack.app import SlackConfigError as SlackConfigError
    from bot.adapters.slack.commands import CATCH_ALL_COMMAND as CATCH_ALL_COMMAND
    from bot.adapters.slack.commands import REPORT_SHORTCUT_ID as REPORT_SHORTCUT_ID
    from bot.core import BotCore

# The names this package has always offered, and the module each now lives in.
_LAZY = {
    "SlackAdapter": "bot.adapters.slack.app",
    "SlackConfigError": "bot.adapters.slack.app",
    "CATCH_ALL_COMMAND": "bot.adapters.slack.commands",
    "REPORT_SHORTCUT_ID": "bot.adapters.slack.commands",
}


def build(core: BotCore) -> SlackAdapter:
    # Imported here, not at the top: see the module docstring.
    from bot.adapters.slack import app

    return app.SlackAdapter(core)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
