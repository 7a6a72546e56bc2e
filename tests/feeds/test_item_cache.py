"""The item cache (feeds/chunks.py): a parse that reuses the last parse's items must give
exactly what a whole-document parse gives, and must really skip the items it knows.

The oracle is feedparser on the whole body with the same `known` and `text_for_new`. Each
case is an (old, new) pair of bodies: the old one is parsed whole, its cache and known
hashes go with the new one, and `items_read` says how many items feedparser read again
(all of them when the cut must be refused).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.feedserver import ATOM_STAMP, ATOM_STAMP_NEW, RSS_STAMP, RSS_STAMP_NEW, render
from bot.model import ChannelRef
from feeds.chunks import CacheShelf, ItemCache, split
from feeds.entries import MAX_ITEMS, parse_bytes
from feeds.model import ParsedFeed, ParseError
from storage.feeds import KnownHashes
from storage.feeds.items import _h, _h32
from tests.support.feeds import cycle, make, service, titles
from tests.support.feedserver import FeedServer, atom, rss, snj_entries

URL = "https://www.specialneedsjungle.com/feed/"

RSS_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
    b' xmlns:media="http://search.yahoo.com/mrss/"><channel><title>SNJ &amp; friends</title>'
    b"<lastBuildDate>Fri, 20 Nov 2026 09:00:00 +0000</lastBuildDate>\n"
)
RSS_TAIL = b"\n</channel></rss>"


def item(n: int, extra: bytes = b"") -> bytes:
    """A WordPress-like item with non-ASCII text (UTF-8), CDATA, entities and a picture."""
    return (
        b"<item><title>Caf\xc3\xa9 &amp; story %d</title><link>https://e.org/%d</link>"
        b'<guid isPermaLink="false">https://e.org/?p=%d</guid><pubDate>Fri, 20 Nov 2026 09:00:00 +0000</pubDate>'
        b"<description><![CDATA[<p>Story %d &amp; <b>EHC</b></p>]]></description>"
        b'<content:encoded><![CDATA[<p>Long %d <img src="https://cdn.e.org/%d.jpg"/></p>]]></content:encoded>%s</item>'
    ) % (n, n, n, n, n, n, extra)


def feed(*numbers: int, head: bytes = RSS_HEAD, tail: bytes = RSS_TAIL, sep: bytes = b"\n") -> bytes:
    return head + sep.join(item(n) for n in numbers) + tail


def latin(n: int) -> bytes:
    return b"<item><title>Caf\xe9 \x93%d\x94</title><link>https://e.org/l%d</link></item>" % (n, n)


def latin_feed(encoding: bytes, *numbers: int) -> bytes:
    head = b'<?xml version="1.0" encoding="%s"?><rss version="2.0"><channel><title>L\xe9</title>' % encoding
    return head + b"".join(latin(n) for n in numbers) + b"</channel></rss>"


ATOM_HEAD = (
    b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://www.gov.uk/x/">'
    b"<id>tag:gov</id><title>GOV</title><updated>2026-11-20T09:00:00+00:00</updated>"
)


def entry(n: int, base: bytes = b"") -> bytes:
    attr = b' xml:base="%s"' % base if base else b""
    return (
        b"<entry%s><id>tag:www.gov.uk,2005:/%d</id><updated>2026-11-0%dT00:00:00+00:00</updated>"
        b'<link rel="alternate" type="text/html" href="p/%d"/><title>Gov &amp; %d</title>'
        b'<summary type="html">&lt;p&gt;Hi %d&lt;/p&gt;</summary>'
        b'<link rel="enclosure" type="image/jpeg" href="https://assets.gov.uk/%d.jpg"/></entry>'
    ) % (attr, n, n % 9 + 1, n, n, n, n)


def atom_feed(*numbers: int, head: bytes = ATOM_HEAD, base: bytes = b"") -> bytes:
    return head + b"".join(entry(n, base) for n in numbers) + b"</feed>"


RDF_HEAD = (
    b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
    b' xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://r.org/"><title>R</title>'
    b'<items><rdf:Seq><rdf:li resource="https://r.org/1"/></rdf:Seq></items></channel>'
)


def rdf(*numbers: int, head: bytes = RDF_HEAD) -> bytes:
    items = b"".join(
        b'<item rdf:about="https://r.org/%d"><title>R%d</title><link>https://r.org/%d</link></item>' % (n, n, n)
        for n in numbers
    )
    return head + items + b"</rdf:RDF>"


def prefixed(*numbers: int) -> bytes:
    entries = b"".join(
        b'<a:entry><a:id>tag:%d</a:id><a:title>E%d</a:title><a:link href="https://e.org/%d"/></a:entry>' % (n, n, n)
        for n in numbers
    )
    return (
        b'<?xml version="1.0"?><a:feed xmlns:a="http://www.w3.org/2005/Atom"><a:title>P</a:title>'
        + entries
        + b"</a:feed>"
    )


def eacute(body: bytes) -> bytes:
    return body.replace(b"a:", "é:".encode()).replace(b"xmlns:a", "xmlns:é".encode())


def wp(body: bytes) -> bytes:
    """WordPress block comments in the content's CDATA (the common case must still be cut)."""
    return body.replace(b"<p>Long", b"<!-- wp:paragraph --><p>Long").replace(
        b"</p>]]>", b"</p><!-- /wp:paragraph -->]]>"
    )


