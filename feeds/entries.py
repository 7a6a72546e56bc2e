"""Feed bytes to a ParsedFeed: feedparser on the bytes, then per item its keys, hashes and
(where a channel may post it) its text converted to the bot's markup.

Runs in the parser's worker processes (feeds/parse.py), so that the bot's own process never
loads feedparser or lxml: they are imported here only. feedparser reads XML with expat
through SAX; expat's `buffer_text` is switched on (BufferedExpat below), so a run of text
with many entities (escaped HTML in an Atom summary) reaches feedparser as one piece rather
than one callback for each entity: the same text, a fifth less of feedparser's time.
"""

from __future__ import annotations

import calendar
import hashlib
import re
import xml.sax.expatreader
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import feedparser
import feedparser.api

from feeds.chunks import ItemCache, Split, item_digest, split
from feeds.images import item_image
from feeds.markdown import cut, html_to_markup, plain_to_markup
from feeds.model import ParsedFeed, ParsedItem, ParseError
from feeds.normalise import clean_link, clean_text, content_hash, item_key, story_key
from storage.feeds import KnownHashes


class BufferedExpat(xml.sax.expatreader.ExpatParser):
    """The standard library's SAX reader for expat, with `buffer_text` on: adjacent text is
    delivered in one `characters` call (feedparser joins the pieces anyway)."""

    def reset(self) -> None:
        super().reset()
        self._parser.buffer_text = True  # type: ignore[attr-defined]


def create_parser() -> BufferedExpat:
    """What xml.sax.make_parser calls for a module named in its parser list (this one)."""
    return BufferedExpat()


def _use_buffered_expat() -> None:
    # feedparser asks xml.sax.make_parser for the first of PREFERRED_XML_PARSERS it can
    # import (its default list names a libxml2 driver that is not installed), then expat.
    preferred = feedparser.api.PREFERRED_XML_PARSERS
    if preferred[:1] != [__name__]:
        preferred.insert(0, __name__)


MAX_ITEMS = 200  # per fetch: a feed with thousands of entries is cut to its first 200
MAX_SUMMARY = 4000  # characters kept in storage; posts cut further to [feeds] summary_chars
MAX_TITLE = 300
_TAG_RE = re.compile(r"<[^>]+>")


def _plain_title(value: str) -> str:
    if "<" in value:
        value = _TAG_RE.sub(" ", value)
    # Stored clean, so every place that shows a title (status, lists, posts) is safe.
    return " ".join(clean_text(value).split())[:MAX_TITLE] or "(untitled)"


def _iso(struct: Any) -> str | None:
    if not struct:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(struct), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, TypeError, OSError):
        return None


def _raw_hash(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()[:32]


def _summary_source(entry: Any) -> tuple[str, bool]:
    """(text, is_html) from the entry's summary, else its content."""
    detail = entry.get("summary_detail") or {}
    text = entry.get("summary") or ""
    if not text and entry.get("content"):
        detail = entry["content"][0]
        text = detail.get("value") or ""
    kind = (detail.get("type") or "text/html").lower()
    return text, ("html" in kind or "xml" in kind)


def _item(entry: Any, base_url: str, known: KnownHashes, text_for_new: bool) -> ParsedItem:
    raw_title = entry.get("title") or ""
    item_title = _plain_title(raw_title)
    link = clean_link(entry.get("link"))
    published = _iso(entry.get("published_parsed") or entry.get("updated_parsed"))
    raw_summary, is_html = _summary_source(entry)
    rh = _raw_hash(raw_title, raw_summary)
    key = item_key(entry.get("id"), link, item_title, published)
    if known.same(key, rh) or not (text_for_new or known.has(key)):
        summary = chash = None
    else:
        converted = html_to_markup(raw_summary) if is_html else plain_to_markup(raw_summary)
        summary = cut(converted, MAX_SUMMARY)
        chash = content_hash(item_title, summary)
    return ParsedItem(
        item_key=key,
        story_key=story_key(link, item_title, published),
        raw_hash=rh,
        title=item_title,
        link=link,
        published=published,
        summary=summary,
        content_hash=chash,
        image=item_image(entry, base_url),
    )


def _needs_text(item: ParsedItem, known: KnownHashes, text_for_new: bool) -> bool:
    """Whether a full parse would render this item's text (the rule in `_item`)."""
    return not known.same(item.item_key, item.raw_hash) and (text_for_new or known.has(item.item_key))


def _feedparse(body: bytes) -> tuple[str, list[Any], BaseException | None]:
    """(feed title, entries, feedparser's complaint or None); ParseError if not a feed."""
    _use_buffered_expat()
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False, response_headers={})
    version = parsed.get("version") or ""
    entries = parsed.get("entries") or []
    bozo = parsed.get("bozo_exception")
    if not version and not entries:
        if bozo is not None:
            raise ParseError(f"not a feed ({type(bozo).__name__}: {str(bozo)[:120]})")
        raise ParseError("not a feed (no RSS or Atom found; is this a web page?)")
    return _plain_title(parsed.get("feed", {}).get("title") or ""), entries, bozo


