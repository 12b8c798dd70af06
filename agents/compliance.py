"""Compliance: deterministic checks, an evidence check on claims, fixes, and a verdict per piece.

Reads ``brand``, ``channels``, ``passages``, ``drafts``; writes ``pieces``.

Checks, in order, on every field of a draft:
1. deterministic rules — brand banned terms, competitor names, required-term spelling, PII (e-mail,
   phone, Chinese mobile and ID numbers), instruction-like text leaking from documents, the locale's
   rule pack (superlatives, state endorsement, guarantees, health effects: ``agents/rules/*.yaml``),
   channel limits;
2. evidence — every number in the piece must appear in a retrieved passage or the brand facts, and a
   model lists the piece's factual claims; a claim the model marks unsupported that is also not close
   (embedding similarity) to any retrieved passage is a finding.
Blocking findings go back to the copywriter (``fix_rounds`` times). Then last-resort fixes: required
spelling restored, extra hashtags dropped, over-long fields cut at a sentence/word boundary. The verdict
is derived from the findings: ``blocked`` if any blocking finding is unfixed, ``revised`` if a blocking
finding was fixed, else ``pass``. A hard violation never passes.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, create_model

from agents.base import (
    AgentParams,
    RunContext,
    StructuredOutputError,
    ask,
    list_of,
    one_of,
)
from agents.channels import ChannelSpec, fit_to_limit
from agents.copywriter import SendsBack
from agents.retriever import INJECTION_PATTERNS, QUARANTINE_MARK
from agents.state import CampaignState, ComplianceFinding, ComplianceResult, Draft, Piece, Severity
from knowledge.brand import Brand
from knowledge.chunking import keep_sentences, split_sentences
from knowledge.yamlio import load_model_cached

RULES_DIR = Path(__file__).parent / "rules"
_ZERO_WIDTH = re.compile(r"[\u200b-\u200f\u2060\ufeff\u00ad]")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\d)(?:\+?\d{1,3}[\s-]?)?(?:\(?\d{2,4}\)?[\s-]?)?\d{3,4}[\s-]?\d{4}(?!\d)")
_CN_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_CN_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_CANARY = re.compile(r"\bCANARY[-_][A-Za-z0-9]+", re.IGNORECASE)


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    category: str
    severity: Severity
    terms: list[str] = Field(min_length=1)
    exceptions: list[str] = Field(default_factory=list)
    explanation: str
    suggestion: str | None = None
    legal_reference: str | None = None


class RulePack(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pack: str
    locale: str
    description: str = ""
    rules: list[Rule]


def load_rule_packs(language: str, folder: Path = RULES_DIR) -> list[RulePack]:
    path = folder / f"{language}.yaml"
    return [load_model_cached(path, RulePack)] if path.exists() else []


def normalise(text: str) -> str:
    """Fold width, case and invisible characters so "Ｂｅｓｔ", "BEST" and "be\u200bst" all read "best"."""
    return _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text)).casefold()


def _term_pattern(term: str) -> re.Pattern[str]:
    norm = re.escape(normalise(term))
    if re.match(r"[\w#]", term[:1], re.ASCII) and term[:1].isascii():
        return re.compile(rf"(?<![\w]){norm}(?![\w])")
    return re.compile(norm)


def find_terms(text: str, terms: list[str], exceptions: list[str] = ()) -> list[tuple[int, int, str]]:  # type: ignore[assignment]
    """Spans of ``terms`` in ``text`` (after normalisation) not inside an exception phrase."""
    folded = normalise(text)
    if len(folded) != len(text):  # keep spans meaningful: fall back to matching on the folded text only
        text = folded
    allowed = [m.span() for e in exceptions for m in _term_pattern(e).finditer(folded)]
    hits = []
    for term in terms:
        for m in _term_pattern(term).finditer(folded):
            if not any(a <= m.start() and m.end() <= b for a, b in allowed):
                hits.append((m.start(), m.end(), text[m.start() : m.end()]))
    return hits


def deterministic_findings(
    brand: Brand, channel: ChannelSpec, draft: Draft, packs: list[RulePack]
) -> list[ComplianceFinding]:
    """Everything that can be decided without a model."""
    findings: list[ComplianceFinding] = []

    def add(
        field: str,
        rule_id: str,
        category: str,
        severity: Severity,
        message: str,
        span: tuple[int, int] | None = None,
        matched: str | None = None,
        **extra: Any,
    ) -> None:
        findings.append(
            ComplianceFinding(
                rule_id=rule_id,
                category=category,
                severity=severity,
                message=message,
                field=field,
                span=span,
                matched=matched,
                **extra,
            )
        )

    # A language's harmless phrases ("第一次", "best regards") are harmless whoever banned the word.
    exceptions = [e for pack in packs for rule in pack.rules for e in rule.exceptions]
    for spec in channel.fields:
        text = draft.fields.get(spec.name, "")
        for start, end, hit in find_terms(text, brand.banned_terms, exceptions):
            add(
                spec.name,
                "brand.banned_term",
                "banned_term",
                "block",
                f"banned term {hit!r}",
                (start, end),
                hit,
                suggestion=f"remove {hit!r} or say it another way",
            )
        for start, end, hit in find_terms(text, brand.competitors):
            add(
                spec.name,
                "brand.competitor",
                "competitor",
                "block",
                f"names competitor {hit!r}",
                (start, end),
                hit,
                suggestion=f"remove the mention of {hit!r}",
            )
        for term in brand.required_terms:
            for start, end, _ in find_terms(text, [term]):
                if text[start:end] != term:
                    add(
                        spec.name,
                        "brand.required_spelling",
                        "required_term",
                        "block",
                        f"{text[start:end]!r} must be written {term!r}",
                        (start, end),
                        text[start:end],
                        suggestion=f"write {term!r}",
                    )
        for pattern, rule_id, what in (
            (_EMAIL, "pii.email", "an e-mail address"),
            (_CN_ID, "pii.cn_id", "a national ID number"),
            (_CN_MOBILE, "pii.cn_mobile", "a mobile phone number"),
            (_PHONE, "pii.phone", "a phone number"),
        ):
            for m in pattern.finditer(text):
                if not any(
                    f.span and f.span[0] <= m.start() < f.span[1] for f in findings if f.category == "pii"
                ):
                    add(
                        spec.name,
                        rule_id,
                        "pii",
                        "block",
                        f"contains {what}",
                        m.span(),
                        m.group(),
                        suggestion="remove personal contact data",
                    )
        for pattern in (INJECTION_PATTERNS, _CANARY):
            for m in pattern.finditer(text):
                add(
                    spec.name,
                    "safety.injected_text",
                    "prompt_injection",
                    "block",
                    "contains text injected through a knowledge document",
                    m.span(),
                    m.group(),
                    suggestion="remove it",
                )
        if QUARANTINE_MARK in text:
            add(
                spec.name,
                "safety.injected_text",
                "prompt_injection",
                "block",
                "repeats quarantined text",
                suggestion="remove it",
            )
        for pack in packs:
            for rule in pack.rules:
                for start, end, hit in find_terms(text, rule.terms, rule.exceptions):
                    add(
                        spec.name,
                        rule.id,
                        rule.category,
                        rule.severity,
                        f"{rule.explanation} ({hit!r})",
                        (start, end),
                        hit,
                        suggestion=rule.suggestion,
                        legal_reference=rule.legal_reference,
                    )
        for message in spec.violations(text):
            add(spec.name, "channel.limit", "channel_limit", "block", message, suggestion="shorten it")
        for message in spec.shortfalls(text):
            add(spec.name, "channel.min_length", "channel_limit", "warn", message)
    return findings


_NOT_BY_SENTENCE = {"channel_limit", "required_term", "generation"}


def remove_offending_sentences(draft: Draft, findings: list[ComplianceFinding]) -> Draft:
    """Drop each sentence holding a blocking finding's matched text, unless that would empty its field."""
    fields = dict(draft.fields)
    for name, text in draft.fields.items():
        bad = [
            normalise(f.matched)
            for f in findings
            if f.field == name and f.matched and f.severity == "block" and f.category not in _NOT_BY_SENTENCE
        ]
        if not bad:
            continue
        cleaned = keep_sentences(text, lambda sentence: not any(b in normalise(sentence) for b in bad))  # noqa: B023
        if cleaned:
            fields[name] = cleaned
    return draft.model_copy(update={"fields": fields})


