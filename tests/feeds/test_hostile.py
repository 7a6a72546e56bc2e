"""Hostile feeds on loopback: none crashes the bot, blocks other feeds, or goes unexplained."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.feeds import cycle, make, service, titles
from tests.support.feedserver import FeedServer, rss, snj_entries

# On both storage backends: SQLite and PostgreSQL (tests/support/backends.py).
pytestmark = pytest.mark.usefixtures("each_backend")

ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
<!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
<!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<rss version="2.0"><channel><title>Bomb</title>
<item><title>Boom &i;</title><link>https://e.org/boom</link></item></channel></rss>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>XXE</title><item><title>Leak &x;</title><link>https://e.org/x</link></item>
</channel></rss>"""

HTML_PAGE = b"<!doctype html><html><head><title>Welcome</title></head><body><p>Not a feed</p></body></html>"

# Declared as UTF-8 but encoded as Windows-1252 (a common WordPress plugin fault).
WRONG_ENCODING = (
    '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Caf\xe9</title>'
    "<item><title>Parents\x92 rights \x96 caf\xe9</title><link>https://e.org/enc</link></item></channel></rss>"
).encode("latin-1")

NO_DECLARATION = (
    '<rss version="2.0"><channel><title>No declaration</title>'
    "<item><title>Ofsted and SEND — what’s next</title><link>https://e.org/nodecl</link></item></channel></rss>"
).encode()

MALFORMED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Broken</title>
<item><title>Unclosed <b>tag</title><link>https://e.org/m1</link>
<item><title>Second & ampersand</title><link>https://e.org/m2</link></item></channel>"""


# (name, route settings, what a moderator should read: in last_error, or None = items recorded)
CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("malformed", {"body": MALFORMED}, None),
    ("html-page", {"body": HTML_PAGE, "content_type": "text/html"}, "not a feed"),
    ("wrong-encoding", {"body": WRONG_ENCODING}, None),
    ("no-declaration", {"body": NO_DECLARATION}, None),
    ("entity-bomb", {"body": ENTITY_BOMB}, None),
    ("external-entity", {"body": EXTERNAL_ENTITY}, None),
    ("over-cap", {"body": rss(snj_entries(1)) + b" " * (300 * 1024)}, "larger than the 256 KiB limit"),
    ("slow-body", {"slow": True}, "timed out after 2 s"),
    ("404", {"status": 404}, "not found (HTTP 404)"),
    ("410", {"status": 410}, "gone for good (HTTP 410)"),
    ("429", {"status": 429, "headers": {"Retry-After": "60"}}, "slow down (HTTP 429)"),
    ("500", {"status": 500}, "the site had an error (HTTP 500)"),
    ("empty", {"body": b""}, "not a feed"),
    ("binary", {"body": bytes(range(256)) * 64, "content_type": "application/octet-stream"}, "not a feed"),
]


@pytest.mark.parametrize(("name", "route", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_hostile_feed_is_contained(
    tmp_path: Path, feed_server: FeedServer, name: str, route: dict[str, Any], expected: str | None
) -> None:
    good = feed_server.set("/good", rss(snj_entries(1)))
    bad = feed_server.set("/bad", rss(snj_entries(1)))  # healthy at first, so `!feeds add` accepts it
    h = await make(tmp_path)
    try:
        await h.say(f"!feeds add {good}", moderator=True)
        await h.say(f"!feeds add {bad}", moderator=True)
        feed_server.set("/good", rss(snj_entries(2)))
        feed_server.set("/bad", **route)
        started = time.monotonic()
        await cycle(h)
        assert time.monotonic() - started < 8
        assert "SNJ story 2" in titles(h)  # the good feed was not held up
        bad_feed = await service(h).store.feed(2)
        assert bad_feed is not None
        if expected is None:
            assert bad_feed.last_error is None, bad_feed.last_error
        else:
            assert bad_feed.last_error is not None and expected in bad_feed.last_error
            status = await h.say_text("!feeds status", moderator=True)
            assert expected in status
        for s in h.messengers["console"].posts():
            card = s.reply.card if s.reply else None
            assert card is not None and "root:" not in card.title and len(card.title) < 400
    finally:
        await h.close()


async def test_redirect_loop_and_too_many_redirects(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.set("/feed", rss(snj_entries(1)))
    feed_server.set("/r1", redirect_to=feed_server.url("/r2"))
    feed_server.set("/r2", redirect_to=feed_server.url("/r1"))
    h = await make(tmp_path)
    try:
        text = await h.say_text(f"!feeds add {feed_server.url('/r1')}", moderator=True)
        assert "more than 5 redirects" in text and "Nothing was added" in text
        # A short chain is followed.
        feed_server.set("/hop", redirect_to="/feed")
        text = await h.say_text(f"!feeds add {feed_server.url('/hop')}", moderator=True)
        assert "Recorded 1 current item(s)" in text
    finally:
        await h.close()


async def test_add_refuses_html_page(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/page", HTML_PAGE, content_type="text/html")
    h = await make(tmp_path)
    try:
        text = await h.say_text(f"!feeds add {url}", moderator=True)
        assert "couldn't use that feed" in text and "not a feed" in text
        assert await service(h).store.feeds() == []
    finally:
        await h.close()


async def test_parse_time_limit_frees_the_pool(tmp_path: Path) -> None:
    from feeds.parse import ParseError, Parser
    from tests.support.feedserver import Entry

    small = rss(snj_entries(1))
    many = rss([Entry(f"t{i}", f"https://e.org/{i}", guid=str(i)) for i in range(20000)])
    parser = Parser(workers=1, time_limit=0.2)
    try:
        with pytest.raises(ParseError, match="longer than"):
            await parser.parse(many, "http://x")
        parsed = await parser.parse(small, "http://x")  # the pool still works
        assert parsed.items
    finally:
        await parser.close()
