"""The `mode=`, `at=`, `every=`, `day=` and `quiet=` words of `!feeds add` and `!feeds set`,
checked into a storage Timing (feeds/schedule.py says what each value means)."""

from __future__ import annotations

from dataclasses import replace

from bot.errors import UsageError
from feeds.schedule import (
    ScheduleError,
    parse_clock,
    parse_day,
    parse_every,
    parse_mode,
    parse_quiet_hours,
)
from storage.feeds import Timing

TIMING_HELP = {
    "mode": "`each` (every post as it comes) or `digest` (one message a day or a week)",
    "at": "for a digest: the time it is posted, like 18:00 (the forum's time zone)",
    "every": "for a digest: `day` or `week`",
    "day": "for a weekly digest: the day, like monday",
    "quiet": "quiet hours, like 21:00-07:00 (posts wait until after); `off` to stop",
}


def timing_from(
    base: Timing, *, mode: str = "", at: str = "", every: str = "", day: str = "", quiet: str = ""
) -> Timing:
    """`base` changed by the words given (empty: unchanged). Bad values raise UsageError
    with a plain message, before anything is stored."""
    t = base
    try:
        if mode:
            t = replace(t, mode=parse_mode(mode))
        if at:
            t = replace(t, digest_at=f"{parse_clock(at, 'at'):%H:%M}")
        if every:
            t = replace(t, digest_every=parse_every(every))
        if day:
            t = replace(t, digest_day=parse_day(day), digest_every="week" if not every else t.digest_every)
        if quiet:
            q = parse_quiet_hours(quiet)
            t = replace(t, quiet_hours=str(q) if q else None)
    except ScheduleError as e:
        raise UsageError(str(e)) from None
    if (at or every or day) and t.mode != "digest":
        raise UsageError("`at`, `every` and `day` are for digests: add `mode=digest`.")
    if day and t.digest_every != "week":
        raise UsageError("`day` is for a weekly digest: use `every=week`.")
    return t
