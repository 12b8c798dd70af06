"""Copywriter: one draft per channel from the brief, and revisions on request.

Reads ``brand``, ``channels``, ``passages``, ``brief``; writes ``drafts``. The schema of a draft is the
channel's fields (each bounded for generation) plus citations constrained to retrieved passage aliases.
:func:`revise` is shared with the reviewer and compliance steps: it rewrites a draft to address a list
of concrete requests. A threaded draft prompt's turn is marked with the draft as the model wrote it, so
later turns know whether the conversation still shows the draft as it is (:func:`edited_view`); revision
prompts take the draft as a variable, and the review after one restates it. A channel whose draft
cannot be produced is recorded in ``state.errors`` and the other channels go on — one bad answer never
loses the rest of the campaign.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, create_model

from agents.base import (
    Agent,
    RunContext,
    StructuredOutputError,
    ask,
    conversation,
    language_name,
    mark_turn,
    text_field,
)
from agents.channels import ChannelSpec
from agents.state import CampaignState, Draft, Revision
from agents.strategist import aliases_to_ids, citation_list
from knowledge.chunking import keep_sentences
from prompts import Prompt

_STRICT = ConfigDict(extra="forbid")
# llama.cpp expands maxLength into nested rules and rejects (then crashes on) large ones: above this
# bound, max_tokens limits generation instead and the length checks catch the rest.
_GRAMMAR_LENGTH_CAP = 300


def draft_model(channel: ChannelSpec, state: CampaignState) -> type[BaseModel]:
    """The copywriter's output model for ``channel``: its fields with their bounds, citations limited to
    the retrieved passages. Built once per (channel fields, passage aliases) and reused."""
    bounds = tuple((spec.name, spec.schema_max_chars()) for spec in channel.fields)
    return _draft_model(channel.name, bounds, tuple(p.alias for p in state.passages))


@functools.lru_cache(maxsize=256)
def _draft_model(
    channel: str, bounds: tuple[tuple[str, int], ...], aliases: tuple[str, ...]
) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for name, bound in bounds:
        fields[name] = (text_field(bound if bound <= _GRAMMAR_LENGTH_CAP else None), ...)
    fields_model = create_model(f"{channel.title().replace('_', '')}Fields", __config__=_STRICT, **fields)
    # Citations come first: if max_tokens cuts the answer off, it is cut inside the last text field,
    # and the structure can still be closed and used (see agents.base.close_truncated_json).
    return create_model(
        "DraftOut",
        __config__=_STRICT,
        citations=(citation_list(aliases), ...),
        fields=(fields_model, ...),
    )


def drop_repeated_sentences(text: str) -> str:
    """Remove sentences that already appeared earlier in the text (small models loop)."""
    seen: set[str] = set()

    def first_time(sentence: str) -> bool:
        key = sentence.strip().casefold()
        if key in seen:
            return False
        seen.add(key)
        return True

    return keep_sentences(text, first_time)


def _to_draft(out: Any, channel: ChannelSpec, state: CampaignState) -> Draft:
    fields = {name: drop_repeated_sentences(str(value)) for name, value in out.fields.model_dump().items()}
    return Draft(channel=channel.name, fields=fields, citations=aliases_to_ids(out.citations, state.passages))


def _alias_view(draft: Draft, state: CampaignState) -> Draft:
    # Prompts show citations as aliases (P3), the form the model can answer with.
    by_id = {p.id: p.alias for p in state.passages}
    return draft.model_copy(update={"citations": [by_id.get(c, c) for c in draft.citations]})


def _as_written(out: Any, channel: ChannelSpec) -> Draft:
    """The draft exactly as the model's answer shows it (citations as aliases), for the thread."""
    fields = {name: str(value) for name, value in out.fields.model_dump().items()}
    return Draft(channel=channel.name, fields=fields, citations=list(dict.fromkeys(out.citations)))


def edited_view(state: CampaignState, channel: ChannelSpec, draft: Draft, budget: int) -> Draft | None:
    """``draft`` (citations as aliases) when the channel's conversation does not show it as it is now
    (edited since the model wrote it, or its turn left out); None when the latest draft turn shows it."""
    current = _alias_view(draft, state)
    shown = next((t.draft for t in reversed(conversation(state, channel.name, budget)) if t.draft), None)
    if shown is not None and shown.fields == current.fields and shown.citations == current.citations:
        return None
    return current


