"""The built models: the BM25 retrieval index, complement naive Bayes, the word statistics
both use, and the scoring of one question against them."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from cogs.content.model import OFF_TOPIC
from cogs.rights.match.answer import Match, Signals, TopicText
from cogs.rights.match.bm25 import whole_array_bm25
from cogs.rights.match.text import name_key, words, words_many
from cogs.rights.match.typos import Typos

TOP_WEIGHTS = (1.0, 0.8, 0.6, 0.4, 0.2)  # retrieval: a class's best five examples, best first
BM25_K1 = 1.2
BM25_B = 0.5  # examples vary from two words to a long story: length matters only half
SPREAD_DISCOUNT = 0.5  # how much a word spread over every class is discounted (0: not at all)
NB_ALPHA = 2.0  # complement naive Bayes smoothing
NB_MIN_COUNT = 2  # a word pair seen in one example only teaches little and costs memory
RETRIEVAL_WEIGHT = 1.0  # the retrieval model's share of the combined score (naive Bayes: 1)
NAME_BOOST = 1.0  # added to a topic whose keyword (two words or more) appears whole in the question
GRAM_CHUNK = 250  # examples counted at a time while building (bounds the memory peak)


class Index:
    """The built models. numpy, bm25s and PyStemmer are imported here, on first use.

    Words are stems numbered 0..V-1; a word pair is numbered V + a*V + b and a pair one word
    apart 2V*... (see `_gram_ids`), so the counting is done by numpy on integer arrays rather
    than in Python loops over strings: that keeps the build within its time budget.

    Each build step drops its temporaries as soon as they are used, and the freed memory is
    given back between steps: the peak, not what is kept, decides the memory the bot grows by."""

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
        self.related = _related_both_ways(topics)
        docs, labels, flat_ids = self._numbered_documents(_labelled(topics, off_topic))
        give_back_freed_memory()
        label_array = np.array(labels)
        self._rows = [np.flatnonzero(label_array == c) for c in range(len(self.keys))]
        self._weights = np.array(TOP_WEIGHTS)
        self._index_names(topics)
        # Retrieval: BM25 over the examples (bm25s, given the numbers directly).
        self._bm25: Any = whole_array_bm25(bm25s, np)(k1=BM25_K1, b=BM25_B)
        self._bm25.index((docs, dict(self._vocab)), show_progress=False)
        give_back_freed_memory()
        grams, classes = self._document_grams(docs, flat_ids, label_array)
        del docs, flat_ids
        give_back_freed_memory()
        self._word_statistics(grams, classes, n=len(labels))
        self._nb = self._complement_naive_bayes(grams, classes)

    # -- building ----------------------------------------------------------------------

    def _numbered_documents(self, labelled: list[tuple[int, str]]) -> tuple[list[list[int]], list[int], list[int]]:
        """Words -> stems (each distinct word stemmed once) -> numbers. Returns the documents
        (examples with at least one known word), their class numbers, and every document's
        words end to end (for the numpy counting). Sets the vocabulary and the typo model."""
        raw_words = words_many([text for _, text in labelled])
        distinct_words = sorted({w for ws in raw_words for w in ws})
        self._typos = Typos(raw_words, distinct_words)
        self._vocab: dict[str, int] = {}
        id_of: dict[str, int] = {}  # word -> its stem's number (each distinct word looked up once)
        for w, stem in zip(distinct_words, self._stemmer.stemWords(distinct_words), strict=True):
            if stem:
                id_of[w] = self._vocab.setdefault(stem, len(self._vocab))
        self._size = len(self._vocab)
        docs: list[list[int]] = []
        labels: list[int] = []
        flat_ids: list[int] = []
        for (label, _), ws in zip(labelled, raw_words, strict=True):
            doc = [id_of[w] for w in ws if w in id_of]
            if doc:
                docs.append(doc)
                labels.append(label)
                flat_ids.extend(doc)
        return docs, labels, flat_ids

    def _index_names(self, topics: Sequence[TopicText]) -> None:
        """Names: exact matches, and phrases of two words or more for the name boost."""
        self.names: dict[str, str] = {}
        self._phrases: list[tuple[str, int]] = []
        for c, t in enumerate(topics):
            for name in (t.key, t.key.replace("-", " "), *t.names):
                self.names.setdefault(name_key(name), t.key)
                phrase = self._stem(words(name))
                if len(phrase) >= 2:
                    self._phrases.append((f" {' '.join(phrase)} ", c))

    def _document_grams(self, docs: list[list[int]], flat_ids: list[int], label_array: Any) -> tuple[Any, Any]:
        """Every (document, gram) once, as two arrays: the gram and the document's class
        (binary counts for both models). Counted GRAM_CHUNK documents at a time."""
        np = self._np
        n = len(docs)
        flat = np.array(flat_ids, dtype=np.int64)
        ends = np.cumsum([len(d) for d in docs])
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
        return np.concatenate(gram_parts), np.concatenate(class_parts)

    def _word_statistics(self, grams: Any, classes: Any, n: int) -> None:
        """Idf as bm25s computes it (Lucene), and how spread over the classes each word is: a
        word found in one class says a lot, one spread over all says little."""
        np = self._np
        v, n_classes = self._size, len(self.keys)
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

    def _complement_naive_bayes(self, grams: Any, classes: Any) -> Any:
        """Complement naive Bayes weights over words and pairs (a pair must be seen in
        NB_MIN_COUNT examples), one row per class. Sets the features (the columns)."""
        np = self._np
        kinds, counts = np.unique(grams, return_counts=True)
        self._features = kinds[(kinds < self._size) | (counts >= NB_MIN_COUNT)]
        del kinds, counts
        column = np.searchsorted(self._features, grams).astype(np.int32)
        kept = (column < len(self._features)) & (self._features[np.minimum(column, len(self._features) - 1)] == grams)
        # Counted straight into float32: an int64 count matrix first would double the peak.
        nb = np.zeros((len(self.keys), len(self._features)), dtype=np.float32)
        np.add.at(nb, (classes[kept], column[kept]), 1.0)
        del column, kept
        give_back_freed_memory()
        # The complement of each class: every other class's counts, smoothed (in place: the
        # matrix is the largest thing the matcher holds).
        np.subtract(nb.sum(axis=0, keepdims=True), nb, out=nb)
        nb += NB_ALPHA
        nb /= nb.sum(axis=1, keepdims=True)
        np.log(nb, out=nb)
        # Each row over minus the sum of its absolute values, which is the row's own sum: logs of
        # probabilities are never above zero (so no copy of the matrix is made for np.abs).
        nb /= nb.sum(axis=1, keepdims=True)
        return nb

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

    # -- scoring -----------------------------------------------------------------------

    def _stem(self, ws: Sequence[str]) -> list[str]:
        return [s for s in self._stemmer.stemWords(list(ws)) if s]

    def _has_stem(self, w: str) -> bool:
        return self._stemmer.stemWord(w) in self._vocab

    def _rival(self, top: int, order: Any) -> int:
        """The best class other than `top` and the topics related to it."""
        near = self.related.get(self.keys[top], frozenset())
        return next(int(c) for c in order[1:] if self.keys[int(c)] not in near)

    def score(self, query: str) -> tuple[list[Match], Signals | None]:
        """Every class's combined score, best first, and the signals for the best."""
        np = self._np
        stems = self._stem(self._typos.correct(words(query), self._has_stem))
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


def _labelled(topics: Sequence[TopicText], off_topic: Sequence[str]) -> list[tuple[int, str]]:
    """Every text the models learn from, with its class number: a topic's id, names and
    examples; then the off-topic examples, as the last class."""
    labelled: list[tuple[int, str]] = []
    for c, t in enumerate(topics):
        labelled += [(c, text) for text in (t.key.replace("-", " "), *t.names, *t.examples)]
    labelled += [(len(topics), text) for text in off_topic]
    return labelled


def _related_both_ways(topics: Sequence[TopicText]) -> dict[str, frozenset[str]]:
    """Each topic's related topics that exist, and the topics that name it as related."""
    ids = {t.key for t in topics}
    return {
        t.key: frozenset(r for r in t.related if r in ids) | frozenset(o.key for o in topics if t.key in o.related)
        for t in topics
    }


def give_back_freed_memory() -> None:
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
