"""Checking one assertion against one run's output.

Contract: :func:`check` takes an assertion (see :mod:`pipelines.evals.spec`), the :class:`Target` a run
produced (the delivered piece, or an agent's output) and :class:`Tools` (embedder, judge, knowledge
index) and returns a :class:`Check`: passed or not, a one-line detail saying what was found, and for
scored assertions (``similar_to``, ``llm_rubric``) the score. Assertions never raise on bad output:
a missing field is a failed check that says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.channels import count_chars, count_words
from agents.state import Piece
from core.errors import bounded_repr
from pipelines.evals.spec import (
    CitesKnowledge,
    ComplianceVerdict,
    Contains,
    Equals,
    Language,
    LlmRubric,
    MaxChars,
    MaxWords,
    MinChars,
    NoFindings,
    NotContains,
    NotRegex,
    Regex,
    SimilarTo,
)
from policy.text import linear_regex


@dataclass
class Target:
    """What a run produced: a campaign piece, or an agent's output (its written state fields, as JSON)."""

    piece: Piece | None = None
    output: dict[str, Any] | None = None

    def text(self, field: str | None) -> str | None:
        if self.piece is not None and (self.output is None or field is None or field in self.piece.fields):
            if field is None:
                return "\n".join(self.piece.fields.values())
            return self.piece.fields.get(field)
        value = self.value(field)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    def value(self, path: str | None) -> Any:
        node: Any = self.output if self.output is not None else self.piece.model_dump(mode="json")  # type: ignore[union-attr]
        for part in (path or "").split(".") if path else []:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return None
        return node


@dataclass
class Tools:
    embed: Callable[[list[str]], np.ndarray]
    judge: Callable[[str, str], tuple[float, str]]  # (criterion, text) -> (score 0..1, reason)
    passage_exists: Callable[[str], bool]


@dataclass(frozen=True)
class Check:
    assertion: str
    passed: bool
    detail: str
    score: float | None = None


def describe(assertion: Any) -> str:
    parts = [assertion.type]
    for key in ("field", "value", "verdict", "rules", "min"):
        value = getattr(assertion, key, None)
        if value is not None:
            parts.append(f"{key}={value!r}" if key != "value" else repr(value))
    return " ".join(parts)


def _cjk_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum("\u4e00" <= c <= "\u9fff" for c in letters) / len(letters) if letters else 0.0


def check(assertion: Any, target: Target, tools: Tools) -> Check:
    name = describe(assertion)

    def result(passed: bool, detail: str, score: float | None = None) -> Check:
        return Check(name, passed, detail, score)

    if isinstance(assertion, ComplianceVerdict):
        if target.piece is None:
            return result(False, "compliance needs a campaign case (no piece)")
        verdict = target.piece.compliance.verdict
        return result(verdict in assertion.verdict, f"verdict {verdict}")
    if isinstance(assertion, NoFindings):
        if target.piece is None:
            return result(False, "no_findings needs a piece (a campaign or compliance case)")
        standing = [
            f.rule_id
            for f in target.piece.compliance.findings
            if not f.fixed
            and any(f.rule_id == r or (r.endswith(".") and f.rule_id.startswith(r)) for r in assertion.rules)
        ]
        return result(not standing, f"unfixed: {sorted(set(standing))}" if standing else "none unfixed")
    if isinstance(assertion, CitesKnowledge):
        cited = target.piece.citations if target.piece is not None else list(target.value("citations") or [])
        missing = [c for c in cited if not tools.passage_exists(c)]
        if missing:
            return result(False, f"citations not in the knowledge index: {missing}")
        return result(len(cited) >= assertion.min, f"{len(cited)} citation(s), all in the index")
    if isinstance(assertion, Equals):
        value = target.value(assertion.field)
        return result(value == assertion.value, f"got {value!r}")

    text = target.text(assertion.field)
    if text is None:
        return result(False, f"no field {assertion.field!r} in the output")
    if isinstance(assertion, Contains | NotContains):
        haystack, needle = (
            (text, assertion.value)
            if assertion.case_sensitive
            else (text.casefold(), assertion.value.casefold())
        )
        found = needle in haystack
        wanted = isinstance(assertion, Contains)
        return result(found == wanted, f"{'found' if found else 'not found'} in {len(text)} chars")
    if isinstance(assertion, MaxChars | MinChars):
        n = count_chars(text)
        ok = n <= assertion.value if isinstance(assertion, MaxChars) else n >= assertion.value
        return result(ok, f"{n} chars")
    if isinstance(assertion, MaxWords):
        n = count_words(text)
        return result(n <= assertion.value, f"{n} words")
    if isinstance(assertion, Regex | NotRegex):
        # RE2 (validated at load): linear in the text, whatever the model wrote.
        m = linear_regex(assertion.value).search(text)
        detail = f"matched {bounded_repr(m.group())}" if m else "no match"
        return result((m is not None) == isinstance(assertion, Regex), detail)
    if isinstance(assertion, Language):
        share = _cjk_share(text)
        ok = share >= 0.5 if assertion.value == "zh" else share <= 0.05
        return result(ok, f"{share:.0%} of letters are Chinese")
    if isinstance(assertion, SimilarTo):
        vectors = tools.embed([text, assertion.value])
        score = float(vectors[0] @ vectors[1])
        return result(score >= assertion.min, f"similarity {score:.2f}", score)
    if isinstance(assertion, LlmRubric):
        score, reason = tools.judge(assertion.value, text)
        return result(score >= assertion.min, f"judged {score:.2f}: {reason}", score)
    raise AssertionError(f"unhandled assertion {assertion!r}")  # the spec's union and this list agree
