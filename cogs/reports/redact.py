"""Redaction of personal identifiers in free text, before it is stored.

Parents write reports in a hurry and paste in what they have: the caseworker's email, their
own phone number, their address. None of that is needed to correct a claim, so it is
replaced by a neutral marker before the text reaches the database.

What is redacted: email addresses, phone numbers (UK in every common layout, and
international numbers written with +), full UK postcodes, and National Insurance numbers.
The patterns lean towards over-redacting: hiding a reference number that looked like a
phone number costs little, leaving a phone number in costs a lot. Partial postcodes
("SW1A" alone) and names are not detected; PRIVACY.md says so.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from bot.markup import clean_text

EMAIL = "[email removed]"
PHONE = "[phone number removed]"
POSTCODE = "[postcode removed]"
NINO = "[NI number removed]"

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
    r"\s?[0-9][ABD-HJLNP-UW-Z]{2})\b",
    re.IGNORECASE,
)

# National Insurance number: two letters, six digits (often spaced in pairs), an optional
# final letter A-D. HMRC never issues some prefixes, but people quote the example "QQ"
# prefix and mistype others, so any two letters count.
_NINO_RE = re.compile(r"\b[A-Z]{2}[ \t]?\d{2}[ \t]?\d{2}[ \t]?\d{2}(?:[ \t]?[A-D])?\b", re.IGNORECASE)

# A UK number has 10 digits after the trunk 0 (a few have 9); fewer digits than this is
# a year, an amount or a reference, not a phone number.
_MIN_PHONE_DIGITS = 10
_PHONE_STARTS = ("0", "+", "(0", "(+")
# Digits inside a web address are ids, not phone numbers; cutting them would break the link.
_URL_RE = re.compile(r"https?://\S+", re.IGNORECASE)


@dataclass(frozen=True)
class Redacted:
    text: str
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        """'1 phone number and 2 email addresses', for telling the reporter."""
        names = {
            "email": ("email address", "email addresses"),
            "phone": ("phone number", "phone numbers"),
            "postcode": ("postcode", "postcodes"),
            "nino": ("National Insurance number", "National Insurance numbers"),
        }
        parts = []
        for key, (one, many) in names.items():
            n = self.counts.get(key, 0)
            if n:
                parts.append(f"{n} {one if n == 1 else many}")
        if len(parts) > 1:
            return ", ".join(parts[:-1]) + " and " + parts[-1]
        return parts[0] if parts else ""


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

    # Emails first: their digits must not be read as phone numbers.
    out = sub(_EMAIL_RE, EMAIL, "email", text)
    out = sub(_NINO_RE, NINO, "nino", out)
    out = sub(_POSTCODE_RE, POSTCODE, "postcode", out)
    spans = _phone_spans(out)
    for start, end in reversed(spans):
        out = out[:start] + PHONE + out[end:]
    if spans:
        counts["phone"] += len(spans)
    return Redacted(out, counts)
