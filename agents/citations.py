"""Passage citations: aliases for prompts, stable ids for the campaign.

Contract: prompts show retrieved passages by alias (``P1``, ``P2`` ... assigned by the retriever) because
that is what a model can cite; everything stored in the state and the campaign (brief, drafts, pieces)
cites stable passage ids. :func:`citation_list` is the schema type of a citation list (constrained to the
retrieved aliases, so a model cannot cite a passage it was not shown), :func:`aliases_to_ids` maps an
answer's aliases back to ids, and :func:`alias_view` / :func:`brief_with_aliases` show a stored draft or
brief in the alias form a prompt uses. Shared by every agent that asks for or shows citations.
"""

from __future__ import annotations

from typing import Any

from agents.schema import list_of, one_of
from agents.state import CreativeBrief, Draft, RetrievedPassage

MAX_CITATIONS = 3  # per key message, draft or claim judgment


def aliases(passages: list[RetrievedPassage]) -> tuple[str, ...]:
    """The aliases of ``passages``, in order (hashable: answer models are cached by them)."""
    return tuple(p.alias for p in passages)


def citation_list(allowed: tuple[str, ...]) -> Any:
    """A list of at most :data:`MAX_CITATIONS` of ``allowed`` (none allowed when there are no passages)."""
    if not allowed:
        return list_of(str, max_items=0)
    return list_of(one_of(list(allowed)), max_items=MAX_CITATIONS)


def aliases_to_ids(cited: list[str], passages: list[RetrievedPassage]) -> list[str]:
    """The passage ids of the aliases in ``cited``, deduplicated in order; unknown aliases are dropped."""
    by_alias = {p.alias: p.id for p in passages}
    return list(dict.fromkeys(by_alias[a] for a in cited if a in by_alias))


def alias_view(draft: Draft, passages: list[RetrievedPassage]) -> Draft:
    """``draft`` with its citations as aliases (P3), the form a model can answer with."""
    by_id = {p.id: p.alias for p in passages}
    return draft.model_copy(update={"citations": [by_id.get(c, c) for c in draft.citations]})


def brief_with_aliases(brief: CreativeBrief, passages: list[RetrievedPassage]) -> CreativeBrief:
    """``brief`` with its key messages' citations as aliases."""
    by_id = {p.id: p.alias for p in passages}
    messages = [
        m.model_copy(update={"citations": [by_id.get(c, c) for c in m.citations]}) for m in brief.key_messages
    ]
    return brief.model_copy(update={"key_messages": messages})
