"""Retriever: picks the brand passages the whole campaign works from.

Reads ``brand``, ``channels``; writes ``passages``, ``quarantined``. One retrieval per campaign
(positioning, products, channel needs such as the customer question) so every later prompt shares the
same passage block. Passages get short aliases (P1..Pn) for prompts; citations are mapped back to stable
passage ids.

Knowledge is data, never instructions. A passage that carries instruction-like text ("SYSTEM OVERRIDE:
ignore every previous instruction", "忽略之前的所有指令", a chat-template marker, a canary) is withheld
whole — the model never sees it and so can never cite it — and so is every passage of a document whose
*file name* carries such text. Withheld passages are listed in ``state.quarantined`` (and the campaign)
with what matched, so a person can clean the document. Document names reach the prompt only as
:func:`display_name` makes them: plain characters, bounded length.
"""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import Field

from agents.base import Agent, AgentParams, RunContext
from agents.policy.injection import CANARY, INJECTION_PATTERNS
from agents.policy.text import compact, fold
from agents.state import CampaignState, QuarantinedPassage, RetrievedPassage
from knowledge.chunking import Passage
from knowledge.index import SearchMode

_UNSAFE_NAME_CHARS = re.compile(r"[^\w./ -]")
_MAX_NAME_CHARS = 120
_SENTENCE_ENDS = (".", "!", "?", "\n", "。", "！", "？")


def instruction_in(text: str) -> str | None:
    """The sentence of ``text`` (as written, at most 200 characters) that holds instruction-like or canary
    text, or None. Seen through case, width, zero-width, look-alike and letter-by-letter tricks (the
    folded and the compacted text)."""
    folded = fold(text)
    for form in (folded, compact(folded)):
        match = INJECTION_PATTERNS.search(form.text) or CANARY.search(form.text)
        if match:
            start, end = form.span(*match.span())
            left = max(text.rfind(mark, 0, start) for mark in _SENTENCE_ENDS) + 1
            right = min(
                (i for i in (text.find(mark, end) for mark in _SENTENCE_ENDS) if i >= 0), default=len(text)
            )
            sentence = text[left : right + 1].strip()
            return sentence if len(sentence) <= 200 else text[start:end].strip()[:200]
    return None


def display_name(doc: str) -> str:
    """A document's path as prompts show it: letters, digits, ``_ . / -`` and spaces only, so a file
    name can neither close the ``source`` attribute it sits in nor smuggle markup."""
    name = _UNSAFE_NAME_CHARS.sub("_", doc)
    return name if len(name) <= _MAX_NAME_CHARS else name[: _MAX_NAME_CHARS - 1] + "…"


def _quarantine_reason(passage: Passage) -> QuarantinedPassage | None:
    for where, text in (("file name", passage.doc), ("text", passage.text)):
        matched = instruction_in(text)
        if matched is not None:
            return QuarantinedPassage(id=passage.id, doc=passage.doc, where=where, matched=matched)
    return None


def _as_data(text: str) -> str:
    # A passage is quoted inside <passage> tags: it must not be able to open or close one.
    return text.replace("<passage", "‹passage").replace("</passage", "‹/passage")


class RetrieverParams(AgentParams):
    k: int = Field(10, ge=1, le=50, description="Passages shared by the whole campaign.")
    per_query: int = Field(4, ge=1, le=20, description="Candidates taken per query before merging.")
    search: SearchMode = Field(
        "hybrid",
        description="hybrid: dense + BM25 fused by reciprocal rank (default); dense: embeddings only.",
    )


class Retriever(Agent):
    name: ClassVar[str] = "retriever"
    reads: ClassVar[frozenset[str]] = frozenset({"brand", "channels"})
    writes: ClassVar[frozenset[str]] = frozenset({"passages", "quarantined"})
    Params = RetrieverParams
    params: RetrieverParams

    def queries(self, state: CampaignState) -> list[str]:
        brand = state.brand
        queries = [brand.positioning, f"{brand.name} {brand.positioning}"]
        queries += [f"{p.name} {p.description}" for p in brand.products]
        for channel in state.channels:
            queries += list(brand.channel_inputs.get(channel.name, {}).values())
        return queries

    def run(self, state: CampaignState, ctx: RunContext) -> None:
        ctx.progress(f"retrieving passages for {state.brand.name}")
        # Round-robin over the queries so each product / question gets its best passages in.
        per_query = [
            ctx.index.search(q, self.params.per_query, self.params.search) for q in self.queries(state)
        ]
        chosen: dict[str, float] = {}
        withheld: dict[str, QuarantinedPassage] = {}
        rank = 0
        while len(chosen) < self.params.k and any(rank < len(hits) for hits in per_query):
            for hits in per_query:
                if rank < len(hits) and len(chosen) < self.params.k:
                    hit = hits[rank]
                    if hit.passage.id in withheld:
                        continue
                    if hit.passage.id not in chosen and (reason := _quarantine_reason(hit.passage)):
                        withheld[hit.passage.id] = reason
                        continue
                    chosen[hit.passage.id] = max(chosen.get(hit.passage.id, -1.0), hit.score)
            rank += 1
        passages = []
        for n, (pid, score) in enumerate(chosen.items(), start=1):
            passage = ctx.index.get(pid)
            assert passage is not None
            passages.append(
                RetrievedPassage(
                    id=pid,
                    alias=f"P{n}",
                    doc=display_name(passage.doc),
                    text=_as_data(passage.text),
                    score=round(score, 4),
                )
            )
        state.passages = passages
        state.quarantined = list(withheld.values())
        for q in state.quarantined:
            ctx.progress(
                f"withheld passage {q.id} of {q.doc!r}: instruction-like {q.where} ({q.matched!r:.80})"
            )
