"""Reviewer: scores each draft and sends it back with concrete requests, a bounded number of times.

Reads ``brand``, ``channels``, ``passages``, ``brief``, ``drafts`` (and its channels' threads and
revisions); writes ``drafts``, ``reviews`` (and ``trace``, ``threads``, ``revisions``). Its prompts serve
the ``reviewer.review`` and ``copywriter.revise`` roles (:mod:`agents.roles`).
Per draft and round: deterministic checks (limits, empty fields, and the publishable-copy checks of
:mod:`agents.quality`: endings, required terms, language, repetition, conventions) plus a model review
(voice fit, brief coverage, grounding, channel fit, 1–5). A draft is approved when every score reaches
``min_score`` and no limit is broken; otherwise it is sent back (:mod:`agents.revision`) with the limit
violations and the reviewer's requests, at most ``max_revisions`` times. Channels are reviewed through
:func:`agents.fanout.for_each_channel`, each on its own fork of the state.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from agents.base import AgentParams, RunContext, StructuredOutputError, ask
from agents.channels import ChannelSpec
from agents.citations import alias_view
from agents.fanout import for_each_channel
from agents.quality import QualityContext, policy_passages, quality_findings
from agents.revision import REVISION_READS, REVISION_WRITES, SendsBack
from agents.roles import REVIEW, PromptSlot, ReviewInputs
from agents.state import CampaignState, Draft, Review, ReviewScores, fact_passages
from agents.threads import edited_view

NOT_SENT_BACK = frozenset({"quality.call_to_action"})
"""Quality findings shown to people but not asked of the model: a missing call to action alone would
cost an ad or e-mail a revision round, and whether that round helps a 1.5B model is not measured yet."""


def limit_violations(channel: ChannelSpec, draft: Draft, quality: QualityContext | None = None) -> list[str]:
    """Every hard-limit violation of a draft, and with a ``quality`` context every publishable-copy
    finding (:mod:`agents.quality`), phrased as revision requests."""
    out = []
    for spec in channel.fields:
        out.extend(spec.violations(draft.fields.get(spec.name, "")))
    if quality is None:
        for spec in channel.fields:
            out.extend(spec.shortfalls(draft.fields.get(spec.name, "")))
        return out
    for f in quality_findings(quality, draft.fields):
        if f.rule_id in NOT_SENT_BACK:
            continue
        where = f"{f.field}: " if f.field else ""
        out.append(f"{where}{f.explanation}; {f.suggestion}")
    return out


class ReviewerParams(AgentParams):
    max_revisions: int = Field(2, ge=0, le=5, description="Revision rounds per draft.")
    min_score: int = Field(3, ge=1, le=5, description="Every score must reach this to approve.")


class Reviewer(SendsBack):
    name: ClassVar[str] = "reviewer"
    reads: ClassVar[frozenset[str]] = frozenset(
        {"brand", "channels", "passages", "brief", "drafts", "threads", *REVISION_READS}
    )
    writes: ClassVar[frozenset[str]] = frozenset({"drafts", "reviews", "trace", "threads", *REVISION_WRITES})
    slots: ClassVar[dict[str, PromptSlot]] = {
        "review": PromptSlot(REVIEW, "reviewer.review@2"),
        "revise": SendsBack.REVISE_SLOT,
    }
    Params = ReviewerParams
    params: ReviewerParams

    def run(self, state: CampaignState, ctx: RunContext) -> None:
        for_each_channel(ctx, state, lambda fork, channel: self._review_channel(fork, ctx, channel))

    def _review_channel(self, state: CampaignState, ctx: RunContext, channel: ChannelSpec) -> None:
        """Review (and send back) ``channel``'s draft in ``state`` (its fork: this channel's entries only)."""
        draft = state.drafts.get(channel.name)
        if draft is None:
            return
        for round_no in range(1, self.params.max_revisions + 2):
            ctx.progress(f"reviewer: reviewing {channel.name} (round {round_no})")
            review = self._review(state, ctx, channel, draft, round_no)
            state.reviews.append(review)
            if review.approved or round_no > self.params.max_revisions:
                break
            requests = review.limit_violations + review.revision_requests
            draft = self.send_back(ctx, state, channel, draft, requests, by="reviewer")
        state.drafts[channel.name] = draft

    def _review(
        self, state: CampaignState, ctx: RunContext, channel: ChannelSpec, draft: Draft, round_no: int
    ) -> Review:
        quality = QualityContext.build(
            channel,
            state.brand,
            [p.text for p in fact_passages(state.passages)],
            cut_off=draft.cut_off,
            policy=policy_passages(ctx, state, channel),
        )
        violations = limit_violations(channel, draft, quality)
        try:
            answer = ask(
                ctx,
                state,
                agent=self.name,
                prompt=self.prompts["review"],
                role=REVIEW,
                inputs=ReviewInputs(
                    brand=state.brand,
                    channel=channel,
                    brief=state.brief,
                    draft=alias_view(draft, state.passages),
                    edited=edited_view(state, channel, draft, ctx.thread_budget(state)),
                ),
                channel=channel.name,
                max_tokens=400,
                max_repairs=self.params.max_repairs,
            )
            scores = answer.scores
            requests = [r.strip() for r in answer.revision_requests if r.strip()]
        except StructuredOutputError:
            # No usable review: judge on the deterministic checks alone rather than stall the campaign.
            scores = ReviewScores(voice_fit=3, brief_coverage=3, grounding=3, channel_fit=3)
            requests = []
        low = min(scores.model_dump().values()) < self.params.min_score
        return Review(
            channel=channel.name,
            round=round_no,
            scores=scores,
            revision_requests=requests if low else [],
            limit_violations=violations,
            approved=not low and not violations,
        )
