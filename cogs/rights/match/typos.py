"""Typo correction: a word the examples never use, or use only as a rare slip, close to a word
they use far more often is taken as that word ("councel" -> "council", "apeal" -> "appeal").
rapidfuzz is imported on the first word that needs it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cogs.rights.match.text import SYNONYMS

TYPO_RARE = 5  # a word in this many examples or fewer may itself be a typo
TYPO_RATIO = 20  # ...of a word one slip away that is used this many times as often


class Typos:
    """The examples' words and how many examples use each: what a slip is corrected to."""

    def __init__(self, documents: Sequence[Sequence[str]], distinct_words: Sequence[str]) -> None:
        """`documents`: every example's words (before stemming); `distinct_words`: the
        distinct words of all of them, sorted."""
        self._raw_vocab = [w for w in distinct_words if len(w) >= 4]
        # How many examples use each word: a word seen once or twice next to a common word one
        # keystroke away ("councel", "apeal") is taken as a typo of it.
        self._word_count: dict[str, int] = {}
        for ws in documents:
            for w in set(ws):
                self._word_count[w] = self._word_count.get(w, 0) + 1
        # The folded spellings are correction targets too ("councel" -> "council" -> "la").
        for source, target in SYNONYMS.items():
            if len(source) >= 4 and target in self._word_count:
                self._word_count.setdefault(source, self._word_count[target])
                self._raw_vocab.append(source)

    def correct(self, ws: list[str], has_stem: Callable[[str], bool]) -> list[str]:
        """`ws` with likely slips corrected. Closeness counts a swapped pair of letters as one
        slip ("reveiw"), as people make them. `has_stem`: whether a word's stem is one the
        examples use (a word they never use as such may still be a known stem)."""
        out = []
        for w in ws:
            count = self._word_count.get(w, 0)
            known = count > 0 or has_stem(w)
            if len(w) < 5 or w.isdigit() or (known and count > TYPO_RARE):
                out.append(w)
                continue
            likely = self._likely_word(w, count)
            out.append(SYNONYMS.get(likely, likely) if likely else w)
        return out

    def _likely_word(self, w: str, count: int) -> str | None:
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        limit = 1 if len(w) < 8 else 2
        # A word the examples use is corrected only to one a great deal more common.
        floor = max(1, count * TYPO_RATIO) if count else 1
        near = process.extract(w, self._raw_vocab, scorer=OSA.distance, score_cutoff=limit, limit=None)
        best = [(dist, -self._word_count[c]) for c, dist, _ in near if c != w and self._word_count[c] >= floor]
        if not best:
            return None
        dist, minus_count = min(best)
        return next(c for c, d, _ in near if d == dist and -self._word_count[c] == minus_count and c != w)
