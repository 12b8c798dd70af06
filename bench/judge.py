"""How often the compliance judge agrees with the gold labels, and how long it takes per sentence.

Usage: python bench/judge.py [CORPUS.yaml ...] [--n 60] [--prompt compliance.judge@1]
                             [--prompt-dir DIR] [--no-rules] [--backend K] [--model M] [--cold] [--misses]

Samples ``--n`` cases (default 60) from the TRAINING corpora (``policy/corpus/train_t*.yaml``), stratified
over category x expect x locale so that every category, both verdicts and both languages are in (about
half block, half pass), with a fixed seed. Each case becomes a :class:`~policy.adjudication.Question`
as the checker would ask it: the gold category and one category it is easily confused with as the
candidates (in an order drawn from the seed, not gold first), and the ids of the rules that fire on the
text under the case's profile (``--no-rules``: none). :class:`agents.judge.ModelJudge` answers them on
the embedded model (or ``--backend``), one question per call (four per call was tried: see
BENCHMARKS.md).

Prints each case with ``--misses`` (wrong or unusable), accuracy of the violation decision per category
and per language, how often a violation got the gold category, how many rulings were unusable (``None``:
counted as wrong), the time of the first call (the fixed instructions are evaluated then, unless an
earlier process left their KV state on disk; ``--cold``: the llama.cpp backend keeps none there) and the
seconds per judged sentence after it, and the load average (other processes on the CPU slow it down).
The headline is the last line. Wrap runs in ``flock /tmp/brandforge-llm.lock``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from agents.judge import JUDGE_PROMPT, ModelJudge
from agents.state import TraceEntry
from backends import ChatMessage, Completion, GenerationParams, LLMBackend, WrappedBackend, get_backend
from knowledge.brand import Brand, BrandCompliance
from pipelines.spec import load_pipeline
from policy import ComplianceChecker, load_policy
from policy.adjudication import Question, Ruling
from policy.evaluate import Case, Corpus, load_corpus
from prompts import PromptRegistry, default_registry
from prompts.registry import TEMPLATES_DIR

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPORA = sorted((ROOT / "policy" / "corpus").glob("train_t*.yaml"))
# The category a sentence of each category is most easily mistaken for: the second candidate asked.
CONFUSED_WITH = {
    "superlative": "unsupported_claim",
    "competitor": "superlative",
    "guarantee": "health_claim",
    "health_claim": "guarantee",
    "finance_claim": "guarantee",
    "education_claim": "guarantee",
    "state_endorsement": "superlative",
    "unsupported_claim": "superlative",
    "prompt_injection": "unsafe_markup",
    "banned_term": "superlative",
    "pii": "secret",
    "secret": "pii",
    "unsafe_markup": "prompt_injection",
}


class _Recording(WrappedBackend):
    """The judge's backend, keeping each answer's raw text by the last sentence asked (for --misses)."""

    def __init__(self, inner: LLMBackend) -> None:
        super().__init__(inner)
        self.answers: dict[str, str] = {}

    def _complete(
        self, messages: list[ChatMessage], json_schema: dict[str, Any] | None, params: GenerationParams
    ) -> Completion:
        completion = self.inner.complete(messages, json_schema=json_schema, params=params)
        asked = messages[-1]["content"].rsplit("<<<", 1)[-1].split(">>>", 1)[0]
        self.answers[asked.strip()] = completion.text
        return completion


def sample(corpora: list[tuple[Corpus, Case]], n: int, seed: int) -> list[tuple[Corpus, Case]]:
    """``n`` cases spread evenly over (category, expect, locale) cells, round-robin, seeded."""
    rng = random.Random(seed)
    cells: dict[tuple[str, str, str], list[tuple[Corpus, Case]]] = defaultdict(list)
    for corpus, case in corpora:
        if case.category in CONFUSED_WITH:
            cells[(case.category, case.expect, case.locale[:2])].append((corpus, case))
    for items in cells.values():
        rng.shuffle(items)
    picked: list[tuple[Corpus, Case]] = []
    keys = sorted(cells)
    depth = 0
    while len(picked) < n and any(len(cells[k]) > depth for k in keys):
        for key in keys:
            if len(picked) < n and len(cells[key]) > depth:
                picked.append(cells[key][depth])
        depth += 1
    return picked


def rule_ids(corpus: Corpus, case: Case) -> tuple[str, ...]:
    """The rules that fire on the case under its profile (the checker's rules layer, no evidence)."""
    brand = None
    industry = case.industry
    if case.profile is not None:
        prof = corpus.profiles[case.profile]
        industry = industry or prof.industry
        brand = Brand(
            name=case.profile,
            positioning=case.profile,
            locale=prof.locale,
            industry=prof.industry,
            banned_terms=prof.banned_terms,
            competitors=prof.competitors,
            required_terms=prof.required_terms,
            compliance=BrandCompliance(
                allowed_hosts=prof.allowed_hosts, allowed_contacts=prof.allowed_contacts
            ),
        )
    checker = ComplianceChecker(load_policy(case.locale, industry, brand), check_claims=False)
    found = checker.rule_findings(case.text) + checker.markup_findings(case.text)
    return tuple(sorted({f.rule_id for f in found if f.severity == "block"}))


def question(corpus: Corpus, case: Case, rng: random.Random, with_rules: bool) -> Question:
    pair = [case.category, CONFUSED_WITH[case.category]]
    rng.shuffle(pair)
    scores = {pair[0]: 0.55, pair[1]: 0.45}
    rules = rule_ids(corpus, case) if with_rules else ()
    reason = "disagreement" if rules else "uncertain"
    return Question(case.text, case.locale, scores, rules, reason)  # type: ignore[arg-type]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", nargs="*", default=[str(p) for p in DEFAULT_CORPORA])
    parser.add_argument("--n", type=int, default=60, help="cases to judge (default 60)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--prompt", default=JUDGE_PROMPT, help="the judge's prompt, id@version")
    parser.add_argument("--prompt-dir", help="a folder of prompt files to try (added to the shipped ones)")
    parser.add_argument("--no-rules", action="store_true", help="do not tell the judge which rules fired")
    parser.add_argument(
        "--backend", help="backend kind (default: the default pipeline's, the embedded model)"
    )
    parser.add_argument("--model", help="model of that backend (a GGUF path for llamacpp)")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="llamacpp: no KV states on disk (the first call evaluates the prompt)",
    )
    parser.add_argument("--misses", action="store_true", help="list the cases the judge gets wrong")
    args = parser.parse_args()

    registry = PromptRegistry(TEMPLATES_DIR, Path(args.prompt_dir)) if args.prompt_dir else default_registry()
    prompt = registry.get(args.prompt)
    overrides: dict[str, Any] = {k: v for k, v in {"kind": args.backend, "model": args.model}.items() if v}
    if args.cold:
        overrides["prompt_cache_mb"] = 0
    config = load_pipeline("default", backend_overrides=overrides).spec.backend
    backend = get_backend(config)
    backend.warm_up()

    pool = [
        (corpus, case)
        for path in args.corpora
        for corpus in [load_corpus(Path(path))]
        for case in corpus.cases
    ]
    cases = sample(pool, args.n, args.seed)
    rng = random.Random(args.seed)
    questions = [question(corpus, case, rng, not args.no_rules) for corpus, case in cases]
    trace: list[TraceEntry] = []
    recording = _Recording(backend)
    judge = ModelJudge(recording, config, prompt, trace=trace.append)

    load_before = os.getloadavg()[0]
    rulings: list[Ruling | None] = []
    call_seconds: list[float] = []
    for n, q in enumerate(questions):
        started = time.perf_counter()
        [ruling] = judge.adjudicate([q])
        call_seconds.append(time.perf_counter() - started)
        rulings.append(ruling)
        said = "-" if ruling is None else ("block" if ruling.violation else "pass")
        evaluated, generated = (
            trace[-1].prompt_tokens - trace[-1].cached_prompt_tokens,
            trace[-1].completion_tokens,
        )
        print(
            f"[{n + 1}/{len(questions)}] {call_seconds[-1]:5.1f} s ({evaluated} prompt tokens evaluated, "
            f"{generated} generated)  gold {cases[n][1].expect:5} judge "
            f"{said:5} {cases[n][1].category}: {q.sentence[:60]!r}",
            file=sys.stderr,
            flush=True,
        )
    load_after = os.getloadavg()[0]

    by_category: dict[str, list[bool]] = defaultdict(list)
    by_locale: dict[str, list[bool]] = defaultdict(list)
    by_expect: dict[str, list[bool]] = defaultdict(list)
    right_category = violations_found = unusable = 0
    misses = []
    for (_, case), q, ruling in zip(cases, questions, rulings, strict=True):
        if ruling is None:
            unusable += 1
            correct = False
        else:
            correct = ruling.violation == (case.expect == "block")
            if ruling.violation and case.expect == "block":
                violations_found += 1
                right_category += ruling.category == case.category
        by_category[case.category].append(correct)
        by_locale[case.locale[:2]].append(correct)
        by_expect[case.expect].append(correct)
        if not correct:
            said = "unusable" if ruling is None else f"violation={ruling.violation} {ruling.category}"
            why = (
                f" | answer {recording.answers.get(q.sentence.strip(), '?')[:200]}" if ruling is None else ""
            )
            why = why or f" | {ruling.span_text!r} | {ruling.rationale}"  # type: ignore[union-attr]
            rules = ",".join(q.rule_ids) or "-"
            misses.append(
                f"  {case.expect:5} {case.category:17} said {said} [{rules}] {case.text[:90]!r}{why}"
            )

    if args.misses:
        print("misses:")
        print("\n".join(misses) or "  none")
        print()
    print(f"{'category':18} {'n':>3} {'agree':>6}")
    for name, marks in sorted(by_category.items()):
        print(f"{name:18} {len(marks):>3} {sum(marks) / len(marks):>6.2f}")
    for label, groups in (("locale", by_locale), ("expect", by_expect)):
        print(
            f"by {label}: "
            + ", ".join(f"{k} {sum(v) / len(v):.2f} (n={len(v)})" for k, v in sorted(groups.items()))
        )
    accuracy = sum(sum(v) for v in by_category.values()) / len(questions)
    print(
        f"gold category on found violations: {right_category}/{violations_found}; "
        f"unusable rulings: {unusable}/{len(questions)}"
    )
    first, rest = call_seconds[0], call_seconds[1:]
    later = trace[1:] or trace
    print(
        "per call after the first: "
        f"{sum(t.prompt_tokens - t.cached_prompt_tokens for t in later) / len(later):.0f} prompt tokens "
        f"evaluated in {sum(t.prompt_seconds or 0 for t in later) / len(later):.2f} s, "
        f"{sum(t.completion_tokens for t in later) / len(later):.0f} tokens generated in "
        f"{sum(t.generation_seconds or 0 for t in later) / len(later):.2f} s"
    )
    per_sentence = sum(rest) / max(1, len(rest))
    print(
        f"first call {first:.1f} s ({trace[0].prompt_tokens - trace[0].cached_prompt_tokens} of "
        f"{trace[0].prompt_tokens} prompt tokens evaluated: the rest came from a saved KV state); "
        f"load average {load_before:.2f} -> "
        f"{load_after:.2f} on {os.cpu_count()} CPUs"
    )
    print(
        f"{prompt.ref} on {backend.model_name}: accuracy {accuracy:.3f} on "
        f"{len(questions)} sentences, {per_sentence:.2f} s per judged sentence after the first call"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
