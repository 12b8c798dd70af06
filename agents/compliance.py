"""Compliance: the checker's findings on every piece, fixes, and a verdict per piece.

Reads ``brand``, ``channels``, ``passages``, ``drafts``, ``errors`` (and its channels' threads and
revisions); writes ``pieces`` (and ``trace``, ``threads``, ``revisions``). Its prompts serve the
``compliance.claims`` and ``copywriter.revise`` roles (:mod:`agents.roles`). Channels are checked through
:func:`agents.fanout.for_each_channel`, each on its own fork of the state; pieces come out in channel
order.

Every field of a draft goes through :class:`~policy.ComplianceChecker` (rule packs for the
brand's locale and industry, brand terms and spellings, personal data, secrets, injected text, markup
and links, claims linked to the retrieved passages: see ``policy``) plus the channel's limits.
Markup and links to hosts the brand does not allow are stripped first. Then a model judges the
claim-like sentences; a hard fact (number, refund, guarantee) it marks unsupported that is not a
near-paraphrase of a passage blocks.
With ``semantic`` (on by default) the checker also runs the semantic classifiers, and with ``judge``
(on by default) it puts the sentences they are unsure of, and the rules they read as clean, to the
model judge (:mod:`agents.judge`, prompt slot ``judge``):
each channel's rulings are traced into its fork and remembered across the rounds, so an unchanged
sentence is judged once. In generated copy a figure
the passages do not state blocks, whatever the sentence reads as.
The publishable-copy checks (:mod:`agents.quality`: endings, required terms, language, repetition,
length, conventions, template text) run beside the checker on every round, and a figure the passages
state for another case, customer or product blocks (:mod:`policy.facts`).
Blocking findings are sent back for revision (:mod:`agents.revision`, ``fix_rounds`` times). Then
last-resort fixes: required spelling restored, sentences that still carry a blocking finding dropped (or,
when their opening clause names the brand, cut before the offending clause), the later copy of a
repeated sentence or positioning line dropped, a
prose field's unfinished last sentence dropped, fields still over their limit asked once more for a
shorter complete wording (``shorten``), and what is still too long cut at a sentence, clause or word
boundary (a cut at a word boundary is a ``quality.fragment`` finding, which blocks). The verdict is
derived from the findings: ``blocked`` if any blocking finding is unfixed, ``revised`` if a blocking
finding was fixed, else ``pass``. A hard violation never passes. Each piece gets a scorecard of the
checks it passes (:mod:`agents.scorecard`).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable
from typing import ClassVar

from pydantic import Field

from agents.base import AgentParams, RunContext, StructuredOutputError, ask
from agents.channels import ChannelSpec, count_words, dangling_word, fit_with_cut
from agents.citations import aliases
from agents.fanout import for_each_channel
from agents.featured import featured_product
from agents.judge import JUDGE_PROMPT, ModelJudge
from agents.lengthen import lengthened, retold
from agents.quality import (
    QUALITY_RULES,
    QualityContext,
    answer_from_policy,
    back_the_subject,
    complete_alternative,
    cut_inferences,
    drop_foreign_hashtags,
    drop_pasted_labels,
    drop_repeats,
    drop_shared_labels,
    drop_stray_hashtags,
    facts_at_a_glance,
    fill_placeholders,
    finish_conventions,
    finish_fields,
    give_contacts,
    letter_body,
    main_product,
    name_a_product,
    name_the_brand,
    name_the_pronoun,
    one_register,
    policy_passages,
    quality_findings,
    replace_blocked_phrases,
    replace_duplicate_fields,
    restore_product_names,
    speak_as_the_brand,
    strip_citation_ids,
    undouble_characters,
    write_bare_facts,
)
from agents.revision import REVISION_READS, REVISION_WRITES, SendsBack
from agents.roles import CLAIMS, EXPAND, JUDGE, RETELL, ClaimsInputs, PromptSlot, claims_answer_model
from agents.scorecard import scorecard
from agents.state import (
    NO_DRAFT_RULE,
    CampaignState,
    ComplianceResult,
    Draft,
    Piece,
    fact_passages,
    undelivered_piece,
)
from agents.story import channel_story, passage_texts, story_titles
from core.errors import InputError
from knowledge.brand import Brand, Product
from knowledge.chunking import Passage, map_sentences, split_sentences
from policy import ComplianceChecker, Evidence, PassageEvidence, fold_str, load_policy
from policy.adjudication import Adjudicator, Remembering
from policy.checker import RULES_STAND_IN_CAMPAIGNS
from policy.claims import coverage
from policy.detectors import instruction_in
from policy.facts import mentioned_products
from policy.findings import ComplianceFinding, EvidenceRef, Severity
from policy.rules import CAMPAIGN_RULE_NAMESPACES
from policy.semantic import SemanticLayer, load_semantic


def checker_for(
    brand: Brand,
    evidence: Evidence | None = None,
    claim_severity: Severity = "warn",
    *,
    semantic: SemanticLayer | None = None,
    adjudicator: Adjudicator | None = None,
) -> ComplianceChecker:
    """The checker a campaign for ``brand`` is judged by (its locale's and industry's packs, its terms;
    the semantic layer and the judge when given). A figure its documents do not state always blocks in
    generated copy (``fact_severity="block"``): the model made it up; and the judge may not clear a rule's
    finding in any category (``rules_stand``: a superlative, a listed rival, a guarantee, a health, finance,
    education or authority claim, an unsupported fact): the model revises it instead. A severity the
    brand sets for a publishable-copy check must name one (:data:`agents.quality.QUALITY_RULES`)."""
    unknown = [
        n
        for n in brand.compliance.severity
        if n.startswith(CAMPAIGN_RULE_NAMESPACES) and n not in QUALITY_RULES
    ]
    if unknown:
        raise InputError(
            f"unknown rule id {unknown[0]!r}; the publishable-copy checks are: "
            f"{', '.join(sorted(QUALITY_RULES))}",
            source=brand.root / "brand.yaml" if brand.root else None,
            field="compliance.severity",
        )
    return ComplianceChecker(
        load_policy(brand.locale, brand.industry, brand),
        evidence,
        claim_severity,
        semantic=semantic,
        adjudicator=adjudicator,
        fact_severity="block",
        rules_stand=RULES_STAND_IN_CAMPAIGNS,
    )


def deterministic_findings(
    checker: ComplianceChecker, channel: ChannelSpec, draft: Draft, quality: QualityContext | None = None
) -> list[ComplianceFinding]:
    """Everything that can be decided without a model: the checker's findings, channel limits and, with
    a ``quality`` context, the publishable-copy checks (:mod:`agents.quality`)."""
    findings: list[ComplianceFinding] = quality_findings(quality, draft.fields) if quality else []
    # A phrase field of a one-product piece (an ad's description) that names no product is about the one
    # its other fields name; a prose field finds its own subjects (policy.facts.sentence_subjects).
    topic = checker.topic_of(draft.fields.values()) if channel.one_product else None
    for spec in channel.fields:
        text = draft.fields.get(spec.name, "")
        findings += checker.check(text, spec.name, None if spec.prose else topic)
        for message in spec.violations(text):
            findings.append(
                ComplianceFinding(
                    rule_id="channel.limit",
                    category="channel_limit",
                    severity="block",
                    explanation=message,
                    field=spec.name,
                    span=(0, len(text)),
                    suggestion=f"rewrite it as a complete {'text' if spec.prose else 'phrase'} within "
                    f"{spec.limits_text}; do not cut it off mid-phrase",
                )
            )
    return findings


_NOT_BY_SENTENCE = {"channel_limit", "required_term", "generation"}  # and every quality_* category


def remove_offending_sentences(
    draft: Draft, findings: list[ComplianceFinding], names: Iterable[str] = ()
) -> Draft:
    """Drop each sentence holding a blocking finding's matched text (a rule, claim or placeholder finding),
    and the sentences right after it in its paragraph that point back to it ("These results show…"),
    unless that would empty its field; a
    sentence whose opening clause is clean and names one of ``names`` (the brand) loses only the clauses
    from the offending one on (:func:`without_offending_clauses`)."""
    fields = dict(draft.fields)
    for name, text in draft.fields.items():
        bad = [
            fold_str(f.matched)
            for f in findings
            if f.field == name
            and f.matched
            and f.severity == "block"
            and f.category not in _NOT_BY_SENTENCE
            and (not f.category.startswith("quality_") or f.rule_id in _SENTENCE_QUALITY)
        ]
        if not bad:
            continue
        cleaned = _without_orphans(text, lambda sentence: without_offending_clauses(sentence, bad, names))  # noqa: B023
        if cleaned:
            fields[name] = cleaned
    return draft.model_copy(update={"fields": fields})


# A sentence that opens by pointing back at the one before: "These results demonstrate…" after the study
# sentence was dropped (a Clearleaf blog of 2026-12-03 kept it, pointing at nothing).
_BACK_REFERENCE = re.compile(
    r"(?:these|this|those|that|such|the)\s(?:results?|findings?|studies|study|survey|numbers?|figures?|data|"
    r"claims?|benefits?|ratings?|reviews?|outcomes?|improvements?)\b|that(?:'s|’s|\sis)\s|(?:this|that|it)\s(?:shows?|means|"
    r"proves?|demonstrates?|confirms?|indicates?|suggests?)\b|(?:这些|这项|这个|该|以上|上述|这一)(?:结果|数据|研究|调查|测试|发现|数字|"
    r"评价|成果|改善)|这(?:说明|表明|证明)",
    re.IGNORECASE,
)


def _without_orphans(text: str, change: Callable[[str], str | None]) -> str:
    """:func:`~knowledge.chunking.map_sentences`, paragraph by paragraph, also dropping a sentence that
    opens by pointing back (:data:`_BACK_REFERENCE`) at a sentence just dropped."""
    lines = []
    for line in text.split("\n"):
        dropped = False

        def step(sentence: str) -> str | None:
            nonlocal dropped
            if dropped and _BACK_REFERENCE.match(sentence.strip()):
                return None
            changed = change(sentence)
            dropped = not changed
            return changed

        lines.append(map_sentences(line, step) if line.strip() else "")
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# Quality findings a sentence holds whole: a placeholder ("您的订单号是：XXXXX。") goes with its sentence.
# A pointer to a contact the brand file does not list ("请访问我们的官方网站" for a brand with no site)
# goes too: give_contacts has already given every contact the brand has.
_SENTENCE_QUALITY = {
    "quality.placeholder",
    "quality.guideline_echoed",
    "quality.strategy_leaked",
    "quality.contact_missing",
    "quality.filler",
    "quality.posing_as_customer",
    "facts.story_added",
    "quality.other_product",
    "facts.invented_offering",
}
_CLAUSE = re.compile(r"[，；;]|(?<!\d),(?!\d)")  # not the comma of "$1,299"
_CLOSING_MARKS = "。！？!?.…；;”」』）)\"'"


def without_offending_clauses(sentence: str, bad: list[str], names: Iterable[str] = ()) -> str | None:
    """``sentence`` without the offending text ``bad`` (folded), or None to drop it. When the clauses
    before the first offending one are clean and name one of ``names`` (the brand), they are kept with
    the sentence's closing marks ("W 带你走进雨崩，这是最佳的路线！" -> "W 带你走进雨崩！"), so the brand
    mention survives; otherwise, or when the offending text spans clauses (a whole unsupported claim), the
    sentence goes: an opening clause that does not name the brand is too often a fragment ("With 20
    years of experience.")."""
    offending = [b for b in bad if b in fold_str(sentence)]
    if not offending:
        return sentence
    if any(_CLAUSE.search(b) for b in offending):
        return None
    ending = sentence[len(sentence.rstrip(_CLOSING_MARKS)) :]
    kept = ""
    for match in _CLAUSE.finditer(sentence):
        head = sentence[: match.start()]
        if any(b in fold_str(head) for b in bad):
            break
        kept = head
    folded = fold_str(kept)
    if (
        not kept.strip()
        or any(b in folded for b in bad)
        or not any(fold_str(n) in folded for n in names if n)
    ):
        return None
    return kept.rstrip() + ending


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
    semantic: bool = Field(
        True, description="Run the semantic classifiers (policy.semantic) besides the rules."
    )
    shorten: bool = Field(
        True,
        description="Ask once more, field by field, for shorter complete wordings of fields still over "
        "their limit, before cutting them (a cut at a word boundary leaves a fragment, which blocks).",
    )
    judge: bool = Field(
        True,
        description="Put sentences the classifiers are unsure of, and rules they disagree with, to the model "
        "judge (needs semantic).",
    )
    refill_paragraphs: int = Field(
        0,
        ge=0,
        le=4,
        description="A long field (a blog body) that the cuts left under its minimum, with nothing else "
        "blocking, gets up to this many paragraphs about the brand's products (the copywriter's `expand` "
        "prompt), checked like the rest; their offending sentences are dropped (0: none, the default: on "
        "the embedded model the two blogs it delivered in stop 42's seed-7 run were both judged "
        "unpublishable, stitched-together blurbs, where blocking them had said so).",
    )
    refill_short_prose: int = Field(
        1,
        ge=0,
        le=3,
        description="A prose field without sections but with a minimum (an e-mail body) that is still "
        "under it after revision, with nothing else blocking, gets up to this many paragraphs about the "
        "piece's product from its passages (the copywriter's `expand` prompt), checked like the rest (stop "
        "46: two of five e-mails were blocked at 22 and 47 words; asked to expand, the model returned them "
        "as they were).",
    )
    refill_story: int = Field(
        4,
        ge=0,
        le=8,
        description="A piece that retells a story (features: story, the blog) whose long field the cuts left "
        "under its minimum, with nothing else blocking, gets up to this many paragraphs, each retelling a "
        "passage of the story it does not tell yet (the copywriter's `retell` prompt), checked like the rest "
        "(0: none). Stop 48: the revisions took three story blogs of seed 10 from their drafts' length to "
        "258-291 words, and both blind reviewers rejected them for it.",
    )
    refill_headroom: float = Field(
        1.1, ge=1.0, le=2.0, description="Refill up to this multiple of the field's minimum."
    )


class Compliance(SendsBack):
    name: ClassVar[str] = "compliance"
    # the brief: which story a story piece retells, which product a refilled e-mail is about
    reads: ClassVar[frozenset[str]] = frozenset(
        {"brand", "brief", "channels", "passages", "drafts", "errors", "threads", *REVISION_READS}
    )
    optional_reads: ClassVar[frozenset[str]] = frozenset({"brief"})
    writes: ClassVar[frozenset[str]] = frozenset({"pieces", "trace", "threads", *REVISION_WRITES})
    slots: ClassVar[dict[str, PromptSlot]] = {
        "claims": PromptSlot(CLAIMS, "compliance.claims@1"),
        "judge": PromptSlot(JUDGE, JUDGE_PROMPT),
        "revise": SendsBack.REVISE_SLOT,
        "expand": PromptSlot(EXPAND, "copywriter.expand@2"),
        "retell": PromptSlot(RETELL, "copywriter.retell@1"),
    }
    Params = ComplianceParams
    params: ComplianceParams

    def run(self, state: CampaignState, ctx: RunContext) -> None:
        evidence = PassageEvidence(
            [(p.id, p.text) for p in fact_passages(state.passages)],
            ctx.index.embedder,
            facts=brand_facts(state.brand),
            products=brand_products(state.brand, ctx.index.all_passages()),
        )
        semantic = load_semantic() if self.params.semantic else None
        shared = checker_for(state.brand, evidence, semantic=semantic)  # stateless per check

        def check_channel(fork: CampaignState, channel: ChannelSpec) -> None:
            draft = fork.drafts.get(channel.name)
            if draft is None:
                fork.pieces.append(self._failed_piece(fork, channel))
                return
            ctx.progress(f"compliance: checking {channel.name}")
            checker = shared
            if semantic is not None and self.params.judge:  # each channel's judge traces into its fork
                judge = ModelJudge.for_run(
                    ctx, fork, agent=self.name, channel=channel.name, prompt=self.prompts.get("judge")
                )
                checker = dataclasses.replace(shared, adjudicator=Remembering(judge))
            fork.pieces.append(self._check_piece(fork, ctx, channel, draft, checker))

        for_each_channel(ctx, state, check_channel)

    def _failed_piece(self, state: CampaignState, channel: ChannelSpec) -> Piece:
        why = state.errors.get(channel.name, "no draft was produced")
        return undelivered_piece(
            state, channel.name, rule_id=NO_DRAFT_RULE, explanation=f"no deliverable draft: {why}"
        )

    def findings(
        self,
        state: CampaignState,
        ctx: RunContext,
        channel: ChannelSpec,
        draft: Draft,
        checker: ComplianceChecker,
        quality: QualityContext | None = None,
    ) -> list[ComplianceFinding]:
        found = deterministic_findings(checker, channel, draft, quality)
        if self.params.check_claims:
            found += self._claim_findings(state, ctx, channel, draft)
        return found

    @staticmethod
    def _untold(
        draft: Draft, quality: QualityContext, names: list[str]
    ) -> tuple[Draft, list[ComplianceFinding]]:
        """``draft`` without the sentences the model added to the story it retells (``facts.story_added``,
        when it blocks), and those findings, as fixed. They are dropped, not sent back: asked to fix one,
        the 1.5B model rewrote the story around it (stop 45's Clearleaf blog made both founders "formulation
        chemists with a PhD"). A sentence that would empty its field stays, and is sent back."""
        added = [
            f
            for f in quality_findings(quality, draft.fields)
            if f.rule_id == "facts.story_added" and f.severity == "block"
        ]
        if not added:
            return draft, []
        draft, cut = cut_inferences(draft, added)
        kept = remove_offending_sentences(draft, [f for f in added if f not in cut], names)
        gone = [
            f.model_copy(update={"fixed": True})
            for f in added
            if f.matched and fold_str(f.matched) not in fold_str(kept.fields.get(f.field or "", ""))
        ]  # a conclusion cut from its sentence (cut_inferences) is among them
        return kept, gone

    @staticmethod
    def _sanitized(
        checker: ComplianceChecker, channel: ChannelSpec, draft: Draft
    ) -> tuple[Draft, list[ComplianceFinding]]:
        """Strip markup and links to hosts the brand does not allow; report what went, as fixed."""
        fields, found = dict(draft.fields), []
        for spec in channel.fields:
            text = draft.fields.get(spec.name, "")
            hits = checker.markup_findings(text, spec.name)
            if hits:
                fields[spec.name] = checker.sanitize(text)
                found += [h.model_copy(update={"fixed": True}) for h in hits if h.severity == "block"]
        return draft.model_copy(update={"fields": fields}), found

    def _check_piece(
        self,
        state: CampaignState,
        ctx: RunContext,
        channel: ChannelSpec,
        draft: Draft,
        checker: ComplianceChecker,
    ) -> Piece:
        documents = [p.text for p in fact_passages(state.passages)]
        policy = policy_passages(ctx, state, channel)
        story = channel_story(ctx.index, state, channel)  # what a story piece retells; its titles
        names = [state.brand.name, *state.brand.required_terms]

        def quality(d: Draft, cut_to_fit: frozenset[str] = frozenset()) -> QualityContext:
            return QualityContext.build(
                channel,
                state.brand,
                documents,
                cut_off=d.cut_off,
                cut_to_fit=cut_to_fit,
                policy=policy,
                story=bool(story),
            )

        earlier = state.revisions.get(channel.name, [])
        drafted = earlier[0].before if earlier and earlier[0].before else dict(draft.fields)
        draft, stripped = self._sanitized(checker, channel, draft)
        draft, untold = self._untold(draft, quality(draft), names)
        stripped += untold
        findings = self.findings(state, ctx, channel, draft, checker, quality(draft))
        seen: dict[tuple[str, str | None, str | None], ComplianceFinding] = {}
        for round_no in range(self.params.fix_rounds + 1):
            for f in findings:
                seen.setdefault((f.rule_id, f.field, f.matched), f)
            blocking = [f for f in findings if f.severity == "block"]
            if not blocking or round_no == self.params.fix_rounds:
                break
            requests = list(
                dict.fromkeys(f"{f.field}: {f.explanation}; {f.suggestion or 'fix it'}" for f in blocking)
            )
            draft = self.send_back(ctx, state, channel, draft, requests, by="compliance")
            draft, more = self._sanitized(checker, channel, draft)
            draft, untold = self._untold(draft, quality(draft), names)
            told = {(f.rule_id, f.field, f.matched) for f in stripped}
            stripped += more + [f for f in untold if (f.rule_id, f.field, f.matched) not in told]
            findings = self.findings(state, ctx, channel, draft, checker, quality(draft))

        # Last resort, deterministic: a label opening several headlines stays on the first; restore
        # required spellings and drop passage ids from the prose;
        # give the brand's own site, number or address where the copy sends the reader to one;
        # drop the sentences (or the clauses) that still carry a blocking finding, and the later copy of
        # a repeated sentence, phrase (long fields) or positioning line when the field keeps other text;
        # drop an unfinished last sentence; let the first "we" sentence name the brand when the piece
        # does not; cut over-long fields at a sentence or clause boundary (a headline only a word cut
        # would fit gets a complete phrase from the brand file); add the conventions still missing (a
        # full stop for a trailing clause mark, an e-mail's greeting and sign-off, the brand's hashtag);
        # a short field still saying what another says gets a phrase from the brand file instead.
        # A reply that still does not answer the customer from its passages becomes those passages'
        # rows, quoted. What that cannot make whole stays a finding.
        draft = give_contacts(
            channel,
            state.brand,
            speak_as_the_brand(
                state.brand,
                drop_pasted_labels(
                    state.brand,
                    fill_placeholders(
                        state.brand,
                        strip_citation_ids(
                            undouble_characters(
                                self._fix_spelling(state.brand, drop_shared_labels(channel, draft))
                            )
                        ),
                    ),
                ),
            ),
        )
        draft = write_bare_facts(state.brand, drop_stray_hashtags(channel, draft))
        draft = drop_foreign_hashtags(quality(draft), draft)
        standing = self._standing(checker, channel, draft, findings, quality(draft))
        draft = drop_repeats(remove_offending_sentences(draft, standing, names), standing, names)
        for _ in range(2):  # the check reports one repeat per field at a time
            again = drop_repeats(
                draft, self._standing(checker, channel, draft, findings, quality(draft)), names
            )
            if again == draft:
                break
            draft = again
        draft = replace_duplicate_fields(
            channel, draft, self._standing(checker, channel, draft, findings, quality(draft)), state.brand
        )
        draft = name_the_pronoun(quality(draft), finish_fields(channel, draft))
        draft = name_the_brand(
            draft, self._standing(checker, channel, draft, findings, quality(draft)), state.brand, channel
        )
        if self.params.shorten:
            draft = self._shorter(state, ctx, channel, draft)
        draft, cut = self._fit_limits(channel, state.brand, draft)
        draft = one_register(state.brand, finish_conventions(channel, state.brand, draft))
        final = self._standing(checker, channel, draft, findings, quality(draft, cut))
        # a story piece's title, if it must be replaced, says which story it retells
        titles = story_titles(state.brand.name, state.brand.language, story)
        draft, replaced = replace_blocked_phrases(channel, draft, final, state.brand, titles)
        if replaced:  # the headline replaced may have been the one naming the brand (stop 48's Tidewater ad)
            standing = self._standing(checker, channel, draft, findings, quality(draft, cut))
            draft = name_the_brand(draft, standing, state.brand, channel)
        # Last, so that no later step cuts it: a post or an e-mail that names nothing gains a product.
        named = back_the_subject(
            channel, state.brand, name_a_product(channel, state.brand, draft, final), titles
        )
        if replaced or named != draft:  # checked again only when a field changed
            draft, cut = named, cut - replaced
            final = self._standing(checker, channel, draft, findings, quality(draft, cut))
        improvised = next((f for f in final if f.rule_id == "facts.policy_not_used" and f.field), None)
        if improvised is None and state.brand.channel_inputs.get(channel.name) and channel.fields:
            # A reply to a customer that still cannot ship ("6,980 元/人 × 70% = 4,886 元": a figure no
            # document gives) gets the documents' own answer rather than no answer at all.
            reply = channel.fields[0].name
            improvised = next((f for f in final if f.severity == "block" and f.field == reply), None)
        answer = answer_from_policy(quality(draft)) if improvised else None
        if improvised and improvised.field and answer:  # the customer gets the documents' own answer
            draft = one_register(
                state.brand, draft.model_copy(update={"fields": {**draft.fields, improvised.field: answer}})
            )
            final = self._standing(checker, channel, draft, findings, quality(draft, cut))
        refilled = self._refill(state, ctx, channel, draft, final, story)
        if refilled is not None:  # checked like the rest; what still offends in the new text goes
            standing = self._standing(checker, channel, refilled, findings, quality(refilled, cut))
            draft = remove_offending_sentences(refilled, standing, names)
            for _ in range(3):  # the check reports one repeat per field at a time
                again = drop_repeats(
                    draft, self._standing(checker, channel, draft, findings, quality(draft, cut)), names
                )
                if again == draft:
                    break
                draft = again
            final = self._standing(checker, channel, draft, findings, quality(draft, cut))
        if self._short_only(channel, final):
            # still too short and nothing else wrong: the product's own facts, listed
            listed = facts_at_a_glance(channel, state.brand, draft, self._name_of(state, channel, draft))
            if listed != draft:
                draft = listed
                final = self._standing(checker, channel, draft, findings, quality(draft, cut))
        final = self._say_the_story_is_short(state, ctx, channel, final, story)
        final_keys = {(f.rule_id, f.field, f.matched) for f in final}
        fixed = [
            f.model_copy(update={"fixed": True})
            for key, f in seen.items()
            if key not in final_keys and f.severity == "block"
        ]
        all_findings = final + fixed + stripped
        if any(f.severity == "block" and not f.fixed for f in all_findings):
            verdict = "blocked"
        elif fixed or stripped:
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
            scorecard=scorecard(channel, state.brand, all_findings, model_claims=self.params.check_claims),
            drafted=drafted,
            inputs=dict(state.brand.channel_inputs.get(channel.name, {})),
        )

    def _refill(
        self,
        state: CampaignState,
        ctx: RunContext,
        channel: ChannelSpec,
        draft: Draft,
        final: list[ComplianceFinding],
        story: list[Passage],
    ) -> Draft | None:
        """The draft with paragraphs added to a long field (one with ``sections``: the blog body) that is
        too short to deliver after the cuts (``quality.too_short`` blocking) when nothing else blocks; None
        when there is nothing to refill or nothing was added. A piece that retells a ``story`` gets
        paragraphs retelling the passages of it the text does not tell yet (:func:`agents.lengthen.retold`,
        ``refill_story`` calls); a long field with nothing of that to add, paragraphs about the brand's
        products (``refill_paragraphs``, off by default). Stop 41's seed-7 run blocked three blogs of
        229-230 words (145 for Wanderly's) out of 307-438 drafted: the editor's cuts, not the drafts, made
        them short."""
        spec = next((f for f in channel.fields if f.sections and f.min_words), None)
        calls = self.params.refill_paragraphs
        if spec is None:  # an e-mail body: a prose field with a minimum and no sections
            spec = letter_body(channel)
            calls = self.params.refill_short_prose
        blocking = [f for f in final if f.severity == "block"]
        if spec is None or not blocking:
            return None
        if any(f.rule_id != "quality.too_short" or f.field != spec.name for f in blocking):
            return None
        if story and spec.sections and self.params.refill_story:
            longer = retold(
                ctx,
                state,
                agent=self.name,
                prompt=self.prompts["retell"],
                channel=channel,
                draft=draft,
                texts=passage_texts(story, ctx.index),
                headroom=self.params.refill_headroom,
                calls=self.params.refill_story,
                max_repairs=self.params.max_repairs,
            )
            if longer is not None:
                return longer
        if not calls:
            return None
        return lengthened(
            ctx,
            state,
            agent=self.name,
            prompt=self.prompts["expand"],
            channel=channel,
            draft=draft,
            headroom=self.params.refill_headroom,
            calls=calls,
            field=spec,
            max_repairs=self.params.max_repairs,
            featured=self._about(state, channel, draft),
        )

    @staticmethod
    def _say_the_story_is_short(
        state: CampaignState,
        ctx: RunContext,
        channel: ChannelSpec,
        final: list[ComplianceFinding],
        story: list[Passage],
    ) -> list[ComplianceFinding]:
        """``final`` with a story piece's ``quality.too_short`` saying so when the story itself, all of
        its prose, is under the field's minimum: no revision can reach it without inventing, and what the
        brand can do is add documents (an about page, a history). Stop 51's Clearleaf blog: its three
        customer documents with prose hold about 260 words of it, against the blog's 300."""
        if not story:
            return final
        words = count_words(" ".join(passage_texts(story, ctx.index)))
        out = []
        for f in final:
            spec = next((s for s in channel.fields if s.name == f.field), None)
            if f.rule_id == "quality.too_short" and spec is not None and words < (spec.min_words or 0):
                f = f.model_copy(
                    update={
                        "explanation": f"{f.explanation}; the brand's documents hold {words} words of story "
                        f"prose to retell, under the {spec.min_words} this field needs",
                        "suggestion": "add a document with more of the brand's story (an about page, its "
                        f"history, how it makes its products) to {state.brand.name}'s knowledge folder, or "
                        "write the missing paragraphs by hand",
                    }
                )
            out.append(f)
        return out

    @staticmethod
    def _short_only(channel: ChannelSpec, final: list[ComplianceFinding]) -> bool:
        """Whether the only blocking findings left are an e-mail body's ``quality.too_short``."""
        blocking = [f for f in final if f.severity == "block"]
        body = letter_body(channel)
        return bool(blocking) and all(
            f.rule_id == "quality.too_short" and body is not None and f.field == body.name for f in blocking
        )

    @classmethod
    def _name_of(cls, state: CampaignState, channel: ChannelSpec, draft: Draft) -> str | None:
        about = cls._about(state, channel, draft)
        return about.name if about is not None else None

    @staticmethod
    def _about(state: CampaignState, channel: ChannelSpec, draft: Draft) -> Product | None:
        """The product a refill writes about: the one the piece keeps to (:func:`main_product`: the
        paragraph must not wander from it), else the brief's featured one."""
        main = main_product(channel, state.brand, draft.fields)
        if main is not None:
            return next(p for p in state.brand.products if p.name == main)
        return featured_product(state.brand, state.brief, channel) if state.brief else None

    @staticmethod
    def _standing(
        checker: ComplianceChecker,
        channel: ChannelSpec,
        draft: Draft,
        model_findings: list[ComplianceFinding],
        quality: QualityContext | None = None,
    ) -> list[ComplianceFinding]:
        """Findings on ``draft`` now: deterministic ones recomputed, model-judged claims from the last
        round kept while the sentence they quote is still there."""
        found = deterministic_findings(checker, channel, draft, quality)
        return found + [
            f
            for f in model_findings
            if f.rule_id == "claims.model_unsupported"
            and f.matched
            and f.field is not None
            and f.matched in draft.fields.get(f.field, "")
        ]

    @staticmethod
    def _fix_spelling(brand: Brand, draft: Draft) -> Draft:
        """Required terms spelled as the brand spells them, except inside a web or e-mail address
        ("hearthline.example.com" stays lower case), and product names restored."""
        fields = dict(draft.fields)
        for name, text in fields.items():
            for term in brand.required_terms:
                text = re.sub(re.escape(term), functools.partial(_respelled, term), text, flags=re.IGNORECASE)
            fields[name] = restore_product_names(brand, text)
        return draft.model_copy(update={"fields": fields})

    def _shorter(self, state: CampaignState, ctx: RunContext, channel: ChannelSpec, draft: Draft) -> Draft:
        """Fields still over their limit asked once more, alone, as shorter complete wordings; a new
        wording is taken only where it fits and does not end on a dangling word (else the cut follows)."""
        over = [
            spec
            for spec in channel.fields
            if draft.fields.get(spec.name, "").strip() and spec.violations(draft.fields.get(spec.name, ""))
        ]
        if not over:
            return draft
        requests = [
            f'"{spec.name}" is too long ({spec.violations(draft.fields[spec.name])[0]}); write a shorter, '
            f"complete {'text' if spec.prose else 'phrase'} that says the same within {spec.limits_text}. "
            "Leave the other fields exactly as they are."
            for spec in over
        ]
        shorter = self.send_back(ctx, state, channel, draft, requests, by="compliance")
        fields = dict(draft.fields)
        for spec in over:
            new = shorter.fields.get(spec.name, "").strip()
            if new and not spec.violations(new) and dangling_word(new) is None:
                fields[spec.name] = new
        return draft.model_copy(update={"fields": fields})

    @staticmethod
    def _fit_limits(channel: ChannelSpec, brand: Brand, draft: Draft) -> tuple[Draft, frozenset[str]]:
        """``draft`` cut to its limits, and the fields that had to be cut at a word boundary. A phrase
        (a headline) that only a cut at a word boundary would fit is replaced by a complete phrase from
        the brand file instead (:func:`~agents.quality.complete_alternative`), when one fits."""
        fields, cut = dict(draft.fields), set()
        for spec in channel.fields:
            original = draft.fields.get(spec.name, "")
            fields[spec.name], how = fit_with_cut(original, spec)
            if how != "words":
                continue
            others = [v for k, v in fields.items() if k != spec.name]
            # one product's piece keeps to it: stop 50's Tidewater ad got a Breakwater Blend headline over
            # Harbor Light's description, both stand-ins for cut fields
            main = main_product(channel, brand, fields)
            about = {main} if main else None
            alternative = (
                None if spec.prose else complete_alternative(spec, original, brand, others, products=about)
            )
            if alternative is None:
                cut.add(spec.name)
            else:
                fields[spec.name] = alternative
        return draft.model_copy(update={"fields": fields}), frozenset(cut)

    def _claim_findings(
        self, state: CampaignState, ctx: RunContext, channel: ChannelSpec, draft: Draft
    ) -> list[ComplianceFinding]:
        sentences = claim_candidates(draft, self.params.max_claims)
        facts = fact_passages(state.passages)  # what customers said supports no fact
        if not facts or not sentences:
            return []
        n = len(sentences)
        try:
            answer = ask(
                ctx,
                state,
                agent=self.name,
                prompt=self.prompts["claims"],
                role=CLAIMS,
                inputs=ClaimsInputs(sentences=sentences),
                answer_model=claims_answer_model(n, aliases(facts)),
                channel=channel.name,
                max_tokens=40 + 25 * n,
                max_repairs=self.params.max_repairs,
            )
        except StructuredOutputError:
            return []
        unsupported = [s for s, j in zip(sentences, answer.judgments, strict=True) if not j.supported]
        if not unsupported:
            return []
        # A sentence made of one product's own sheet (brand.yaml: name, description, facts) is supported
        # whatever the model said: the 1.5B judge reads the brand section less closely than passages.
        # So is a sentence a retrieved passage says in its own words (the Drug Facts directions, "Reapply
        # after 40 minutes of swimming…", were judged unsupported and dropped from a reply, 2026-12-05).
        sheets = [" ".join([name, *lines]) for name, lines in brand_products(state.brand).items()]
        sheets += [p.text for p in facts]
        unsupported = [s for s in unsupported if not any(sheet_restated(s, sheet) for sheet in sheets)]
        if not unsupported:
            return []
        # A near-paraphrase of a retrieved passage is supported whatever the model said.
        embedder = ctx.index.embedder
        scores = embedder.embed(unsupported) @ embedder.embed([p.text for p in facts]).T
        findings = []
        for sentence, row in zip(unsupported, scores, strict=True):
            best = float(row.max())
            if best >= self.params.paraphrase_similarity:
                continue
            field = next((name for name, text in draft.fields.items() if sentence in text), None)
            start = draft.fields[field].index(sentence) if field else None
            top = sorted(zip(facts, row.tolist(), strict=True), key=lambda pair: -pair[1])[:3]
            findings.append(
                ComplianceFinding(
                    rule_id="claims.model_unsupported",
                    category="unsupported_claim",
                    # Hard facts (numbers, refunds, guarantees) block when unsupported; vaguer sentences warn.
                    severity=self.params.unsupported_claims if _is_hard_fact(sentence) else "warn",
                    explanation=f"the model found no retrieved passage that supports this claim (closest "
                    f"passage similarity {best:.2f})",
                    field=field,
                    span=(start, start + len(sentence)) if start is not None else None,
                    matched=sentence,
                    suggestion="remove the claim or restate it exactly as the passages do",
                    evidence=[
                        EvidenceRef(passage=p.id, score=round(score, 3), supports=False) for p, score in top
                    ],
                )
            )
        return findings


