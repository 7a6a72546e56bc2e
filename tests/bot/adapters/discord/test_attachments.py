"""A file attached to a Discord message reaches the command (read through discord.py's own
download), here `!feeds import` with an OPML file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.support.discord import DiscordEnv, discord_env
from tests.support.fakes.discord_fake import APP_ID, CHANNEL_ID, GUILD_ID
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


GUILD_SYNC = rf"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"
ANSWERS = r"/(interactions/\d+/[^/]+/callback|webhooks/\d+/[^/]+(/messages/@original)?)"


def _answer_text(call: Any) -> str:
    """The text of an interaction answer: the callback's data, or a webhook follow-up/edit."""
    body = call.json.get("data", call.json) if "type" in call.json else call.json
    body = body or {}
    return str(body.get("content") or "") + str(body.get("embeds") or "")


def _import_interaction(env: DiscordEnv, options: list[dict[str, Any]], attachments: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "1",
        "name": "feeds",
        "type": 1,
        "guild_id": str(GUILD_ID),
        "options": [{"name": "import", "type": 1, "options": options}],
    }
    if attachments:
        data["resolved"] = {"attachments": attachments}
    return env.fake.interaction_payload(data, by=env.fake.mod_user)


async def _answers(env: DiscordEnv, count: int) -> list[str]:
    """The first `count` interaction answers with text (a deferral has none), in order."""

    def enough() -> list[str] | None:
        calls = [c for c in env.fake.calls if c.method in ("POST", "PATCH") and re.fullmatch(ANSWERS, c.path)]
        texts = [t for t in (_answer_text(c) for c in calls) if t]
        return texts if len(texts) >= count else None

    return await env.fake.wait_until(enough)


async def test_slash_feeds_import_takes_the_file_as_an_attachment_option(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    good = feed_server.set("/good", rss(snj_entries(1)))
    body = (
        '<?xml version="1.0"?><opml version="2.0"><body>'
        f'<outline type="rss" text="Good" xmlUrl="{good}"/></body></opml>'
    ).encode()
    file_url = feed_server.set("/cdn/slash.opml", body, content_type="text/x-opml")
    config = {"feeds": {"allow_private_addresses": True, "enabled": False, "total_timeout_seconds": 5}}
    async with discord_env(tmp_path, cog_modules=["cogs.feeds"], config=config) as env:
        sync = await env.fake.wait_for_call("PUT", GUILD_SYNC)
        feeds = next(c for c in sync.json if c["name"] == "feeds")
        imp = next(o for o in feeds["options"] if o["name"] == "import")
        file_option = next(o for o in imp["options"] if o["name"] == "file")
        assert file_option["type"] == 11 and not file_option.get("required")  # an optional attachment
        assert "OPML" in file_option["description"]
        attachment = {
            "id": "900",
            "filename": "slash.opml",
            "size": len(body),
            "url": file_url,
            "proxy_url": file_url,
            "content_type": "text/x-opml",
        }
        payload = _import_interaction(env, [{"name": "file", "type": 11, "value": "900"}], {"900": attachment})
        await env.fake.push("INTERACTION_CREATE", payload)
        (answer,) = await _answers(env, 1)
        assert "Import: 1 added, 0 skipped (already here), 0 rejected." in answer
        follow = await env.fake.wait_for_call("POST", MESSAGES)
        assert "Checked the imported feeds: 1 working." in follow.json["content"]
        assert feed_server.hits("/cdn/slash.opml")  # downloaded by discord.py's client
        subs = await env.harness.core.db.fetchall("SELECT channel_id FROM feed_subscriptions")
        assert [r[0] for r in subs] == [str(CHANNEL_ID)]


async def test_slash_feeds_import_without_a_file_or_with_one_too_big(tmp_path: Path, feed_server: FeedServer) -> None:
    file_url = feed_server.set("/cdn/big.opml", b"<opml/>", content_type="text/x-opml")
    config = {"feeds": {"allow_private_addresses": True, "enabled": False}}
    async with discord_env(tmp_path, cog_modules=["cogs.feeds"], config=config) as env:
        await env.fake.wait_for_call("PUT", GUILD_SYNC)
        await env.fake.push("INTERACTION_CREATE", _import_interaction(env, [], {}))
        (answer,) = await _answers(env, 1)
        assert "Which file? Add it in the `file` option, or give its address in `link`." in answer
        big = {"id": "901", "filename": "big.opml", "size": 10 * 1024 * 1024, "url": file_url, "proxy_url": file_url}
        await env.fake.push(
            "INTERACTION_CREATE", _import_interaction(env, [{"name": "file", "type": 11, "value": "901"}], {"901": big})
        )
        answers = await _answers(env, 2)
        assert "That file is too big (the most is 256 KB)." in answers[1]
        assert not feed_server.hits("/cdn/big.opml")  # refused by its size, never downloaded
        assert await env.harness.core.db.fetchall("SELECT id FROM feed_subscriptions") == []
