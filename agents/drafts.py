"""A draft's forms: from the model's answer into the state, and as the model wrote it.

Contract: a :class:`~agents.roles.DraftAnswer` (the ``copywriter.draft`` and ``copywriter.revise`` roles'
answer) becomes a stored :class:`~agents.state.Draft` with :func:`draft_from_answer` — citations mapped from
aliases to passage ids, sentences a small model repeated dropped — and the thread keeps
:func:`draft_as_written`, the answer exactly as the model wrote it, so a later turn can tell whether the
conversation still shows the draft as it is (:func:`agents.threads.edited_view`).
"""

from __future__ import annotations

from agents.channels import ChannelSpec
from agents.citations import aliases_to_ids
from agents.roles import DraftAnswer
from agents.state import Draft, RetrievedPassage
from knowledge.chunking import keep_sentences


def drop_repeated_sentences(text: str) -> str:
    """Remove sentences that already appeared earlier in the text (small models loop)."""
    seen: set[str] = set()

    def first_time(sentence: str) -> bool:
        key = sentence.strip().casefold()
        if key in seen:
            return False
        seen.add(key)
        return True

    return keep_sentences(text, first_time)


def draft_from_answer(
    answer: DraftAnswer, channel: ChannelSpec, passages: list[RetrievedPassage], *, cut_off: bool = False
) -> Draft:
    """The draft to store: repeated sentences dropped, citations as passage ids. ``cut_off``: the answer
    ran out of tokens and was closed, so its last field (in the channel's order) stops where it was cut."""
    fields = {name: drop_repeated_sentences(value) for name, value in answer.fields.items()}
    written = [spec.name for spec in channel.fields if spec.name in fields]
    return Draft(
        channel=channel.name,
        fields=fields,
        citations=aliases_to_ids(answer.citations, passages),
        cut_off=written[-1:] if cut_off else [],
    )


def draft_as_written(answer: DraftAnswer, channel: ChannelSpec) -> Draft:
    """The draft exactly as the model's answer shows it (citations as aliases), for the thread."""
    return Draft(
        channel=channel.name, fields=dict(answer.fields), citations=list(dict.fromkeys(answer.citations))
    )
