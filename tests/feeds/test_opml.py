"""!feeds export / !feeds import: OPML out and in, each feed checked like `!feeds add`, and
hostile XML (billion laughs, external entities, oversize) refused with nothing changed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.adapters.console import attached_files
from bot.model import Reply
from feeds.opml import MAX_BYTES, parse_opml
from tests.support.feeds import make, service
from tests.support.feedserver import FeedServer, rss, snj_entries
from tests.support.harness import Harness, reply_text

# On both storage backends: SQLite and PostgreSQL (tests/support/backends.py).
pytestmark = pytest.mark.usefixtures("each_backend")


async def say_with_file(h: Harness, text: str, path: Path, channel: str = "general") -> str:
    """A command with a file attached (as the console attaches one: `< path`)."""
    _, files = attached_files(f"x < {path}")
    incoming = dataclasses.replace(h.incoming(text, moderator=True, channel=channel), files=files)
    result = await h.core.dispatcher.handle(incoming)
    assert result is not None
    await result.delivered()
    await h.settle()
    follow = [s.reply for s in h.sent("console", lambda s: s.kind == "followup") if s.reply]
    h.messengers["console"].sent.clear()
    return "\n".join(reply_text(r) for r in [*result.replies, *follow])


def opml(*outlines: str) -> bytes:
    body = "".join(outlines)
    return f'<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>{body}</body></opml>'.encode()


async def test_export_then_import_into_another_channel(tmp_path: Path, feed_server: FeedServer) -> None:
    a = feed_server.set("/a", rss(snj_entries(2)))
    b = feed_server.set("/b", rss(snj_entries(3), title="GOV.UK"))
    h = await make(tmp_path)
    try:
        await h.say(f"!feeds add {a} include=EHC mode=digest every=week day=fri at=17:00", moderator=True)
        await h.say(f"!feeds add {b} quiet=21:00-07:00", moderator=True)
        (reply,) = await h.say("!feeds export", moderator=True)
        assert isinstance(reply, Reply) and len(reply.files) == 1
        file = reply.files[0]
        assert file.filename == "sendbot-feeds.opml" and file.content.startswith(b"<?xml")
        feeds = parse_opml(file.content)
        assert [f.url for f in feeds] == [a, b]
        assert feeds[0].extra == {
            "include": "EHC",
            "mode": "digest",
            "digestAt": "17:00",
            "digestEvery": "week",
            "digestDay": "friday",
        }
        assert feeds[1].extra == {"quietHours": "21:00-07:00"}
        path = tmp_path / "subs.opml"
        path.write_bytes(file.content)
        text = await say_with_file(h, "!feeds import", path, channel="news")
        assert "Import: 2 added, 0 skipped (already here), 0 rejected." in text
        assert "Checked the imported feeds: 2 working." in text
        subs = [s for s in await service(h).store.subscriptions() if s.channel_id == "news"]
        assert [(s.include, s.mode, s.digest_day, s.quiet_hours) for s in subs] == [
            (("EHC",), "digest", 4, None),
            ((), "each", 0, "21:00-07:00"),
        ]
        # Again: both are here now.
        again = await say_with_file(h, "!feeds import", path, channel="news")
        assert "Import: 0 added, 2 skipped (already here), 0 rejected." in again
    finally:
        await h.close()


async def test_each_outline_is_checked_like_feeds_add(tmp_path: Path, feed_server: FeedServer) -> None:
    good = feed_server.set("/good", rss(snj_entries(1)))
    missing = feed_server.url("/missing")
    h = await make(tmp_path)
    try:
        path = tmp_path / "in.opml"
        path.write_bytes(
            opml(
                '<outline text="folder">',
                f'<outline type="rss" text="Good" xmlUrl="{good}"/>',
                "</outline>",
                '<outline type="rss" text="FTP" xmlUrl="ftp://example.org/feed"/>',
                f'<outline type="rss" text="Odd mode" xmlUrl="{good}?x" xmlns:s="https://sendbot.invalid/opml"'
                ' s:mode="hourly"/>',
                f'<outline type="rss" text="Gone" xmlUrl="{missing}"/>',
            )
        )
        text = await say_with_file(h, "!feeds import", path)
        assert "Import: 2 added, 0 skipped (already here), 2 rejected." in text
        assert "ftp://example.org/feed (That address won't do: only http and https addresses are allowed.)" in text
        assert "mode should be each" in text
        assert "Checked the imported feeds: 1 working. 1 couldn't be used and were taken off again:" in text
        store = service(h).store
        assert [(await store.feed(s.feed_id)).url for s in await store.subscriptions()] == [good]  # type: ignore[union-attr]
    finally:
        await h.close()


HOSTILE = {
    "billion laughs": (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b'<opml version="2.0"><body><outline type="rss" text="&lol3;" xmlUrl="https://e.org/f"/></body></opml>'
    ),
    "external entity": (
        b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<opml version="2.0"><body><outline type="rss" text="&xxe;" xmlUrl="https://e.org/f"/></body></opml>'
    ),
    "utf-16 doctype": (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE opml [<!ENTITY x SYSTEM "http://127.0.0.1/x">]>'
        '<opml version="2.0"><body><outline type="rss" text="&x;" xmlUrl="https://e.org/f"/></body></opml>'
    ).encode("utf-16"),
    "not xml": b"<opml><body><outline",
    "not opml": b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>',
}


async def test_hostile_opml_changes_nothing(tmp_path: Path, feed_server: FeedServer) -> None:
    h = await make(tmp_path)
    try:
        for name, data in HOSTILE.items():
            path = tmp_path / f"{name.replace(' ', '-')}.opml"
            path.write_bytes(data)
            text = await say_with_file(h, "!feeds import", path)
            assert "I couldn't read that file" in text and "Nothing was changed." in text, (name, text)
            assert "root:" not in text and "lol" not in text
        big = tmp_path / "big.opml"
        big.write_bytes(opml('<outline type="rss" text="x" xmlUrl="https://e.org/f"/>' * (MAX_BYTES // 50)))
        assert "too big" in await say_with_file(h, "!feeds import", big)
        assert await service(h).store.subscriptions() == []
        assert feed_server.requests == []
    finally:
        await h.close()


async def test_import_by_link_and_plain_errors(tmp_path: Path, feed_server: FeedServer) -> None:
    good = feed_server.set("/good", rss(snj_entries(1)))
    link = feed_server.set("/subs.opml", opml(f'<outline type="rss" text="Good" xmlUrl="{good}"/>'))
    h = await make(tmp_path)
    try:
        text = await h.say_text(f"!feeds import {link}", moderator=True)
        assert "Import: 1 added" in text and "1 working" in text
        # Each surface says how a file is given there.
        console = await h.say_text("!feeds import", moderator=True)
        assert "Which file? End the line with < path/to/file.opml, or give its link" in console
        discord = await h.say_text("!feeds import", moderator=True, platform="discord", scope="g1")
        assert "Which file? Attach it, or give its link: !feeds import <link>." in discord
        assert "export here" in await h.say_text("!feeds export everything", moderator=True)
        assert "no feed subscriptions to export" in await h.say_text("!feeds export here", moderator=True, channel="x")
    finally:
        await h.close()


def test_export_survives_names_xml_cannot_hold() -> None:
    from datetime import UTC, datetime

    from feeds.opml import OpmlFeed, export_opml

    data = export_opml([OpmlFeed("https://e.org/f", "Bad\x0bname <&>")], "T\x00", datetime(2026, 1, 1, tzinfo=UTC))
    (feed,) = parse_opml(data)
    assert feed.title == "Badname <&>" and feed.url == "https://e.org/f"


async def test_five_hundred_outlines_are_refused_with_what_to_do(tmp_path: Path, feed_server: FeedServer) -> None:
    h = await make(tmp_path)
    try:
        path = tmp_path / "many.opml"
        path.write_bytes(opml(*(f'<outline type="rss" text="F{i}" xmlUrl="https://e.org/f{i}"/>' for i in range(500))))
        text = await say_with_file(h, "!feeds import", path)
        assert "it lists more than 200 feeds (split it into files of 200 or fewer)" in text
        assert "Nothing was changed." in text
        assert await service(h).store.subscriptions() == []
    finally:
        await h.close()


async def test_console_paths_with_spaces_and_quotes(tmp_path: Path) -> None:
    folder = tmp_path / "My files"
    folder.mkdir()
    path = folder / "forum feeds.opml"
    path.write_bytes(b"<opml/>")
    for line in (
        f"!feeds import < {path}",
        f'!feeds import < "{path}"',
        f"!feeds import < \u201c{path}\u201d",  # a pasted path in smart quotes
        f"!feeds import < '{path}'",
    ):
        text, files = attached_files(line)
        assert text == "!feeds import", line
        assert [f.filename for f in files] == ["forum feeds.opml"], line
        assert await files[0].read(100) == b"<opml/>"
    # A path with no spaces is taken as before, existing or not (the command says if it can't read it).
    text, files = attached_files("!feeds import < missing.opml")
    assert text == "!feeds import" and [f.filename for f in files] == ["missing.opml"]
    # Words after a "<" that name no file are not a file with spaces.
    assert attached_files("!rights a < b c")[1] == ()
