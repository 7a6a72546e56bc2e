"""Quiet hours and digest times in the forum's local time, across clock changes (no clock
but the one passed in)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.errors import UsageError
from cogs.feeds.timing import timing_from
from feeds.schedule import (
    QuietHours,
    ScheduleError,
    describe,
    hold,
    next_digest,
    parse_quiet_hours,
    quiet_release,
)
from storage.feeds import Timing

LONDON = ZoneInfo("Europe/London")
NIGHT = QuietHours(time(21), time(7))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "release"),
    [
        (utc(2026, 11, 27, 22, 0), utc(2026, 11, 28, 7, 0)),  # evening: the next morning
        (utc(2026, 11, 28, 6, 59), utc(2026, 11, 28, 7, 0)),  # small hours: this morning
        (utc(2026, 11, 27, 21, 0), utc(2026, 11, 28, 7, 0)),  # the first quiet minute
        (utc(2026, 11, 28, 7, 0), None),  # over
        (utc(2026, 11, 27, 12, 0), None),  # daytime
        # Summer (BST): 21:00 local is 20:00 UTC; quiet ends 07:00 BST = 06:00 UTC.
        (utc(2026, 7, 1, 20, 30), utc(2026, 7, 2, 6, 0)),
        (utc(2026, 7, 1, 19, 59), None),
        # The night the clocks go back (25 Oct 2026): 07:00 GMT, a 25-hour day.
        (utc(2026, 10, 24, 21, 0), utc(2026, 10, 25, 7, 0)),
        # The night they go forward (28 Mar 2027): 07:00 BST = 06:00 UTC.
        (utc(2027, 3, 27, 22, 0), utc(2027, 3, 28, 6, 0)),
    ],
)
def test_quiet_hours_release_at_their_local_end(now: datetime, release: datetime | None) -> None:
    assert quiet_release(now, LONDON, NIGHT) == release


def test_daytime_quiet_hours_need_no_midnight() -> None:
    lunch = QuietHours(time(12), time(13, 30))
    assert quiet_release(utc(2026, 11, 27, 12, 15), LONDON, lunch) == utc(2026, 11, 27, 13, 30)
    assert quiet_release(utc(2026, 11, 27, 13, 30), LONDON, lunch) is None


def test_digest_time_stays_at_local_time_across_clock_changes() -> None:
    six = time(18)
    # Saturday 27 March 2027, after 18:00 GMT: the next digest is Sunday 18:00 BST (17:00 UTC).
    assert next_digest(utc(2027, 3, 27, 18, 30), LONDON, six) == utc(2027, 3, 28, 17, 0)
    # Saturday 24 October 2026, after 18:00 BST: Sunday 18:00 GMT (18:00 UTC).
    assert next_digest(utc(2026, 10, 24, 17, 30), LONDON, six) == utc(2026, 10, 25, 18, 0)
    # Before today's time: today.
    assert next_digest(utc(2026, 11, 27, 9, 0), LONDON, six) == utc(2026, 11, 27, 18, 0)
    # Exactly at the time: the next one (this one is being sent).
    assert next_digest(utc(2026, 11, 27, 18, 0), LONDON, six) == utc(2026, 11, 28, 18, 0)


def test_weekly_digest_comes_on_its_day() -> None:
    # Friday 27 November 2026, 12:00: Friday's digest at 17:00 is today; after it, next week.
    assert next_digest(utc(2026, 11, 27, 12, 0), LONDON, time(17), "week", 4) == utc(2026, 11, 27, 17, 0)
    assert next_digest(utc(2026, 11, 27, 17, 0), LONDON, time(17), "week", 4) == utc(2026, 12, 4, 17, 0)
    # Monday's from a Tuesday: six days on.
    assert next_digest(utc(2026, 11, 24, 9, 0), LONDON, time(8), "week", 0) == utc(2026, 11, 30, 8, 0)


def test_a_digest_inside_quiet_hours_waits_for_their_end() -> None:
    t = Timing(mode="digest", digest_at="22:00", quiet_hours="21:00-07:00")
    assert hold(t, utc(2026, 11, 27, 12, 0), LONDON) == (utc(2026, 11, 28, 7, 0), "digest")
    assert hold(Timing(quiet_hours="21:00-07:00"), utc(2026, 11, 27, 12, 0), LONDON) is None
    assert hold(Timing(), utc(2026, 11, 27, 23, 0), LONDON) is None


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ({"mode": "sometimes"}, "`mode` should be `each`"),
        ({"mode": "digest", "at": "25:00"}, "`at` should be a time on the 24-hour clock"),
        ({"mode": "digest", "at": "6pm"}, "like 18:00"),
        ({"at": "18:00"}, "add `mode=digest`"),
        ({"mode": "digest", "every": "fortnight"}, "`every` should be `day` or `week`"),
        ({"mode": "digest", "day": "funday"}, "a day of the week"),
        ({"mode": "digest", "every": "day", "day": "monday"}, "use `every=week`"),
        ({"quiet": "21:00"}, "two times, like 21:00-07:00"),
        ({"quiet": "21:00-21:00"}, "a start and an end that differ"),
        ({"quiet": "9pm-7am"}, "24-hour clock"),
    ],
)
def test_bad_timing_words_get_a_plain_message(words: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        timing_from(Timing(), **words)


def test_timing_words_read_as_volunteers_write_them() -> None:
    t = timing_from(Timing(), mode="Digest", at="7:05", day="Fri", quiet="22:00-06:30")
    assert t == Timing("digest", "07:05", "week", 4, "22:00-06:30")
    assert describe(t) == "digest every Friday at 07:05, quiet 22:00-06:30"
    assert timing_from(t, mode="each", quiet="off") == Timing("each", "07:05", "week", 4, None)
    assert parse_quiet_hours("off") is None
    with pytest.raises(ScheduleError):
        parse_quiet_hours("late")
