"""``check``: run the compliance checker over a text and report, for the CLI and the service alike.

Contract: :func:`open_checker` builds the checker ``brandforge check`` uses — the rule packs for the
locale and industry (the brand's, when a brand is given, with its index as evidence for claims), the
semantic layer unless ``rules_only``, and an optional judge. :func:`check_report` checks the text whole,
or each non-blank line with ``lines=True``, and returns the JSON report the CLI prints with
``--format json`` and ``POST /v1/check`` answers: ``verdict`` (block > warn > pass), ``locale``,
``industry``, ``packs``, and the findings (per line under ``pieces``); ``sanitized`` when unsafe markup
was removed.
"""

from __future__ import annotations

from typing import Any

from core.errors import InputError
from knowledge.brand import Brand
from knowledge.index import FaissKnowledgeIndex
from policy import ComplianceChecker, IndexEvidence, Policy, load_policy, verdict_of


def open_checker(
    *,
    locale: str | None,
    industry: str | None,
    brand: Brand | None = None,
    index: FaissKnowledgeIndex | None = None,
    rules_only: bool = False,
    judge: Any = None,
) -> tuple[ComplianceChecker, Policy]:
    """The checker and its policy (InputError for a missing locale, an unknown industry or locale)."""
    from agents.compliance import brand_facts, brand_products

    evidence = None
    if brand is not None and index is not None:
        evidence = IndexEvidence(
            index,
            facts=brand_facts(brand, with_inputs=False),
            products=brand_products(brand, index.all_passages()),
        )
    locale = locale or (brand.locale if brand else None)
    if locale is None:
        raise InputError("a locale is required without a brand (e.g. zh or en)", field="locale")
    policy = load_policy(
        locale, industry or (brand.industry if brand else None), brand, strict_industry=industry is not None
    )
    semantic = None
    if not rules_only:
        from policy.semantic import load_semantic

        semantic = load_semantic()
    elif judge is not None:
        raise InputError("the judge rules on what the semantic layer is unsure of: drop rules-only")
    return ComplianceChecker(policy, evidence, semantic=semantic, adjudicator=judge), policy


def check_report(
    checker: ComplianceChecker, policy: Policy, text: str, *, lines: bool = False
) -> dict[str, Any]:
    """Check ``text`` (whole, or each non-blank line) and return the report (see the module docstring)."""
    units = (
        [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
        if lines
        else [(None, text)]
    )
    results: list[dict[str, Any]] = []
    for line, piece in units:
        findings = checker.check(piece)
        result: dict[str, Any] = {
            "verdict": verdict_of(findings),
            "findings": [f.model_dump(mode="json", exclude_none=True) for f in findings],
        }
        clean = checker.sanitize(piece)
        if clean != piece.strip() and any(f.category == "unsafe_markup" for f in findings):
            result["sanitized"] = clean
        if line is not None:
            result = {"line": line, "text": piece, **result}
        results.append(result)
    verdicts = [r["verdict"] for r in results]
    overall = "block" if "block" in verdicts else "warn" if "warn" in verdicts else "pass"
    report: dict[str, Any] = {
        "verdict": overall,
        "locale": policy.locale,
        "industry": policy.industry,
        "packs": policy.packs,
    }
    if lines:
        report["pieces"] = results
    elif results:
        report.update(results[0])
    return report