# Share of a sentence's content words a product sheet must have for the sentence to be that sheet's
# facts restated ("Harbor Light is a light-roast washed Ethiopian coffee from Kochere …": 0.90; an added
# "without any added chemicals" benefit: 0.31). Its figures are checked by the rules either way.
SHEET_COVERAGE = 0.8

# A sentence whose every figure is the sheet's may add a little more of its own words: "The 10 power
# levels and temperature mode 140-460°F make it easy to control the heat" (0.5 of its words are the Ember
# Induction Burner's sheet; the model judged it unsupported and cut a Hearthline e-mail of stop 40 under
# its minimum).
SHEET_COVERAGE_WITH_FIGURES = 0.5
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")


def sheet_restated(sentence: str, sheet: str) -> bool:
    """Whether ``sentence`` restates ``sheet`` (a product's sheet or a passage): :data:`SHEET_COVERAGE` of
    its content words are the sheet's, or :data:`SHEET_COVERAGE_WITH_FIGURES` when it gives figures and
    every one of them is the sheet's."""
    share = coverage(sentence, sheet)
    if share >= SHEET_COVERAGE:
        return True
    figures = set(_FIGURE.findall(sentence))
    return bool(figures) and figures <= set(_FIGURE.findall(sheet)) and share >= SHEET_COVERAGE_WITH_FIGURES


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


