"""Precision, recall and false-block rate of the compliance checker, per category, language and layer.

Usage: python bench/compliance.py [CORPUS.yaml ...] [--layers rules,semantic,judge] [--misses]

Runs every case of the corpora (default ``tests/data/compliance_corpus.yaml``) through the checker a
campaign uses, once per layer set: ``rules`` (rule packs, detectors, claims against each profile's
evidence), ``semantic`` (rules plus the semantic classifiers), ``judge`` (rules, classifiers and the
model judge on the embedded model, as ``brandforge check --judge`` runs it). Prints a table per layer
set, the cases it gets wrong with ``--misses``, and the time per sentence. The last line is the
headline: recall and false-block rate of the most complete layer set measured.

The judge loads the embedded model: run it alone (two llama.cpp processes on two cores slow each other
down many times over).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.embedders import get_embedder  # noqa: E402
from policy.adjudication import Adjudicator, Question, Ruling  # noqa: E402
from policy.evaluate import Corpus, Report, evaluate, load_corpus  # noqa: E402
from policy.semantic import SemanticLayer, load_semantic  # noqa: E402

LAYERS = ("rules", "semantic", "judge")


def _judge() -> Adjudicator:
    """The judge ``brandforge check --judge`` uses: the default pipeline's backend (the embedded model)."""
    from agents.judge import ModelJudge
    from backends import get_backend
    from pipelines.spec import load_pipeline

    config = load_pipeline("default").spec.backend
    backend = get_backend(config)
    backend.warm_up()
    return ModelJudge(backend, config)


class Counting:
    """Counts the questions put to an adjudicator and the seconds it took."""

    def __init__(self, inner: Adjudicator) -> None:
        self.inner, self.asked, self.seconds = inner, 0, 0.0

    def adjudicate(self, questions: list[Question]) -> list[Ruling | None]:
        started = time.perf_counter()
        rulings = self.inner.adjudicate(questions)
        self.seconds += time.perf_counter() - started
        self.asked += len(questions)
        return rulings


def _merged(paths: list[Path]) -> Corpus:
    """One corpus from several; profile names are prefixed with their file so they cannot collide."""
    cases, profiles = [], {}
    for path in paths:
        corpus = load_corpus(path)
        for name, profile in corpus.profiles.items():
            profiles[f"{path.stem}/{name}"] = profile
        for case in corpus.cases:
            named = f"{path.stem}/{case.profile}" if case.profile else None
            cases.append(case.model_copy(update={"profile": named}))
    return Corpus(profiles=profiles, cases=cases)


def _misses(report: Report) -> None:
    print("\nmisses:")
    for o in report.misses():
        live = [f for f in o.findings if f.severity == "block" and not f.fixed]
        decided = sorted({f"{f.rule_id}@{f.layer}" for f in live})
        tags = f" [{','.join(o.case.tags)}]" if o.case.tags else ""
        head = f"  expect {o.case.expect:5} got {o.predicted:5} {o.case.locale:5} {o.case.category:18}{tags}"
        print(f"{head} {o.case.text!r}  ({', '.join(decided) or '-'})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="*", type=Path, default=[ROOT / "tests/data/compliance_corpus.yaml"])
    parser.add_argument("--layers", default="rules,semantic", help=f"comma-separated, of {', '.join(LAYERS)}")
    parser.add_argument(
        "--misses", action="store_true", help="list the cases the most complete layer set gets wrong"
    )
    args = parser.parse_args()
    wanted = [name.strip() for name in args.layers.split(",") if name.strip()]
    unknown = sorted(set(wanted) - set(LAYERS))
    if unknown:
        parser.error(f"unknown layers {unknown}; expected some of {list(LAYERS)}")

    corpus = _merged(args.corpus)
    embedder = get_embedder("use-multilingual")
    semantic: SemanticLayer | None = load_semantic() if {"semantic", "judge"} & set(wanted) else None
    if semantic is not None:
        semantic.score(["warm-up"])  # load the embedder outside the timing
    report: Report | None = None
    n = len(corpus.cases)
    for layer in [name for name in LAYERS if name in wanted]:
        adjudicator = Counting(_judge()) if layer == "judge" else None
        started = time.perf_counter()
        report = evaluate(
            corpus, embedder, semantic=semantic if layer != "rules" else None, adjudicator=adjudicator
        )
        seconds = time.perf_counter() - started
        print(f"\n== layers: {' + '.join(LAYERS[: LAYERS.index(layer) + 1])} ({n} cases)")
        print(report.table())
        line = f"{1000 * seconds / n:.1f} ms per sentence ({seconds:.1f} s)"
        if adjudicator is not None:
            line += (
                f"; the judge ruled on {adjudicator.asked} sentences in {adjudicator.seconds:.1f} s "
                f"({adjudicator.seconds / max(1, adjudicator.asked):.2f} s per judged sentence)"
            )
        print(line)
    assert report is not None
    if args.misses:
        _misses(report)
    s = report.overall
    langs = "; ".join(
        f"{lang}: recall {score.recall:.3f}, false-block {score.false_block:.3f}"
        for lang, score in sorted(report.by_language.items())
    )
    print(
        f"\n{layer}: block recall {s.recall:.3f}, false-block {s.false_block:.3f}, "
        f"precision {s.precision:.3f} ({langs})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
