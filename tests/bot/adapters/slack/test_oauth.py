"""Several workspaces through OAuth (HTTP mode, `[slack] client_id`): the install page and
redirect are bolt's, the installation is kept in the bot's database, and every call for a
workspace carries that workspace's token. Real slack_bolt and slack_sdk against the fake."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import aiohttp

from bot.adapters.slack.install import BOT_SCOPES
from bot.model import ChannelRef, Reply
from tests.support.fakes.slack_fake import message_event, sign
from tests.support.slack import MEMBER, SECRET, Running, running

SECOND = "T0SECOND1"
MANIFEST = json.loads((Path(__file__).parents[4] / "slack-manifest.json").read_text(encoding="utf-8"))


def _oauth(r_fake: Any) -> dict[str, Any]:
    return {"bot_token": None, "client_id": r_fake.client_id, "client_secret": r_fake.client_secret}


def _base(r: Running) -> str:
    return f"http://127.0.0.1:{r.adapter.http_port}"


async def _install(r: Running, team: str) -> None:
    r.fake.oauth_codes[f"code-{team}"] = team
    async with aiohttp.ClientSession() as s:
        async with s.get(_base(r) + "/slack/install", allow_redirects=False) as resp:
            page = await resp.text()
            assert resp.status == 200, page
            # The state cookie is Secure (https in real use), so it is handed back by hand here.
            cookie = resp.headers["Set-Cookie"].split(";")[0]
        m = re.search(r"state=([\w-]+)", page)
        assert m, page
        params = {"code": f"code-{team}", "state": m.group(1)}
        url = _base(r) + "/slack/oauth_redirect"
        async with s.get(url, params=params, headers={"Cookie": cookie}, allow_redirects=False) as resp:
            assert resp.status == 200, await resp.text()


def _event_from(team: str, payload: dict[str, Any]) -> dict[str, Any]:
    payload["team_id"] = team
    payload["event"]["team"] = team
    for a in payload.get("authorizations") or []:
        a["team_id"] = team
    return payload


async def _post_event(r: Running, payload: dict[str, Any]) -> int:
    body = json.dumps(payload)
    headers = {"Content-Type": "application/json", **sign(SECRET, body)}
    async with aiohttp.ClientSession() as s, s.post(r.events_url, data=body.encode(), headers=headers) as resp:
        return resp.status


def test_the_scopes_asked_for_at_install_are_the_manifests() -> None:
    assert set(BOT_SCOPES) == set(MANIFEST["oauth_config"]["scopes"]["bot"])
    events = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_uninstalled", "tokens_revoked"} <= events


async def test_a_workspace_installs_and_is_served_with_its_own_token(tmp_path: Path) -> None:
    from tests.support.fakes.slack_fake import SlackFake

    probe = SlackFake()  # only for its client id and secret, which every fake shares
    async with running(tmp_path, "http", **_oauth(probe)) as r:
        assert r.fake.of("auth.test") == []  # no token of its own to check
        await _install(r, SECOND)
        (row,) = await r.core.db.fetchall("SELECT team_id, bot_token FROM slack_installations")
        assert tuple(row) == (SECOND, f"xoxb-{SECOND.lower()}-token")
        # A command from that workspace is answered with that workspace's token.
        assert await _post_event(r, _event_from(SECOND, message_event("!rights ehcp", user_id=MEMBER))) == 200
        (post,) = await r.fake.wait_for("chat.postMessage")
        assert post.token == f"xoxb-{SECOND.lower()}-token"
        # So is what the bot starts itself (a feed post) in that workspace's channel.
        await r.adapter.post(ChannelRef("slack", SECOND, "C0NEWS"), Reply("news"))
        posts = await r.fake.wait_for("chat.postMessage", count=2)
        assert posts[1].token == f"xoxb-{SECOND.lower()}-token" and posts[1].args["channel"] == "C0NEWS"


async def test_an_uninstalled_workspace_is_forgotten(tmp_path: Path) -> None:
    from tests.support.fakes.slack_fake import SlackFake

    async with running(tmp_path, "http", **_oauth(SlackFake())) as r:
        await _install(r, SECOND)
        uninstall = _event_from(SECOND, message_event("", user_id=MEMBER))
        uninstall["event"] = {"type": "app_uninstalled", "event_ts": "1790000009.000001"}
        assert await _post_event(r, uninstall) == 200

        async def gone() -> bool:
            return not await r.core.db.fetchall("SELECT team_id FROM slack_installations")

        for _ in range(100):  # bolt handles the event after acknowledging it
            if await gone():
                break
            await asyncio.sleep(0.02)
        assert await gone()
