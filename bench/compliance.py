"""Precision and recall of the compliance checker's ``block`` decisions on the labelled corpus.

Usage: python bench/compliance.py [CORPUS.yaml] [--misses]

Runs every case of ``tests/data/compliance_corpus.yaml`` (Chinese and English; hard negatives that
look risky; evasion variants) through the same checker a campaign uses, with claims checked against
each profile's evidence by the bundled multilingual embedder. Prints a table per category, the cases
it gets wrong with ``--misses``, and the overall precision/recall on its last line.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from knowledge.embedders import get_embedder
from policy.evaluate import evaluate, load_corpus

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", default=str(ROOT / "tests/data/compliance_corpus.yaml"))
    parser.add_argument("--misses", action="store_true", help="list the cases the checker gets wrong")
    args = parser.parse_args()

    corpus = load_corpus(Path(args.corpus))
    embedder = get_embedder("use-multilingual")
    started = time.perf_counter()
    report = evaluate(corpus, embedder)
    seconds = time.perf_counter() - started
    print(report.table())
    if args.misses:
        print("\nmisses:")
        for o in report.misses():
            rules = ", ".join(sorted({f.rule_id for f in o.findings if f.severity == "block"})) or "-"
            tags = f" [{','.join(o.case.tags)}]" if o.case.tags else ""
            case = o.case
            head = f"  expect {case.expect:5} got {o.predicted:5} {case.category:18}{tags}"
            print(f"{head} {case.text!r}  ({rules})")
    n = len(corpus.cases)
    print(f"\n{n} cases in {seconds:.1f} s ({1000 * seconds / n:.1f} ms per case)")
    s = report.overall
    print(
        f"overall block precision {s.precision:.3f}, recall {s.recall:.3f} ({s.tp} TP, {s.fp} FP, {s.fn} FN)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
