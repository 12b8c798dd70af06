"""Campaign jobs: the request a client sends, and the worker threads that run queued jobs.

Contract:

- :class:`CampaignRequest` is what ``POST /v1/campaigns`` accepts (``extra="forbid"``): a registered
  brand, optional channels, a pipeline *name* among the service's allowed ones, and sampling overrides.
- :class:`JobWorkers` runs ``workers`` threads in this process. Each claims the oldest queued job from the
  store (safe with several replicas), runs it through :class:`~pipelines.session.CampaignSession` on the
  process's one backend, embedder and brand index, writes progress lines as job events, and ends the job
  in one write: ``done`` with the Campaign JSON the CLI writes, or ``failed`` with the reason (bad
  brand, unreachable backend, or an internal error, logged with its traceback).
- Cancellation (``DELETE``) and shutdown are checked before every model call and every progress line:
  a cancelled job ends ``cancelled``; on shutdown (:meth:`JobWorkers.stop`) running jobs get
  ``grace_s`` to finish, then stop at their next model call and go back to ``queued`` for the next
  server. A heartbeat thread keeps running jobs alive in the store, picks up cancellations made through
  other replicas, and marks interrupted the jobs of replicas that stopped beating.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from backends import BackendError, get_concurrent_backend
from core.errors import InputError, ServiceError
from pipelines.exits import campaign_incomplete
from pipelines.session import CampaignSession
from pipelines.spec import Pipeline, load_pipeline
from service.brands import BrandRegistry
from service.metrics import MeteredBackend, Metrics
from service.store import JobRecord, Store

log = logging.getLogger("service.jobs")

NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class SamplingOverrides(BaseModel):
    """Per-job sampling settings; the model and server are the service's."""

    model_config = ConfigDict(extra="forbid")
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    seed: int | None = Field(None, ge=0, le=2**31 - 1)
    max_tokens: int | None = Field(None, ge=16, le=4096)


class CampaignRequest(BaseModel):
    """A campaign for a registered brand."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"brand": "wanderly", "channels": ["search_ad", "social_post"]}]},
    )
    brand: str = Field(..., pattern=NAME, description="A registered brand's name (GET /v1/brands).")
    channels: list[str] | None = Field(
        None, min_length=1, max_length=20, description="Channels to write (default: the brand's)."
    )
    pipeline: str | None = Field(
        None, pattern=NAME, description="A pipeline the service allows (default: its own)."
    )
    overrides: SamplingOverrides = Field(default_factory=SamplingOverrides)

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


class _Stop(Exception):
    """Raised inside a job's thread when it must stop: ``cancelled`` or ``requeue``."""

    def __init__(self, how: str) -> None:
        super().__init__(how)
        self.how = how


@dataclass
class _Running:
    job: JobRecord
    worker: str
    cancel: threading.Event = field(default_factory=threading.Event)


