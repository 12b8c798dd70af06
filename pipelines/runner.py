"""``run_campaign``: a brand in, a reviewed and compliance-checked :class:`~agents.state.Campaign` out.

Contract: loads the brand (folder, brand.yaml path or :class:`~knowledge.brand.Brand`), the pipeline and
the channels, builds or updates the brand's knowledge index, warms the backend (the pipeline's, or
``llm`` — an instance such as the eval suite's caching wrapper), then runs the steps in
order on one :class:`~agents.state.CampaignState`. Bad input raises :class:`~core.errors.InputError`
before any model call; an unreachable backend raises :class:`~backends.BackendError` before any
step. If the backend fails *during* the run, the work already done is kept: channels without a finished
piece are delivered as ``blocked`` with the error as a finding, never dropped silently.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from agents import RunContext
from agents.channels import ChannelSpec, load_channels, resolve_channels
from agents.state import (
    BrandSummary,
    Campaign,
    CampaignState,
    CampaignStats,
    ComplianceFinding,
    ComplianceResult,
    Piece,
)
from backends import BackendConfig, BackendError, LLMBackend, get_backend
from core.errors import InputError
from knowledge.brand import Brand, load_brand
from knowledge.embedders import get_embedder
from knowledge.index import FaissKnowledgeIndex, build_index
from pipelines.spec import Pipeline, load_pipeline

Progress = Callable[[str], None]


def stderr_progress() -> Progress:
    """Progress lines on stderr with elapsed seconds."""
    started = time.perf_counter()

    def report(message: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f}s] {message}", file=sys.stderr, flush=True)

    return report


def _channels_for(brand: Brand, names: Sequence[str] | None) -> list[ChannelSpec]:
    assert brand.root is not None
    extra = brand.root / "channels"
    available = load_channels(extra) if extra.is_dir() else load_channels()
    specs = resolve_channels(list(names or brand.channels), available, source=str(brand.root / "brand.yaml"))
    for spec in specs:
        given = brand.channel_inputs.get(spec.name, {})
        missing = [name for name in spec.inputs if not given.get(name, "").strip()]
        if missing:
            raise InputError(
                f"channel {spec.name!r} needs {missing}; add them under channel_inputs.{spec.name}",
                source=brand.root / "brand.yaml",
                field=f"channel_inputs.{spec.name}",
            )
    return specs


def _backend_overrides(backend: str | BackendConfig | dict[str, Any] | None) -> dict[str, Any]:
    if backend is None:
        return {}
    if isinstance(backend, str):
        return {"kind": backend}
    if isinstance(backend, BackendConfig):
        return backend.model_dump(exclude_unset=True)
    return dict(backend)


def prepare_index(
    brand: Brand, pipeline: Pipeline, index_dir: Path | None = None, progress: Progress | None = None
) -> FaissKnowledgeIndex:
    """Build or update the brand's index with the pipeline's embedder."""
    embedder = get_embedder(pipeline.spec.retrieval.embedder)
    index, update = build_index(
        brand,
        embedder,
        index_dir=index_dir,
        chunk_chars=pipeline.spec.retrieval.chunk_chars,
        kind=pipeline.spec.retrieval.faiss_index,
        progress=progress,
    )
    if progress and update.touched:
        progress(
            f"index: {len(update.added)} added, {len(update.changed)} changed, {len(update.removed)} removed "
            f"documents; {update.passages_embedded} passages embedded ({len(index)} total)"
        )
    return index


def run_campaign(
    brand: str | Path | Brand,
    *,
    pipeline: str | Path | Pipeline = "default",
    channels: Sequence[str] | None = None,
    backend: str | BackendConfig | dict[str, Any] | None = None,
    index_dir: Path | None = None,
    progress: Progress | None = None,
    llm: LLMBackend | None = None,
) -> Campaign:
    """Run a campaign for ``brand`` and return it (see the module docstring for the contract)."""
    started = time.perf_counter()
    report = progress or (lambda message: None)
    brand = brand if isinstance(brand, Brand) else load_brand(brand)
    if brand.root is None:
        raise InputError("the Brand has no folder (root); load it with knowledge.brand.load_brand()")
    if isinstance(pipeline, Pipeline):
        if backend is not None:
            raise InputError("pass backend overrides to load_pipeline(), not with an already loaded Pipeline")
        resolved = pipeline
    else:
        resolved = load_pipeline(pipeline, backend_overrides=_backend_overrides(backend))
    specs = _channels_for(brand, channels)
    index = prepare_index(brand, resolved, index_dir, report)

    llm = llm or get_backend(resolved.spec.backend)
    llm.warm_up()  # a server that cannot be reached, or does not serve the model, fails here, before any work
    report(f"backend: {llm.kind} ({llm.model_name})")
    ctx = RunContext(
        backend=llm,
        backend_config=resolved.spec.backend,
        index=index,
        context_prompt=resolved.context_prompt,
        progress=report,
    )
    state = CampaignState(brand=brand, channels=specs)
    backend_error = None
    for agent in resolved.agents:
        try:
            agent.run(state, ctx)
        except BackendError as exc:
            backend_error = f"during {agent.name}: {exc}"
            report(f"backend failed during {agent.name}: {exc}; keeping the work done so far")
            state.errors.update(
                {
                    c.name: f"backend error during {agent.name}: {exc}"
                    for c in specs
                    if c.name not in state.errors
                }
            )
            break
    _deliver_missing(state)
    llm_calls = state.trace
    return Campaign(
        brand=BrandSummary(
            name=brand.name, positioning=brand.positioning, locale=brand.locale, industry=brand.industry
        ),
        pipeline=resolved.spec.name,
        backend_error=backend_error,
        backend=llm.kind,
        model=llm.model_name,
        brief=state.brief,
        pieces=state.pieces,
        trace=state.trace,
        passages=state.passages,
        quarantined=state.quarantined,
        stats=CampaignStats(
            seconds=round(time.perf_counter() - started, 3),
            llm_calls=len(llm_calls),
            prompt_tokens=sum(t.prompt_tokens for t in llm_calls),
            completion_tokens=sum(t.completion_tokens for t in llm_calls),
            cached_prompt_tokens=sum(t.cached_prompt_tokens for t in llm_calls),
            llm_seconds=round(sum(t.seconds for t in llm_calls), 3),
            prompt_seconds=_sum_known(t.prompt_seconds for t in llm_calls),
            generation_seconds=_sum_known(t.generation_seconds for t in llm_calls),
        ),
    )


def _sum_known(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known), 3) if known else None


def _deliver_missing(state: CampaignState) -> None:
    done = {p.channel for p in state.pieces}
    for channel in state.channels:
        if channel.name in done:
            continue
        draft = state.drafts.get(channel.name)
        why = state.errors.get(channel.name, "the pipeline ended before this channel was checked")
        finding = ComplianceFinding(
            rule_id="pipeline.incomplete",
            category="generation",
            severity="block",
            explanation=f"not delivered: {why}",
        )
        state.pieces.append(
            Piece(
                channel=channel.name,
                fields=draft.fields if draft else {},
                citations=draft.citations if draft else [],
                compliance=ComplianceResult(verdict="blocked", findings=[finding]),
                revisions=state.revisions.get(channel.name, []),
            )
        )
