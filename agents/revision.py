"""Revision: sending a draft back to the copywriter's revise role with a list of requests.

Contract: :func:`revise` asks the ``copywriter.revise`` role (:data:`agents.roles.REVISE`) to rewrite a
draft so that it addresses ``requests`` and returns the new draft; on a model failure it keeps the old one.
It records the round in ``state.revisions[channel]`` (who asked, what, the fields before and after). A long
field the revision would shrink below its minimum is kept as it was (:func:`kept_long_fields`). The agent
that sends a draft back makes the call under its own name and prompt: an agent using :class:`SendsBack`
has a ``revise`` slot and declares ``revisions``, ``trace`` and ``threads`` among the fields it reads and
writes.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from agents.base import Agent, RunContext, StructuredOutputError, answer_was_cut, ask
from agents.channels import ChannelSpec
from agents.citations import alias_view, aliases
from agents.drafts import draft_from_answer
from agents.roles import REVISE, PromptSlot, ReviseInputs, draft_answer_model
from agents.state import CampaignState, Draft, Revision
from prompts import Prompt

# The state fields a revision touches, for the declarations of the agents that send drafts back.
REVISION_READS = frozenset({"brand", "passages", "revisions", "threads"})
REVISION_WRITES = frozenset({"revisions", "trace", "threads"})


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
    rounds.append(Revision(round=len(rounds) + 1, by=by, requests=requests, before=draft.fields))
    ctx.progress(f"{agent}: revising {channel.name} ({len(requests)} request(s))")
    try:
        answer = ask(
            ctx,
            state,
            agent=agent,
            prompt=prompt,
            role=REVISE,
            inputs=ReviseInputs(
                brand=state.brand,
                channel=channel,
                draft=alias_view(draft, state.passages),
                requests=requests,
            ),
            answer_model=draft_answer_model(channel, aliases(state.passages)),
            channel=channel.name,
            max_tokens=channel.max_tokens,
            max_repairs=max_repairs,
        )
    except StructuredOutputError:
        revised = draft
    else:
        answered = draft_from_answer(answer, channel, state.passages, cut_off=answer_was_cut(state))
        revised = kept_long_fields(channel, draft, answered)
    rounds[-1] = rounds[-1].model_copy(update={"after": revised.fields})
    return revised


def kept_long_fields(channel: ChannelSpec, before: Draft, after: Draft) -> Draft:
    """``after``, except that a field with a minimum length that met it before and not after is kept as
    it was: a small model asked to fix one sentence of a 450-word blog rewrites it as 150 words, and a
    thin piece is worse than one sentence the checks can still send back or remove."""
    fields, cut_off = dict(after.fields), list(after.cut_off)
    for spec in channel.fields:
        old, new = before.fields.get(spec.name, ""), after.fields.get(spec.name, "")
        if spec.min_words and not spec.shortfalls(old) and spec.shortfalls(new):
            fields[spec.name] = old
            cut_off = [n for n in cut_off if n != spec.name] + [n for n in before.cut_off if n == spec.name]
        elif spec.sections and new:
            fields[spec.name] = paragraphs_kept(old, new)
    return after.model_copy(update={"fields": fields, "cut_off": cut_off})


def paragraphs_kept(old: str, new: str) -> str:
    """``new``, a revision of the long field ``old``, with ``old``'s paragraph breaks put back where the
    model ran its paragraphs together: after each sentence that ended a paragraph of ``old`` and that
    ``new`` still has, followed by more text. A Tidewater blog of stop 44 came back from a one-line fix as
    one 200-word paragraph; a blog reader reads paragraphs."""
    if "\n" in new.strip():
        return new
    for paragraph in (p.strip() for p in old.split("\n") if p.strip()):
        ends = paragraph[-40:]
        at = new.find(ends)
        if at < 0:
            continue
        cut = at + len(ends)
        rest = new[cut:].lstrip(" ")
        if rest and not rest.startswith("\n"):
            new = f"{new[:cut]}\n\n{rest}"
    return new


class SendsBack(Agent):
    """For agents with a ``revise`` slot: send a draft back to the copywriter's revise role."""

    REVISE_SLOT: ClassVar[PromptSlot] = PromptSlot(REVISE, "copywriter.revise@1")

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
