"""When a subscription's posts go out: at once, after quiet hours, or in a digest.

Everything here is in the forum's local time (its `!settings` time zone, else [bot] timezone),
and the clock is passed in (`now`), so tests move it across a DST change without sleeping.

- `quiet_hours = "21:00-07:00"`: a post that falls due in those hours waits until they
  end; at the end, more than `ROUNDUP_OVER` of them go out as one message listing them.
- `mode = "digest"`: posts wait for the next digest time (`digest_at`, every day or every
  week on `digest_day`) and go out as one message. A digest time inside quiet hours moves to
  the end of them.

Storage records the decision (`FeedStore.ingest(..., hold=...)`); the round-ups are made
and sent by feeds/roundup.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Protocol

MODES = ("each", "digest")
EVERY = ("day", "week")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Held posts released together go in one message when there are more than this many.
ROUNDUP_OVER = 3
_CLOCK_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


class ScheduleError(ValueError):
    """A mode, time or quiet-hours value that won't do; the message is shown to moderators."""


class Timed(Protocol):
    """What a schedule needs of a subscription (storage.feeds.Subscription is one)."""

    @property
    def mode(self) -> str: ...
    @property
    def digest_at(self) -> str: ...
    @property
    def digest_every(self) -> str: ...
    @property
    def digest_day(self) -> int: ...
    @property
    def quiet_hours(self) -> str | None: ...


def parse_clock(text: str, what: str = "time") -> time:
    """ "18:00" or "7:30" (24-hour clock)."""
    m = _CLOCK_RE.match(text.strip())
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise ScheduleError(f"`{what}` should be a time on the 24-hour clock, like 18:00.")
    return time(int(m[1]), int(m[2]))


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, t: time) -> bool:
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end  # across midnight


def parse_quiet_hours(text: str | None) -> QuietHours | None:
    """ "21:00-07:00" -> QuietHours; "", "off" or "none" -> None."""
    if text is None or text.strip().lower() in ("", "off", "none", "no"):
        return None
    parts = text.replace("–", "-").split("-")
    if len(parts) != 2:
        raise ScheduleError("`quiet` should be two times, like 21:00-07:00 (or `off`).")
    quiet = QuietHours(parse_clock(parts[0], "quiet"), parse_clock(parts[1], "quiet"))
    if quiet.start == quiet.end:
        raise ScheduleError("Quiet hours need a start and an end that differ, like 21:00-07:00.")
    return quiet


def parse_mode(text: str) -> str:
    mode = text.strip().lower()
    if mode not in MODES:
        raise ScheduleError("`mode` should be `each` (every post as it comes) or `digest` (one message a day or week).")
    return mode


def parse_every(text: str) -> str:
    every = text.strip().lower()
    if every in ("daily", "day"):
        return "day"
    if every in ("weekly", "week"):
        return "week"
    raise ScheduleError("`every` should be `day` or `week`.")


def parse_day(text: str) -> int:
    """ "monday", "Mon" -> 0 ... "sunday" -> 6."""
    word = text.strip().lower()
    for i, day in enumerate(DAYS):
        if len(word) >= 3 and day.startswith(word):
            return i
    raise ScheduleError("`day` should be a day of the week, like monday.")


def _at(day: date, clock: time, tz: tzinfo) -> datetime:
    """That wall-clock time on that day in `tz` (a time skipped by a DST change lands just
    after the change)."""
    return datetime.combine(day, clock, tzinfo=tz)


def quiet_release(now: datetime, tz: tzinfo, quiet: QuietHours | None) -> datetime | None:
    """When quiet hours that include `now` end; None when `now` is not in quiet hours."""
    if quiet is None:
        return None
    local = now.astimezone(tz)
    if not quiet.contains(local.time().replace(tzinfo=None)):
        return None
    end = _at(local.date(), quiet.end, tz)
    if end <= now:
        end = _at(local.date() + timedelta(days=1), quiet.end, tz)
    return end


def next_digest(now: datetime, tz: tzinfo, at: time, every: str = "day", weekday: int = 0) -> datetime:
    """The first digest time after `now`: `at` local time, every day or each `weekday`.
    Each candidate is made from the local date and wall time, so 18:00 stays 18:00 across
    a clock change."""
    local = now.astimezone(tz)
    for ahead in range(0, 9):
        day = local.date() + timedelta(days=ahead)
        if every == "week" and day.weekday() != weekday:
            continue
        when = _at(day, at, tz)
        if when > now:
            return when
    raise AssertionError("no digest time within 9 days")  # unreachable: a week has 7 days


def hold(sub: Timed, now: datetime, tz: tzinfo) -> tuple[datetime, str] | None:
    """When a new post for `sub` is due, if not now, and why ("digest" or "quiet"). Values
    are checked before they are stored; one that slipped through posts at once."""
    try:
        quiet = parse_quiet_hours(sub.quiet_hours)
        if sub.mode == "digest":
            due = next_digest(now, tz, parse_clock(sub.digest_at), sub.digest_every, sub.digest_day)
            return quiet_release(due, tz, quiet) or due, "digest"
        release = quiet_release(now, tz, quiet)
    except ScheduleError:
        return None
    return (release, "quiet") if release else None


def describe(sub: Timed) -> str:
    """How a subscription posts, in a few words, for `!feeds list`."""
    if sub.mode == "digest":
        when = f"every {DAYS[sub.digest_day].title()}" if sub.digest_every == "week" else "daily"
        text = f"digest {when} at {sub.digest_at}"
    else:
        text = "each post"
    if sub.quiet_hours:
        text += f", quiet {sub.quiet_hours}"
    return text
