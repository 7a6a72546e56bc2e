"""Report jobs run once across instances (issue 15): announcement retries and the hourly
maintenance are done only by the instance holding their lease. "Another instance" is another
instance id holding the lease in the same database (SQLite allows one process per file)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.messenger import DeliveryError
from cogs.reports import retention
from cogs.reports.announcer import ANNOUNCE_LEASE, ANNOUNCE_LEASE_TTL
from storage.leases import Leases
from tests.support.harness import Harness
from tests.support.reports import MOD_CHANNEL, cog, make_harness


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await make_harness(tmp_path)
    try:
        yield harness
    finally:
        await harness.close()


def notices(h: Harness) -> list[object]:
    return [s for s in h.sent("console") if s.kind == "post" and s.channel and s.channel.channel_id == MOD_CHANNEL]


async def test_announcement_retries_are_left_to_the_instance_holding_the_lease(h: Harness) -> None:
    h.messengers["console"].fail_next.append(DeliveryError("gateway down"))
    await h.outcome("!report the school said we must wait")
    await cog(h).drain()
    h.clock.advance(minutes=3)
    other = Leases(h.core.db, "other-7-abcdef", h.core.now)
    assert await other.try_lease(ANNOUNCE_LEASE, ANNOUNCE_LEASE_TTL)  # retrying elsewhere
    assert await cog(h).retry_announcements() == 0 and notices(h) == []
    h.clock.advance(seconds=ANNOUNCE_LEASE_TTL.total_seconds())  # that instance died
    assert await cog(h).retry_announcements() == 1 and len(notices(h)) == 1
    assert await other.holder(ANNOUNCE_LEASE) is None  # released when done


async def test_maintenance_runs_on_one_instance_per_interval(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[str] = []

    async def counted() -> None:
        runs.append(h.core.instance)

    monkeypatch.setattr(cog(h), "run_maintenance", counted)
    other = Leases(h.core.db, "other-7-abcdef", h.core.now)
    assert await other.try_lease(retention.MAINTENANCE_LEASE, retention.MAINTENANCE_LEASE_TTL)

    async def one_pass() -> None:
        monkeypatch.setattr(retention.asyncio, "sleep", _stop)
        with pytest.raises(_Stopped):
            await cog(h)._maintenance_loop()

    await one_pass()
    assert runs == []  # the other instance holds it
    h.clock.advance(seconds=retention.MAINTENANCE_LEASE_TTL.total_seconds())
    await one_pass()
    assert runs == [h.core.instance]
    assert await other.holder(retention.MAINTENANCE_LEASE) == h.core.instance  # kept until the next run
    assert not await other.try_lease(retention.MAINTENANCE_LEASE, retention.MAINTENANCE_LEASE_TTL)


class _Stopped(Exception):
    pass


_real_sleep = asyncio.sleep


async def _stop(seconds: float) -> None:
    """The maintenance loop's hourly sleep ends the test's pass; any other sleep is real."""
    if seconds >= retention.MAINTENANCE_INTERVAL:
        raise _Stopped
    await _real_sleep(seconds)
