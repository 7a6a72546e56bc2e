"""Matching what a parent types to a rights topic, and knowing when not to answer.

A wrong answer delivered confidently is worse than no answer, so the matcher says how sure it
is, and the caller answers only confident matches. How it works:

1. **Names first.** A query that is exactly a topic's id, title or one of its keywords
   ("best endeavours", "section f") is that topic, for certain.
2. **Two models that learn from examples.** Every topic carries example questions written the
   way parents type (cogs/content/examples.toml), and off-topic examples (greetings, benefits,
   forum chat) form one more class, `none`. Two standard text classifiers score each class:
   - *retrieval*: every example is a document in a BM25 index (the maintained `bm25s`
     library); a class's score sums its best five examples' scores with falling weights, and
     each query word is weighted by how much it tells the classes apart (a word spread evenly
     over every topic, like "school", counts for little);
   - *complement naive Bayes* over words and word pairs, which learns from all of a class's
     examples at once (Rennie et al. 2003, the variant made for uneven text classes).
   Each model's scores are standardised across the classes and added, so neither dominates.
3. **Text normalisation** first: accents folded, "£6,000" and "6k" read as 6000, "section i"
   and "s.19" kept as one token each, a few spellings folded ("council" = "LA"), stop words
   dropped, words stemmed (Snowball, via PyStemmer), and a word the examples never use is
   taken as the closest word they do use when it is a likely typo (rapidfuzz).
4. **Confidence.** When `none` scores best, the question is out of scope. Otherwise a small
   logistic model turns five signals (the lead over the next class, the best score, the
   retrieval score, how much of the question's vocabulary the topic's examples use, and the
   question's length) into the chance that the answer is right; the bot answers only above a
   threshold. A close second topic that the content declares as related is offered as
   "Also see". The coefficients and thresholds are fitted by cross-validation over the
   examples (`python -m bench.rights --calibrate`), never on the test questions, and stored
   in cogs/content/matcher.toml.

The index is built the first time a question is matched, not at import, so commands that
never need it (`!help`) never load numpy or bm25s.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cogs.content.model import OFF_TOPIC, MatcherSettings

MAX_QUERY_CHARS = 1500  # long stories bury the question near the end: keep all of a normal message
MAX_TOKENS = 250
TOP_WEIGHTS = (1.0, 0.8, 0.6, 0.4, 0.2)  # retrieval: a class's best five examples, best first
BM25_K1 = 1.2
BM25_B = 0.5  # examples vary from two words to a long story: length matters only half
SPREAD_DISCOUNT = 0.5  # how much a word spread over every class is discounted (0: not at all)
NB_ALPHA = 2.0  # complement naive Bayes smoothing
NB_MIN_COUNT = 2  # a word pair seen in one example only teaches little and costs memory
RETRIEVAL_WEIGHT = 1.0  # the retrieval model's share of the combined score (naive Bayes: 1)
NAME_BOOST = 1.0  # added to a topic whose keyword (two words or more) appears whole in the question
GRAM_CHUNK = 250  # examples counted at a time while building (bounds the memory peak)
TYPO_RARE = 5  # a word in this many examples or fewer may itself be a typo
TYPO_RATIO = 20  # ...of a word one slip away that is used this many times as often

# Words that carry no topic meaning in parents' questions, dropped before matching.
STOPWORDS = frozenset(
    """
    a an the my our his her their your its i im ive id we they you he she it me us them this that these those
    is are was were be been being am has have had do does did done can could should would will shall may
    might must to of in on for at by with about from into and or but if so what whats how when who why
    where which please tell know want help rights right child childs son daughter kid kids
    young person pupil still really just u ur pls plz thx tbh cos coz cuz ds dd dh hes shes
    theyre thats there then than too very also anyone anybody someone get got any some x xx lol
    """.split()  # noqa: SIM905 - a word list reads better as text
)

# Spellings that mean the same thing here, folded before stemming. Typos in general are
# handled by the correction step; these are the ones too short or too odd for it.
SYNONYMS: dict[str, str] = {
    "council": "la",
    "councils": "la",
    "lea": "la",
    "ehcps": "ehcp",
    "echp": "ehcp",
    "echps": "ehcp",
    "ehp": "ehcp",
    "ehc": "ehcp",
    "sch": "school",
    "skool": "school",
    "yr": "year",
    "sendist": "tribunal",
    "lgo": "ombudsman",
    "lgsco": "ombudsman",
    "sendias": "sendiass",
    "iass": "sendiass",
    "endeavors": "endeavours",
}

_SECTION = r"(?:section|secton|sectoin|sectiom|sction|sect|sec)"
# Legal references and amounts kept as one token: "section i" -> "sectioni", "s.19" and
# "section 19" -> "s19", "reg 44" -> "reg44", "six thousand" and "6k" -> "6000".
_REFERENCE = re.compile(
    rf"\b(?:{_SECTION}\s(?P<letter>[a-k])"
    rf"|(?:{_SECTION}|s)\s?(?P<section>\d{{1,3}}[a-z]{{0,2}})"
    r"|(?:regulations?|regs?)\s?(?P<reg>\d{1,3})"
    r"|(?P<money>six thousand|6 ?k|6 000))\b"
)


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


_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3})")
# Lower-case ASCII letters and digits stay; apostrophes go (don't -> dont); all else is a space.
_KEEP = "abcdefghijklmnopqrstuvwxyz0123456789"
_TO_SPACE = str.maketrans({chr(c): (None if chr(c) == "'" else " ") for c in range(128) if chr(c) not in _KEEP})
_MAY_HOLD_REFERENCE = re.compile(r"\d|\bs(?:ec|ix)|\breg")


def normalise(text: str) -> str:
    """Lower-case words: accents folded, "£6,000" -> "6000", punctuation dropped."""
    text = text[:MAX_QUERY_CHARS]
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = text.lower()
    if "," in text:
        text = _THOUSANDS.sub("", text)  # 6,000 -> 6000
    return " ".join(text.translate(_TO_SPACE).split()[:MAX_TOKENS])


def _reference(m: re.Match[str]) -> str:
    if m["letter"]:
        return f"section{m['letter']}"
    if m["section"]:
        return f"s{m['section']}"
    if m["reg"]:
        return f"reg{m['reg']}"
    return "6000"


def _joined(text: str) -> str:
    """Keep the parts of a legal reference together: "section i" must not lose its "i"."""
    if not _MAY_HOLD_REFERENCE.search(text):
        return text  # most questions have no reference: skip the full substitution
    return _REFERENCE.sub(_reference, text)


def words(text: str) -> list[str]:
    """The text's meaningful words, before stemming."""
    out = []
    for w in _joined(normalise(text)).split():
        w = SYNONYMS.get(w, w)
        if w not in STOPWORDS:
            out.append(w)
    return out


