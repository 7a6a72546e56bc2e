"""`DISCORD_TOKEN=x sendbot run --config c.toml` as a real process, pointed at the fake by
config alone: it connects, answers a prefix command, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from tests.support.fakes.discord_fake import CHANNEL_ID, GUILD_ID, FakeDiscord
from tests.support.processes import clean_env, start_run

pytestmark = pytest.mark.slow  # real subprocesses: left out of `make test-fast`


async def test_sendbot_run_connects_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    fake = await FakeDiscord.start()
    config = tmp_path / "c.toml"
    config.write_text(
        f"""
[storage]
path = "{tmp_path / "bot.sqlite3"}"

[feeds]
enabled = false

[discord]
api_base_url = "{fake.api_base_url}"
gateway_url = "{fake.gateway_url}"
guild_ids = [{GUILD_ID}]
""",
        encoding="utf-8",
    )
    # The installed console script, exactly as an admin runs it.
    proc = await start_run(config, cwd=tmp_path, env=clean_env(DISCORD_TOKEN="x"))
    try:
        identify = await fake.wait_identified()
        assert identify["token"] == "x"
        await fake.push("MESSAGE_CREATE", fake.message_payload("!help", author=fake.member_user))
        call = await fake.wait_for_call("POST", rf"/channels/{CHANNEL_ID}/messages")
        assert call.json["embeds"][0]["title"] == "SEND forum bot: commands"
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            _, stderr = await proc.communicate()
        assert proc.returncode == 0, stderr.decode()
        assert b"Traceback" not in stderr, stderr.decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await fake.close()
