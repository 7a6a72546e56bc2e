"""Claimed work (issue 15): deliveries, feed fetches and singleton jobs held by one instance at
a time, with leases that lapse; and the shared rate budget. SQLite allows one process per
database, so "two instances" here are two instance ids on one real database file, timed by
a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from storage.claims import CLAIM_LEASE, FETCH_LEASE, Claims, release_orphans
from storage.db import Database as SqliteDatabase
from storage.feeds import FeedStore
from storage.handle import Database
from storage.leases import Leases, new_instance_id
from storage.rate_budget import RateBudget, budget_key
from tests.storage.test_feed_items import T0, ingest, item, primed_store


@pytest.fixture
async def queued(database: Database) -> AsyncIterator[tuple[Database, FeedStore, int]]:
    """A database with three posts due at T0 + 1 h (one feed, one channel), on each backend."""
    store, feed_id = await primed_store(database, [item(1)])
    report = await ingest(store, feed_id, [item(2), item(3), item(4), item(1)], T0 + timedelta(hours=1))
    assert report.queued == 3
    yield database, store, feed_id


NOW = T0 + timedelta(hours=1)


async def test_a_claimed_delivery_is_not_handed_to_another_instance_until_its_lease_passes(
    queued: tuple[Database, FeedStore, int],
) -> None:
    db, _, _ = queued
    a, b = Claims(db, "host-1-aaaaaa"), Claims(db, "host-2-bbbbbb")
    mine = await a.claim_deliveries(NOW, ["console"], limit=2)
    assert len(mine) == 2 and [d.id for d in mine] == sorted(d.id for d in mine)
    theirs = await b.claim_deliveries(NOW, ["console"])
    assert len(theirs) == 1 and theirs[0].id not in {d.id for d in mine}  # only the unclaimed one
    assert await b.claim_deliveries(NOW + CLAIM_LEASE - timedelta(seconds=1), ["console"]) == [theirs[0]]
    assert not await b.begin_send(mine[0].id, NOW)  # not b's to send

    # a renews while it works: still not b's after the first lease would have passed
    assert await a.renew_deliveries(NOW + timedelta(seconds=30)) == 2
    later = NOW + CLAIM_LEASE + timedelta(seconds=1)
    assert {d.id for d in await b.claim_deliveries(later, ["console"])} == {theirs[0].id}
    # a stops renewing (killed): once its lease has passed, b takes its deliveries over
    gone = NOW + timedelta(seconds=30) + CLAIM_LEASE
    assert {d.id for d in await b.claim_deliveries(gone, ["console"])} == {d.id for d in mine} | {theirs[0].id}
    assert not await a.begin_send(mine[0].id, gone)  # a, come back to life, must not send it
    assert await b.begin_send(mine[0].id, gone)


async def test_an_expired_claim_cut_off_mid_send_is_taken_over_as_unsure(
    queued: tuple[Database, FeedStore, int],
) -> None:
    db, store, _ = queued
    dead, alive = Claims(db, "dead-1-000000"), Claims(db, "alive-2-111111")
    [first, *_] = await dead.claim_deliveries(NOW, ["console"], limit=1)
    assert not first.unsure
    assert await dead.begin_send(first.id, NOW)  # marked in flight, then the process died
    # Another instance starting now settles in-flight rows, but does not take a live claim.
    assert await store.settle_in_flight(NOW) == 0  # a live claim: a send in progress, not cut off
    assert first.id not in {d.id for d in await alive.claim_deliveries(NOW, ["console"])}
    await alive.release_deliveries()

    taken = await alive.claim_deliveries(NOW + CLAIM_LEASE, ["console"])
    assert taken[0].id == first.id and taken[0].unsure  # first, and through the nonce check
    assert taken[0].nonce == first.nonce
    assert [d.unsure for d in taken[1:]] == [False, False]


async def test_every_outcome_releases_the_claim(queued: tuple[Database, FeedStore, int]) -> None:
    db, store, _ = queued
    a = Claims(db, "a-1-000000")
    sent, retried, failed = await a.claim_deliveries(NOW, ["console"])
    await store.mark_sent(sent.id, "m1", NOW)
    await store.mark_retry(retried.id, "busy", NOW + timedelta(minutes=1))
    await store.mark_failed(failed.id, "gone")
    rows = await db.fetchall("SELECT claimed_by, claim_until FROM feed_deliveries WHERE claimed_by IS NOT NULL")
    assert rows == []
    # the retried one is due again later, for any instance
    again = await Claims(db, "b-2-000000").claim_deliveries(NOW + timedelta(minutes=1), ["console"])
    assert [d.id for d in again] == [retried.id]


async def test_a_feed_is_fetched_by_one_instance_per_interval(queued: tuple[Database, FeedStore, int]) -> None:
    db, store, feed_id = queued
    a, b = Claims(db, "a-1-000000"), Claims(db, "b-2-000000")
    due_at = NOW + timedelta(hours=1)  # the feed's next fetch (ingest set 30 minutes)
    assert await a.lease_feeds([feed_id], NOW) == set()  # not due yet
    assert await a.lease_feeds([feed_id], due_at) == {feed_id}
    assert await b.lease_feeds([feed_id], due_at) == set()  # a is fetching it
    assert await b.lease_feeds([feed_id], due_at, force=True) == set()  # even when forced
    assert await a.lease_feeds([feed_id], due_at) == {feed_id}  # its own, again
    # a fetched it: the next fetch moved on, so b, listing it as due earlier, does not refetch
    await ingest(store, feed_id, [item(1)], due_at)
    await a.release_feeds()
    assert await b.lease_feeds([feed_id], due_at) == set()
    assert await b.lease_feeds([feed_id], due_at, force=True) == {feed_id}
    # a lease left by a killed instance lapses
    assert await a.lease_feeds([feed_id], due_at + FETCH_LEASE, force=True) == {feed_id}


async def test_a_job_lease_is_held_by_one_instance_and_renewed_while_held(database: Database) -> None:
    db = database
    clock = [T0]
    a, b = (Leases(db, name, lambda: clock[0]) for name in ("a-1-000000", "b-2-000000"))
    ttl = timedelta(minutes=10)
    assert await a.try_lease("job", ttl)
    assert not await b.try_lease("job", ttl)
    clock[0] += timedelta(minutes=9)
    assert await a.try_lease("job", ttl)  # renewed
    clock[0] += timedelta(minutes=9)
    assert not await b.try_lease("job", ttl) and await b.holder("job") == "a-1-000000"
    clock[0] += timedelta(minutes=2)  # a stopped renewing 11 minutes ago
    assert await b.holder("job") is None
    assert await b.try_lease("job", ttl)
    assert not await a.try_lease("job", ttl)

    # Run once: of two instances starting the job together, one runs it.
    runs: list[str] = []

    async def job(leases: Leases) -> None:
        async with leases.held("retention", timedelta(seconds=3)) as mine:
            if mine:
                runs.append(leases.instance)
                clock[0] += timedelta(seconds=2)
                await asyncio.sleep(1.1)  # a renewal comes every third of the ttl
                clock[0] += timedelta(seconds=2)  # 4 s after it was taken: held by renewal
                assert await leases.holder("retention") == leases.instance

    await asyncio.gather(job(a), job(b))
    assert len(runs) == 1
    assert await a.holder("retention") is None  # released when done
    # kept past the job ("once per interval")
    async with a.held("hourly", timedelta(hours=1), release=False) as mine:
        assert mine
    assert await b.holder("hourly") == "a-1-000000"


async def test_orphaned_claims_are_released_only_by_the_sole_sqlite_instance(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    db = await SqliteDatabase.open(path)
    store, feed_id = await primed_store(db, [item(1)])
    await ingest(store, feed_id, [item(2), item(1)], NOW)
    await Claims(db, "old-1-000000").claim_deliveries(NOW, ["console"])
    await Leases(db, "old-1-000000", lambda: NOW).try_lease("job", timedelta(hours=1))
    assert await release_orphans(db) == 0  # not holding the one-bot lock: others may be alive
    await db.close()

    db = await SqliteDatabase.open(path, exclusive=True)
    try:
        assert db.exclusive
        assert await release_orphans(db) == 2
        assert len(await Claims(db, "new-2-000000").claim_deliveries(NOW, ["console"])) == 1
        assert await Leases(db, "new-2-000000", lambda: NOW).try_lease("job", timedelta(hours=1))
    finally:
        await db.close()


def test_instance_ids_differ_per_process_object() -> None:
    one, two = new_instance_id(), new_instance_id()
    assert one != two and one.split("-")[-2] == two.split("-")[-2]  # same pid, different random part


async def test_the_rate_budget_spaces_reservations_and_keys_by_a_hash(database: Database) -> None:
    db = database
    token = "xoxb-secret-token"
    key = budget_key("slack", token)
    assert token not in key and key.startswith("slack:") and key == budget_key("slack", token)
    a, b = RateBudget(db, key), RateBudget(db, key)  # two instances, one token
    now, step = 1_000_000_000, 20_000
    slots = [await (a if i % 2 else b).reserve(now, step) for i in range(10)]
    assert slots == [now + i * step for i in range(10)]
    # idle: the next slot is now, not in the past (no burst made up after a pause)
    assert await a.reserve(now + 10_000_000, step) == now + 10_000_000
    await b.hold(now + 20_000_000)  # a 429's Retry-After, for everyone
    assert await a.reserve(now + 10_100_000, step) == now + 20_000_000
    other = RateBudget(db, budget_key("slack", "another-token"))
    assert await other.reserve(now, step) == now  # another token, another budget
    rows = await db.fetchall("SELECT key FROM rate_budget")
    assert all(token not in r[0] for r in rows)


@pytest.mark.sqlite_only  # SQLite's query plans
async def test_claim_queries_reach_deliveries_through_an_index(queued: tuple[Database, FeedStore, int]) -> None:
    db, _, _ = queued
    a = Claims(db, "a-1-000000")
    plans: list[str] = []
    for sql, params in (
        (
            "SELECT d.id FROM feed_deliveries d LEFT JOIN feed_subscriptions s ON s.id = d.subscription_id"
            " WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND COALESCE(s.paused, 0) = 0"
            " AND d.platform IN (?) AND (d.claimed_by IS NULL OR d.claim_until <= ? OR d.claimed_by = ?)"
            " ORDER BY d.sending_at IS NULL, d.id LIMIT ?",
            ("2026", "console", "2026", "a", 5),
        ),
        ("UPDATE feed_deliveries SET claim_until = ? WHERE claimed_by = ?", ("2026", "a")),
    ):
        rows = await db.fetchall(f"EXPLAIN QUERY PLAN {sql}", params)
        plans += [r["detail"] for r in rows]
    assert not [p for p in plans if p.startswith("SCAN d") or p.startswith("SCAN feed_deliveries")], plans
    assert len(await a.claim_deliveries(NOW, ["console"])) == 3
