"""!feeds: the moderators' commands for feed subscriptions.

cog.py is the commands and the poll loop's wiring (fetching, parsing and delivery live in the
top-level feeds/ package); check.py tests the configured feed URLs for `sendbot check`;
cli.py is `sendbot feeds ...`. Its `[feeds]` section is `feeds.settings.FeedsSettings` (the
pipeline reads it too, and feeds never import cogs).
"""

from cogs.feeds.check import check
from cogs.feeds.cli import register as register_cli
from cogs.feeds.cog import FeedsCog, setup
from feeds.settings import FeedsSettings as SETTINGS

__all__ = ["SETTINGS", "FeedsCog", "check", "register_cli", "setup"]
