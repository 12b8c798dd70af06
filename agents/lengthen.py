"""Lengthening a long field with paragraphs about the brand's products, one model call each.

Contract: :func:`product_paragraphs` adds paragraphs (the ``copywriter.expand`` role,
:data:`agents.roles.EXPAND`) to a long field (one with ``sections``: the blog body) while it is under a
target length, each about one of the brand's products, from that product's own sheet in brand.yaml, set
before the text's closing paragraph, without the sentences that restate the text. A piece about one
product (``featured``: a channel with ``features: product``) grows by that product only: one paragraph per
retrieved passage about it that the text does not tell yet, then one from its sheet. Shared by the copywriter
(a first draft under its minimum) and compliance (a field its cuts left under its minimum); each agent
makes the calls under its own name, with its own ``expand`` prompt slot. A call that fails or is cut off
adds nothing.

A piece that retells the brand's documents (a story: :mod:`agents.story`) grows by the story itself
instead (:func:`retold`): one ``copywriter.retell`` call per passage of the story the text does not tell
yet, in the story's order.
"""

from __future__ import annotations

import math

from agents.base import RunContext, StructuredOutputError, answer_was_cut, ask, language_name
from agents.channels import ChannelSpec, FieldSpec, count_words
from agents.quality import finish_fields
from agents.retriever import answers_customers, chinese_short_names, names_product
from agents.roles import EXPAND, RETELL, ExpandInputs, RetellInputs
from agents.state import CampaignState, Draft, fact_passages
from knowledge.brand import Product
from policy.claims import coverage, sentence_spans
from prompts import Prompt


def lengthened(
    ctx: RunContext,
    state: CampaignState,
    *,
    agent: str,
    prompt: Prompt,
    channel: ChannelSpec,
    draft: Draft,
    headroom: float,
    calls: int,
    max_repairs: int = 2,
    featured: Product | None = None,
    field: FieldSpec | None = None,
) -> Draft | None:
    """``draft`` with its long field (``field``, else the first with ``sections`` and a minimum: the blog
    body) brought
    up to ``headroom`` times its minimum by :func:`product_paragraphs`; None when the channel has no such
    field, ``calls`` is 0, or nothing was added. A field the model's answer was cut off in is first cut
    back to its last finished sentence (:func:`agents.quality.finish_fields`, the last resort's fix, which
    also takes it off ``cut_off``); with none left it is the quality checks' case and nothing is added.
    Why: a Qingyu blog of stop 43 looped on one sentence until the token limit, so its body was cut off
    at 180 words and was never lengthened."""
    found = _long_field(channel, draft, field) if calls else None
    if found is None:
        return None
    spec, draft = found
    before = draft.fields.get(spec.name, "").strip()
    text = product_paragraphs(
        ctx,
        state,
        agent=agent,
        prompt=prompt,
        channel=channel,
        spec=spec,
        text=before,
        target=math.ceil((spec.min_words or 0) * headroom),
        calls=calls,
        max_repairs=max_repairs,
        featured=featured,
    )
    if text == before:
        return None
    return draft.model_copy(update={"fields": {**draft.fields, spec.name: text}})


def _long_field(
    channel: ChannelSpec, draft: Draft, field: FieldSpec | None = None
) -> tuple[FieldSpec, Draft] | None:
    """The channel's long field (``field``, else the first with ``sections`` and a minimum: the blog body)
    and ``draft`` with that field cut back to its last finished sentence if the model's answer was cut off
    in it (:func:`agents.quality.finish_fields`); None when there is no such field, or none is left of it."""
    spec = field or next((f for f in channel.fields if f.sections and f.min_words), None)
    if spec is None:
        return None
    if spec.name in draft.cut_off:
        finished = finish_fields(channel, draft)
        if spec.name in finished.cut_off:
            return None
        draft = finished
    return spec, draft


