"""Train the monitoring sentiment classifier: ``python -m monitor.train_sentiment [--corpus F ...]``.

Reads the labelled mention corpora under ``monitor/corpus/`` and the spent blind sets
(:data:`SPENT_BLIND_SETS`; JSON Lines: ``text``, ``label``, ``brand_about``; how each was written is in
its folder's README). Public review sets were tried as extra
two-class training data and left out: they did not help on the example months (docs/monitor.md); they
are test sets in ``bench/monitoring.py``. Fits a multinomial logistic regression over
:func:`monitor.sentiment.features`, with C chosen by 5-fold cross-validated macro-F1 on the corpora,
keeps every post's vector and label for the neighbour vote (:class:`monitor.sentiment.FiledPosts`), and
sets ``uncertain_below`` on the out-of-fold mix of both: the lowest confidence at which the out-of-fold
predictions at or above it are right at least :data:`CONFIDENT_ACCURACY` of the time, with at most
:data:`MAX_UNSURE` of mentions under it. Writes ``monitor/models/sentiment.npz`` and
``sentiment.json``. Deterministic.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.brand import load_brand
from knowledge.embedders import get_embedder
from monitor.language import language_of
from monitor.sentiment import (
    LABELS,
    MODEL_DIR,
    NEIGHBOUR_WEIGHT,
    FiledPosts,
    features,
    placeholder_forms,
    with_placeholder,
)

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
# Blind sets already measured (evals/monitor/README.md): spent as tests, so they train the classifier
# and fill the neighbour pool. Posts about the example brands, written to the labelling rules of set 2.
SPENT_BLIND_SETS = tuple(
    ROOT / "evals/monitor" / f"{name}_{lang}.jsonl"
    for name in ("blind", "blind2", "blind3", "blind4")
    for lang in ("zh", "en")
)
CONFIDENT_ACCURACY = 0.90
MAX_UNSURE = 0.40
C_GRID = (0.25, 0.5, 1.0, 2.0)


def default_corpora() -> list[Path]:
    """The training files: every ``monitor/corpus/*.jsonl``, then the spent blind sets."""
    return [*sorted(CORPUS_DIR.glob("*.jsonl")), *SPENT_BLIND_SETS]


def example_forms() -> dict[str, tuple[list[str], list[str]]]:
    """For each example brand and each rival it tracks: (own forms, rival forms), as a monitoring run
    about it replaces them (:func:`monitor.sentiment.placeholder_forms`). The spent blind sets are about
    these brands; the corpus's invented brands by their name and short form (:func:`short_forms`)."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    for path in sorted((ROOT / "examples/brands").glob("*/brand.yaml")):
        brand = load_brand(path.parent)
        own, rivals = placeholder_forms(brand)
        out[brand.name] = (own, rivals)
        for rival, other_names in brand.monitor.competitors.items():
            theirs = [rival, *other_names]
            out.setdefault(rival, (theirs, [*own, *(f for f in rivals if f not in theirs)]))
    return out


# Words that end an invented brand's name and that customers drop ("栖云民宿" is "栖云" in posts).
_NAME_ENDINGS = (
    "旅行社",
    "亲子游",
    "假期",
    "旅行",
    "旅游",
    "户外",
    "徒步",
    "民宿",
    "酒店",
    "航空",
    "健身",
    "课堂",
    "银行",
    "手机",
    "外卖",
    "家居",
    "游戏",
    "小馆",
    "小院",
    "食堂",
    "咖啡",
    "茶馆",
    "科技",
    "教育",
    "美妆",
    "护肤",
)


def short_forms(name: str) -> list[str]:
    """An invented corpus brand's name and the short form its posts use, standing in for the aliases a
    brand file lists: the Chinese name without a generic ending (:data:`_NAME_ENDINGS`), the first word
    of a Latin name of several words when it has five letters or more ("Saltgrove Kitchen": "Saltgrove")."""
    if not name:
        return []
    forms = [name]
    for ending in _NAME_ENDINGS:
        if name.endswith(ending) and len(name) - len(ending) >= 2:
            forms.append(name[: -len(ending)])
            break
    words = name.split()
    if len(words) > 1 and words[0].isalpha() and len(words[0]) >= 5:
        forms.append(words[0])
    return forms


def load_corpus(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("label") not in LABELS or not isinstance(row.get("text"), str):
            raise ValueError(f"{path}:{n}: expected text and a label in {LABELS}")
        rows.append(row)
    return rows


def _macro_f1(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y, p, average="macro", labels=[0, 1, 2]))


def _threshold(confidence: np.ndarray, right: np.ndarray) -> float:
    """The lowest confidence at or above which out-of-fold predictions are right CONFIDENT_ACCURACY of the
    time, without putting more than MAX_UNSURE of the mentions under it."""
    threshold = 0.0
    for t in np.arange(0.34, 0.95, 0.01):
        above = confidence >= t
        if (~above).mean() > MAX_UNSURE:
            break
        threshold = float(t)
        if above.any() and right[above].mean() >= CONFIDENT_ACCURACY:
            break
    return threshold


