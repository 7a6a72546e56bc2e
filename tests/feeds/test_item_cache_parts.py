"""The item cache's parts (feeds/chunks.py): where `split` refuses to cut, the head's key,
the cache blob (round trip, corrupt or foreign blobs ignored) and the shelf's byte bound.
tests/feeds/test_item_cache.py checks the whole: cached parses equal whole ones."""

from __future__ import annotations

import zlib

import pytest

from bench.feedserver import render
from feeds.chunks import CacheShelf, ItemCache, split
from feeds.entries import MAX_ITEMS, parse_bytes
from tests.support.feedbodies import (
    RSS_HEAD,
    URL,
    doctype,
    feed,
    ns_feed,
    rss_inside,
    utf16,
)
from tests.support.feedserver import atom, rss, snj_entries


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
