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
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from core.errors import InputError
from policy.adjudication import Adjudicator, Question, Ruling
from policy.claims import (
    ClaimCheck,
    Evidence,
    content_units,
    extract_claims,
    figures_measured,
    figures_with_units,
    link_claims,
    misquoted_results,
    sentence_spans,
    unreported_results,
    unstated_awards,
)
from policy.detectors import (
    Hit,
    contact_spans,
    contacts,
    injected_text,
    personal_data,
    reference_spans,
    same_contact,
    sanitize_markup,
    secrets,
)
from policy.facts import (
    condition_conflicts,
    feature_conflicts,
    mentioned_products,
    product_aliases,
    product_conflicts,
    rows_for_case,
    rows_of,
    sentence_subjects,
    subject_at,
)
from policy.findings import ComplianceFinding, EvidenceRef, Severity
from policy.rules import Policy, Rule, rule_regex
from policy.semantic import CATEGORIES, SemanticLayer, SentenceScore
from policy.text import (
    Coverage,
    Folded,
    SentenceIndex,
    compact,
    disguised_spans,
    find_spans,
    fold,
    fold_str,
    pinyin_spans,
    simplified_in_place,
    splits_a_word,
    traditional_form,
)

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


# Categories in which the judge alone blocks an uncertain sentence: none. On the third blind set (spent,
# 2026-12-04), the judge's blocks of sentences no rule had flagged and the classifier was unsure of were
# right 7 times and wrong 17, and in no category better than half the time (competitor 2 of 4). They warn
# instead: the piece ships only after a reviewer has seen the ruling.
JUDGE_BLOCKS: frozenset[str] = frozenset()


