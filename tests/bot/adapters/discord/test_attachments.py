"""A file attached to a Discord message reaches the command (read through discord.py's own
download), here `!feeds import` with an OPML file."""

from __future__ import annotations

from pathlib import Path

from tests.support.discord import discord_env
from tests.support.fakes.discord_fake import CHANNEL_ID
from tests.support.feedserver import FeedServer, rss, snj_entries

MESSAGES = rf"/channels/{CHANNEL_ID}/messages"


async def test_an_attached_opml_file_is_imported(tmp_path: Path, feed_server: FeedServer) -> None:
    good = feed_server.set("/good", rss(snj_entries(1)))
    body = (
        '<?xml version="1.0"?><opml version="2.0"><body>'
        f'<outline type="rss" text="Good" xmlUrl="{good}"/></body></opml>'
    ).encode()
    file_url = feed_server.set("/cdn/subs.opml", body, content_type="text/x-opml")
    config = {"feeds": {"allow_private_addresses": True, "enabled": False, "total_timeout_seconds": 5}}
    async with discord_env(tmp_path, cog_modules=["cogs.feeds"], config=config) as env:
        payload = env.fake.message_payload("!feeds import", author=env.fake.mod_user)
        payload["attachments"] = [
            {"id": "77", "filename": "subs.opml", "size": len(body), "url": file_url, "proxy_url": file_url}
        ]
        await env.fake.push("MESSAGE_CREATE", payload)
        answer = await env.fake.wait_for_call("POST", MESSAGES)
        assert "Import: 1 added, 0 skipped (already here), 0 rejected." in answer.json["content"]
        follow = await env.fake.wait_for_call("POST", MESSAGES, count=2)
        assert "Checked the imported feeds: 1 working." in follow.json["content"]
        assert feed_server.hits("/cdn/subs.opml")  # downloaded by discord.py's client
        subs = await env.harness.core.db.fetchall("SELECT channel_id FROM feed_subscriptions")
        assert [r[0] for r in subs] == [str(CHANNEL_ID)]
