"""`sendbot check` for the feeds section: every configured feed address must be usable.

Platform-specific checks of subscriptions (Discord and Slack ids, mention roles) belong
to those adapters' check modules.
"""

from __future__ import annotations

from bot.config import Config
from feeds.model import FetchError
from feeds.settings import FeedsSettings
from feeds.urls import check_url


def check(config: Config) -> tuple[list[str], list[str]]:
    problems: list[str] = []
    warnings: list[str] = []
    feeds = config.section(FeedsSettings)
    seen: set[tuple[str, str, str, str]] = set()
    for i, sub in enumerate(feeds.subscriptions):
        key = f"feeds.subscriptions.{i}"
        try:
            check_url(sub.url, feeds.allow_private_addresses)
        except FetchError as e:
            problems.append(f"{key}.url: {e.message} ({sub.url})")
        ident = (sub.url, sub.platform, sub.scope, sub.channel)
        if ident in seen:
            problems.append(f"{key}: the same feed is subscribed twice to {sub.platform} channel {sub.channel}")
        seen.add(ident)
    if feeds.allow_private_addresses:
        warnings.append("feeds.allow_private_addresses is on: feeds may reach your own network (for tests only)")
    return problems, warnings
