"""Lexical (BM25) scoring of passages, for hybrid retrieval beside the dense FAISS search.

Why: sentence embeddings blur exact terms — a route name, "7天6晚", "1:5", an SKU — that marketing
questions often hinge on. BM25 over the same passages catches those; :class:`FaissKnowledgeIndex`
fuses both rankings (reciprocal rank fusion).

Contract:
- :func:`terms` turns text into index terms in both scripts: text is NFKC-normalised and case-folded;
  Latin/digit words become terms (a light plural strip: "tours" → "tour"; a short stop-word list is
  dropped); runs of CJK characters become overlapping character bigrams (a lone character stays a
  unigram), the usual approach when there is no word segmenter. It is linear in the text: neither regex
  can backtrack (each repetition is followed by a character it cannot match), as the adversarial
  documents of tests/security/test_input_limits.py check.
- :class:`BM25` is built from (key, text) pairs in memory — nothing is persisted; the index rebuilds
  it on the first hybrid search after a load or change (about 1 s per 10k passages) — and
  :meth:`BM25.top` returns the best keys with their scores.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable

import numpy as np

_WORD = re.compile(r"[0-9a-z]+(?:[.:'][0-9a-z]+)*")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_STOP = frozenset(
    {"a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how", "i", "in",
     "is", "it", "its", "of", "on", "or", "our", "the", "this", "to", "we", "what", "when", "where",
     "which", "who", "why", "will", "with", "you", "your"}
)  # fmt: skip


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    """Index terms of ``text``: folded Latin/digit words and CJK character bigrams."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    out = [_stem(w) for w in _WORD.findall(folded) if w not in _STOP]
    for run in _CJK_RUN.findall(folded):
        out += [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
    return out


class BM25:
    """Okapi BM25 (k1=1.2, b=0.75). Each term's postings hold its precomputed per-passage weight, so a
    query is one ``numpy.bincount`` over the postings of its terms (100k passages: milliseconds)."""

    def __init__(self, docs: Iterable[tuple[Hashable, str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.keys: list[Hashable] = []
        counts: list[Counter[str]] = []
        for key, text in docs:
            self.keys.append(key)
            counts.append(Counter(terms(text)))
        n = len(self.keys)
        lengths = np.array([sum(c.values()) for c in counts], dtype=np.float32)
        norm = k1 * (1 - b + b * lengths / max(float(lengths.mean()) if n else 1.0, 1e-9))
        rows: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        for doc, c in enumerate(counts):
            for term, count in c.items():
                docs_of, tfs = rows[term]
                docs_of.append(doc)
                tfs.append(count)
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, (docs_of, tfs) in rows.items():
            idx = np.asarray(docs_of, dtype=np.int64)
            tf = np.asarray(tfs, dtype=np.float32)
            idf = math.log(1 + (n - len(idx) + 0.5) / (len(idx) + 0.5))
            self.postings[term] = (idx, (idf * tf * (k1 + 1) / (tf + norm[idx])).astype(np.float32))

    def __len__(self) -> int:
        return len(self.keys)

    def _score_array(self, query: str) -> np.ndarray | None:
        hits = [self.postings[t] for t in set(terms(query)) if t in self.postings]
        if not hits:
            return None
        docs = np.concatenate([h[0] for h in hits])
        weights = np.concatenate([h[1] for h in hits])
        return np.bincount(docs, weights=weights, minlength=len(self.keys))

    def scores(self, query: str) -> dict[Hashable, float]:
        """BM25 score of every passage sharing at least one term with ``query``."""
        scores = self._score_array(query)
        if scores is None:
            return {}
        return {self.keys[i]: float(scores[i]) for i in np.flatnonzero(scores)}

    def top(self, query: str, k: int) -> list[tuple[Hashable, float]]:
        """The ``k`` best-scoring keys for ``query``, best first (ties: insertion order)."""
        scores = self._score_array(query)
        if scores is None or k <= 0:
            return []
        candidates = np.flatnonzero(scores)
        if len(candidates) > k:
            candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
        ordered = sorted(candidates.tolist(), key=lambda i: (-scores[i], i))
        return [(self.keys[i], float(scores[i])) for i in ordered]
