"""A feed waiting for a free connection is not timed out (issue 13: the poller runs more
workers than the fetcher has connections, so some always wait their turn)."""

from __future__ import annotations

import asyncio

from feeds.fetch import Fetcher, FetchSettings
from tests.support.feedserver import FeedServer, rss, snj_entries


async def _answer_after(server: FeedServer, path: str, seconds: float) -> None:
    route = server.routes[path]
    await route.arrived.wait()
    await asyncio.sleep(seconds)
    assert route.gate is not None
    route.gate.set()


async def test_time_waiting_for_a_connection_does_not_count_against_a_feed(feed_server: FeedServer) -> None:
    # One connection, a 0.6 s limit per fetch; three slow sites answer 0.35 s after they are
    # asked. Each fetch is well within its limit, but the third waits 0.7 s for its turn.
    body = rss(snj_entries(1))
    paths = [f"/slow-{i}" for i in range(3)]
    urls = [feed_server.set(p, body, gate=asyncio.Event()) for p in paths]
    settings = FetchSettings(user_agent="t", max_concurrency=1, total_timeout=0.6, allow_private_addresses=True)
    fetcher = Fetcher(settings)
    answers = [asyncio.create_task(_answer_after(feed_server, p, 0.35)) for p in paths]
    try:
        results = await asyncio.gather(*(fetcher.fetch(u) for u in urls))
    finally:
        for task in answers:
            task.cancel()
        for p in paths:
            feed_server.routes[p].gate.set()  # type: ignore[union-attr]  # no handler left waiting
        await fetcher.close()
    assert [r.outcome for r in results] == ["ok", "ok", "ok"], [r.error for r in results]


async def test_a_site_that_is_slow_once_asked_still_times_out(feed_server: FeedServer) -> None:
    gate = asyncio.Event()
    url = feed_server.set("/never", rss(snj_entries(1)), gate=gate)
    fetcher = Fetcher(FetchSettings(user_agent="t", max_concurrency=1, total_timeout=0.3, allow_private_addresses=True))
    try:
        result = await fetcher.fetch(url)
    finally:
        gate.set()  # let the server's handler finish
        await fetcher.close()
    assert result.outcome == "error" and "timed out" in (result.error or "")
