"""Role contracts: every kind of prompt a campaign uses, what it is given and what it must answer.

A *role* is one job a prompt does. Each prompt file names the role it serves (``role:`` in
``prompts/templates/<id>@<version>.yaml``); each agent names, per prompt *slot*, the role the slot takes
(:class:`PromptSlot`). ``load_pipeline`` checks every slot's prompt against the slot's role with
:meth:`Role.check` — a prompt of another role, or one that uses a variable its role does not provide, fails
when the pipeline loads, never after model calls were spent.

Per role:
- ``inputs``: a pydantic model of the variables any template of the role may use, with their types. The
  agent builds it for each call; a version declares (``inputs:`` in its file) the subset it uses.
- ``output``: the *static* typed answer model. :func:`agents.base.ask` returns an instance of it, so call
  sites are typed. Where the exact schema depends on the campaign (citations limited to the retrieved
  passages' aliases, a draft's fields per channel, angles per channel, one judgment per sentence), a
  builder below makes the constrained per-campaign model, a *narrowing* of ``output``: every answer that
  validates against it validates against ``output``. Its JSON schema is what constrained decoding gets.
- ``answer_shape``: a variable every answering role provides besides its inputs, the answer's shape
  written from that constrained schema (:func:`agents.schema.answer_shape`), so a template can say
  "Return JSON: {{ answer_shape }}" instead of writing a shape by hand. A template that does write one
  (``"scores": ...``) must name exactly the keys of ``output`` (:meth:`Role.check`).

| role              | slot (agent)                  | inputs       | output       | narrowed by           |
|-------------------|-------------------------------|--------------|--------------|-----------------------|
| context.system    | context_prompt (pipeline)     | SystemInputs | (none)       |                       |
| strategist.brief  | brief (strategist)            | BriefInputs  | BriefAnswer  | brief_answer_model    |
| copywriter.draft  | draft (copywriter)            | DraftInputs  | DraftAnswer  | draft_answer_model    |
| copywriter.outline| outline (copywriter)          | OutlineInputs| OutlineAnswer| outline_answer_model  |
| copywriter.section| section (copywriter)          | SectionInputs| SectionAnswer| SECTION_ANSWER_MODEL  |
| copywriter.expand | expand (copywriter)           | ExpandInputs | SectionAnswer| SECTION_ANSWER_MODEL  |
| copywriter.revise | revise (reviewer, compliance) | ReviseInputs | DraftAnswer  | draft_answer_model    |
| reviewer.review   | review (reviewer)             | ReviewInputs | ReviewAnswer | REVIEW_ANSWER_MODEL   |
| compliance.claims | claims (compliance)           | ClaimsInputs | ClaimsAnswer | claims_answer_model   |
| evals.rubric      | llm_rubric judge (evals)      | RubricInputs | RubricAnswer | RUBRIC_ANSWER_MODEL   |
| compliance.judge  | (agents.judge.ModelJudge)     | JudgeInputs  | RulingAnswer | ruling_answer_model   |

The constrained models' JSON schemas are pinned by ``tests/golden/answer_schemas.json``: the eval suite's
response cache is keyed on them, so a change there re-runs the model.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Optional, TypeVar

from pydantic import BaseModel, ConfigDict, Field, RootModel, create_model

from agents.channels import ChannelSpec, FieldSpec
from agents.citations import citation_list
from agents.schema import json_schema_of, list_of, one_of, text_field
from agents.state import CreativeBrief, Draft, RetrievedPassage, ReviewScores
from core.errors import InputError
from knowledge.brand import Brand, Product
from prompts import Prompt

ANSWER_SHAPE = "answer_shape"  # the variable every answering role provides (see the module docstring)
_STRICT = ConfigDict(extra="forbid")
# llama.cpp expands maxLength into nested rules and rejects (then crashes on) large ones: above this
# bound, max_tokens limits generation instead and the length checks catch the rest.
GRAMMAR_LENGTH_CAP = 300


# --- inputs: the variables a template of each role may use -----------------------------------------


class RoleInputs(BaseModel):
    """The variables of one call; a template uses those its file declares."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def variables(self) -> dict[str, Any]:
        """The variables by name, as given (the renderer turns them into plain data)."""
        return {name: getattr(self, name) for name in type(self).model_fields}


