"""The pipeline with claimed work (issue 15): a delivery another instance holds is left to it;
a dead instance's claim is taken over after its lease, through the unsure path (the nonce
check); a feed another instance is fetching is skipped. Real SQLite file, loopback feed
server, the test harness's fake clock; "another instance" is another instance id writing
its claims into the same database."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core import BotCore
from bot.model import ChannelRef, Reply
from feeds import delivery
from feeds.claims import keep_claims
from feeds.service import FeedService
from storage.claims import CLAIM_LEASE, FETCH_LEASE, Claims
from tests.support.feeds import cycle, make, service, titles
from tests.support.feedserver import FeedServer, rss, snj_entries
from tests.support.harness import Harness, RecordingMessenger

# On both storage backends: SQLite and PostgreSQL (tests/support/backends.py).
pytestmark = pytest.mark.usefixtures("each_backend")

OTHER = "other-99-abcdef"


class UnsureRecorder(RecordingMessenger):
    """Remembers which posts came as unsure (the platform would check the nonce first)."""

    def __init__(self) -> None:
        super().__init__("console")
        self.unsure: list[str | None] = []

    async def post(self, channel: ChannelRef, reply: Reply, *, nonce: str | None = None, unsure: bool = False) -> str:
        if unsure:
            self.unsure.append(nonce)
        return await super().post(channel, reply, nonce=nonce, unsure=unsure)


async def _queued(h: Harness, feed_server: FeedServer) -> None:
    url = feed_server.set("/snj", rss(snj_entries(2)))
    await h.say_text(f"!feeds add {url}", moderator=True)
    feed_server.set("/snj", rss(snj_entries(4)))
    await service(h).poll_due(force=True)  # stories 3 and 4 queued, not yet sent


async def test_a_delivery_held_by_another_instance_is_left_to_it_then_taken_over_as_unsure(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    h = await make(tmp_path)
    recorder = UnsureRecorder()
    h.messengers["console"] = recorder
    h.core.register_messenger(recorder)
    try:
        await _queued(h, feed_server)
        other = Claims(h.core.db, OTHER)
        [held] = await other.claim_deliveries(h.core.now(), ["console"], limit=1)
        assert await other.begin_send(held.id, h.core.now())  # then that instance was killed

        summary = await service(h).deliver_due()
        assert summary.sent == 1 and len(titles(h)) == 1  # only the unclaimed one
        assert recorder.unsure == []
        h.clock.advance(seconds=CLAIM_LEASE.total_seconds() - 1)
        assert (await service(h).deliver_due()).sent == 0  # its lease still holds

        h.clock.advance(seconds=2)  # the lease has run out: taken over, as unsure
        assert (await service(h).deliver_due()).sent == 1
        assert sorted(titles(h)) == ["SNJ story 3", "SNJ story 4"]
        assert recorder.unsure == [held.nonce]
        rows = await h.core.db.fetchall("SELECT 1 FROM feed_deliveries WHERE claimed_by IS NOT NULL")
        assert rows == []  # every claim given back
    finally:
        await h.close()


async def test_a_feed_another_instance_is_fetching_is_skipped(tmp_path: Path, feed_server: FeedServer) -> None:
    h = await make(tmp_path)
    try:
        await _queued(h, feed_server)
        await service(h).deliver_due()
        feed_server.set("/snj", rss(snj_entries(5)))
        [feed] = await service(h).store.feeds()
        hits = len(feed_server.hits("/snj"))
        assert await Claims(h.core.db, OTHER).lease_feeds([feed.id], h.core.now(), force=True) == {feed.id}

        await cycle(h)
        assert len(feed_server.hits("/snj")) == hits and "SNJ story 5" not in titles(h)
        h.clock.advance(seconds=FETCH_LEASE.total_seconds())  # that instance died mid-fetch
        await cycle(h)
        assert len(feed_server.hits("/snj")) == hits + 1 and titles(h).count("SNJ story 5") == 1
        assert await h.core.db.fetchall("SELECT 1 FROM feeds WHERE lease_by IS NOT NULL") == []
    finally:
        await h.close()


async def test_claims_are_renewed_while_a_long_fan_out_runs_then_given_back(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    h = await make(tmp_path)
    try:
        await _queued(h, feed_server)
        mine, other = Claims(h.core.db, h.core.instance), Claims(h.core.db, OTHER)
        lease = timedelta(seconds=3)  # renewed every second
        async with keep_claims(mine, h.core.now, lease=lease):
            assert len(await mine.claim_deliveries(h.core.now(), ["console"], lease=lease)) == 2
            h.clock.advance(seconds=2)
            await asyncio.sleep(1.2)  # a renewal: claimed until now + 3 s
            h.clock.advance(seconds=2)  # 4 s after the claim: still held
            assert await other.claim_deliveries(h.core.now(), ["console"]) == []
        assert len(await other.claim_deliveries(h.core.now(), ["console"])) == 2  # given back at the end
    finally:
        await h.close()


class SlowRecorder(RecordingMessenger):
    """A platform that takes a moment per post, so two instances' fan-outs overlap."""

    async def post(self, channel: ChannelRef, reply: Reply, *, nonce: str | None = None, unsure: bool = False) -> str:
        await asyncio.sleep(0.005)
        return await super().post(channel, reply, nonce=nonce, unsure=unsure)


async def test_two_instances_sharing_the_outbox_post_each_delivery_once(
    tmp_path: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "DELIVERY_BATCH", 3)  # small claims, so both instances get some
    channels = [f"c{n}" for n in range(4)]
    h = await make(
        tmp_path, subscriptions=[{"url": feed_server.set("/snj", rss(snj_entries(2))), "channel": c} for c in channels]
    )
    second = BotCore(h.core.config, h.core.db, clock=h.clock)  # another process on the same database
    try:
        await cycle(h)  # first sight: nothing posted
        feed_server.set("/snj", rss(snj_entries(7)))
        await service(h).poll_due(force=True)  # 5 new stories x 4 channels
        a, b = SlowRecorder("console"), SlowRecorder("console")
        h.core.register_messenger(a)
        second.register_messenger(b)
        other = FeedService(second)
        assert second.instance != h.core.instance
        results = await asyncio.gather(service(h).deliver_due(), other.deliver_due())
        assert sum(r.sent for r in results) == 20 and all(r.sent for r in results)
        nonces = [p.nonce for p in (*a.posts(), *b.posts())]
        assert len(nonces) == 20 and len(set(nonces)) == 20  # each delivery once, across both
        rows = await h.core.db.fetchall("SELECT status, claimed_by FROM feed_deliveries WHERE kind = 'post'")
        assert {(r["status"], r["claimed_by"]) for r in rows} == {("sent", None)}
    finally:
        await other.close()
        await h.close()
