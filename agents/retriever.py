"""Retriever: picks the brand passages the whole campaign works from.

Reads ``brand``, ``channels``; writes ``passages``. One retrieval per campaign (positioning, products,
channel needs such as the customer question) so every later prompt shares the same passage block.
Passages get short aliases (P1..Pn) for prompts; citations are mapped back to stable passage ids.
Instruction-like sentences inside documents ("ignore previous instructions…", "忽略之前的指令…") are
replaced by a marker before any model sees them: knowledge is data, never instructions.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from agents.base import Agent, AgentParams, RunContext
from agents.policy.detectors import CANARY, INJECTION_PATTERNS
from agents.policy.text import fold_str
from agents.state import CampaignState, RetrievedPassage
from knowledge.chunking import split_sentences
from knowledge.index import SearchMode

QUARANTINE_MARK = "[instruction-like text removed]"


def _instructs(text: str) -> bool:
    """Instruction-like or canary text, seen through case, width, zero-width and look-alike tricks."""
    folded = fold_str(text)
    return bool(INJECTION_PATTERNS.search(folded) or CANARY.search(folded))


def quarantine(text: str) -> str:
    """Drop sentences that try to instruct the model; keep the rest of the passage as data."""
    if not _instructs(text):
        return text.replace("<passage", "‹passage").replace("</passage", "‹/passage")
    kept = [s if not _instructs(s) else QUARANTINE_MARK for s in split_sentences(text)]
    return " ".join(kept).replace("<passage", "‹passage").replace("</passage", "‹/passage")


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
    writes: ClassVar[frozenset[str]] = frozenset({"passages"})
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
        rank = 0
        while len(chosen) < self.params.k and any(rank < len(hits) for hits in per_query):
            for hits in per_query:
                if rank < len(hits) and len(chosen) < self.params.k:
                    hit = hits[rank]
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
                    doc=passage.doc,
                    text=quarantine(passage.text),
                    score=round(score, 4),
                )
            )
        state.passages = passages