class SystemInputs(RoleInputs):
    brand: Brand
    language_name: str = Field(description="The language content is written in, as prompts say it.")
    passages: list[RetrievedPassage] = Field(description="The campaign's passages, shown by alias.")


class BriefInputs(RoleInputs):
    brand: Brand
    channels: list[ChannelSpec] = Field(description="The campaign's channels.")
    language_name: str
    instruction: str = Field("", description="The brand team's instruction for this campaign, if any.")
    customer_voice: list[str] = Field(
        default_factory=list, description="Aliases of the passages that say what customers said (M1, ...)."
    )


class DraftInputs(RoleInputs):
    brand: Brand
    language_name: str
    channel: ChannelSpec
    brief: CreativeBrief = Field(description="The brief, its citations as aliases.")
    brief_shown: bool = Field(description="Whether the conversation above shows the brief.")
    angle: str = Field(description="The brief's angle for this channel (else the positioning).")
    channel_inputs: dict[str, str] = Field(description="The brand's inputs for this channel.")
    focus: list[str] = Field(description="Aliases of the passages that best answer the inputs.")
    case_rows: list[str] = Field(
        default_factory=list,
        description="The rows of those passages that state the figure for the case the inputs describe "
        "(policy.facts.rows_for_case): a refund question's own row of the refund table.",
    )
    featured: Product | None = Field(
        None,
        description="The product the piece is about, where its channel features one (ChannelSpec.features): "
        "its name, description and facts from the brand file.",
    )
    story: list[str] = Field(
        default_factory=list,
        description="The passages the piece retells, in document order, where its channel features a story "
        "(ChannelSpec.features, agents.story.story_passages); empty otherwise.",
    )


class OutlineInputs(RoleInputs):
    """A long piece planned before it is written (outline-first: see agents.copywriter)."""

    brand: Brand
    language_name: str
    channel: ChannelSpec
    brief: CreativeBrief = Field(description="The brief, its citations as aliases.")
    brief_shown: bool = Field(description="Whether the conversation above shows the brief.")
    angle: str
    long_field: FieldSpec = Field(description="The field written section by section (a blog body).")
    sections: int = Field(ge=2, le=8, description="How many sections the long field gets.")


class SectionInputs(RoleInputs):
    """One section of a long field, written from the outline."""

    brand: Brand
    language_name: str
    channel: ChannelSpec
    long_field: FieldSpec
    title: str = Field(description="The piece's other fields as the outline wrote them (e.g. the title).")
    outline: list[SectionPlanAnswer] = Field(description="Every section's plan, in order.")
    index: int = Field(ge=1, description="The section to write (1-based).")
    words: int = Field(ge=10, description="About how many words this section has.")
    previous: str = Field(description="The end of the text written so far ('' for the first section).")


class ExpandInputs(RoleInputs):
    """One more paragraph, about one product, for a long field under its minimum."""

    brand: Brand
    language_name: str
    channel: ChannelSpec
    long_field: FieldSpec
    previous: str = Field(description="The end of the text written so far.")
    product: Product = Field(description="The product the paragraph is about, with its facts.")
    words: int = Field(ge=10, description="About how many words the paragraph has.")
    passage: str = Field(
        "",
        description="A passage of the brand's documents about the product that the paragraph retells, for a "
        "piece about that one product (ChannelSpec.features); '' for a paragraph from the sheet alone.",
    )


class RetellInputs(RoleInputs):
    """One more paragraph for a piece that retells the brand's documents (a story: the blog), from a
    passage of the story the text does not tell yet."""

    brand: Brand
    language_name: str
    channel: ChannelSpec
    long_field: FieldSpec
    previous: str = Field(description="The end of the text written so far.")
    passage: str = Field(description="The passage's prose (agents.story.story_text) to retell.")
    words: int = Field(ge=10, description="About how many words the paragraph has.")


