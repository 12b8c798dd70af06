"""Fuzzing the compliance checker: any text, in either locale, with a brand's own rule file, is checked
within a time budget, without an exception, and with findings whose spans lie inside the text (issue 16).

Strategies mix free text over an alphabet of the characters the regexes care about with long runs of
the issue's probe characters, so a pattern that backtracks shows up as a slow example.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge.brand import load_brand
from policy import ComplianceChecker, Policy, load_policy

pytestmark = [pytest.mark.unit, pytest.mark.security]

BUDGET_S = 5.0  # per input of up to ~20k characters; a linear check takes milliseconds

_ALPHABET = "aeistvwx017 .,:;!?@#-_/\\=+*<>[](){}'\"\n\t\u3000\u200b最佳密码是为：，。國级保证ＡＢ"
_PROBES = [
    "a",
    "<",
    "[",
    "\n",
    "7",
    "最",
    " ",
    "<a ",
    "<script>",
    "www.",
    "a.",
    "a [at] ",
    "<a onx=",
    "[a](",
    "密码",
    "best ",
    "est ever ",
    "<!--",
    "1 ",
    "a@",
    "sk-",
    "eyj",
    "http://a:",
    "-----begin ",
]

texts = st.one_of(
    st.text(alphabet=_ALPHABET, max_size=300),
    st.builds(lambda unit, n: unit * n, st.sampled_from(_PROBES), st.integers(1, 4000)),
    st.lists(
        st.builds(lambda unit, n: unit * n, st.sampled_from(_PROBES), st.integers(1, 800))
        | st.text(alphabet=_ALPHABET, max_size=40),
        max_size=8,
    ).map("".join),
)

_RULES = """\
pack: fuzz
locale: {locale}
rules:
  - id: fuzz.own
    category: banned_term
    severity: block
    terms: [miracle, 奇迹]
    patterns: ["(a+)+b", "(?:x|xx)+y", "sale\\\\s+\\\\d+"]
    unless: ["(a|aa)*c"]
    explanation: the brand's own rule
"""


@pytest.fixture(scope="module")
def policies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Policy]:
    out = {}
    for locale in ("en", "zh"):
        folder: Path = tmp_path_factory.mktemp(f"brand-{locale}")
        (folder / "knowledge").mkdir()
        brand = {
            "name": "Fuzzco",
            "positioning": "fuzz",
            "locale": locale,
            "industry": "cosmetics",
            "banned_terms": ["cheapest", "最便宜"],
            "required_terms": ["Fuzzco"],
            "competitors": ["Rivalco"],
            "compliance": {"rule_files": ["rules.yaml"], "allowed_hosts": ["example.com"]},
        }
        (folder / "brand.yaml").write_text(json.dumps(brand, ensure_ascii=False), encoding="utf-8")
        (folder / "rules.yaml").write_text(_RULES.format(locale=locale), encoding="utf-8")
        loaded = load_brand(folder)
        out[locale] = load_policy(locale, loaded.industry, loaded)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts, locale=st.sampled_from(["en", "zh"]))
def test_any_text_is_checked_quickly_and_sanely(policies: dict[str, Policy], text: str, locale: str) -> None:
    checker = ComplianceChecker(policies[locale])
    started = time.perf_counter()
    findings = checker.check(text)
    clean = checker.sanitize(text)
    seconds = time.perf_counter() - started
    assert seconds < BUDGET_S, f"{seconds:.1f} s for {len(text)} characters: {text[:60]!r}"
    assert isinstance(clean, str) and len(clean) <= len(text)
    for f in findings:
        assert f.span is not None and 0 <= f.span[0] <= f.span[1] <= len(text)
        assert f.matched == text[f.span[0] : f.span[1]] or f.category == "unsupported_claim"
