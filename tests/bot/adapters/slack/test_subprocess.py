"""`sendbot run` as a real process in Slack HTTP mode, talking to the fake in this process."""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path

import aiohttp
import pytest

from tests.support.fakes.slack_fake import SlackFake, form_body, sign, slash_command
from tests.support.processes import clean_env, start_run
from tests.support.slack import SECRET

pytestmark = pytest.mark.slow  # real subprocesses: left out of `make test-fast`

LISTENING = re.compile(r"HTTP mode listening on http://127\.0\.0\.1:(\d+)/slack/events")


async def test_sendbot_run_serves_a_signed_slash_command_and_stops_on_sigterm(tmp_path: Path) -> None:
    fake = await SlackFake().start()
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f"""
[storage]
path = "{tmp_path / "bot.sqlite3"}"

[feeds]
enabled = false

[slack]
mode = "http"
http_host = "127.0.0.1"
http_port = 0
api_base_url = "{fake.base_url}"
""",
        encoding="utf-8",
    )
    proc = await start_run(
        cfg, cwd=tmp_path, env=clean_env(SLACK_BOT_TOKEN=fake.bot_token, SLACK_SIGNING_SECRET=SECRET)
    )
    log: list[str] = []
    try:
        assert proc.stderr is not None
        port = None
        while port is None:
            line = await asyncio.wait_for(proc.stderr.readline(), 20)
            assert line, "sendbot exited before listening:\n" + "".join(log)
            log.append(line.decode(errors="replace"))
            m = LISTENING.search(log[-1])
            port = int(m.group(1)) if m else None

        async def drain() -> None:
            assert proc.stderr is not None
            async for raw in proc.stderr:
                log.append(raw.decode(errors="replace"))

        drainer = asyncio.create_task(drain())
        body = form_body(slash_command("/sendbot", "help", user_id="UMEMBER01"))
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(SECRET, body)}
        url = f"http://127.0.0.1:{port}/slack/events"
        async with aiohttp.ClientSession() as s, s.post(url, data=body, headers=headers) as resp:
            assert resp.status == 200
        (post,) = await fake.wait_for("chat.postMessage", within=20)
        assert post.args["channel"] == "C0GENERAL"
        assert post.token == fake.bot_token
        assert post.json_arg("blocks")[0]["text"]["text"] == "SEND forum bot: commands"

        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 20)
        await asyncio.wait_for(drainer, 5)
        assert code == 0, "".join(log)
        assert not any("Traceback" in line for line in log), "".join(log)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await fake.close()