class ReviseInputs(RoleInputs):
    brand: Brand
    channel: ChannelSpec
    draft: Draft = Field(description="The draft to revise, its citations as aliases.")
    requests: list[str] = Field(description="What to fix: limit violations, review requests, findings.")


class ReviewInputs(RoleInputs):
    brand: Brand
    channel: ChannelSpec
    brief: CreativeBrief | None
    draft: Draft = Field(description="The draft under review, its citations as aliases.")
    edited: Draft | None = Field(
        description="The draft, when the conversation above does not show it as it is now; else None."
    )


class ClaimsInputs(RoleInputs):
    sentences: list[str] = Field(description="The piece's claim-like sentences, judged in order.")


class RubricInputs(RoleInputs):
    brand: Brand
    criterion: str
    text: str


class JudgeInputs(RoleInputs):
    """One sentence the compliance judge rules on (one per call: see agents.judge)."""

    sentence: str
    locale: str = Field(description="The copy's locale (zh, en, ...).")
    candidates: list[str] = Field(description="The categories under question, most likely first.")
    rules: list[str] = Field(description="Ids of the rules that fired in the sentence (may be empty).")


class StanceInputs(RoleInputs):
    """One mention the sentiment classifier was unsure of (brand monitoring: monitor.model)."""

    text: str = Field(description="The mention, personal data masked.")
    brand_name: str = Field(description="The monitored brand the stance is toward.")
    rivals: list[str] = Field(description="Tracked rivals the mention names (may be empty).")


class TopicLabelInputs(RoleInputs):
    """A cluster of mentions to name (brand monitoring: monitor.model)."""

    examples: list[str] = Field(description="Mentions nearest the topic's centre, masked.")
    terms: list[str] = Field(description="The words most particular to the topic.")
    language_name: str = Field(description="The language the label is written in: Chinese or English.")


# --- outputs: the static typed answers ask() returns --------------------------------------------------


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KeyMessageAnswer(_Answer):
    text: str
    citations: list[str] = Field(description="Passage aliases.")


class ChannelAngleAnswer(_Answer):
    channel: str
    angle: str


class CustomerMessageAnswer(_Answer):
    """What the campaign says back to customers (brand monitoring's passages): asked for only when the
    campaign has them, so the brief cannot leave them out."""

    text: str
    customers: list[str] = Field(description="Aliases of the customer passages it responds to (M1, ...).")
    citations: list[str] = Field(description="Aliases of the document passages whose facts it states.")


class BriefAnswer(_Answer):
    """The strategist's brief as the model wrote it (citations as aliases)."""

    audience_insight: str
    customer_message: CustomerMessageAnswer | None = None
    key_messages: list[KeyMessageAnswer]
    tone: str
    channel_angles: list[ChannelAngleAnswer]


class DraftAnswer(_Answer):
    """A channel's piece as the model wrote it: citations (aliases) first, then the channel's fields."""

    citations: list[str]
    fields: dict[str, str]


class SectionPlanAnswer(_Answer):
    heading: str = Field(description="What the section is about, in a few words.")
    points: str = Field(description="The facts it states, in one line.")
    citations: list[str] = Field(description="Passage aliases.")


class OutlineAnswer(_Answer):
    """A long piece's plan: citations, the short fields written out, one plan per section."""

    citations: list[str]
    fields: dict[str, str]
    sections: list[SectionPlanAnswer]


class SectionAnswer(_Answer):
    """One section of a long field, as prose."""

    text: str


class ReviewAnswer(_Answer):
    """The reviewer's scores (1-5 each) and up to 3 revision requests."""

    scores: ReviewScores
    revision_requests: list[str]


class JudgmentAnswer(_Answer):
    passages: list[str] = Field(description="Aliases of the passages that state the sentence's fact.")
    supported: bool


class ClaimsAnswer(_Answer):
    """One judgment per sentence asked about, in order."""

    judgments: list[JudgmentAnswer]


class RubricAnswer(_Answer):
    """The eval judge's one-sentence reason and 1-5 score for one criterion."""

    reason: str = Field(max_length=300)
    score: int = Field(ge=1, le=5)


