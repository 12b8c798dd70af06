"""Reviewer: scores each draft and sends it back with concrete requests, a bounded number of times.

Reads ``brand``, ``channels``, ``passages``, ``brief``, ``drafts``; writes ``drafts``, ``reviews``.
Per draft and round: deterministic limit checks (lengths, hashtags, empty fields) plus a model review
(voice fit, brief coverage, grounding, channel fit, 1–5). A draft is approved when every score reaches
``min_score`` and no limit is broken; otherwise the copywriter revises it with the limit violations and
the reviewer's requests, at most ``max_revisions`` times.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field, create_model

from agents.base import AgentParams, RunContext, StructuredOutputError, ask, list_of, text_field
from agents.channels import ChannelSpec
from agents.copywriter import SendsBack, _alias_view, edited_view
from agents.state import CampaignState, Draft, Review, ReviewScores

_STRICT = ConfigDict(extra="forbid")
Score = Literal[1, 2, 3, 4, 5]
ScoresOut = create_model(
    "ScoresOut",
    __config__=_STRICT,
    voice_fit=(Score, ...),
    brief_coverage=(Score, ...),
    grounding=(Score, ...),
    channel_fit=(Score, ...),
)
ReviewOut = create_model(
    "ReviewOut",
    __config__=_STRICT,
    scores=(ScoresOut, ...),
    revision_requests=(list_of(text_field(240, min_chars=0), max_items=3), ...),
)


def limit_violations(channel: ChannelSpec, draft: Draft) -> list[str]:
    """Every hard-limit violation of a draft, phrased as a revision request."""
    out = []
    for spec in channel.fields:
        out.extend(spec.violations(draft.fields.get(spec.name, "")))
        out.extend(spec.shortfalls(draft.fields.get(spec.name, "")))
    return out


class ReviewerParams(AgentParams):
    max_revisions: int = Field(2, ge=0, le=5, description="Revision rounds per draft.")
    min_score: int = Field(3, ge=1, le=5, description="Every score must reach this to approve.")


class Reviewer(SendsBack):
    name: ClassVar[str] = "reviewer"
    reads: ClassVar[frozenset[str]] = frozenset({"brand", "channels", "passages", "brief", "drafts"})
    writes: ClassVar[frozenset[str]] = frozenset({"drafts", "reviews"})
    roles: ClassVar[dict[str, str]] = {"review": "reviewer.review@2", "revise": "copywriter.revise@1"}
    Params = ReviewerParams
    params: ReviewerParams

    def run(self, state: CampaignState, ctx: RunContext) -> None:
        for channel in state.channels:
            draft = state.drafts.get(channel.name)
            if draft is None:
                continue
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
        violations = limit_violations(channel, draft)
        try:
            out: Any = ask(
                ctx,
                state,
                agent=self.name,
                prompt=self.prompts["review"],
                channel=channel.name,
                variables={
                    "brand": state.brand,
                    "channel": channel,
                    "brief": state.brief,
                    "draft": _alias_view(draft, state),
                    "edited": edited_view(state, channel, draft, ctx.thread_budget(state)),
                },
                output=ReviewOut,
                max_tokens=400,
                max_repairs=self.params.max_repairs,
            )
            scores = ReviewScores(**out.scores.model_dump())
            requests = [r.strip() for r in out.revision_requests if r.strip()]
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
