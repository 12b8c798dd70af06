"""The typed state passed along the agent chain, and the campaign it becomes.

Contract: one :class:`CampaignState` flows through the pipeline. Each agent declares which top-level
fields it reads and writes (``STATE_FIELDS`` names them all); the pipeline checks at load time that every
field a step reads was written before it. :class:`Campaign` is the user-facing result (JSON via
``model_dump_json``): ``brand``, ``brief``, ``pieces`` and ``trace``.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agents.channels import ChannelSpec
from knowledge.brand import Brand
from policy.findings import ComplianceFinding


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RetrievedPassage(_Model):
    """A passage retrieved for this campaign; ``alias`` (P1, P2, ...) is how prompts refer to it.
    ``kind`` "customer": what customers said (brand monitoring, alias M1, M2, ...), citable as the reason
    for a message but never evidence for a fact (:func:`fact_passages`)."""

    id: str
    alias: str
    doc: str
    text: str
    score: float
    kind: Literal["document", "customer"] = "document"


class CustomerVoice(_Model):
    """A note from brand monitoring (``--insights``) for the strategist: a trending complaint, a praise,
    an alert. Its ``id`` ("mention:ID", "alert:DAY") is how the brief cites it."""

    id: str
    kind: Literal["complaint", "praise", "alert"]
    text: str = Field(max_length=1_000)
    doc: str = Field(description="Where it comes from, e.g. 'insights.json (2026-11-01 - 2026-11-30)'.")


def fact_passages(passages: list[RetrievedPassage]) -> list[RetrievedPassage]:
    """The passages that may support a fact: the brand's documents, not what customers said."""
    return [p for p in passages if p.kind == "document"]


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
    cut_off: list[str] = Field(
        default_factory=list,
        description="Fields the model's answer was cut off in (max_tokens reached; the JSON was closed).",
    )


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
    before: dict[str, str] = Field(default_factory=dict, description="The fields sent back.")
    after: dict[str, str] = Field(
        default_factory=dict,
        description="The fields the copywriter returned (the same as before when the rewrite failed).",
    )


class CheckGroup(_Model):
    """One group of a piece's scorecard: how many of its checks the delivered piece passes."""

    passed: int = Field(ge=0)
    applied: int = Field(ge=0)
    failed: list[str] = Field(default_factory=list, description="The checks it fails (rule ids).")


class Scorecard(_Model):
    """Checks passed / checks applied, overall and by group (channel rules, brand voice, facts,
    compliance), the way brand teams read guideline scores. A finding fixed by revision counts as
    passed; a warning still standing counts as failed. See :mod:`agents.scorecard`."""

    score: float = Field(ge=0.0, le=1.0)
    passed: int = Field(ge=0)
    applied: int = Field(ge=0)
    groups: dict[str, CheckGroup]


class Piece(_Model):
    channel: str
    fields: dict[str, str]
    citations: list[str]
    compliance: ComplianceResult
    revisions: list[Revision] = Field(default_factory=list)
    scorecard: Scorecard | None = Field(None, description="Checks passed by group; None if not scored.")
    drafted: dict[str, str] = Field(
        default_factory=dict,
        description="The fields as the copywriter first wrote them, before any revision or last-resort edit.",
    )
    inputs: dict[str, str] = Field(
        default_factory=dict, description="The channel's inputs for this brand (a reply's question)."
    )


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


MAX_INSTRUCTION = 500


def campaign_instruction(text: str | None) -> str:
    """A campaign's instruction from the brand team, as the strategist gets it: one line (control
    characters and line breaks become spaces), trimmed; InputError over :data:`MAX_INSTRUCTION`."""
    from core.errors import InputError

    line = " ".join("".join(" " if unicodedata.category(c)[0] == "C" else c for c in text or "").split())
    if len(line) > MAX_INSTRUCTION:
        raise InputError(
            f"the instruction has {len(line)} characters; at most {MAX_INSTRUCTION}", field="instruction"
        )
    return line


class CampaignState(_Model):
    """Everything the agents share while a campaign runs."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    brand: Brand
    channels: list[ChannelSpec]
    instruction: str = Field("", max_length=MAX_INSTRUCTION, description="The brand team's instruction.")
    voices: list[CustomerVoice] = Field(
        default_factory=list, description="Brand monitoring's notes for this campaign (--insights)."
    )
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

    def fork(self, channel: str) -> CampaignState:
        """A state for one channel's work, which may run beside other channels' (:mod:`agents.fanout`).

        The fork shares every read-only input with this state (brand, channels, passages, brief,
        quarantined, ... — the same objects, not copies), starts with empty lists for what is appended
        (:data:`APPENDED_FIELDS`: trace, reviews, pieces) and holds only ``channel``'s entries of the
        per-channel maps (:data:`PER_CHANNEL_FIELDS`), as its own lists. The campaign-wide thread ``""``
        is copied so the channel's conversation can be sent after it; channel work must not add to it.
        :meth:`join` merges the fork back.
        """
        values: dict[str, Any] = {name: getattr(self, name) for name in type(self).model_fields}
        for name in APPENDED_FIELDS:
            values[name] = []
        for name in PER_CHANNEL_FIELDS:
            source: dict[str, object] = getattr(self, name)
            keys = ("", channel) if name == "threads" else (channel,)
            values[name] = {
                key: list(entry) if isinstance(entry, list) else entry
                for key in keys
                if (entry := source.get(key)) is not None
            }
        # model_construct: the inputs were validated when this state was built; validating again would
        # copy them (a fork must share, not copy) and cost time on every channel.
        return type(self).model_construct(**values)

    def join(self, fork: CampaignState, channel: str) -> None:
        """Merge a fork made by :meth:`fork` for ``channel`` back: its appended entries go after this
        state's, in order, and its per-channel entries replace this state's (an entry the work removed
        is removed). Raises RuntimeError when the channel's work wrote the campaign-wide thread."""
        if len(fork.threads.get("", [])) != len(self.threads.get("", [])):
            raise RuntimeError(
                f"work for channel {channel!r} added to the campaign-wide conversation thread; channel "
                "work may only add to its own channel's thread"
            )
        for name in APPENDED_FIELDS:
            getattr(self, name).extend(getattr(fork, name))
        for name in PER_CHANNEL_FIELDS:
            mine: dict[str, object] = getattr(self, name)
            theirs: dict[str, object] = getattr(fork, name)
            for key, value in theirs.items():
                if not (name == "threads" and key == ""):
                    mine[key] = value
            if channel not in theirs:
                mine.pop(channel, None)