class RulingFound(_Answer):
    """What a sentence breaks: the candidate category and the offending words."""

    category: str = Field(description="The candidate category the sentence breaks.")
    span_text: str = Field(description="The offending words copied from the sentence; empty if none.")


class RulingAnswer(_Answer):
    """The compliance judge's verdict on one sentence (checked against the sentence by agents.judge).

    Every form of answer (:func:`ruling_answer_model`) is one of these: the rationale, and either the
    verdict with its category and words as keys of their own, or ``found`` (null when clean)."""

    rationale: str = Field(description="One short line: what the sentence does, and why it breaks or not.")
    violation: bool | None = None
    category: str | None = Field(
        default=None, description="The candidate category the sentence breaks, else the closest one."
    )
    span_text: str | None = Field(default=None, description="The offending words; empty if none.")
    found: RulingFound | None = Field(default=None, description="What it breaks; null if nothing.")


class StanceAnswer(_Answer):
    """The writer's stance toward the monitored brand."""

    reason: str = Field(description="At most 12 words: what the writer says about the brand.")
    stance: Literal["positive", "negative", "neutral"]


class TopicLabelAnswer(_Answer):
    """A short label for a topic."""

    label: str = Field(description="At most 6 words (12 Chinese characters).")


STANCE_ANSWER_MODEL = create_model(
    "StanceAnswer",
    __config__=ConfigDict(extra="forbid"),
    reason=(text_field(120), ...),
    stance=(one_of(("positive", "negative", "neutral")), ...),
)
TOPIC_LABEL_ANSWER_MODEL = create_model(
    "TopicLabelAnswer", __config__=ConfigDict(extra="forbid"), label=(text_field(40), ...)
)


# --- narrowing: the constrained per-campaign models (their schemas go to constrained decoding) --------
# Model and field names, order and bounds are part of the schema the backend sees: keep them as they are.


@functools.lru_cache(maxsize=256)
def brief_answer_model(
    aliases: tuple[str, ...],
    channels: tuple[str, ...],
    customers: tuple[str, ...] = (),
    answers: tuple[str, ...] = (),
) -> type[BaseModel]:
    """:class:`BriefAnswer` for a campaign: 3-5 key messages citing only ``aliases``, one angle per
    channel at most, naming only ``channels``. With ``customers`` (the aliases of brand monitoring's
    passages) it also requires a ``customer_message`` that responds to at least one of them and cites
    one or two of ``answers`` (the documents' passages that answer what customers say; any document
    passage when empty), the customers and the citations chosen *before* the text, so a small model
    writes the message from the passage it committed to: constrained decoding then cannot leave the
    customers, or the brand's answer to them, out."""
    message = create_model(
        "KeyMessageOut",
        __config__=_STRICT,
        text=(text_field(240), ...),
        citations=(citation_list(aliases), ...),
    )
    angle = create_model(
        "ChannelAngleOut", __config__=_STRICT, channel=(one_of(channels), ...), angle=(text_field(300), ...)
    )
    fields: dict[str, Any] = {"audience_insight": (text_field(400), ...)}
    if customers:
        documents = answers or tuple(a for a in aliases if a not in customers)
        cited = list_of(one_of(documents), min_items=1, max_items=2) if documents else citation_list(())
        fields["customer_message"] = (
            create_model(
                "CustomerMessageOut",
                __config__=_STRICT,
                customers=(list_of(one_of(customers), min_items=1, max_items=2), ...),
                citations=(cited, ...),
                text=(text_field(240), ...),
            ),
            ...,
        )
    fields |= {
        "key_messages": (list_of(message, min_items=3, max_items=5), ...),
        "tone": (text_field(120), ...),
        "channel_angles": (list_of(angle, min_items=1, max_items=len(channels)), ...),
    }
    return create_model("CreativeBriefOut", __config__=_STRICT, **fields)