def ns_feed(prefix: bytes, *numbers: int) -> bytes:
    """Items that declare a namespace (`prefix` b"" for a default one, b":x" for x)."""
    return feed(*numbers).replace(b"<item>", b'<item xmlns%s="urn:x">' % prefix)


LEAK_A = b'<item xmlns:media="urn:fake"><title>A</title><link>https://e.org/a</link></item>'
LEAK_B = (
    b'<item xmlns:z="urn:fake"><title>B</title><link>https://e.org/b</link>'
    b'<z:content url="https://cdn.e.org/b.jpg" medium="image"/></item>'
)


def leak(*items: bytes) -> bytes:
    head = b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title>'
    return head + b"".join(items) + b"</channel></rss>"


def rss_inside(*numbers: int) -> bytes:
    """Atom entries with plain-text summaries that look like HTML; the first holds `<rss/>`."""
    entries = [
        b'<entry><id>tag:%d</id><title>E%d</title><link href="https://e.org/%d"/>'
        b'<summary type="text">a &lt;b&gt;bold&lt;/b&gt; %d</summary></entry>' % (n, n, n, n)
        for n in numbers
    ]
    entries[0] = entries[0].replace(b"</entry>", b'<rss version="2.0"/></entry>')
    head = b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><id>tag:f</id><title>F</title>'
    return head + b"".join(entries) + b"</feed>"


def tail_title(*numbers: int) -> bytes:
    """The channel's title after its items; item 1 holds an empty `<channel/>`."""
    items = b"".join(
        b"<item><title>I%d</title><link>https://e.org/%d</link>%s</item>" % (n, n, b"<channel/>" if n == 1 else b"")
        for n in numbers
    )
    head = b'<?xml version="1.0"?><rss version="2.0"><channel><link>https://e.org/</link>'
    return head + items + b"<title>Tail title</title></channel></rss>"


def utf16(body: bytes) -> bytes:
    return body.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")


def doctype(body: bytes) -> bytes:
    return body.replace(b"?>\n", b'?>\n<!DOCTYPE rss [<!ENTITY snj "SNJ">]>', 1)


@dataclass(frozen=True)
class Case:
    name: str
    old: bytes
    new: bytes
    read: int | None  # items feedparser reads for `new`; None: all of them (cut refused or cache unusable)
    new_url: str = URL
    known: str = "old"  # "old": the old parse's hashes; "none": nothing stored
    text_for_new: bool = True
    old_cached: bool = True  # False: the old body is itself refused (the cut that once took it is the bug)


