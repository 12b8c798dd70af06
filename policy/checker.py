"""The compliance checker: one text in, explained findings out.

Contract: :class:`ComplianceChecker` applies a :class:`~policy.rules.Policy` (rule packs, brand
terms, allowed hosts and contacts) and, when given one, an :class:`~policy.claims.Evidence`
source, to a text. :meth:`ComplianceChecker.check` returns :class:`~agents.state.ComplianceFinding` s —
rule id, category, severity, character span in the text as written, matched text, explanation,
suggested fix, legal reference, and for claims the passages considered. It never edits the text;
:meth:`ComplianceChecker.sanitize` is the one repair (markup and links). :func:`verdict_of` derives a
verdict from findings. The compliance agent and ``brandforge check`` both use this class, so a
campaign is judged exactly as a pasted text is.

A check is linear in the length of the text (and in the number of rule terms): rule regexes run on
RE2, detectors are written not to backtrack, and overlap, exemption and sentence look-ups are indexed
rather than rescanned per hit. :meth:`ComplianceChecker.check` refuses texts longer than
:data:`MAX_CHECK_CHARS` with an :class:`~core.errors.InputError`.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
from dataclasses import dataclass
from typing import Literal

from core.errors import InputError
from policy.claims import Evidence, extract_claims, link_claims
from policy.detectors import (
    Hit,
    contact_spans,
    injected_text,
    personal_data,
    sanitize_markup,
    secrets,
)
from policy.findings import ComplianceFinding, EvidenceRef, Severity
from policy.rules import Policy, Rule, rule_regex
from policy.text import Coverage, Folded, SentenceIndex, compact, find_spans, fold, fold_str

Verdict = Literal["pass", "warn", "block"]

# The longest text one check accepts: far above any channel's piece (a blog post is a few thousand
# characters), low enough that a check stays within seconds and a few hundred MB.
MAX_CHECK_CHARS = 2_000_000


def _check_size(text: str) -> None:
    if len(text) > MAX_CHECK_CHARS:
        raise InputError(
            f"input of {len(text):,} characters; expected at most {MAX_CHECK_CHARS:,} per check "
            "(split it, e.g. check it line by line with --lines)",
            field="text",
        )


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


class _Exempt:
    """Spans hits may not fall inside; "is this span inside one of them" is a binary search."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self._starts = [a for a, _ in ordered]
        self._reach: list[int] = []  # the furthest end among the spans that start at or before each
        for _, b in ordered:
            self._reach.append(max(b, self._reach[-1]) if self._reach else b)

    def covers(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self._starts, start)
        return i > 0 and self._reach[i - 1] >= end


@functools.lru_cache(maxsize=8)
def _markup(text: str, allowed_hosts: tuple[str, ...]) -> tuple[str, tuple[Hit, ...]]:
    # check() and then sanitize() (the CLI, the compliance agent) strip the same text: do it once.
    clean, hits = sanitize_markup(text, list(allowed_hosts))
    return clean, tuple(hits)


def _regex_spans(pattern: str, version: Folded) -> list[tuple[int, int]]:
    """Original-text spans of a rule regex in ``version``; a group named ``hit`` is the part reported."""
    regex = rule_regex(pattern)
    group = regex.groupindex.get("hit", 0)  # RE2's match objects take group numbers, not names
    return [version.span(*m.span(group)) for m in regex.finditer(version.text) if m.group(group)]


@dataclass
class ComplianceChecker:
    policy: Policy
    evidence: Evidence | None = None
    claim_severity: Severity = "block"
    """Severity of a claim no passage says (a figure no passage states always blocks)."""
    check_claims: bool = True

    def rule_hits(
        self,
        folded: Folded,
        compacted: Folded,
        rule: Rule,
        exempt: list[tuple[int, int]],
        sentences: SentenceIndex | None = None,
    ) -> list[Hit]:
        """Hits of one rule; ``exempt`` and the returned spans are in original-text coordinates."""
        inside = _Exempt(exempt + _original_spans(folded, find_spans(folded, rule.exceptions)))
        sentences = sentences or SentenceIndex(folded.source)
        hits: list[Hit] = []
        taken_end = -1  # spans come sorted by start: one overlaps a kept one iff it starts before this
        spans = _original_spans(folded, find_spans(folded, rule.terms))
        for pattern in rule.patterns:  # regexes cannot skip separators: also try the compacted text
            spans += _regex_spans(pattern, folded) + _regex_spans(pattern, compacted)
        fine: dict[tuple[int, int], bool] = {}  # per sentence: whether an `unless` regex matches it
        for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
            if inside.covers(start, end) or start < taken_end:
                continue
            taken_end = max(taken_end, end)
            if rule.unless:
                bounds = sentences.bounds(start, end)
                if bounds not in fine:
                    sentence = fold_str(folded.source[bounds[0] : bounds[1]])
                    fine[bounds] = any(rule_regex(p).search(sentence) for p in rule.unless)
                if fine[bounds]:
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
        sentences = SentenceIndex(text)
        hits: list[Hit] = []
        for rule in self.policy.rules:
            hits += self.rule_hits(folded, compacted, rule, exempt, sentences)
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
        taken = Coverage(len(text))
        for hit in hits:
            taken.add(*hit.span)
        hits += [h for h in injected_text(compacted) if not taken.overlaps(*h.span)]
        return [_finding(h, field) for h in hits]

    def markup_findings(self, text: str, field: str | None = None) -> list[ComplianceFinding]:
        return [_finding(h, field) for h in _markup(text, tuple(self.policy.allowed_hosts))[1]]

    def sanitize(self, text: str) -> str:
        """``text`` without HTML, scripts, and links or images to hosts the brand does not allow."""
        _check_size(text)
        return _markup(text, tuple(self.policy.allowed_hosts))[0]

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
        """All findings for ``text``, ordered by position.

        Raises :class:`~core.errors.InputError` for a text over :data:`MAX_CHECK_CHARS` characters.
        """
        _check_size(text)
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
