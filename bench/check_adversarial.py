"""Worst-case wall time of ``brandforge check`` on adversarial inputs of 10 KB, 100 KB and 1 MB.

Usage: python bench/check_adversarial.py [--timeout S] [--sizes 10000,100000,1000000] [--only NAME,...]

Each input family (a run of one character, ``密码`` and spaces, ``<a`` and spaces, repeated ``<script>``
or ``www.``, spelled-out e-mails, ordinary English and Chinese prose, a brand with 2,000 banned terms...)
is checked along the CLI's code path — ``load_brand`` + ``load_policy`` + ``ComplianceChecker.check`` +
``sanitize`` — with a brand that turns on every industry pack and brings its own rule file. Every
input runs in its own subprocess under ``--timeout`` so a hanging case is reported (``>60 s``), not
waited on; once a family times out, its larger sizes are not run (they would too). Sizes are in
characters. Each cell is the whole CLI path (loading brand and policy included) and the peak memory of
that process. Prints a table and, on its last line, the worst case per size and the 1 MB / 100 KB
ratio of the check itself (about 10x or less means linear). Run it against older code with
``PYTHONPATH=/path/to/old/checkout``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

_EN_PROSE = (
    "Our new cold brew is steeped for 18 hours in small batches. It tastes smooth, never bitter, and "
    "pairs well with oat milk. Visit www.example.com or write to hello@example.com for wholesale. "
    "Customers say it is the best coffee they have had this year; we think you will agree. "
)
_ZH_PROSE = (
    "我们的云南徒步线路每团最多 10 人，全程 7 天，费用 6,980 元/人。"
    "出发前 20 天取消可全额退款。欢迎来电咨询！"
)


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda n: (unit * (n // len(unit) + 1))[:n]


def _prefixed(head: str, fill: str) -> Callable[[int], str]:
    return lambda n: head + _repeat(fill)(max(0, n - len(head)))


# name -> (locale, banned terms in the brand, input of n characters)
FAMILIES: dict[str, tuple[str, int, Callable[[int], str]]] = {
    "password+spaces": ("zh", 0, _prefixed("密码", " ")),
    "a*n": ("en", 0, _repeat("a")),
    "<*n": ("en", 0, _repeat("<")),
    "[*n": ("en", 0, _repeat("[")),
    "newline*n": ("en", 0, _repeat("\n")),
    "digit*n": ("en", 0, _repeat("7")),
    "最*n": ("zh", 0, _repeat("最")),
    "最a*n": ("zh", 0, _repeat("最a")),
    "zui高*n": ("zh", 0, _repeat("zui高")),
    "<a+spaces": ("en", 0, _prefixed("<a", " ")),
    "<script>*n": ("en", 0, _repeat("<script>")),
    "www.*n": ("en", 0, _repeat("www.")),
    "a [at] b*n": ("en", 0, _repeat("a [at] b ")),
    "a.*n": ("en", 0, _repeat("a.")),
    "a @*n": ("en", 0, _repeat("a@")),
    "a space*n": ("en", 0, _repeat("a ")),
    "1 space*n": ("en", 0, _repeat("1 ")),
    "[a](*n": ("en", 0, _repeat("[a](")),
    "<a on=*n": ("en", 0, _repeat("<a onx=")),
    "est ever*n": ("en", 0, _repeat("greatest ")),
    "ignore*n": ("en", 0, _repeat("ignore all ")),
    "english prose": ("en", 0, _repeat(_EN_PROSE)),
    "chinese prose": ("zh", 0, _repeat(_ZH_PROSE)),
    "prose, 2000 terms": ("en", 2000, _repeat(_EN_PROSE)),
}

_RULE_FILE = """\
pack: bench_rules
locale: {locale}
rules:
  - id: bench.own_rule
    category: banned_term
    severity: block
    terms: [miracle brew]
    patterns: ["(a+)+x", "sale\\\\s+ends\\\\s+\\\\d+"]
    unless: ["terms apply"]
    explanation: the brand's own rule
