"""Strategist: positioning + brand + passages -> a creative brief with cited key messages.

Reads ``brand``, ``channels``, ``passages``, ``voices`` (brand monitoring's notes), the campaign's
``instruction`` (and the campaign's thread); writes ``brief`` (and ``trace``, ``threads``). Its prompt
serves the ``strategist.brief`` role (:mod:`agents.roles`). The answer's schema is built per campaign:
citations can only be aliases of retrieved passages and angles only name requested channels, so the
backend's constrained decoding makes invalid references impossible rather than merely unlikely. The brief is
model-written text that reaches readers (the campaign's JSON and markdown) and later prompts: it is
sanitised like a piece (markup, scripts and links to hosts the brand does not allow removed)."""

from __future__ import annotations

from typing import ClassVar

from agents.base import Agent, RunContext, ask, language_name
from agents.citations import aliases, aliases_to_ids
from agents.quality import value_label
from agents.roles import BRIEF, BriefInputs, PromptSlot, brief_answer_model
from agents.state import CampaignState, CreativeBrief, KeyMessage, fact_passages
from agents.threads import mark_turn
from policy.detectors import sanitize_markup

MAX_ANSWERS = 3


def answering_customers(state: CampaignState, ctx: RunContext) -> tuple[str, ...]:
    """The aliases of the retrieved document passages that best answer what customers say (complaints
    and alerts first, then praise), at most :data:`MAX_ANSWERS`: what the brief's customer message must
    cite, so it answers a refund complaint with the refund row rather than with the brand's slogan."""
    documents = {p.id: p.alias for p in fact_passages(state.passages)}
    order = {"alert": 0, "complaint": 0, "praise": 1}
    voices = sorted(state.voices, key=lambda v: order[v.kind])
    found: list[str] = []
    for voice in voices:
        for hit in ctx.index.search(voice.text, k=8):
            alias = documents.get(hit.passage.id)
            if alias is not None and alias not in found:
                found.append(alias)
                break
    return tuple(found[:MAX_ANSWERS])


class Strategist(Agent):
    name: ClassVar[str] = "strategist"
    reads: ClassVar[frozenset[str]] = frozenset(
        {"brand", "channels", "passages", "threads", "instruction", "voices"}
    )
    writes: ClassVar[frozenset[str]] = frozenset({"brief", "trace", "threads"})
    slots: ClassVar[dict[str, PromptSlot]] = {"brief": PromptSlot(BRIEF, "strategist.brief@5")}

    def run(self, state: CampaignState, ctx: RunContext) -> None:
        ctx.progress("strategist: writing the creative brief")
        names = [c.name for c in state.channels]
        answer = ask(
            ctx,
            state,
            agent=self.name,
            prompt=self.prompts["brief"],
            role=BRIEF,
            inputs=BriefInputs(
                brand=state.brand,
                channels=state.channels,
                language_name=language_name(state),
                instruction=state.instruction,
                customer_voice=[p.alias for p in state.passages if p.kind == "customer"],
            ),
            answer_model=brief_answer_model(
                aliases(state.passages),
                tuple(names),
                tuple(p.alias for p in state.passages if p.kind == "customer"),
                answering_customers(state, ctx),
            ),
            max_repairs=self.params.max_repairs,
        )
        mark_turn(state, self.prompts["brief"], None, shows="brief")
        hosts = state.brand.compliance.allowed_hosts

        def clean(text: str) -> str:
            return sanitize_markup(text.strip(), hosts)[0]

        def unlabelled(text: str) -> str:  # "慢行探索：我们采用……" went into the copy label and all
            said = value_label(text, state.brand)
            return said[1] if said else text

        messages = [
            KeyMessage(text=unlabelled(clean(m.text)), citations=aliases_to_ids(m.citations, state.passages))
            for m in answer.key_messages
        ]
        reply = answer.customer_message
        if reply is not None:  # what the campaign says back to customers leads the brief
            cited = aliases_to_ids([*reply.customers, *reply.citations], state.passages)
            messages.insert(0, KeyMessage(text=clean(reply.text), citations=cited))
        state.brief = CreativeBrief(
            audience_insight=clean(answer.audience_insight),
            key_messages=messages,
            tone=clean(answer.tone),
            channel_angles={a.channel: clean(a.angle) for a in answer.channel_angles},
        )