CASES = [
    # The fast path: only what is new is read.
    Case("rss gains one item", feed(1, 2), feed(3, 1, 2), 1),
    Case("rss unchanged but for its date", feed(1, 2), feed(1, 2, head=RSS_HEAD.replace(b"Fri, 20", b"Sat, 21")), 0),
    Case("rss item edited", feed(1, 2), feed(1, 2).replace(b"Long 2", b"Longer 2"), 1),
    Case("rss item dropped, one gained", feed(1, 2, 3), feed(4, 1, 2), 1),
    Case("fixture rss", rss(snj_entries(3)), rss(snj_entries(4)), 1),
    Case("fixture atom", atom(snj_entries(3)), atom(snj_entries(4)), 1),
    Case("bench rss", render(0, 60), render(0, 61).replace(RSS_STAMP, RSS_STAMP_NEW), 1),
    Case("bench atom", render(1, 60), render(1, 61).replace(ATOM_STAMP, ATOM_STAMP_NEW), 1),
    Case("atom with xml:base", atom_feed(1, 2), atom_feed(3, 1, 2), 1),
    Case("atom entries with xml:base", atom_feed(1, 2, base=b"/z/"), atom_feed(3, 1, 2, base=b"/z/"), 1),
    Case("rss 1.0 (items outside the channel)", rdf(1, 2), rdf(3, 1, 2), 1),
    Case("prefixed atom tags", prefixed(1, 2), prefixed(3, 1, 2), 1),
    Case("block comments in CDATA", wp(feed(1, 2)), wp(feed(3, 1, 2)), 1),
    Case("non-ASCII namespace prefix", eacute(prefixed(1, 2)), eacute(prefixed(3, 1, 2)), 1),
    Case("upper-case item tags", feed(1, 2).replace(b"item>", b"ITEM>"), feed(3, 1, 2).replace(b"item>", b"ITEM>"), 1),
    Case("default namespace declared on an item", ns_feed(b"", 1, 2), ns_feed(b"", 3, 1, 2), 1),
    Case("latin-1", latin_feed(b"iso-8859-1", 1, 2), latin_feed(b"iso-8859-1", 3, 1, 2), 1),
    Case("windows-1252", latin_feed(b"windows-1252", 1, 2), latin_feed(b"windows-1252", 3, 1, 2), 1),
    Case(
        "encoding in single quotes",
        feed(1, 2).replace(b'"UTF-8"', b"'utf-8'"),
        feed(3, 1, 2).replace(b'"UTF-8"', b"'utf-8'"),
        1,
    ),
    Case("byte order mark", b"\xef\xbb\xbf" + feed(1, 2), b"\xef\xbb\xbf" + feed(3, 1, 2), 1),
    Case("duplicate identical items", feed(1, 2), feed(3, 1, 1, 2), 1),
    Case("text_for_new off", feed(1, 2), feed(3, 1, 2), 1, text_for_new=False),
    # The cache must not be used.
    Case("title changed", feed(1, 2), feed(3, 1, 2, head=RSS_HEAD.replace(b"SNJ &amp;", b"SNJ and")), None),
    Case("tail changed", feed(1, 2), feed(1, 2, tail=b"<textInput><title>Q</title></textInput>" + RSS_TAIL), None),
    Case("base address changed", feed(1, 2), feed(1, 2), None, new_url="https://other.example/feed/"),
    Case("atom xml:base changed", atom_feed(1, 2), atom_feed(3, 1, 2, head=ATOM_HEAD.replace(b"/x/", b"/y/")), None),
    Case(
        "default namespace changed",
        rdf(1, 2),
        rdf(3, 1, 2, head=RDF_HEAD.replace(b"purl.org/rss/1.0/", b"e.org/other/")),
        None,
    ),
    Case(
        "namespace dropped from the head",
        feed(1, 2),
        feed(1, 2, head=RSS_HEAD.replace(b' xmlns:content="http://purl.org/rss/1.0/modules/content/"', b"")),
        None,
    ),
    Case("known lacks every item", feed(1, 2), feed(3, 1, 2), None, known="none"),
    Case("namespace prefix declared on an item", feed(1, 2), ns_feed(b":x", 3, 1, 2), None),
    # Found by this test: an earlier item's prefix for the same namespace renames z:content to
    # media:content (a picture) in the whole parse; the cut must be refused.
    Case(
        "an item's prefix renames the next item's elements", leak(LEAK_B), leak(LEAK_A, LEAK_B), None, old_cached=False
    ),
    Case("the renaming item gone", leak(LEAK_A, LEAK_B), leak(LEAK_B), None, old_cached=False),
    # Found by this test: `<rss>` inside an Atom entry turns feedparser to RSS for the entries
    # after it, so their plain-text summaries are read as HTML; the cut must be refused.
    Case("an <rss> element inside an entry", rss_inside(1), rss_inside(1, 2), None, old_cached=False),
    Case(
        "a <channel> element inside an item",
        feed(1, 2),
        feed(3, 1, 2).replace(b"</title>", b"</title><channel/>", 2),
        None,
    ),
    # Found by this test: `</channel>` ending inside an item leaves feedparser outside the
    # feed, so a title after the items is lost in the whole parse (not in the cached one).
    Case("title after the items, <channel/> in an item", tail_title(1), tail_title(2, 1), None, old_cached=False),
    Case(
        "an entry declaring the Atom namespace",
        atom_feed(1, 2),
        atom_feed(3, 1, 2).replace(b"<entry>", b'<entry xmlns="http://www.w3.org/2005/Atom">', 1),
        None,
    ),
    # Found by this test: an item past MAX_ITEMS is never kept, but a bare "&" in it breaks
    # the whole document (feedparser's complaint, and its lenient parser for every item).
    Case("more than MAX_ITEMS", feed(*range(210)), feed(*range(-1, 210)), None, old_cached=False),
    Case("a broken item past MAX_ITEMS", feed(1, 2), feed(*range(1, 210)).replace(b"story 205", b"story & 205"), None),
    # A date that breaks the document (found by this test: the key used to blank it).
    Case("feed date with a bare &", feed(1, 2), feed(1, 2, head=RSS_HEAD.replace(b"Fri,", b"Fri &")), None),
    Case("feed date with a non-UTF-8 byte", feed(1, 2), feed(1, 2, head=RSS_HEAD.replace(b"Fri,", b"Fri\xff,")), None),
    Case(
        "feed date with an attribute",
        feed(1, 2),
        feed(1, 2, head=RSS_HEAD.replace(b"<lastBuildDate>", b'<lastBuildDate a="&">')),
        None,
    ),
    # The cut must be refused.
    Case("items parted by a form feed", feed(1, 2), feed(1, 2, sep=b"\x0c"), None),
    Case("items parted by a vertical tab", feed(1, 2), feed(3, 1, 2, sep=b"\x0b"), None),
    Case("comment between items", feed(1, 2), feed(1, 2, sep=b"<!-- x -->"), None),
    Case("processing instruction between items", feed(1, 2), feed(1, 2, sep=b"<?pi x?>"), None),
    Case(
        "item tags hidden in CDATA",
        feed(1, 2),
        feed(1, 2).replace(b"]]></description>", b" </item>\n<item> ]]></description>", 1),
        None,
    ),
    Case(
        "item tag in a comment",
        feed(1, 2),
        feed(1, 2).replace(b"<description>", b"<!-- <item> --><description>", 1),
        None,
    ),
    Case("self-closing item", feed(1, 2), feed(1, 2, sep=b"<item/>"), None),
    Case(
        "entry nested in an entry",
        atom_feed(1, 2),
        atom_feed(1, 2).replace(b"</title>", b"</title><source><entry/></source>", 1),
        None,
    ),
    Case("a DOCTYPE with an entity", feed(1, 2), doctype(feed(3, 1, 2)), None),
    Case("UTF-16 after UTF-8", feed(1, 2), utf16(feed(1, 2)), None),
]


