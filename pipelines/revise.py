"""One revision of a delivered piece, asked for by a person: the studio's "send back with a note".

Contract: :func:`revise_piece` gives the copywriter's revise role (the pipeline's ``revise`` prompt, the
one the reviewer and compliance agents use) the piece's current text, the campaign's passages and brief,
and the reviewer's note as the one request; it returns the rewritten fields and the model calls made.
It does not check the result: the caller checks it again (service/review.py ``recheck``) and a person
decides. A model that gives no valid answer leaves the text as it was (the caller sees no change).
"""

from __future__ import annotations

from agents.revision import revise
from agents.state import Campaign, CampaignState, Draft, TraceEntry
from core.errors import InputError
from pipelines.session import CampaignSession

MAX_NOTE = 2000


def revise_piece(
    session: CampaignSession,
    campaign: Campaign,
    channel: str,
    fields: dict[str, str],
    note: str,
    citations: list[str],
) -> tuple[dict[str, str], list[TraceEntry]]:
    """``fields`` of ``channel`` rewritten to follow ``note``; the trace of the calls it took."""
    note = note.strip()
    if not note or len(note) > MAX_NOTE:
        raise InputError(f"a note of 1 to {MAX_NOTE} characters says what to change", field="note")
    spec = next((c for c in session.channels if c.name == channel), None)
    if spec is None:
        raise InputError(f"the session has no channel {channel!r}", field="channel")
    reviser = next((a for a in session.pipeline.agents if "revise" in a.prompts), None)
    if reviser is None:
        raise InputError("the pipeline has no agent with a revise prompt", field="pipeline")
    state = CampaignState(
        brand=session.brand, channels=[spec], passages=campaign.passages, brief=campaign.brief
    )
    ctx = session.context()
    draft = Draft(channel=channel, fields=fields, citations=citations)
    revised = revise(
        ctx,
        state,
        agent="studio",
        prompt=reviser.prompts["revise"],
        channel=spec,
        draft=draft,
        requests=[note],
        by="reviewer",
        max_repairs=reviser.params.max_repairs,
    )
    return dict(revised.fields), list(state.trace)
