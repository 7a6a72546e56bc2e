"""Reading the dates parents type, the UK way.

Accepted: ISO (2026-01-05), day-first numbers (5/1/2026, 05-01-2026, 5.1.26), day and month
name (5 Jan 2026, 5th January 2026, Monday 5 January 2026, January 5 2026) and "today".
A numeric date is always read day first: 05/01/2026 is 5 January, never May. Anything else
(no year, a month 13, 31 February, a weekday that doesn't match) is refused with a message
that says what was understood and how to write it, because a wrong date here means a
wrong legal deadline.
"""

from __future__ import annotations

import re
from datetime import date

MIN_YEAR = 2000
MAX_YEAR = 2100

MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for name in names
}
WEEKDAYS = {
    name: i
    for i, names in enumerate(
        [
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        ]
    )
    for name in names
}
MONTH_NAMES = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

HOW_TO_WRITE = "Write the day first with the year, for example 5/1/2026, 5 Jan 2026 or 2026-01-05, or say today."

_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$", re.ASCII)
_NUMERIC = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})$", re.ASCII)
_NUMERIC_NO_YEAR = re.compile(r"^(\d{1,2})[/.-](\d{1,2})$", re.ASCII)
_DAY_MONTH = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?\s+([a-z]+)\.?,?(?:\s+(\d{2}|\d{4}))?$", re.ASCII)
_MONTH_DAY = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?(?:\s+(\d{2}|\d{4}))?$", re.ASCII)


class DateError(ValueError):
    """A date that could not be read safely; the message is shown to the parent."""


def format_date(d: date) -> str:
    """ "Mon 5 Jan 2026": unambiguous in every locale, and short enough for a list."""
    return f"{d:%a} {d.day} {d:%b} {d.year}"


def format_long(d: date) -> str:
    return f"{d:%A} {d.day} {MONTH_NAMES[d.month - 1]} {d.year}"


def parse_date(text: str, today: date) -> date:
    """Read one date; raise DateError with a one-line explanation if it can't be read safely."""
    raw = " ".join(text.strip().split())
    # Echo only harmless characters: the text may be an attempt at a mention or markup.
    shown = re.sub(r"[^A-Za-z0-9 /.,:-]", "?", raw[:40])
    s = raw.lower().rstrip(".")
    if not s:
        raise DateError(f"I need a date. {HOW_TO_WRITE}")
    if s in ("today", "now"):
        return today
    if s in ("yesterday", "tomorrow"):
        raise DateError(f"Please give the date itself rather than '{s}'. {HOW_TO_WRITE}")

    # A leading weekday is allowed ("Monday 5 January 2026") and must match the date.
    weekday: int | None = None
    first, _, rest = s.partition(" ")
    if first.rstrip(",") in WEEKDAYS and rest:
        weekday = WEEKDAYS[first.rstrip(",")]
        s = rest.strip()

    if m := _ISO.match(s):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        result = _build(y, mo, d, shown, iso=True)
    elif m := _NUMERIC.match(s):
        d, mo, y = int(m.group(1)), int(m.group(2)), _year(m.group(3))
        result = _build(y, mo, d, shown)
    elif _NUMERIC_NO_YEAR.match(s):
        raise DateError(f"'{shown}' has no year, so I can't be sure which date you mean. {HOW_TO_WRITE}")
    elif (m := _DAY_MONTH.match(s) or _MONTH_DAY.match(s)) is not None:
        if m.re is _DAY_MONTH:
            d, month_word, year_text = int(m.group(1)), m.group(2), m.group(3)
        else:
            month_word, d, year_text = m.group(1), int(m.group(2)), m.group(3)
        if month_word not in MONTHS:
            raise DateError(f"I don't recognise '{month_word[:15]}' as a month in '{shown}'. {HOW_TO_WRITE}")
        if year_text is None:
            raise DateError(f"'{shown}' has no year, so I can't be sure which date you mean. {HOW_TO_WRITE}")
        result = _build(_year(year_text), MONTHS[month_word], d, shown)
    else:
        raise DateError(f"I couldn't read '{shown}' as a date. {HOW_TO_WRITE}")

    if weekday is not None and result.weekday() != weekday:
        raise DateError(
            f"{result.day} {MONTH_NAMES[result.month - 1]} {result.year} is a {result:%A}, not a "
            f"{_weekday_name(weekday)}. Please check the date."
        )
    return result


def _year(text: str) -> int:
    # Two-digit years are this century: the replies always show the full date understood.
    return 2000 + int(text) if len(text) == 2 else int(text)


def _weekday_name(i: int) -> str:
    return ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"][i]


def _build(y: int, mo: int, d: int, shown: str, *, iso: bool = False) -> date:
    if not MIN_YEAR <= y <= MAX_YEAR:
        raise DateError(f"The year {y} in '{shown}' is out of range ({MIN_YEAR} to {MAX_YEAR}). {HOW_TO_WRITE}")
    if not 1 <= mo <= 12:
        if not iso and 1 <= d <= 12 and 13 <= mo <= 31:
            # 12/25/2026: probably month first. Say so rather than guess.
            raise DateError(
                f"'{shown}' has no month {mo}. Dates are read day first: did you mean "
                f"{mo}/{d}/{y} ({mo} {MONTH_NAMES[d - 1]} {y})?"
            )
        raise DateError(f"'{shown}' has no month {mo}. {HOW_TO_WRITE}")
    try:
        return date(y, mo, d)
    except ValueError:
        raise DateError(f"There is no {d} {MONTH_NAMES[mo - 1]} {y}. Please check the date.") from None