def _known(parsed: ParsedFeed) -> KnownHashes:
    return KnownHashes({_h(i.item_key): _h32(i.raw_hash) for i in parsed.items})


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_cached_parse_equals_the_whole_parse(case: Case) -> None:
    old = parse_bytes(case.old, URL)
    assert (old.cache is not None) == case.old_cached
    known = _known(old) if case.known == "old" else KnownHashes()
    whole = parse_bytes(case.new, case.new_url, known, text_for_new=case.text_for_new)
    cached = parse_bytes(case.new, case.new_url, known, text_for_new=case.text_for_new, cache=old.cache)
    assert cached.items == whole.items
    assert (cached.title, cached.warning) == (whole.title, whole.warning)
    assert cached.items_read == (case.read if case.read is not None else len(whole.items))
    assert whole.items_read == len(whole.items)


def test_the_new_item_comes_with_its_text_and_the_old_ones_without() -> None:
    old = parse_bytes(feed(1, 2), URL)
    cached = parse_bytes(feed(3, 1, 2), URL, _known(old), cache=old.cache)
    assert cached.items_read == 1
    assert [it.summary is not None for it in cached.items] == [True, False, False]
    assert cached.items[0].title == "Café & story 3" and "EHC" in (cached.items[0].summary or "")


def test_the_cache_follows_the_feed_over_several_fetches() -> None:
    blob = parse_bytes(feed(1), URL).cache
    for newest in range(2, 6):
        body = feed(*range(newest, 0, -1))
        whole = parse_bytes(body, URL)
        cached = parse_bytes(body, URL, cache=blob)
        assert cached.items == whole.items and cached.items_read == newest
        known = _known(whole)
        again = parse_bytes(body, URL, known, cache=cached.cache)
        assert again.items == parse_bytes(body, URL, known).items and again.items_read == 0
        blob = cached.cache


