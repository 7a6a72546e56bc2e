"""feeds.digest: a fetch whose only change is a feed-level date is not parsed again."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import xxhash

from feeds.digest import stable_digest
from tests.support.feeds import cycle, make, service, titles
from tests.support.feedserver import Entry, FeedServer, atom, rss, snj_entries
from tests.support.harness import Harness

# On both storage backends: SQLite and PostgreSQL (tests/support/backends.py).
pytestmark = pytest.mark.usefixtures("each_backend")

RSS_HEAD = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'


def _rss(build: str, items: bytes) -> bytes:
    return RSS_HEAD + f"<lastBuildDate>{build}</lastBuildDate>".encode() + items + b"</channel></rss>"


def test_feed_level_dates_do_not_change_the_digest() -> None:
    item = b"<item><title>A</title><pubDate>Mon, 02 Nov 2026 09:00:00 +0000</pubDate></item>"
    a = _rss("Mon, 23 Nov 2026 10:00:00 +0000", item)
    b = _rss("Tue, 24 Nov 2026 11:30:00 +0000", item)
    assert a != b and stable_digest(a) == stable_digest(b)
    atom_a = b'<feed xmlns="http://www.w3.org/2005/Atom"><updated>2026-11-20T09:00:00Z</updated><entry>x</entry></feed>'
    atom_b = atom_a.replace(b"2026-11-20T09", b"2026-11-21T10")
    assert stable_digest(atom_a) == stable_digest(atom_b)
    # A namespaced Dublin Core date at feed level too.
    dc_a = RSS_HEAD + b"<dc:date>2026-11-20</dc:date>" + item
    assert stable_digest(dc_a) == stable_digest(dc_a.replace(b"2026-11-20", b"2026-11-21"))


def test_any_change_inside_an_item_or_to_the_feed_title_changes_the_digest() -> None:
    item = b"<item><title>A</title><pubDate>Mon, 02 Nov 2026 09:00:00 +0000</pubDate></item>"
    base = _rss("Mon, 23 Nov 2026 10:00:00 +0000", item)
    # An item's own date is content: a re-dated item may need an edit.
    assert stable_digest(base) != stable_digest(base.replace(b"02 Nov", b"03 Nov"))
    assert stable_digest(base) != stable_digest(base.replace(b"<title>A</title>", b"<title>B</title>"))
    assert stable_digest(base) != stable_digest(base.replace(b"<title>T</title>", b"<title>U</title>"))
    # With no item at all, the whole body counts except the dates.
    assert stable_digest(b"<rss><channel></channel></rss>") != stable_digest(b"<rss><channel> </channel></rss>")
    # A plain body without dates hashes as XXH3-128 of its bytes (nothing blanked).
    body = b"<rss><channel><title>x</title></channel></rss>"
    assert stable_digest(body) == xxhash.xxh3_128_hexdigest(body)


async def _count_parses(h: Harness) -> list[int]:
    calls = [0]
    real = service(h).parser.parse

    async def counting(*a: Any, **kw: Any) -> Any:
        calls[0] += 1
        return await real(*a, **kw)

    service(h).parser.parse = counting  # type: ignore[method-assign]
    return calls


async def test_a_rebuilt_rss_feed_is_not_parsed_and_a_new_item_still_posts(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    def body(n: int, build: str) -> bytes:
        return rss(snj_entries(n)).replace(
            b"<description>SEND news</description>", f"<lastBuildDate>{build}</lastBuildDate>".encode()
        )

    url = feed_server.set("/wp", body(2, "Mon, 23 Nov 2026 10:00:00 +0000"), etag=False)
    h = await make(tmp_path)
    try:
        await h.say(f"!feeds add {url}", moderator=True)
        calls = await _count_parses(h)
        feed_server.set("/wp", body(2, "Mon, 23 Nov 2026 10:10:00 +0000"), etag=False)
        await cycle(h)
        assert calls[0] == 0 and titles(h) == []
        feed_server.set("/wp", body(3, "Mon, 23 Nov 2026 10:20:00 +0000"), etag=False)
        await cycle(h)
        assert calls[0] == 1 and titles(h) == ["SNJ story 3"]
    finally:
        await h.close()


async def test_a_rebuilt_atom_feed_is_not_parsed(tmp_path: Path, feed_server: FeedServer) -> None:
    when = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    entries = [Entry(f"DfE SEND story {i}", f"https://www.gov.uk/guidance/send-{i}", published=when) for i in range(2)]
    url = feed_server.set("/dfe", atom(entries), etag=False)
    h = await make(tmp_path)
    try:
        await h.say(f"!feeds add {url}", moderator=True)
        calls = await _count_parses(h)
        feed_server.set("/dfe", atom(entries).replace(b"2026-11-20T09:00:00", b"2026-11-28T13:45:00"), etag=False)
        await cycle(h)
        assert calls[0] == 0
        # The same change inside an entry is parsed.
        feed_server.set("/dfe", atom(entries).replace(b"2026-11-02T09:00:00", b"2026-11-28T13:45:00"), etag=False)
        await cycle(h)
        assert calls[0] == 1
    finally:
        await h.close()
