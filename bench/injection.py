"""How well the retriever's quarantine tells instructions to a model from ordinary brand text.

Usage: python bench/injection.py [SET.yaml ...] [--misses]

Each set is YAML ``cases: [{id, lang, label: inject|benign, kind, text}]``: passages as they would sit
in a brand's knowledge documents. Every case goes through :func:`policy.detectors.instruction_in`, the
check that decides whether a passage is withheld from the model. Prints recall (injections withheld) and
false-positive rate (brand text withheld) per set and language, the misses with ``--misses``, and the
first set's figures on the last line.

The sets (tests/data), each 60 injections and 60 ordinary brand passages or more, English and Chinese:
``injection_dev.yaml`` was written to tune the patterns against; ``injection_blind1.yaml`` was written blind
(by people who never saw the patterns), measured once, then tuned on; ``injection_sealed.yaml`` was
written blind after that and measured once, after all changes (BENCHMARKS.md has the figures).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from agents.retriever import instruction_in

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SETS = [
    ROOT / "tests/data/injection_sealed.yaml",
    ROOT / "tests/data/injection_blind1.yaml",
    ROOT / "tests/data/injection_dev.yaml",
]


@dataclass
class Score:
    withheld_injections: int = 0
    injections: int = 0
    withheld_benign: int = 0
    benign: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, case: dict[str, str], withheld: bool) -> None:
        if case["label"] == "inject":
            self.injections += 1
            self.withheld_injections += withheld
        else:
            self.benign += 1
            self.withheld_benign += withheld
        if withheld != (case["label"] == "inject"):
            kind = "missed" if case["label"] == "inject" else "false alarm"
            self.misses.append(f"  {kind:11} {case['id']:12} {case['text'].strip()[:110]!r}")

    def line(self) -> str:
        recall = self.withheld_injections / max(1, self.injections)
        fpr = self.withheld_benign / max(1, self.benign)
        return (
            f"recall {recall:.3f} ({self.withheld_injections}/{self.injections}), "
            f"false positives {fpr:.3f} ({self.withheld_benign}/{self.benign})"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", nargs="*", type=Path, default=DEFAULT_SETS)
    parser.add_argument("--misses", action="store_true", help="list the cases it gets wrong")
    args = parser.parse_args()
    headline = ""
    for path in args.sets:
        cases = yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
        total, by_lang = Score(), {}
        for case in cases:
            withheld = instruction_in(case["text"]) is not None
            total.add(case, withheld)
            by_lang.setdefault(case["lang"], Score()).add(case, withheld)
        print(f"{path.name}: {len(cases)} cases")
        for lang, score in sorted(by_lang.items()):
            print(f"  {lang}: {score.line()}")
        print(f"  all: {total.line()}")
        if args.misses and total.misses:
            print("\n".join(total.misses))
        headline = headline or f"{path.name}: {total.line()}"
    print(headline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