def draft_answer_model(channel: ChannelSpec, aliases: tuple[str, ...]) -> type[BaseModel]:
    """:class:`DraftAnswer` for ``channel``: exactly its fields, each bounded for generation, citations
    limited to ``aliases``. Built once per (channel fields, aliases) and reused."""
    bounds = tuple((spec.name, spec.schema_max_chars()) for spec in channel.fields)
    return _draft_answer_model(channel.name, bounds, aliases)


@functools.lru_cache(maxsize=256)
def _draft_answer_model(
    channel: str, bounds: tuple[tuple[str, int], ...], aliases: tuple[str, ...]
) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for name, bound in bounds:
        fields[name] = (text_field(bound if bound <= GRAMMAR_LENGTH_CAP else None), ...)
    fields_model = create_model(f"{channel.title().replace('_', '')}Fields", __config__=_STRICT, **fields)
    # Citations come first: if max_tokens cuts the answer off, it is cut inside the last text field,
    # and the structure can still be closed and used (see agents.base.close_truncated_json).
    return create_model(
        "DraftOut",
        __config__=_STRICT,
        citations=(citation_list(aliases), ...),
        fields=(fields_model, ...),
    )


def outline_answer_model(
    channel: ChannelSpec, long_field: str, sections: int, aliases: tuple[str, ...]
) -> type[BaseModel]:
    """:class:`OutlineAnswer` for ``channel``: its fields except ``long_field`` (bounded as in a draft),
    exactly ``sections`` section plans, citations limited to ``aliases``."""
    bounds = tuple((spec.name, spec.schema_max_chars()) for spec in channel.fields if spec.name != long_field)
    return _outline_answer_model(channel.name, bounds, sections, aliases)


@functools.lru_cache(maxsize=64)
def _outline_answer_model(
    channel: str, bounds: tuple[tuple[str, int], ...], sections: int, aliases: tuple[str, ...]
) -> type[BaseModel]:
    fields: dict[str, Any] = {
        name: (text_field(bound if bound <= GRAMMAR_LENGTH_CAP else None), ...) for name, bound in bounds
    }
    plan = create_model(
        "SectionPlanOut",
        __config__=_STRICT,
        heading=(text_field(80), ...),
        points=(text_field(240), ...),
        citations=(citation_list(aliases), ...),
    )
    return create_model(
        "OutlineOut",
        __config__=_STRICT,
        citations=(citation_list(aliases), ...),
        fields=(
            create_model(f"{channel.title().replace('_', '')}OutlineFields", __config__=_STRICT, **fields),
            ...,
        ),
        sections=(list_of(plan, min_items=sections, max_items=sections), ...),
    )


# A section's text carries no length bound in the grammar (llama.cpp: see GRAMMAR_LENGTH_CAP); the
# call's max_tokens bounds it and the quality checks judge the whole field.
SECTION_ANSWER_MODEL: type[BaseModel] = create_model(
    "SectionOut", __config__=_STRICT, text=(text_field(None), ...)
)


_Score = Literal[1, 2, 3, 4, 5]
_ScoresOut = create_model(
    "ScoresOut",
    __config__=_STRICT,
    voice_fit=(_Score, ...),
    brief_coverage=(_Score, ...),
    grounding=(_Score, ...),
    channel_fit=(_Score, ...),
)
REVIEW_ANSWER_MODEL: type[BaseModel] = create_model(
    "ReviewOut",
    __config__=_STRICT,
    scores=(_ScoresOut, ...),
    revision_requests=(list_of(text_field(240, min_chars=0), max_items=3), ...),
)


@functools.lru_cache(maxsize=256)
def claims_answer_model(n: int, aliases: tuple[str, ...]) -> type[BaseModel]:
    """:class:`ClaimsAnswer` for ``n`` sentences: exactly ``n`` judgments citing only ``aliases`` (which
    must not be empty: claims are judged only against retrieved passages)."""
    judgment = create_model(
        "JudgmentOut",
        __config__=_STRICT,
        passages=(list_of(one_of(list(aliases)), max_items=3), ...),
        supported=(bool, ...),
    )
    fields: dict[str, Any] = {"judgments": (list_of(judgment, min_items=n, max_items=n), ...)}
    return create_model("ClaimsOut", __config__=_STRICT, **fields)


