"""Deadline rules with fixed dates. Every expected date here was worked out by hand from the
rule and a calendar (weekdays and England and Wales bank holidays), not with the code."""

from datetime import date

import pytest

from cogs.timeline.deadlines import (
    SAFE_DATE_NOTE,
    add_months,
    appeal_deadline,
    is_working_day,
    next_working_day,
    offset,
    transfer_dates,
)


def test_weeks_and_days() -> None:
    assert offset(date(2026, 1, 5), weeks=6) == (date(2026, 2, 16), "6 weeks after Mon 5 Jan 2026")
    assert offset(date(2026, 1, 5), weeks=16)[0] == date(2026, 4, 27)
    assert offset(date(2026, 1, 5), weeks=20)[0] == date(2026, 5, 25)
    assert offset(date(2026, 1, 5), days=14) == (date(2026, 1, 19), "14 days after Mon 5 Jan 2026")
    assert offset(date(2026, 1, 5), weeks=1)[1] == "1 week after Mon 5 Jan 2026"


def test_calendar_months_use_the_last_day_when_there_is_no_corresponding_date() -> None:
    assert add_months(date(2026, 12, 31), 2)[0] == date(2027, 2, 28)
    assert add_months(date(2027, 12, 31), 2)[0] == date(2028, 2, 29)  # leap year
    assert add_months(date(2026, 1, 31), 1)[0] == date(2026, 2, 28)
    assert add_months(date(2026, 3, 15), 2)[0] == date(2026, 5, 15)
    assert "last day of February" in add_months(date(2026, 12, 31), 2)[1]


def test_working_days_exclude_weekends_and_england_and_wales_bank_holidays() -> None:
    assert is_working_day(date(2026, 11, 27))  # a Friday
    assert not is_working_day(date(2026, 11, 28))  # Saturday
    assert not is_working_day(date(2026, 5, 4))  # Early May bank holiday
    assert not is_working_day(date(2026, 8, 31))  # Summer bank holiday (England and Wales)
    assert not is_working_day(date(2026, 12, 28))  # Boxing Day substitute day
    assert not is_working_day(date(2026, 4, 3))  # Good Friday
    assert not is_working_day(date(2026, 4, 6))  # Easter Monday
    assert is_working_day(date(2026, 8, 3))  # Scotland's August bank holiday is not ours
    assert next_working_day(date(2026, 4, 3)) == date(2026, 4, 7)
    assert next_working_day(date(2026, 11, 27)) == date(2026, 11, 27)
    assert next_working_day(date(2026, 11, 27), after=True) == date(2026, 11, 30)


def test_appeal_31_december_plus_two_months_is_end_of_february_then_next_working_day() -> None:
    # 31 Dec 2026 + 2 months = Sun 28 Feb 2027 -> Mon 1 Mar 2027.
    result = appeal_deadline(date(2026, 12, 31))
    assert result.raw_end == date(2027, 2, 28)
    assert result.due == date(2027, 3, 1)
    assert any("Sunday" in s for s in result.steps)


def test_appeal_leap_year() -> None:
    # 31 Dec 2027 + 2 months = Tue 29 Feb 2028, a working day.
    assert appeal_deadline(date(2027, 12, 31)).due == date(2028, 2, 29)


def test_appeal_on_a_working_day_is_unchanged() -> None:
    # 15 Mar 2026 + 2 months = Fri 15 May 2026.
    result = appeal_deadline(date(2026, 3, 15))
    assert result.due == date(2026, 5, 15)
    assert len(result.steps) == 1


def test_appeal_ending_on_a_bank_holiday_moves_to_next_working_day() -> None:
    # 4 Mar 2026 + 2 months = Mon 4 May 2026, Early May bank holiday -> Tue 5 May.
    assert appeal_deadline(date(2026, 3, 4)).due == date(2026, 5, 5)
    # 3 Feb 2026 + 2 months = Good Friday 3 Apr 2026; Easter Monday too -> Tue 7 Apr.
    result = appeal_deadline(date(2026, 2, 3))
    assert result.due == date(2026, 4, 7)
    assert any("Good Friday" in s for s in result.steps)


@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        (date(2026, 10, 25), date(2027, 1, 4)),  # ends Fri 25 Dec 2026; 2-3 Jan 2027 is a weekend
        (date(2026, 10, 31), date(2027, 1, 4)),  # ends Thu 31 Dec 2026
        (date(2026, 11, 1), date(2027, 1, 4)),  # ends Fri 1 Jan 2027
        (date(2027, 10, 28), date(2028, 1, 4)),  # ends Tue 28 Dec 2027; Sat 1 Jan 2028 -> bank holiday Mon 3 Jan
    ],
)
def test_appeal_christmas_rule(decision: date, expected: date) -> None:
    result = appeal_deadline(decision)
    assert result.due == expected
    assert any("25 December and 1 January" in s for s in result.steps)


