"""A file shared with a Slack message command reaches the command: downloaded with the
workspace's bot token, only from Slack's own hosts, only when the command reads it."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from bot.adapters.slack.files import shared_files
from tests.support.fakes.slack_fake import message_event, sign
from tests.support.feedserver import FeedServer
from tests.support.slack import LISTED_MOD, SECRET, running

OPML = (
    b'<?xml version="1.0"?><opml version="2.0"><body>'
    b'<outline type="rss" text="Feed" xmlUrl="http://127.0.0.1:9/feed"/></body></opml>'
)


async def test_a_shared_opml_file_reaches_feeds_import(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/files-pri/T1-F1/subs.opml", OPML, content_type="text/x-opml")
    async with running(tmp_path, "http", cog_modules=["cogs.feeds"]) as r:
        files = [{"id": "F1", "name": "subs.opml", "size": len(OPML), "url_private_download": url}]
        body = json.dumps(message_event("!feeds import", user_id=LISTED_MOD, subtype="file_share", files=files))
        headers = {"Content-Type": "application/json", **sign(SECRET, body)}
        async with aiohttp.ClientSession() as s, s.post(r.events_url, data=body.encode(), headers=headers) as resp:
            assert resp.status == 200
        (post,) = await r.fake.wait_for("chat.postMessage")
        # The file was read and checked: its one feed is on a private address, refused.
        assert "Import: 0 added, 0 skipped (already here), 1 rejected." in post.args["text"]
        (hit,) = feed_server.hits("/files-pri/T1-F1/subs.opml")
        assert hit.headers["Authorization"] == f"Bearer {r.fake.bot_token}"


def test_the_token_goes_only_to_slack_file_hosts() -> None:
    event = {
        "files": [
            {"name": "a.opml", "size": 10, "url_private_download": "https://files.slack.com/files-pri/T/a.opml"},
            {"name": "b.opml", "size": 10, "url_private_download": "https://evil.example/b.opml"},
            {"name": "c.opml", "size": 10, "url_private": "http://127.0.0.1:8/c.opml"},
            {"name": "d.opml", "size": 10},
        ]
    }
    files = shared_files(event, "xoxb-1", "https://slack.com/api/")
    assert [f.filename for f in files] == ["a.opml"]
    assert shared_files(event, None, "https://slack.com/api/") == ()
