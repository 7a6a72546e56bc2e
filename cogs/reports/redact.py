"""Redaction of personal identifiers in free text, before it is stored.

Parents write reports in a hurry and paste in what they have: the caseworker's email, their
own phone number, their address, their child's name and date of birth. None of that is
needed to correct a claim, so it is replaced by a neutral marker before the text reaches
the database.

What is redacted: email addresses, phone numbers (UK in every common layout, and
international numbers written with +), full UK postcodes (however they are spaced),
National Insurance numbers, NHS numbers (10 digits with a valid check digit, however they
are spaced, or any 10 digits after "NHS number"), dates of birth (a date after "DOB",
"date of birth" or "born"), street addresses (a house number and a street: "12 Acacia
Ave", "Flat 2, 5 Mill Lane") and a child's name after "my son", "my daughter" and the like
("my son Sam"). The patterns lean towards over-redacting: hiding a reference number that
looked like a phone number costs little, leaving a phone number in costs a lot. Other
names, partial postcodes ("SW1A" alone) and addresses without a house number are not
detected; PRIVACY.md says so.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from nhs_number import is_valid as nhs_number_is_valid

from bot.markup import clean_text

EMAIL = "[email removed]"
PHONE = "[phone number removed]"
POSTCODE = "[postcode removed]"
NINO = "[NI number removed]"
NHS = "[NHS number removed]"
DOB = "[date of birth removed]"
ADDRESS = "[address removed]"
NAME = "[name removed]"

# Local part and domain per the common (not the full RFC 5322) grammar; the domain must
# have a dot, so "@everyone" or "name@school" alone are not emails.
_EMAIL_RE = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,}(?![\w-])"
)

# The UK postcode grammar (outward code, space optional, inward code), case-insensitive
# because people type "sw1a 1aa". Inward codes never use C, I, K, M, O or V.
_POSTCODE_RE = re.compile(
    r"\b(?:GIR ?0AA|"
    r"(?:[A-PR-UWYZ][0-9][0-9]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?|[A-PR-UWYZ][0-9][A-HJKPSTUW]|"
    r"[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRV-Y])"
    r"[^\S\r\n]*[0-9][ABD-HJLNP-UW-Z]{2})\b",  # any spaces or tabs between ("LS6  2AB"), not a new line
    re.IGNORECASE,
)

# National Insurance number: two letters, six digits (often spaced in pairs), an optional
# final letter A-D. HMRC never issues some prefixes, but people quote the example "QQ"
# prefix and mistype others, so any two letters count.
_NINO_RE = re.compile(r"\b[A-Z]{2}[ \t]?\d{2}[ \t]?\d{2}[ \t]?\d{2}(?:[ \t]?[A-D])?\b", re.IGNORECASE)

# NHS number: 10 digits, written 943 476 5919, 943-476-5919, 9434765919 or any other spacing
# (one space, tab, dash or dot at most between two digits). Not part of a longer run of
# digits, and not a decimal or a date. It counts when its last digit is the modulus 11 check
# digit (nhs_number.is_valid), or, checked or not, when the text calls it an NHS number.
_NHS_RE = re.compile(r"(?<![\w.,/-])\d(?:[ \t.-]?\d){9}(?![ \t.-]?\d)(?![\w/])")
_NHS_CUE_RE = re.compile(r"\bNHS\s*(?:no\.?|num(?:ber)?|#)?\s*[:.-]?\s*$", re.IGNORECASE)

# A date of birth: a date straight after a cue ("DOB", "D.O.B.", "date of birth", "birth
# date", "born on", "born"), so the dates of meetings and letters stay. The cue is kept and the
# date replaced. Dates are 3/4/2015, 03-04-15, 3.4.2015, 2015-04-03, 3 April 2015, 3rd of
# April 2015, April 3rd, 2015 and April 2015.
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"  # 3/4/2015, 03-04-15
    r"|\d{4}-\d{1,2}-\d{1,2}"  # 2015-04-03
    rf"|{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?"  # 3 April 2015, 3rd of April
    rf"|{_MONTH}\s+{_DAY}(?:,?\s+\d{{4}})?"  # April 3rd, 2015
    rf"|{_MONTH}\s+\d{{4}})"  # April 2015
)
_DOB_RE = re.compile(
    r"(?P<cue>\b(?:d\.?\s?o\.?\s?b\b\.?|date\s+of\s+birth|birth\s*date|born(?:\s+(?:on|in))?)"
    r"(?:\s*(?:is|was|[:=-]))?\s*)"
    rf"(?P<date>{_DATE})(?![\w/])",
    re.IGNORECASE,
)

# A street address: a house number (12, 12a, 12-14) and one to three capitalised words ending
# in a street word (Street, Road, Ave...), with "Flat 2," or "Apartment 3" before it if given.
# "20 weeks", "Year 4" and "section 42" have no street word, so they stay.
_STREET_WORDS = (
    r"street|st|road|rd|avenue|ave|lane|ln|close|cl|drive|dr|way|crescent|cres|court|ct|"
    r"place|pl|gardens|gdns|grove|gr|terrace|terr|tce|hill|square|sq|mews|walk|row|rise|"
    r"parade|boulevard|park|green|view|vale|wharf|yard"
)
_ADDRESS_RE = re.compile(
    r"(?:\b(?i:flat|apartment|apt|unit)\.?\s*\d{1,4}[A-Za-z]?,?\s*)?"
    r"\b\d{1,4}[A-Za-z]?(?:-\d{1,4}[A-Za-z]?)?,?\s+"
    r"(?:[A-Z][A-Za-z'’-]*\s+){1,3}"
    rf"(?i:{_STREET_WORDS})\b"
)

# A child's name: "my son Sam", "our daughter Amy-Rose", "my boy, Jack": a capitalised word
# after the cue (the cue's own words in any case), and a second capitalised word (a surname)
# if there is one; Amy-Rose and O'Neil are one name, Ellie's is Ellie. "my son has", "my son
# is" and the like are not names, nor are the words below when typed with a capital.
_NAME_CUE_RE = re.compile(
    r"\b(?i:my|our)\s+(?i:son|daughter|child|boy|girl|kid|lad|twins?|stepson|stepdaughter)"
    r"(?:'s|’s)?,?\s+"
    r"(?P<name>{word}(?:\s+{word})?)".format(word=r"[A-Z][a-z]+(?:-[A-Z]?[a-z]+|['’][A-Z][a-z]+)?")
)
_NOT_NAMES = frozenset(
    re.findall(
        r"\w+",
        """
        has is was will would can could did does do had have and but or who which that the this
        with in at on from for to of so as if when then now still also just only not never
        always year reception nursery school college age aged autism adhd asd send sen ehcp ehc
        currently recently since because after before being gets got goes went needs attends
        started january february march april may june july august september october november
        december monday tuesday wednesday thursday friday saturday sunday
        """,
    )
)

# A UK number has 10 digits after the trunk 0 (a few have 9); fewer digits than this is
# a year, an amount or a reference, not a phone number.
_MIN_PHONE_DIGITS = 10
_PHONE_STARTS = ("0", "+", "(0", "(+")
# Digits inside a web address are ids, not phone numbers; cutting them would break the link.
_URL_RE = re.compile(r"https?://\S+", re.IGNORECASE)


# What each marker is, in the words the reporter is told: one, many.
_KINDS = {
    "email": ("an email address", "email addresses"),
    "phone": ("a phone number", "phone numbers"),
    "postcode": ("a postcode", "postcodes"),
    "nino": ("a National Insurance number", "National Insurance numbers"),
    "nhs": ("an NHS number", "NHS numbers"),
    "dob": ("a date of birth", "dates of birth"),
    "address": ("an address", "addresses"),
    "name": ("a name", "names"),
}


def _and(parts: list[str]) -> str:
    if len(parts) > 1:
        return ", ".join(parts[:-1]) + " and " + parts[-1]
    return parts[0] if parts else ""


@dataclass(frozen=True)
class Redacted:
    text: str
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        """'1 phone number and 2 email addresses', for telling the reporter."""
        parts = []
        for key, (one, many) in _KINDS.items():
            n = self.counts.get(key, 0)
            if n:
                parts.append(f"{n} {one.split(' ', 1)[1] if n == 1 else many}")
        return _and(parts)

    def kinds(self) -> str:
        """'a phone number and 2 dates of birth': what was removed, in plain words."""
        parts = []
        for key, (one, many) in _KINDS.items():
            n = self.counts.get(key, 0)
            if n:
                parts.append(one if n == 1 else f"{n} {many}")
        return _and(parts)


def _phone_spans(text: str) -> list[tuple[int, int]]:
    """Spans of phone numbers, found with libphonenumber's matcher (UK as the default region).

    POSSIBLE leniency accepts numbers by length, so fictional and mistyped numbers are still
    caught; the digit-count and leading-character filter then drops years and amounts.
    """
    spans = []
    urls = [(u.start(), u.end()) for u in _URL_RE.finditer(text)]
    import phonenumbers  # about 30 ms to load: only when a report is redacted, not at start-up

    matcher = phonenumbers.PhoneNumberMatcher(text, "GB", leniency=phonenumbers.Leniency.POSSIBLE)
    for m in matcher:
        raw = m.raw_string
        digits = sum(c.isdigit() for c in raw)
        in_url = any(a <= m.start < b for a, b in urls)
        if digits >= _MIN_PHONE_DIGITS and raw.startswith(_PHONE_STARTS) and not in_url:
            spans.append((m.start, m.end))
    return spans


def _nhs_spans(text: str) -> list[tuple[int, int]]:
    """Spans of NHS numbers: a valid check digit, or "NHS number" just before (see _NHS_RE)."""
    urls = [(u.start(), u.end()) for u in _URL_RE.finditer(text)]
    spans = []
    for m in _NHS_RE.finditer(text):
        if any(a <= m.start() < b for a, b in urls):
            continue
        digits = re.sub(r"\D", "", m.group(0))
        if nhs_number_is_valid(digits) or _NHS_CUE_RE.search(text[max(0, m.start() - 30) : m.start()]):
            spans.append((m.start(), m.end()))
    return spans


def _names(m: re.Match[str]) -> str | None:
    """The text with the child's name in `m` replaced, or None when it is not a name."""
    words = m.group("name").split()
    if words[0].lower() in _NOT_NAMES:
        return None
    kept = ""
    if len(words) > 1 and words[1].lower() in _NOT_NAMES:
        kept = m.string[m.start("name") + len(words[0]) : m.end("name")]
    return m.string[m.start() : m.start("name")] + NAME + kept


