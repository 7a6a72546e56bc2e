"""/healthz and /metrics over real HTTP on a loopback port (port 0), against a real core with a
real SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.ops.health import OpsServer
from storage.db import Database
from tests.support.harness import Harness


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Harness, OpsServer, str]]:
    h = await Harness.create(tmp_path)
    server = OpsServer(h.core, ["discord"], "127.0.0.1", 0)
    port = await server.start()
    try:
        yield h, server, f"http://127.0.0.1:{port}"
    finally:
        await server.close()
        await h.close()


async def get(url: str) -> tuple[int, Any, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        text = await resp.text()
        body = await resp.json(content_type=None) if resp.content_type == "application/json" else None
        return resp.status, body, text


async def test_healthz_follows_the_adapter_and_the_loops(served: tuple[Harness, OpsServer, str]) -> None:
    h, server, base = served
    assert server.port > 0
    code, body, _ = await get(base + "/healthz")
    assert code == 503 and body["status"] == "unhealthy"
    assert body["adapters"] == {"discord": {"connected": False}} and "discord is not connected" in body["problems"]
    assert body["database"] == {"reachable": True, "error": None}
    assert body["poller_alive"] is None  # no poller in this process

    h.core.platform_ready("discord")
    code, body, _ = await get(base + "/healthz")
    assert code == 200 and body["status"] == "ok" and body["problems"] == []

    # A supervised loop: alive, then its cycle reported, then a crash (restarting).
    stop = asyncio.Event()

    async def loop() -> None:
        await stop.wait()
        raise RuntimeError("boom")

    h.core.supervise(loop, name="feeds-poller")
    status = h.core.loops["feeds-poller"]
    status.last_success = h.core.now() - timedelta(seconds=30)
    code, body, _ = await get(base + "/healthz")
    assert code == 200 and body["poller_alive"] is True and body["last_poll_cycle_age_seconds"] == 30.0

    h.clock.advance(minutes=61)  # [ops] poll_stale_minutes = 60 by default
    code, body, _ = await get(base + "/healthz")
    assert code == 503 and any("no feed poll cycle completed for 62 minutes" in p for p in body["problems"])
    status.last_success = h.core.now()

    stop.set()
    await asyncio.sleep(0.05)
    code, body, _ = await get(base + "/healthz")
    assert code == 503 and body["poller_alive"] is False
    assert (
        body["loops"]["feeds-poller"]["state"] == "restarting" and "boom" in body["loops"]["feeds-poller"]["last_error"]
    )

    h.core.platform_lost("discord")
    code, body, _ = await get(base + "/healthz")
    assert "discord is not connected" in body["problems"]


async def test_healthz_is_503_when_the_database_is_gone(served: tuple[Harness, OpsServer, str]) -> None:
    h, _, base = served
    h.core.platform_ready("discord")
    await h.core.db.close()
    code, body, _ = await get(base + "/healthz")
    assert code == 503 and body["database"]["reachable"] is False
    # Open again so that the fixture's close works.
    h.core.db = await Database.open(h.core.config.storage.path)


async def test_metrics_count_commands_feeds_and_read_the_queues(served: tuple[Harness, OpsServer, str]) -> None:
    h, _, base = served
    await h.say("!help")
    await h.say("!help")
    await h.say("!nosuchcommand")
    await h.say("!timeline appeal notadate")
    await h.say("!report the school said EHCPs are abolished", user_id="p1")
    h.core.metrics.feed_fetches.labels("new").inc()
    h.core.metrics.deliveries.labels("discord", "sent").inc(3)
    code, _, text = await get(base + "/metrics")
    assert code == 200
    assert 'sendbot_commands_total{command="help",outcome="ok"} 2.0' in text
    assert 'sendbot_commands_total{command="(unknown)",outcome="unknown"} 1.0' in text
    assert 'sendbot_command_duration_seconds_count{command="help"} 2.0' in text
    assert 'sendbot_feed_fetches_total{result="new"} 1.0' in text
    assert 'sendbot_deliveries_total{platform="discord",result="sent"} 3.0' in text
    assert "sendbot_reports_open 1.0" in text
    assert "sendbot_outbox_depth 0.0" in text
    assert 'sendbot_adapter_connected{platform="discord"} 0.0' in text
    assert "sendbot_database_up 1.0" in text
    assert "EHCPs" not in text  # nothing a person wrote becomes a label


async def test_a_port_in_use_is_an_error_at_start(served: tuple[Harness, OpsServer, str]) -> None:
    h, server, _ = served
    other = OpsServer(h.core, [], "127.0.0.1", server.port)
    with pytest.raises(OSError):
        await other.start()