def brand_products(brand: Brand, passages: Iterable[Passage] = ()) -> dict[str, list[str]]:
    """Each product's name -> its description and facts (brand.yaml), then the texts of the ``passages``
    whose section heading names that product alone (a manual's "## 二、新疆·喀纳斯秋季 8天"): which
    product a stated figure or feature belongs to. Without the passages, a feature the documents give one
    route ("每天安排晨光与黄昏两次拍摄时段", under Kanas) could be given to every route unnoticed: the
    brand file's sheets do not list it (2026-12-04)."""
    sheets = {p.name: [p.description, *p.facts] for p in brand.products}
    passages = list(passages)
    owned: list[tuple[Passage, str]] = []
    for passage in passages:
        if not passage.section or _COMPARES.search(passage.section):
            continue  # "喀纳斯秋季 8天和雨崩线路怎么选？" may name one product by a name not in the file
        named = mentioned_products(passage.section, sheets)
        if len(named) == 1:
            owned.append((passage, named.pop()))
    # A document the retriever would withhold (instruction-like text anywhere in it) states nothing.
    docs = {passage.doc for passage, _ in owned}
    withheld = {
        p.doc for p in passages if p.doc in docs and (instruction_in(p.doc) or instruction_in(p.text))
    }
    for passage, product in owned:
        if passage.doc not in withheld:
            sheets[product].append(passage.text)
    return sheets


