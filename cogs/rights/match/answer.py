"""What the matcher answers, and the rule that decides whether to answer at all: a small
logistic model turns the signals of the best class into the chance the answer is right, and
the bot answers only above a calibrated threshold (see the package docstring)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from cogs.content.model import OFF_TOPIC, MatcherSettings


@dataclass(frozen=True)
class TopicText:
    """What the matcher knows of a topic: exact names, example questions, related topics."""

    key: str
    names: tuple[str, ...]  # title, keywords: an exact match is certain
    examples: tuple[str, ...]
    related: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    key: str
    score: float  # the combined, standardised score (a name match is certain: infinity)


@dataclass(frozen=True)
class Signals:
    """What the confidence model looks at, for the best class of one question."""

    top: str
    lead: float  # combined score ahead of the next class
    best: float  # combined score of the best class
    retrieval: float  # the best class's retrieval score, relative to what the question could score
    coverage: float  # share of the question's word weight that the best class's examples use
    words: int  # distinct meaningful words in the question

    def vector(self) -> tuple[float, ...]:
        """The inputs of the logistic model, in the order of MatcherSettings.coefficients."""
        return (1.0, self.lead, self.best, self.retrieval, self.coverage, math.log1p(self.words))


@dataclass(frozen=True)
class MatchResult:
    best: Match | None  # set only when the match is confident
    ranked: tuple[Match, ...]  # topics with their scores, best first (never OFF_TOPIC)
    also: tuple[Match, ...] = ()  # related topics worth an "Also see"
    off_topic: bool = False  # the question looks like something the bot does not cover
    confidence: float = 0.0

    def closest(self, n: int = 2, floor: float = -math.inf) -> list[Match]:
        return [m for m in self.ranked[:n] if m.score >= floor]


def confidence(signals: Signals, settings: MatcherSettings) -> float:
    """The logistic model's chance that answering `signals.top` is right."""
    z = sum(c * x for c, x in zip(settings.coefficients, signals.vector(), strict=True))
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def decide(
    ranked: Sequence[Match], signals: Signals | None, settings: MatcherSettings, related: dict[str, frozenset[str]]
) -> MatchResult:
    """The answering rule, kept apart so calibration can replay it on stored signals."""
    ranked = tuple(m for m in ranked if m.key != OFF_TOPIC)
    if signals is None or signals.top == OFF_TOPIC:
        return MatchResult(None, ranked, off_topic=True)
    p = confidence(signals, settings)
    if p < settings.threshold:
        return MatchResult(None, ranked, confidence=p)
    top = next(m for m in ranked if m.key == signals.top)
    near = related.get(top.key, frozenset())
    also = tuple(m for m in ranked[1:3] if m.key in near and top.score - m.score <= settings.also_gap)
    return MatchResult(top, ranked, also=also, confidence=p)