# The eval judge's schema is sent as pydantic writes it (titles kept, no inlining); "_Judgment" is the
# title the eval suite's cached answers were recorded under.
RUBRIC_ANSWER_MODEL: type[BaseModel] = create_model(
    "_Judgment",
    __config__=_STRICT,
    reason=(str, Field(max_length=300)),
    score=(int, Field(ge=1, le=5)),
)


RulingForm = Literal["full", "verdict_first", "short_clean", "found_or_null"]


@functools.lru_cache(maxsize=256)
def ruling_answer_model(candidates: tuple[str, ...], form: RulingForm = "full") -> type[BaseModel]:
    """:class:`RulingAnswer` for a sentence whose candidate categories are ``candidates``: the category is
    one of them. ``form``:

    - ``full``: the rationale comes first (the model says what the sentence does, then rules on it), then
      the verdict, the category and the offending words, for every sentence;
    - ``short_clean``: the rationale and the verdict first, as in ``full``; a sentence that breaks nothing
      ends there (``{"rationale": ..., "violation": false}``), a violation goes on with its category and
      words. Decoding is most of a ruling's time (about 40 tokens at 18 tokens/s on 2 cores), and the two
      keys a clean answer leaves out are a third of them;
    - ``verdict_first``: the verdict comes first, and a sentence that breaks nothing is answered with it
      alone (``{"violation": false}``); a violation goes on with its category, words and rationale;
    - ``found_or_null``: the rationale first, then ``found``: ``null`` for a sentence that breaks nothing,
      else the category and the words (``{"rationale": ..., "found": {"category": ..., "span_text":
      ...}}``). Short when clean like ``short_clean``, but the root is one object: LangChain's tool
      calling and OpenAI's strict schemas refuse a root that is a choice of two objects.

    Strings carry no length bound: llama.cpp compiles one into nested grammar rules that halve decoding
    speed, so ``max_tokens`` and the judge's own checks bound them instead."""
    if not candidates:
        raise ValueError("a sentence to judge needs at least one candidate category")
    if form == "short_clean":
        said_clean = create_model(
            "CleanOut",
            __config__=_STRICT,
            rationale=(text_field(None), ...),
            violation=(Literal[False], ...),
        )
        said_found = create_model(
            "ViolationOut",
            __config__=_STRICT,
            rationale=(text_field(None), ...),
            violation=(Literal[True], ...),
            category=(one_of(candidates), ...),
            span_text=(text_field(None, min_chars=0), ...),
        )
        return RootModel[said_clean | said_found]  # type: ignore[valid-type, return-value]
    if form == "found_or_null":
        what = create_model(
            "FoundOut",
            __config__=_STRICT,
            category=(one_of(candidates), ...),
            span_text=(text_field(None, min_chars=0), ...),
        )
        return create_model(
            "RulingOut",
            __config__=_STRICT,
            rationale=(text_field(None), ...),
            found=(Optional[what], ...),  # noqa: UP045 (a variable's type: `X | None` does not apply)
        )
    if form == "full":
        return create_model(
            "RulingOut",
            __config__=_STRICT,
            rationale=(text_field(None), ...),
            violation=(bool, ...),
            category=(one_of(candidates), ...),
            span_text=(text_field(None, min_chars=0), ...),
        )
    clean = create_model("CleanOut", __config__=_STRICT, violation=(Literal[False], ...))
    found = create_model(
        "ViolationOut",
        __config__=_STRICT,
        violation=(Literal[True], ...),
        category=(one_of(candidates), ...),
        span_text=(text_field(None, min_chars=0), ...),
        rationale=(text_field(None), ...),
    )
    return RootModel[clean | found]  # type: ignore[valid-type, return-value]


# --- the roles --------------------------------------------------------------------------------------

AnswerT = TypeVar("AnswerT", bound=BaseModel)


