"""A feed body cut into its items' bytes, so a fetch parses only the items it has not seen.

A feed that gained one item still lists the other 49 byte for byte, yet a whole parse reads
them all again (`python -m bench.parse_cost` compares the two: about six times cheaper). So
the parser remembers, per feed, what each item's bytes gave (`ItemCache`), and the next time
hands feedparser only the feed's head, the items it has not seen and its tail.

That is only as good as the cut. `split` refuses (returns None, and the whole document is
parsed as before) whenever the bytes could fool a regular expression or an item could
change how feedparser reads the items after it:
- a DOCTYPE (entities), or an encoding that is not ASCII-compatible;
- an item tag inside CDATA, a comment or a processing instruction (the tags would not
  alternate or, for a hidden `</item><item>` pair, an item would end inside the CDATA);
- nested or self-closing items, or anything but XML's white space between two items (a
  form feed would break the document);
- an item holding a namespace prefix (feedparser keeps one table of prefixes for the whole
  document, so a prefix one item declares can rename the elements of later items), a
  feed-level element (`<rss>` in an Atom entry makes feedparser read the rest as RSS;
  `<channel/>` in an item loses a title that follows the items) or a feed's own namespace.
A cached item is reused only under the same head and tail (feed-level dates ignored, but
only plain ones: a date holding "&" or a non-ASCII byte could break the whole document) and
the same base address, since those are all of a document an item's parse can depend on.
The cache is built only from a parse with no complaint (feedparser's "bozo") whose item
count matched the cut, and a partial parse is used only if it too has no complaint and
finds one item per chunk it was given.

Pure bytes work with no feedparser, so the tests can check the cut on its own; the cache
travels to and from the parser's workers as compressed JSON (small, and nothing executable).
"""

from __future__ import annotations

import itertools
import json
import re
import zlib
from collections import OrderedDict
from dataclasses import dataclass

import xxhash

from feeds.model import ParsedItem