def test_text_needed_again_when_text_for_new_flips_on() -> None:
    old = parse_bytes(feed(1, 2), URL, text_for_new=False)
    one, two = old.items
    # Story 1 stored as it is, story 2 stored with other text: only story 2 (changed) and
    # story 3 (new) need their text, whichever way text_for_new goes.
    known = KnownHashes({_h(one.item_key): _h32(one.raw_hash), _h(two.item_key): _h32("older")})
    for text_for_new, read in [(False, 2), (True, 2)]:
        whole = parse_bytes(feed(3, 1, 2), URL, known, text_for_new=text_for_new)
        cached = parse_bytes(feed(3, 1, 2), URL, known, text_for_new=text_for_new, cache=old.cache)
        assert cached.items == whole.items and cached.items_read == read
    assert [it.summary is not None for it in whole.items] == [True, False, True]


def test_an_item_with_a_non_ascii_prefix_is_seen_by_the_cut() -> None:
    # Found by this test: `<é:item>` (é naming the RSS 1.0 namespace) is an item to feedparser
    # but was invisible to the cut. Behind the last item, with a `</item><item>` pair hidden in
    # CDATA, the counts matched, the cache paired chunks with the wrong items, and the same
    # items in another order came back in the cached order.
    head = '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:é="http://purl.org/rss/1.0/">'
    head += "<channel><title>T</title>"
    a = "<item><title>A</title><link>https://e.org/a</link></item>"
    b1 = "<item><title>B</title><link>https://e.org/b</link><description><![CDATA[x </item>"
    b2 = "<item> y]]></description></item>"
    tail = "</channel><é:item><é:title>X</é:title><é:link>https://e.org/x</é:link></é:item></rss>"
    old = f"{head}{a}\n{b1}\n{b2}{tail}".encode()
    new = f"{head}{b1}\n{b2}\n{a}{tail}".encode()
    assert split(old) is None and split(new) is None
    first = parse_bytes(old, URL)
    whole = parse_bytes(new, URL, _known(first))
    cached = parse_bytes(new, URL, _known(first), cache=first.cache)
    assert [it.title for it in whole.items] == ["B", "A", "X"]
    assert cached.items == whole.items


