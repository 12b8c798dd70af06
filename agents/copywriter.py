"""Copywriter: one draft per channel from the brief.

Reads ``brand``, ``channels``, ``passages``, ``brief`` (and its channels' threads); writes ``drafts`` (and
``trace``, ``threads``, ``errors``). Its prompt serves the ``copywriter.draft`` role
(:mod:`agents.roles`): the answer's schema is the channel's fields (each bounded for generation) plus
citations constrained to retrieved passage aliases. A threaded draft prompt's turn is marked with the
draft as the model wrote it, so later turns know whether the conversation still shows the draft as it is
(:func:`agents.threads.edited_view`). Revisions are not the copywriter's step: the reviewer and compliance
send drafts back through :mod:`agents.revision`. Channels are drafted through
:func:`agents.fanout.for_each_channel` (concurrently where the backend serves several calls at once,
each on its own fork of the state). A channel whose draft cannot be produced is recorded in
``state.errors`` and the other channels go on — one bad answer never loses the rest of the campaign.
"""

from __future__ import annotations

from typing import ClassVar

from agents.base import Agent, RunContext, StructuredOutputError, ask, language_name
from agents.channels import ChannelSpec
from agents.citations import aliases, brief_with_aliases
from agents.drafts import draft_as_written, draft_from_answer
from agents.fanout import for_each_channel
from agents.quality import passages_for_inputs
from agents.roles import DRAFT, DraftInputs, PromptSlot, draft_answer_model
from agents.state import CampaignState, CreativeBrief
from agents.threads import brief_shown, mark_turn


class Copywriter(Agent):
    name: ClassVar[str] = "copywriter"
    reads: ClassVar[frozenset[str]] = frozenset({"brand", "channels", "passages", "brief", "threads"})
    writes: ClassVar[frozenset[str]] = frozenset({"drafts", "trace", "threads", "errors"})
    slots: ClassVar[dict[str, PromptSlot]] = {"draft": PromptSlot(DRAFT, "copywriter.draft@2")}

    def run(self, state: CampaignState, ctx: RunContext) -> None:
        assert state.brief is not None
        brief = brief_with_aliases(state.brief, state.passages)
        for_each_channel(ctx, state, lambda fork, channel: self._draft(fork, ctx, channel, brief))

    def _draft(
        self, state: CampaignState, ctx: RunContext, channel: ChannelSpec, brief: CreativeBrief
    ) -> None:
        """Draft ``channel`` into ``state`` (its fork: this channel's entries only)."""
        assert state.brief is not None
        ctx.progress(f"copywriter: drafting {channel.name}")
        inputs = DraftInputs(
            brand=state.brand,
            language_name=language_name(state),
            channel=channel,
            brief=brief,
            brief_shown=brief_shown(state, channel, ctx.thread_budget(state)),
            angle=state.brief.channel_angles.get(channel.name, state.brand.positioning),
            channel_inputs=state.brand.channel_inputs.get(channel.name, {}),
            focus=focus_passages(ctx, state, channel),
        )
        try:
            answer = ask(
                ctx,
                state,
                agent=self.name,
                prompt=self.prompts["draft"],
                role=DRAFT,
                inputs=inputs,
                answer_model=draft_answer_model(channel, aliases(state.passages)),
                channel=channel.name,
                max_tokens=channel.max_tokens,
                max_repairs=self.params.max_repairs,
            )
        except StructuredOutputError as exc:
            state.errors[channel.name] = str(exc)
            return
        mark_turn(
            state, self.prompts["draft"], channel.name, shows="draft", draft=draft_as_written(answer, channel)
        )
        state.drafts[channel.name] = draft_from_answer(answer, channel, state.passages)


def focus_passages(ctx: RunContext, state: CampaignState, channel: ChannelSpec, k: int = 2) -> list[str]:
    """Aliases of the retrieved passages that best answer a channel's inputs (the customer's question)."""
    return [p.alias for p in passages_for_inputs(ctx, state, channel, k)]