def redact(text: str) -> Redacted:
    """Replace personal identifiers in `text` with markers; count what was replaced. Hidden
    characters (controls, bidi overrides, zero-width) are dropped first: a report is read by
    moderators and may be exported, and must show what it says."""
    text = clean_text(text)
    counts: Counter[str] = Counter()

    def sub(pattern: re.Pattern[str], marker: str, key: str, s: str) -> str:
        def repl(_m: re.Match[str]) -> str:
            counts[key] += 1
            return marker

        return pattern.sub(repl, s)

    def spans(found: list[tuple[int, int]], marker: str, key: str, s: str) -> str:
        for start, end in reversed(found):
            s = s[:start] + marker + s[end:]
        counts[key] += len(found)
        return s

    def dob(m: re.Match[str]) -> str:
        counts["dob"] += 1
        return m.group("cue") + DOB

    def name(m: re.Match[str]) -> str:
        replaced = _names(m)
        if replaced is None:
            return m.group(0)
        counts["name"] += 1
        return replaced

    # Emails first: their digits must not be read as phone numbers. Dates of birth before the
    # numbers, so "DOB 03/04/2015" is one date, not digits for the other patterns.
    out = sub(_EMAIL_RE, EMAIL, "email", text)
    out = _DOB_RE.sub(dob, out)
    out = spans(_nhs_spans(out), NHS, "nhs", out)
    out = sub(_NINO_RE, NINO, "nino", out)
    out = sub(_POSTCODE_RE, POSTCODE, "postcode", out)
    out = sub(_ADDRESS_RE, ADDRESS, "address", out)
    out = spans(_phone_spans(out), PHONE, "phone", out)
    out = _NAME_CUE_RE.sub(name, out)
    return Redacted(out, +counts)
