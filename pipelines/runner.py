"""``run_campaign``: a brand in, a reviewed and compliance-checked :class:`~agents.state.Campaign` out.

Contract: a thin entry point over :class:`~pipelines.session.CampaignSession`, which holds the contract:
the brand, pipeline, channels, index and backend are resolved once — bad input raises
:class:`~core.errors.InputError` before any model call, an unreachable backend raises
:class:`~backends.BackendError` before any step — then the steps run. A step that cannot finish (the
backend fails mid-run, no valid brief) does not raise: the campaign comes back with the work done,
``failure`` saying which step and why, ``status == "incomplete"``, and the channels without a finished
piece delivered as ``blocked`` with the reason, never dropped silently.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.state import Campaign, CustomerVoice, campaign_instruction
from backends import LLMBackend
from knowledge.brand import Brand, load_brand
from monitor.insights import Insights, load_insights
from pipelines.session import BackendChoice, CampaignSession, Progress
from pipelines.spec import Pipeline


def stderr_progress() -> Progress:
    """Progress lines on stderr with elapsed seconds."""
    started = time.perf_counter()

    def report(message: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f}s] {message}", file=sys.stderr, flush=True)

    return report


def run_campaign(
    brand: str | Path | Brand,
    *,
    pipeline: str | Path | Pipeline = "default",
    channels: Sequence[str] | None = None,
    backend: BackendChoice = None,
    index_dir: Path | None = None,
    progress: Progress | None = None,
    llm: LLMBackend | Any | None = None,
    instruction: str = "",
    insights: str | Path | Insights | None = None,
) -> Campaign:
    """Run a campaign for ``brand`` and return it (see the module docstring for the contract).

    ``backend`` overrides the pipeline's backend settings; ``llm`` is a backend instance to use instead
    (an :class:`~backends.LLMBackend`, or what ``backends.as_backend`` accepts); ``instruction`` is the
    brand team's instruction for this campaign, for the strategist (at most 500 characters); ``insights``
    brand monitoring's insights.json (or its :class:`~monitor.insights.Insights`): what customers say
    becomes evidence the strategist cites, and the customer-service reply answers the current complaint."""
    campaign_instruction(instruction)  # bad input fails before the index is built or the model loaded
    voices: list[CustomerVoice] = []
    if insights is not None:
        from monitor.campaign import with_insights

        brand = brand if isinstance(brand, Brand) else load_brand(brand)
        loaded = insights if isinstance(insights, Insights) else load_insights(insights)
        names = list(channels) if channels else list(brand.channels)
        brand, voices = with_insights(brand, loaded, names)
    session = CampaignSession.open(
        brand,
        pipeline=pipeline,
        channels=channels,
        backend=backend,
        llm=llm,
        index_dir=index_dir,
        progress=progress,
    )
    return session.run(instruction, voices=voices)
