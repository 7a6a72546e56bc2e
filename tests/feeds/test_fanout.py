"""Fan-out (feeds/fanout.py) and the delivery loop on it: one send at a time per channel, in
order, a bounded number at once, a slow or failing channel never holding the others up, and
a stop that lets the sends in flight finish and starts nothing new."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from pathlib import Path

import pytest

from bot.messenger import DeliveryError
from bot.model import ChannelRef, Reply
from feeds.fanout import FanOut
from tests.support.feeds import make, service
from tests.support.feedserver import FeedServer, rss, snj_entries
from tests.support.harness import Harness, RecordingMessenger

# On both storage backends: SQLite and PostgreSQL (tests/support/backends.py).
pytestmark = pytest.mark.usefixtures("each_backend")

Job = tuple[str, int]  # (lane, number within the lane)


class Tracker:
    def __init__(self) -> None:
        self.in_flight: dict[str, int] = defaultdict(int)
        self.total = 0
        self.max_total = 0
        self.max_per_lane = 0
        self.done: dict[str, list[int]] = defaultdict(list)
        self.started: list[Job] = []

    async def send(self, job: Job, delay: float = 0.0) -> bool:
        lane, n = job
        self.started.append(job)
        self.in_flight[lane] += 1
        self.total += 1
        self.max_per_lane = max(self.max_per_lane, self.in_flight[lane])
        self.max_total = max(self.max_total, self.total)
        try:
            await asyncio.sleep(delay)
        finally:
            self.in_flight[lane] -= 1
            self.total -= 1
        self.done[lane].append(n)
        return True


async def nothing_more() -> list[Job]:
    return []


def lanes_of(count: int, per_lane: int) -> list[Job]:
    # Interleaved as the outbox hands them out: by id, so every lane's jobs in order.
    return [(f"c{c}", n) for n in range(per_lane) for c in range(count)]


async def test_one_send_per_channel_at_a_time_in_order_and_bounded_overall() -> None:
    rng = random.Random(13)
    t = Tracker()
    fan: FanOut[Job] = FanOut(lambda j: t.send(j, rng.uniform(0, 0.01)), lambda j: j[0], concurrency=8)
    jobs = lanes_of(30, 4)
    batches = [jobs[i : i + 25] for i in range(0, len(jobs), 25)]

    async def more() -> list[Job]:
        return batches.pop(0) if batches else []

    await fan.run(more)
    assert t.max_per_lane == 1
    assert t.max_total == fan.max_in_flight == 8
    assert dict(t.done) == {f"c{c}": [0, 1, 2, 3] for c in range(30)}


async def test_a_slow_channel_does_not_hold_up_the_others() -> None:
    release = asyncio.Event()
    t = Tracker()

    async def send(job: Job) -> bool:
        if job == ("slow", 0):
            await release.wait()
        return await t.send(job)

    fan: FanOut[Job] = FanOut(send, lambda j: j[0], concurrency=4)
    fan.add([("slow", 0), ("slow", 1), *lanes_of(20, 2)])
    running = asyncio.create_task(fan.run(nothing_more))
    for _ in range(200):
        if sum(len(v) for v in t.done.values()) == 40:
            break
        await asyncio.sleep(0.005)
    assert sum(len(v) for v in t.done.values()) == 40  # every other channel, both items
    assert "slow" not in t.done
    release.set()
    await asyncio.wait_for(running, 5)
    assert t.done["slow"] == [0, 1]


async def test_a_channel_that_must_wait_keeps_its_later_jobs_back() -> None:
    sent: list[Job] = []

    async def send(job: Job) -> bool:
        sent.append(job)
        return job != ("c1", 0)  # c1's first must be retried later

    fan: FanOut[Job] = FanOut(send, lambda j: j[0], concurrency=2)
    offered = lanes_of(3, 3)
    calls = 0

    async def more() -> list[Job]:
        nonlocal calls
        calls += 1
        return offered if calls == 1 else [j for j in offered if j[0] == "c1"]  # offered again: dropped

    await fan.run(more)
    assert [j for j in sent if j[0] == "c1"] == [("c1", 0)]
    assert sorted(j for j in sent if j[0] != "c1") == [(c, n) for c in ("c0", "c2") for n in range(3)]


async def test_an_error_stops_new_sends_lets_the_others_finish_and_is_raised() -> None:
    t = Tracker()

    async def send(job: Job) -> bool:
        if job == ("c0", 0):
            raise RuntimeError("database gone")
        return await t.send(job, 0.05)

    fan: FanOut[Job] = FanOut(send, lambda j: j[0], concurrency=4)
    fan.add(lanes_of(10, 2))
    with pytest.raises(RuntimeError, match="database gone"):
        await fan.run(nothing_more)
    assert len(t.started) == 3  # those already in flight beside the failing one...
    assert sum(len(v) for v in t.done.values()) == 3  # ...finished; nothing new was started


async def test_stopping_starts_nothing_new_and_waits_for_the_sends_in_flight() -> None:
    stop = False
    t = Tracker()

    async def send(job: Job) -> bool:
        nonlocal stop
        stop = True  # asked to stop while the first sends are in flight
        return await t.send(job, 0.05)

    fan: FanOut[Job] = FanOut(send, lambda j: j[0], concurrency=5, stopping=lambda: stop)
    fan.add(lanes_of(20, 1))
    await fan.run(nothing_more)
    assert len(t.started) == 5 and sum(len(v) for v in t.done.values()) == 5


# -- the delivery loop on it --------------------------------------------------------


class GatedMessenger(RecordingMessenger):
    """Posts wait for `gate`; records how many were in flight at once, per channel too."""

    def __init__(self, platform: str) -> None:
        super().__init__(platform)
        self.gate = asyncio.Event()
        self.started: list[str] = []
        self.in_flight: dict[str, int] = defaultdict(int)
        self.max_per_channel = 0
        self._started = asyncio.Event()

    async def wait_started(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.started) < count:
                self._started.clear()
                await self._started.wait()

    async def post(self, channel: ChannelRef, reply: Reply, *, nonce: str | None = None, unsure: bool = False) -> str:
        self.started.append(channel.channel_id)
        self._started.set()
        self.in_flight[channel.channel_id] += 1
        self.max_per_channel = max(self.max_per_channel, self.in_flight[channel.channel_id])
        try:
            await self.gate.wait()
            return await super().post(channel, reply, nonce=nonce, unsure=unsure)
        finally:
            self.in_flight[channel.channel_id] -= 1


async def subscribed(tmp_path: Path, feed_server: FeedServer, channels: int, items: int) -> Harness:
    url = feed_server.set("/snj", rss(snj_entries(items)))
    subs = [{"url": url, "channel": f"news-{i}", "latest": items} for i in range(channels)]
    h = await make(tmp_path, subscriptions=subs)
    await service(h).poll_due(force=True)
    return h


async def test_deliveries_go_out_concurrently_one_per_channel_oldest_first(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    h = await subscribed(tmp_path, feed_server, channels=40, items=3)
    try:
        gated = GatedMessenger("console")
        h.core.register_messenger(gated)
        svc = service(h)
        svc.delivery_concurrency = 10
        task = asyncio.create_task(svc.deliver_due())
        await gated.wait_started(10)
        await asyncio.sleep(0.05)
        assert len(gated.started) == 10  # the bound, all waiting on the platform
        gated.gate.set()
        summary = await asyncio.wait_for(task, 10)
        assert summary.sent == 120 and gated.max_per_channel == 1 and svc.last_fanout_in_flight == 10
        by_channel: dict[str, list[str]] = defaultdict(list)
        for p in gated.posts():
            assert p.channel is not None and p.reply is not None and p.reply.card is not None
            by_channel[p.channel.channel_id].append(p.reply.card.title)
        assert by_channel == {f"news-{i}": ["SNJ story 1", "SNJ story 2", "SNJ story 3"] for i in range(40)}
    finally:
        await h.close()


async def test_a_retry_keeps_that_channels_later_items_back_and_the_rest_go(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    h = await subscribed(tmp_path, feed_server, channels=3, items=2)
    try:
        messenger = h.messengers["console"]
        messenger.fail_next.append(DeliveryError("Discord is not connected yet"))
        summary = await service(h).deliver_due()
        assert (summary.sent, summary.retrying) == (4, 1)
        rows = await h.core.db.fetchall(
            "SELECT channel_id, status, attempts FROM feed_deliveries ORDER BY channel_id, id"
        )
        waiting = [(r["channel_id"], r["status"], r["attempts"]) for r in rows if r["status"] != "sent"]
        # The failed one and its channel's next item: pending; the next one never tried.
        assert len(waiting) == 2 and {w[0] for w in waiting} == {waiting[0][0]}
        assert [w[2] for w in waiting] == [1, 0]
    finally:
        await h.close()


async def test_stop_lets_the_sends_in_flight_finish_and_starts_no_more(tmp_path: Path, feed_server: FeedServer) -> None:
    h = await subscribed(tmp_path, feed_server, channels=30, items=1)
    try:
        gated = GatedMessenger("console")
        h.core.register_messenger(gated)
        svc = service(h)
        svc.delivery_concurrency = 8
        task = asyncio.create_task(svc.deliver_due())
        await gated.wait_started(8)
        svc.request_stop()
        gated.gate.set()
        summary = await asyncio.wait_for(task, 10)
        assert summary.sent == 8 and len(gated.started) == 8
        rows = await h.core.db.fetchall("SELECT status, sending_at FROM feed_deliveries")
        assert sorted(r["status"] for r in rows) == ["pending"] * 22 + ["sent"] * 8
        assert all(r["sending_at"] is None for r in rows)  # none left unsure
    finally:
        await h.close()