def test_a_bozo_parse_leaves_no_cache() -> None:
    broken = feed(1, 2, head=RSS_HEAD.replace(b"Fri,", b"Fri &"))
    assert parse_bytes(broken, URL).cache is None


def test_a_web_page_with_a_stale_cache_is_still_not_a_feed() -> None:
    blob = parse_bytes(feed(1, 2), URL).cache
    with pytest.raises(ParseError, match="not a feed"):
        parse_bytes(b"<!doctype html><html><body><p>Hi</p></body></html>", URL, cache=blob)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(feed(1, 2, sep=b"\x0c"), id="form feed between items"),
        pytest.param(feed(1, 2, sep=b" x "), id="text between items"),
        pytest.param(feed(1, 2).replace(b"</item>", b"", 1), id="an item left open"),
        pytest.param(feed(1, 2).replace(b"<item>", b"", 1), id="a close with no open"),
        pytest.param(feed(1, 2).replace(b"<description>", b"<description><item>", 1), id="nested item"),
        pytest.param(feed(1).replace(b"<item>", b"<item/><item>"), id="self-closing item"),
        pytest.param(feed(1).replace(b"</title>", b"</title><entry>x</entry>"), id="two kinds of item tag"),
        pytest.param(feed(1).replace(b"<p>Story", b"<p></item> <item>Story"), id="item pair hidden in CDATA"),
        pytest.param(
            feed(1).replace(b"</title>", b"</title><!-- </item> <item> -->"), id="item pair hidden in a comment"
        ),
        pytest.param(feed(1).replace(b"</title>", b"</title><?pi </item> <item> ?>"), id="item pair hidden in a PI"),
        pytest.param(feed(1, 2, head=RSS_HEAD + b"<!-- "), id="head ends inside a comment"),
        pytest.param(rss_inside(1, 2), id="rss element inside an entry"),
        pytest.param(ns_feed(b":x", 1), id="namespace prefix declared in an item"),
        pytest.param(
            feed(1).replace(b"<item>", b'<item xmlns="http://purl.org/rss/1.0/">'), id="feed namespace on an item"
        ),
        pytest.param(doctype(feed(1, 2)), id="doctype"),
        pytest.param(utf16(feed(1, 2)), id="utf-16"),
        pytest.param(feed(1).replace(b'"UTF-8"', b'"shift_jis"'), id="not ASCII-compatible"),
        pytest.param(b"<html><body><p>No items</p></body></html>", id="no items"),
    ],
)
def test_split_refuses(body: bytes) -> None:
    assert split(body) is None


def test_split_cuts_common_shapes() -> None:
    shapes = [(feed(1, 2, 3, sep=b""), 3), (rss(snj_entries(5)), 5), (atom(snj_entries(4)), 4)]
    for body, count in [*shapes, (render(0, 60), 50), (render(1, 60), 50)]:
        cut = split(body)
        assert cut is not None and len(cut.items) == count
        assert cut.head + b"".join(cut.items) + cut.tail == body


def test_head_key_ignores_plain_dates_only() -> None:
    def key(body: bytes, url: str = URL) -> str:
        cut = split(body)
        assert cut is not None
        return cut.head_key(url)

    base = key(feed(1))
    assert key(feed(1, head=RSS_HEAD.replace(b"Fri, 20", b"Sun, 22"))) == base
    assert key(feed(1, head=RSS_HEAD.replace(b"Fri,", b"Fri &"))) != base
    assert key(feed(1, head=RSS_HEAD.replace(b"SNJ", b"SNX"))) != base
    assert key(feed(1), "https://other.example/") != base


