"""The matcher the cog holds: names first, then the models, then the answering rule."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable

from cogs.content.model import MatcherSettings
from cogs.rights.match.answer import Match, MatchResult, TopicText, decide
from cogs.rights.match.index import Index, give_back_freed_memory
from cogs.rights.match.text import name_key


class TopicMatcher:
    """Built on first use (or by `build()`), then `match` many times. Deterministic."""

    def __init__(
        self,
        topics: Iterable[TopicText],
        off_topic: Iterable[str] = (),
        settings: MatcherSettings | None = None,
    ) -> None:
        self.topics = tuple(topics)
        self.off_topic_examples = tuple(off_topic)
        self.settings = settings or MatcherSettings()
        self._index: Index | None = None

    def build(self) -> Index:
        if self._index is None:
            self._index = _shared_index(self.topics, self.off_topic_examples)
        return self._index

    def match(self, query: str) -> MatchResult:
        index = self.build()
        exact = index.names.get(name_key(query))
        if exact is not None:
            best = Match(exact, math.inf)
            return MatchResult(best=best, ranked=(best,), confidence=1.0)
        ranked, signals = index.score(query)
        return decide(ranked, signals, self.settings, index.related)


@functools.lru_cache(maxsize=2)
def _shared_index(topics: tuple[TopicText, ...], off_topic: tuple[str, ...]) -> Index:
    """One Index per distinct content: it is read-only once built, so matchers made from the
    same topics and examples (a reload, several bots in one test run) share it."""
    index = Index(topics, off_topic)
    give_back_freed_memory()
    return index
