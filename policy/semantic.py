"""The semantic layer: per-category classifiers that read what a sentence means, not which words it uses.

Contract: a :class:`SemanticLayer` scores sentences for each category in :data:`CATEGORIES` with a
probability-like score in [0, 1], from two views of the sentence after :func:`~policy.text.fold`
(full-width, styled Unicode letters, look-alikes and traditional Chinese normalised):

- its multilingual sentence embedding (the project's embedder, ``use-multilingual`` by default, which
  places "我爸喝了两个月，血糖稳多了" near "my blood sugar is under control now"), and
- hashed character 1–3-grams (:func:`char_ngrams`), which keep the surface cues an embedding blurs
  ("第①", "100% 包过").

Each category has a logistic-regression classifier over both views and two thresholds calibrated on
held-out predictions: at or above ``block`` the sentence is a violation; between ``review`` and
``block`` it is uncertain (the checker asks the adjudicator, or warns without one); below ``review`` the
classifier calls it clean. The weights and thresholds are data, not code: ``policy/models/semantic.npz``
(arrays, loaded with ``allow_pickle=False``) and ``semantic.json`` (thresholds, the embedder it was
trained with and its fingerprint, the sha256 of every training file, validation figures), both written
by ``python -m policy.train_semantic`` from the labelled corpora under ``policy/corpus/``.

The layer refuses to score with an embedder whose vector space differs from the one it was trained on
(:class:`~core.errors.InputError`): scores from another space would be meaningless. Scoring is a matrix
product per batch; embedding dominates (about 1–2 ms per sentence batched on two cores).
"""

from __future__ import annotations

import functools
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from core.errors import InputError
from knowledge.embedders import BrandForgeEmbeddings, get_embedder, same_space
from policy.text import fold_str

MODEL_DIR = Path(__file__).resolve().parent / "models"

CATEGORIES: tuple[str, ...] = (
    "superlative",
    "competitor",
    "guarantee",
    "health_claim",
    "finance_claim",
    "education_claim",
    "state_endorsement",
    "unsupported_claim",
    "prompt_injection",
)
"""Categories a sentence's meaning decides. Brand lists (banned terms), personal data, secrets and
markup are decided by exact rules and detectors; their corpus cases train the classifiers as negatives."""

NGRAM_DIM = 2**14
NGRAM_SIZES = (1, 2, 3)


def char_ngrams(texts: list[str], dim: int = NGRAM_DIM) -> np.ndarray:
    """(n, dim) float32: log-scaled counts of each text's character 1–3-grams, hashed with CRC-32 into
    ``dim`` buckets, L2-normalised. Texts are folded first; whitespace-only grams are skipped."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for row, text in enumerate(texts):
        padded = f" {fold_str(text)} "
        counts: dict[int, int] = {}
        for n in NGRAM_SIZES:
            for i in range(len(padded) - n + 1):
                gram = padded[i : i + n]
                if not gram.strip():
                    continue
                bucket = zlib.crc32(gram.encode("utf-8")) % dim
                counts[bucket] = counts.get(bucket, 0) + 1
        if counts:
            idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            out[row, idx] = np.log1p(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))
            out[row] /= np.linalg.norm(out[row])
    return out


def features(embedder: BrandForgeEmbeddings, texts: list[str]) -> np.ndarray:
    """The classifiers' input for ``texts``: [embedding of the folded text | char n-grams]."""
    folded = [fold_str(t) for t in texts]
    return np.hstack([embedder.embed(folded).astype(np.float32), char_ngrams(folded)])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CategoryFigures(_Strict):
    """One category's thresholds and how they were chosen."""

    block: float = Field(ge=0.0, le=1.0, description="At or above: a violation.")
    review: float = Field(ge=0.0, le=1.0, description="At or above (and below block): uncertain.")
    positives: int = Field(description="Training sentences that violate this category.")
    validation_recall_at_block: float
    validation_recall_at_review: float
    validation_false_block_at_block: float = Field(description="Share of clean sentences at or above block.")


class TrainingFile(_Strict):
    path: str
    sha256: str
    cases: int


class SemanticManifest(_Strict):
    """``semantic.json``: everything about the trained model except its weights."""

    version: int = 1
    embedder: str = Field(description="The name to load it by (knowledge.embedders.get_embedder).")
    embedder_id: str = Field(description="The model and version behind that name when trained.")
    embedder_dimension: int
    fingerprint: list[float]
    ngram_dim: int = NGRAM_DIM
    categories: dict[str, CategoryFigures]
    training: list[TrainingFile]
    calibration: str = Field(description="How the thresholds were chosen, in words.")


