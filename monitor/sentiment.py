"""Fast sentiment for every mention: a classifier over embeddings, character n-grams and lexicon scores.

Contract: :class:`SentimentClassifier` gives, for each mention, probabilities of ``negative``,
``neutral`` and ``positive`` toward the monitored brand, from three views of the text after the brand's
own names are replaced by one placeholder and its tracked rivals' by another (so "RIVAL 比 BRAND 好"
and "BRAND 比 RIVAL 好" differ in more than order, whatever the rival is called):

- the multilingual sentence embedding the topics use (computed once for both);
- hashed character 1–3-grams (:func:`policy.semantic.char_ngrams`): surface cues an embedding blurs
  (避雷, 踩雷, "never again", 😡);
- lexicon scores from packages that ship their word lists (:mod:`monitor.lexicons`).

One multinomial logistic regression over the three, mixed with a vote of the labelled posts nearest in
embedding (:class:`FiledPosts`: the training corpus, kept with the weights; :data:`NEIGHBOUR_WEIGHT` of the
probability), trained by ``python -m monitor.train_sentiment``
from the labelled corpora under ``monitor/corpus/`` and the spent blind sets of ``evals/monitor/``
(how each was written: their READMEs). Weights are data:
``monitor/models/sentiment.npz`` (arrays, ``allow_pickle=False``) and ``sentiment.json`` (labels, the
embedder and its fingerprint, the confidence under which a mention counts as unsure (per language: the
classifier is surer in Chinese), the training files' sha256, cross-validated figures). A mention whose
top probability is under its language's ``uncertain_below`` is the one the language model is asked about
(monitor.model), when one is given.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InputError
from knowledge.brand import Brand
from knowledge.embedders import BrandForgeEmbeddings, same_space
from monitor.lexicons import lexicon_features
from policy.semantic import char_ngrams
from policy.text import fold_str

MODEL_DIR = Path(__file__).resolve().parent / "models"
LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
BRAND_TOKEN = "BRANDX"
RIVAL_TOKEN = "RIVALX"
# The neighbour vote: the NEIGHBOURS nearest labelled posts, each weighted exp(NEIGHBOUR_SHARPNESS *
# cosine), make up NEIGHBOUR_WEIGHT of the probability. Chosen on the spent blind sets 1-3, each held out
# in turn (docs/monitor.md): +0.014 zh, +0.025 en macro-F1 on average over the classifier alone.
NEIGHBOURS = 10
NEIGHBOUR_SHARPNESS = 20.0
NEIGHBOUR_WEIGHT = 0.3


class FiledPosts:
    """The training corpus's posts as unit vectors with their labels, for a nearest-neighbour vote."""

    def __init__(self, vectors: np.ndarray, labels: np.ndarray) -> None:
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.vectors = (vectors / np.maximum(norms, 1e-9)).astype(np.float32)
        self.labels = labels.astype(np.int64)

    def __len__(self) -> int:
        return len(self.labels)

    def _nearest(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        sims = unit.astype(np.float32) @ self.vectors.T
        k = min(k, sims.shape[1])
        idx = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        part = np.take_along_axis(sims, idx, axis=1)
        order = np.argsort(-part, axis=1)
        return np.take_along_axis(part, order, axis=1), np.take_along_axis(idx, order, axis=1)

    def votes(self, vectors: np.ndarray, chunk: int = 1024) -> np.ndarray:
        """(n, 3): the label shares of each vector's :data:`NEIGHBOURS` nearest posts, cosine-weighted."""
        out = np.zeros((len(vectors), 3), dtype=np.float32)
        for start in range(0, len(vectors), chunk):
            sims, idx = self._nearest(vectors[start : start + chunk], NEIGHBOURS)
            weight = np.exp(NEIGHBOUR_SHARPNESS * (sims - sims[:, :1]))
            for label in range(3):
                out[start : start + chunk, label] = (weight * (self.labels[idx] == label)).sum(axis=1)
        return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-9)