@dataclass
class ComplianceChecker:
    policy: Policy
    evidence: Evidence | None = None
    claim_severity: Severity = "block"
    """Severity of a claim no passage says (a figure no passage states always blocks)."""
    check_claims: bool = True
    semantic: SemanticLayer | None = None
    """The semantic classifier layer (:mod:`policy.semantic`); ``None``: rules only."""
    adjudicator: Adjudicator | None = None
    """Model adjudication of uncertain sentences and rule/semantic disagreements; ``None``: none."""
    judge_blocks: frozenset[str] | None = dataclasses.field(default_factory=lambda: JUDGE_BLOCKS)
    """Categories in which the judge's ruling on an *uncertain* sentence (no rule fired, the classifier's
    score in the review band) blocks; in the others it warns, for a reviewer to decide. ``None``: every
    category. Default :data:`JUDGE_BLOCKS`. Rulings that settle a disagreement with a rule always count."""
    fact_severity: Severity = "warn"
    """With the semantic layer: severity of a figure no passage states in a sentence the layer does not
    read as a claim (a price, a date, a policy term). Campaigns use ``block``: generated copy must not
    state a figure its documents do not. Without the semantic layer such a figure always blocks."""
    rules_stand: frozenset[str] = frozenset()
    """Categories in which a rule's block stands whatever the judge rules on the sentence. Campaigns use
    :data:`RULES_STAND_IN_CAMPAIGNS`: the model wrote the sentence and can write it again, so the judge
    clearing "some of the world's finest coffees" (stop 40: a 1.5B judge read it as no superlative) costs
    a publishable piece, while a block costs one revision. People's copy (``brandforge check``) keeps the
    judge's say over a rule the classifier reads as clean (idioms, figurative words)."""

    def rule_hits(
        self,
        folded: Folded,
        compacted: Folded,
        rule: Rule,
        exempt: list[tuple[int, int]],
        sentences: SentenceIndex | None = None,
        rejected: list[tuple[int, int, str]] | None = None,
    ) -> list[Hit]:
        """Hits of one rule; ``exempt`` and the returned spans are in original-text coordinates.
        ``rejected`` (when given) gains the span and category of each match that is mentioned to be
        rejected rather than used (:func:`_mentioned_not_used`)."""
        inside = _Exempt(exempt + _original_spans(folded, find_spans(folded, rule.exceptions)))
        sentences = sentences or SentenceIndex(folded.source)
        hits: list[Hit] = []
        taken_end = -1  # spans come sorted by start: one overlaps a kept one iff it starts before this
        spans = _original_spans(folded, find_spans(folded, rule.terms))
        if rule.category == "banned_term":  # the brand's own words, also in disguise ("mir@cle", "蓄命水")
            spans += _original_spans(folded, disguised_spans(folded, rule.terms))
        elif rule.id.startswith("zh."):  # a pack's Chinese terms written in pinyin ("zui高", "三gao")
            spans += _original_spans(folded, pinyin_spans(folded, rule.terms))
        for pattern in rule.patterns:  # regexes cannot skip separators: also try the compacted text
            spans += _regex_spans(pattern, folded) + _regex_spans(pattern, compacted)
        fine: dict[tuple[int, int], bool] = {}  # per sentence: whether an `unless` regex matches it
        for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
            if inside.covers(start, end) or start < taken_end:
                continue
            if rule.whole_words and splits_a_word(folded.source, start, end):
                continue
            if _mentioned_not_used(folded.source, start, end, rule.category, sentences):
                if rejected is not None:
                    rejected.append((start, end, rule.category))
                continue
            if rule.id == "brand.competitor" and _neutral_rival(folded.source, start, end):
                taken_end = max(taken_end, end)  # the short name inside it (青禾 in 青禾理财) is the same one
                continue
            if rule.category in _WORDING_CATEGORIES and _STREET_AFTER.match(folded.source, end):
                continue  # part of a street's name: 状元 in "状元桥路88号"
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

    def rule_findings(
        self, text: str, field: str | None = None, rejected: list[tuple[int, int, str]] | None = None
    ) -> list[ComplianceFinding]:
        """Rule packs, brand terms, required spellings, personal data, secrets and injected text;
        ``rejected`` as in :meth:`rule_hits`."""
        folded = fold(text)
        # Harmless phrases of the language and required disclaimers are never violations.
        exempt = _original_spans(folded, find_spans(folded, self.policy.exceptions + self.policy.disclaimers))
        compacted = compact(folded)
        sentences = SentenceIndex(text)
        hits: list[Hit] = []
        for rule in self.policy.rules:
            hits += self.rule_hits(folded, compacted, rule, exempt, sentences, rejected)
        for term in self.policy.required_terms:
            for start, end in find_spans(folded, [term]):
                a, b = folded.span(start, end)
                written = text[a:b]
                if written == term or _in_address(text, a, b) or traditional_form(written, term, text):
                    continue
                # the name as a hashtag: "#TidewaterCoffeeRoasters" for "Tidewater Coffee Roasters"
                if a > 0 and text[a - 1] == "#" and written.casefold() == re.sub(r"\s+", "", term).casefold():
                    continue
                if written in self.policy.required_terms:
                    continue  # another of the brand's own spellings ("麦香坊" and "麥香坊" both listed)
                hits.append(
                    Hit(
                        "brand.required_spelling",
                        "required_term",
                        "block",
                        (a, b),
                        written,
                        f"{written!r} must be written {term!r}",
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
        supported: list[tuple[int, int]] | None = None,
        topic: str | None = None,
    ) -> list[ComplianceFinding]:
        """Claims no passage supports (with the evidence considered), or unverifiable without evidence.

        ``mask``: spans that are not claims (disclaimers, contact data, markup), blanked before extraction.
        ``supported``: if given, the spans of the claims the evidence supports are appended to it.
        ``topic``: the one product the whole piece names (:func:`policy.facts.sentence_subjects`).
        """
        chars = list(text)
        for start, end in mask:
            chars[start:end] = " " * (end - start)
        claims = [
            dataclasses.replace(claim, text=text[claim.span[0] : claim.span[1]])
            for claim in extract_claims("".join(chars))
        ]
        if not self.check_claims:
            return []
        awards = (
            self._award_findings("".join(chars), text, field) + self._result_findings(text, field)
            if self.evidence is not None
            else []
        )
        if not claims:
            return awards
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
        findings = awards
        subjects = sentence_subjects(text, getattr(self.evidence, "products", {}), topic)
        for result in link_claims(claims, self.evidence):
            if result.supported:
                mismatched = self._bindings(result, field, subject_at(subjects, result.claim.span[0]))
                findings += mismatched
                if not mismatched and supported is not None:
                    supported.append(result.claim.span)
                continue
            substantive = bool(set(result.claim.kinds) & _SUBSTANTIVE)
            figure_rule = "claims.unsupported_figure" if substantive else FACT_RULE
            if set(result.claim.kinds) & _TERMS or _PRICE.search(fold_str(result.claim.text)):
                figure_rule = OFFER_RULE
            elif set(result.claim.kinds) & _DETAILS:
                figure_rule = DETAIL_RULE
            against = _contradicting(result)
            if against:
                figure_rule = CONTRADICTED_RULE
                result = dataclasses.replace(
                    result,
                    reason=f"{result.reason}; {', '.join(against)} gives another figure for the same measure",
                )
            offer = figure_rule in (OFFER_RULE, DETAIL_RULE)
            # In generated copy an effect on health, money or learning that no document states is made
            # up, however the classifier reads the sentence ("improve overall skin health", "known for
            # their soothing properties": Clearleaf, stop 40, delivered with a warning).
            effect = (
                not result.missing_figures
                and not offer
                and "unsupported_claim" in self.rules_stand
                and bool(set(result.claim.kinds) & _EFFECTS)
            )
            findings.append(
                ComplianceFinding(
                    rule_id=figure_rule
                    if result.missing_figures or offer
                    else EFFECT_RULE
                    if effect
                    else "claims.unsupported",
                    category="unsupported_claim",
                    # An offer or policy term is the brand's own fact: ``fact_severity`` (block in
                    # campaigns, where a model may have made it up; warn when people's copy is checked),
                    # unless it gives a price the documents do not, where they give prices: a wrong
                    # price. A figure in a substantive claim needs a source whoever wrote it.
                    severity=self.fact_severity
                    if offer and not (result.missing_figures and self._wrong_price(result.claim.text))
                    else "block"
                    if result.missing_figures or effect
                    else (self.claim_severity if substantive else "warn"),
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

    def _award_findings(self, masked: str, text: str, field: str | None) -> list[ComplianceFinding]:
        """Awards ``masked`` (the text with its non-claims blanked) says were won that no passage or brand
        fact names (:func:`policy.claims.unstated_awards`): block, whoever wrote it."""
        return [
            ComplianceFinding(
                rule_id=AWARD_RULE,
                category="unsupported_claim",
                severity="block",
                explanation=f'an award ("{name}") that no document names',
                field=field,
                span=(start, end),
                matched=text[start:end],
                suggestion="name only awards the documents state, as they state them, or remove it",
                legal_reference=_SUBSTANTIATION,
            )
            for start, end, name in unstated_awards(masked, self._evidence_texts())
        ]

    def _result_findings(self, text: str, field: str | None) -> list[ComplianceFinding]:
        """Study results ``text`` restates without their figures (:func:`policy.claims.unreported_results`):
        block, whoever wrote it."""
        return [
            ComplianceFinding(
                rule_id=RESULT_RULE,
                category="unsupported_claim",
                severity="block",
                explanation=f'the documents give "{said}" only as what a share of a study\'s participants '
                "said; stated without its figure it reads as a fact or a testimonial",
                field=field,
                span=(start, end),
                matched=text[start:end],
                suggestion=f'give the result as the documents do (the share who said "{said}", and who they '
                "were), or leave it out",
                legal_reference=_SUBSTANTIATION,
            )
            for start, end, said in unreported_results(text, self._evidence_texts())
        ] + [
            ComplianceFinding(
                rule_id=RESULT_RULE,
                category="unsupported_claim",
                severity="block",
                explanation=f'the documents give this share for "{said}", not for what the copy says',
                field=field,
                span=(start, end),
                matched=text[start:end],
                suggestion=f'give the share with its own result ("{said}") and who said it, or leave it out',
                legal_reference=_SUBSTANTIATION,
            )
            for start, end, said in misquoted_results(text, self._evidence_texts())
        ]

    def _evidence_texts(self) -> list[str]:
        """The evidence's passage texts and brand facts (none without evidence)."""
        passages = getattr(self.evidence, "passages", [])
        return [*(t for _, t in passages), *getattr(self.evidence, "facts", [])]

    def _wrong_price(self, claim: str) -> bool:
        """Whether ``claim`` gives an amount of money while the evidence states prices of its own."""
        return bool(_PRICE.search(fold_str(claim))) and any(
            _PRICE.search(fold_str(t)) for t in self._evidence_texts()
        )

    def contact_findings(
        self,
        text: str,
        field: str | None = None,
        skip: list[tuple[int, int]] = (),  # type: ignore[assignment]
    ) -> list[ComplianceFinding]:
        """E-mail addresses and phone numbers that neither ``compliance.allowed_contacts`` nor the evidence
        (passages, brand facts) gives: a way to reach the brand that the model made up. Needs evidence;
        ``skip``: spans already reported (as someone's personal data)."""
        if self.evidence is None or not self.check_claims:
            return []
        sources = [*self._evidence_texts(), *self.policy.allowed_contacts]
        known = {key for source in sources for _, key in contacts(fold(source))}
        found = []
        for (start, end), key in contacts(fold(text)):
            if same_contact(key, known) or any(a < end and start < b for a, b in skip):
                continue
            found.append(
                ComplianceFinding(
                    rule_id=UNKNOWN_CONTACT_RULE,
                    category="unsupported_claim",
                    severity=self.fact_severity,
                    explanation=f"{text[start:end]!r} is in none of the brand's documents nor in "
                    "compliance.allowed_contacts: readers would write or call a made-up address",
                    field=field,
                    span=(start, end),
                    matched=text[start:end],
                    suggestion="give only the contacts the brand publishes, or none",
                )
            )
        return found

    def feature_findings(
        self, text: str, field: str | None = None, topic: str | None = None
    ) -> list[ComplianceFinding]:
        """Sentences that give a product a phrase only another product's sheet has, or give every product
        one that only some have (:func:`policy.facts.feature_conflicts`), with ``fact_severity``.
        ``topic``: the one product the whole piece names, when ``text`` is one of its fields."""
        products = getattr(self.evidence, "products", {}) if self.check_claims else {}
        if len(products) < 2:
            return []
        assert self.evidence is not None
        sheets = {line for name, lines in products.items() for line in [name, *lines]}
        general = [fact for fact in self.evidence.facts if fact not in sheets]
        passages = getattr(self.evidence, "passages", [])
        rows = rows_of([passage for _, passage in passages])
        found = []
        for start, end, about in sentence_subjects(text, products, topic):
            sentence = text[start:end]
            if sentence.lstrip().startswith("#"):
                continue
            conflicts = feature_conflicts(sentence, products, rows, general, about)
            if conflicts:
                found.append(
                    ComplianceFinding(
                        rule_id=FEATURE_MISMATCH_RULE,
                        category="unsupported_claim",
                        severity=self.fact_severity,
                        explanation="; ".join(conflicts),
                        field=field,
                        span=(start, end),
                        matched=sentence,
                        suggestion="say of each product only what its own sheet and documents say",
                        legal_reference=_SUBSTANTIATION,
                    )
                )
        return found

    def _bindings(self, result: ClaimCheck, field: str | None, about: str | None) -> list[ComplianceFinding]:
        """A supported claim whose figures the evidence states, but for another case, customer or product
        (:mod:`policy.facts`: a refund share from another row of the table, the adult price for a child,
        one product's warranty on another): one finding per kind, with ``fact_severity``. ``about``: the
        product the claim's paragraph speaks of, for a claim that names none."""
        assert self.evidence is not None
        products = getattr(self.evidence, "products", {})
        rows = rows_of([c.text for c in result.considered] + list(self.evidence.facts))
        found = []
        for rule_id, conflicts in (
            (CONDITION_MISMATCH_RULE, condition_conflicts(result.claim.text, rows)),
            (PRODUCT_MISMATCH_RULE, product_conflicts(result.claim.text, rows, products, about)),
        ):
            if conflicts:
                # The right row for the claim's own case, from the passages only (the brand facts also
                # hold the customer's question, which is no statement of the documents).
                passage_rows = rows_of([c.text for c in result.considered])
                right = (
                    rows_for_case(result.claim.text, passage_rows)
                    if rule_id == CONDITION_MISMATCH_RULE
                    else []
                )
                found.append(self._mismatch(rule_id, result, conflicts, field, right))
        return found

    def _mismatch(
        self, rule_id: str, result: ClaimCheck, conflicts: list[str], field: str | None, right: list[str]
    ) -> ComplianceFinding:
        """A claim whose figures the evidence states, but for another case (:mod:`policy.facts`); the fix
        quotes ``right``, the row for the claim's own case, when one matches."""
        return ComplianceFinding(
            rule_id=rule_id,
            category="unsupported_claim",
            severity=self.fact_severity,
            explanation="; ".join(conflicts),
            field=field,
            span=result.claim.span,
            matched=result.claim.text,
            suggestion=f'for this case the documents say: "{right[0]}"; give that figure'
            if right
            else "give the figure the documents state for this case, product and customer",
            legal_reference=_SUBSTANTIATION,
            evidence=[
                EvidenceRef(passage=c.id, score=round(c.score, 3), supports=False) for c in result.considered
            ],
        )

    def topic_of(self, fields: Iterable[str]) -> str | None:
        """The one product that the fields of a piece name between them (``None``: none, or several), for
        :meth:`check`'s ``topic``."""
        products = getattr(self.evidence, "products", {}) if self.check_claims else {}
        named = mentioned_products("\n".join(fields), products) if products else set()
        return next(iter(named)) if len(named) == 1 else None

    def _speaks_of_the_brand(self, text: str) -> bool:
        """Whether ``text`` names the brand (a required term) and no product: it speaks of the brand as a
        whole, whatever product the rest of its piece names ("青屿少儿编程为 6 至 14 岁的孩子开设小班编程课"
        as the description of an ad on the 6-to-8 class, stop 53's Qingyu ad: the ages are the brand's)."""
        products = getattr(self.evidence, "products", {})
        folded = fold_str(text)
        named = any(fold_str(term).strip() in folded for term in self.policy.required_terms if term.strip())
        return named and not mentioned_products(text, products)

    def check(self, text: str, field: str | None = None, topic: str | None = None) -> list[ComplianceFinding]:
        """All findings for ``text``, ordered by position. ``topic``: the one product of the piece that
        ``text`` is a field of (its sentences that name none are about it: :meth:`feature_findings`).

        Raises :class:`~core.errors.InputError` for a text over :data:`MAX_CHECK_CHARS` characters.
        """
        _check_size(text)
        if topic is not None and self._speaks_of_the_brand(text):
            topic = None
        rejected: list[tuple[int, int, str]] = []
        found = self.rule_findings(text, field, rejected) + self.markup_findings(text, field)
        folded = fold(text)
        mask = [folded.span(a, b) for a, b in find_spans(folded, self.policy.disclaimers)]
        mask += [f.span for f in found if f.span and f.category in _NOT_CLAIMS]
        mask += contact_spans(folded)  # the brand's own hotline is not a figure to substantiate
        mask += reference_spans(folded)  # nor is an order, tracking or licence number
        backed: list[tuple[int, int]] = []
        found += self.claim_findings(text, field, mask, backed, topic)
        found += self.feature_findings(text, field, topic)
        found += self.contact_findings(text, field, [f.span for f in found if f.category == "pii" and f.span])
        if self.semantic is not None:
            found = self._layered(text, field, found, backed, rejected)
        return sorted(found, key=lambda f: (f.span or (0, 0), f.rule_id))

    def _layered(
        self,
        text: str,
        field: str | None,
        found: list[ComplianceFinding],
        backed: list[tuple[int, int]] = (),  # type: ignore[assignment]
        rejected: list[tuple[int, int, str]] = (),  # type: ignore[assignment]
    ) -> list[ComplianceFinding]:
        """Merge the semantic layer (and the adjudicator) into the rules' findings, sentence by sentence.

        Per sentence and category: a rule finding gets the classifier's score; a disputable rule
        finding in a sentence the classifiers score below ``review`` in every category is a
        disagreement; with no rule finding, a score
        at or above ``block`` adds a semantic finding and one between ``review`` and ``block`` is
        uncertain. Disagreements and uncertain sentences go to the adjudicator in one batch; without
        one, rules stand and uncertain sentences get no finding (the band is wide: 97% of a category's
        violations score above ``review``, and so do many clean sentences). A sentence a rule already
        blocks gets no semantic finding besides its rules' (they carry the scores).

        Conditional rules (:data:`_CONDITIONAL`: what the claim check cannot find in the evidence, a
        competitor's name; a rule's ``needs_reading`` words, such as "healing") block only when the
        sentence also reads as their category: at or above ``block``, or in the uncertain band when the
        judge upholds them. Otherwise an unsupported figure
        has ``fact_severity`` and the others warn.

        A competitor the brand lists is conditional the same way when the brand sets the rule's
        severity to ``warn`` (the default is ``block``): a fair mention warns, a disparaging one blocks.
        ``backed``: spans of claims the evidence supports; a sentence whose claims are all backed is not
        an unsupported claim whatever it reads as.

        ``rejected``: spans (and categories) of rule matches the sentence mentions to reject them
        ("我们从不说“排毒”这类词", "凡是宣传“躺赚”的理财，多半是骗局", "we can't promise a band 8"). The
        classifiers read such a sentence as the claim it rejects (four of the tenth blind set's clean
        sentences); in it, the rejected categories and the unsupported-claim category score as if below
        ``review``, unless another rule blocks the sentence.
        """
        assert self.semantic is not None
        layer = self.semantic
        # A product's own name is no claim ("Niacinamide 10% Serum" read as a health claim: a Clearleaf
        # headline of 2026-12-05, seed 9, taken from the brand file); the rules still read it.
        products = list(getattr(self.evidence, "products", {}))
        names = {fold_str(n).strip() for n in products}
        names |= {form for forms in product_aliases(products).values() for form in forms}
        spans = [
            (a, min(b, a + _MAX_SCORED_CHARS))
            for a, b in sentence_spans(text)
            if not _SIGN_OFF_LINE.fullmatch(text[a:b].strip())
            and fold_str(text[a:b]).strip(_NAME_STRIP) not in names
        ]
        asked: list[tuple[Question, list[ComplianceFinding], SentenceScore, bool]] = []
        figurative = {
            r.id: {fold_str(t) for t in r.needs_reading} for r in self.policy.rules if r.needs_reading
        }
        pending = {  # decided below, by what the sentence reads as
            id(f)
            for f in found
            if _conditional(f, self.policy.brand_severity, self.rules_stand)
            or (f.layer == "rules" and fold_str(f.matched or "").strip() in figurative.get(f.rule_id, ()))
        }
        for sentence in layer.assess(spans, text):
            a, b = sentence.span
            here = [f for f in found if f.span and f.span[0] < b and f.span[1] > a and not f.fixed]
            uncertain: dict[str, float] = {}
            # Claims here that the evidence supports, and none it does not: a sourced statement.
            sourced = any(s < b and e > a for s, e in backed) and not any(
                f.category == "unsupported_claim" for f in here
            )
            documented = self._documented(sentence.text)
            # A rule is disputed only when the classifiers see nothing in the sentence, in any category.
            reads_clean = all(sentence.scores[c] < layer.thresholds(c)[0] for c in layer.categories)
            # A sentence a rule already blocks gets no second, semantic finding (its findings get scores).
            blocked = any(f.severity == "block" and id(f) not in pending for f in here)
            refuted = {c for s, e, c in rejected if s < b and e > a} if not blocked else set()
            if refuted:
                refuted.add("unsupported_claim")
                # ...and as running someone down, unless it compares ("unlike X that promises 'detox'")
                if not _COMPARES.search(sentence.text.casefold()):
                    refuted.add("competitor")
            for category in layer.categories:
                review, block = layer.thresholds(category)
                score = sentence.scores[category]
                if category in refuted:
                    score = min(score, review - 1e-3)
                mine = [f for f in here if f.category == category]
                for f in mine:
                    f.score = round(score, 3)
                conditional = [f for f in mine if id(f) in pending]
                # Asked only when the ruling can change something: in campaigns (fact_severity "block")
                # an unstated figure blocks whatever the judge says.
                judged = (
                    review <= score < block
                    and self.adjudicator is not None
                    and any(self._fallback(f) != "block" for f in conditional)
                )
                for f in conditional:
                    # A rival the brand lists, named in a sentence the classifier is unsure of, is
                    # running it down: the name is half the evidence.
                    named = f.rule_id == COMPETITOR_RULE and score >= review
                    if score >= block or named:
                        f.severity = "block"
                        if f.rule_id == COMPETITOR_RULE:
                            f.explanation += f"; reads as running it down (semantic score {score:.2f})"
                    elif not judged:
                        f.severity = self._below_review(f)
                if conditional and judged:
                    rules = tuple(sorted({f.rule_id for f in conditional}))
                    question = Question(
                        sentence.text, self.policy.locale, {category: score}, rules, "disagreement"
                    )
                    asked.append((question, conditional, sentence, True))
                disputed = [
                    f
                    for f in mine
                    if f.severity == "block"
                    and f.layer == "rules"
                    and id(f) not in pending
                    and f.rule_id not in self.policy.brand_severity  # the brand's decision stands
                    and category not in self.rules_stand
                ]
                if disputed and category in _DISPUTABLE and reads_clean and self.adjudicator is not None:
                    rules = tuple(sorted({f.rule_id for f in disputed}))
                    asked.append(
                        (
                            Question(
                                sentence.text, self.policy.locale, {category: score}, rules, "disagreement"
                            ),
                            disputed,
                            sentence,
                            False,
                        )
                    )
                if mine or blocked or (sourced and category == "unsupported_claim"):
                    continue
                if score >= review and documented:
                    # The brand's documents say it: a person may look, nothing blocks, no judge is asked.
                    if score >= block:
                        found.append(self._semantic_finding(sentence, category, score, field, "documented"))
                elif score >= block and self._cannot_read_as(category, sentence.text, sentence.text):
                    uncertain[category] = score  # the judge decides; without one there is no finding
                elif score >= block:
                    found.append(self._semantic_finding(sentence, category, score, field, "block"))
                elif score >= review and category != "unsupported_claim":
                    # Whether a claim has a source is the claim check's question, not the judge's (it
                    # does not see the evidence): the judge hears of it only through a claim rule.
                    uncertain[category] = score
            if uncertain and self.adjudicator is not None and not blocked:
                asked.append((Question(sentence.text, self.policy.locale, uncertain), [], sentence, False))
        if asked and self.adjudicator is not None:
            rulings = self.adjudicator.adjudicate([q for q, _, _, _ in asked])
            for (question, disputed, sentence, falls_back), ruling in zip(asked, rulings, strict=True):
                found += self._apply(question, disputed, sentence, ruling, field, falls_back)
        return found

    def _fallback(self, finding: ComplianceFinding) -> Severity:
        """Severity of a conditional rule's finding in a sentence that does not read as its category."""
        if finding.rule_id in (FACT_RULE, "claims.unsupported_figure"):
            return self.fact_severity
        return "warn"

    def _below_review(self, finding: ComplianceFinding) -> Severity:
        """:meth:`_fallback`, saying so on a competitor's mention."""
        if finding.rule_id == COMPETITOR_RULE:
            finding.explanation += _FAIR_MENTION
        return self._fallback(finding)

    def _documented(self, sentence: str) -> bool:
        """Whether one of the evidence's passages (the campaign's documents) says ``sentence`` in its own
        words: :data:`DOCUMENTED_COVERAGE` of its content words, at least :data:`DOCUMENTED_MIN_UNITS` of
        them, are that passage's. The semantic layer does not block such a sentence and the judge is not
        asked about it: a story blog of stop 45 retold Clearleaf's "made in an FDA-registered OTC drug
        facility in Ohio" (read as an endorsement by the state, 0.78) and "They started Clearleaf after
        Priya's sister … struggled to find products that listed what was actually in them" (read as running
        a rival down, 0.85), and lost both. The rules still read it. Evidence without passages (a whole
        brand index, ``brandforge check``) documents nothing."""
        passages = getattr(self.evidence, "passages", None) or []
        need = content_units(sentence)
        if len(need) < DOCUMENTED_MIN_UNITS:
            return False
        return any(len(need & _units(text)) >= DOCUMENTED_COVERAGE * len(need) for _, text in passages)

    def _semantic_finding(
        self,
        sentence: SentenceScore,
        category: str,
        score: float,
        field: str | None,
        severity: Severity | Literal["documented"],
    ) -> ComplianceFinding:
        review, block = self.semantic.thresholds(category) if self.semantic else (0.0, 0.0)
        where = self.policy.legal_references.get(category)
        if severity == "documented":
            reads = _READS_AS.get(category, category)
            why = (
                f"may read as {reads} (semantic score {score:.2f}, blocks from {block:.2f}), but the brand's "
                "documents say it in these words: a person should look"
            )
            severity = "warn"
        elif severity == "block":
            reads = _READS_AS.get(category, category)
            why = f"reads as {reads} (semantic score {score:.2f}, blocks from {block:.2f})"
        else:
            why = (
                f"may be {_READS_AS.get(category, category)} (semantic score {score:.2f}, uncertain between "
                f"{review:.2f} and {block:.2f}): a person should look, or run the judge"
            )
        return ComplianceFinding(
            rule_id=f"semantic.{category}",
            category=category,
            severity=severity,
            explanation=why,
            field=field,
            span=sentence.span,
            matched=sentence.text,
            suggestion=_FIX.get(category, "rewrite the sentence"),
            legal_reference=where,
            layer="semantic",
            score=round(score, 3),
        )

    def _cannot_read_as(self, category: str, sentence: str, span: str | None) -> bool:
        """Whether ``sentence`` cannot be a violation of ``category``, whatever a classifier score or a
        judge's ruling says: disparagement whose ``span`` names only the brand itself, with no other
        party in the sentence ("Wanderly 是一家专注小团慢旅行的旅行品牌" scored 0.85), or a guarantee
        in a sentence with no word of a promise, result, term or refund ("Wanderly 带你走进雨崩！",
        "跟 Wanderly 慢慢走一次雨崩"), or an endorsement by authority in a sentence that names no office,
        official, state body or act of endorsing (:data:`_AUTHORITY`, matched on the folded text)."""
        if category == "competitor":
            return self._own_name_only(sentence, span)
        if category == "state_endorsement":
            # "enameled by our partner foundry in Porto" (0.91): no authority, office or endorsement at all
            folded = fold(sentence)
            return not (_AUTHORITY.search(folded.text) or _AUTHORITY.search(compact(folded).text))
        if category == "finance_claim":
            # "1-year limited warranty on the knob" was ruled a finance claim: no money, return or rate
            folded = fold(sentence)
            return not (_MONEY.search(folded.text) or _MONEY.search(compact(folded).text))
        if category == "superlative":
            # "Order Now!" scored 0.74, "立即下单！" 0.62: a bare call to action ranks nothing
            return _call_to_action(sentence)
        return category == "guarantee" and not _PROMISE.search(sentence)

    def _own_name_only(self, sentence: str, span: str | None) -> bool:
        """Whether a disparagement ruling's ``span`` names the brand itself (a required term) in a
        sentence that brings in no other party (:data:`_OTHER_PARTY`)."""
        if not span:
            return False
        names = [t.casefold() for t in self.policy.required_terms if t]
        return any(n in span.casefold() for n in names) and not _OTHER_PARTY.search(sentence)

    def _apply(
        self,
        question: Question,
        findings: list[ComplianceFinding],
        sentence: SentenceScore,
        ruling: Ruling | None,
        field: str | None,
        conditional: bool = False,
    ) -> list[ComplianceFinding]:
        """Findings a ruling adds; rulings on disputed findings change those findings in place.
        ``conditional``: the findings are conditional rules' (they fall back to below-review severity)."""
        if findings:  # a disagreement over rule findings
            if ruling is None:
                for f in findings:
                    if conditional:
                        f.severity = self._below_review(f)
                        f.explanation += "; the judge could not decide"
                    else:
                        f.explanation += "; the judge could not decide, so the rule stands"
                return []
            for f in findings:
                f.rationale = ruling.rationale
                f.layer = "judge"
                if ruling.violation:
                    f.severity = "block"
                    f.explanation += f"; the judge upheld it: {ruling.rationale}"
                else:
                    f.severity = self._below_review(f) if conditional else "warn"
                    f.explanation += f"; the judge ruled it acceptable here: {ruling.rationale}"
            return []
        top = max(question.candidates, key=question.candidates.__getitem__)
        if ruling is None:
            finding = self._semantic_finding(sentence, top, question.candidates[top], field, "warn")
            finding.explanation += "; the judge could not decide"
            return [finding]
        if not ruling.violation or ruling.category is None:
            return []
        if self._cannot_read_as(ruling.category, sentence.text, ruling.span_text):
            return []
        span = _locate(sentence, ruling.span_text)
        reads = _READS_AS.get(ruling.category, "a violation")
        blocks = self.judge_blocks is None or ruling.category in self.judge_blocks
        explanation = f"the judge ruled it {reads}: {ruling.rationale}"
        if not blocks:
            explanation += "; the classifier was unsure and the judge alone does not block: a person decides"
        return [
            ComplianceFinding(
                rule_id=f"judge.{ruling.category}",
                category=ruling.category,
                severity="block" if blocks else "warn",
                explanation=explanation,
                field=field,
                span=span,
                matched=sentence.text[span[0] - sentence.span[0] : span[1] - sentence.span[0]],
                suggestion=_FIX.get(ruling.category, "rewrite the sentence"),
                legal_reference=self.policy.legal_references.get(ruling.category),
                layer="judge",
                score=round(question.candidates.get(ruling.category, question.candidates[top]), 3),
                rationale=ruling.rationale,
            )
        ]


# Words that bring another party into a sentence: a comparison, an allusion, a rival. A judge ruling of
# disparagement on a span that names only the brand itself, in a sentence with none of these, is the
# judge mistaking the brand for a competitor ("欢迎来到我们的品牌 Wanderly！" was ruled disparaging).
# A closing line alone ("Best,", "Warmly,", "祝好，") is no claim: "Best," scored 0.98 as a superlative.
# A term quoted to reject it is mentioned, not used ("我们不做“包过”承诺", "含“药妆”字样的物料",
# "we never say 'miracle'", "We don't sell 'insider' tips or 'leaked' papers"), and so is a wording
# answered "No" ("Is LedgerLeaf a neobank? No — …", "Risk-free? No investment is."). A banned word
# merely negated is still used ("not cheap"). Rule categories of wording only: never personal data,
# secrets, injected text, markup or a named competitor.
_QUOTE_PAIRS = {"“": "”", "「": "」", "『": "』", '"': '"', "'": "'", "‘": "’"}
# Quoted terms may come in a row ("我们从不说“排毒”“燃脂”这类词"): the ones before the hit are skipped.
_QUOTED_RUN = r"(?:[“\"「『‘'][^”\"」』’'\n]{1,12}[”\"」』’'][、，,和与及或\s]*)*"
_REJECTED_BEFORE = re.compile(
    rf"(?:不|没|别|非|无|未|禁|勿|免|下架|避免|拒绝)[\u4e00-\u9fff]{{0,4}}{_QUOTED_RUN}$|"
    r"\b(?:not|no|never|avoid|don't|doesn't|won't|isn't|aren't|can't|cannot|without|instead\s+of"
    r"|the\s+(?:word|term))(?:\s+[a-z'’-]+){0,6}\s*$"
)
# "“排毒”本身就是个伪概念" (a blind-set sentence of stop 41): the quoted term called a false notion.
_REJECTED_AFTER = re.compile(
    r"^(?:字样|一词|这个词|这类词|这些词|这样的词|等词|字眼|这种说法|的说法|说法|之类|这类|承诺|这回事|这种事|"
    r"\s*(?:is|are)\s+banned|"
    r"(?:本身)?(?:就)?(?:是|只是)(?:个|一个)?(?:伪|假|营销)|\s*(?:is|are) (?:a )?(?:myth|marketing))"
)
# A superlative the brand says it will not claim ("我们不敢说自己是最好的", "We can't claim to be the cheapest
# savings app"): the eleventh blind set's two clean superlative sentences, since stop 49.
_WONT_CLAIM = re.compile(
    r"(?:不敢|不能|不会|从不|不)(?:说|称|自称|标榜)(?:自己|我们)?(?:是)?$|"
    r"\b(?:can(?:'t|’t|not)|won(?:'t|’t)|wouldn(?:'t|’t)|don(?:'t|’t)|never)\s+(?:claim|say|pretend)\s+"
    r"(?:to\s+be|(?:that\s+)?we(?:'re|’re|\s+are))\s+(?:the\s+)?$"
)
# Any claim the brand says it will not make, in the clause before the hit: "We won't tell you our tea cures
# anything" (twelfth blind set).
_WONT_SAY = re.compile(
    r"\b(?:won(?:'t|’t)|will\s+not|never|don(?:'t|’t)|do\s+not|can(?:'t|’t|not))\s+(?:tell\s+you|claim|say|pretend)"
    r"\s+(?:that\s+)?(?:our|the|this|these|its?|we|any)?\s*(?:[a-z'’-]+\s+){0,3}$|"
    r"(?:不会|不敢|从不|不能|绝不)(?:告诉你|说|宣称|声称)[\u4e00-\u9fff]{0,6}$"
)
# "稳健型≠保本", "being regulated by the FCA doesn't mean the government endorses…": says what it is not
_NOT_EQUAL = re.compile(
    r"(?:≠|不等于|并不等于|不代表|不意味着)\s*$|\b(?:doesn't|doesn’t|does\s+not|don't|don’t|do\s+not)\s+mean\s+"
    r"(?:that\s+)?(?:[a-z'’]+\s+){0,4}$",
    re.IGNORECASE,
)
# A claim said to be impossible, or that nothing can make it ("There's no such thing as a risk-free
# investment", "没有任何机构能保证你上岸", "No tutor can guarantee a grade"), in the clause right before
# the hit: the rule packs list the plain negations ("不能保证", "not guaranteed"), not these.
_NOBODY_CAN = re.compile(
    r"\bno\s+such\s+thing\s+as\s+(?:an?\s+)?$|"
    r"\b(?:no\s+one|nobody|no\s+[a-z]+|nothing)\s+(?:can|could|will|would)\s+(?:ever\s+)?(?:truly\s+)?$|"
    # "No investment is risk-free" (thirteenth blind set)
    r"\bno\s+(?:[a-z'’-]+\s+){1,3}(?:is|are)\s+(?:ever\s+|truly\s+|completely\s+|totally\s+|entirely\s+)?$|"
    r"(?:没有(?:任何)?[\u4e00-\u9fff]{0,6}|谁都|谁也|任何[\u4e00-\u9fff]{0,6}都)"
    r"(?:能|可以|敢|会|不能|无法|不敢|没法|不可能|不会)"
    r"(?:保证|承诺|确保|担保)?(?:你|您|孩子|大家)?$|"
    r"(?:世上|世界上)?(?:没有|不存在)$"
)
# A required disclaimer or a referral to a doctor says what the product is not for: "本品为化妆品，不能代替
# 药物治疗皮肤疾病", "如果您正在接受痤疮药物治疗，建议先咨询医生", "not a substitute for medical treatment"
# (both blocked on the ninth blind set). The hit is in the clause the negation or the condition opens.
_DISCLAIMED = re.compile(
    r"(?:不能|不可|无法|不得|并非|不是|不用于|不宜|唔可以|唔能|唔系|唔係)(?:代替|替代|用于)?[\u4e00-\u9fff]{0,8}$|"
    r"\bnot\s+(?:a\s+)?(?:substitute|replacement)\s+for\s+(?:[a-z'’-]+\s+){0,3}$|"
    r"\bnot\s+(?:intended|meant)\s+to\s+[a-z ,]{0,40}$"
)
_UNDER_TREATMENT = re.compile(
    r"(?:如果|若|如)您?(?:正在|已在|目前)?(?:接受|使用|服用|患有|有)[\u4e00-\u9fff]{0,10}$|"
    r"\bif\s+you(?:'re|’re|\s+are)?\s+(?:currently\s+)?(?:being\s+treated\s+for|taking|on|using|have|"
    r"suffer\s+from)\s+(?:[a-z'’-]+\s+){0,3}$"
)
_SEE_A_DOCTOR = re.compile(
    r"咨询医生|遵医嘱|请先咨询|就医|\b(?:consult|ask|see|talk\s+to|speak\s+to)\s+(?:your|a)\s+"
    r"(?:doctor|gp|physician|dermatologist|pharmacist)\b"
)
# A quoted claim answered in the same sentence: "…can 'cure' diabetes: it can't" (thirteenth blind set).
_REBUTTED = re.compile(
    r"[:：—–]\s*(?:it|they|that|we|this)\s+(?:can(?:'t|’t|not)|doesn(?:'t|’t)|don(?:'t|’t)|won(?:'t|’t)|"
    r"isn(?:'t|’t)|aren(?:'t|’t)|does\s+not|do\s+not|will\s+not|is\s+not|are\s+not)\b|"
    r"[:：—–]\s*(?:no|nope)\b|[：—][\u4e00-\u9fff]{0,10}(?:不能|不会|不是|没有|不可能)",
    re.IGNORECASE,
)
# The claim asked about, in the clause before the hit: "whether oat drink can 'cure' diabetes",
# "“包过班”是不是真能包过"; with :data:`_REBUTTED` after it in the sentence, the answer is no.
_ASKED_WHETHER = re.compile(
    r"\b(?:whether|if)\s+(?:[a-z'’-]+\s+){0,6}['‘’\"“]?$|(?:是不是|是否|能不能|可不可以|会不会)[\u4e00-\u9fff“”\"]{0,8}$",
    re.IGNORECASE,
)
# A quoted term in a sentence that calls it a scam or warns against it ("凡是宣传“躺赚”的理财，多半是骗局",
# "Beware anyone selling 'leaked' IELTS papers: it's a scam"; both blocked on the tenth blind set).
# Since stop 49 (the eleventh blind set, then tuned on): "一律别信", "不要相信", "都是仿冒品", "根本没这回
# 事", "藏着坑", "请直接划走", "Scammers promise …", "walk away".
_WARNED_OFF = re.compile(
    r"骗局|诈骗|骗子|请勿轻信|不要轻信|别轻信|提高警惕|谨防|当心|并不存在|不存在|别信|不要信|不要相信|别相信|"
    r"仿冒|假冒|山寨|没这回事|藏着坑|有坑|坑人|划走|"
    r"\b(?:scam(?:s|mers?)?|fraud(?:ulent|sters?)?|beware|walk\s+away|don't\s+(?:fall|believe)"
    r"|do\s+not\s+(?:fall|believe))\b"
)
# A promise said not to be made, in the clause before the hit: "我们不能保证基金一定盈利", "we can't
# promise every student a band 8" (the rule packs list "不能保证" itself, not what follows it).
_PROMISE_DENIED = re.compile(
    r"(?:不能|无法|不会|不敢|并不|从不|从未|绝不|没法|不)(?:保证|承诺|担保|确保|打包票)[\u4e00-\u9fff\s]{0,12}$|"
    r"\b(?:can(?:not|'t|’t)|won(?:'t|’t)|will\s+not|do(?:n't|n’t|\s+not)|never)\s+(?:guarantee|promise)\s+"
    r"(?:that\s+|you\s+|anyone\s+|every(?:one)?\s+)?(?:[a-z0-9'’%-]+\s+){0,5}$"
)
_COMPARES = re.compile(
    r"\b(?:unlike|than|other\s+(?:brands?|companies|shops?|stores?)|competitors?|rivals?|some\s+brands?)\b|"
    r"别家|隔壁|某[\u4e00-\u9fff]|不像|同行|其他品牌|友商|比起|相比"
)
_STREET_AFTER = re.compile(r"[\u4e00-\u9fff]{0,2}(?:路|街|巷|大道|胡同|弄)\s*\d{1,5}\s*号")
_PROMISE_WORD = re.compile(r"保证|承诺|担保|确保|打包票|guarantee|promise", re.IGNORECASE)
_NEGATION_END = re.compile(
    r"(?:不能|无法|不会|不敢|并不|从不|从未|绝不|没法|不)$|\b(?:can(?:not|'t|’t)|won(?:'t|’t)|do(?:n't|n’t)|never|not)\s+$"
)
# What others claim, in a sentence that warns against it ("任何宣称保本保收益的产品都请提高警惕").
_CLAIMED_BY_OTHERS = re.compile(
    r"(?:宣称|号称|宣传|标榜|鼓吹|所谓|凡是(?:承诺|宣传|说)?|任何(?:承诺|保证|宣称|号称))[\u4e00-\u9fff]{0,4}[“\"「]?$|"
    r"\b(?:claim(?:s|ing)?|promis(?:e|es|ing)|selling|offering|advertis(?:es|ing)|touting)\s+(?:to\s+)?"
    r"(?:be\s+)?(?:you\s+)?(?:an?\s+)?['\"‘“]?$"
)
_ANSWERED_NO = re.compile(
    r"^\W{0,3}\?\s*no\b(?!\s+(?:doubt|question|wonder)\b)|"
    # "存进来保证不亏吗？」答案是不能保证"
    r"^[\u4e00-\u9fff]{0,2}[吗嘛么]?\s*[？?][」”\"]?\s*(?:答案是|其实|当然)?(?:不能|不是|不会|没有|不可能|否)"
)
_WORDING_CATEGORIES = frozenset(
    {
        "banned_term",
        "superlative",
        "guarantee",
        "health_claim",
        "finance_claim",
        "education_claim",
        "state_endorsement",
    }
)


def _quoted(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The quotation marks around ``text[start:end]`` (the opening one's index, the closing one's), each
    within 16 characters of it on its line; None when it is not quoted ("“保本保息”的说法" quotes "保本")."""
    for left in range(start - 1, max(-1, start - 17), -1):
        ch = text[left]
        if ch == "\n":
            return None
        closing = _QUOTE_PAIRS.get(ch)
        if closing is None:
            continue
        window = text[end : end + 16].split("\n")[0]
        inside = text[left + 1 : start]
        at = window.find(closing)
        if closing in inside or at < 0 or (ch != closing and ch in window[:at]):
            return None
        if ch in "'‘" and (
            (left > 0 and text[left - 1].isalnum()) or text[end + at + 1 : end + at + 2].isalnum()
        ):
            return None  # an apostrophe ("it's the best we've made"), not a quotation mark
        return (left, end + at)
    return None


def _mentioned_not_used(
    text: str, start: int, end: int, category: str, sentences: SentenceIndex | None = None
) -> bool:
    """Whether the hit ``text[start:end]`` is mentioned to be rejected rather than used (see above)."""
    if category not in _WORDING_CATEGORIES:
        return False
    text = simplified_in_place(text)  # the context words are matched in simplified Chinese
    quotes = _quoted(text, start, end)
    if quotes is not None:
        before = text[max(0, quotes[0] - 40) : quotes[0]].casefold()
        after = text[quotes[1] + 1 : quotes[1] + 24].casefold()
        if _REJECTED_BEFORE.search(before) or _REJECTED_AFTER.match(after):
            return True
        lo, hi = (sentences or SentenceIndex(text)).bounds(start, end)
        if _WARNED_OFF.search(text[lo:hi].casefold()):
            return True
        # a quoted claim asked about, the next sentence the answer ("有人说「稳赚不赔」？……这样的理财产品
        # 不存在。")
        if _REBUTTED.search(text[quotes[1] + 1 : (sentences or SentenceIndex(text)).bounds(start, end)[1]]):
            return True  # "whether oat drink can 'cure' diabetes: it can't"
        if re.match(r"[？?]", text[quotes[1] + 1 : quotes[1] + 2]):
            answer = text[quotes[1] + 2 : quotes[1] + 60].split("。")[0].split("\n")[0]
            if _WARNED_OFF.search(answer.casefold()) or _ANSWERED_NO.match("？" + answer):
                return True
    if _NOT_EQUAL.search(text[max(0, start - 24) : start]):
        return True
    if _ASKED_WHETHER.search(_clause_before(text, start)) and _REBUTTED.search(
        text[end : (sentences or SentenceIndex(text)).bounds(start, end)[1]]
    ):
        return True
    if category == "superlative" and _WONT_CLAIM.search(text[max(0, start - 32) : start].casefold()):
        return True
    clause = _clause_before(text, start)
    if _WONT_SAY.search(clause):
        return True
    if _NOBODY_CAN.search(clause) or _PROMISE_DENIED.search(text[max(0, start - 40) : start].casefold()):
        return True
    if _PROMISE_WORD.match(text, start) and _NEGATION_END.search(text[max(0, start - 8) : start].casefold()):
        return True  # the hit is the promise word itself: "也不承诺最低收益", "we don't guarantee results"
    if _CLAIMED_BY_OTHERS.search(clause):
        lo, hi = (sentences or SentenceIndex(text)).bounds(start, end)
        if _WARNED_OFF.search(text[lo:hi].casefold()):
            return True
    if category == "health_claim":
        if _DISCLAIMED.search(clause):
            return True
        sentence = text[max(0, start - 80) : end + 80].casefold()
        if _UNDER_TREATMENT.search(clause) and _SEE_A_DOCTOR.search(sentence):
            return True
    return bool(_ANSWERED_NO.match(text[end : end + 16].casefold()))


# A listed rival named as a plain fact: where the customer switches from, where the product is also sold,
# what it works with ("Switching from Northgate Bank? …", "同时在玉容坊线下门店有售", "Already using a
# Glowra serum? You can layer ours on top"); three of the ninth blind set's seven clean rival sentences
# were blocked for the name alone. Not when the sentence runs anyone down (:data:`_RUNS_DOWN`).
_RIVAL_BEFORE = re.compile(
    r"\b(?:switch(?:ing)?|mov(?:e|ing)|transfer(?:ring)?|coming|port(?:ing)?)\s+(?:over\s+)?from\s+"
    r"(?:an?\s+|the\s+|your\s+)?$|"
    r"\b(?:also\s+)?(?:sold|available|stocked|in\s+stock)\s+(?:at|in|on|through|via)\s+(?:an?\s+|the\s+|selected\s+)?$|"
    r"\b(?:compatible|works)\s+with\s+(?:an?\s+|the\s+|your\s+)?$|"
    r"\balready\s+(?:using|use|have|own)\s+(?:an?\s+|the\s+|your\s+)?$|"
    # working with what the customer already has: "alongside your school's Scholarfold study plan"
    r"\b(?:alongside|together\s+with|as\s+well\s+as)\s+(?:an?\s+|the\s+|your\s+)?(?:[a-z]+['’]s\s+)?$"
)
# two providers named side by side as a fact: "Copperwren and Stashwell both offer easy-access savers";
# "麦屿集和禾悦鲜是不是同一家公司——不是" (twelfth blind set)
_BOTH_AFTER = re.compile(r"^\s+both\b|^(?:是不是|是否|不是|并非)同一家|^是两个独立")
_RIVAL_ZH = re.compile(r"从$|(?:同时|也)?在$|兼容$|适配$|支持$")
_RIVAL_ZH_AFTER = re.compile(
    r"^[\u4e00-\u9fffA-Za-z]{0,8}?(?:转入|转过来|迁移|迁入|搬过来|换过来|导入|有售|销售|上架|可以买到|可购买|购买)"
)
_RUNS_DOWN = re.compile(
    r"\b(?:unlike|worse|inferior|cheap(?:er|o)?|junk|rip[\s-]?off|scam|fake|overpriced|vanish|beat|better\s+than|"
    r"tired\s+of|sick\s+of|fed\s+up|ditch|dump|stuck\s+with|fail(?:s|ed)?|hidden\s+fees?|"
    # an offer to the rival's customers is a conquest ad, not a plain fact ("Switching from Dermalux? Bring
    # your empty bottle for a discount." blocks in the first corpus)
    r"discount|deal|offer|bonus|cashback|reward|\d+\s?%\s+off)\b|优惠|折扣|打折|返现|立减|赠送|"
    r"不如|比不上|差劲|太差|坑|割韭菜|垃圾|智商税|冤枉|忽悠|骗|卡顿|老是|吐槽|踩雷|别再|受够"
)


def _neutral_rival(text: str, start: int, end: int) -> bool:
    """Whether a listed rival's name at ``text[start:end]`` is a plain fact (see :data:`_RIVAL_BEFORE`)."""
    text = simplified_in_place(text)
    clause = _clause_before(text, start)
    lo, hi = text.rfind("\n", 0, start) + 1, text.find("\n", end)
    if _RUNS_DOWN.search(text[max(lo, start - 120) : hi if hi >= 0 else end + 120].casefold()):
        return False
    if _RIVAL_BEFORE.search(clause) or _BOTH_AFTER.match(text[end : end + 12]):
        return True
    return bool(_RIVAL_ZH.search(clause) and _RIVAL_ZH_AFTER.match(text[end : end + 24]))


_CLAUSE_START = re.compile(r"[，。；;！？!?\n]|[.,](?=\s)")


def _clause_before(text: str, start: int) -> str:
    """The clause that ``text[start]`` is in, up to it (at most 48 characters back), case-folded."""
    return _CLAUSE_START.split(text[max(0, start - 48) : start])[-1].casefold()


_NAME_STRIP = " \t.,;:!?。，；：！？-–—"
_SIGN_OFF_LINE = re.compile(
    r"(?:best|best wishes|all the best|regards|best regards|kind regards|warm regards|warmly|cheers|thanks|"
    r"many thanks|thank you|sincerely|yours|yours truly|see you soon|talk soon|祝好|此致|敬礼|谢谢|感谢|"
    r"期待再见|下次见)\s?[,，.。!！]?",
    re.IGNORECASE,
)
# Words without which a sentence promises nothing: a promise or certainty, a result on a timetable, a
# refund or a forfeit if it fails. 97% of the guarantee violations in the training corpora and all in the
# blind sets have one (checked 2026-12-03); "Wanderly 带你走进雨崩！" has none.
_PROMISE = re.compile(
    r"保|证|确保|一定|肯定|必|包|承诺|绝对|百分|零|无|不会|没有|永|全|稳|准|退|赔|见效|有效|放心|安全|只要|就能|就会|立|"
    r"天|周|月|年|秒|晚|夜|不收|算我输|找我|兑|换现金|没效|不好使|\d"
    r"|\b(?:guarant\w*|ensur\w*|promis\w*|will|never|always|risk\w*|zero|no|every|sure|certain\w*|refund\w*|"
    r"money|results?|works?|instant\w*|overnight|days?|weeks?|nights?|safe\w*|proven|forever|can't|cannot|won't|"
    r"or your|stops?|you'll|you will|stay|keeps?|free|months?|years?)\b",
    re.IGNORECASE,
)
_AUTHORITY = re.compile(
    # Folded text (simplified Chinese, lower case). Broad on purpose: it only says when a sentence
    # *cannot* be a state or authority endorsement, so a word too many costs nothing.
    r"国|官|政|府|部|局|委|署|厅|办|院|会|中心|军|警|公安|干部|领导|省|市|县|镇|央视|联播|新华|人民|特供|"
    r"专供|特种|御|钦|推荐|力荐|力挺|点名|表扬|点赞|认证|认可|批准|指定|背书|保证|专家|协会|机构|大学|主席|"
    r"总理|首长|tui ?jian|guo ?jia"
    r"|\b(?:gov\w*|g0v\w*|ministr\w*|minister|officials?|officially|national|federal|state|agenc\w*|"
    r"department|dept|council|authorit\w*|army|navy|military|marines?|forces?|troops|soldiers|police|sheriff|"
    r"fda|usda|epa|ftc|fcc|sec|cdc|nih|who|nhs|irs|nasa|treasury|bank|reserve|president\w*|governor|mayor|"
    r"senat\w*|congress\w*|parliament\w*|embassy|city hall|white house|surgeon general|regulat\w*|"
    r"certif\w*|approv\w*|endors\w*|recommend\w*|trust\w*|licens\w*|accredit\w*|seal|royal\w*|"
    r"commission\w*|bureau|institut\w*|universit\w*|association|board|service|chosen|picked|issued|"
    r"backed|sanction\w*|authori[sz]\w*|award\w*|astronaut\w*|space|olympi\w*|team)\b"
)
_MONEY = re.compile(
    # Folded text. Broad on purpose, like _AUTHORITY: it only says when a sentence *cannot* be a promise
    # about money, returns or credit.
    r"钱|元|块|¥|￥|%|％|利|息|收益|回报|赚|赔|亏|本金|保本|理财|投资|基金|股|债|贷|信用|存|储蓄|财|资|金|分红|"
    r"增值|翻|倍|年化|稳赚|躺赚|涨|跌|币|保险|险|万|千|兑付|垫付|逾期|投顾|升值|保值|回本|收入|月入|年入|富|"
    r"li ?xi|shou ?yi"
    r"|\$|€|£|\b(?:money|cash|invest\w*|returns?|yields?|interest|profits?|income|earn\w*|gains?|capital|"
    r"principal|savings?|save|fund\w*|portfolio|stocks?|shares|bonds?|crypto\w*|bitcoin|coins?|tokens?|loans?|"
    r"credit|debt|apr|apy|rates?|wealth\w*|rich|dividends?|financ\w*|bank\w*|deposit\w*|pay\w*|"
    r"passive|grows?|growth|doubl\w*|risk\w*|lose|insur\w*|pension|retire\w*|tax\w*|dollars?|"
    r"pounds?|euros?|bucks|usd|rmb|cny|k|x|upside|downside|markets?|loss\w*|losing|trad\w*|apprecia\w*|"
    r"value|profit\w*|millionaire\w*|billionaire\w*|figures?|roi|paid|cashback|lucrative|fortune\w*|"
    r"rich\w*|afford\w*|salary|salaries|wages?|paycheck\w*|refund\w*)\b",
    re.IGNORECASE,
)
# A bare call to action: a verb of buying or booking and at most a few more words, no ranking word.
_CTA_START = re.compile(
    r"(?:立即|马上|现在|赶快|赶紧|快来|点击|欢迎|即刻)|(?:order|shop|book|buy|get|grab|try|call|visit|subscribe|"
    r"sign|join|reserve|discover|explore|learn|find|start|claim|download|contact|reply|click|tap)\b",
    re.IGNORECASE,
)
_RANKING = re.compile(
    # Folded text: full-width, styled and look-alike letters are plain here, zero-width characters gone.
    r"最|第一|首|顶|冠|王|唯一|之一|领先|无敌|巅峰|极致|独家|无与伦比|无可比拟|天花板|#|№|"
    r"\b(?:best|most|top|first|only|no|number|leading|ultimate|unbeat\w*|unrival\w*|unmatch\w*|"
    r"unparallel\w*|unsurpass\w*|world.?class|perfect\w*|finest|greatest|supreme|peerless|matchless|"
    r"incomparable|second to none)\b|est\b",
    re.IGNORECASE,
)


def _call_to_action(sentence: str) -> bool:
    """Whether ``sentence`` is only a short call to action ("Order now!", "Book today.", "立即下单！").

    Read on the folded and compacted text, so a ranking word in full-width or look-alike letters, or
    spelt with zero-width characters or letter by letter between, still counts as one."""
    bare = compact(fold(sentence.strip().strip("!！.。?？~～ "))).text.strip()
    if not bare or _RANKING.search(bare) or not _CTA_START.match(bare):
        return False
    cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in bare)
    return len(bare.split()) <= 4 and cjk <= 8


_OTHER_PARTY = re.compile(
    r"比|不像|不如|某|隔壁|别家|别人|其他|其它|同行|对手|那家|那个|那些|他们|人家|友商|市面上|别再|换成|还是选"
    r"|\b(?:than|unlike|other|others|rival|rivals|competitors?|certain|they|them|those|else|instead|"
    r"switch(?:ed)?|ditch|brand x)\b",
    re.IGNORECASE,
)


def _in_address(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is part of a URL, e-mail address or host name ("hearthline.example.com"
    keeps its lower case: a brand's required spelling does not apply there). Scans the surrounding
    run of non-space ASCII characters, so Chinese copy around it ("网站（wanderly.example）！", as the
    last resort writes the brand's site) ends it too; no regex."""
    left, right = start, end
    while left > 0 and not text[left - 1].isspace() and text[left - 1].isascii():
        left -= 1
    while right < len(text) and not text[right].isspace() and text[right].isascii():
        right += 1
    token = text[left:right].strip(_EDGE_PUNCTUATION)
    lowered = token.lower()
    if "@" in token or "://" in token or lowered.startswith("www."):
        return True
    host = token.split("/", 1)[0]
    labels = host.lower().split(".")
    return (
        len(labels) >= 2
        and host.rsplit(".", 1)[-1].islower()  # "Tidewater.Coffee" is a typo, not a host
        and all(label and all(c.isalnum() or c == "-" for c in label) for label in labels)
        and labels[-1].isalpha()
        and len(labels[-1]) >= 2
    )


_EDGE_PUNCTUATION = "\"'“”‘’()[]{}<>,.;:!?，。；：！？、（）《》「」"


def _locate(sentence: SentenceScore, words: str | None) -> tuple[int, int]:
    """The span of ``words`` inside the sentence (whitespace-insensitive), else the whole sentence."""
    if words:
        at = sentence.text.find(words.strip())
        if at >= 0:
            start = sentence.span[0] + at
            return start, start + len(words.strip())
    return sentence.span


def _contradicting(result: ClaimCheck) -> list[str]:
    """Passages close to the claim (cosine >= :data:`CONTRADICTS_SIMILARITY`) that state a figure of
    the same measure as one the claim gives and no passage states: "cancel 20 days before for a full
    refund" against a refund table that gives days and percentages, none of them 20 days for a full one."""
    units = dict(
        zip(result.claim.figures, result.claim.units or ("",) * len(result.claim.figures), strict=True)
    )
    measures = {units.get(f, "") for f in result.missing_figures} - {""}
    if not measures:
        return []
    # What each missing figure measures ("5 g of oat beta-glucan"): a passage giving another figure in
    # the same unit for the same thing contradicts it however loosely the sentences match as a whole
    # ("packs a hearty 5 g of oat beta-glucan to start your day" scores 0.50 against "contains 3 g of oat
    # beta-glucan": the eleventh blind set, since stop 49).
    missing = set(result.missing_figures)
    measured = [(u, what) for f, u, what in figures_measured(result.claim.text) if f in missing]
    return [
        c.id
        for c in result.considered
        if (c.score >= CONTRADICTS_SIMILARITY and measures & {u for _, u in figures_with_units(c.text)})
        or (
            c.score >= SAME_MEASURE_SIMILARITY
            and any(
                u == pu and len(what & pwhat) >= min(2, len(what))
                for u, what in measured
                for _, pu, pwhat in figures_measured(c.text)
            )
        )
    ]


OFFER_RULE = "claims.unsupported_offer"
"""A price, offer or policy term (refund, warranty, cancellation) with a figure no passage states: it
blocks whatever the sentence reads as, because an invented offer is a promise the brand must keep."""
_TERMS = frozenset(
    {"policy_term", "offer_term", "satisfaction", "promise", "price_value", "limited_time", "scarcity"}
)
DETAIL_RULE = "claims.unsupported_detail"
"""Where the product comes from ("sourced directly from local farmers"), that it is new ("our new
line", "新品"), that it is made to each customer's measure ("roasted to your taste preferences",
"私人定制") or how long it lasts ("lasts for 10 years", a warranty's term said as durability) when no
passage says so, or that a class can be joined at any time ("随时参加学习" for a live class): a descriptive
fact the brand would have to stand behind."""
_DETAILS = frozenset({"sourcing", "launch", "made_to_measure", "durability", "anytime"})
_PRICE = re.compile(r"[$¥€£]\s?\d|\d\s?(?:元|块钱|美元|欧元|英镑)|\b(?:usd|rmb|eur|gbp|dollars?|yuan)\b")
CONDITION_MISMATCH_RULE = "facts.condition_mismatch"
"""A figure the documents state, given for another condition (refund ladder row, adult vs child price)."""
PRODUCT_MISMATCH_RULE = "facts.product_mismatch"
"""A figure the documents state for another product than the one the sentence names."""
UNKNOWN_CONTACT_RULE = "facts.unknown_contact"
"""An e-mail address or phone number that neither the documents nor the brand's allowed contacts give."""
FEATURE_MISMATCH_RULE = "facts.feature_mismatch"

DOCUMENTED_COVERAGE = 0.9
"""Share of a sentence's content words one passage must have for the sentence to be that passage's words
(:meth:`ComplianceChecker._documented`). Retold sentences of stop 44's story blogs had 1.0; 0.9 leaves
out a documented sentence with a claim of the model's own appended ("…, the best chemists in the world")."""
DOCUMENTED_MIN_UNITS = 5
"""A sentence with fewer content words matches a passage by chance."""


@functools.lru_cache(maxsize=4096)
def _units(text: str) -> frozenset[str]:
    return frozenset(content_units(text))


"""A phrase only another product's sheet has, in a sentence about this product (or about every product)."""
CONTRADICTED_RULE = "claims.contradicted_figure"
"""A figure no passage states, where a passage on the same subject states another for that measure."""
CONTRADICTS_SIMILARITY = 0.6
SAME_MEASURE_SIMILARITY = 0.3
"""How close a passage must be to a claim for a figure of the same unit and the same measured words
(:func:`policy.claims.figures_measured`) to contradict the claim's."""
RESULT_RULE = "claims.result_without_figure"
"""A study result restated without its figure: the documents say "81% said skin felt smoother", the copy
"Serum felt smoother after using it." (a perception study told as a fact or a testimonial); or the study's
share given with another result ("81% … felt softer")."""

AWARD_RULE = "claims.unsupported_award"
"""An award the copy says was won that no document names ("winner of the 2024 Super Fund of the Year
award", "荣获国际美妆金奖"), or "award-winning" where no document mentions an award."""
FACT_RULE = "claims.unsupported_fact"
"""A figure no passage states, in a sentence that is no claim by its wording (a price, date, term)."""
EFFECT_RULE = "claims.unsupported_effect"
_EFFECTS = frozenset({"health_effect", "finance_effect", "education_effect"})
_CONDITIONAL = frozenset({FACT_RULE, "claims.unsupported_figure", "claims.unsupported", "claims.unverified"})
"""With the semantic layer, rules whose finding blocks only when the sentence also reads as their
category: what the claim check finds unsupported (or cannot check) must also read as a claim that
needs a source. (A listed competitor joins them only when the brand sets it to ``warn``: see
:func:`_conditional`.)"""
COMPETITOR_RULE = "brand.competitor"
_FAIR_MENTION = "; it does not read as running the competitor down: check the comparison is fair and sourced"


def _conditional(
    finding: ComplianceFinding, brand_severity: frozenset[str], rules_stand: frozenset[str]
) -> bool:
    """Whether ``finding`` blocks only when its sentence also reads as its category (:data:`_CONDITIONAL`).

    A listed competitor's name is conditional in people's copy unless the brand sets the rule's severity
    (``block``: any mention blocks; ``warn``: conditional everywhere): on the seventh blind set, 10 of 14
    neutral mentions of a listed rival ("also works with Kitepay cards") were blocked by the name alone.
    In generated copy (``competitor`` in ``rules_stand``) the model has no reason to name a rival, and any
    mention blocks."""
    if finding.rule_id == COMPETITOR_RULE:
        if COMPETITOR_RULE in brand_severity:
            return finding.severity == "warn"
        return "competitor" not in rules_stand
    return finding.rule_id in _CONDITIONAL


_MAX_SCORED_CHARS = 1000  # a longer "sentence" (a run-on line) is scored on its first 1,000 characters
# Rule categories the judge may overrule when the classifier reads the sentence as clean. Not
# injection, personal data, secrets, markup or brand lists: those detectors are exact, and a model
# reading an injected text must never be the one to wave it through.
_DISPUTABLE = frozenset(CATEGORIES) - {"prompt_injection"}
RULES_STAND_IN_CAMPAIGNS = _DISPUTABLE
"""Categories whose rule findings the judge may not clear in generated copy (:attr:`ComplianceChecker.
rules_stand`): every category it may clear in people's copy. That is the wording a legal reviewer stops
(superlative, competitor, guarantee, health, finance, education, authority) and the facts the judge
cannot rule on (it does not see the documents: it cleared "青屿为6-14岁的孩子开设图形化编程启蒙班"
against the sheet's 6–8 in stop 40). With it, an effect on health, money or learning no document states
blocks (:data:`EFFECT_RULE`). A rule's ``needs_reading`` words ("healing", "guaranteed") are still read
first: they block only when the sentence reads as their category."""
_READS_AS = {
    "superlative": "an absolute or superlative claim",
    "competitor": "a disparaging comparison with another party",
    "guarantee": "a guarantee of results",
    "health_claim": "a health or medical claim",
    "finance_claim": "a promise of financial returns or safety",
    "education_claim": "a promise of exam or admission results",
    "state_endorsement": "an endorsement by the state or an authority",
    "unsupported_claim": "a factual claim that needs a source",
    "prompt_injection": "an instruction addressed to the reviewer or the model",
}
_FIX = {
    "superlative": "drop the superlative or name the source of a ranking",
    "competitor": "describe your own product without running down another",
    "guarantee": "state what you offer (terms, refund policy) instead of promising results",
    "health_claim": "remove effects on health, symptoms or disease",
    "finance_claim": "remove promises of returns or safety of capital; add the risk statement",
    "education_claim": "remove promises of scores, admissions or refunds tied to results",
    "state_endorsement": "remove the authority's name or endorsement",
    "unsupported_claim": "cite the source or remove the figure",
    "prompt_injection": "remove the instruction; copy speaks to readers, not to reviewers",
}


_SUBSTANTIATION = "FTC Policy Statement on Advertising Substantiation; 《广告法》第四条、第十一条"
# Claims that need a source; an offer term alone ("free diagnostic") only warns unless it has a figure.
_SUBSTANTIVE = frozenset({"comparison", "health_effect", "finance_effect", "education_effect", "nutrition"})
_NOT_CLAIMS = frozenset({"pii", "secret", "unsafe_markup", "prompt_injection"})
