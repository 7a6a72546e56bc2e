"""The feed pipeline counts what /metrics reports: fetches by result, deliveries by result,
429s from a feed's site, and each completed cycle's time for /healthz."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.metrics import Metrics
from tests.support.feeds import cycle, make, service
from tests.support.feedserver import FeedServer, rss, snj_entries

# On both storage backends: SQLite and PostgreSQL (tests/support/backends.py).
pytestmark = pytest.mark.usefixtures("each_backend")


def value(metrics: Metrics, name: str, **labels: str) -> float:
    got = metrics.registry.get_sample_value(name, labels)
    return got or 0.0


async def test_fetches_deliveries_and_429s_are_counted(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(2)))
    h = await make(tmp_path)
    try:
        m = h.core.metrics
        await h.say(f"!feeds add {url}", moderator=True)
        feed_server.set("/snj", rss(snj_entries(3)))
        await cycle(h)
        assert value(m, "sendbot_feed_fetches_total", result="new") == 1
        assert value(m, "sendbot_deliveries_total", platform="console", result="sent") == 1
        await cycle(h)
        assert value(m, "sendbot_feed_fetches_total", result="unchanged") == 1
        feed_server.set("/snj", b"slow down", status=429)
        await cycle(h)
        assert value(m, "sendbot_feed_fetches_total", result="error") == 1
        assert value(m, "sendbot_rate_limited_total", source="feeds") == 1
    finally:
        await h.close()


async def test_a_completed_cycle_is_reported_to_the_loop_status(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.set("/snj", rss(snj_entries(1)))
    h = await make(tmp_path, enabled=True)
    try:
        h.core.serving = True
        await h.core.cogs["feeds"].on_start()
        status = h.core.loops["feeds-poller"]
        async with asyncio.timeout(20):
            while status.last_success is None:  # noqa: ASYNC110 (the loop runs in its own task)
                await asyncio.sleep(0.05)
        assert status.last_success == h.core.now()
        assert value(h.core.metrics, "sendbot_feed_poll_cycles_total") >= 1
        service(h).request_stop()
    finally:
        await h.close()
