"""Running eval suites: every case ``repeat`` times, through the response cache, into a report.

Contract: :func:`run_evals` runs each case's runs with seeds ``seed, seed+1, ...`` (so repeats are
different samples and each is cached on its own), checks every assertion, and returns an
:class:`EvalReport`. A campaign case runs a one-channel campaign for its brand; runs that ask for the
same brand, channel, pipeline and seed share one campaign. An agent case runs that one step of the
pipeline on ``inputs``, after the pipeline's retrieval (:meth:`~pipelines.session.CampaignSession.run_step`).
Both go through a :class:`~pipelines.session.CampaignSession` over the suite's caching backend. A run
that fails (structured output that never validates, a backend error mid-run, a campaign that could not
finish) is a failed run with the error, not a crashed suite; bad input raises
:class:`~core.errors.InputError` before any model call.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agents import StructuredOutputError
from agents.roles import RUBRIC, RUBRIC_ANSWER_MODEL, RubricAnswer, RubricInputs
from agents.state import Campaign, StepFailure
from backends import GenerationParams, get_backend
from core.errors import InputError, ServiceError
from knowledge.brand import Brand, load_brand
from knowledge.embedders import get_embedder
from knowledge.index import FaissKnowledgeIndex
from pipelines.evals.assertions import Check, Target, Tools, check
from pipelines.evals.cache import CachedBackend
from pipelines.evals.spec import EvalCase, EvalSuite
from pipelines.session import CampaignSession, prepare_index
from pipelines.spec import Pipeline, load_pipeline
from prompts import default_registry

Progress = Callable[[str], None]
JUDGE_PROMPT = "evals.rubric@2"  # llm_rubric's judge; a new version here changes every rubric verdict


# State fields every step may write that are not its result (see agents.state.INITIAL_FIELDS).
BOOKKEEPING_FIELDS = frozenset({"trace", "threads", "errors", "revisions"})


BASELINE_ROUNDING = 5e-5
"""Half the last decimal a baseline keeps (:func:`pipelines.evals.report.save_baseline` rounds to 4)."""


class IncompleteCampaign(RuntimeError):
    """A case's campaign could not finish (its ``failure``): the run fails with the reason, named like
    the error that stopped it (``BackendError: ...``, ``StructuredOutputError: ...``)."""

    def __init__(self, failure: StepFailure) -> None:
        kind = {"backend": "BackendError", "service": "ServiceError"}.get(
            failure.reason, "StructuredOutputError"
        )
        super().__init__(f"{kind}: during {failure.step}: {failure.message}")
        self.failure = failure


@dataclass
class RunResult:
    seed: int
    checks: list[Check]
    error: str | None = None
    # The run could not finish because a service failed (the backend, an embedder, a replay-only cache
    # miss): its score says nothing about the prompt, and the CLI exits 4 (pipelines.exits).
    incomplete: bool = False

    @property
    def passed(self) -> bool:
        return self.error is None and all(c.passed for c in self.checks)


@dataclass
class CaseResult:
    suite: str
    case: EvalCase
    runs: list[RunResult]
    seconds: float
    baseline: float | None = None

    @property
    def pass_rate(self) -> float:
        return sum(r.passed for r in self.runs) / len(self.runs)

    @property
    def passed(self) -> bool:
        return self.pass_rate + 1e-9 >= self.case.pass_rate

    @property
    def regressed(self) -> bool:
        # Baselines store pass rates rounded to 4 decimals (2/3 as 0.6667): below it by less than that
        # rounding is the same rate, not a regression.
        return self.baseline is not None and self.pass_rate + BASELINE_ROUNDING < self.baseline

    @property
    def status(self) -> str:
        """pass, FAIL, REGRESSED; a known failure is xfail (still failing) or XPASS (fixed: update it)."""
        if self.case.known_failure:
            return "XPASS" if self.passed else "xfail"
        if self.regressed:
            return "REGRESSED"
        return "pass" if self.passed else "FAIL"

    @property
    def ok(self) -> bool:
        return self.status in ("pass", "xfail")


@dataclass
class EvalReport:
    results: list[CaseResult]
    seconds: float
    model_calls: int
    cache_hits: int
    backend: str
    model: str
    missing_from_baseline: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)


class _Runner:
    def __init__(
        self,
        pipeline: str | Path,
        backend_overrides: dict[str, Any],
        cache_dir: Path | None,
        use_cache: bool,
        progress: Progress,
        replay_only: bool = False,
    ) -> None:
        self.pipeline_name = pipeline
        self.overrides = backend_overrides
        self.progress = progress
        base = load_pipeline(pipeline, backend_overrides=backend_overrides)
        self.base_seed = base.spec.backend.seed
        inner = get_backend(base.spec.backend)
        self.llm = CachedBackend(inner, cache_dir, read=use_cache, replay_only=replay_only)
        self.campaigns: dict[tuple[Path, str, int], Campaign] = {}
        self.embedder = get_embedder(base.spec.retrieval.embedder)
        self.judge_prompt = default_registry().get(JUDGE_PROMPT)
        problem = RUBRIC.check(self.judge_prompt)
        if problem:
            raise InputError(f"the eval judge's prompt cannot serve as a rubric: {problem}")

    @functools.cache  # noqa: B019 - one runner per run_evals call
    def pipeline(self, seed: int) -> Pipeline:
        return load_pipeline(self.pipeline_name, backend_overrides={**self.overrides, "seed": seed})

    @functools.cache  # noqa: B019
    def brand(self, path: Path) -> Brand:
        return load_brand(path)

    @functools.cache  # noqa: B019
    def index(self, path: Path) -> FaissKnowledgeIndex:
        return prepare_index(self.brand(path), self.pipeline(self.base_seed), None, lambda m: None)

    def tools(self, brand_dir: Path, seed: int) -> Tools:
        brand = self.brand(brand_dir)
        index = self.index(brand_dir)
        pipeline = self.pipeline(seed)

        def judge(criterion: str, text: str) -> tuple[float, str]:
            inputs = RubricInputs(brand=brand, criterion=criterion, text=text)
            content = self.judge_prompt.render(**inputs.variables())
            # A judge should not be creative: greedy decoding; the seed still differs per repeat.
            params = GenerationParams.from_config(pipeline.spec.backend, max_tokens=120, temperature=0.0)
            completion = self.llm.complete(
                [{"role": "user", "content": content}],
                # The role's constrained model, not inlined: the committed response cache is keyed on
                # this exact schema (tests/golden/answer_schemas.json pins it).
                json_schema=RUBRIC_ANSWER_MODEL.model_json_schema(),
                params=params,
            )
            try:
                verdict = RubricAnswer.model_validate_json(completion.text)
            except ValidationError:
                return 0.0, f"the judge's answer did not validate: {completion.text[:80]!r}"
            return (verdict.score - 1) / 4, verdict.reason

        return Tools(
            embed=self.embedder.embed, judge=judge, passage_exists=lambda pid: index.get(pid) is not None
        )

    def session(self, brand_dir: Path, channel: str, seed: int) -> CampaignSession:
        return CampaignSession.open(
            self.brand(brand_dir),
            pipeline=self.pipeline(seed),
            channels=[channel],
            llm=self.llm,
            index=self.index(brand_dir),
        )

    def campaign_target(self, brand_dir: Path, case: EvalCase, seed: int) -> Target:
        key = (brand_dir, case.channel, seed)
        if key not in self.campaigns:
            self.campaigns[key] = self.session(brand_dir, case.channel, seed).run()
        campaign: Campaign = self.campaigns[key]
        if campaign.failure is not None:
            raise IncompleteCampaign(campaign.failure)
        return Target(piece=campaign.piece(case.channel))

    def agent_target(self, brand_dir: Path, case: EvalCase, seed: int) -> Target:
        session = self.session(brand_dir, case.channel, seed)
        try:
            state = session.run_step(case.agent or "", case.inputs)
        except InputError as exc:
            raise InputError(f"case {case.id}: {exc}") from None
        # What the agent wrote, less the bookkeeping every step touches (the trace and the threads hold
        # rendered prompts, which a field-less contains/not_contains would otherwise search).
        writes = session.step(case.agent or "").writes - BOOKKEEPING_FIELDS
        output = state.model_dump(mode="json", include=set(writes) | set(case.inputs))
        piece = next((p for p in state.pieces if p.channel == case.channel), None)
        return Target(piece=piece, output=output)

    def run_case(self, suite: EvalSuite, case: EvalCase) -> CaseResult:
        started = time.perf_counter()
        brand_dir = suite.brand_dir(case)
        runs = []
        for i in range(case.repeat):
            seed = self.base_seed + i
            self.progress(f"{case.id}: run {i + 1}/{case.repeat}")
            try:
                target = (
                    self.agent_target(brand_dir, case, seed)
                    if case.agent
                    else self.campaign_target(brand_dir, case, seed)
                )
            except (StructuredOutputError, ServiceError) as exc:
                failed = isinstance(exc, ServiceError)
                runs.append(RunResult(seed, [], error=f"{type(exc).__name__}: {exc}", incomplete=failed))
                continue
            except IncompleteCampaign as exc:
                runs.append(
                    RunResult(seed, [], error=str(exc), incomplete=exc.failure.reason != "no_valid_output")
                )
                continue
            tools = self.tools(brand_dir, seed)
            runs.append(RunResult(seed, [check(a, target, tools) for a in case.assertions]))
        return CaseResult(str(suite.path), case, runs, time.perf_counter() - started)


def run_evals(
    suites: list[EvalSuite],
    *,
    pipeline: str | Path | None = None,
    backend_overrides: dict[str, Any] | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    only: Callable[[EvalCase], bool] | None = None,
    progress: Progress | None = None,
    prune_cache: bool = False,
    replay_only: bool = False,
) -> EvalReport:
    """Run every case of ``suites`` (or those ``only`` selects). ``cache_dir=None`` disables caching;
    ``use_cache=False`` ignores stored answers but still records new ones (``--no-cache``);
    ``replay_only`` answers only from the cache: a miss fails that run and nothing is written."""
    started = time.perf_counter()
    report = progress or (lambda message: None)
    results = []
    runners: dict[str, _Runner] = {}
    first: _Runner | None = None
    for suite in suites:
        name = str(pipeline or suite.pipeline or "default")
        if suite.pipeline and not pipeline and suite.path is not None and name.endswith((".yaml", ".yml")):
            name = str((suite.path.parent / name).resolve())
        if name not in runners:
            runners[name] = _Runner(name, backend_overrides or {}, cache_dir, use_cache, report, replay_only)
        runner = runners[name]
        first = first or runner
        for case in suite.cases:
            if only is None or only(case):
                results.append(runner.run_case(suite, case))
    if prune_cache:
        if only is not None or len(runners) != 1:
            raise InputError("--prune-cache needs a full run of every case with one pipeline")
        pruned = next(iter(runners.values())).llm.prune()
        report(f"pruned {pruned} unused cache entries")
    hits = sum(r.llm.hits for r in runners.values())
    misses = sum(r.llm.misses for r in runners.values())
    llm = first.llm if first is not None else None
    return EvalReport(
        results=results,
        seconds=time.perf_counter() - started,
        model_calls=misses,
        cache_hits=hits,
        backend=llm.kind if llm else "",
        model=llm.model_name if llm else "",
    )
