"""The typed state passed along the agent chain, and the campaign it becomes.

Contract: one :class:`CampaignState` flows through the pipeline. Each agent declares which top-level
fields it reads and writes (``STATE_FIELDS`` names them all); the pipeline checks at load time that every
field a step reads was written before it. :class:`Campaign` is the user-facing result (JSON via
``model_dump_json``): ``brand``, ``brief``, ``pieces`` and ``trace``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agents.channels import ChannelSpec
from knowledge.brand import Brand
from policy.findings import ComplianceFinding


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RetrievedPassage(_Model):
    """A passage retrieved for this campaign; ``alias`` (P1, P2, ...) is how prompts refer to it."""

    id: str
    alias: str
    doc: str
    text: str
    score: float


class QuarantinedPassage(_Model):
    """A retrieved passage withheld from the model because it carries instruction-like text."""

    id: str = Field(description="Passage id.")
    doc: str = Field(description="The document it comes from (path inside the brand folder).")
    where: Literal["text", "file name"] = Field(description="Where the instruction-like text was found.")
    matched: str = Field(description="The text that matched, as written (at most 200 characters).")


class KeyMessage(_Model):
    text: str
    citations: list[str] = Field(default_factory=list, description="Passage ids.")


class CreativeBrief(_Model):
    audience_insight: str
    key_messages: list[KeyMessage]
    tone: str
    channel_angles: dict[str, str] = Field(default_factory=dict)


class Draft(_Model):
    channel: str
    fields: dict[str, str]
    citations: list[str] = Field(default_factory=list, description="Passage ids.")


class ReviewScores(_Model):
    voice_fit: int = Field(ge=1, le=5)
    brief_coverage: int = Field(ge=1, le=5)
    grounding: int = Field(ge=1, le=5)
    channel_fit: int = Field(ge=1, le=5)


class Review(_Model):
    channel: str
    round: int
    scores: ReviewScores
    revision_requests: list[str] = Field(default_factory=list)
    limit_violations: list[str] = Field(default_factory=list)
    approved: bool


class ComplianceResult(_Model):
    verdict: Literal["pass", "revised", "blocked"]
    findings: list[ComplianceFinding] = Field(default_factory=list)


class Revision(_Model):
    round: int
    by: Literal["reviewer", "compliance"]
    requests: list[str]


class Piece(_Model):
    channel: str
    fields: dict[str, str]
    citations: list[str]
    compliance: ComplianceResult
    revisions: list[Revision] = Field(default_factory=list)


class TraceEntry(_Model):
    step: str
    agent: str
    channel: str | None = None
    prompt: str = Field(description="id@version")
    prompt_hash: str
    backend: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    cached_prompt_tokens: int = 0
    prompt_seconds: float | None = None
    generation_seconds: float | None = None
    attempt: int = 1
    ok: bool = True
    error: str | None = None


class Turn(_Model):
    """One exchange of a conversation thread: the rendered prompt and the model's answer, verbatim (so a
    backend finds the tokens it generated in its KV cache), and what the answer shows."""

    prompt: str = Field(description="id@version")
    user: str
    answer: str
    shows: Literal["brief", "draft"] | None = None
    draft: Draft | None = Field(
        None, description="For a draft: the draft as the model wrote it (citations as aliases)."
    )


class CampaignState(_Model):
    """Everything the agents share while a campaign runs."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    brand: Brand
    channels: list[ChannelSpec]
    passages: list[RetrievedPassage] = Field(default_factory=list)
    quarantined: list[QuarantinedPassage] = Field(
        default_factory=list, description="Retrieved passages withheld from the model (instruction-like)."
    )
    brief: CreativeBrief | None = None
    drafts: dict[str, Draft] = Field(default_factory=dict)
    revisions: dict[str, list[Revision]] = Field(default_factory=dict)
    reviews: list[Review] = Field(default_factory=list)
    pieces: list[Piece] = Field(default_factory=list)
    trace: list[TraceEntry] = Field(default_factory=list)
    threads: dict[str, list[Turn]] = Field(
        default_factory=dict,
        description="Conversation turns of threaded prompts: '' for the campaign's (the brief), then one "
        "per channel, which continues the campaign's.",
    )
    errors: dict[str, str] = Field(
        default_factory=dict, description="channel -> why it could not be produced"
    )


# Fields present before the first step runs; the rest must be written by a step before being read.
INITIAL_FIELDS = frozenset({"brand", "channels", "trace", "threads", "errors", "revisions"})
STATE_FIELDS = frozenset(CampaignState.model_fields)


class BrandSummary(_Model):
    name: str
    positioning: str
    locale: str
    industry: str


class CampaignStats(_Model):
    seconds: float
    llm_calls: int
    prompt_tokens: int
    completion_tokens: int
    cached_prompt_tokens: int
    llm_seconds: float
    prompt_seconds: float | None = Field(
        None, description="Prompt evaluation time, where the backend reports it."
    )
    generation_seconds: float | None = Field(None, description="Decoding time, where the backend reports it.")


class Campaign(_Model):
    """The deliverable: what the CLI writes and ``run_campaign`` returns."""

    brand: BrandSummary
    pipeline: str
    backend: str
    model: str
    brief: CreativeBrief | None
    pieces: list[Piece]
    trace: list[TraceEntry]
    passages: list[RetrievedPassage]
    quarantined: list[QuarantinedPassage] = Field(
        default_factory=list,
        description="Passages withheld from the model because they carry instruction-like text: clean "
        "these documents.",
    )
    stats: CampaignStats
    backend_error: str | None = Field(
        None, description="Set when the backend failed mid-run: the pieces not finished are blocked."
    )

    @property
    def blocked(self) -> list[Piece]:
        return [p for p in self.pieces if p.compliance.verdict == "blocked"]

    def piece(self, channel: str) -> Piece:
        return next(p for p in self.pieces if p.channel == channel)
