"""Feed posts on the console: shown in an interactive session, never fetched by a scripted one."""

from __future__ import annotations

import asyncio
import os
import pty
from pathlib import Path

import pytest

from tests.support.feedserver import FeedServer, rss, snj_entries
from tests.support.processes import SENDBOT, clean_env

pytestmark = pytest.mark.slow  # real subprocesses: left out of `make test-fast`


def config_with_feed(tmp_path: Path, url: str) -> Path:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[storage]\npath = "{tmp_path / "db.sqlite3"}"\n'
        "[feeds]\nallow_private_addresses = true\n"
        f'[[feeds.subscriptions]]\nurl = "{url}"\nname = "SNJ"\nchannel = "general"\nlatest = 2\n'
    )
    return cfg


async def test_scripted_console_answers_and_fetches_nothing(tmp_path: Path) -> None:
    server = await FeedServer().start()
    try:
        cfg = config_with_feed(tmp_path, server.set("/feed/", rss(snj_entries(3))))
        proc = await asyncio.create_subprocess_exec(
            SENDBOT, "run", "--config", str(cfg),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            cwd=tmp_path, env=clean_env(),
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(b"!help\n"), 60)
        assert proc.returncode == 0
        assert b"SEND forum bot: commands" in out
        assert b"feed poller started" not in err
        assert server.requests == []
    finally:
        await server.close()


async def test_interactive_console_shows_the_latest_feed_posts(tmp_path: Path) -> None:
    server = await FeedServer().start()
    master, slave = pty.openpty()
    try:
        cfg = config_with_feed(tmp_path, server.set("/feed/", rss(snj_entries(3))))
        proc = await asyncio.create_subprocess_exec(
            SENDBOT, "run", "--config", str(cfg),
            stdin=slave, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            cwd=tmp_path, env=clean_env(),
        )  # fmt: skip
        os.close(slave)
        assert proc.stdout is not None
        seen = b""

        async def until(marker: bytes) -> None:
            nonlocal seen
            while marker not in seen:
                chunk = await proc.stdout.read(4096)  # type: ignore[union-attr]
                assert chunk, f"output ended before {marker!r}: {seen.decode(errors='replace')}"
                seen += chunk

        await asyncio.wait_for(until(b"SNJ story 3"), 30)
        await asyncio.wait_for(until(b"SNJ story 2"), 30)
        assert b"SNJ story 1" not in seen  # latest = 2: the newest two only
        assert b"[#general]" in seen
        os.write(master, b"\x04")  # Ctrl-D: end of input at the terminal
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        assert len(server.hits("/feed/")) >= 1
        # The interactive console logs to a file ([logging] console_file) and shows only warnings.
        assert b"feed poller started" not in await proc.stderr.read()  # type: ignore[union-attr]
        assert "feed poller started" in (tmp_path / "data" / "console.log").read_text(encoding="utf-8")
    finally:
        os.close(master)
        await server.close()


async def test_scripted_console_add_answers_then_reports_and_imports_a_file(tmp_path: Path) -> None:
    """`!feeds add` answers at once and its follow-up (the first fetch) still prints before a
    scripted console exits; `!feeds import < file` attaches a local OPML file."""
    server = await FeedServer().start()
    try:
        url = server.set("/feed/", rss(snj_entries(3)))
        other = server.set("/other/", rss(snj_entries(2), title="Other"))
        cfg = tmp_path / "c.toml"
        cfg.write_text(f'[storage]\npath = "{tmp_path / "db.sqlite3"}"\n[feeds]\nallow_private_addresses = true\n')
        opml = tmp_path / "subs.opml"
        opml.write_text(
            f'<?xml version="1.0"?><opml version="2.0"><body><outline type="rss" text="O" xmlUrl="{other}"/>'
            "</body></opml>"
        )
        proc = await asyncio.create_subprocess_exec(
            SENDBOT, "run", "--config", str(cfg),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            cwd=tmp_path, env=clean_env(),
        )  # fmt: skip
        script = f"!feeds add {url}\n!feeds import < {opml}\n".encode()
        out, err = await asyncio.wait_for(proc.communicate(script), 60)
        text = out.decode()
        assert proc.returncode == 0, err.decode()
        assert text.index("Added. I am checking the feed now...") < text.index("Recorded 3 current item(s)")
        assert "Import: 1 added, 0 skipped (already here), 0 rejected." in text
        assert "Checked the imported feeds: 1 working." in text
    finally:
        await server.close()
