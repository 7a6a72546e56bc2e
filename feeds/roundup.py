"""Held posts sent as one message: a digest, or what waited through quiet hours.

Before each delivery run, `gather_due` turns due held posts into round-up deliveries
(storage/feeds/roundups.py, one transaction): always for a digest, and for quiet hours when
more than `ROUNDUP_OVER` waited (three or fewer simply go out one by one, in order).
`render_roundup` is the message: a title saying why, and one line per item, oldest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo

from bot.markup import escape
from bot.model import Card, Reply
from feeds.markdown import cut
from feeds.render import FEED_COLOUR, feed_text, format_date, public_link
from feeds.schedule import ROUNDUP_OVER
from storage.feeds import FeedStore, StoredItem

TITLE_CHARS = 100
LINK_CHARS = 300


async def gather_due(store: FeedStore, now: datetime, platforms: Iterable[str]) -> int:
    """Make the round-ups that are due now; returns how many were made."""
    made = 0
    for due in await store.due_held(now, platforms):
        if due.held == "digest" or due.count > ROUNDUP_OVER:
            made += len(await store.gather(due.subscription_id, due.held, now))
    return made


def _line(item: StoredItem, tz: tzinfo) -> str:
    title = cut(feed_text(item.title or "(untitled)"), TITLE_CHARS)
    url = public_link(item.link)
    text = f"[{title}]({url})" if url and len(url) <= LINK_CHARS else title
    date = format_date(item.published, tz)
    return f"- {text}" + (f" ({date})" if date else "")


def render_roundup(items: Sequence[StoredItem], held: str | None, tz: tzinfo) -> Reply:
    feeds = sorted({i.feed_name for i in items})
    source = feed_text(feeds[0]) if len(feeds) == 1 else "your feeds"
    n = len(items)
    posts = "1 new post" if n == 1 else f"{n} new posts"
    if held == "digest":
        title = f"Digest: {posts} from {source}"
    else:
        title = f"While the channel was quiet: {posts} from {source}"
    body = "\n".join(_line(i, tz) for i in items)
    return Reply(card=Card(title=title, body=body, colour=FEED_COLOUR, footer=escape("Oldest first.")))
