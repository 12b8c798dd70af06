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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agents.state import MAX_INSTRUCTION
from backends import BackendError, get_concurrent_backend
from core.errors import InputError, ServiceError
from core.files import atomic_write
from pipelines.exits import campaign_incomplete
from pipelines.session import CampaignSession
from pipelines.spec import Pipeline, load_pipeline
from service.brands import BrandRegistry
from service.metrics import MeteredBackend, Metrics
from service.store import JobRecord, Store

log = logging.getLogger("service.jobs")

NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"
MAX_BATCH_ITEMS = 200  # a batch's results are stored with the job; bigger runs: brandforge batch


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
    instruction: str = Field(
        "",
        max_length=MAX_INSTRUCTION,
        description="The brand team's instruction for this campaign, for the strategist.",
    )
    overrides: SamplingOverrides = Field(default_factory=SamplingOverrides)

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


class BatchItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(..., pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", description="Unique within the batch.")
    brand: str = Field(..., pattern=NAME, description="A registered brand's name.")
    channels: list[str] | None = Field(None, min_length=1, max_length=20)


class BatchRequest(BaseModel):
    """Many campaigns as one job, run by the batch runner (``brandforge batch``): resumable, and on a Ray
    cluster with ``executor: ray``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [{"id": "w-1", "brand": "wanderly"}, {"id": "w-2", "brand": "wanderly"}],
                    "concurrency": 2,
                }
            ]
        },
    )
    items: list[BatchItem] = Field(..., min_length=1, max_length=MAX_BATCH_ITEMS)
    pipeline: str | None = Field(None, pattern=NAME)
    executor: Literal["local", "ray"] = Field("local", description="local threads, or the Ray cluster.")
    concurrency: int = Field(1, ge=1, le=64, description="Items in flight.")
    overrides: SamplingOverrides = Field(default_factory=SamplingOverrides)

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


class _ProgressLines:
    """A text stream for the batch runner's progress: each line becomes a job progress event."""

    def __init__(self, report: Callable[[str], None]) -> None:
        self.report, self.buffer = report, ""

    def write(self, text: str) -> int:
        self.buffer += text.replace("\r", "\n")
        *lines, self.buffer = self.buffer.split("\n")
        for line in lines:
            if line.strip():
                self.report(line.strip())
        return len(text)

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False


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
        data_dir: Path = Path("service-data"),
        ray_address: str | None = None,
    ) -> None:
        self.store, self.registry, self.metrics = store, registry, metrics
        self.worker_prefix = worker_prefix
        self.backend = backend
        self.default_pipeline = default_pipeline
        self.heartbeat_s, self.stale_after_s = heartbeat_s, stale_after_s
        self.data_dir, self.ray_address = data_dir, ray_address
        self._threads: list[threading.Thread] = []
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()
        self._wake = threading.Condition()
        self._stopping = threading.Event()  # no new claims
        self._requeue = threading.Event()  # running jobs stop at their next model call and go back to queued
        self.pipelines: dict[str, Pipeline] = {}
        # (checker, policy, index) for a registered brand: set by the application (it caches them), for
        # the revisions the studio asks for.
        self.checker_for: Callable[[str], tuple[Any, Any, Any]] | None = None

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
    def count(self) -> int:
        """How many job threads run (0 before :meth:`start`)."""
        return sum(1 for t in self._threads if t.name != "job-heartbeat")

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
        with self._lock:
            for running in self._running.values():
                running.cancel.set()  # a batch stops scheduling items; a campaign stops at its next call
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
            if self._requeue.is_set():
                raise _Stop("requeue")
            if running.cancel.is_set():
                raise _Stop("cancelled")

        def progress(message: str) -> None:
            check_stop()
            self.store.progress(job.id, worker, message[:2000])

        if job.kind == "batch":
            self._run_batch(running, started)
            return
        if job.kind == "revise":
            self._run_revise(running, check_stop, progress)
            return
        try:
            request = CampaignRequest.model_validate(job.request)
            pipeline = self.pipeline(request.pipeline, request.overrides)
            brand = self.registry.load(request.brand)
            index = self.registry.index(brand, pipeline)
            llm = MeteredBackend(get_concurrent_backend(pipeline.spec.backend), self.metrics, check_stop)
            session = CampaignSession.open(
                brand, pipeline=pipeline, channels=request.channels, index=index, llm=llm, progress=progress
            )
            campaign = session.run(request.instruction)
        except _Stop as stop:
            if stop.how == "cancelled":
                self.store.finish(job.id, worker, "cancelled", message="cancelled while running")
                self.metrics.jobs_finished.labels("cancelled").inc()
            else:
                self.store.finish(job.id, worker, "queued", message="requeued: the server shut down")
            log.info("job %s %s", job.id, stop.how, extra=extra)
            return
        except (InputError, LookupError, BackendError, ServiceError) as exc:
            self._fail(job, worker, exc, internal=False)
            return
        except Exception as exc:
            self._fail(job, worker, exc, internal=True)
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

    def _run_revise(
        self, running: _Running, check_stop: Callable[[], None], progress: Callable[[str], None]
    ) -> None:
        """A piece sent back from the studio: one revision by the copywriter with the reviewer's note, checked
        again, and back to ``pending_review``. If it cannot be done the piece goes back to the reviewer as
        it was (``revise_failed`` in its trail) and the job fails saying why."""
        from pipelines.revise import revise_piece
        from service.review import Reviews, StaleReview, campaign_for, provenance, recheck

        job, worker = running.job, running.worker
        reviews = Reviews(self.store)
        review = reviews.get(str(job.request.get("review", "")))
        try:
            if review is None:
                raise InputError("the piece to revise no longer exists", field="review")
            source = self.store.get_job(review.job_id)
            if source is None:
                raise InputError("the piece's job no longer exists", field="review")
            campaign = campaign_for(self.store, source, review.item)
            original = campaign.pieces[review.position] if review.position < len(campaign.pieces) else None
            pipeline = self.pipeline(None)
            brand = self.registry.load(review.brand)
            index = self.registry.index(brand, pipeline)
            llm = MeteredBackend(get_concurrent_backend(pipeline.spec.backend), self.metrics, check_stop)
            session = CampaignSession.open(
                brand, pipeline=pipeline, channels=[review.channel], index=index, llm=llm, progress=progress
            )
            fields, trace = revise_piece(
                session,
                campaign,
                review.channel,
                review.fields,
                str(job.request.get("note", "")),
                original.citations if original else [],
            )
            if self.checker_for is None:
                raise ServiceError("the service has no compliance checker for revisions")
            checker = self.checker_for(review.brand)[0]
            findings, verdict = recheck(
                checker,
                brand,
                session.channels[0],
                fields,
                campaign=campaign,
                position=review.position,
                index=index,
            )
            current = reviews.get(review.id)
            if current is None or current.version != job.request.get("version"):
                raise StaleReview("the piece changed while it was being revised")
            origin = {
                **provenance(campaign),
                "prompts": sorted({t.prompt for t in trace}),
                "revise_job": job.id,
            }
            reviews.apply(
                current,
                "model:copywriter",
                "copywriter",
                "revised",
                state="pending_review",
                fields=fields,
                findings=findings,
                verdict=verdict,
                reason=str(job.request.get("note", "")),
                provenance=origin,
            )
        except _Stop as stop:
            self._revise_failed(reviews, review, job, "the revision was stopped")
            self.store.finish(job.id, worker, "cancelled", message=f"revision {stop.how}")
            return
        except (InputError, LookupError, BackendError, ServiceError, StaleReview) as exc:
            self._revise_failed(reviews, review, job, str(exc))
            self._fail(job, worker, exc, internal=False)
            return
        except Exception as exc:
            self._revise_failed(reviews, review, job, f"internal error ({type(exc).__name__})")
            self._fail(job, worker, exc, internal=True)
            return
        summary = {"review": review.id, "verdict": verdict, "changed": fields != review.fields}
        self.store.finish(
            job.id, worker, "done", summary=summary, result=json.dumps(fields, ensure_ascii=False)
        )
        self.metrics.jobs_finished.labels("done").inc()

    def _revise_failed(self, reviews: Any, review: Any, job: JobRecord, why: str) -> None:
        """Give a piece that could not be revised back to its reviewer, as it was."""
        if review is None:
            return
        current = reviews.get(review.id)
        if current is None or current.state != "sent_back":
            return
        try:
            reviews.apply(
                current, "model:copywriter", "copywriter", "revise_failed", state="pending_review", reason=why
            )
        except Exception:
            log.exception("review %s: cannot give it back after a failed revision", review.id)

    def _fail(self, job: JobRecord, worker: str, exc: Exception, *, internal: bool) -> None:
        """End ``job`` as failed: the reason for bad input or an unreachable backend, only the kind of
        error for a bug (its traceback goes to the log)."""
        extra = {"job_id": job.id}
        if internal:
            log.error("%s %s: internal error", job.kind, job.id, exc_info=exc, extra=extra)
            message = f"internal error ({type(exc).__name__}); see the server log"
        else:
            log.warning("%s %s failed: %s", job.kind, job.id, exc, extra=extra)
            message = self._public(f"{type(exc).__name__}: {exc}")[:4000]
        self.store.finish(job.id, worker, "failed", message=message)
        self.metrics.jobs_finished.labels("failed").inc()

    def _public(self, message: str) -> str:
        """A failure message for the client: the service's own folders shown relative."""
        for root in (self.registry.root, self.data_dir.resolve()):
            message = message.replace(f"{root}/", "").replace(str(root), ".")
        return message

    def _run_batch(self, running: _Running, started: float) -> None:
        """A batch job: the batch runner over the registered brands' folders, in ``data_dir/batches/ID``
        (a retried batch resumes there: finished items are not run again)."""
        from pipelines.batch import run_batch

        job, worker = running.job, running.worker
        extra = {"job_id": job.id}
        try:
            request = BatchRequest.model_validate(job.request)
            folder = self.data_dir / "batches" / job.id
            folder.mkdir(parents=True, exist_ok=True)
            lines = []
            for item in request.items:
                line: dict[str, Any] = {"id": item.id, "brand": str(self.registry.folder(item.brand))}
                if item.channels:
                    line["channels"] = item.channels
                lines.append(json.dumps(line, ensure_ascii=False) + "\n")
            atomic_write(folder / "jobs.jsonl", "".join(lines).encode("utf-8"))
            sampling = request.overrides.model_dump(exclude_none=True)
            summary = run_batch(
                folder / "jobs.jsonl",
                folder / "run",
                pipeline=request.pipeline or self.default_pipeline,
                backend_overrides={**self.backend, **sampling},
                concurrency=request.concurrency,
                executor=request.executor,
                ray_address=None if self.ray_address == "local" else self.ray_address,
                progress_stream=_ProgressLines(
                    lambda message: self.store.progress(job.id, worker, message[:2000])
                ),
                stop=running.cancel,
            )
        except (InputError, LookupError, BackendError, ServiceError, OSError) as exc:
            self._fail(job, worker, exc, internal=False)
            return
        except Exception as exc:
            self._fail(job, worker, exc, internal=True)
            return
        if running.cancel.is_set():
            if self._requeue.is_set():
                self.store.finish(job.id, worker, "queued", message="requeued: the server shut down")
            else:
                self.store.finish(
                    job.id, worker, "cancelled", message="cancelled: the items already running finished"
                )
                self.metrics.jobs_finished.labels("cancelled").inc()
            return
        results = (folder / "run" / "results.jsonl").read_text(encoding="utf-8")
        view: dict[str, Any] = {
            "status": "complete" if summary.failed == 0 else "incomplete",
            "items": len(request.items),
            "succeeded": summary.succeeded + summary.already_done,
            "already_done": summary.already_done,
            "failed": summary.failed,
            "executor": summary.executor,
            "verdicts": summary.verdicts,
            "tokens": summary.tokens,
            "seconds": round(time.perf_counter() - started, 3),
        }
        if summary.failed:
            errors = (folder / "run" / "errors.jsonl").read_text(encoding="utf-8").splitlines()
            view["errors"] = [json.loads(self._public(e)) for e in errors[:20]]
        self.store.finish(job.id, worker, "done", summary=view, result=results)
        self.metrics.jobs_finished.labels("done").inc()
        self.metrics.job_seconds.observe(time.perf_counter() - started)
        log.info(
            "batch %s done: %d succeeded, %d failed", job.id, view["succeeded"], summary.failed, extra=extra
        )
