"""What a feed's latest items look like through a subscription's filters (nothing posted)."""

from __future__ import annotations

from datetime import tzinfo

from feeds.filters import KeywordFilter
from feeds.model import ParsedFeed
from feeds.render import feed_text, format_date

PREVIEW_ITEMS = 5


def preview_lines(parsed: ParsedFeed, flt: KeywordFilter, tz: tzinfo, limit: int = PREVIEW_ITEMS) -> list[str]:
    """One line per item, newest first as the feed lists them, marked posted or filtered out."""
    lines = []
    for item in parsed.items[:limit]:
        ok = flt.accepts(item.title, item.summary or "")
        mark = "✅ would post" if ok else "✖ filtered out"
        date = format_date(item.published, tz) or "no date"
        title = feed_text(item.title)  # no control characters, links or mentions from the feed
        lines.append(f"- {mark}: **{title}** ({date})")
    return lines


def match_count(parsed: ParsedFeed, flt: KeywordFilter) -> int:
    return sum(1 for it in parsed.items if flt.accepts(it.title, it.summary or ""))