def product_paragraphs(
    ctx: RunContext,
    state: CampaignState,
    *,
    agent: str,
    prompt: Prompt,
    channel: ChannelSpec,
    spec: FieldSpec,
    text: str,
    target: int,
    calls: int,
    max_repairs: int = 2,
    featured: Product | None = None,
) -> str:
    """``text`` (a long field, ``spec``) with paragraphs about the brand's products added while it is
    under ``target`` words: one ``copywriter.expand`` call per product, at most ``calls``, those whose
    facts it gives least of first, each paragraph set before the closing one, without the sentences that
    restate the text. The copywriter lengthens a short first draft with it; compliance, a long field its
    cuts left under its minimum. A call that fails or is cut off adds nothing.

    The products whose facts the text gives least of come first, named or not ("我们有 A、B、C 三门课"
    names them and says nothing about them); a text that tells every product already gets paragraphs on
    those it tells least (Hearthline's blog of 2026-12-05 told all six and stayed at 310 words, 226 after
    the compliance editor's cuts)."""
    if not text:
        return text
    sources = (
        _featured_sources(ctx, state, featured, text)
        if featured is not None
        else [(p, "") for p in _least_told(state, text)]
    )
    calls = min(calls, len(sources))
    for n, (product, passage) in enumerate(sources[:calls]):
        short = target - count_words(text)
        if short <= 0:
            break
        # The 1.5B model writes about two thirds of the length it is asked for.
        words = max(80, min(160, round(1.5 * short / (calls - n))))
        ctx.progress(f"{agent}: lengthening {channel.name} ({product.name})")
        try:
            answer = ask(
                ctx,
                state,
                agent=agent,
                prompt=prompt,
                role=EXPAND,
                inputs=ExpandInputs(
                    brand=state.brand,
                    language_name=language_name(state),
                    channel=channel,
                    long_field=spec,
                    previous=text[-150:],
                    product=product,
                    words=words,
                    passage=passage,
                ),
                channel=channel.name,
                max_tokens=80 + words * 3,
                max_repairs=max_repairs,
            )
        except StructuredOutputError:
            continue
        paragraph = new_sentences(answer.text.strip(), text)
        if paragraph and not answer_was_cut(state):
            text = before_closing(text, paragraph)
    return text


def _least_told(state: CampaignState, text: str) -> list[Product]:
    """The brand's products, those whose sheet ``text`` tells least of first."""
    told = {p.name: coverage(" ".join([p.description, *p.facts]), text) for p in state.brand.products}
    return sorted(state.brand.products, key=lambda p: told[p.name])


# A passage whose content words the text already has this much of is told already.
TOLD_COVERAGE = 0.6


def _featured_sources(
    ctx: RunContext, state: CampaignState, product: Product, text: str
) -> list[tuple[Product, str]]:
    """What a piece about ``product`` can grow by: each retrieved passage about it (the spotlight's test,
    :func:`~agents.retriever.names_product`) that can be told to a
    customer (not the brand's notes to its writers: :func:`~agents.retriever.answers_customers`) and that
    ``text`` does not tell yet, in retrieval order; then its sheet."""
    sheets = {p.name: list(p.facts) for p in state.brand.products}
    short_names = chinese_short_names(list(sheets))
    out: list[tuple[Product, str]] = []
    for p in fact_passages(state.passages):
        indexed = ctx.index.get(p.id)
        section = indexed.section if indexed is not None else None
        if (
            names_product(p.text, section, product.name, sheets, short_names)
            and answers_customers(p.doc, section)
            and coverage(p.text, text) < TOLD_COVERAGE
        ):
            out.append((product, p.text))
    return [*out, (product, "")]


# A sentence of an added paragraph whose content words the text already has this much of repeats it.
REPEAT_COVERAGE = 0.8


def new_sentences(paragraph: str, text: str) -> str:
    """``paragraph`` without the sentences that restate ``text`` (the 1.5B model copied the end of the
    text it was shown into its paragraph, although told not to)."""
    kept = [
        paragraph[a:b]
        for a, b in sentence_spans(paragraph)
        if coverage(paragraph[a:b], text) < REPEAT_COVERAGE
    ]
    return _joiner(paragraph).join(kept).strip()


def _joiner(text: str) -> str:
    """What joins sentences of ``text`` again: nothing in Chinese, a space otherwise."""
    return "" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else " "


