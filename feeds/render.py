"""A feed item as a platform-free Reply: title, link, source, date and a cut summary.

Everything from the feed is untrusted. Titles and names go through bot.markup.escape;
summaries were converted to escaped markup in the parser. On top of that, mention syntax
(@everyone, @here, <@id>, <#id>, <!channel>) is broken with a zero-width space, so even an
adapter that forgot allowed_mentions could not ping anyone from feed text. Adapters still
render mentions inert themselves; this is the second lock on the door.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from bot.markup import escape
from bot.model import Card, Reply
from feeds.markdown import cut
from storage.feeds import StoredItem, from_iso

ZWSP = "\u200b"
_MENTION_RE = re.compile(r"@(everyone|here|channel)\b", re.I)
_RAW_MENTION_RE = re.compile(r"<([@#!])")
FEED_COLOUR = 0x2E7D32
MAX_TITLE = 240


def defang(text: str) -> str:
    """Break mention syntax without changing how the text reads."""
    text = _MENTION_RE.sub(lambda m: f"@{ZWSP}{m.group(1)}", text)
    return _RAW_MENTION_RE.sub(lambda m: f"<{ZWSP}{m.group(1)}", text)


def format_date(value: str | None, tz: tzinfo) -> str | None:
    dt = from_iso(value) if value else None
    if dt is None:
        return None
    local = dt.astimezone(tz)
    return f"{local.day} {local:%b %Y}"


def render_item(
    item: StoredItem,
    *,
    tz: tzinfo,
    summary_chars: int,
    updated: bool = False,
    ping_role: str | None = None,
) -> Reply:
    # Discord caps embed titles at 256 characters; every platform reads better short.
    title = cut(defang(escape(item.title)), MAX_TITLE)
    if updated:
        title = f"Updated: {title}"
    summary = defang(cut(item.summary, summary_chars)) if item.summary else ""
    footer_parts = [defang(escape(item.feed_name))]
    date = format_date(item.published, tz)
    if date:
        footer_parts.append(date)
    card = Card(
        title=title,
        body=summary,
        url=item.link,
        footer=" · ".join(footer_parts),
        colour=FEED_COLOUR,
    )
    return Reply(card=card, ping_role=ping_role)


def render_notice(text: str) -> Reply:
    return Reply(text=text)


def when(dt: datetime | None, tz: tzinfo) -> str:
    """A short local time for status lines: "27 Nov 14:05"."""
    if dt is None:
        return "never"
    local = dt.astimezone(tz)
    return f"{local.day} {local:%b %H:%M}"