# A heading that weighs products against each other, whatever names it uses for them.
_COMPARES = re.compile(
    r"和|与|或|还是|对比|比较|怎么选|\b(?:and|or|vs|versus|compared?|which)\b", re.IGNORECASE
)


def brand_facts(brand: Brand, *, with_inputs: bool = True) -> list[str]:
    """What the brand itself states (brand.yaml): as good as a passage for supporting a claim.

    ``with_inputs`` adds the channel inputs (e.g. the customer's question, whose figures a reply may
    repeat); a standalone check leaves them out, as they are not facts about the brand.
    """
    facts = [brand.positioning, brand.audience]
    for product in brand.products:
        facts += [product.name, product.description, *product.facts]
    if with_inputs:
        facts += [v for inputs in brand.channel_inputs.values() for v in inputs.values()]
    return [f for f in facts if f]


def _in_address(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is part of a web or e-mail address: joined by "@", "/" or a dot to a
    letter or digit on either side ("classes@hearthline.example.com", "www.hearthline.com")."""
    before, after = text[start - 1 : start], text[end : end + 2]
    return before in ("@", "/", ".") or (after[:1] in (".", "@") and after[1:2].isalnum())


def _respelled(term: str, m: re.Match[str]) -> str:
    """``term`` for its match ``m``, unless ``m`` is inside a web or e-mail address (:func:`_in_address`)."""
    return m.group() if _in_address(m.string, m.start(), m.end()) else term
