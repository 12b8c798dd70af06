"""Train the semantic layer's classifiers from the labelled corpora and calibrate their thresholds.

Usage: ``python -m policy.train_semantic [--corpus FILE ...] [--out FOLDER] [--embedder NAME]``

Contract: reads the labelled corpora (``policy/corpus/*.yaml`` by default, the format of
:mod:`policy.evaluate`), fits one logistic regression per category in
:data:`~policy.semantic.CATEGORIES` over :func:`~policy.semantic.features`, and writes
``semantic.npz`` and ``semantic.json`` (:func:`~policy.semantic.save_model`). Deterministic: the same
corpora and embedder give the same files.

Per category, the positives are the sentences labelled ``block`` with that category; the negatives are
every ``pass`` sentence (hard negatives of all categories) and the ``block`` sentences of the categories
the rules decide (personal data, secrets, markup, banned terms). ``block`` sentences of the other
semantic categories are left out: a guarantee may also be a health claim, and the corpus labels only one.

Thresholds come from out-of-fold scores (5 stratified folds: each sentence scored by a model that did not
see it): ``block`` is the score above which at most a fraction ``alpha`` of the clean sentences fall,
with one ``alpha`` for all categories chosen so that, together, the categories block at most
:data:`TARGET_FALSE_BLOCK` of the clean sentences; ``review`` is the highest score that still keeps
:data:`REVIEW_RECALL` of the category's violations at or above it. The final weights are then fitted on
every sentence. scikit-learn is needed to train, not to score.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

from knowledge.embedders import get_embedder
from policy.evaluate import load_corpus
from policy.semantic import (
    CATEGORIES,
    MODEL_DIR,
    NGRAM_DIM,
    CategoryFigures,
    SemanticManifest,
    TrainingFile,
    features,
    save_model,
)

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
ROOT = Path(__file__).resolve().parent.parent
TARGET_FALSE_BLOCK = 0.03
"""Share of clean held-out sentences that all categories' ``block`` thresholds together may block."""
REVIEW_RECALL = 0.97
"""Share of a category's held-out violations at or above its ``review`` threshold."""
FOLDS = 5
C = 8.0  # inverse regularisation strength; chosen by 5-fold cross-validation on the corpora


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=5000, class_weight="balanced")
    model.fit(x, y)
    return model.coef_[0].astype(np.float32), float(model.intercept_[0])


def _rows(labels: list[tuple[str, str]], category: str) -> tuple[np.ndarray, np.ndarray]:
    """Which sentences train ``category``'s classifier, and which of them are positive."""
    use, positive = [], []
    for cat, expect in labels:
        is_positive = expect == "block" and cat == category
        left_out = expect == "block" and cat in CATEGORIES and cat != category
        use.append(not left_out)
        positive.append(is_positive)
    return np.array(use), np.array(positive)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def out_of_fold(x: np.ndarray, labels: list[tuple[str, str]], seed: int = 0) -> np.ndarray:
    """(n, categories) scores, each row from models trained without that sentence."""
    from sklearn.model_selection import StratifiedKFold

    strata = [f"{cat}/{expect}" for cat, expect in labels]
    scores = np.zeros((len(labels), len(CATEGORIES)), dtype=np.float32)
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(x, strata):
        in_train = np.zeros(len(labels), dtype=bool)
        in_train[train] = True
        for j, category in enumerate(CATEGORIES):
            use, positive = _rows(labels, category)
            rows = in_train & use
            w, b = _fit(x[rows], positive[rows])
            scores[test, j] = _sigmoid(x[test] @ w + b)
    return scores


