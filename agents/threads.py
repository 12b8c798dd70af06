"""Conversation threads: which earlier turns a threaded prompt is sent after, and what they show.

Contract: a prompt with ``thread: true`` is a turn in a conversation kept in ``state.threads`` — the
campaign's turns under ``""`` (the brief), then one thread per channel (its drafts, reviews, revisions),
which continues the campaign's. :func:`conversation` picks the turns a call is sent after, newest first
within a token budget; :func:`record_turn` (called by :func:`agents.base.ask`) adds an exchange verbatim,
so a backend finds the tokens it generated in its KV cache; :func:`mark_turn` says what an answer shows
(the brief, a draft as written). A prompt may refer to what the conversation shows ("the draft above")
only while it is shown as it is now: :func:`edited_view` and :func:`brief_shown` tell the prompt when to
restate it instead.
"""

from __future__ import annotations

from typing import Any

from agents.channels import ChannelSpec
from agents.citations import alias_view
from agents.state import CampaignState, Draft, Turn
from prompts import Prompt

# What a threaded call keeps free for its own turn and its answer, besides the system message.
TURN_RESERVE_TOKENS = 2048


def estimate_tokens(text: str) -> int:
    """A safe over-estimate of ``text``'s token count for any of the supported models' tokenizers: one
    token per non-ASCII character (CJK), one per 3 ASCII characters."""
    ascii_chars = sum(1 for ch in text if ch < "\x80")
    return len(text) - ascii_chars + ascii_chars // 3 + 1


def conversation(state: CampaignState, channel: str | None, budget: int) -> list[Turn]:
    """The turns a threaded prompt about ``channel`` (None: the campaign) is sent after: the campaign's
    turns, then the newest of the channel's that fit in ``budget`` tokens (estimated) with them. What is
    left out is not shown: callers restate what they need from it (see ``RunContext.thread_budget``)."""
    shared = state.threads.get("", [])
    if channel is None:
        return list(shared)
    own = state.threads.get(channel, [])
    budget -= sum(estimate_tokens(t.user) + estimate_tokens(t.answer) for t in shared)
    kept = 0
    for turn in reversed(own):
        budget -= estimate_tokens(turn.user) + estimate_tokens(turn.answer)
        if budget < 0:
            break
        kept += 1
    return [*shared, *own[len(own) - kept :]]


def record_turn(state: CampaignState, prompt: Prompt, channel: str | None, user: str, answer: str) -> None:
    """Add a threaded prompt's exchange to its thread (nothing for a prompt that is not threaded)."""
    if prompt.thread:
        state.threads.setdefault(channel or "", []).append(Turn(prompt=prompt.ref, user=user, answer=answer))


def mark_turn(state: CampaignState, prompt: Prompt, channel: str | None, **shows: Any) -> None:
    """Say what the answer of the turn just recorded for ``prompt`` shows (``shows=``, ``draft=``)."""
    turns = state.threads.get(channel or "", [])
    if prompt.thread and turns and turns[-1].prompt == prompt.ref:
        turns[-1] = turns[-1].model_copy(update=shows)


def edited_view(state: CampaignState, channel: ChannelSpec, draft: Draft, budget: int) -> Draft | None:
    """``draft`` (citations as aliases) when the channel's conversation does not show it as it is now
    (edited since the model wrote it, or its turn left out); None when the latest draft turn shows it."""
    current = alias_view(draft, state.passages)
    shown = next((t.draft for t in reversed(conversation(state, channel.name, budget)) if t.draft), None)
    if shown is not None and shown.fields == current.fields and shown.citations == current.citations:
        return None
    return current


def brief_shown(state: CampaignState, channel: ChannelSpec, budget: int) -> bool:
    """Whether a threaded prompt about ``channel`` is sent after the brief's turn."""
    return any(t.shows == "brief" for t in conversation(state, channel.name, budget))