class JobWorkers:
    """The job threads of one service process (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        registry: BrandRegistry,
        metrics: Metrics,
        *,
        worker_prefix: str,
        backend: dict[str, Any],
        default_pipeline: str,
        heartbeat_s: float,
        stale_after_s: float,
    ) -> None:
        self.store, self.registry, self.metrics = store, registry, metrics
        self.worker_prefix = worker_prefix
        self.backend = backend
        self.default_pipeline = default_pipeline
        self.heartbeat_s, self.stale_after_s = heartbeat_s, stale_after_s
        self._threads: list[threading.Thread] = []
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()
        self._wake = threading.Condition()
        self._stopping = threading.Event()  # no new claims
        self._requeue = threading.Event()  # running jobs stop at their next model call and go back to queued
        self.pipelines: dict[str, Pipeline] = {}

    def pipeline(self, name: str | None, overrides: SamplingOverrides | None = None) -> Pipeline:
        """The named pipeline with the service's backend and ``overrides`` (loaded once per combination)."""
        sampling = overrides.model_dump(exclude_none=True) if overrides else {}
        key = json.dumps([name or self.default_pipeline, sampling], sort_keys=True)
        with self._lock:
            if key not in self.pipelines:
                self.pipelines[key] = load_pipeline(
                    name or self.default_pipeline, backend_overrides={**self.backend, **sampling}
                )
            return self.pipelines[key]

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._running)

    def start(self, count: int) -> None:
        for n in range(count):
            thread = threading.Thread(
                target=self._loop, args=(f"{self.worker_prefix}#{n}",), daemon=True, name=f"job-{n}"
            )
            thread.start()
            self._threads.append(thread)
        beat = threading.Thread(target=self._heartbeat_loop, daemon=True, name="job-heartbeat")
        beat.start()
        self._threads.append(beat)

    def wake(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def cancel_local(self, job_id: str) -> None:
        with self._lock:
            running = self._running.get(job_id)
        if running is not None:
            running.cancel.set()

    def stop(self, grace_s: float) -> list[str]:
        """Stop claiming; let running jobs finish for ``grace_s``; requeue the rest (their ids returned)."""
        self._stopping.set()
        self.wake()
        deadline = time.monotonic() + grace_s
        while self.running and time.monotonic() < deadline:
            time.sleep(0.1)
        self._requeue.set()
        requeued: list[str] = []
        deadline = time.monotonic() + 5.0  # a model call in flight ends the job at its next check
        while self.running and time.monotonic() < deadline:
            time.sleep(0.1)
        with self._lock:
            left = list(self._running.values())
        for running in left:  # still inside one long model call: requeue it in the store now
            if self.store.finish(
                running.job.id, running.worker, "queued", message="requeued: the server shut down"
            ):
                requeued.append(running.job.id)
        return requeued

    # --- threads ------------------------------------------------------------------------------------

    def _loop(self, worker: str) -> None:
        while not self._stopping.is_set():
            try:
                job = self.store.claim(worker)
            except Exception:
                log.exception("cannot claim a job")
                job = None
            if job is None:
                with self._wake:
                    self._wake.wait(timeout=0.5)
                continue
            running = _Running(job, worker)
            with self._lock:
                self._running[job.id] = running
            try:
                self._run(running)
            except Exception:  # a failure to record the outcome: the heartbeat lapses and it is interrupted
                log.exception("job %s: cannot record its outcome", job.id, extra={"job_id": job.id})
            finally:
                with self._lock:
                    self._running.pop(job.id, None)

    def _heartbeat_loop(self) -> None:
        while not self._stopping.is_set() or self.running:
            with self._lock:
                running = list(self._running.values())
            try:
                by_worker: dict[str, list[str]] = {}
                for r in running:
                    by_worker.setdefault(r.worker, []).append(r.job.id)
                for worker, ids in by_worker.items():
                    for job_id in self.store.heartbeat(worker, ids):
                        self.cancel_local(job_id)
                for job_id in self.store.mark_interrupted(self.stale_after_s):
                    log.warning("job %s interrupted: its server stopped", job_id, extra={"job_id": job_id})
            except Exception:
                log.exception("heartbeat failed")
            time.sleep(self.heartbeat_s)

    def _run(self, running: _Running) -> None:
        job, worker = running.job, running.worker
        started = time.perf_counter()
        extra = {"job_id": job.id}
        log.info("job %s started (brand %s, attempt %d)", job.id, job.brand, job.attempts, extra=extra)

        def check_stop() -> None:
            if running.cancel.is_set():
                raise _Stop("cancelled")
            if self._requeue.is_set():
                raise _Stop("requeue")

        def progress(message: str) -> None:
            check_stop()
            self.store.progress(job.id, worker, message[:2000])

        try:
            request = CampaignRequest.model_validate(job.request)
            pipeline = self.pipeline(request.pipeline, request.overrides)
            brand = self.registry.load(request.brand)
            index = self.registry.index(brand, pipeline)
            llm = MeteredBackend(get_concurrent_backend(pipeline.spec.backend), self.metrics, check_stop)
            session = CampaignSession.open(
                brand, pipeline=pipeline, channels=request.channels, index=index, llm=llm, progress=progress
            )
            campaign = session.run()
        except _Stop as stop:
            if stop.how == "cancelled":
                self.store.finish(job.id, worker, "cancelled", message="cancelled while running")
                self.metrics.jobs_finished.labels("cancelled").inc()
            else:
                self.store.finish(job.id, worker, "queued", message="requeued: the server shut down")
            log.info("job %s %s", job.id, stop.how, extra=extra)
            return
        except (InputError, LookupError, BackendError, ServiceError) as exc:
            self.store.finish(job.id, worker, "failed", message=f"{type(exc).__name__}: {exc}"[:4000])
            self.metrics.jobs_finished.labels("failed").inc()
            log.warning("job %s failed: %s", job.id, exc, extra=extra)
            return
        except Exception as exc:
            log.exception("job %s: internal error", job.id, extra=extra)
            self.store.finish(
                job.id, worker, "failed", message=f"internal error ({type(exc).__name__}); see the server log"
            )
            self.metrics.jobs_finished.labels("failed").inc()
            return
        seconds = time.perf_counter() - started
        blocked = [p.channel for p in campaign.blocked]
        summary = {
            "status": "incomplete" if campaign_incomplete(campaign) else "complete",
            "pieces": len(campaign.pieces),
            "delivered": len(campaign.pieces) - len(blocked),
            "blocked": blocked,
            "model": campaign.model,
            "llm_calls": campaign.stats.llm_calls,
            "prompt_tokens": campaign.stats.prompt_tokens,
            "completion_tokens": campaign.stats.completion_tokens,
            "seconds": round(seconds, 3),
        }
        self.store.finish(
            job.id, worker, "done", summary=summary, result=campaign.model_dump_json(indent=2) + "\n"
        )
        self.metrics.jobs_finished.labels("done").inc()
        self.metrics.job_seconds.observe(seconds)
        log.info(
            "job %s done in %.1f s: %d pieces, %d blocked",
            job.id,
            seconds,
            len(campaign.pieces),
            len(blocked),
            extra=extra,
        )
