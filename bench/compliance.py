"""Precision, recall and false-block rate of the compliance checker, per category, language and layer.

Usage: python bench/compliance.py [CORPUS.yaml ...] [--layers rules,semantic,judge] [--misses]
                                  [--judge-prompt REF ...]

Runs every case of the corpora (default ``tests/data/compliance_corpus.yaml``) through the checker a
campaign uses, once per layer set: ``rules`` (rule packs, detectors, claims against each profile's
evidence), ``semantic`` (rules plus the semantic classifiers), ``judge`` (rules, classifiers and the
model judge on the embedded model, as ``brandforge check --judge`` runs it). Prints a table per layer
set, the cases it gets wrong with ``--misses``, and the time per sentence. The last line is the
headline: recall and false-block rate of the most complete layer set measured (with several
``--judge-prompt``, each judge version is a layer set of its own, measured in the order given; the last is
the headline and the one ``--misses`` lists).

The judge loads the embedded model: run it alone (two llama.cpp processes on two cores slow each other
down many times over).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents.state import TraceEntry  # noqa: E402
from knowledge.embedders import get_embedder  # noqa: E402
from policy.adjudication import Adjudicator, Question, Ruling  # noqa: E402
from policy.evaluate import Corpus, Report, evaluate, load_corpus  # noqa: E402
from policy.semantic import SemanticLayer, load_semantic  # noqa: E402

LAYERS = ("rules", "semantic", "judge")


def _judge(rulings: Path | None, prompt: str | None = None, trace: Calls | None = None) -> Adjudicator:
    """The judge ``brandforge check --judge`` uses: the default pipeline's backend (the embedded model),
    asked with ``prompt`` (default: the judge's default prompt); with ``rulings``, replaying the rulings
    that file holds and adding the new ones to it. Each model call is recorded in ``trace``."""
    from agents.judge import ModelJudge
    from backends import get_backend
    from pipelines.spec import load_pipeline
    from prompts import default_registry

    config = load_pipeline("default").spec.backend
    backend = get_backend(config)
    sink = trace.append if trace is not None else None
    judge = ModelJudge(backend, config, default_registry().get(prompt) if prompt else None, trace=sink)
    if rulings is not None:
        return Replaying(judge, rulings, f"{judge.prompt.id}@{judge.prompt.version} {config.model}")
    backend.warm_up()
    return judge


class Calls(list[TraceEntry]):
    """The judge's model calls, to say where its time went."""

    def summary(self) -> str:
        """Per call: tokens evaluated (and reused from the cache), tokens generated, and the seconds of
        each; the failed calls."""
        n = max(1, len(self))

        def mean(values: list[float]) -> float:
            return sum(values) / n

        evaluated = mean([e.prompt_tokens - e.cached_prompt_tokens for e in self])
        reused = mean([e.cached_prompt_tokens for e in self])
        prompt_s = mean([e.prompt_seconds or 0.0 for e in self])
        generated = mean([e.completion_tokens for e in self])
        generation_s = mean([e.generation_seconds or 0.0 for e in self])
        return (
            f"per call ({len(self)} calls): {evaluated:.0f} prompt tokens evaluated ({reused:.0f} reused) in "
            f"{prompt_s:.2f} s, {generated:.1f} tokens generated in {generation_s:.2f} s, "
            f"{mean([e.seconds for e in self]):.2f} s in all; slowest "
            f"{max([e.seconds for e in self], default=0.0):.1f} s; {sum(not e.ok for e in self)} unusable"
        )


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


class Replaying:
    """Rulings kept in a JSON-lines file and replayed: a question already in the file is not put to the
    model again (the judge runs at temperature 0, so its answer would be the same). For trying changes
    to how the checker uses rulings on a tuning set without another hour of model calls; each line
    names the prompt version and model that gave it, and a line of another judge is not replayed."""

    def __init__(self, inner: Adjudicator, path: Path, judge: str) -> None:
        self.inner, self.path, self.judge = inner, path, judge
        self.known: dict[str, Ruling] = {}
        if path.is_file():
            for line in path.read_text("utf-8").splitlines():
                row = json.loads(line)
                if row["judge"] == judge:
                    self.known[row["key"]] = Ruling(
                        row["violation"], row["category"], row["rationale"], row["span_text"]
                    )

    @staticmethod
    def _key(q: Question) -> str:
        ranked = sorted(q.candidates, key=lambda c: -q.candidates[c])  # the order the judge is shown
        return json.dumps(
            [q.sentence.strip(), q.locale, ranked, list(q.rule_ids), q.reason], ensure_ascii=False
        )

    def adjudicate(self, questions: list[Question]) -> list[Ruling | None]:
        new = [q for q in questions if self._key(q) not in self.known]
        answers = self.inner.adjudicate(new) if new else []
        with self.path.open("a", encoding="utf-8") as out:
            for q, ruling in zip(new, answers, strict=True):
                if ruling is None:
                    continue
                self.known[self._key(q)] = ruling
                row = {
                    "judge": self.judge,
                    "key": self._key(q),
                    **{k: getattr(ruling, k) for k in ("violation", "category", "rationale", "span_text")},
                }
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        fresh = dict(zip(map(self._key, new), answers, strict=True))
        return [self.known.get(self._key(q), fresh.get(self._key(q))) for q in questions]


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
        "--rulings",
        type=Path,
        help="a JSON-lines file of judge rulings to replay and add to (for tuning; not for a blind set)",
    )
    parser.add_argument(
        "--misses", action="store_true", help="list the cases the most complete layer set gets wrong"
    )
    parser.add_argument(
        "--judge-prompt",
        action="append",
        metavar="REF",
        help="judge prompt(s) to measure, e.g. compliance.judge@4; repeat to compare versions side by side",
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
    runs = [(name, None) for name in LAYERS if name in wanted and name != "judge"]
    if "judge" in wanted:
        runs += [("judge", ref) for ref in (args.judge_prompt or [None])]
    for layer, ref in runs:
        calls = Calls()
        adjudicator = Counting(_judge(args.rulings, ref, calls)) if layer == "judge" else None
        started = time.perf_counter()
        report = evaluate(
            corpus, embedder, semantic=semantic if layer != "rules" else None, adjudicator=adjudicator
        )
        seconds = time.perf_counter() - started
        which = f", {ref}" if ref else ""
        print(f"\n== layers: {' + '.join(LAYERS[: LAYERS.index(layer) + 1])}{which} ({n} cases)")
        print(report.table())
        line = f"{1000 * seconds / n:.1f} ms per sentence ({seconds:.1f} s)"
        if adjudicator is not None:
            line += (
                f"; the judge ruled on {adjudicator.asked} sentences in {adjudicator.seconds:.1f} s "
                f"({adjudicator.seconds / max(1, adjudicator.asked):.2f} s per judged sentence)"
            )
        print(line)
        if calls:
            print(f"the judge's model calls, {calls.summary()}")
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