"""


def _brand_folder(root: Path, locale: str, n_terms: int) -> Path:
    """A brand that turns every industry pack on and brings a rule file (the heaviest policy)."""
    folder = root / f"brand-{locale}-{n_terms}"
    (folder / "knowledge").mkdir(parents=True, exist_ok=True)
    terms = [f"bannedword{i}" for i in range(n_terms)] or ["最便宜"]
    brand = {
        "name": "Benchco",
        "positioning": "bench",
        "locale": locale,
        "industry": "cosmetics",
        "banned_terms": terms,
        "required_terms": ["Benchco"],
        "competitors": ["Rivalco"],
        "compliance": {
            "packs": ["health_food", "finance", "education"],
            "rule_files": ["rules.yaml"],
            "allowed_hosts": ["example.com"],
            "allowed_contacts": ["hello@example.com"],
        },
    }
    (folder / "brand.yaml").write_text(json.dumps(brand, ensure_ascii=False), encoding="utf-8")
    (folder / "rules.yaml").write_text(_RULE_FILE.format(locale=locale), encoding="utf-8")
    return folder


def run_one(family: str, size: int, folder: Path) -> dict[str, float]:
    """Check one input the way ``brandforge check --brand`` does (without an index: claims unverified)."""
    from knowledge.brand import load_brand
    from policy import ComplianceChecker, load_policy

    locale, _, make = FAMILIES[family]
    text = make(size)
    started = time.perf_counter()
    brand = load_brand(folder)
    policy = load_policy(locale, brand.industry, brand)
    checker = ComplianceChecker(policy)
    loaded = time.perf_counter()
    findings = checker.check(text)
    checker.sanitize(text)
    done = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": done - started,
        "check_seconds": done - loaded,
        "findings": len(findings),
        "peak_mb": peak_mb,
    }


def _fmt_size(n: int) -> str:
    return f"{n // 1_000_000} MB" if n >= 1_000_000 else f"{n // 1000} KB"


def _fmt_time(t: float | None, timeout: float) -> str:
    return f">{timeout:g} s" if t is None else f"{t:.2f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per input (default 60)")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--only", default="", help="comma-separated family names")
    parser.add_argument("--one", nargs=3, metavar=("FAMILY", "SIZE", "BRAND_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        family, size, folder = args.one
        print(json.dumps(run_one(family, int(size), Path(folder))))
        return 0

    sizes = [int(s) for s in args.sizes.split(",")]
    names = [n for n in args.only.split(",") if n] or list(FAMILIES)
    worst: dict[int, float | None] = dict.fromkeys(sizes, 0.0)
    worst_check: dict[int, float] = dict.fromkeys(sizes, 0.0)  # without loading brand and policy
    print(f"{'input':20} " + " ".join(f"{_fmt_size(s):>18}" for s in sizes))
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            locale, n_terms, _ = FAMILIES[name]
            folder = _brand_folder(Path(tmp), locale, n_terms)
            cells = []
            timed_out = False
            for size in sizes:
                if timed_out:  # a larger input of a family that already hung would hang too
                    cells.append(f"{'(>' + format(args.timeout, 'g') + ' s)':>18}")
                    worst[size] = None
                    continue
                cmd = [sys.executable, __file__, "--one", name, str(size), str(folder)]
                try:
                    done = subprocess.run(
                        cmd, capture_output=True, text=True, timeout=args.timeout, env=os.environ.copy()
                    )
                except subprocess.TimeoutExpired:
                    timed_out = True
                    worst[size] = None
                    cells.append(f"{_fmt_time(None, args.timeout):>18}")
                    continue
                if done.returncode != 0:
                    last = (done.stderr.strip().splitlines() or ["?"])[-1]
                    cells.append(f"{'error':>18}")
                    print(f"  {name} {size}: {last}", file=sys.stderr)
                    continue
                result = json.loads(done.stdout.strip().splitlines()[-1])
                seconds = result["seconds"]
                if worst[size] is not None:
                    worst[size] = max(worst[size] or 0.0, seconds)
                worst_check[size] = max(worst_check[size], result.get("check_seconds", seconds))
                cells.append(f"{seconds:8.2f} s {result['peak_mb']:5.0f} MB")
            print(f"{name:20} " + " ".join(cells), flush=True)
    if all(worst[s] is not None for s in sizes):
        check_only = ", ".join(f"{_fmt_size(s)} {worst_check[s]:.2f} s" for s in sizes)
        print(f"worst check alone (brand and policy already loaded): {check_only}")
    parts = [f"{_fmt_size(s)} {_fmt_time(worst[s], args.timeout)}" for s in sizes]
    ratio = ""
    if 100_000 in worst and 1_000_000 in worst:
        small, big = worst[100_000], worst[1_000_000]
        if small and big:
            # Loading the policy is a constant that hides the growth: compare the checks themselves.
            small_c, big_c = worst_check[100_000], worst_check[1_000_000]
            verdict = "linear" if big_c / small_c < 15 else "super-linear"
            ratio = f" (check alone, 1 MB / 100 KB = {big_c / small_c:.1f}x: {verdict})"
        else:
            ratio = " (timed out: super-linear)"
    print(f"worst case: {', '.join(parts)}{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
