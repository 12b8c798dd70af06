"""Strategist: positioning + brand + passages -> a creative brief with cited key messages.

Reads ``brand``, ``channels``, ``passages``; writes ``brief``. The output schema is built per campaign:
citations can only be aliases of retrieved passages and angles only name requested channels, so the
backend's constrained decoding makes invalid references impossible rather than merely unlikely.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from agents.base import Agent, RunContext, ask
from agents.state import CampaignState, CreativeBrief, KeyMessage, RetrievedPassage

_STRICT = ConfigDict(extra="forbid")


def citation_type(passages: list[RetrievedPassage]) -> Any:
    """A list of passage aliases (constrained to those retrieved), at most 3."""
    if not passages:
        return Annotated[list[str], Field(max_length=0)]
    alias = Literal[tuple(p.alias for p in passages)]  # type: ignore[valid-type]
    return Annotated[list[alias], Field(max_length=3)]  # type: ignore[valid-type]


def aliases_to_ids(aliases: list[str], passages: list[RetrievedPassage]) -> list[str]:
    by_alias = {p.alias: p.id for p in passages}
    return list(dict.fromkeys(by_alias[a] for a in aliases if a in by_alias))


def brief_model(passages: list[RetrievedPassage], channels: list[str]) -> type[BaseModel]:
    cites = citation_type(passages)
    message = create_model(
        "KeyMessageOut",
        __config__=_STRICT,
        text=(Annotated[str, Field(min_length=1, max_length=240)], ...),
        citations=(cites, ...),
    )
    angle = create_model(
        "ChannelAngleOut",
        __config__=_STRICT,
        channel=(Literal[tuple(channels)], ...),  # type: ignore[valid-type]
        angle=(Annotated[str, Field(min_length=1, max_length=300)], ...),
    )
    return create_model(
        "CreativeBriefOut",
        __config__=_STRICT,
        audience_insight=(Annotated[str, Field(min_length=1, max_length=400)], ...),
        key_messages=(Annotated[list[message], Field(min_length=3, max_length=5)], ...),  # type: ignore[valid-type]
        tone=(Annotated[str, Field(min_length=1, max_length=120)], ...),
        channel_angles=(Annotated[list[angle], Field(min_length=1, max_length=len(channels))], ...),  # type: ignore[valid-type]
    )


class Strategist(Agent):
    name: ClassVar[str] = "strategist"
    reads: ClassVar[frozenset[str]] = frozenset({"brand", "channels", "passages"})
    writes: ClassVar[frozenset[str]] = frozenset({"brief"})
    roles: ClassVar[dict[str, str]] = {"brief": "strategist.brief@1"}

    def run(self, state: CampaignState, ctx: RunContext) -> None:
        ctx.progress("strategist: writing the creative brief")
        names = [c.name for c in state.channels]
        out: Any = ask(
            ctx,
            state,
            agent=self.name,
            prompt=self.prompts["brief"],
            variables={"brand": state.brand, "channels": state.channels},
            output=brief_model(state.passages, names),
            max_repairs=self.params.max_repairs,
        )
        state.brief = CreativeBrief(
            audience_insight=out.audience_insight.strip(),
            key_messages=[
                KeyMessage(text=m.text.strip(), citations=aliases_to_ids(m.citations, state.passages))
                for m in out.key_messages
            ],
            tone=out.tone.strip(),
            channel_angles={a.channel: a.angle.strip() for a in out.channel_angles},
        )