@dataclass(frozen=True)
class Role:
    """A job a prompt does: its name (what a prompt file's ``role:`` says), what it is for, its inputs."""

    name: str
    summary: str
    inputs: type[RoleInputs]

    @property
    def variables(self) -> frozenset[str]:
        """Every variable a template of this role may use."""
        return frozenset(self.inputs.model_fields)

    def answer_keys(self) -> frozenset[str]:
        """Every JSON key an answer shape written in a template of this role may name."""
        return frozenset()

    def check(self, prompt: Prompt) -> str | None:
        """Why ``prompt`` cannot serve this role, or None: it serves another role, uses a variable this
        role does not provide, or writes out an answer shape whose keys are not this role's."""
        if prompt.role != self.name:
            return f"prompt {prompt.ref} serves the role {prompt.role!r}, not {self.name!r}"
        unknown = sorted(set(prompt.inputs) - self.variables)
        if unknown:
            return (
                f"prompt {prompt.ref} uses the variables {unknown}, which the role {self.name!r} does not "
                f"provide (it provides {sorted(self.variables)})"
            )
        return self._check_keys(prompt)

    def _check_keys(self, prompt: Prompt) -> str | None:
        stray = sorted(set(prompt.json_keys) - self.answer_keys())
        if stray:
            return (
                f"prompt {prompt.ref} writes out the answer keys {stray}, which no answer of the role "
                f"{self.name!r} has (its keys: {sorted(self.answer_keys())})"
            )
        return None


@dataclass(frozen=True)
class AnswerRole(Role, Generic[AnswerT]):
    """A role whose prompt is answered with JSON: ``output`` is the typed answer :func:`agents.base.ask`
    returns; ``answer_model`` the constrained model whose schema is sent, when it is the same for every
    campaign (else the call passes the per-campaign narrowing; None with none passed: ``output``)."""

    output: type[AnswerT] = field(kw_only=True)
    answer_model: type[BaseModel] | None = field(default=None, kw_only=True)

    @property
    def variables(self) -> frozenset[str]:
        return frozenset({*self.inputs.model_fields, ANSWER_SHAPE})

    def answer_keys(self) -> frozenset[str]:
        return _schema_keys(json_schema_of(self.output))

    def top_keys(self) -> tuple[str, ...]:
        """The keys every answer has (an optional key, asked for only in some campaigns, is not one)."""
        return tuple(name for name, f in self.output.model_fields.items() if f.is_required())

    def _check_keys(self, prompt: Prompt) -> str | None:
        problem = super()._check_keys(prompt)
        if problem or not prompt.json_keys:
            return problem
        missing = [key for key in self.top_keys() if key not in prompt.json_keys]
        if missing:
            return (
                f"prompt {prompt.ref} writes out an answer shape without the keys {missing} of the role "
                f"{self.name!r} (its answer: {list(self.top_keys())}); write the shape with "
                f"{{{{ {ANSWER_SHAPE} }}}} or name every key"
            )
        return None


@dataclass(frozen=True)
class ContextRole(Role):
    """The shared system message: not answered itself; it may write out the shape of any answering role."""

    def answer_keys(self) -> frozenset[str]:
        return frozenset().union(*(r.answer_keys() for r in ROLES.values() if isinstance(r, AnswerRole)))


def _schema_keys(schema: Any) -> frozenset[str]:
    keys: set[str] = set()
    if isinstance(schema, dict):
        keys.update(schema.get("properties", {}))
        for value in schema.values():
            keys |= _schema_keys(value)
    elif isinstance(schema, list):
        for value in schema:
            keys |= _schema_keys(value)
    return frozenset(keys)


