"""Socket Mode: the real slack_sdk Socket Mode client connects to the fake's WebSocket
(found through a fake apps.connections.open) and answers every envelope with an ack."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.adapters.slack import SlackAdapter, SlackConfigError
from bot.core import BotCore
from tests.support.fakes.slack_fake import SlackFake, message_event, message_shortcut, slash_command
from tests.support.slack import ADMIN, MEMBER, config, running


async def test_connects_with_the_app_token(tmp_path: Path) -> None:
    async with running(tmp_path, "socket") as r:
        await r.fake.wait_connected()
        opens = r.fake.of("apps.connections.open")
        assert opens and all(c.token == r.fake.app_token for c in opens)
        assert r.adapter.http_port is None  # no HTTP server in Socket Mode


async def test_slash_command_envelope_is_acked_before_the_cog_runs(tmp_path: Path) -> None:
    async with running(tmp_path, "socket") as r:
        ack = await r.fake.push("slash_commands", slash_command("/sendbot", "slow", user_id=MEMBER))
        # The ack arrived while the cog is still blocked on `release`.
        assert not r.probe.release.is_set()
        assert set(ack) >= {"envelope_id"}
        await asyncio.wait_for(r.probe.started.wait(), 5)
        assert not r.fake.of("chat.postMessage")
        r.probe.release.set()
        (post,) = await r.fake.wait_for("chat.postMessage")
        assert post.args["text"] == "done waiting"


async def test_events_api_message_command(tmp_path: Path) -> None:
    async with running(tmp_path, "socket") as r:
        ack = await r.fake.push("events_api", message_event("!rights ehcp", user_id=MEMBER))
        assert "envelope_id" in ack
        (post,) = await r.fake.wait_for("chat.postMessage")
        assert post.args["channel"] == "C0GENERAL"
        assert [b["type"] for b in post.json_arg("blocks")] == ["header", "section", "section", "actions", "context"]


async def test_interactive_shortcut_reports_the_message(tmp_path: Path) -> None:
    async with running(tmp_path, "socket") as r:
        payload = message_shortcut(reporter_id=MEMBER, author_id=ADMIN, text="Tribunals cost £1000 to appeal")
        ack = await r.fake.push("interactive", payload)
        assert "envelope_id" in ack
        (eph,) = await r.fake.wait_for("chat.postEphemeral")
        assert eph.args["user"] == MEMBER
        ((_ctx, reported),) = r.reports
        assert reported.text == "Tribunals cost £1000 to appeal"
        assert reported.author.name == "Admin"


async def test_member_refused_and_ephemeral_over_socket(tmp_path: Path) -> None:
    async with running(tmp_path, "socket") as r:
        await r.fake.push("slash_commands", slash_command("/sendbot", "purge", user_id=MEMBER))
        (eph,) = await r.fake.wait_for("chat.postEphemeral")
        assert "moderators" in eph.args["text"]
        await r.fake.push("slash_commands", slash_command("/sendbot", "purge", user_id=ADMIN))
        (post,) = await r.fake.wait_for("chat.postMessage")
        assert post.args["text"] == "purged"


async def test_a_refused_app_token_stops_with_one_clear_error(tmp_path: Path) -> None:
    fake = await SlackFake().start()
    try:
        core = await BotCore.create(
            config(tmp_path, fake, "socket", app_token="xapp-revoked"), cog_modules=["cogs.help"]
        )
        adapter = SlackAdapter(core)
        with pytest.raises(SlackConfigError, match="app-level token"):
            await asyncio.wait_for(adapter.run(), 10)
        await adapter.close()
        await core.stop()
        assert fake.socket_connections == 0
    finally:
        await fake.close()


@pytest.mark.parametrize(
    ("mode", "missing", "message"),
    [("socket", "app_token", "app-level token"), ("http", "signing_secret", "signing secret")],
)
async def test_missing_token_for_the_mode_is_a_config_error(
    tmp_path: Path, mode: str, missing: str, message: str
) -> None:
    fake = await SlackFake().start()
    cfg = config(tmp_path, fake, mode, **{missing: None})
    core = await BotCore.create(cfg, cog_modules=["cogs.help"])
    try:
        adapter = SlackAdapter(core)
        with pytest.raises(SlackConfigError, match=message):
            await asyncio.wait_for(adapter.run(), 10)
        await adapter.close()
        assert fake.calls == []  # refused before talking to Slack at all
    finally:
        await core.stop()
        await fake.close()


async def test_message_event_is_acked_before_the_cog_runs(tmp_path: Path) -> None:
    async with running(tmp_path, "socket") as r:
        await r.fake.push("events_api", message_event("!slow", user_id=MEMBER))
        await asyncio.wait_for(r.probe.started.wait(), 5)
        assert not r.fake.of("chat.postMessage")
        r.probe.release.set()
        (post,) = await r.fake.wait_for("chat.postMessage")
        assert post.args["text"] == "done waiting"


async def test_a_refreshed_socket_reconnects_and_keeps_serving(tmp_path: Path) -> None:
    """Slack closes Socket Mode connections routinely; the adapter opens a new one (with the
    app token) and goes on answering, without running anything twice."""
    async with running(tmp_path, "socket") as r:
        await r.fake.push("slash_commands", slash_command("/sendbot", "whisper", user_id=MEMBER))
        await r.fake.wait_for("chat.postEphemeral")
        await r.fake.refresh_socket()
        opens = r.fake.of("apps.connections.open")
        assert len(opens) >= 2 and all(c.token == r.fake.app_token for c in opens)
        ack = await r.fake.push("events_api", message_event("!whisper", user_id=MEMBER))
        assert ack["envelope_id"]
        await r.fake.wait_for("chat.postEphemeral", count=2)
        assert len(r.fake.of("chat.postEphemeral")) == 2
