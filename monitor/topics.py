"""Topics: what many mentions talk about, found as clusters of their multilingual embeddings.

Contract: :func:`find_topics` takes L2-normalised embeddings (one row per mention) and returns a topic id
per mention and the clusters' centroids. The method, and why:

- spherical k-means (faiss) on the embeddings of the masked texts: the project's embedder is
  cross-lingual, so "退款等了两周" and "still waiting on my refund" can share a topic;
- k is chosen by the silhouette (cosine) of a sample of at most :data:`SILHOUETTE_SAMPLE` mentions over
  k = :data:`MIN_TOPICS` … :data:`MAX_TOPICS` (capped at a tenth of the mentions). The silhouette of
  short posts is flat and often peaks at two clusters ("praise" and "complaint"), which says nothing a
  brand manager needs; from four up it picked 6 and 5 topics on the two example months, whose writers
  planted 5 each (docs/monitor.md);
- clusters of fewer than :data:`MIN_TOPIC_SIZE` mentions are folded into topic ``-1`` ("other"): a
  topic of two posts is noise, not a trend.

:func:`topic_terms` names a topic without a model: the terms most particular to it (class-based TF-IDF
over jieba words for Chinese and plain words for English), brand names and stop words left out.
Deterministic for a given input and seed.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from monitor.brands import is_cjk, latin_words
from policy.text import fold_str

MIN_TOPICS = 4
MAX_TOPICS = 20
MIN_TOPIC_SIZE = 4
SILHOUETTE_SAMPLE = 2_000


def _kmeans(vectors: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    import faiss

    km = faiss.Kmeans(
        vectors.shape[1],
        k,
        niter=25,
        nredo=3,
        seed=seed,
        spherical=True,
        verbose=False,
        min_points_per_centroid=1,  # few posts per topic is normal here: no warning for it
    )
    km.train(vectors)
    _, labels = km.index.search(vectors, 1)
    centroids = np.asarray(km.centroids, dtype=np.float32)
    return labels[:, 0].astype(np.int64), centroids.copy()


def _silhouette(vectors: np.ndarray, labels: np.ndarray) -> float:
    from sklearn.metrics import silhouette_score

    if len(set(labels.tolist())) < 2:
        return -1.0
    return float(silhouette_score(vectors, labels, metric="cosine"))


def find_topics(vectors: np.ndarray, *, seed: int = 0, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(topic id per row, centroids by topic id); ids run 0..n-1 by size, -1 for "other"."""
    n = len(vectors)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if n < MIN_TOPIC_SIZE * 2:
        return np.full(n, -1, dtype=np.int64), np.zeros((0, vectors.shape[1] if n else 0), dtype=np.float32)
    if k is None:
        rng = np.random.default_rng(seed)
        sample = rng.choice(n, size=min(n, SILHOUETTE_SAMPLE), replace=False)
        low = min(MIN_TOPICS, max(2, n // 10))
        top = max(low, min(MAX_TOPICS, n // 10))
        best: tuple[float, int] = (-math.inf, low)
        for candidate in range(low, top + 1):
            labels, _ = _kmeans(vectors, candidate, seed)
            score = _silhouette(vectors[sample], labels[sample])
            if score > best[0]:
                best = (score, candidate)
        k = best[1]
    labels, centroids = _kmeans(vectors, min(k, n), seed)
    sizes = Counter(labels.tolist())
    kept = [c for c, size in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])) if size >= MIN_TOPIC_SIZE]
    renumber = {old: new for new, old in enumerate(kept)}
    topic = np.array([renumber.get(int(c), -1) for c in labels], dtype=np.int64)
    return topic, centroids[kept] if kept else np.zeros((0, vectors.shape[1]), dtype=np.float32)


STOP_WORDS = frozenset(
    """
    a an the and or but if of to in on at for with from by as is are was were be been being it
    its this that these those i me my we our you your he she they them their his her so very
    just really too not no yes do does did done have has had will would can could should about
    after before again all also am any because than then there here what when where which who
    why how more most some such only own same into out up down over under off once get got im
    i'm it's dont don't didn't isnt isn't wasnt was one two like even still much many lot lots
    thing things way 的 了 是 我 你 他 她 它 们 在 和 就 都 也 还 很 太 又 吗 吧 啊 呢 呀 哦
    嘛 么 这 那 个 有 没 不 没有 一个 一下 我们 你们 他们 自己 什么 怎么 这个 那个 这次 就是
    还是 但是 可是 因为 所以 如果 然后 真的 觉得 已经 而且 感觉 可以 知道 现在 时候 今天 昨天
    之前 以后 一直 还有 还要 但 说 去 来 给 让 被 把 对 跟 与 及 等
    """.split()  # noqa: SIM905 - a word list reads better as text
)


@functools.cache
def _jieba() -> object:
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    return jieba


def tokens(text: str) -> list[str]:
    """Words of a masked mention for topic terms: jieba words for Chinese, plain words for English."""
    folded = fold_str(text)
    out: list[str] = []
    if any(is_cjk(ch) for ch in folded):
        jieba = _jieba()
        for word in jieba.lcut(folded):  # type: ignore[attr-defined]
            word = word.strip()
            if len(word) >= 2 and any(is_cjk(ch) for ch in word) and word not in STOP_WORDS:
                out.append(word)
    for word, _, _ in latin_words(folded):
        if len(word) >= 3 and not word.isdigit() and word not in STOP_WORDS and not word.startswith("["):
            out.append(word)
    return out


def topic_terms(
    texts: Sequence[str], topics: Sequence[int], *, exclude: Sequence[str] = (), top: int = 5
) -> dict[int, list[str]]:
    """The ``top`` terms most particular to each topic (class-based TF-IDF), without ``exclude`` words
    (brand names: every topic has them)."""
    banned = {fold_str(e) for e in exclude}
    banned |= {w for e in exclude for w, _, _ in latin_words(fold_str(e))}
    per_topic: dict[int, Counter[str]] = {}
    for text, topic in zip(texts, topics, strict=True):
        if topic < 0:
            continue
        words = [
            w
            for w in tokens(text)
            if w not in banned and not any(w in b or b in w for b in banned if len(b) >= 2)
        ]
        per_topic.setdefault(topic, Counter()).update(words)
    if not per_topic:
        return {}
    in_topics: Counter[str] = Counter()
    for counts in per_topic.values():
        in_topics.update(counts.keys())
    total = len(per_topic)
    out: dict[int, list[str]] = {}
    for topic, counts in per_topic.items():
        size = sum(counts.values()) or 1
        scored = sorted(
            counts.items(),
            key=lambda kv: (-(kv[1] / size) * math.log(1 + total / in_topics[kv[0]]), kv[0]),
        )
        out[topic] = [w for w, c in scored if c >= 2][:top] or [w for w, _ in scored[:top]]
    return out
