"""A feed item as a platform-free Reply: title, link, source, date and a cut summary.

Everything from the feed is untrusted. Titles, names and summaries lose control, bidi and
zero-width characters (feeds.normalise.clean_text); titles and names go through
bot.markup.escape; summaries were converted to escaped markup in the parser, and their
links are checked again here (bot.markup.safe_links), so an item stored before a check
existed is posted as safely as a new one. The item's link is clickable only when its host
is public. On top of that, mention syntax (@everyone, @here, <@id>, <#id>, <!channel>) is
broken with a zero-width space, so even an adapter that forgot allowed_mentions could not
ping anyone from feed text. Adapters still render mentions inert themselves; this is the
second lock on the door.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from urllib.parse import urlsplit

from bot.markup import escape, host_is_public, safe_links
from bot.model import Card, Reply
from feeds.images import safe_image_url
from feeds.markdown import cut
from feeds.normalise import clean_text
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


def feed_text(text: str) -> str:
    """Plain feed text (a title, a feed's name) as safe neutral markup."""
    return defang(safe_links(escape(clean_text(text))))


def public_link(url: str | None) -> str | None:
    """The item's link when it may be clickable: http(s), a public host, no user part."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or "@" in parts.netloc:
        return None
    return url if host_is_public(host) else None


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
    title = cut(feed_text(item.title), MAX_TITLE)
    if updated:
        title = f"Updated: {title}"
    summary = defang(cut(safe_links(clean_text(item.summary)), summary_chars)) if item.summary else ""
    footer_parts = [feed_text(item.feed_name)]
    published = from_iso(item.published) if item.published else None
    url = public_link(item.link)
    if item.link and url is None:
        # Shown, but not as a link: without its scheme no surface makes it clickable.
        footer_parts.append(escape(clean_text(item.link.split("://", 1)[-1])))
    card = Card(
        title=title,
        body=summary,
        url=url,
        footer=" · ".join(footer_parts),
        colour=FEED_COLOUR,
        # Checked again here (https, public host), so an item stored before the check is safe.
        image_url=safe_image_url(item.image_url),
        # The date is the card's timestamp (in the forum's timezone): each adapter shows it
        # its own way (Discord's embed timestamp, a Slack context line, the console footer).
        timestamp=published.astimezone(tz) if published else None,
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
