"""How parents name the steps of !timeline and the kinds of tribunal order, and what the date
they give means for each: the words the cog reads and the usage hints it writes."""

from __future__ import annotations

import re

KINDS: tuple[str, ...] = ("assessment", "draft-plan", "review", "amendments", "appeal", "transfer", "tribunal-order")

# What the date means for each kind, for the usage hints.
DATE_MEANING = {
    "assessment": "the date the LA received the request",
    "draft-plan": "the date the draft plan was sent to you",
    "review": "the date of the annual review meeting",
    "amendments": "the date the proposed amendments were sent",
    "appeal": "the date of the decision letter [mediation <date of certificate>]",
    "transfer": "the year of the move, e.g. 2027",
    "tribunal-order": "the kind of order (assess, plan, amend or school) and its date",
}
EXAMPLE_DATE = {"transfer": "2027", "tribunal-order": "plan 5/1/2026"}

# The words parents use for each step. Matched as whole words at the start of the text (or,
# for "5/1/2026 assessment", at the end), the longest first: "tribunal order" before "tribunal".
STEP_ALIASES: dict[str, str] = {
    "assessment": "assessment",
    "assess": "assessment",
    "needs assessment": "assessment",
    "ehc needs assessment": "assessment",
    "ehcna": "assessment",
    "ehcp assessment": "assessment",
    "ehc assessment": "assessment",
    "request": "assessment",
    "draft plan": "draft-plan",
    "draft": "draft-plan",
    "draft ehcp": "draft-plan",
    "draft ehc plan": "draft-plan",
    "review": "review",
    "annual review": "review",
    "annual reviews": "review",
    "review meeting": "review",
    "amendments": "amendments",
    "amendment": "amendments",
    "proposed amendments": "amendments",
    "amend": "amendments",
    "appeal": "appeal",
    "appeals": "appeal",
    "tribunal": "appeal",
    "send tribunal": "appeal",
    "tribunal appeal": "appeal",
    "appeal to tribunal": "appeal",
    "appeal to the tribunal": "appeal",
    "mediation": "mediation",
    "mediation certificate": "mediation",
    "transfer": "transfer",
    "phase transfer": "transfer",
    "transition": "transfer",
    "tribunal order": "tribunal-order",
    "tribunal orders": "tribunal-order",
    "tribunals order": "tribunal-order",
    "order": "tribunal-order",
}
# The kinds of tribunal order in reg 44(2), and the words for them.
ORDER_KINDS = {
    "assess": "an order to assess",
    "plan": "an order to make and maintain a plan",
    "amend": "an order to amend the plan",
    "school": "an order to change the school named",
}
ORDER_ALIASES: dict[str, str] = {
    "assess": "assess",
    "assessment": "assess",
    "to assess": "assess",
    "plan": "plan",
    "make a plan": "plan",
    "issue a plan": "plan",
    "make plan": "plan",
    "to make a plan": "plan",
    "make": "plan",
    "issue": "plan",
    "amend": "amend",
    "amendment": "amend",
    "amendments": "amend",
    "amend the plan": "amend",
    "to amend": "amend",
    "school": "school",
    "change school": "school",
    "change the school": "school",
    "change of school": "school",
    "placement": "school",
}

_JOINED_WORDS = re.compile(r"(?<=[A-Za-z])[-_](?=[A-Za-z])")


def spaced(text: str) -> str:
    """Hyphens and underscores between letters as spaces: "Annual-Review" -> "Annual Review"
    (not in dates: 2026-01-05 keeps its hyphens)."""
    return " ".join(_JOINED_WORDS.sub(" ", text).split())


def words(text: str) -> str:
    """The text as the aliases are written: lower case, hyphens between letters as spaces."""
    return spaced(text).lower()


def take_alias(text: str, aliases: dict[str, str]) -> tuple[str | None, str]:
    """The alias the text starts with (longest first), and the rest of the text."""
    text = spaced(text)
    low = text.lower()
    for alias in sorted(aliases, key=lambda a: (-len(a.split()), -len(a))):
        if low == alias or low.startswith(alias + " "):
            # Drop as many words from the original text as the alias has.
            rest = text.split(None, len(alias.split()))
            return aliases[alias], rest[-1] if len(rest) > len(alias.split()) else ""
    return None, text


def take_alias_at_end(text: str, aliases: dict[str, str]) -> tuple[str | None, str]:
    """The alias the text ends with (longest first: "5/1/2026 assessment"), and the text before it."""
    text = spaced(text)
    low = text.lower()
    for alias in sorted(aliases, key=lambda a: (-len(a.split()), -len(a))):
        if low.endswith(" " + alias):
            return aliases[alias], text.rsplit(None, len(alias.split()))[0]
    return None, text