# An item (RSS 0.9x/2.0, RSS 1.0) or entry (Atom) tag, opening or closing, with or without a
# namespace prefix (any XML name: `<é:item>` is an item to feedparser when é names the RSS
# 1.0 namespace); `<items>` (RSS 1.0's table of contents) does not match. Feed-level tags
# too: inside an item they change how feedparser reads the items after it (`<rss>` in an
# Atom entry makes it read the rest as RSS; `<channel/>` loses a title after the items).
_TAG = re.compile(rb"<(/?)((?:[^\s<>/:!?\"'=]+:)?(?:item|entry|rss|channel|feed|rdf))(?=[\s>/])([^>]*)>", re.I)
_ITEM_NAMES = (b"item", b"entry")
_ASCII_COMPATIBLE = re.compile(
    rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']\s*(utf-?8|us-ascii|ascii|iso-8859-1|latin-?1|windows-1252)\s*["']""",
    re.I,
)
_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>")
# Feed-level dates a site rewrites on every request, left out of the head's key. Stricter
# than feeds/digest.py: no attributes, and only the characters of a date, so a date that
# would break the document (a stray "&", a byte the encoding lacks) changes the key.
_FEED_DATE = re.compile(
    rb"<((?:[\w.-]+:)?(?:lastBuildDate|pubDate|updated|date))\s*>[\w \t\r\n,:+./-]{0,200}</\1\s*>", re.I
)
# A namespace declared inside an item: any prefix (feedparser keeps one table of prefixes
# for the whole document), or a feed's own namespace (it may set the feed's version).
_NAMESPACE_DECLARATION = re.compile(
    rb"xmlns\s*:|xmlns\s*=\s*[\"']\s*(?:http://purl\.org/rss/1\.0/|http://my\.netscape\.com/rdf/simple/0\.9/|"
    rb"http://www\.w3\.org/2005/atom)",
    re.I,
)
_XML_SPACE = b" \t\r\n"  # white space to XML (Python's strip also takes \v and \f)
_ENCODING_ATTR = re.compile(rb"encoding\s*=", re.I)
_CACHE_VERSION = 1


@dataclass(frozen=True)
class Split:
    """A document as head, items and tail: head + b"".join(items) + tail is the document but
    for the white space between items."""

    head: bytes
    items: list[bytes]
    tail: bytes

    def head_key(self, base_url: str) -> str:
        """What an item's parse may depend on besides its own bytes: the base address, the
        head (namespaces, xml:base, the encoding; feed-level dates left out) and the tail."""
        h = xxhash.xxh3_128()
        h.update(base_url.encode("utf-8", "surrogatepass") + b"\x00")
        h.update(_FEED_DATE.sub(rb"<\1/>", self.head) + b"\x00")
        h.update(self.tail)
        return h.hexdigest()

    def document(self, items: list[bytes]) -> bytes:
        """The head, the given items and the tail: a smaller document of the same feed."""
        return self.head + b"\n".join(items) + self.tail


def item_digest(chunk: bytes) -> str:
    return xxhash.xxh3_128_hexdigest(chunk)  # a change detector, as feeds/digest.py says


def _ascii_compatible(body: bytes) -> bool:
    if body.startswith((b"\xef\xbb\xbf",)):
        body = body[3:]
    elif body[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in body[:200]:
        return False  # UTF-16 or UTF-32
    declaration = _XML_DECLARATION.match(body)
    if declaration is None or not _ENCODING_ATTR.search(declaration.group(0)):
        return True  # no declaration, or none naming an encoding: UTF-8
    return _ASCII_COMPATIBLE.match(body) is not None


def _ends_inside_markup(part: bytes) -> bool:
    """Whether `part` ends inside CDATA, a comment or a processing instruction, where the
    next "item" tag would only be text (errs on the side of yes)."""
    return (
        part.rfind(b"<![CDATA[") > part.rfind(b"]]>")
        or part.rfind(b"<!--") > part.rfind(b"-->")
        or part.rfind(b"<?") > part.rfind(b"?>")
    )


def split(body: bytes) -> Split | None:
    """The document cut at its items, or None when the cut could be wrong (see the module)."""
    if b"<!DOCTYPE" in body or b"<!doctype" in body or b"<!ENTITY" in body or not _ascii_compatible(body):
        return None
    spans: list[tuple[int, int]] = []
    open_at: int | None = None
    name: bytes | None = None
    for m in _TAG.finditer(body):
        closing, tag, rest = m.group(1), m.group(2).lower(), m.group(3)
        if tag.rpartition(b":")[2] not in _ITEM_NAMES:
            if open_at is not None:
                return None  # a feed-level element inside an item
            continue
        if name is None:
            name = tag
        if tag != name or (not closing and rest.rstrip().endswith(b"/")):
            return None  # two kinds of item tag, or a self-closing item
        if not closing:
            if open_at is not None:
                return None  # nested, or an item tag hidden in CDATA or a comment
            open_at = m.start()
        else:
            if open_at is None:
                return None
            spans.append((open_at, m.end()))
            open_at = None
    if open_at is not None or not spans:
        return None
    for (_, end), (start, _) in itertools.pairwise(spans):
        if body[end:start].strip(_XML_SPACE):
            return None  # something between two items: keep it in context
    items = [body[s:e] for s, e in spans]
    head = body[: spans[0][0]]
    if _ends_inside_markup(head) or any(_ends_inside_markup(chunk) for chunk in items):
        return None  # a `</item><item>` pair hidden in CDATA or a comment: they alternate
    region = body[spans[0][0] : spans[-1][1]]
    if b"xmlns" in region and _NAMESPACE_DECLARATION.search(region):
        return None  # a namespace declared in an item may change how the next ones are read
    return Split(head, items, body[spans[-1][1] :])


# One cached item: its digest, then the ParsedItem's fields that do not depend on what is
# stored (the summary and content hash are rendered again whenever they are needed).
_FIELDS = ("item_key", "story_key", "raw_hash", "title", "link", "published", "image")


@dataclass
class ItemCache:
    """What each item's bytes gave under one head: the feed's title and, by item digest,
    the parsed item (without its rendered text)."""

    head_key: str
    title: str
    items: dict[str, ParsedItem]

    def encode(self) -> bytes:
        rows = [[digest, *(getattr(item, f) for f in _FIELDS)] for digest, item in self.items.items()]
        payload = {"v": _CACHE_VERSION, "head": self.head_key, "title": self.title, "items": rows}
        return zlib.compress(json.dumps(payload, separators=(",", ":")).encode(), 1)

    @classmethod
    def decode(cls, blob: bytes | None) -> ItemCache | None:
        """None for no cache or one that cannot be read (it is only a shortcut)."""
        if not blob:
            return None
        try:
            payload = json.loads(zlib.decompress(blob))
            if not isinstance(payload, dict) or payload.get("v") != _CACHE_VERSION:
                return None
            items = {}
            for row in payload["items"]:
                if not all(value is None or isinstance(value, str) for value in row):
                    return None
                values = dict(zip(_FIELDS, row[1:], strict=True))
                items[row[0]] = ParsedItem(summary=None, content_hash=None, **values)
            return cls(str(payload["head"]), str(payload["title"]), items)
        except (ValueError, TypeError, KeyError, RecursionError, zlib.error):
            return None


class CacheShelf:
    """The parent's side: each feed's encoded cache, by feed id, up to `max_bytes` in all
    (the feeds used longest ago are dropped first; a dropped cache only costs a full parse)."""

    def __init__(self, max_bytes: int = 8 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._blobs: OrderedDict[int, bytes] = OrderedDict()
        self._size = 0

    def get(self, feed_id: int) -> bytes | None:
        blob = self._blobs.get(feed_id)
        if blob is not None:
            self._blobs.move_to_end(feed_id)
        return blob

    def put(self, feed_id: int, blob: bytes | None) -> None:
        old = self._blobs.pop(feed_id, None)
        if old is not None:
            self._size -= len(old)
        if not blob or len(blob) > self.max_bytes:
            return
        self._blobs[feed_id] = blob
        self._size += len(blob)
        while self._size > self.max_bytes:
            _, dropped = self._blobs.popitem(last=False)
            self._size -= len(dropped)

    @property
    def size(self) -> int:
        return self._size

    def __len__(self) -> int:
        return len(self._blobs)
