"""Redaction: realistic identifiers are removed; the claims around them are left alone.

Numbers used are the reserved fictional ranges (Ofcom's drama numbers, HMRC's example NI
prefix) or public addresses, never a real person's details.
"""

from __future__ import annotations

import pytest

from cogs.reports.redact import EMAIL, NINO, PHONE, POSTCODE, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Emails
        ("email the caseworker jane.smith@kent.gov.uk today", f"email the caseworker {EMAIL} today"),
        ("J.O'Neil+send@school.org.uk said so", f"{EMAIL} said so"),
        ("(SENCO@st-marys.sch.uk)", f"({EMAIL})"),
        ("mail me: pat_99@gmail.com.", f"mail me: {EMAIL}."),
        # UK phone numbers in the layouts people type
        ("call me on 07700 900123", f"call me on {PHONE}"),
        ("07700900123 any time", f"{PHONE} any time"),
        ("mob 07700-900-123", f"mob {PHONE}"),
        ("077009 00123", PHONE),
        ("+447700900123", PHONE),
        ("ring +44 (0)20 7946 0958 please", f"ring {PHONE} please"),
        ("(020) 7946 0958", PHONE),
        ("0044 20 7946 0958", PHONE),
        ("SENDIASS 0161 496 0000 or 0121 496 0123", f"SENDIASS {PHONE} or {PHONE}"),
        ("their line 01632 960 123", f"their line {PHONE}"),
        ("freephone 0800 123 4567", f"freephone {PHONE}"),
        # Postcodes, upper and lower case, with and without the space
        ("we live at SW1A 1AA", f"we live at {POSTCODE}"),
        ("school in m1 1ae", f"school in {POSTCODE}"),
        ("EC1A1BB", POSTCODE),
        ("B33 8TH near the park", f"{POSTCODE} near the park"),
        ("CR2 6XH, W1A 0AX, DN55 1PT", f"{POSTCODE}, {POSTCODE}, {POSTCODE}"),
        # National Insurance numbers
        ("my NI is QQ 12 34 56 C", f"my NI is {NINO}"),
        ("NINO: AB123456D.", f"NINO: {NINO}."),
        ("ab 123456 c", NINO),
        ("NI number JG103759", f"NI number {NINO}"),
    ],
)
def test_identifiers_are_redacted(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        # Claims full of numbers that are not personal data.
        "The LA said the final plan takes 20 weeks, decision within 6 weeks",
        "told on 27/11/2026 and again 3.12.2026",
        "school says we need to spend £6,000 first",
        "Regulation 13(2) and section 42 of the 2014 Act; Code para 9.176",
        "years 2014 2015 2016 2017",
        "EHCP ref 123456789 and case 2024/00123",
        "KS2 SATs in Year 6, SEN2 return, Y10",
        "in 2nd year, 1st choice school",
        "@everyone the school said so",
        "name@school (no domain)",
        "see https://www.gov.uk/children-with-special-educational-needs/extra-SEN-help?id=0123456789",
        "EHCP123456 (not an NI number: no word boundary)",
        "10am to 12pm on 12 March",
    ],
)
def test_near_misses_are_left_alone(text: str) -> None:
    result = redact(text)
    assert result.text == text
    assert result.total == 0


def test_counts_and_summary_for_the_reporter() -> None:
    result = redact("a@b.co.uk, c@d.org, 07700 900123 at SW1A 1AA, QQ123456C")
    assert dict(result.counts) == {"email": 2, "phone": 1, "postcode": 1, "nino": 1}
    assert result.total == 5
    assert result.summary() == "2 email addresses, 1 phone number, 1 postcode and 1 National Insurance number"
    assert redact("nothing here").summary() == ""
    assert redact("07700 900123").summary() == "1 phone number"


def test_realistic_report_keeps_the_claim() -> None:
    report = (
        "Our SENCo (mrs.jones@oakfield.sch.uk, 01632 960 123) told us EHCPs are being abolished "
        "from September so there's no point applying. We're at LS1 4AP."
    )
    result = redact(report)
    assert "EHCPs are being abolished from September" in result.text
    assert "oakfield" not in result.text and "960" not in result.text and "4AP" not in result.text
    assert result.total == 3


def test_hostile_input_does_not_crash_or_hang() -> None:
    import time

    nasty = ("0" * 5000) + ("a@" * 2000) + ("+" * 3000) + "\x00\u202e" + ("AB12 " * 2000)
    start = time.perf_counter()
    result = redact(nasty)
    assert time.perf_counter() - start < 5  # no catastrophic backtracking
    assert isinstance(result.text, str)