_SPACES = re.compile(r"\s{2,}")
_SEPARATOR = "\x00"  # between texts normalised together: not a word, not a space
_TO_SPACE_KEEPING_SEPARATOR = {**_TO_SPACE, ord(_SEPARATOR): _SEPARATOR}


def words_many(texts: Sequence[str], chunk: int = 1000) -> list[list[str]]:
    """`words` for many texts at once, as `[words(t) for t in texts]` gives, in a fraction of
    the time: the string work runs over a thousand texts at a time rather than one by one
    (building the matcher reads thousands of examples; whole chunks keep the memory peak low)."""
    out: list[list[str]] = []
    # One string object per distinct word: split() makes a new one for every occurrence, and
    # thousands of examples hold a hundred thousand of them (the memory the matcher grows by).
    canonical: dict[str, str] = {}
    for start in range(0, len(texts), chunk):
        part_texts = texts[start : start + chunk]
        for text, part in zip(part_texts, _normalised_together(part_texts), strict=True):
            tokens = part.split()
            if len(tokens) >= MAX_TOKENS // 2:  # near the cap, where joining references moves it
                out.append(words(text))
                continue
            kept = []
            for w in tokens:
                w = SYNONYMS.get(w, w)
                if w not in STOPWORDS:
                    kept.append(canonical.setdefault(w, w))
            out.append(kept)
    return out


