"""When to fetch next: interval with jitter, server hints, exponential backoff, pause.

Pure functions, so the schedule is tested without clocks or sockets.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

MAX_BACKOFF = timedelta(hours=6)
JITTER = 0.1  # up to 10% of the interval, so feeds added together drift apart
_RANDOM = random.Random()  # tests pass their own seeded one


def after_success(
    now: datetime,
    interval_minutes: int,
    *,
    max_age: float | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """The next fetch: the interval plus jitter, or later if the server's max-age says so."""
    jitter = (rng or _RANDOM).uniform(0, JITTER)
    base = timedelta(minutes=interval_minutes)
    delay = base + base * jitter
    if max_age is not None:
        delay = max(delay, timedelta(seconds=max_age))
    return now + delay


def after_failure(
    now: datetime,
    interval_minutes: int,
    failures: int,
    *,
    retry_after: float | None = None,
    pause_at: datetime | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """Exponential backoff from the interval (failures counts this one), capped at 6 hours.

    `pause_at` (see `pause_time`) is when the feed will have failed for long enough to be
    paused: the next attempt is never later than that, so the pause comes at the first
    failed fetch at that moment rather than up to a whole backoff step (6.6 h) after it.
    A Retry-After from the server is a floor, even past `pause_at`."""
    base = timedelta(minutes=interval_minutes)
    delay = min(base * (2 ** max(0, min(failures - 1, 16))), MAX_BACKOFF)
    delay += delay * (rng or _RANDOM).uniform(0, JITTER)
    if pause_at is not None and now < pause_at:
        delay = min(delay, _ceil_second(pause_at) - now)
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    return now + delay


def pause_time(failing_since: datetime, pause_after_hours: float) -> datetime:
    """When a feed failing since `failing_since` is due to be paused."""
    return failing_since + timedelta(hours=pause_after_hours)


def should_pause(now: datetime, failing_since: datetime | None, pause_after_hours: float) -> bool:
    return failing_since is not None and now >= pause_time(failing_since, pause_after_hours)


def _ceil_second(t: datetime) -> datetime:
    """Times are stored to the second (rounded down): an attempt due at 12:00:00.4 would be
    stored as 12:00:00 and run before the pause moment, failing once more for nothing."""
    return t if not t.microsecond else t.replace(microsecond=0) + timedelta(seconds=1)


def delivery_backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """Retry a failed send after 30 s, doubling to at most an hour; the platform's
    retry_after is a floor."""
    delay = timedelta(seconds=min(30 * 2 ** min(attempts, 10), 3600))
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    return delay