# Fields present before the first step runs; the rest must be written by a step before being read.
INITIAL_FIELDS = frozenset(
    {"brand", "channels", "instruction", "voices", "trace", "threads", "errors", "revisions"}
)
STATE_FIELDS = frozenset(CampaignState.model_fields)
# How CampaignState.fork/join treat fields: appended lists (each fork starts empty; joined in channel order)
# and channel-keyed maps (each fork holds its channel's entry). Every other field is a read-only input of
# channel work, shared by reference.
APPENDED_FIELDS = ("trace", "reviews", "pieces")
PER_CHANNEL_FIELDS = ("drafts", "revisions", "errors", "threads")


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


class StepFailure(_Model):
    """Why a campaign could not finish: the step that stopped it. The steps after it did not run; the
    work done before is kept, and channels without a finished piece are delivered as ``blocked``."""

    step: str = Field(description="The pipeline step (agent name) that could not finish.")
    reason: Literal["backend", "service", "no_valid_output"] = Field(
        description="backend: the backend failed mid-run (unreachable, crashed, refused); service: another "
        "service a step calls failed (a LangChain embeddings model); no_valid_output: "
        "the model gave no valid answer for a step the rest of the campaign depends on (the brief)."
    )
    message: str = Field(description="The error, as the backend or the structured-output check put it.")


CampaignStatus = Literal["ok", "blocked", "incomplete"]
# The findings on a piece the pipeline could not produce: a step stopped before the channel was done
# (pipelines.session), or the model never gave a valid draft for it (the compliance agent).
UNDELIVERED_RULE = "pipeline.incomplete"
NO_DRAFT_RULE = "pipeline.no_draft"
UNDELIVERED_RULES = frozenset({UNDELIVERED_RULE, NO_DRAFT_RULE})


def undelivered_piece(state: CampaignState, channel: str, *, rule_id: str, explanation: str) -> Piece:
    """The piece for a channel the pipeline could not finish: blocked, with the draft so far (if any)
    and one ``generation`` finding saying why (``rule_id``: one of :data:`UNDELIVERED_RULES`)."""
    draft = state.drafts.get(channel)
    finding = ComplianceFinding(
        rule_id=rule_id, category="generation", severity="block", explanation=explanation
    )
    return Piece(
        channel=channel,
        fields=draft.fields if draft else {},
        citations=draft.citations if draft else [],
        compliance=ComplianceResult(verdict="blocked", findings=[finding]),
        revisions=state.revisions.get(channel, []),
        inputs=dict(state.brand.channel_inputs.get(channel, {})),
    )


class Campaign(_Model):
    """The deliverable: what the CLI writes and ``run_campaign`` returns.

    :attr:`status` says how it ended: ``incomplete`` (a step could not finish: :attr:`failure` says which
    and why), else ``blocked`` (at least one piece is blocked by compliance), else ``ok``.
    """

    brand: BrandSummary
    pipeline: str
    backend: str
    model: str
    instruction: str = Field("", description="The brand team's instruction for this campaign, if any.")
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
        None,
        description="Set when the backend failed mid-run ('during STEP: error'; see failure): the pieces "
        "not finished are blocked.",
    )
    failure: StepFailure | None = Field(
        None, description="Set when the campaign could not finish: the step that stopped it and why."
    )

    @property
    def blocked(self) -> list[Piece]:
        return [p for p in self.pieces if p.compliance.verdict == "blocked"]

    @property
    def undelivered(self) -> list[Piece]:
        """Pieces that never got a finished draft through the pipeline (the model gave no valid answer for
        that channel, or a step stopped early): blocked, but not by compliance."""
        return [p for p in self.pieces if any(f.rule_id in UNDELIVERED_RULES for f in p.compliance.findings)]

    @property
    def incomplete(self) -> bool:
        """Whether the campaign could not finish: a step stopped (see :attr:`failure`), or some channel's
        piece was never produced. A piece blocked *by compliance* is a finished result, not this."""
        return self.failure is not None or bool(self.undelivered)

    @property
    def status(self) -> CampaignStatus:
        """``incomplete``, else ``blocked`` when a piece is blocked by compliance, else ``ok``."""
        if self.incomplete:
            return "incomplete"
        return "blocked" if self.blocked else "ok"

    def piece(self, channel: str) -> Piece:
        return next(p for p in self.pieces if p.channel == channel)
