"""Issue 11: a failing feed is paused once it has failed for `pause_after_hours` (24 h), at
the first failed fetch at or after that moment, not a whole backoff step later (29.5 h).

The backoff doubles to 6 h (plus up to 10% jitter), so without a cap the fetch after 22.5 h
lands near 28.5-29.5 h. `after_failure(..., pause_at=...)` caps the next attempt at the
pause moment."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds import scheduler
from storage.feeds import from_iso
from tests.support.feeds import make, service
from tests.support.feedserver import FeedServer, rss, snj_entries

# On both storage backends: SQLite and PostgreSQL (tests/support/backends.py).
pytestmark = pytest.mark.usefixtures("each_backend")

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def failing_schedule(seed: int, interval: int = 10, hours: float = 24) -> list[datetime]:
    """The fetch times of a feed failing from T0, until the fetch that pauses it."""
    rng = random.Random(seed)
    pause_at = scheduler.pause_time(T0, hours)
    times, now, failures = [T0], T0, 1
    while not scheduler.should_pause(now, T0, hours):
        now = scheduler.after_failure(now, interval, failures, pause_at=pause_at, rng=rng)
        failures += 1
        times.append(now)
    return times


@pytest.mark.parametrize("seed", range(40))
def test_the_pause_comes_at_24_hours_not_a_backoff_step_later(seed: int) -> None:
    times = failing_schedule(seed)
    assert times[-1] == T0 + DAY  # the pausing fetch is at 24 h exactly
    assert all(t < T0 + DAY for t in times[:-1])  # and it is the first at or after 24 h
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) <= scheduler.MAX_BACKOFF * (1 + scheduler.JITTER)  # backoff unchanged otherwise


def test_other_pause_settings_and_intervals() -> None:
    for hours, interval in ((1, 10), (6, 30), (48, 10), (24, 1440)):
        times = failing_schedule(7, interval, hours)
        assert times[-1] == T0 + timedelta(hours=hours)


def test_cap_details() -> None:
    rng = random.Random(3)
    pause_at = T0 + timedelta(minutes=5)
    # Never later than the pause moment...
    assert scheduler.after_failure(T0, 10, 1, pause_at=pause_at, rng=rng) == pause_at
    # ...rounded up to the whole second, as stored times are rounded down.
    odd = T0 + timedelta(minutes=5, microseconds=400_000)
    assert scheduler.after_failure(T0, 10, 1, pause_at=odd, rng=rng) == T0 + timedelta(minutes=5, seconds=1)
    # A pause moment already past caps nothing (the caller pauses instead).
    assert scheduler.after_failure(T0, 10, 1, pause_at=T0 - DAY, rng=rng) - T0 >= timedelta(minutes=10)
    # The server's Retry-After remains a floor.
    assert scheduler.after_failure(T0, 10, 1, retry_after=3600, pause_at=pause_at, rng=rng) == T0 + timedelta(hours=1)
    # Without pause_at the schedule is as before.
    assert scheduler.after_failure(T0, 10, 9, rng=random.Random(0)) - T0 >= scheduler.MAX_BACKOFF


async def test_service_pauses_a_failing_feed_at_24_hours(tmp_path: Path, feed_server: FeedServer) -> None:
    """The background loop's view: fetch each time the feed is due, until it is paused."""
    url = feed_server.set("/snj", rss(snj_entries(1)))
    h = await make(tmp_path)
    try:
        await h.say(f"!feeds add {url}", moderator=True)
        feed_server.set("/snj", status=500)
        store = service(h).store
        fetches = 0
        while True:
            [feed] = await store.feeds()
            if feed.paused:
                break
            assert fetches < 100
            due = from_iso(feed.next_fetch_at)
            assert due is not None
            h.clock.value = max(h.clock.value, due)
            assert (await service(h).poll_due()).feeds == 1
            fetches += 1
        since = from_iso(feed.failing_since)
        assert since is not None
        paused_after = h.clock.value - since
        assert paused_after == DAY, f"paused after {paused_after}"
    finally:
        await h.close()
