"""Held posts sent as one message: a digest, or what waited through quiet hours.

Before each delivery run, `gather_due` turns due held posts into round-up deliveries
(storage/feeds/roundups.py, one transaction): always for a digest, and for quiet hours when
more than `ROUNDUP_OVER` waited (three or fewer simply go out one by one, in order).
`render_roundup` is the message: a title saying why, and one line per item, oldest first.
A round-up is one delivery, so one message, within `BODY_CHARS` (under the smallest of the
platforms' limits, Discord's 4096-character embed description): when the lines are too long
the longest links are left off (titles stay), and only a list too long even then ends with
how many more there were. Never half a line or half a link.
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
# Room for the list within Discord's 4096-character embed description (Slack splits its
# sections at 3000 by itself), leaving space for the "and N more" line.
BODY_CHARS = 3900


async def gather_due(store: FeedStore, now: datetime, platforms: Iterable[str]) -> int:
    """Make the round-ups that are due now; returns how many were made."""
    made = 0
    for due in await store.due_held(now, platforms):
        if due.held == "digest" or due.count > ROUNDUP_OVER:
            made += len(await store.gather(due.subscription_id, due.held, now))
    return made


def _lines(item: StoredItem, tz: tzinfo) -> tuple[str, str]:
    """The item's line with its link, and without (for when the list must be shorter)."""
    title = cut(feed_text(item.title or "(untitled)"), TITLE_CHARS)
    url = public_link(item.link)
    date = format_date(item.published, tz)
    tail = f" ({date})" if date else ""
    plain = f"- {title}{tail}"
    return (f"- [{title}]({url}){tail}" if url and len(url) <= LINK_CHARS else plain), plain


def render_roundup(items: Sequence[StoredItem], held: str | None, tz: tzinfo) -> Reply:
    feeds = sorted({i.feed_name for i in items})
    source = feed_text(feeds[0]) if len(feeds) == 1 else "your feeds"
    n = len(items)
    posts = "1 new post" if n == 1 else f"{n} new posts"
    if held == "digest":
        title = f"Digest: {posts} from {source}"
    else:
        title = f"While the channel was quiet: {posts} from {source}"
    body = _body([_lines(i, tz) for i in items])
    return Reply(card=Card(title=title, body=body, colour=FEED_COLOUR, footer=escape("Oldest first.")))


def _more(n: int) -> str:
    return f"… and {n} more. The feed's website has them all."


def _body(lines: list[tuple[str, str]]) -> str:
    """Every item's line with its link when they fit BODY_CHARS; else the longest links go
    first (the title stays); and only if even that is too long, whole lines while they fit
    and then how many more there were. Never half a line or half a link."""
    chosen = [linked for linked, _ in lines]
    size = sum(len(line) + 1 for line in chosen)
    by_saving = sorted(range(len(lines)), key=lambda i: len(lines[i][1]) - len(lines[i][0]))
    for i in by_saving:
        if size <= BODY_CHARS:
            break
        size -= len(chosen[i]) - len(lines[i][1])
        chosen[i] = lines[i][1]
    if size <= BODY_CHARS:
        return "\n".join(chosen)
    kept: list[str] = []
    size = len(_more(len(lines)))
    for i, (_, plain) in enumerate(lines):
        if size + len(plain) + 1 > BODY_CHARS:
            kept.append(_more(len(lines) - i))
            break
        kept.append(plain)
        size += len(plain) + 1
    return "\n".join(kept)
