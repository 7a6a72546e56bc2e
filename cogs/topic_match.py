"""Matching what a parent types to a rights topic: by id, by synonym, then fuzzily.

A wrong answer delivered confidently is worse than no answer, so the matcher reports how
sure it is and the caller answers only confident matches. Scoring, per topic, is the best
of its phrases (id, title, keywords):
- the whole query equals a phrase (after normalising): certain;
- every word of a phrase appears in the query (typos allowed on longer words, via
  rapidfuzz): strong, and longer phrases beat shorter ones, so "send home early" beats
  "home";
- otherwise rapidfuzz's token_sort_ratio of the whole query against the phrase.
A match is confident when it is strong enough and clearly ahead of the next topic.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

EXACT = 200.0
CONFIDENT = 90.0  # a phrase fully present in the query (or a near-identical whole query)
MARGIN = 2.5  # how far ahead of the runner-up a confident match must be
MAX_QUERY_CHARS = 300
MAX_TOKENS = 40

# Words that carry no topic meaning in parents' questions. Applied to both query and phrases.
STOPWORDS = frozenset(
    """
    a an the my our his her their your its i im ive we they you he she it me us them this that these those
    is are was were be been being am has have had do does did done can could should would will shall may
    might must to of in on for at by with about from into and or but if so what whats how when who why
    where which please tell know want help rights right legal child childs son daughter kid kids
    young person pupil still really just
    """.split()  # noqa: SIM905 - a word list reads better as text
)


@dataclass(frozen=True)
class Candidate:
    key: str  # the topic id
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    key: str
    score: float
    phrase: str


@dataclass(frozen=True)
class MatchResult:
    best: Match | None  # set only when the match is confident
    ranked: tuple[Match, ...]  # every topic with its best score, best first

    def closest(self, n: int = 2) -> list[Match]:
        return list(self.ranked[:n])


def normalise(text: str) -> str:
    """Lower-case words: accents folded, "£6,000" -> "6000", punctuation dropped."""
    text = unicodedata.normalize("NFKD", text[:MAX_QUERY_CHARS]).encode("ascii", "ignore").decode()
    text = text.lower()
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)  # 6,000 -> 6000
    text = text.replace("'", "").replace("’", "")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split()[:MAX_TOKENS])


def _stem(word: str) -> str:
    # Plural folding is enough for this vocabulary (ehcps, exclusions, adjustments).
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def content_tokens(text: str) -> tuple[str, ...]:
    words = normalise(text).split()
    kept = [_stem(w) for w in words if w not in STOPWORDS]
    return tuple(kept)


def _token_found(token: str, query: Sequence[str]) -> float:
    """How well one phrase word appears in the query: exact for short words, fuzzy for long."""
    if token in query:
        return 100.0
    if len(token) <= 4:
        return 0.0
    best = max((fuzz.ratio(token, q) for q in query if len(q) > 3), default=0.0)
    return best if best >= 80 else 0.0


def score_phrase(query: Sequence[str], phrase: Sequence[str]) -> float:
    if not query or not phrase:
        return 0.0
    if tuple(query) == tuple(phrase):
        return EXACT
    found = [_token_found(t, query) for t in phrase]
    if all(found):
        # Every word of the phrase is in the query; longer phrases are more specific.
        return sum(found) / len(found) - 10 + min(len(phrase), 4) * 2.5
    return float(fuzz.token_sort_ratio(" ".join(query), " ".join(phrase))) * 0.95


class TopicMatcher:
    def __init__(self, candidates: Iterable[Candidate]) -> None:
        self._candidates = [
            (c.key, [(p, content_tokens(p)) for p in dict.fromkeys(c.phrases) if content_tokens(p)]) for c in candidates
        ]

    def match(self, query: str) -> MatchResult:
        q = content_tokens(query)
        ranked: list[Match] = []
        for key, phrases in self._candidates:
            best = Match(key, 0.0, "")
            for text, tokens in phrases:
                s = score_phrase(q, tokens)
                if s > best.score:
                    best = Match(key, s, text)
            ranked.append(best)
        ranked.sort(key=lambda m: m.score, reverse=True)
        top = ranked[0] if ranked else None
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        confident = top is not None and (
            (top.score >= EXACT and runner_up < EXACT) or (top.score >= CONFIDENT and top.score - runner_up >= MARGIN)
        )
        return MatchResult(best=top if confident else None, ranked=tuple(ranked))