def test_appeal_just_before_christmas_is_not_moved() -> None:
    # 24 Oct 2026 + 2 months = Thu 24 Dec 2026: a working day outside the window.
    assert appeal_deadline(date(2026, 10, 24)).due == date(2026, 12, 24)


@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        (date(2026, 6, 15), date(2026, 9, 1)),  # ends 15 Aug 2026; Mon 31 Aug is not "after"; Tue 1 Sep
        (date(2026, 6, 30), date(2026, 9, 1)),  # ends Sun 30 Aug 2026
        (date(2026, 6, 1), date(2026, 9, 1)),  # ends Sat 1 Aug 2026
        (date(2029, 6, 5), date(2029, 9, 3)),  # ends 5 Aug 2029; Sat 1 and Sun 2 Sep -> Mon 3 Sep
    ],
)
def test_appeal_august_rule(decision: date, expected: date) -> None:
    result = appeal_deadline(decision)
    assert result.due == expected
    assert any("August" in s for s in result.steps)


def test_appeal_ending_31_july_is_not_moved_into_september() -> None:
    # 31 May 2027 + 2 months = Sat 31 Jul 2027 -> next working day Mon 2 Aug 2027 (rule 12(2)).
    result = appeal_deadline(date(2027, 5, 31))
    assert result.due == date(2027, 8, 2)
    # Mon 2 Aug is in August: the answer says it is the safe date and rule 12(3) may allow later.
    assert result.steps[-1] == SAFE_DATE_NOTE
    assert SAFE_DATE_NOTE == (
        "This is the safe date to aim for; get advice if you need the later date rule 12(3) may allow."
    )


def test_appeal_moved_by_the_weekend_rule_into_christmas_gets_the_safe_date_note() -> None:
    # 23 Oct 2028 + 2 months = Sat 23 Dec 2028; Mon 25 and Tue 26 Dec are bank holidays,
    # so rule 12(2) gives Wed 27 Dec 2028, inside 25 Dec-1 Jan.
    result = appeal_deadline(date(2028, 10, 23))
    assert result.raw_end == date(2028, 12, 23)
    assert result.due == date(2028, 12, 27)
    assert result.steps[-1] == SAFE_DATE_NOTE


@pytest.mark.parametrize(
    "decision",
    [
        date(2026, 12, 31),  # Sun 28 Feb 2027 -> Mon 1 Mar 2027: rule 12(2), outside the windows
        date(2026, 6, 15),  # 15 Aug 2026 -> Tue 1 Sep 2026: rule 12(3) itself
        date(2026, 10, 25),  # Fri 25 Dec 2026 -> Mon 4 Jan 2027: rule 12(3) itself
        date(2026, 3, 15),  # Fri 15 May 2026: unchanged
    ],
)
def test_no_safe_date_note_otherwise(decision: date) -> None:
    assert SAFE_DATE_NOTE not in appeal_deadline(decision).steps


def test_mediation_certificate_later_than_the_decision_gives_one_month_from_it() -> None:
    # Decision 2 Mar 2026 -> 2 May 2026; certificate 20 Apr 2026 -> Wed 20 May 2026, later.
    result = appeal_deadline(date(2026, 3, 2), date(2026, 4, 20))
    assert result.due == date(2026, 5, 20)
    assert any("which is later" in s for s in result.steps)


def test_mediation_certificate_that_is_not_later_leaves_the_two_months() -> None:
    # Decision 2 Mar 2026 -> Sat 2 May 2026; certificate 10 Mar -> 10 Apr, earlier.
    # Sat 2 May -> Mon 4 May is a bank holiday -> Tue 5 May 2026.
    result = appeal_deadline(date(2026, 3, 2), date(2026, 3, 10))
    assert result.due == date(2026, 5, 5)
    assert any("not later" in s for s in result.steps)


def test_mediation_certificate_at_month_end() -> None:
    # Certificate 31 Jan 2027 + 1 month = Sun 28 Feb 2027 (later than 1 Feb 2027) -> Mon 1 Mar.
    assert appeal_deadline(date(2026, 12, 1), date(2027, 1, 31)).due == date(2027, 3, 1)


def test_mediation_certificate_ending_in_august() -> None:
    # Certificate 10 Jul 2026 + 1 month = 10 Aug 2026 -> Tue 1 Sep 2026.
    assert appeal_deadline(date(2026, 5, 1), date(2026, 7, 10)).due == date(2026, 9, 1)


def test_transfer_dates() -> None:
    t = transfer_dates(2027)
    assert (t.phase, t.post16) == (date(2027, 2, 15), date(2027, 3, 31))
