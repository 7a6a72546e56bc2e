"""Reading parents' dates: day first always, and a clear refusal for anything doubtful."""

from datetime import date

import pytest

from cogs.timeline.dates import DateError, format_date, parse_date

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-05",
        "2026/01/05",
        "5/1/2026",
        "05/01/2026",
        "05-01-2026",
        "5.1.2026",
        "5/1/26",
        "5 Jan 2026",
        "5 jan 2026",
        "5th January 2026",
        "5 January, 2026",
        "5 of January 2026",
        "Monday 5 January 2026",
        "Mon, 5 Jan 2026",
        "January 5, 2026",
        "Jan 5th 2026",
        "  5   Jan   2026  ",
    ],
)
def test_fifth_of_january_in_every_accepted_form(text: str) -> None:
    assert parse_date(text, TODAY) == date(2026, 1, 5)


def test_numeric_dates_are_never_read_month_first() -> None:
    # 05/01 is the 5th of January (UK), not the 1st of May.
    assert parse_date("05/01/2026", TODAY).month == 1
    assert parse_date("01/05/2026", TODAY) == date(2026, 5, 1)
    assert parse_date("12/11/2026", TODAY) == date(2026, 11, 12)


def test_today() -> None:
    assert parse_date("today", TODAY) == TODAY
    assert parse_date("Today", TODAY) == TODAY


def test_leap_day() -> None:
    assert parse_date("29/2/2028", TODAY) == date(2028, 2, 29)
    with pytest.raises(DateError, match="There is no 29 February 2027"):
        parse_date("29/2/2027", TODAY)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("05/01", "has no year"),
        ("5 Jan", "has no year"),
        ("31/02/2026", "There is no 31 February 2026"),
        ("31/4/2026", "There is no 31 April 2026"),
        ("12/25/2026", "did you mean 25/12/2026"),
        ("13/13/2026", "no month 13"),
        ("0/1/2026", "There is no 0 January 2026"),
        ("5 Foo 2026", "don't recognise 'foo' as a month"),
        ("1/1/1899", "out of range"),
        ("Friday 5 January 2026", "is a Monday, not a Friday"),
        ("next week", "couldn't read"),
        ("", "I need a date"),
        ("yesterday", "give the date itself"),
    ],
)
def test_doubtful_dates_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(DateError, match=message) as info:
        parse_date(text, TODAY)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text", ["@everyone", "<@123456>", "`rm -rf /`", "9" * 5000, "5/1/2026\x00", "٥/١/٢٠٢٦"])
def test_hostile_input_is_refused_cleanly(text: str) -> None:
    with pytest.raises(DateError) as info:
        parse_date(text, TODAY)
    message = str(info.value)
    assert len(message) < 300
    assert "`" not in message  # the user's text can't open a code span in the reply


def test_format_date_is_unambiguous() -> None:
    assert format_date(date(2026, 1, 5)) == "Mon 5 Jan 2026"
