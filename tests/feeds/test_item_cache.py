"""The item cache (feeds/chunks.py): a parse that reuses the last parse's items must give
exactly what a whole-document parse gives, and must really skip the items it knows.

The oracle is feedparser on the whole body with the same `known` and `text_for_new`. Each
case is an (old, new) pair of bodies: the old one is parsed whole, its cache and known
hashes go with the new one, and `items_read` says how many items feedparser read again
(all of them when the cut must be refused).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.feedserver import ATOM_STAMP, ATOM_STAMP_NEW, RSS_STAMP, RSS_STAMP_NEW, render
from bot.model import ChannelRef
from feeds.chunks import split
from feeds.entries import parse_bytes
from feeds.model import ParsedFeed, ParseError
from storage.feeds import KnownHashes
from storage.feeds.items import _h, _h32
from tests.support.feedbodies import (
    ATOM_HEAD,
    LEAK_A,
    LEAK_B,
    RDF_HEAD,
    RSS_HEAD,
    RSS_TAIL,
    URL,
    atom_feed,
    doctype,
    eacute,
    feed,
    latin_feed,
    leak,
    ns_feed,
    prefixed,
    rdf,
    rss_inside,
    tail_title,
    utf16,
    wp,
)
from tests.support.feeds import cycle, make, service, titles
from tests.support.feedserver import FeedServer, atom, rss, snj_entries


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