def unsupported_numbers(draft: Draft, evidence: str) -> list[ComplianceFinding]:
    """Numbers in the piece that appear in no retrieved passage and no brand fact."""
    known = {n.replace(",", "") for n in _NUMBER.findall(evidence)}
    out = []
    for name, text in draft.fields.items():
        for m in _NUMBER.finditer(text):
            value = m.group().replace(",", "")
            if value not in known:
                out.append(
                    ComplianceFinding(
                        rule_id="claims.unsupported_number",
                        category="unsupported_claim",
                        severity="block",
                        message=f"the number {m.group()!r} is not stated in any retrieved passage or brand "
                        "fact",
                        field=name,
                        span=m.span(),
                        matched=m.group(),
                        suggestion=f"remove {m.group()!r} or use a figure stated in the passages",
                    )
                )
    return out


_STRICT = ConfigDict(extra="forbid")


class ComplianceParams(AgentParams):
    fix_rounds: int = Field(1, ge=0, le=3, description="Revision rounds to fix blocking findings.")
    check_claims: bool = Field(True, description="Ask the model whether the passages support each claim.")
    max_claims: int = Field(6, ge=1, le=20, description="Sentences judged per piece (claim-like ones first).")
    unsupported_claims: Severity = Field(
        "block",
        description="Severity of an unsupported sentence with a hard fact (number, refund, guarantee...).",
    )
    paraphrase_similarity: float = Field(
        0.85, ge=0.0, le=1.0, description="A sentence this close to a retrieved passage counts as supported."
    )