def train(
    corpora: list[Path], embedder_name: str = "use-multilingual"
) -> tuple[dict[str, Any], np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    texts: list[str] = []
    labels: list[int] = []
    languages: list[str] = []
    files = []
    forms = example_forms()
    loaded = [(path, load_corpus(path)) for path in corpora]
    # A post filed twice, once for each brand it compares, names each brand as the other's rival.
    filed_for: dict[str, set[str]] = {}
    for _, rows in loaded:
        for row in rows:
            filed_for.setdefault(row["text"], set()).add(row.get("brand_about") or "")
    for path, rows in loaded:
        for row in rows:
            about = row.get("brand_about") or ""
            own, rivals = forms.get(about, (short_forms(about), []))
            for other in sorted(filed_for[row["text"]] - {about, ""}):
                rivals = [*rivals, *short_forms(other)]
            text = with_placeholder(row["text"], own, rivals)
            texts.append(text)
            labels.append(LABELS.index(row["label"]))
            languages.append(language_of(row["text"]))  # for the per-language figures
        files.append(
            {
                "path": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path),
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "rows": len(rows),
            }
        )
    n_corpus = len(texts)
    embedder = get_embedder(embedder_name)
    vectors = embedder.embed(texts)
    x = features(vectors, texts)
    y = np.array(labels)

    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(x[:n_corpus], y[:n_corpus]))

    def out_of_fold(c: float) -> np.ndarray:
        probs = np.zeros((n_corpus, 3))
        for train_idx, test_idx in folds:
            model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
            model.fit(x[train_idx], y[train_idx])
            probs[test_idx] = model.predict_proba(x[test_idx])
        return probs

    scores = {}
    best_c, best_probs, best_f1 = C_GRID[0], np.zeros(0), -1.0
    for c in C_GRID:
        probs = out_of_fold(c)
        f1 = _macro_f1(y[:n_corpus], probs.argmax(1))
        scores[str(c)] = round(f1, 4)
        if f1 > best_f1:
            best_c, best_probs, best_f1 = c, probs, f1
    regression_f1 = best_f1
    for train_idx, test_idx in folds:  # the neighbour vote, out of fold too
        pool = FiledPosts(vectors[train_idx], y[train_idx])
        best_probs[test_idx] = (1 - NEIGHBOUR_WEIGHT) * best_probs[test_idx] + NEIGHBOUR_WEIGHT * pool.votes(
            vectors[test_idx]
        )
    confidence = best_probs.max(1)
    right = best_probs.argmax(1) == y[:n_corpus]
    lang = np.array(languages[:n_corpus])
    thresholds = {code: _threshold(confidence[lang == code], right[lang == code]) for code in ("zh", "en")}
    thresholds["other"] = max(thresholds.values())
    below = np.array([confidence[i] < thresholds.get(lang[i], thresholds["other"]) for i in range(n_corpus)])
    per_language = {
        code: round(_macro_f1(y[:n_corpus][lang == code], best_probs.argmax(1)[lang == code]), 4)
        for code in ("zh", "en")
        if (lang == code).any()
    }
    final = LogisticRegression(C=best_c, max_iter=3000, class_weight="balanced")
    final.fit(x, y)
    meta = {
        "labels": list(LABELS),
        "embedder": embedder.embedder_id,
        "embedder_name": embedder_name,
        "fingerprint": [round(float(v), 6) for v in embedder.fingerprint()],
        "uncertain_below": {code: round(t, 2) for code, t in thresholds.items()},
        "C": best_c,
        "cv_macro_f1_by_C": scores,
        "cv_macro_f1_regression_only": round(regression_f1, 4),
        "cv_macro_f1_with_neighbours": round(_macro_f1(y[:n_corpus], best_probs.argmax(1)), 4),
        "cv_macro_f1_by_language": per_language,
        "unsure_share_at_threshold": round(float(below.mean()), 4),
        "accuracy_when_sure": round(float(right[~below].mean()), 4),
        "training": files,
    }
    filed: dict[str, np.ndarray] = {
        "filed_vectors": vectors.astype(np.float16),
        "filed_labels": y.astype(np.int8),
    }
    return meta, final.coef_.astype(np.float32), final.intercept_.astype(np.float32), filed


def save(
    folder: Path, meta: dict[str, Any], weights: np.ndarray, bias: np.ndarray, filed: dict[str, np.ndarray]
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {"weights": weights, "bias": bias, **filed}
    np.savez_compressed(folder / "sentiment.npz", **arrays)
    meta["weights_sha256"] = hashlib.sha256((folder / "sentiment.npz").read_bytes()).hexdigest()
    (folder / "sentiment.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", "utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", action="append", type=Path, help="a labelled corpus (repeatable)")
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--embedder", default="use-multilingual")
    args = parser.parse_args(argv)
    meta, weights, bias, filed = train(args.corpus or default_corpora(), args.embedder)
    save(args.out, meta, weights, bias, filed)
    print(
        json.dumps({k: v for k, v in meta.items() if k not in ("fingerprint",)}, indent=2, ensure_ascii=False)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