@dataclass(frozen=True)
class SentenceScore:
    """One sentence of a text, where it is, and its score per category."""

    span: tuple[int, int]
    text: str
    scores: dict[str, float]


class SemanticLayer:
    """Trained classifiers plus the embedder they were trained on."""

    def __init__(
        self,
        manifest: SemanticManifest,
        weights: np.ndarray,
        bias: np.ndarray,
        embedder: BrandForgeEmbeddings,
    ) -> None:
        expected = (len(manifest.categories), manifest.embedder_dimension + manifest.ngram_dim)
        if weights.shape != expected or bias.shape != (expected[0],):
            raise InputError(
                f"semantic model weights of shape {weights.shape}, {bias.shape}; expected {expected}",
                field="weights",
            )
        if embedder.embedder_id != manifest.embedder_id or not same_space(
            embedder.fingerprint(), manifest.fingerprint
        ):
            raise InputError(
                f"the semantic model was trained on {manifest.embedder_id!r} embeddings, not "
                f"{embedder.embedder_id!r}; use that embedder or retrain (python -m policy.train_semantic)",
                field="embedder",
            )
        self.manifest = manifest
        self.categories = tuple(manifest.categories)
        self.embedder = embedder
        self._weights = weights.astype(np.float32)
        self._bias = bias.astype(np.float32)

    def thresholds(self, category: str) -> tuple[float, float]:
        """``(review, block)`` for ``category``."""
        figures = self.manifest.categories[category]
        return figures.review, figures.block

    def score(self, texts: list[str]) -> np.ndarray:
        """(len(texts), len(categories)) scores in [0, 1], columns in :attr:`categories` order."""
        if not texts:
            return np.zeros((0, len(self.categories)), dtype=np.float32)
        logits = features(self.embedder, texts) @ self._weights.T + self._bias
        return (1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))).astype(np.float32)

    def assess(self, sentences: list[tuple[int, int]], text: str) -> list[SentenceScore]:
        """Scores for the sentences of ``text`` at the given spans."""
        parts = [text[a:b] for a, b in sentences]
        matrix = self.score(parts)
        return [
            SentenceScore(span, part, {c: float(v) for c, v in zip(self.categories, row, strict=True)})
            for span, part, row in zip(sentences, parts, matrix, strict=True)
        ]


def save_model(folder: Path, manifest: SemanticManifest, weights: np.ndarray, bias: np.ndarray) -> None:
    """Write ``semantic.json`` and ``semantic.npz`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        folder / "semantic.npz", weights=weights.astype(np.float32), bias=bias.astype(np.float32)
    )
    text = json.dumps(manifest.model_dump(), ensure_ascii=False, indent=1)
    (folder / "semantic.json").write_text(text + "\n", encoding="utf-8")


def load_manifest(folder: Path = MODEL_DIR) -> SemanticManifest:
    path = folder / "semantic.json"
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            f"cannot read the semantic model's manifest ({exc}); regenerate it with "
            "python -m policy.train_semantic",
            source=str(path),
        ) from None
    try:
        return SemanticManifest.model_validate(data)
    except ValueError as exc:
        raise InputError(f"not a semantic model manifest: {exc}", source=str(path)) from None


def load_semantic(folder: Path = MODEL_DIR, embedder: BrandForgeEmbeddings | None = None) -> SemanticLayer:
    """The semantic layer stored in ``folder`` (the shipped one by default), with the embedder it was
    trained on unless ``embedder`` is given. The shipped one is loaded once per process."""
    if folder == MODEL_DIR and embedder is None:
        return _shipped()
    return _load(folder, embedder)


def _load(folder: Path, embedder: BrandForgeEmbeddings | None) -> SemanticLayer:
    manifest = load_manifest(folder)
    path = folder / "semantic.npz"
    try:
        with np.load(path, allow_pickle=False) as arrays:
            weights, bias = arrays["weights"], arrays["bias"]
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(
            f"cannot read the semantic model's weights ({exc}); regenerate them with "
            "python -m policy.train_semantic",
            source=str(path),
        ) from None
    return SemanticLayer(manifest, weights, bias, embedder or get_embedder(manifest.embedder))


@functools.cache
def _shipped() -> SemanticLayer:
    return _load(MODEL_DIR, None)