class Compliance(SendsBack):
    name: ClassVar[str] = "compliance"
    reads: ClassVar[frozenset[str]] = frozenset({"brand", "channels", "passages", "drafts"})
    writes: ClassVar[frozenset[str]] = frozenset({"pieces"})
    roles: ClassVar[dict[str, str]] = {"claims": "compliance.claims@1", "revise": "copywriter.revise@1"}
    Params = ComplianceParams
    params: ComplianceParams

    def run(self, state: CampaignState, ctx: RunContext) -> None:
        packs = load_rule_packs(state.brand.language)
        for channel in state.channels:
            draft = state.drafts.get(channel.name)
            if draft is None:
                state.pieces.append(self._failed_piece(state, channel))
                continue
            ctx.progress(f"compliance: checking {channel.name}")
            state.pieces.append(self._check_piece(state, ctx, channel, draft, packs))

    def _failed_piece(self, state: CampaignState, channel: ChannelSpec) -> Piece:
        why = state.errors.get(channel.name, "no draft was produced")
        finding = ComplianceFinding(
            rule_id="pipeline.no_draft",
            category="generation",
            severity="block",
            message=f"no deliverable draft: {why}",
        )
        return Piece(
            channel=channel.name,
            fields={},
            citations=[],
            compliance=ComplianceResult(verdict="blocked", findings=[finding]),
            revisions=state.revisions.get(channel.name, []),
        )

    def findings(
        self, state: CampaignState, ctx: RunContext, channel: ChannelSpec, draft: Draft, packs: list[RulePack]
    ) -> list[ComplianceFinding]:
        found = deterministic_findings(state.brand, channel, draft, packs)
        found += unsupported_numbers(draft, _evidence_text(state))
        if self.params.check_claims:
            found += self._claim_findings(state, ctx, channel, draft)
        return found

    def _check_piece(
        self, state: CampaignState, ctx: RunContext, channel: ChannelSpec, draft: Draft, packs: list[RulePack]
    ) -> Piece:
        findings = self.findings(state, ctx, channel, draft, packs)
        seen: dict[tuple[str, str | None, str | None], ComplianceFinding] = {}
        for round_no in range(self.params.fix_rounds + 1):
            for f in findings:
                seen.setdefault((f.rule_id, f.field, f.matched), f)
            blocking = [f for f in findings if f.severity == "block"]
            if not blocking or round_no == self.params.fix_rounds:
                break
            requests = list(
                dict.fromkeys(f"{f.field}: {f.message}; {f.suggestion or 'fix it'}" for f in blocking)
            )
            draft = self.send_back(ctx, state, channel, draft, requests, by="compliance")
            findings = self.findings(state, ctx, channel, draft, packs)

        # Last resort, deterministic: restore required spellings, drop the sentences that still carry a
        # blocking finding (when the field keeps other text), then cut over-long fields at a boundary.
        draft = self._fix_spelling(state.brand, draft)
        draft = remove_offending_sentences(draft, self._standing(state, channel, draft, packs, findings))
        draft = self._fit_limits(channel, draft)
        final = self._standing(state, channel, draft, packs, findings)
        final_keys = {(f.rule_id, f.field, f.matched) for f in final}
        fixed = [
            f.model_copy(update={"fixed": True})
            for key, f in seen.items()
            if key not in final_keys and f.severity == "block"
        ]
        all_findings = final + fixed
        if any(f.severity == "block" and not f.fixed for f in all_findings):
            verdict = "blocked"
        elif fixed:
            verdict = "revised"
        else:
            verdict = "pass"
        valid = {p.id for p in state.passages}
        return Piece(
            channel=channel.name,
            fields=draft.fields,
            citations=[c for c in draft.citations if c in valid],
            compliance=ComplianceResult(verdict=verdict, findings=all_findings),  # type: ignore[arg-type]
            revisions=state.revisions.get(channel.name, []),
        )

    @staticmethod
    def _standing(
        state: CampaignState,
        channel: ChannelSpec,
        draft: Draft,
        packs: list[RulePack],
        model_findings: list[ComplianceFinding],
    ) -> list[ComplianceFinding]:
        """Findings on ``draft`` now: deterministic ones recomputed, model-judged claims from the last
        round kept while the sentence they quote is still there."""
        text = " ".join(draft.fields.values())
        found = deterministic_findings(state.brand, channel, draft, packs)
        found += unsupported_numbers(draft, _evidence_text(state))
        return found + [
            f for f in model_findings if f.rule_id == "claims.unsupported" and f.matched and f.matched in text
        ]

    @staticmethod
    def _fix_spelling(brand: Brand, draft: Draft) -> Draft:
        fields = dict(draft.fields)
        for name, text in fields.items():
            for term in brand.required_terms:
                text = re.sub(re.escape(term), term, text, flags=re.IGNORECASE)
            fields[name] = text
        return draft.model_copy(update={"fields": fields})

    @staticmethod
    def _fit_limits(channel: ChannelSpec, draft: Draft) -> Draft:
        fields = {spec.name: fit_to_limit(draft.fields.get(spec.name, ""), spec) for spec in channel.fields}
        return draft.model_copy(update={"fields": fields})

    def _claim_findings(
        self, state: CampaignState, ctx: RunContext, channel: ChannelSpec, draft: Draft
    ) -> list[ComplianceFinding]:
        sentences = claim_candidates(draft, self.params.max_claims)
        if not state.passages or not sentences:
            return []
        judgment = create_model(
            "JudgmentOut",
            __config__=_STRICT,
            passages=(list_of(one_of([p.alias for p in state.passages]), max_items=3), ...),
            supported=(bool, ...),
        )
        n = len(sentences)
        fields: dict[str, Any] = {"judgments": (list_of(judgment, min_items=n, max_items=n), ...)}
        try:
            out: Any = ask(
                ctx,
                state,
                agent=self.name,
                prompt=self.prompts["claims"],
                channel=channel.name,
                variables={"sentences": sentences},
                output=create_model("ClaimsOut", __config__=_STRICT, **fields),
                max_tokens=40 + 25 * n,
                max_repairs=self.params.max_repairs,
            )
        except StructuredOutputError:
            return []
        unsupported = [s for s, j in zip(sentences, out.judgments, strict=True) if not j.supported]
        if not unsupported:
            return []
        # A near-paraphrase of a retrieved passage is supported whatever the model said.
        embedder = ctx.index.embedder
        best = (embedder.embed(unsupported) @ embedder.embed([p.text for p in state.passages]).T).max(axis=1)
        findings = []
        for sentence, score in zip(unsupported, best.tolist(), strict=True):
            if score >= self.params.paraphrase_similarity:
                continue
            field = next((name for name, text in draft.fields.items() if sentence in text), None)
            findings.append(
                ComplianceFinding(
                    rule_id="claims.unsupported",
                    category="unsupported_claim",
                    # Hard facts (numbers, refunds, guarantees) block when unsupported; vaguer sentences warn.
                    severity=self.params.unsupported_claims
                    if _CLAIM_HINT.search(sentence.casefold())
                    else "warn",
                    message=f"no retrieved passage supports this claim (closest passage similarity "
                    f"{score:.2f}): {sentence!r}",
                    field=field,
                    matched=sentence,
                    suggestion="remove the claim or restate it exactly as the passages do",
                )
            )
        return findings


_CLAIM_HINT = re.compile(
    r"\d|%|％|guarantee|proven|clinically|certified|refund|free|保证|退|免费|认证|获得|唯一|only"
)


def _is_hard_fact(sentence: str) -> bool:
    return bool(_CLAIM_HINT.search(sentence.casefold()))


def claim_candidates(draft: Draft, limit: int) -> list[str]:
    """The sentences of a piece most likely to carry factual claims (numbers, refunds, guarantees) first."""
    sentences = [
        s for text in draft.fields.values() for line in text.splitlines() for s in split_sentences(line)
    ]
    sentences = [s for s in dict.fromkeys(sentences) if len(s) > 3 and not s.startswith("#")]
    ranked = sorted(sentences, key=lambda s: not _CLAIM_HINT.search(s.casefold()))
    return ranked[:limit]


def _evidence_text(state: CampaignState) -> str:
    brand = state.brand
    parts = [p.text for p in state.passages] + [brand.positioning, brand.audience]
    for product in brand.products:
        parts += [product.name, product.description, *product.facts]
    parts += [v for inputs in brand.channel_inputs.values() for v in inputs.values()]
    return "\n".join(parts)
