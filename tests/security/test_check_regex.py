"""`brandforge check` cannot be stalled: adversarial inputs, brand regexes and limits (issue 16).

Each probe of the issue (a run of one character, ``密码`` and spaces, ``<a`` and spaces, repeated
``<script>`` or ``www.``...) took from 20 s to minutes at 100 KB or less; each must now finish within a
generous budget. The check runs in a forked child so a regression fails the test instead of hanging it.
Brand rule regexes run on RE2: ``(a+)+$`` is fast, lookaround and backreferences are refused at load.
Precise numbers are in ``bench/check_adversarial.py``.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.errors import InputError
from knowledge.brand import Brand, load_brand
from policy import ComplianceChecker, Policy, Rule, load_policy
from policy.checker import MAX_CHECK_CHARS
from policy.rules import (
    MAX_BRAND_TERMS,
    MAX_PATTERN_CHARS,
    MAX_PATTERNS_PER_RULE,
    MAX_RULES_PER_PACK,
    brand_rules,
)

pytestmark = [pytest.mark.unit, pytest.mark.security]

N = 100_000
BUDGET_S = 20.0  # each probe takes well under a second here; before the fix each took 20 s to minutes
_PROSE = (
    "Our new cold brew is steeped for 18 hours in small batches. It tastes smooth, never bitter. "
    "Visit www.example.com or write to hello@example.com. Customers say it is the best coffee. "
)


def _run(policy: Policy, text: str) -> None:
    checker = ComplianceChecker(policy)
    checker.check(text)
    checker.sanitize(text)


def _finishes_within(budget: float, policy: Policy, text: str) -> float:
    """Seconds ``check`` + ``sanitize`` took on ``text``, in a forked child killed after ``budget``."""
    child = multiprocessing.get_context("fork").Process(target=_run, args=(policy, text))
    started = time.perf_counter()
    child.start()
    child.join(budget)
    seconds = time.perf_counter() - started
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail(f"check of {len(text):,} characters still running after {budget:.0f} s")
    assert child.exitcode == 0, f"check failed (exit code {child.exitcode})"
    return seconds


def _fill(head: str, unit: str, n: int = N) -> str:
    return head + (unit * (n // len(unit) + 1))[: n - len(head)]


PROBES = {
    "password then spaces (cubic)": ("zh", "密码" + " " * 1500),
    "password then 100k spaces": ("zh", _fill("密码", " ")),
    "a": ("en", _fill("", "a")),
    "<": ("en", _fill("", "<")),
    "[": ("en", _fill("", "[")),
    "newline": ("en", _fill("", "\n")),
    "digit": ("en", _fill("", "7")),
    "最": ("zh", _fill("", "最")),
    "最 and a syllable": ("zh", _fill("", "最a")),
    "最 and its pinyin (many hits)": ("zh", _fill("", "zui高")),
    "<a then spaces": ("en", _fill("<a", " ")),
    "< then spaces": ("en", _fill("<", " ")),
    "<script>": ("en", _fill("", "<script>")),
    "<script without >": ("en", _fill("", "<script ")),
    "www.": ("en", _fill("", "www.")),
    "a.": ("en", _fill("", "a.")),
    "spelled-out e-mail": ("en", _fill("", "a [at] b ")),
    "event attribute": ("en", _fill("", "<a onx=")),
    "markdown link": ("en", _fill("", "[a](")),
    "<!--": ("en", _fill("", "<!--")),
    "best (many hits in one sentence)": ("en", _fill("", "best ")),
    "e-mails (many hits)": ("en", _fill("", "a@b.co ")),
    "tags (many edits)": ("en", _fill("", "<b>x")),
}


@pytest.fixture(scope="module")
def policies() -> dict[str, Policy]:
    return {locale: load_policy(locale, "cosmetics") for locale in ("en", "zh")}


@pytest.mark.parametrize("name", list(PROBES))
def test_probe_finishes_within_budget(name: str, policies: dict[str, Policy]) -> None:
    locale, text = PROBES[name]
    _finishes_within(BUDGET_S, policies[locale], text)


def test_a_megabyte_of_prose_is_linear(policies: dict[str, Policy]) -> None:
    # 10 MB of English took past 120 s and 1.1 GB; 1 MB now takes seconds, 10 MB is refused.
    _finishes_within(60.0, policies["en"], _fill("", _PROSE, 1_000_000))


def test_text_over_the_cap_is_an_input_error(policies: dict[str, Policy]) -> None:
    checker = ComplianceChecker(policies["en"])
    with pytest.raises(InputError, match=f"{MAX_CHECK_CHARS + 1:,} characters; expected at most"):
        checker.check("a" * (MAX_CHECK_CHARS + 1))
    with pytest.raises(InputError, match="expected at most"):
        checker.sanitize("a" * (MAX_CHECK_CHARS + 1))


def _brand(tmp_path: Path, rules_yaml: str, **fields: object) -> Path:
    folder = tmp_path / "brand"
    (folder / "knowledge").mkdir(parents=True)
    brand = {
        "name": "Acme",
        "positioning": "test",
        "locale": "en",
        "compliance": {"rule_files": ["rules.yaml"]},
        **fields,
    }
    (folder / "brand.yaml").write_text(json.dumps(brand), encoding="utf-8")
    (folder / "rules.yaml").write_text(rules_yaml, encoding="utf-8")
    return folder


def _rules(*rules: str) -> str:
    return "pack: acme\nlocale: en\nrules:\n" + "".join(rules)


def _rule(n: int, line: str) -> str:
    return (
        f"  - id: acme.rule{n}\n    category: banned_term\n    severity: block\n"
        f"    terms: [acme{n}]\n    {line}\n    explanation: not allowed\n"
    )


def test_catastrophic_brand_regex_runs_in_linear_time(tmp_path: Path) -> None:
    folder = _brand(tmp_path, _rules(_rule(0, 'patterns: ["(a+)+$", "(x+x+)+y"]')))
    brand = load_brand(folder)
    policy = load_policy("en", None, brand)
    _finishes_within(BUDGET_S, policy, "a" * N + "b")
    _finishes_within(BUDGET_S, policy, "x" * N)
    hits = ComplianceChecker(policy).check("hello aaaa")
    assert any(f.rule_id == "acme.rule0" for f in hits)


@pytest.mark.parametrize(
    ("line", "where"),
    [
        ('patterns: ["(?<=x)y"]', "rules[1].patterns[0]"),
        ('patterns: ["ok", "best(?! ever)"]', "rules[1].patterns[1]"),
        ('unless: ["(a)\\\\1"]', "rules[1].unless[0]"),
        ('unless: ["(?=source)"]', "rules[1].unless[0]"),
        (f'patterns: ["{"a" * (MAX_PATTERN_CHARS + 1)}"]', "rules[1].patterns[0]"),
    ],
)
def test_regex_that_is_not_linear_is_refused_at_load(tmp_path: Path, line: str, where: str) -> None:
    folder = _brand(tmp_path, _rules(_rule(0, "patterns: [fine]"), _rule(1, line)))
    brand = load_brand(folder)
    with pytest.raises(InputError) as err:
        load_policy("en", None, brand)
    message = str(err.value)
    assert "rules.yaml" in message and where in message
    assert "RE2" in message or "at most" in message


def test_pack_and_rule_sizes_are_bounded(tmp_path: Path) -> None:
    many_patterns = "patterns: [" + ", ".join(f"p{i}" for i in range(MAX_PATTERNS_PER_RULE + 1)) + "]"
    folder = _brand(tmp_path, _rules(_rule(0, many_patterns)))
    with pytest.raises(InputError, match=r"rules\[0\]\.patterns.*at most"):
        load_policy("en", None, load_brand(folder))
    folder2 = _brand(
        tmp_path / "2", _rules(*(_rule(i, "patterns: [x]") for i in range(MAX_RULES_PER_PACK + 1)))
    )
    with pytest.raises(InputError, match=r"rules.*at most"):
        load_policy("en", None, load_brand(folder2))


def test_brand_term_lists_are_bounded() -> None:
    brand = Brand.model_construct(banned_terms=[f"w{i}" for i in range(MAX_BRAND_TERMS + 1)], root=None)
    with pytest.raises(InputError, match=r"banned_terms.*expected at most"):
        brand_rules(brand)
    with pytest.raises(ValidationError):
        Rule(id="x.y", category="x", severity="block", terms=["a"] * 10_001, explanation="e")


def test_two_thousand_banned_terms_stay_fast(tmp_path: Path) -> None:
    folder = _brand(
        tmp_path, _rules(_rule(0, "patterns: [x]")), banned_terms=[f"bannedword{i}" for i in range(2000)]
    )
    policy = load_policy("en", None, load_brand(folder))
    _finishes_within(BUDGET_S, policy, _fill("", _PROSE))
    found = ComplianceChecker(policy).check("we said bannedword1999 and bannedword7s and bannedword7")
    assert [f.matched for f in found if f.rule_id == "brand.banned_term"] == ["bannedword1999", "bannedword7"]


def test_superlative_ever_keeps_its_meaning_on_re2(policies: dict[str, Policy]) -> None:
    checker = ComplianceChecker(policies["en"])
    hit = [f for f in checker.check("Our smoothest roast ever.") if f.rule_id == "en.superlative"]
    assert [f.matched for f in hit] == ["smoothest roast ever"]
    assert not [
        f for f in checker.check("Our smoothest roast ever since 2010") if f.rule_id == "en.superlative"
    ]


def test_slash_separated_event_handler_is_stripped(policies: dict[str, Policy]) -> None:
    checker = ComplianceChecker(policies["en"])
    text = "Hi <img/src/onerror=alert(1)> there"
    assert any(f.rule_id == "safety.script" and f.severity == "block" for f in checker.check(text))
    assert checker.sanitize(text) == "Hi there"