def _normalised_together(texts: Sequence[str]) -> list[str]:
    """normalise() and _joined() for each text, run once over all of them."""
    joined = f" {_SEPARATOR} ".join(t[:MAX_QUERY_CHARS].replace(_SEPARATOR, " ") for t in texts)
    if not joined.isascii():
        joined = unicodedata.normalize("NFKD", joined).encode("ascii", "ignore").decode()
    joined = joined.lower()
    if "," in joined:
        joined = _THOUSANDS.sub("", joined)
    # Runs of spaces to one, as normalise's split-and-join does (a regex: splitting the whole
    # text would make an object per word at once).
    joined = _joined(_SPACES.sub(" ", joined.translate(_TO_SPACE_KEEPING_SEPARATOR)))
    return joined.split(_SEPARATOR)


def name_key(text: str) -> str:
    """What two names must share to be the same name: their meaningful words, in order."""
    return " ".join(words(text)) or normalise(text)


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


class Index:
    """The built models. numpy, bm25s and PyStemmer are imported here, on first use.

    Words are stems numbered 0..V-1; a word pair is numbered V + a*V + b and a pair one word
    apart 2V*... (see `_gram_ids`), so the counting is done by numpy on integer arrays rather
    than in Python loops over strings: that keeps the build within its time budget."""

    def __init__(self, topics: Sequence[TopicText], off_topic: Sequence[str]) -> None:
        import bm25s
        import numpy as np
        import Stemmer

        # bm25s sets its own logger to DEBUG when imported, which would print a line to the
        # console at every build whatever [logging] level says.
        logging.getLogger("bm25s").setLevel(max(logging.getLogger().getEffectiveLevel(), logging.WARNING))

        self._np: Any = np
        self._stemmer: Any = Stemmer.Stemmer("english")
        self.keys: list[str] = [*(t.key for t in topics), OFF_TOPIC]
        ids = {t.key for t in topics}
        self.related = {
            t.key: frozenset(r for r in t.related if r in ids)
            | frozenset(o.key for o in topics if t.key in o.related)  # related both ways
            for t in topics
        }
        labelled: list[tuple[int, str]] = []
        for c, t in enumerate(topics):
            labelled += [(c, text) for text in (t.key.replace("-", " "), *t.names, *t.examples)]
        labelled += [(len(topics), text) for text in off_topic]

        # Words -> stems (each distinct word stemmed once) -> numbers.
        raw_words = words_many([text for _, text in labelled])
        distinct_words = sorted({w for ws in raw_words for w in ws})
        self._raw_vocab = [w for w in distinct_words if len(w) >= 4]
        # How many examples use each word: a word seen once or twice next to a common word one
        # keystroke away ("councel", "apeal") is taken as a typo of it (see _correct).
        self._word_count: dict[str, int] = {}
        for ws in raw_words:
            for w in set(ws):
                self._word_count[w] = self._word_count.get(w, 0) + 1
        # The folded spellings are correction targets too ("councel" -> "council" -> "la").
        for source, target in SYNONYMS.items():
            if len(source) >= 4 and target in self._word_count:
                self._word_count.setdefault(source, self._word_count[target])
                self._raw_vocab.append(source)
        self._vocab: dict[str, int] = {}
        id_of: dict[str, int] = {}  # word -> its stem's number (each distinct word looked up once)
        for w, stem in zip(distinct_words, self._stemmer.stemWords(distinct_words), strict=True):
            if stem:
                id_of[w] = self._vocab.setdefault(stem, len(self._vocab))
        docs: list[list[int]] = []
        labels: list[int] = []
        flat_ids: list[int] = []  # every document's words, end to end, for the numpy counting
        for (label, _), ws in zip(labelled, raw_words, strict=True):
            doc = [id_of[w] for w in ws if w in id_of]
            if doc:
                docs.append(doc)
                labels.append(label)
                flat_ids.extend(doc)
        del raw_words, labelled  # the words are numbers now
        _give_back_freed_memory()  # each stage's temporaries, before the next stage's
        v = self._size = len(self._vocab)
        n, n_classes = len(docs), len(self.keys)
        label_array = np.array(labels)
        self._rows = [np.flatnonzero(label_array == c) for c in range(n_classes)]
        self._weights = np.array(TOP_WEIGHTS)

        # Names: exact matches, and phrases of two words or more for the name boost.
        self.names: dict[str, str] = {}
        self._phrases: list[tuple[str, int]] = []
        for c, t in enumerate(topics):
            for name in (t.key, t.key.replace("-", " "), *t.names):
                self.names.setdefault(name_key(name), t.key)
                phrase = self._stem(words(name))
                if len(phrase) >= 2:
                    self._phrases.append((f" {' '.join(phrase)} ", c))

        # Retrieval: BM25 over the examples (bm25s, given the numbers directly).
        self._bm25: Any = _whole_array_bm25(bm25s, np)(k1=BM25_K1, b=BM25_B)
        self._bm25.index((docs, dict(self._vocab)), show_progress=False)
        _give_back_freed_memory()

        # Every (document, gram) once: binary counts for both models. Temporaries are dropped
        # as soon as they are used: the peak, not what is kept, decides the memory the bot grows by.
        flat = np.array(flat_ids, dtype=np.int64)
        ends = np.cumsum([len(d) for d in docs])
        del docs, flat_ids
        gram_parts, class_parts = [], []
        for start in range(0, n, GRAM_CHUNK):
            stop = min(start + GRAM_CHUNK, n)
            lo, hi = (int(ends[start - 1]) if start else 0), int(ends[stop - 1])
            doc_of = np.repeat(np.arange(start, stop), np.diff(ends[start:stop], prepend=lo))
            grams, gram_doc = self._gram_ids(flat[lo:hi], doc_of)
            pairs = np.unique(gram_doc * self._gram_space + grams)
            gram_parts.append((pairs % self._gram_space).astype(np.int32))
            class_parts.append(label_array[pairs // self._gram_space].astype(np.int32))
        del flat
        grams, classes = np.concatenate(gram_parts), np.concatenate(class_parts)
        del gram_parts, class_parts
        _give_back_freed_memory()

        # Word statistics: idf as bm25s computes it (Lucene), and how spread over the classes
        # each word is: a word found in one class says a lot, one spread over all says little.
        is_word = grams < v
        per_class = np.bincount(grams[is_word] * n_classes + classes[is_word], minlength=v * n_classes)
        per_class = per_class.reshape(v, n_classes).astype(np.float64)
        del is_word
        df = per_class.sum(axis=1)
        self._idf_array = np.log(1 + (n - df + 0.5) / (df + 0.5))
        share = per_class / df[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            entropy = -np.nansum(np.where(share > 0, share * np.log(share), 0.0), axis=1)
        self._spread = 1.0 - SPREAD_DISCOUNT * entropy / math.log(n_classes)
        self._in_class = per_class > 0
        self._unknown_idf = math.log(1 + (n + 0.5) / 0.5)

        # Complement naive Bayes over words and pairs; a pair must be seen in NB_MIN_COUNT examples.
        kinds, counts = np.unique(grams, return_counts=True)
        self._features = kinds[(kinds < v) | (counts >= NB_MIN_COUNT)]
        del kinds, counts
        column = np.searchsorted(self._features, grams).astype(np.int32)
        kept = (column < len(self._features)) & (self._features[np.minimum(column, len(self._features) - 1)] == grams)
        size = len(self._features)
        # Counted straight into float32: an int64 count matrix first would double the peak.
        nb = np.zeros((n_classes, size), dtype=np.float32)
        np.add.at(nb, (classes[kept], column[kept]), 1.0)
        del column, kept, grams, classes
        _give_back_freed_memory()
        # The complement of each class: every other class's counts, smoothed (in place: the
        # matrix is the largest thing the matcher holds).
        np.subtract(nb.sum(axis=0, keepdims=True), nb, out=nb)
        nb += NB_ALPHA
        nb /= nb.sum(axis=1, keepdims=True)
        np.log(nb, out=nb)
        # Each row over minus the sum of its absolute values, which is the row's own sum: logs of
        # probabilities are never above zero (so no copy of the matrix is made for np.abs).
        nb /= nb.sum(axis=1, keepdims=True)
        self._nb = nb

    @property
    def _gram_space(self) -> int:
        return self._size + 2 * self._size * self._size

    def _gram_ids(self, flat: Any, doc_of: Any) -> tuple[Any, Any]:
        """Words, neighbouring pairs and pairs one word apart ("take plan off" -> "take off"),
        as numbers, with the document each came from."""
        np = self._np
        v = self._size
        same1 = doc_of[1:] == doc_of[:-1]
        same2 = doc_of[2:] == doc_of[:-2]
        grams = np.concatenate(
            [
                flat,
                v + flat[:-1][same1] * v + flat[1:][same1],
                v + v * v + flat[:-2][same2] * v + flat[2:][same2],
            ]
        )
        return grams, np.concatenate([doc_of, doc_of[:-1][same1], doc_of[:-2][same2]])

    def _stem(self, ws: Sequence[str]) -> list[str]:
        return [s for s in self._stemmer.stemWords(list(ws)) if s]

    def _correct(self, ws: list[str]) -> list[str]:
        """A word the examples never use, or use only as a rare slip, close to a word they use
        far more often is taken as that word. Closeness counts a swapped pair of letters as one
        slip ("reveiw"), as people make them."""
        out = []
        for w in ws:
            count = self._word_count.get(w, 0)
            known = count > 0 or self._stemmer.stemWord(w) in self._vocab
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

    def _rival(self, top: int, order: Any) -> int:
        """The best class other than `top` and the topics related to it."""
        near = self.related.get(self.keys[top], frozenset())
        return next(int(c) for c in order[1:] if self.keys[int(c)] not in near)

    def score(self, query: str) -> tuple[list[Match], Signals | None]:
        """Every class's combined score, best first, and the signals for the best."""
        np = self._np
        stems = self._stem(self._correct(words(query)))
        distinct = list(dict.fromkeys(stems))
        known = [self._vocab[t] for t in distinct if t in self._vocab]
        if not known:
            return [Match(k, 0.0) for k in self.keys], None
        unknown = len(distinct) - len(known)
        # Retrieval, relative to what this question could score at most (unknown words count
        # as rare ones, so a question mostly about something else cannot look sure).
        doc_scores = sum(self._spread[i] * self._bm25.get_scores_from_ids([i]) for i in known)
        most = float(sum(self._idf_array[i] * self._spread[i] for i in known)) + unknown * self._unknown_idf
        most *= float(self._weights.sum())
        retrieval = np.zeros(len(self.keys))
        for c, rows in enumerate(self._rows):
            if len(rows):
                best = np.sort(doc_scores[rows])[::-1][: len(self._weights)]
                retrieval[c] = float(best @ self._weights[: len(best)]) / most
        ids = np.array([self._vocab[t] for t in stems if t in self._vocab], dtype=np.int64)
        grams = np.unique(self._gram_ids(ids, np.zeros(len(ids), dtype=np.int64))[0])
        column = np.searchsorted(self._features, grams)
        inside = column < len(self._features)
        column = column[inside][self._features[column[inside]] == grams[inside]]
        bayes = self._nb[:, column].sum(axis=1)
        combined = _standardised(np, bayes) + RETRIEVAL_WEIGHT * _standardised(np, retrieval)
        text = f" {' '.join(stems)} "
        for c in {c for phrase, c in self._phrases if phrase in text}:
            combined[c] += NAME_BOOST
        order = np.argsort(-combined, kind="stable")
        top = int(order[0])
        mass = float(self._idf_array[known].sum()) + unknown * self._unknown_idf
        covered = float(self._idf_array[known][self._in_class[known, top]].sum())
        signals = Signals(
            top=self.keys[top],
            lead=float(combined[order[0]] - combined[self._rival(top, order)]),
            best=float(combined[order[0]]),
            retrieval=float(retrieval[top]),
            coverage=covered / mass,
            words=len(distinct),
        )
        return [Match(self.keys[int(c)], float(combined[c])) for c in order], signals


@functools.lru_cache(maxsize=1)
def _whole_array_bm25(bm25s: Any, np: Any) -> Any:
    """bm25s's BM25, its index built with whole-array numpy instead of a Python loop over the
    documents (the library invites overriding `build_index_from_ids`; its own formulas are used,
    and the scoring is untouched). Building the matcher must stay under 300 ms."""
    from bm25s.scoring import _select_idf_scorer, _select_tfc_scorer

    class WholeArrayBM25(bm25s.BM25):
        def build_index_from_ids(
            self,
            unique_token_ids: list[int],
            corpus_token_ids: list[list[int]],
            show_progress: bool = True,
            leave_progress: bool = False,
        ) -> dict[str, Any]:
            if self.method in self.methods_requiring_nonoccurrence:
                return super().build_index_from_ids(unique_token_ids, corpus_token_ids, show_progress, leave_progress)
            self.nonoccurrence_array = None
            n_docs, n_vocab = len(corpus_token_ids), len(unique_token_ids)
            lengths = np.fromiter((len(d) for d in corpus_token_ids), dtype=np.int32, count=n_docs)
            flat = np.fromiter((t for d in corpus_token_ids for t in d), dtype=np.int64, count=int(lengths.sum()))
            flat *= n_docs
            flat += np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
            # (term, document) pairs, sorted by term then document: the CSC layout bm25s scores from.
            pairs, tf = np.unique(flat, return_counts=True)
            del flat
            term, doc = (pairs // n_docs).astype(np.int32), (pairs % n_docs).astype(np.int32)
            del pairs
            df = np.bincount(term, minlength=n_vocab)
            idf_of = _select_idf_scorer(self.idf_method)
            idf = np.array([idf_of(int(d), N=n_docs) if d else 0.0 for d in df], dtype=self.dtype)
            tfc = _select_tfc_scorer(self.method)(
                tf_array=tf.astype(self.dtype),
                l_d=lengths[doc].astype(self.dtype),
                l_avg=lengths.mean(),
                k1=self.k1,
                b=self.b,
                delta=self.delta,
            )
            return {
                "data": (idf[term] * tfc).astype(self.dtype),
                "indices": doc.astype(self.int_dtype),
                "indptr": np.concatenate([[0], np.cumsum(df)]).astype(np.int64),
                "num_docs": n_docs,
            }

    return WholeArrayBM25


@functools.lru_cache(maxsize=2)
def _shared_index(topics: tuple[TopicText, ...], off_topic: tuple[str, ...]) -> Index:
    """One Index per distinct content: it is read-only once built, so matchers made from the
    same topics and examples (a reload, several bots in one test run) share it."""
    index = Index(topics, off_topic)
    _give_back_freed_memory()
    return index


def _give_back_freed_memory() -> None:
    """Return the build's freed temporaries to the system. glibc keeps freed heap memory for
    reuse, so without this the bot would stay about 12 MB bigger than the matcher it keeps."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        trim = getattr(libc, "malloc_trim", None)
        if trim is not None:
            trim(0)
    except OSError:  # not glibc (musl, macOS): nothing to do
        pass


def _standardised(np: Any, v: Any) -> Any:
    sd = float(v.std())
    return (v - v.mean()) / sd if sd > 0 else v * 0.0


__all__ = [
    "Index",
    "Match",
    "MatchResult",
    "Signals",
    "TopicMatcher",
    "TopicText",
    "confidence",
    "decide",
    "name_key",
    "normalise",
    "words",
]
