"""bm25s's BM25 with a faster index build: the retrieval half of the matcher."""

from __future__ import annotations

import functools
from typing import Any


@functools.lru_cache(maxsize=1)
def whole_array_bm25(bm25s: Any, np: Any) -> Any:
    """bm25s's BM25, its index built with whole-array numpy instead of a Python loop over the
    documents (the library invites overriding `build_index_from_ids`; its own formulas are used,
    and the scoring is untouched). Building the matcher must stay under 300 ms.

    bm25s and numpy are passed in, not imported here, so that importing the matcher loads
    neither (they are imported on the first question)."""
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