def _bare(item: ParsedItem) -> ParsedItem:
    return replace(item, summary=None, content_hash=None) if item.summary is not None else item


def parse_bytes(
    body: bytes,
    base_url: str,
    known: KnownHashes | None = None,
    *,
    text_for_new: bool = True,
    cache: bytes | None = None,
) -> ParsedFeed:
    """Parse in the current process. `known` holds the raw hashes already stored by item key
    (storage.feeds.KnownHashes), so unchanged items skip the costly HTML conversion. Without
    `text_for_new` (no channel would post a new item: a first sight with `latest = 0`), items
    `known` lacks skip it too; their summary and content hash are None. `cache` is the last
    parse's ParsedFeed.cache for this feed: items whose bytes it knows are not read again
    (feeds/chunks.py); the result is the same as without it."""
    known = known or KnownHashes()
    cut_up = split(body)
    if cut_up is not None and len(cut_up.items) > MAX_ITEMS:
        # The items past MAX_ITEMS are never kept, but one of them can still break the whole
        # document (feedparser then reads it another way): only a whole parse says so.
        cut_up = None
    head_key = cut_up.head_key(base_url) if cut_up is not None else ""
    if cut_up is not None:
        old = ItemCache.decode(cache)
        if old is not None and old.head_key == head_key:
            again = _parse_new_items(cut_up, old, base_url, known, text_for_new)
            if again is not None:
                return again
    title, entries, bozo = _feedparse(body)
    items = [_item(entry, base_url, known, text_for_new) for entry in entries[:MAX_ITEMS]]
    warning = f"{type(bozo).__name__}: {str(bozo)[:120]}" if bozo is not None else None
    blob = None
    if cut_up is not None and bozo is None and len(entries) == len(cut_up.items):
        digests = [item_digest(chunk) for chunk in cut_up.items[:MAX_ITEMS]]
        blob = ItemCache(head_key, title, {d: _bare(it) for d, it in zip(digests, items, strict=True)}).encode()
    return ParsedFeed(title=title, items=items, warning=warning, cache=blob, items_read=len(items))


def _parse_new_items(
    cut_up: Split, old: ItemCache, base_url: str, known: KnownHashes, text_for_new: bool
) -> ParsedFeed | None:
    """Parse only the items `old` does not know (or whose text is needed), in a document of
    the head, those items and the tail; None if that document does not parse cleanly into
    as many entries (the caller then parses the whole body)."""
    digests = [item_digest(chunk) for chunk in cut_up.items[:MAX_ITEMS]]
    need = [i for i, d in enumerate(digests) if d not in old.items or _needs_text(old.items[d], known, text_for_new)]
    title = old.title
    fresh: dict[int, ParsedItem] = {}
    if need:
        title, entries, bozo = _feedparse(cut_up.document([cut_up.items[i] for i in need]))
        if bozo is not None or len(entries) != len(need):
            return None
        fresh = {i: _item(entry, base_url, known, text_for_new) for i, entry in zip(need, entries, strict=True)}
    items = [fresh[i] if i in fresh else old.items[d] for i, d in enumerate(digests)]
    blob = ItemCache(old.head_key, title, {d: _bare(it) for d, it in zip(digests, items, strict=True)}).encode()
    return ParsedFeed(title=title, items=items, cache=blob, items_read=len(need))