def before_closing(text: str, paragraph: str) -> str:
    """``text`` with ``paragraph`` set in before its last paragraph (the closing), or after it when the
    text is a single paragraph."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    if len(paragraphs) < 2:
        return f"{text}\n\n{paragraph}"
    return "\n\n".join([*paragraphs[:-1], paragraph, paragraphs[-1]])


# The least a passage's untold sentences must come to, in words, to be worth a call of their own.
MIN_UNTOLD_WORDS = 12


def untold_part(passage: str, text: str) -> str:
    """The sentences of ``passage`` that ``text`` does not tell yet (their content words it has less than
    :data:`TOLD_COVERAGE` of), in order; "" when they come to under :data:`MIN_UNTOLD_WORDS` words. A
    passage counted as told when most of it was left its other sentences out of reach: stop 50's Wanderly
    story blog stopped about 20 characters short with untold sentences in passages it had retold part of."""
    kept = [
        passage[a:b].strip()
        for a, b in sentence_spans(passage)
        if coverage(passage[a:b], text) < TOLD_COVERAGE
    ]
    part = _joiner(passage).join(kept).strip()
    return part if count_words(part) >= MIN_UNTOLD_WORDS else ""


def place_retold(text: str, paragraph: str, texts: list[str]) -> str:
    """``text`` with a retold ``paragraph`` set in before its closing paragraph, or after its last one when
    that retells one of the story's ``texts`` too (it is no closing line). Stop 50's Clearleaf blog had a
    paragraph set between "Clearleaf was founded in 2018 by…" and "Jonah ran operations…", its founding
    told in two halves around it."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    if paragraphs and any(coverage(paragraphs[-1], t) >= TOLD_COVERAGE for t in texts if t.strip()):
        return f"{text}\n\n{paragraph}"
    return before_closing(text, paragraph)


def retold(
    ctx: RunContext,
    state: CampaignState,
    *,
    agent: str,
    prompt: Prompt,
    channel: ChannelSpec,
    draft: Draft,
    texts: list[str],
    headroom: float,
    calls: int,
    max_repairs: int = 2,
) -> Draft | None:
    """``draft`` with its long field (the first with ``sections`` and a minimum: the blog body) brought up
    to ``headroom`` times its minimum by paragraphs that retell ``texts`` (the prose of the story's
    passages, in order) it does not tell yet (their content words it has less than
    :data:`TOLD_COVERAGE` of), one ``copywriter.retell`` call each, at most ``calls``, each set before the
    closing paragraph (after the last one when that retells the story too) without the sentences that
    restate the text. None when nothing was added. Why: given
    the whole story in one call, the 1.5B model retold its first part and stopped (stop 44, seed 7:
    Hearthline's blog 223 words, Clearleaf's 150, against 300). A passage told in part gives the sentences
    the text does not tell yet (:func:`untold_part`)."""
    found = _long_field(channel, draft) if calls else None
    if found is None:
        return None
    spec, draft = found
    before = text = draft.fields.get(spec.name, "").strip()
    target = math.ceil((spec.min_words or 0) * headroom)
    untold = [part for part in (untold_part(t, text) for t in texts) if part][:calls]
    for passage in untold:
        if not text or count_words(text) >= target:
            break
        ctx.progress(f"{agent}: retelling the story in {channel.name}")
        try:
            answer = ask(
                ctx,
                state,
                agent=agent,
                prompt=prompt,
                role=RETELL,
                inputs=RetellInputs(
                    brand=state.brand,
                    language_name=language_name(state),
                    channel=channel,
                    long_field=spec,
                    previous=text[-150:],
                    passage=passage,
                    words=max(40, count_words(passage)),
                ),
                channel=channel.name,
                max_tokens=120 + 3 * count_words(passage),
                max_repairs=max_repairs,
            )
        except StructuredOutputError:
            continue
        paragraph = new_sentences(answer.text.strip(), text)
        if paragraph and not answer_was_cut(state):
            text = place_retold(text, paragraph, texts)
    if text == before:
        return None
    return draft.model_copy(update={"fields": {**draft.fields, spec.name: text}})
