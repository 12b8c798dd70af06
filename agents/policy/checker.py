"""The compliance checker: one text in, explained findings out.

Contract: :class:`ComplianceChecker` applies a :class:`~agents.policy.rules.Policy` (rule packs, brand
terms, allowed hosts and contacts) and, when given one, an :class:`~agents.policy.claims.Evidence`
source, to a text. :meth:`ComplianceChecker.check` returns :class:`~agents.state.ComplianceFinding` s —
rule id, category, severity, character span in the text as written, matched text, explanation,
suggested fix, legal reference, and for claims the passages considered. It never edits the text;
:meth:`ComplianceChecker.sanitize` is the one repair (markup and links). :func:`verdict_of` derives a
verdict from findings. The compliance agent and ``brandforge check`` both use this class, so a
campaign is judged exactly as a pasted text is.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from typing import Literal

from agents.policy.claims import Evidence, extract_claims, link_claims
from agents.policy.detectors import (
    Hit,
    contact_spans,
    injected_text,
    personal_data,
    sanitize_markup,
    secrets,
)
from agents.policy.rules import Policy, Rule
from agents.policy.text import Folded, compact, find_spans, fold, fold_str, sentence_around
from agents.state import ComplianceFinding, EvidenceRef, Severity

Verdict = Literal["pass", "warn", "block"]


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def verdict_of(findings: list[ComplianceFinding]) -> Verdict:
    """``block`` if an unfixed finding blocks, ``warn`` if any unfixed finding remains, else ``pass``."""
    live = [f for f in findings if not f.fixed]
    if any(f.severity == "block" for f in live):
        return "block"
    return "warn" if live else "pass"


def _finding(hit: Hit, field: str | None) -> ComplianceFinding:
    return ComplianceFinding(
        rule_id=hit.rule_id,
        category=hit.category,
        severity=hit.severity,  # type: ignore[arg-type]
        explanation=hit.explanation,
        field=field,
        span=hit.span,
        matched=hit.matched,
        suggestion=hit.suggestion,
        legal_reference=hit.legal_reference,
    )


def _original_spans(folded: Folded, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [folded.span(a, b) for a, b in spans]


def _overlaps(x: tuple[int, int], y: tuple[int, int]) -> bool:
    return x[0] < y[1] and y[0] < x[1]


def _inside(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(a <= span[0] and span[1] <= b for a, b in spans)


@dataclass
class ComplianceChecker:
    policy: Policy
    evidence: Evidence | None = None
    claim_severity: Severity = "block"
    """Severity of a claim no passage says (a figure no passage states always blocks)."""
    check_claims: bool = True

    def rule_hits(
        self, folded: Folded, compacted: Folded, rule: Rule, exempt: list[tuple[int, int]]
    ) -> list[Hit]:
        """Hits of one rule; ``exempt`` and the returned spans are in original-text coordinates."""
        exempt = exempt + _original_spans(folded, find_spans(folded, rule.exceptions))
        hits: list[Hit] = []
        taken: list[tuple[int, int]] = []
        spans = _original_spans(folded, find_spans(folded, rule.terms))
        for pattern in rule.patterns:  # regexes cannot skip separators: also try the compacted text
            for version in (folded, compacted):
                spans += [
                    version.span(*m.span()) for m in _compiled(pattern).finditer(version.text) if m.group()
                ]
        for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
            if _inside((start, end), exempt) or any(a < end and start < b for a, b in taken):
                continue
            taken.append((start, end))
            if rule.unless:
                sentence = fold_str(sentence_around(folded.source, start, end))
                if any(re.search(p, sentence, re.IGNORECASE) for p in rule.unless):
                    continue
            span = (start, end)
            hits.append(
                Hit(
                    rule.id,
                    rule.category,
                    rule.severity,
                    span,
                    folded.source[span[0] : span[1]],
                    rule.explanation,
                    rule.suggestion or "rewrite it",
                    rule.legal_reference,
                )
            )
        return hits

    def rule_findings(self, text: str, field: str | None = None) -> list[ComplianceFinding]:
        """Rule packs, brand terms, required spellings, personal data, secrets and injected text."""
        folded = fold(text)
        # Harmless phrases of the language and required disclaimers are never violations.
        exempt = _original_spans(folded, find_spans(folded, self.policy.exceptions + self.policy.disclaimers))
        compacted = compact(folded)
        hits: list[Hit] = []
        for rule in self.policy.rules:
            hits += self.rule_hits(folded, compacted, rule, exempt)
        for term in self.policy.required_terms:
            for start, end in find_spans(folded, [term]):
                a, b = folded.span(start, end)
                if text[a:b] != term:
                    hits.append(
                        Hit(
                            "brand.required_spelling",
                            "required_term",
                            "block",
                            (a, b),
                            text[a:b],
                            f"{text[a:b]!r} must be written {term!r}",
                            f"write {term!r}",
                        )
                    )
        hits += personal_data(folded, self.policy.allowed_contacts)
        hits += secrets(folded)
        hits += injected_text(folded)
        hits += [h for h in injected_text(compacted) if not any(_overlaps(h.span, o.span) for o in hits)]
        return [_finding(h, field) for h in hits]

    def markup_findings(self, text: str, field: str | None = None) -> list[ComplianceFinding]:
        return [_finding(h, field) for h in sanitize_markup(text, self.policy.allowed_hosts)[1]]

    def sanitize(self, text: str) -> str:
        """``text`` without HTML, scripts, and links or images to hosts the brand does not allow."""
        return sanitize_markup(text, self.policy.allowed_hosts)[0]

    def claim_findings(
        self,
        text: str,
        field: str | None = None,
        mask: list[tuple[int, int]] = (),  # type: ignore[assignment]
    ) -> list[ComplianceFinding]:
        """Claims no passage supports (with the evidence considered), or unverifiable without evidence.

        ``mask``: spans that are not claims (disclaimers, contact data, markup), blanked before extraction.
        """
        chars = list(text)
        for start, end in mask:
            chars[start:end] = " " * (end - start)
        claims = [
            dataclasses.replace(claim, text=text[claim.span[0] : claim.span[1]])
            for claim in extract_claims("".join(chars))
        ]
        if not claims or not self.check_claims:
            return []
        if self.evidence is None:
            return [
                ComplianceFinding(
                    rule_id="claims.unverified",
                    category="unsupported_claim",
                    severity="warn",
                    explanation=f"a {'/'.join(c.kinds).replace('_', ' ')} claim that cannot be checked: no "
                    "evidence was given (pass --brand to check claims against the brand's documents)",
                    field=field,
                    span=c.span,
                    matched=c.text,
                    suggestion="check it against a source before publishing",
                )
                for c in claims
                if set(c.kinds) & {"figure", "health_effect", "finance_effect", "education_effect"}
            ]
        findings = []
        for result in link_claims(claims, self.evidence):
            if result.supported:
                continue
            findings.append(
                ComplianceFinding(
                    rule_id="claims.unsupported_figure" if result.missing_figures else "claims.unsupported",
                    category="unsupported_claim",
                    severity="block"
                    if result.missing_figures
                    else (self.claim_severity if set(result.claim.kinds) & _SUBSTANTIVE else "warn"),
                    explanation=result.reason,
                    field=field,
                    span=result.claim.span,
                    matched=result.claim.text,
                    suggestion="use only figures the passages state"
                    if result.missing_figures
                    else "remove the claim or restate what a passage says",
                    legal_reference=_SUBSTANTIATION,
                    evidence=[
                        EvidenceRef(passage=c.id, score=round(c.score, 3), supports=c.id in result.supporting)
                        for c in result.considered
                    ],
                )
            )
        return findings

    def check(self, text: str, field: str | None = None) -> list[ComplianceFinding]:
        """All findings for ``text``, ordered by position."""
        found = self.rule_findings(text, field) + self.markup_findings(text, field)
        folded = fold(text)
        mask = [folded.span(a, b) for a, b in find_spans(folded, self.policy.disclaimers)]
        mask += [f.span for f in found if f.span and f.category in _NOT_CLAIMS]
        mask += contact_spans(folded)  # the brand's own hotline is not a figure to substantiate
        found += self.claim_findings(text, field, mask)
        return sorted(found, key=lambda f: (f.span or (0, 0), f.rule_id))


_SUBSTANTIATION = "FTC Policy Statement on Advertising Substantiation; 《广告法》第四条、第十一条"
# Claims that need a source; an offer term alone ("free diagnostic") only warns unless it has a figure.
_SUBSTANTIVE = frozenset({"comparison", "health_effect", "finance_effect", "education_effect", "nutrition"})
_NOT_CLAIMS = frozenset({"pii", "secret", "unsafe_markup", "prompt_injection"})