def calibrate(scores: np.ndarray, labels: list[tuple[str, str]]) -> dict[str, tuple[float, float]]:
    """Per category ``(review, block)`` from out-of-fold ``scores`` (see the module docstring)."""
    clean = np.array([expect == "pass" for _, expect in labels])

    def blocks_at(alpha: float) -> np.ndarray:
        return np.array(
            [max(0.5, float(np.quantile(scores[clean, j], 1 - alpha))) for j in range(len(CATEGORIES))]
        )

    lo, hi = 0.0, TARGET_FALSE_BLOCK
    for _ in range(30):  # the largest common alpha whose union of blocks stays within the target
        mid = (lo + hi) / 2
        union = (scores[clean] >= blocks_at(mid)).any(axis=1).mean()
        lo, hi = (mid, hi) if union <= TARGET_FALSE_BLOCK else (lo, mid)
    block = blocks_at(lo)
    out = {}
    for j, category in enumerate(CATEGORIES):
        positives = np.sort(
            np.array(
                [s for s, (c, e) in zip(scores[:, j], labels, strict=True) if c == category and e == "block"]
            )
        )
        review = (
            float(positives[int(np.floor((1 - REVIEW_RECALL) * len(positives)))]) if len(positives) else 0.5
        )
        out[category] = (round(min(max(review, 0.02), float(block[j])), 4), round(float(block[j]), 4))
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _display(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def default_corpora() -> list[Path]:
    return sorted(CORPUS_DIR.glob("*.yaml"))


def train(
    corpora: list[Path], embedder_name: str = "use-multilingual"
) -> tuple[SemanticManifest, np.ndarray, np.ndarray]:
    """Fit and calibrate; returns the manifest and the (categories, features) weights and biases."""
    texts: list[str] = []
    labels: list[tuple[str, str]] = []
    files = []
    for path in corpora:
        corpus = load_corpus(path)
        texts += [case.text for case in corpus.cases]
        labels += [(case.category, case.expect) for case in corpus.cases]
        files.append(TrainingFile(path=_display(path), sha256=_sha256(path), cases=len(corpus.cases)))
    embedder = get_embedder(embedder_name)
    x = features(embedder, texts)
    oof = out_of_fold(x, labels)
    thresholds = calibrate(oof, labels)
    clean = np.array([e == "pass" for _, e in labels])
    weights, bias, figures = [], [], {}
    for j, category in enumerate(CATEGORIES):
        use, positive = _rows(labels, category)
        w, b = _fit(x[use], positive[use])
        weights.append(w)
        bias.append(b)
        review, block = thresholds[category]
        mine = np.array([c == category and e == "block" for c, e in labels])
        figures[category] = CategoryFigures(
            block=block,
            review=review,
            positives=int(mine.sum()),
            validation_recall_at_block=round(float((oof[mine, j] >= block).mean()), 4),
            validation_recall_at_review=round(float((oof[mine, j] >= review).mean()), 4),
            validation_false_block_at_block=round(float((oof[clean, j] >= block).mean()), 4),
        )
    manifest = SemanticManifest(
        embedder=embedder_name,
        embedder_id=embedder.embedder_id,
        embedder_dimension=int(embedder.embed(["x"]).shape[1]),
        fingerprint=[round(float(v), 6) for v in embedder.fingerprint()],
        ngram_dim=NGRAM_DIM,
        categories=figures,
        training=files,
        calibration=(
            f"out-of-fold scores from {FOLDS} stratified folds; block: one common alpha for all categories "
            f"so that together they block at most {TARGET_FALSE_BLOCK:.0%} of clean sentences; review: "
            f"keeps {REVIEW_RECALL:.0%} of each category's violations"
        ),
    )
    return manifest, np.stack(weights), np.array(bias, dtype=np.float32)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", action="append", type=Path, help="a labelled corpus (repeatable)")
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="folder to write the model into")
    parser.add_argument("--embedder", default="use-multilingual")
    args = parser.parse_args(argv)
    manifest, weights, bias = train(args.corpus or default_corpora(), args.embedder)
    save_model(args.out, manifest, weights, bias)
    print(
        f"{'category':20} {'n':>4} {'review':>7} {'block':>6} "
        f"{'rec@block':>9} {'rec@review':>10} {'fb@block':>8}"
    )
    for name, f in manifest.categories.items():
        print(
            f"{name:20} {f.positives:>4} {f.review:>7.3f} {f.block:>6.3f} "
            f"{f.validation_recall_at_block:>9.3f} "
            f"{f.validation_recall_at_review:>10.3f} {f.validation_false_block_at_block:>8.3f}"
        )
    print(f"wrote {args.out / 'semantic.json'} and semantic.npz")
    return 0


if __name__ == "__main__":
    sys.exit(main())
