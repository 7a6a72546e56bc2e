"""/healthz and `sendbot status` with `[storage] url`: a PostgreSQL server of this test's own on
loopback, stopped and started again under a running core, so "database reachable" is seen to
follow the real server (a `SELECT 1` with a short timeout), and to come back with it."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.ops.health import DB_TIMEOUT, OpsServer
from bot.ops.status import cmd_status
from tests.support.backends import pg_unavailable
from tests.support.harness import Harness
from tests.support.postgres import PostgresServer, find_bin, why_unavailable

pytestmark = pytest.mark.slow  # a PostgreSQL server of its own, stopped and started


@pytest.fixture
def own_server() -> Iterator[PostgresServer]:
    reason = why_unavailable()
    if reason is not None:
        pg_unavailable(reason)
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


def _pg_ctl(server: PostgresServer, *args: str) -> None:
    pg_ctl = find_bin("pg_ctl")
    assert pg_ctl
    data = str(server.dir / "data")
    subprocess.run([*server._as, pg_ctl, "-D", data, *args], check=True, capture_output=True, timeout=120)


def stop(server: PostgresServer) -> None:
    _pg_ctl(server, "-m", "fast", "-w", "stop")


def start(server: PostgresServer) -> None:
    opts = f"-k {server.dir} -p {server.port} -c listen_addresses=127.0.0.1 -c fsync=off"
    _pg_ctl(server, "-o", opts, "-l", str(server.dir / "log"), "-w", "start")


async def get(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.json(content_type=None)


def status(url: str, capsys: pytest.CaptureFixture[str], h: Harness) -> tuple[int, str]:
    code = cmd_status(argparse.Namespace(url=url, json=False), h.core.config)
    out = capsys.readouterr()
    return code, out.out + out.err


async def test_healthz_and_status_follow_the_postgresql_server(
    own_server: PostgresServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    h = await Harness.create(tmp_path, {"storage": {"url": own_server.url("postgres")}})
    server = OpsServer(h.core, ["discord"], "127.0.0.1", 0)
    port = await server.start()
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        h.core.platform_ready("discord")
        code, body = await get(url)
        assert code == 200, body
        assert body["database"] == {"reachable": True, "error": None}
        code, text = await asyncio.to_thread(status, url, capsys, h)
        assert code == 0 and "database: reachable" in text

        await asyncio.to_thread(stop, own_server)
        began = time.monotonic()
        code, body = await get(url)
        assert time.monotonic() - began < DB_TIMEOUT + 3  # a short timeout, not a hang
        assert code == 503 and body["database"]["reachable"] is False
        assert any("database is not reachable" in p for p in body["problems"])
        code, text = await asyncio.to_thread(status, url, capsys, h)
        assert code == 1 and "NOT healthy" in text and "database: NOT reachable" in text

        await asyncio.to_thread(start, own_server)
        code, body = await get(url)  # the pool connects again by itself
        assert code == 200 and body["database"]["reachable"] is True
    finally:
        await server.close()
        await h.close()
