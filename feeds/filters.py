"""Per-subscription include/exclude keywords, matched on an item's title and summary.

GOV.UK's education feed is broad, so a subscription can keep only items that mention SEND.
Rules, chosen so a short keyword cannot match inside unrelated words:
- a keyword matches whole words, case-insensitively ("disabled" does not match "undisabled");
- a keyword written in capitals (SEND, EHC) is an acronym: it matches only in capitals, and
  also as the start of a longer capitalised word (EHC matches EHCP, SEND matches SENDCo),
  so the verb "send" never lets an unrelated story through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.feeds import Subscription


def _is_acronym(keyword: str) -> bool:
    letters = [c for c in keyword if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


@lru_cache(maxsize=512)
def _pattern(keyword: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in keyword.split()]
    body = r"\s+".join(words)
    if _is_acronym(keyword):
        return re.compile(rf"(?<![A-Za-z0-9]){body}(?![a-z0-9])")
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def parse_keywords(text: str | Iterable[str] | None) -> list[str]:
    """Comma-separated text (from a command) or a list (from config) to clean keywords."""
    if text is None:
        return []
    parts = text.split(",") if isinstance(text, str) else list(text)
    out: list[str] = []
    for p in parts:
        k = " ".join(str(p).split())[:80]
        if k and k not in out:
            out.append(k)
    return out[:50]


def matches(keyword: str, text: str) -> bool:
    return _pattern(keyword).search(text) is not None


@dataclass(frozen=True)
class KeywordFilter:
    include: Sequence[str] = ()
    exclude: Sequence[str] = ()

    def accepts(self, title: str, summary: str) -> bool:
        text = f"{title}\n{summary}"
        if self.include and not any(matches(k, text) for k in self.include):
            return False
        return not any(matches(k, text) for k in self.exclude)

    def describe(self) -> str:
        parts = []
        if self.include:
            parts.append("include: " + ", ".join(self.include))
        if self.exclude:
            parts.append("exclude: " + ", ".join(self.exclude))
        return "; ".join(parts) or "no filter"


def for_subscription(sub: Subscription) -> KeywordFilter:
    return KeywordFilter(sub.include, sub.exclude)


def subscription_accepts(sub: Subscription, title: str, summary: str) -> bool:
    """The `accepts` callback FeedStore.ingest uses."""
    return for_subscription(sub).accepts(title, summary)