def test_cache_blob_round_trip() -> None:
    parsed = parse_bytes(feed(1, 2), URL)
    cache = ItemCache.decode(parsed.cache)
    assert cache is not None and cache.title == "SNJ & friends"
    assert [it.title for it in cache.items.values()] == ["Café & story 1", "Café & story 2"]
    assert all(it.summary is None and it.content_hash is None for it in cache.items.values())
    assert ItemCache.decode(cache.encode()) == cache


@pytest.mark.parametrize(
    "blob",
    [
        b"not zlib",
        zlib.compress(b"not json"),
        zlib.compress(b"[]"),
        zlib.compress(b'"text"'),
        zlib.compress(b"[" * 100_000),
        zlib.compress(b'{"v": 99, "head": "h", "title": "t", "items": []}'),
        zlib.compress(b'{"v": 1, "head": "h", "title": "t", "items": [["d", 1, 2, 3, 4, 5, 6, 7]]}'),
        zlib.compress(b'{"v": 1, "head": "h", "title": "t", "items": [["d", "too few"]]}'),
        zlib.compress(b'{"v": 1, "title": "t", "items": []}'),
    ],
    ids=["not-zlib", "not-json", "list", "string", "deep", "version", "numbers", "short-row", "no-head"],
)
def test_a_corrupt_or_foreign_cache_is_ignored(blob: bytes) -> None:
    assert ItemCache.decode(blob) is None
    whole = parse_bytes(feed(1, 2), URL)
    cached = parse_bytes(feed(1, 2), URL, cache=blob)
    assert cached.items == whole.items and cached.items_read == 2


def test_cache_shelf_keeps_to_its_byte_bound() -> None:
    shelf = CacheShelf(max_bytes=100)
    shelf.put(1, b"a" * 40)
    shelf.put(2, b"b" * 40)
    assert shelf.get(1) == b"a" * 40  # feed 1 now used last
    shelf.put(3, b"c" * 40)
    assert (shelf.get(2), shelf.get(1), shelf.get(3)) == (None, b"a" * 40, b"c" * 40)
    assert (len(shelf), shelf.size) == (2, 80)
    shelf.put(1, b"x" * 10)  # replaced, not added
    assert (len(shelf), shelf.size) == (2, 50)
    shelf.put(4, b"z" * 101)  # bigger than the whole shelf: not kept
    assert shelf.get(4) is None and shelf.size == 50
    shelf.put(3, None)  # no cache this time: the old one goes
    assert shelf.get(3) is None and (len(shelf), shelf.size) == (1, 10)


def test_max_items_keeps_the_first_ones_and_no_cache() -> None:
    body = feed(*range(MAX_ITEMS + 20))
    parsed = parse_bytes(body, URL)
    assert len(parsed.items) == MAX_ITEMS and parsed.cache is None


async def test_second_poll_reads_only_the_new_item(tmp_path: Path, feed_server: FeedServer) -> None:
    entries = snj_entries(3)
    url = feed_server.set("/snj", rss(entries))
    h = await make(tmp_path)
    try:
        svc = service(h)
        await svc.store.subscribe(url, ChannelRef("console", "console", "news"), h.core.now())
        reads: list[int] = []
        real = svc.parser.parse

        async def spy(*args: Any, **kwargs: Any) -> ParsedFeed:
            parsed = await real(*args, **kwargs)
            reads.append(parsed.items_read)
            return parsed

        svc.parser.parse = spy  # type: ignore[method-assign]
        await cycle(h)
        assert reads == [3] and titles(h) == [] and len(svc.item_caches) == 1

        feed_server.set("/snj", rss([*entries, snj_entries(1, start=4)[0]]))
        await cycle(h)
        assert reads == [3, 1], "the second poll reads only the new item"
        assert titles(h) == ["SNJ story 4"]
        [sent] = h.messengers["console"].posts()
        card = sent.reply.card if sent.reply else None
        assert card is not None and "Story 4 about EHC plans." in (card.body or "")
    finally:
        await h.close()
