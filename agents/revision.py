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

import re
from collections.abc import Sequence
from typing import ClassVar, Literal

from agents.base import Agent, RunContext, StructuredOutputError, answer_was_cut, ask
from agents.channels import ChannelSpec
from agents.citations import alias_view, aliases
from agents.drafts import draft_from_answer
from agents.roles import REVISE, PromptSlot, ReviseInputs, draft_answer_model
from agents.state import CampaignState, Draft, Revision
from knowledge.chunking import map_sentences, split_sentences
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
        revised = kept_long_fields(channel, draft, answered, requests)
    rounds[-1] = rounds[-1].model_copy(update={"after": revised.fields})
    return revised


def kept_long_fields(
    channel: ChannelSpec, before: Draft, after: Draft, requests: Sequence[str] = ()
) -> Draft:
    """``after``, except that a field with a minimum length that met it before and not after is kept as
    it was: a small model asked to fix one sentence of a 450-word blog rewrites it as 150 words, and a
    thin piece is worse than one sentence the checks can still send back or remove. A long field keeps
    its paragraphs (:func:`paragraphs_kept`) and the figures of the sentences no request was about
    (:func:`figures_kept`)."""
    fields, cut_off = dict(after.fields), list(after.cut_off)
    for spec in channel.fields:
        old, new = before.fields.get(spec.name, ""), after.fields.get(spec.name, "")
        if spec.min_words and not spec.shortfalls(old) and spec.shortfalls(new):
            fields[spec.name] = old
            cut_off = [n for n in cut_off if n != spec.name] + [n for n in before.cut_off if n == spec.name]
        elif spec.sections and new:
            fields[spec.name] = figures_kept(old, paragraphs_kept(old, new), requests)
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


_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[A-Za-z]+|[\u4e00-\u9fff]")


def _words(sentence: str) -> set[str]:
    return {w.casefold() for w in _WORD.findall(sentence)}


def figures_kept(old: str, new: str, requests: Sequence[str] = ()) -> str:
    """``new``, a revision of the long field ``old``, with each sentence that is an old sentence
    reworded (most of its words the same) but has lost one of its figures put back as it was, unless a
    request was about it (quotes the figure or the sentence). Asked to fix a superlative elsewhere in a
    Tidewater story blog of stop 44, the model turned "Whole beans taste their best between 4 days and 6
    weeks after the roast date." into "… between 6 weeks after the roast date." (a figure lost).
    """
    asked = " ".join(requests)
    # the old sentences the revision changed (those it kept word for word are no candidates)
    olds = [(s, _words(s), _FIGURE.findall(s)) for s in split_sentences(old) if s not in new]

    def restored(sentence: str) -> str:
        words, figures = _words(sentence), set(_FIGURE.findall(sentence))
        if not words or sentence in old:  # an old sentence, kept as it was
            return sentence
        before, before_words, before_figures = max(olds, key=lambda o: len(words & o[1]))
        lost = [f for f in before_figures if f not in figures]
        reworded = len(words & before_words) >= 0.7 * max(len(words), len(before_words))
        if lost and reworded and before[:40] not in asked and not any(f in asked for f in lost):
            put_back.append(before)
            return before
        return sentence

    put_back: list[str] = []
    kept = map_sentences(new, restored) if olds else new
    return kept if put_back else new  # untouched, spacing and all, when nothing came back


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