def brief_shown(state: CampaignState, channel: ChannelSpec, budget: int) -> bool:
    """Whether a threaded prompt about ``channel`` is sent after the brief's turn."""
    return any(t.shows == "brief" for t in conversation(state, channel.name, budget))


def revise(
    ctx: RunContext,
    state: CampaignState,
    *,
    agent: str,
    prompt: Prompt,
    channel: ChannelSpec,
    draft: Draft,
    requests: list[str],
    by: Literal["reviewer", "compliance"],
    max_repairs: int = 2,
) -> Draft:
    """Rewrite ``draft`` to address ``requests``; records the revision. Keeps the old draft on failure."""
    rounds = state.revisions.setdefault(channel.name, [])
    rounds.append(Revision(round=len(rounds) + 1, by=by, requests=requests))
    ctx.progress(f"{agent}: revising {channel.name} ({len(requests)} request(s))")
    try:
        out: Any = ask(
            ctx,
            state,
            agent=agent,
            prompt=prompt,
            channel=channel.name,
            variables={
                "brand": state.brand,
                "channel": channel,
                "draft": _alias_view(draft, state),
                "requests": requests,
            },
            output=draft_model(channel, state),
            max_tokens=channel.max_tokens,
            max_repairs=max_repairs,
        )
    except StructuredOutputError:
        return draft
    return _to_draft(out, channel, state)


class SendsBack(Agent):
    """For agents with a ``revise`` prompt role: send a draft back to the copywriter with requests."""

    def send_back(
        self,
        ctx: RunContext,
        state: CampaignState,
        channel: ChannelSpec,
        draft: Draft,
        requests: list[str],
        by: Literal["reviewer", "compliance"],
    ) -> Draft:
        return revise(
            ctx,
            state,
            agent=self.name,
            prompt=self.prompts["revise"],
            channel=channel,
            draft=draft,
            requests=requests,
            by=by,
            max_repairs=self.params.max_repairs,
        )


class Copywriter(Agent):
    name: ClassVar[str] = "copywriter"
    reads: ClassVar[frozenset[str]] = frozenset({"brand", "channels", "passages", "brief"})
    writes: ClassVar[frozenset[str]] = frozenset({"drafts"})
    roles: ClassVar[dict[str, str]] = {"draft": "copywriter.draft@2"}

    def run(self, state: CampaignState, ctx: RunContext) -> None:
        assert state.brief is not None
        for channel in state.channels:
            ctx.progress(f"copywriter: drafting {channel.name}")
            variables = {
                "brand": state.brand,
                "language_name": language_name(state),
                "channel": channel,
                "brief": _brief_with_aliases(state),
                "brief_shown": brief_shown(state, channel, ctx.thread_budget(state)),
                "angle": state.brief.channel_angles.get(channel.name, state.brand.positioning),
                "channel_inputs": state.brand.channel_inputs.get(channel.name, {}),
                "focus": focus_passages(ctx, state, channel),
            }
            try:
                out: Any = ask(
                    ctx,
                    state,
                    agent=self.name,
                    prompt=self.prompts["draft"],
                    channel=channel.name,
                    variables=variables,
                    output=draft_model(channel, state),
                    max_tokens=channel.max_tokens,
                    max_repairs=self.params.max_repairs,
                )
            except StructuredOutputError as exc:
                state.errors[channel.name] = str(exc)
                continue
            mark_turn(
                state, self.prompts["draft"], channel.name, shows="draft", draft=_as_written(out, channel)
            )
            state.drafts[channel.name] = _to_draft(out, channel, state)


def focus_passages(ctx: RunContext, state: CampaignState, channel: ChannelSpec, k: int = 2) -> list[str]:
    """Aliases of the retrieved passages that best answer a channel's inputs (the customer's question)."""
    queries = list(state.brand.channel_inputs.get(channel.name, {}).values())
    if not queries:
        return []
    by_id = {p.id: p.alias for p in state.passages}
    hits = ctx.index.search_many(queries, k=len(state.passages) or 1)
    return [by_id[h.passage.id] for h in hits if h.passage.id in by_id][:k]


def _brief_with_aliases(state: CampaignState) -> Any:
    assert state.brief is not None
    by_id = {p.id: p.alias for p in state.passages}
    messages = [
        m.model_copy(update={"citations": [by_id.get(c, c) for c in m.citations]})
        for m in state.brief.key_messages
    ]
    return state.brief.model_copy(update={"key_messages": messages})
