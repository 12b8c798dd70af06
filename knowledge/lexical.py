"""Lexical (BM25) scoring of passages, for hybrid retrieval beside the dense FAISS search.

Why: sentence embeddings blur exact terms — a route name, "7天6晚", "1:5", an SKU — that marketing
questions often hinge on. BM25 over the same passages catches those; :class:`FaissKnowledgeIndex`
fuses both rankings (reciprocal rank fusion).

Contract:
- :func:`terms` turns text into index terms in both scripts: text is NFKC-normalised and case-folded;
  Latin/digit words become terms (a light plural strip: "tours" → "tour"; a short stop-word list is
  dropped); runs of CJK characters become overlapping character bigrams (a lone character stays a
  unigram), the usual approach when there is no word segmenter.
- :class:`BM25` is built from (key, text) pairs in memory — nothing is persisted; rebuilding it for
  10k passages takes well under a second — and :meth:`BM25.top` returns the best keys with their scores.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable

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
    """Okapi BM25 (k1=1.2, b=0.75) over an in-memory inverted index."""

    def __init__(self, docs: Iterable[tuple[Hashable, str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.postings: dict[str, list[tuple[Hashable, int]]] = defaultdict(list)
        self.lengths: dict[Hashable, int] = {}
        for key, text in docs:
            counts = Counter(terms(text))
            self.lengths[key] = sum(counts.values())
            for term, tf in counts.items():
                self.postings[term].append((key, tf))
        self.avg_length = sum(self.lengths.values()) / max(1, len(self.lengths))

    def __len__(self) -> int:
        return len(self.lengths)

    def scores(self, query: str) -> dict[Hashable, float]:
        """BM25 score of every passage sharing at least one term with ``query``."""
        n = len(self.lengths)
        out: dict[Hashable, float] = defaultdict(float)
        for term in set(terms(query)):
            postings = self.postings.get(term)
            if not postings:
                continue
            idf = math.log(1 + (n - len(postings) + 0.5) / (len(postings) + 0.5))
            for key, tf in postings:
                norm = self.k1 * (1 - self.b + self.b * self.lengths[key] / self.avg_length)
                out[key] += idf * tf * (self.k1 + 1) / (tf + norm)
        return out

    def top(self, query: str, k: int) -> list[tuple[Hashable, float]]:
        """The ``k`` best-scoring keys for ``query``, best first (ties: insertion order)."""
        ranked = sorted(self.scores(query).items(), key=lambda item: -item[1])
        return ranked[:k]
