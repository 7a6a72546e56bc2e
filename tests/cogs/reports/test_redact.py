"""Redaction: realistic identifiers are removed; the claims around them are left alone.

Numbers used are the reserved fictional ranges (Ofcom's drama numbers, HMRC's example NI
prefix) or public addresses, never a real person's details.
"""

from __future__ import annotations

import pytest

from cogs.reports.redact import ADDRESS, DOB, EMAIL, NAME, NHS, NINO, PHONE, POSTCODE, redact


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
        # ... however they are spaced (but not across a new line)
        ("we're in LS6  2AB now", f"we're in {POSTCODE} now"),
        ("LS6\t2AB", POSTCODE),
        ("ls6   2ab", POSTCODE),
        # National Insurance numbers
        ("my NI is QQ 12 34 56 C", f"my NI is {NINO}"),
        ("NINO: AB123456D.", f"NINO: {NINO}."),
        ("ab 123456 c", NINO),
        ("NI number JG103759", f"NI number {NINO}"),
        # NHS numbers: 10 digits with a modulus 11 check digit, any spacing
        ("NHS number 943 476 5919", f"NHS number {NHS}"),
        ("his NHS no is 9434765919.", f"his NHS no is {NHS}."),
        ("943-476-5919", NHS),
        ("94 34 76 59 19 on the letter", f"{NHS} on the letter"),
        ("number 943.476.5919", f"number {NHS}"),
        # ... and any 10 digits the text calls an NHS number, even with a slip in them
        ("NHS number: 943 476 5918", f"NHS number: {NHS}"),
        # Dates of birth: a date after a cue; the cue stays
        ("DOB 03/04/2015", f"DOB {DOB}"),
        ("D.O.B. 3.4.15, in year 5", f"D.O.B. {DOB}, in year 5"),
        ("dob: 2015-04-03", f"dob: {DOB}"),
        ("date of birth 3rd April 2015", f"date of birth {DOB}"),
        ("Date of Birth is 3 of April 2015", f"Date of Birth is {DOB}"),
        ("she was born on 12 March 2016", f"she was born on {DOB}"),
        ("born 12/03/2016 and diagnosed 2019", f"born {DOB} and diagnosed 2019"),
        ("born in March 2016", f"born in {DOB}"),
        ("birth date: April 3rd, 2015", f"birth date: {DOB}"),
        # Street addresses: a house number and a street
        ("we live at 12 Acacia Ave, Leeds", f"we live at {ADDRESS}, Leeds"),
        ("3 High Street", ADDRESS),
        ("Flat 2, 5 Mill Lane", ADDRESS),
        ("at 14a St Mary's Road.", f"at {ADDRESS}."),
        ("27 Oak Tree close", ADDRESS),
        # A child's name after "my son", "my daughter"...
        ("my son Sam has autism", f"my son {NAME} has autism"),
        ("My daughter Amy-Rose was refused", f"My daughter {NAME} was refused"),
        ("my son Sam Jones is 7", f"my son {NAME} is 7"),
        ("our boy, Jack, goes to", f"our boy, {NAME}, goes to"),
        ("my child Ellie's EHCP", f"my child {NAME}'s EHCP"),
        ("MY SON Oliver", f"MY SON {NAME}"),
        ("my son Sam's school", f"my son {NAME}'s school"),
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
        # Issue 14: dates of meetings, section numbers, amounts, years and statutes stay
        "meeting on 03/04/2026 at 10am",
        "the annual review was on 3 April 2026",
        "section 42 and s.19 of the Education Act 1996",
        "the Children and Families Act 2014 says so",
        "they said £6,000 first, in Year 4",
        "20 weeks for the plan, 6 weeks to decide",
        "regulation 13(2), reg 44, para 9.176 of the SEND Code of Practice 2015",
        "EHCP ref 1234567890",  # 10 digits, but not a valid NHS number and not called one
        "born prematurely, diagnosed in 2019",
        "there is 1 other way to appeal",
        "my son has autism and my son is 7",
        "my son Has a plan",  # a capital by mistake: still not a name
        "my daughter Year 4 teacher",
        "my son, who is in Reception",
        "my daughter September intake, my son Monday mornings",
        "tribunal in 12 weeks, 2 Court hearings",
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


def test_kinds_say_what_was_removed_in_plain_words() -> None:
    """The words a parent is told: "I removed a phone number and a date of birth"."""
    assert redact("call 07700 900123, DOB 3/4/2015").kinds() == "a phone number and a date of birth"
    assert redact("my son Sam, 12 Acacia Ave, NHS 943 476 5919").kinds() == "an NHS number, an address and a name"
    assert redact("a@b.co.uk and c@d.org").kinds() == "2 email addresses"
    assert redact("nothing here").kinds() == ""
    result = redact("my son Sam was born on 3 March 2016; we're at LS6  2AB")
    assert dict(result.counts) == {"name": 1, "dob": 1, "postcode": 1}


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

    nasty = (
        ("0" * 5000)
        + ("a@" * 2000)
        + ("+" * 3000)
        + "\x00\u202e"
        + ("AB12 " * 2000)
        + ("1 " * 3000)
        + ("my son " * 1000)
        + ("12 Acacia " * 1000)
        + ("DOB " * 1000)
        + ("9 4 3 " * 2000)
    )
    start = time.perf_counter()
    result = redact(nasty)
    assert time.perf_counter() - start < 5  # no catastrophic backtracking
    assert isinstance(result.text, str)
