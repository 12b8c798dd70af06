"""One campaign session: everything a campaign needs, resolved once, then the agents run.

Contract: :meth:`CampaignSession.open` resolves, in this order, the brand (a folder, a brand.yaml path or
a :class:`~knowledge.brand.Brand`), the pipeline (a name, a path or a loaded
:class:`~pipelines.spec.Pipeline`, with backend overrides), the channels, the brand's knowledge index
(built or updated, unless one is given) and the backend (the pipeline's, or ``llm``), which it warms up.
It raises :class:`~core.errors.InputError` for bad input — before any model call — and
:class:`~backends.BackendError` for a backend that cannot be reached or configured — before any step.

:meth:`CampaignSession.run` then runs the pipeline's steps on one :class:`~agents.state.CampaignState` and
returns the :class:`~agents.state.Campaign`. A step that cannot finish — the backend fails mid-run, or the
model gives no valid answer for a step the rest depends on (the strategist's brief) — stops the run
without raising: the campaign comes back with the work done so far, ``failure`` naming the step and why,
``status == "incomplete"``, and every channel without a finished piece delivered as ``blocked`` with the
reason as a finding, never dropped. Anything else that escapes a step is a bug and propagates.
:meth:`CampaignSession.run_step` runs one step on given inputs (the eval suite's agent cases).

``run_campaign``, the batch workers and the eval runner all run campaigns through this class.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from agents import Agent, RunContext, StructuredOutputError
from agents.channels import ChannelSpec, load_channels, resolve_channels
from agents.state import (
    INITIAL_FIELDS,
    UNDELIVERED_RULE,
    BrandSummary,
    Campaign,
    CampaignState,
    CampaignStats,
    CustomerVoice,
    StepFailure,
    campaign_instruction,
    undelivered_piece,
)
from backends import BackendError, LLMBackend, as_backend, get_concurrent_backend
from backends.base import BaseBackendConfig
from backends.registry import backend_overrides
from core.errors import InputError, ServiceError
from knowledge.brand import Brand, load_brand
from knowledge.embedders import get_embedder
from knowledge.index import FaissKnowledgeIndex, build_index
from pipelines.spec import Pipeline, load_pipeline

Progress = Callable[[str], None]
BackendChoice = str | BaseBackendConfig | Mapping[str, Any] | None


def _quiet(message: str) -> None:
    return None


def campaign_channels(brand: Brand, names: Sequence[str] | None) -> list[ChannelSpec]:
    """The channel specs of a campaign for ``brand``: ``names`` (default: the brand's channels), from the
    built-in channels and the brand's own (``BRAND_DIR/channels/``). InputError for an unknown channel or
    one whose required ``channel_inputs`` the brand does not give."""
    if brand.root is None:
        raise InputError("the Brand has no folder (root); load it with knowledge.brand.load_brand()")
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
        where = brand.required_terms_in.get(spec.name)
        if isinstance(where, list):
            unknown = [name for name in where if name not in {f.name for f in spec.fields}]
            if unknown:
                raise InputError(
                    f"channel {spec.name!r} has no field {unknown[0]!r}; its fields: "
                    f"{[f.name for f in spec.fields]} (or 'piece' / 'none')",
                    source=brand.root / "brand.yaml",
                    field=f"required_terms_in.{spec.name}",
                )
    return specs


def prepare_index(
    brand: Brand, pipeline: Pipeline, index_dir: Path | None = None, progress: Progress | None = None
) -> FaissKnowledgeIndex:
    """Build or update the brand's index with the pipeline's embedder and chunking."""
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


def _as_backend(llm: Any) -> LLMBackend:
    """``llm`` as an :class:`LLMBackend`: one already, or a LangChain chat model adapted by
    :func:`backends.as_backend`; anything else is an InputError."""
    try:
        return as_backend(llm)
    except TypeError as exc:
        raise InputError(str(exc), field="llm") from None


@dataclass
class CampaignSession:
    """A brand, a pipeline, its channels, the brand's index and a warm backend, resolved once."""

    brand: Brand
    pipeline: Pipeline
    channels: list[ChannelSpec]
    index: FaissKnowledgeIndex
    backend: LLMBackend
    progress: Progress = _quiet
    # When open() started: the first campaign's time includes resolving the session.
    _unbilled_since: float | None = field(default=None, repr=False)

    @classmethod
    def open(
        cls,
        brand: str | Path | Brand,
        *,
        pipeline: str | Path | Pipeline = "default",
        channels: Sequence[str] | None = None,
        backend: BackendChoice = None,
        llm: Any = None,
        index: FaissKnowledgeIndex | None = None,
        index_dir: Path | None = None,
        progress: Progress | None = None,
    ) -> CampaignSession:
        """Resolve everything a campaign needs (see the module docstring for the order and the errors).

        ``backend`` overrides the pipeline's backend settings (a kind, a config or a dict); ``llm`` is a
        backend instance to use instead (an :class:`LLMBackend`, e.g. a caching wrapper, or what
        ``backends.as_backend`` accepts); ``index`` an index already built for this brand and pipeline.
        """
        started = time.perf_counter()
        report = progress or _quiet
        brand = brand if isinstance(brand, Brand) else load_brand(brand)
        if brand.root is None:
            raise InputError("the Brand has no folder (root); load it with knowledge.brand.load_brand()")
        if isinstance(pipeline, Pipeline):
            if backend is not None:
                raise InputError(
                    "pass backend overrides to load_pipeline(), not with an already loaded Pipeline"
                )
            resolved = pipeline
        else:
            resolved = load_pipeline(pipeline, backend_overrides=backend_overrides(backend))
        specs = campaign_channels(brand, channels)
        if index is None:
            index = prepare_index(brand, resolved, index_dir, report)
        # get_concurrent_backend: an engine that batches in this process (vLLM) sits behind the micro-batcher,
        # so the channels' concurrent calls reach it as one batch.
        model = _as_backend(llm) if llm is not None else get_concurrent_backend(resolved.spec.backend)
        model.warm_up()  # a server that cannot be reached, or does not serve the model, fails here
        report(f"backend: {model.kind} ({model.model_name})")
        return cls(brand, resolved, specs, index, model, report, started)

    def context(self) -> RunContext:
        """What the agents need besides the state (one per run: it caches the rendered system message)."""
        return RunContext(
            backend=self.backend,
            backend_config=self.pipeline.spec.backend,
            index=self.index,
            context_prompt=self.pipeline.context_prompt,
            progress=self.progress,
        )

    def new_state(self, instruction: str = "", voices: Sequence[CustomerVoice] = ()) -> CampaignState:
        return CampaignState(
            brand=self.brand,
            channels=self.channels,
            instruction=campaign_instruction(instruction),
            voices=list(voices),
        )

    def run(self, instruction: str = "", voices: Sequence[CustomerVoice] = ()) -> Campaign:
        """Run every step of the pipeline on a new state and return the campaign (never raises for a
        step that cannot finish: see the module docstring). ``instruction``: the brand team's instruction
        for this campaign, given to the strategist (InputError over 500 characters)."""
        state = self.new_state(instruction, voices)
        started = self._unbilled_since or time.perf_counter()
        self._unbilled_since = None
        failure = self._run_steps(state, self.pipeline.agents, self.context())
        _deliver_missing(state)
        return self._campaign(state, failure, time.perf_counter() - started)

    def step(self, name: str) -> Agent:
        """The pipeline's step ``name``; InputError naming the steps when there is none."""
        for agent in self.pipeline.agents:
            if agent.name == name:
                return agent
        raise InputError(
            f"agent {name!r} is not a step of pipeline {self.pipeline.spec.name!r}; "
            f"its steps: {sorted(a.name for a in self.pipeline.agents)}"
        )

    def run_step(self, name: str, inputs: Mapping[str, Any] | None = None) -> CampaignState:
        """Run the one step ``name`` on a new state holding ``inputs`` (state fields) and return the state.

        The passages come from the pipeline's retrieval — the steps before ``name`` that write
        ``passages`` — unless ``inputs`` gives them; every other field the step reads must be in
        ``inputs`` (InputError otherwise, and for inputs that do not fit the state, before any model
        call). A step that cannot finish raises (:class:`BackendError`, :class:`StructuredOutputError`).
        """
        given = dict(inputs or {})
        target = self.step(name)
        ctx = self.context()
        state = self.new_state()
        if "passages" not in given:
            for agent in self.pipeline.agents:
                if agent is target:
                    break
                if "passages" in agent.writes:
                    agent.run(state, ctx)
        try:
            state = CampaignState.model_validate({**state.model_dump(), **given, "brand": self.brand})
        except ValidationError as exc:
            raise InputError(f"inputs do not fit the state: {exc.errors()[0]['msg']}") from None
        needed = target.reads - target.optional_reads - INITIAL_FIELDS
        missing = sorted(f for f in needed if not getattr(state, f))
        if missing:
            raise InputError(f"agent {name!r} reads {missing}; give them in `inputs`")
        target.run(state, ctx)
        return state

    def _run_steps(self, state: CampaignState, steps: Iterable[Agent], ctx: RunContext) -> StepFailure | None:
        for agent in steps:
            reason: Literal["backend", "service", "no_valid_output"]
            try:
                agent.run(state, ctx)
                continue
            except BackendError as exc:
                reason, message = "backend", str(exc)
            except ServiceError as exc:  # another service a step calls: the embedder (claims, focus)
                reason, message = "service", str(exc)
            except StructuredOutputError as exc:
                reason, message = "no_valid_output", str(exc)
            failure = StepFailure(step=agent.name, reason=reason, message=message)
            what = {"backend": "backend error", "service": "service error"}.get(
                reason, "no valid model output"
            )
            self.progress(f"{what} during {agent.name}: {message}; keeping the work done so far")
            for channel in state.channels:
                state.errors.setdefault(channel.name, f"{what} during {agent.name}: {message}")
            return failure
        return None

    def _campaign(self, state: CampaignState, failure: StepFailure | None, seconds: float) -> Campaign:
        calls = state.trace
        return Campaign(
            brand=BrandSummary(
                name=self.brand.name,
                positioning=self.brand.positioning,
                locale=self.brand.locale,
                industry=self.brand.industry,
            ),
            pipeline=self.pipeline.spec.name,
            backend=self.backend.kind,
            model=self.backend.model_name,
            instruction=state.instruction,
            brief=state.brief,
            pieces=state.pieces,
            trace=state.trace,
            passages=state.passages,
            quarantined=state.quarantined,
            failure=failure,
            backend_error=(
                f"during {failure.step}: {failure.message}"
                if failure is not None and failure.reason == "backend"
                else None
            ),
            stats=CampaignStats(
                seconds=round(seconds, 3),
                llm_calls=len(calls),
                prompt_tokens=sum(t.prompt_tokens for t in calls),
                completion_tokens=sum(t.completion_tokens for t in calls),
                cached_prompt_tokens=sum(t.cached_prompt_tokens for t in calls),
                llm_seconds=round(sum(t.seconds for t in calls), 3),
                prompt_seconds=_sum_known(t.prompt_seconds for t in calls),
                generation_seconds=_sum_known(t.generation_seconds for t in calls),
            ),
        )


def _sum_known(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known), 3) if known else None


def _deliver_missing(state: CampaignState) -> None:
    """Every channel without a piece becomes a blocked piece saying why: nothing is dropped silently."""
    done = {p.channel for p in state.pieces}
    for channel in state.channels:
        if channel.name in done:
            continue
        why = state.errors.get(channel.name, "the pipeline ended before this channel was checked")
        state.pieces.append(
            undelivered_piece(
                state, channel.name, rule_id=UNDELIVERED_RULE, explanation=f"not delivered: {why}"
            )
        )