def features(vectors: np.ndarray, texts: list[str]) -> np.ndarray:
    """The classifier's input: [embedding | char n-grams | lexicon scores] per text (brand replaced)."""
    folded = [fold_str(t) for t in texts]
    return np.hstack([vectors.astype(np.float32), char_ngrams(folded), lexicon_features(texts)]).astype(
        np.float32
    )


def with_placeholder(text: str, names: list[str], rivals: list[str] | tuple[str, ...] = ()) -> str:
    """``text`` with each of ``names`` (the brand's own forms) replaced by :data:`BRAND_TOKEN` and each of
    ``rivals`` (the tracked rivals' forms) by :data:`RIVAL_TOKEN`, longest form first, ignoring case. A
    form that is both the brand's and a rival's counts as the brand's.

    A form that begins with a Latin letter or digit matches only at the start of a word (a rival "Fort" is
    not the "fort" of "comfortable"); it may run on into the word, as brands are written in handles and
    addresses ("@TidewaterCoffee", "hello@tidewatercoffee.example"). Chinese has no spaces to mark words,
    so a Chinese form matches wherever it is written (a rival called 山野 also takes the 山野 of
    "走进山野")."""
    tokens = {form.casefold(): (form, RIVAL_TOKEN) for form in rivals if form}
    tokens.update({form.casefold(): (form, BRAND_TOKEN) for form in names if form})
    if not tokens:
        return text
    ordered = sorted(tokens.values(), key=lambda pair: (-len(pair[0]), pair[0]))
    pattern = _forms_pattern(tuple(form for form, _ in ordered))
    # each form is its own group: the group that matched says which token replaces it
    return pattern.sub(lambda m: ordered[(m.lastindex or 1) - 1][1], text)


@functools.lru_cache(maxsize=64)
def _forms_pattern(forms: tuple[str, ...]) -> re.Pattern[str]:
    """One alternation of literal ``forms`` in the order given, one group each, a Latin form held to the
    start of a word; literals only, so matching is linear in the text."""

    def edged(form: str) -> str:
        head = r"(?<![A-Za-z0-9])" if form[0].isascii() and form[0].isalnum() else ""
        return f"({head}{re.escape(form)})"

    return re.compile("|".join(edged(f) for f in forms), re.IGNORECASE)


def placeholder_forms(brand: Brand) -> tuple[list[str], list[str]]:
    """The forms :func:`with_placeholder` replaces for ``brand``: its own (name and monitoring aliases) and
    its rivals' (``competitors`` and ``monitor.competitors`` with their other names)."""
    own = [brand.name, *brand.monitor.aliases]
    rivals = [*brand.competitors]
    for rival, other_names in brand.monitor.competitors.items():
        rivals += [rival, *other_names]
    return own, rivals


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

    def __init__(
        self, weights: np.ndarray, bias: np.ndarray, meta: Meta, filed: FiledPosts | None = None
    ) -> None:
        self.weights, self.bias, self.meta, self.filed = weights, bias, meta, filed

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
        probs = e / e.sum(axis=1, keepdims=True)
        if self.filed is not None and len(self.filed):
            probs = (1 - NEIGHBOUR_WEIGHT) * probs + NEIGHBOUR_WEIGHT * self.filed.votes(vectors)
        return probs.astype(np.float32)


@functools.cache
def _load(folder: str) -> SentimentClassifier:
    path = Path(folder)
    try:
        meta: dict[str, Any] = json.loads((path / "sentiment.json").read_text("utf-8"))
        with np.load(path / "sentiment.npz", allow_pickle=False) as arrays:
            weights, bias = arrays["weights"], arrays["bias"]
            filed = (
                FiledPosts(arrays["filed_vectors"].astype(np.float32), arrays["filed_labels"])
                if "filed_vectors" in arrays.files
                else None
            )
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
        filed,
    )
