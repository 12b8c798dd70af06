"""Strategist: positioning + brand + passages -> a creative brief with cited key messages.

Reads ``brand``, ``channels``, ``passages``; writes ``brief``. The output schema is built per campaign:
citations can only be aliases of retrieved passages and angles only name requested channels, so the
backend's constrained decoding makes invalid references impossible rather than merely unlikely. The
brief is model-written text that reaches readers (the campaign's JSON and markdown) and later prompts:
it is sanitised like a piece (markup, scripts and links to hosts the brand does not allow removed).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, create_model

from agents.base import Agent, RunContext, ask, language_name, list_of, mark_turn, one_of, text_field
from agents.state import CampaignState, CreativeBrief, KeyMessage, RetrievedPassage
from policy.detectors import sanitize_markup

_STRICT = ConfigDict(extra="forbid")


def citation_type(passages: list[RetrievedPassage]) -> Any:
    """A list of passage aliases (constrained to those retrieved), at most 3."""
    return citation_list(tuple(p.alias for p in passages))


def citation_list(aliases: tuple[str, ...]) -> Any:
    """A list of at most 3 of ``aliases`` (none allowed when there are no passages)."""
    if not aliases:
        return list_of(str, max_items=0)
    return list_of(one_of(list(aliases)), max_items=3)


def aliases_to_ids(aliases: list[str], passages: list[RetrievedPassage]) -> list[str]:
    by_alias = {p.alias: p.id for p in passages}
    return list(dict.fromkeys(by_alias[a] for a in aliases if a in by_alias))


def brief_model(passages: list[RetrievedPassage], channels: list[str]) -> type[BaseModel]:
    message = create_model(
        "KeyMessageOut",
        __config__=_STRICT,
        text=(text_field(240), ...),
        citations=(citation_type(passages), ...),
    )
    angle = create_model(
        "ChannelAngleOut", __config__=_STRICT, channel=(one_of(channels), ...), angle=(text_field(300), ...)
    )
    fields: dict[str, Any] = {
        "audience_insight": (text_field(400), ...),
        "key_messages": (list_of(message, min_items=3, max_items=5), ...),
        "tone": (text_field(120), ...),
        "channel_angles": (list_of(angle, min_items=1, max_items=len(channels)), ...),
    }
    return create_model("CreativeBriefOut", __config__=_STRICT, **fields)


class Strategist(Agent):
    name: ClassVar[str] = "strategist"
    reads: ClassVar[frozenset[str]] = frozenset({"brand", "channels", "passages"})
    writes: ClassVar[frozenset[str]] = frozenset({"brief"})
    roles: ClassVar[dict[str, str]] = {"brief": "strategist.brief@2"}

    def run(self, state: CampaignState, ctx: RunContext) -> None:
        ctx.progress("strategist: writing the creative brief")
        names = [c.name for c in state.channels]
        out: Any = ask(
            ctx,
            state,
            agent=self.name,
            prompt=self.prompts["brief"],
            variables={
                "brand": state.brand,
                "channels": state.channels,
                "language_name": language_name(state),
            },
            output=brief_model(state.passages, names),
            max_repairs=self.params.max_repairs,
        )
        mark_turn(state, self.prompts["brief"], None, shows="brief")
        hosts = state.brand.compliance.allowed_hosts

        def clean(text: str) -> str:
            return sanitize_markup(text.strip(), hosts)[0]

        state.brief = CreativeBrief(
            audience_insight=clean(out.audience_insight),
            key_messages=[
                KeyMessage(text=clean(m.text), citations=aliases_to_ids(m.citations, state.passages))
                for m in out.key_messages
            ],
            tone=clean(out.tone),
            channel_angles={a.channel: clean(a.angle) for a in out.channel_angles},
        )
