"""`sendbot run` with Discord and Slack configured together: one process serves both, each
pointed at its fake by config alone, and SIGTERM stops both cleanly."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from tests.support.fakes.discord_fake import CHANNEL_ID, GUILD_ID, FakeDiscord
from tests.support.fakes.slack_fake import SlackFake, slash_command
from tests.support.processes import clean_env, start_run
from tests.support.slack import MEMBER, populate

pytestmark = pytest.mark.slow  # real subprocesses: left out of `make test-fast`


async def test_sendbot_run_serves_discord_and_slack_side_by_side(tmp_path: Path) -> None:
    discord_fake = await FakeDiscord.start()
    slack_fake = await SlackFake().start()
    populate(slack_fake)
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f"""
[storage]
path = "{tmp_path / "bot.sqlite3"}"

[feeds]
enabled = false

[discord]
api_base_url = "{discord_fake.api_base_url}"
gateway_url = "{discord_fake.gateway_url}"
guild_ids = [{GUILD_ID}]

[slack]
mode = "socket"
api_base_url = "{slack_fake.base_url}"
""",
        encoding="utf-8",
    )
    env = clean_env(DISCORD_TOKEN="x", SLACK_BOT_TOKEN=slack_fake.bot_token, SLACK_APP_TOKEN=slack_fake.app_token)
    proc = await start_run(cfg, cwd=tmp_path, env=env)
    try:
        await discord_fake.wait_identified()
        await slack_fake.wait_connected(within=15)
        help_message = discord_fake.message_payload("!help", author=discord_fake.member_user)
        await discord_fake.push("MESSAGE_CREATE", help_message)
        call = await discord_fake.wait_for_call("POST", rf"/channels/{CHANNEL_ID}/messages")
        assert call.json["embeds"][0]["title"] == "SEND forum bot: commands"
        await slack_fake.push("slash_commands", slash_command("/sendbot", "help", user_id=MEMBER), within=15)
        (post,) = await slack_fake.wait_for("chat.postMessage", within=15)
        assert post.args["channel"] == "C0GENERAL"
        assert "commands" in post.args["text"].lower()
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            _, stderr = await proc.communicate()
        assert proc.returncode == 0, stderr.decode()
        assert b"Traceback" not in stderr, stderr.decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await slack_fake.close()
        await discord_fake.close()
