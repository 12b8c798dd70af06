"""Copywriter: one draft per channel from the brief; long fields outline-first, section by section.

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

Outline-first (``outline_first``, off by default): a channel with a field that has ``sections`` (the blog
body) is planned with the ``copywriter.outline`` role — the short fields written out, one plan per
section — and the long field is then written one section per ``copywriter.section`` call, each given
the outline and the end of the text so far. Meant for a model that writes what each call asks for: on
the 1.5B embedded model the sections came out at 20-40 words and the blog no longer than one call's
(docs/quality.md), so the default is one draft call. If the outline
cannot be had, the channel is drafted in one call as before; a section that fails is left out.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from agents.base import (
    Agent,
    AgentParams,
    RunContext,
    StructuredOutputError,
    answer_was_cut,
    ask,
    language_name,
)
from agents.channels import ChannelSpec, FieldSpec
from agents.citations import aliases, aliases_to_ids, brief_with_aliases
from agents.drafts import draft_as_written, draft_from_answer, drop_repeated_sentences
from agents.fanout import for_each_channel
from agents.featured import featured_product
from agents.lengthen import lengthened, retold
from agents.quality import passages_for_inputs
from agents.revision import paragraphs_kept
from agents.roles import (
    DRAFT,
    EXPAND,
    OUTLINE,
    RETELL,
    SECTION,
    DraftInputs,
    OutlineInputs,
    PromptSlot,
    SectionInputs,
    draft_answer_model,
    outline_answer_model,
)
from agents.state import CampaignState, CreativeBrief, Draft
from agents.story import channel_story, passage_texts, story_source, story_text
from agents.threads import brief_shown, mark_turn
from knowledge.chunking import Passage
from policy.facts import case_rows


class CopywriterParams(AgentParams):
    outline_first: bool = Field(
        False, description="Write fields with `sections` (a blog body) outline-first, section by section."
    )
    expand_paragraphs: int = Field(
        3,
        ge=0,
        le=8,
        description="A field with `sections` (a blog body) that comes out under its minimum gets up to this "
        "many more paragraphs, one call each, each about one of the brand's products, those whose facts it "
        "gives least of first, from the product's own facts (0: none).",
    )
    retell_paragraphs: int = Field(
        6,
        ge=0,
        le=12,
        description="A story (features: story, the blog) that comes out under its minimum gets up to this "
        "many more paragraphs, one call each, each retelling a passage of the story it does not tell yet "
        "(0: none). A story's passages are about 50 words of prose each.",
    )
    expand_headroom: float = Field(
        1.3,
        ge=1.0,
        le=2.0,
        description="Lengthen such a field up to this multiple of its minimum: the compliance editor drops "
        "the sentences it cannot publish (a quarter to a third of the embedded model's blogs, 2026-12-05), "
        "and a blog that ends under its minimum is not delivered.",
    )


class Copywriter(Agent):
    name: ClassVar[str] = "copywriter"
    reads: ClassVar[frozenset[str]] = frozenset({"brand", "channels", "passages", "brief", "threads"})
    writes: ClassVar[frozenset[str]] = frozenset({"drafts", "trace", "threads", "errors"})
    slots: ClassVar[dict[str, PromptSlot]] = {
        "draft": PromptSlot(DRAFT, "copywriter.draft@2"),
        "outline": PromptSlot(OUTLINE, "copywriter.outline@1"),
        "section": PromptSlot(SECTION, "copywriter.section@1"),
        "expand": PromptSlot(EXPAND, "copywriter.expand@2"),
        "story": PromptSlot(DRAFT, "copywriter.story@1"),
        "retell": PromptSlot(RETELL, "copywriter.retell@1"),
    }
    Params = CopywriterParams
    params: CopywriterParams

    def run(self, state: CampaignState, ctx: RunContext) -> None:
        assert state.brief is not None
        brief = brief_with_aliases(state.brief, state.passages)
        for_each_channel(ctx, state, lambda fork, channel: self._draft(fork, ctx, channel, brief))

    def _draft(
        self, state: CampaignState, ctx: RunContext, channel: ChannelSpec, brief: CreativeBrief
    ) -> None:
        """Draft ``channel`` into ``state`` (its fork: this channel's entries only), then lengthen a long
        field that came out under its minimum (:meth:`_expand`; a story's, :meth:`_retell`)."""
        story = channel_story(ctx.index, state, channel)  # searched once, for the draft and its lengthening
        self._first_draft(state, ctx, channel, brief, story)
        if channel.name not in state.drafts:
            return
        if channel.features == "story":
            self._retell(state, ctx, channel, story)
        else:
            self._expand(state, ctx, channel)

    def _first_draft(
        self,
        state: CampaignState,
        ctx: RunContext,
        channel: ChannelSpec,
        brief: CreativeBrief,
        story: list[Passage],
    ) -> None:
        assert state.brief is not None
        long_field = next((f for f in channel.fields if f.sections), None)
        if long_field is not None and self.params.outline_first:
            draft = self._draft_in_sections(state, ctx, channel, brief, long_field)
            if draft is not None:
                state.drafts[channel.name] = draft
                return
        ctx.progress(f"copywriter: drafting {channel.name}")
        channel_inputs = state.brand.channel_inputs.get(channel.name, {})
        answering = passages_for_inputs(ctx, state, channel)
        inputs = DraftInputs(
            brand=state.brand,
            language_name=language_name(state),
            channel=channel,
            brief=brief,
            brief_shown=brief_shown(state, channel, ctx.thread_budget(state)),
            angle=state.brief.channel_angles.get(channel.name, state.brand.positioning),
            channel_inputs=channel_inputs,
            focus=[p.alias for p in answering]
            or [p.alias for p in state.passages if p.id in {s.id for s in story}],
            case_rows=case_rows(list(channel_inputs.values()), [p.text for p in answering]),
            featured=featured_product(state.brand, state.brief, channel),
            story=story_source(story, ctx.index),
        )
        prompt = self.prompts["story"] if story else self.prompts["draft"]
        try:
            answer = ask(
                ctx,
                state,
                agent=self.name,
                prompt=prompt,
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
        mark_turn(state, prompt, channel.name, shows="draft", draft=draft_as_written(answer, channel))
        draft = draft_from_answer(answer, channel, state.passages, cut_off=answer_was_cut(state))
        if story:
            draft = self._story_paragraphs(channel, draft, story)
        state.drafts[channel.name] = draft

    @staticmethod
    def _story_paragraphs(channel: ChannelSpec, draft: Draft, story: list[Passage]) -> Draft:
        """A story's long field written as one block, broken into paragraphs where the story's own lines
        end (:func:`agents.revision.paragraphs_kept`): Qingyu's story blog of stop 44 came back as one
        600-character paragraph, its source in six."""
        spec = next((f for f in channel.fields if f.sections), None)
        text = draft.fields.get(spec.name, "") if spec is not None else ""
        if spec is None or not text:
            return draft
        source = "\n".join(story_text(p.text) for p in story)
        return draft.model_copy(update={"fields": {**draft.fields, spec.name: paragraphs_kept(source, text)}})

    def _retell(
        self, state: CampaignState, ctx: RunContext, channel: ChannelSpec, story: list[Passage]
    ) -> None:
        """Bring a story's long field up to its minimum times ``expand_headroom`` with at most
        ``retell_paragraphs`` paragraphs, each retelling a passage of the story it does not tell yet
        (:func:`agents.lengthen.retold`); a story is never lengthened with product paragraphs, which is
        what made the blogs about the brand a catalogue of blurbs."""
        longer = retold(
            ctx,
            state,
            agent=self.name,
            prompt=self.prompts["retell"],
            channel=channel,
            draft=state.drafts[channel.name],
            texts=passage_texts(story, ctx.index),
            headroom=self.params.expand_headroom,
            calls=self.params.retell_paragraphs,
            max_repairs=self.params.max_repairs,
        )
        if longer is not None:
            state.drafts[channel.name] = longer

    def _expand(self, state: CampaignState, ctx: RunContext, channel: ChannelSpec) -> None:
        """Bring the channel's long field up to its minimum times ``expand_headroom`` (room for the
        sentences compliance drops) with at most ``expand_paragraphs`` paragraphs on the brand's products
        (:func:`agents.lengthen.lengthened`)."""
        longer = lengthened(
            ctx,
            state,
            agent=self.name,
            prompt=self.prompts["expand"],
            channel=channel,
            draft=state.drafts[channel.name],
            headroom=self.params.expand_headroom,
            calls=self.params.expand_paragraphs,
            max_repairs=self.params.max_repairs,
            featured=featured_product(state.brand, state.brief, channel) if state.brief else None,
        )
        if longer is not None:
            state.drafts[channel.name] = longer

    def _draft_in_sections(
        self,
        state: CampaignState,
        ctx: RunContext,
        channel: ChannelSpec,
        brief: CreativeBrief,
        long_field: FieldSpec,
    ) -> Draft | None:
        """The draft written outline-first (see the module docstring); None when no outline came back."""
        assert state.brief is not None and long_field.sections is not None
        n = long_field.sections
        ctx.progress(f"copywriter: outlining {channel.name} ({n} sections)")
        try:
            outline = ask(
                ctx,
                state,
                agent=self.name,
                prompt=self.prompts["outline"],
                role=OUTLINE,
                inputs=OutlineInputs(
                    brand=state.brand,
                    language_name=language_name(state),
                    channel=channel,
                    brief=brief,
                    # Only a threaded outline prompt is sent after the conversation that shows the brief.
                    brief_shown=self.prompts["outline"].thread
                    and brief_shown(state, channel, ctx.thread_budget(state)),
                    angle=state.brief.channel_angles.get(channel.name, state.brand.positioning),
                    long_field=long_field,
                    sections=n,
                ),
                answer_model=outline_answer_model(channel, long_field.name, n, aliases(state.passages)),
                channel=channel.name,
                max_tokens=120 + 90 * n,
                max_repairs=self.params.max_repairs,
            )
        except StructuredOutputError:
            return None
        target = (long_field.min_words or 0) + (long_field.max_words or long_field.min_words or 300)
        words = max(40, round(target / 2 / n))
        title = "; ".join(f"{k}: {v}" for k, v in outline.fields.items())
        parts: list[str] = []
        cut_off = False
        for index in range(1, n + 1):
            ctx.progress(f"copywriter: writing {channel.name} section {index}/{n}")
            try:
                section = ask(
                    ctx,
                    state,
                    agent=self.name,
                    prompt=self.prompts["section"],
                    role=SECTION,
                    inputs=SectionInputs(
                        brand=state.brand,
                        language_name=language_name(state),
                        channel=channel,
                        long_field=long_field,
                        title=title,
                        outline=outline.sections,
                        index=index,
                        words=words,
                        previous="\n\n".join(parts)[-300:],
                    ),
                    channel=channel.name,
                    max_tokens=60 + words * 3,
                    max_repairs=self.params.max_repairs,
                )
            except StructuredOutputError:
                continue
            cut_off = answer_was_cut(state) and index == n
            if section.text.strip():
                parts.append(section.text.strip())
        if not parts:
            return None
        cited = [*outline.citations, *(c for plan in outline.sections for c in plan.citations)]
        fields = {spec.name: outline.fields.get(spec.name, "") for spec in channel.fields}
        fields[long_field.name] = drop_repeated_sentences("\n\n".join(parts))
        return Draft(
            channel=channel.name,
            fields=fields,
            citations=aliases_to_ids(cited, state.passages),
            cut_off=[long_field.name] if cut_off else [],
        )