SYSTEM = ContextRole(
    "context.system",
    "The system message shared by every call of a campaign: the brand and the retrieved passages.",
    SystemInputs,
)
BRIEF: AnswerRole[BriefAnswer] = AnswerRole(
    "strategist.brief",
    "Turn the positioning statement into a creative brief with cited key messages and channel angles.",
    BriefInputs,
    output=BriefAnswer,
)
DRAFT: AnswerRole[DraftAnswer] = AnswerRole(
    "copywriter.draft",
    "Write one channel's piece from the brief, within the channel's limits, citing passages.",
    DraftInputs,
    output=DraftAnswer,
)
OUTLINE: AnswerRole[OutlineAnswer] = AnswerRole(
    "copywriter.outline",
    "Plan a long piece before writing it: its short fields, and what each section of the long field says.",
    OutlineInputs,
    output=OutlineAnswer,
)
SECTION: AnswerRole[SectionAnswer] = AnswerRole(
    "copywriter.section",
    "Write one section of a long field from the outline, continuing the text written so far.",
    SectionInputs,
    output=SectionAnswer,
    answer_model=SECTION_ANSWER_MODEL,
)
EXPAND: AnswerRole[SectionAnswer] = AnswerRole(
    "copywriter.expand",
    "Add one paragraph about one product to a long field that is under its minimum.",
    ExpandInputs,
    output=SectionAnswer,
    answer_model=SECTION_ANSWER_MODEL,
)
RETELL: AnswerRole[SectionAnswer] = AnswerRole(
    "copywriter.retell",
    "Add one paragraph that retells a passage of the brand's documents to a story under its minimum.",
    RetellInputs,
    output=SectionAnswer,
    answer_model=SECTION_ANSWER_MODEL,
)
REVISE: AnswerRole[DraftAnswer] = AnswerRole(
    "copywriter.revise",
    "Rewrite a channel's piece to address a list of requests (review requests, compliance findings).",
    ReviseInputs,
    output=DraftAnswer,
)
REVIEW: AnswerRole[ReviewAnswer] = AnswerRole(
    "reviewer.review",
    "Score a draft on voice fit, brief coverage, grounding and channel fit, with revision requests.",
    ReviewInputs,
    output=ReviewAnswer,
    answer_model=REVIEW_ANSWER_MODEL,
)
CLAIMS: AnswerRole[ClaimsAnswer] = AnswerRole(
    "compliance.claims",
    "Judge, sentence by sentence, whether the retrieved passages support a piece's claims.",
    ClaimsInputs,
    output=ClaimsAnswer,
)
RUBRIC: AnswerRole[RubricAnswer] = AnswerRole(
    "evals.rubric",
    "Score one text against one criterion (1-5) with a one-sentence reason, for llm_rubric evals.",
    RubricInputs,
    output=RubricAnswer,
    answer_model=RUBRIC_ANSWER_MODEL,
)

JUDGE: AnswerRole[RulingAnswer] = AnswerRole(
    "compliance.judge",
    "Rule whether a sentence the checker is unsure of breaks one of its candidate compliance categories.",
    JudgeInputs,
    output=RulingAnswer,
)

STANCE: AnswerRole[StanceAnswer] = AnswerRole(
    "monitor.stance",
    "Say whether a customer mention the sentiment classifier was unsure of is positive, negative or neutral "
    "toward the monitored brand.",
    StanceInputs,
    output=StanceAnswer,
    answer_model=STANCE_ANSWER_MODEL,
)
TOPIC_LABEL: AnswerRole[TopicLabelAnswer] = AnswerRole(
    "monitor.topic_label",
    "Name a cluster of customer mentions in a few words.",
    TopicLabelInputs,
    output=TopicLabelAnswer,
    answer_model=TOPIC_LABEL_ANSWER_MODEL,
)

ROLES: dict[str, Role] = {
    role.name: role
    for role in (
        SYSTEM,
        BRIEF,
        DRAFT,
        OUTLINE,
        SECTION,
        EXPAND,
        RETELL,
        REVISE,
        REVIEW,
        CLAIMS,
        RUBRIC,
        JUDGE,
        STANCE,
        TOPIC_LABEL,
    )
}


def get_role(name: str) -> Role:
    """The role named ``name``; an unknown name lists the valid ones."""
    try:
        return ROLES[name]
    except KeyError:
        raise InputError(f"unknown role {name!r}; valid choices: {sorted(ROLES)}") from None


@dataclass(frozen=True)
class PromptSlot:
    """A place in an agent for one prompt: the role it takes, and the version used when a pipeline
    names none."""

    role: Role
    default: str
