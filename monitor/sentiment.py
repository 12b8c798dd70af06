"""Fast sentiment for every mention: a classifier over embeddings, character n-grams and lexicon scores.

Contract: :class:`SentimentClassifier` gives, for each mention, probabilities of ``negative``,
``neutral`` and ``positive`` toward the monitored brand, from three views of the text after the brand's
own name is replaced by a placeholder (so "X 比 BRAND 好" and "BRAND 比 X 好" differ in more than order):

- the multilingual sentence embedding the topics use (computed once for both);
- hashed character 1–3-grams (:func:`policy.semantic.char_ngrams`): surface cues an embedding blurs
  (避雷, 踩雷, "never again", 😡);
- lexicon scores from packages that ship their word lists (:mod:`monitor.lexicons`).

One multinomial logistic regression over the three, trained by ``python -m monitor.train_sentiment``
from the labelled corpora under ``monitor/corpus/`` (how each was written: its README). Weights are data:
``monitor/models/sentiment.npz`` (arrays, ``allow_pickle=False``) and ``sentiment.json`` (labels, the
embedder and its fingerprint, the confidence under which a mention counts as unsure (per language: the
classifier is surer in Chinese), the training files' sha256, cross-validated figures). A mention whose
top probability is under its language's ``uncertain_below`` is the one the language model is asked about
(monitor.model), when one is given.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InputError
from knowledge.embedders import BrandForgeEmbeddings, same_space
from monitor.lexicons import lexicon_features
from policy.semantic import char_ngrams
from policy.text import fold_str

MODEL_DIR = Path(__file__).resolve().parent / "models"
LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
BRAND_TOKEN = "BRANDX"


def features(vectors: np.ndarray, texts: list[str]) -> np.ndarray:
    """The classifier's input: [embedding | char n-grams | lexicon scores] per text (brand replaced)."""
    folded = [fold_str(t) for t in texts]
    return np.hstack([vectors.astype(np.float32), char_ngrams(folded), lexicon_features(texts)]).astype(
        np.float32
    )


def with_placeholder(text: str, names: list[str]) -> str:
    """``text`` with each of ``names`` (the brand's own forms, longest first) replaced by the placeholder,
    ignoring case; plain string search."""
    if not names:
        return text
    lowered = text.casefold()
    out: list[str] = []
    i = 0
    forms = sorted({n.casefold() for n in names if n}, key=len, reverse=True)
    while i < len(text):
        for form in forms:
            if lowered.startswith(form, i):
                out.append(BRAND_TOKEN)
                i += len(form)
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class Meta:
    labels: list[str]
    embedder: str
    fingerprint: list[float]
    uncertain_below: dict[str, float]
    sha256: str

    def unsure_below(self, language: str) -> float:
        """The confidence under which a mention in ``language`` counts as unsure."""
        return self.uncertain_below.get(language, self.uncertain_below.get("other", 0.5))

    @property
    def describe(self) -> str:
        return f"monitor/models/sentiment.npz ({self.sha256[:12]}, trained with {self.embedder})"


class SentimentClassifier:
    """The trained classifier (see the module docstring)."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray, meta: Meta) -> None:
        self.weights, self.bias, self.meta = weights, bias, meta

    @classmethod
    def load(cls, folder: Path = MODEL_DIR) -> SentimentClassifier:
        return _load(str(folder))

    def check_embedder(self, embedder: BrandForgeEmbeddings) -> None:
        if not same_space(embedder.fingerprint(), self.meta.fingerprint):
            raise InputError(
                f"the sentiment classifier was trained with {self.meta.embedder}; the embedder "
                f"{embedder.embedder_id} gives other vectors (use that one, or retrain: "
                "python -m monitor.train_sentiment)",
                field="embedder",
            )

    def probabilities(self, vectors: np.ndarray, texts: list[str]) -> np.ndarray:
        """(n, 3) probabilities in :data:`LABELS` order."""
        if not texts:
            return np.zeros((0, 3), dtype=np.float32)
        z = features(vectors, texts) @ self.weights.T + self.bias
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


@functools.cache
def _load(folder: str) -> SentimentClassifier:
    path = Path(folder)
    try:
        meta: dict[str, Any] = json.loads((path / "sentiment.json").read_text("utf-8"))
        with np.load(path / "sentiment.npz", allow_pickle=False) as arrays:
            weights, bias = arrays["weights"], arrays["bias"]
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(
            f"the sentiment classifier cannot be read ({exc}); rebuild it: python -m monitor.train_sentiment",
            source=path,
        ) from None
    return SentimentClassifier(
        weights.astype(np.float32),
        bias.astype(np.float32),
        Meta(
            labels=meta["labels"],
            embedder=meta["embedder"],
            fingerprint=meta["fingerprint"],
            uncertain_below={k: float(v) for k, v in meta["uncertain_below"].items()},
            sha256=meta["weights_sha256"],
        ),
    )
