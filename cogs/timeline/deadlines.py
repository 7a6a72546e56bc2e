"""Statutory deadline arithmetic, kept pure (no bot, no I/O) so every rule is testable alone.

Weeks and days are plain calendar arithmetic. The tribunal appeal deadline follows the
Tribunal Procedure (First-tier Tribunal) (HESC) Rules 2008:
- r.20(1)(c): 2 months after the decision letter, or 1 month after the mediation
  certificate if that is later; "months" are calendar months (the corresponding date, or
  the month's last day where there is none), which is what dateutil's relativedelta does;
- r.12(3)(a): in a SEN case, if that time ends on 25 December to 1 January inclusive, or on
  any day in August, the appeal is in time if sent on the first working day after 1 January
  or after 31 August;
- r.12(2): a time limit ending on a non-working day runs to the next working day.
Working days exclude weekends and England and Wales bank holidays (the `holidays` package,
subdivision "ENG": England and Wales share the same bank holidays).

The Christmas and August rule is applied to the date the time limit itself ends, and the
next-working-day rule only otherwise: when the two could interact (a limit ending on a
weekend just before 25 December, or on Sat 31 July) this gives the earlier, safer date, and
the explanation says so (SAFE_DATE_NOTE).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import holidays
from dateutil.relativedelta import relativedelta

from cogs.timeline.dates import format_date


@dataclass(frozen=True)
class Deadline:
    """One computed date with how it was worked out and the rule behind it."""

    key: str
    label: str
    due: date
    how: str  # e.g. "6 weeks after Mon 5 Jan 2026"
    rule: str
    url: str
    note: str = ""


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_bank_holiday(d: date) -> bool:
    return d in _bank_holidays(d.year)


def is_working_day(d: date) -> bool:
    """Monday to Friday and not a bank holiday in England and Wales."""
    return d.weekday() < 5 and not is_bank_holiday(d)


def next_working_day(d: date, *, after: bool = False) -> date:
    """The first working day on or after `d` (strictly after when `after`)."""
    d = d + timedelta(days=1) if after else d
    while not is_working_day(d):
        d += timedelta(days=1)
    return d


def why_not_working(d: date) -> str:
    if d.weekday() >= 5:
        return f"a {d:%A}"
    names = holidays.country_holidays("GB", subdiv="ENG", years=d.year)
    return f"a bank holiday ({names.get(d)})"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def offset(start: date, *, weeks: int = 0, days: int = 0) -> tuple[date, str]:
    """`start` plus weeks and days, with the sentence that explains it."""
    due = start + timedelta(weeks=weeks, days=days)
    parts = [plural(weeks, "week")] if weeks else []
    if days:
        parts.append(plural(days, "day"))
    return due, f"{' and '.join(parts)} after {format_date(start)}"


def add_months(start: date, months: int) -> tuple[date, str]:
    """Calendar months: the corresponding date, or the month's last day if there is none."""
    due = start + relativedelta(months=months)
    how = f"{plural(months, 'calendar month')} after {format_date(start)}"
    if due.day != start.day:
        how += f" (there is no {start.day} {due:%B} {due.year}, so the last day of {due:%B})"
    return due, how


# Added when the next-working-day rule (12(2)) lands in August or 25 December-1 January.
SAFE_DATE_NOTE = "This is the safe date to aim for; get advice if you need the later date rule 12(3) may allow."


@dataclass(frozen=True)
class AppealDeadline:
    due: date
    steps: tuple[str, ...] = field(default_factory=tuple)  # how the date was reached, in order
    raw_end: date | None = None  # where the time limit ended before rule 12 moved it


def _in_christmas_window(d: date) -> bool:
    return (d.month == 12 and d.day >= 25) or (d.month == 1 and d.day == 1)


def appeal_deadline(decision: date, certificate: date | None = None) -> AppealDeadline:
    """When an appeal to the First-tier Tribunal (SEND) must be received (TPR 2008 r.20, r.12)."""
    steps: list[str] = []
    end, how = add_months(decision, 2)
    steps.append(f"Decision letter: {how} = {format_date(end)}.")
    if certificate is not None:
        cert_end, cert_how = add_months(certificate, 1)
        if cert_end > end:
            steps.append(f"Mediation certificate: {cert_how} = {format_date(cert_end)}, which is later, so it applies.")
            end = cert_end
        else:
            steps.append(
                f"Mediation certificate: {cert_how} = {format_date(cert_end)}, which is not later, "
                "so the 2 months apply."
            )
    due = end
    if _in_christmas_window(end):
        jan1 = date(end.year + 1 if end.month == 12 else end.year, 1, 1)
        due = next_working_day(jan1, after=True)
        steps.append(
            f"{format_date(end)} falls between 25 December and 1 January, so the deadline moves to the "
            f"first working day after 1 January: {format_date(due)} (rule 12(3))."
        )
    elif end.month == 8:
        aug31 = date(end.year, 8, 31)
        due = next_working_day(aug31, after=True)
        steps.append(
            f"{format_date(end)} is in August, so the deadline moves to the first working day after "
            f"31 August: {format_date(due)} (rule 12(3))."
        )
    elif not is_working_day(end):
        due = next_working_day(end)
        steps.append(
            f"{format_date(end)} is {why_not_working(end)}, so the deadline moves to the next working day: "
            f"{format_date(due)} (rule 12(2))."
        )
        if due.month == 8 or _in_christmas_window(due):
            # Rule 12(2) has carried the limit into August or 25 Dec-1 Jan: whether rule 12(3)
            # then moves it again is not settled here, so give the earlier date and say so.
            steps.append(SAFE_DATE_NOTE)
    return AppealDeadline(due=due, steps=tuple(steps), raw_end=end)


@dataclass(frozen=True)
class TransferDates:
    phase: date  # 15 February in the year of transfer
    post16: date  # 31 March, secondary school to post-16


def transfer_dates(year: int) -> TransferDates:
    return TransferDates(phase=date(year, 2, 15), post16=date(year, 3, 31))


def sort_deadlines(items: Iterable[Deadline]) -> list[Deadline]:
    return sorted(items, key=lambda d: d.due)
