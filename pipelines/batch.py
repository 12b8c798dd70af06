"""Batch runs: many brands overnight, resumable, each result written exactly once.

Contract (``brandforge batch JOBS --out RUN_DIR``):

- Input: JSONL (``{"id": ..., "brand": "dir" | {...}, "channels": [...]}`` per line) or CSV (columns
  ``id, brand, channels``). A line that cannot run — invalid JSON, no id, a duplicate id, a missing brand
  folder, an invalid brand — goes to ``errors.jsonl`` with its line number; the others run.
- Output in RUN_DIR: ``results.jsonl`` (one line per finished id: ``{"id", "campaign", "fingerprint",
  "input"}``), ``errors.jsonl`` (this run's malformed lines and failed items), ``summary.json`` +
  ``report.md``, ``batch.log``. Only the driver writes ``results.jsonl``: one ``write`` + ``fsync`` per
  line, so a crash (SIGKILL included) can at worst leave a torn last line, which the next run cuts off.
- Resume: rerunning the same command skips ids whose result has the current fingerprint (pipeline,
  prompts, model) and input hash (brand files, channels). Results made by another pipeline, prompt
  version or model are stale: the run refuses to mix them (``--recompute-stale`` archives and redoes
  them). Failed items are retried by the next run.
- Retries of transient backend errors happen in one place, the backend client (``max_retries`` with
  backoff); an item whose backend still fails is an error for the next run to retry, never a loop here.
- ``--timeout-per-item`` and ``--max-tokens-per-item`` stop an item between model calls; Ctrl-C stops
  scheduling, finishes (and records) what is running, and exits 130 — the next run resumes.
- Executors: ``local`` (threads; concurrent requests reach an HTTP server, which batches them) and
  ``ray`` (one task per item on a Ray cluster; results still flow back to the one driver that writes).
"""

from __future__ import annotations

import concurrent.futures as cf
import csv
import fcntl
import hashlib
import json
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agents.backends import (
    BackendError,
    ChatMessage,
    Completion,
    GenerationParams,
    LLMBackend,
    WrappedBackend,
    get_backend,
    get_batched_backend,
)
from agents.state import Campaign
from knowledge.brand import Brand, load_brand
from knowledge.cache import atomic_write
from knowledge.errors import InputError, format_validation_error
from knowledge.yamlio import validate_model
from pipelines.runner import run_campaign
from pipelines.spec import Pipeline, load_pipeline


class ItemStopped(RuntimeError):
    """An item ran past its time or token budget; raised between model calls."""


class _JobLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    brand: str | dict[str, Any]
    channels: list[str] | None = None

    @field_validator("id")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.isprintable() or value != value.strip():
            raise ValueError("expected a printable id without surrounding spaces")
        return value


@dataclass(frozen=True)
class Job:
    line: int
    id: str
    brand_ref: str | dict[str, Any]  # what a worker needs to load the brand again (a path or an object)
    root: str  # the folder an inline brand's knowledge_dir is relative to
    channels: tuple[str, ...] | None
    input_hash: str


@dataclass(frozen=True)
class BadLine:
    line: int
    id: str | None
    error: str

    def record(self) -> dict[str, Any]:
        return {"line": self.line, "id": self.id, "error": self.error}


def load_job_brand(brand_ref: str | dict[str, Any], root: str) -> Brand:
    """The brand a job names: a folder (relative to the jobs file) or an inline brand.yaml object."""
    if isinstance(brand_ref, str):
        path = Path(brand_ref)
        return load_brand(path if path.is_absolute() else Path(root) / path)
    if "root" in brand_ref:
        raise InputError("unknown field (remove it or check its spelling)", field="brand.root")
    brand = validate_model(brand_ref, Brand, "inline brand")
    brand = brand.model_copy(update={"root": Path(root).resolve()})
    brand.knowledge_path  # noqa: B018 - validates the knowledge_dir confinement now
    return brand


def _folder_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    if folder.is_dir():
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _input_hash(brand: Brand, channels: Sequence[str] | None, folders: dict[Path, str]) -> str:
    """Hash of what an item's result depends on besides the pipeline: brand.yaml and its documents.
    ``folders`` memoises each knowledge folder's hash: many jobs may share one brand."""
    knowledge = brand.knowledge_path
    if knowledge not in folders:
        folders[knowledge] = _folder_hash(knowledge)
    digest = hashlib.sha256()
    digest.update(brand.model_dump_json().encode())
    digest.update(json.dumps(list(channels) if channels else None).encode())
    digest.update(folders[knowledge].encode())
    return digest.hexdigest()[:16]


def _records(path: Path) -> Iterator[tuple[int, Any, str | None]]:
    """(line number, parsed record or None, error) for every non-empty line of a JSONL or CSV file."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8", newline="") as f:
            for n, row in enumerate(csv.DictReader(f), start=2):
                record: dict[str, Any] = {k: v for k, v in row.items() if k and v not in (None, "")}
                if isinstance(record.get("channels"), str):
                    record["channels"] = [
                        c.strip() for c in record["channels"].replace(";", ",").split(",") if c.strip()
                    ]
                yield n, record, None
        return
    with path.open(encoding="utf-8") as f:
        for n, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                yield n, json.loads(raw), None
            except json.JSONDecodeError as exc:
                yield n, None, f"invalid JSON: {exc.msg} at column {exc.colno}"


def read_jobs(path: Path) -> tuple[list[Job], list[BadLine]]:
    """Parse and check every line; bad lines are returned, never raised."""
    if not path.is_file():
        raise InputError("jobs file not found; expected JSONL or CSV", source=path)
    root = str(path.resolve().parent)
    jobs: list[Job] = []
    bad: list[BadLine] = []
    seen: dict[str, int] = {}
    folders: dict[Path, str] = {}
    try:
        records = list(_records(path))
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", source=path) from None
    for n, record, error in records:
        if error is not None:
            bad.append(BadLine(n, None, error))
            continue
        job_id = record.get("id") if isinstance(record, dict) else None
        job_id = str(job_id) if job_id is not None else None
        try:
            if not isinstance(record, dict):
                raise InputError(f"expected an object with id and brand, got {type(record).__name__}")
            try:
                line = _JobLine.model_validate(record)
            except ValidationError as exc:
                raise format_validation_error(exc) from None
            if line.id in seen:
                raise InputError(f"duplicate id (first on line {seen[line.id]})", field="id")
            seen[line.id] = n
            brand = load_job_brand(line.brand, root)
            if line.channels is not None:
                from pipelines.runner import _channels_for

                _channels_for(brand, line.channels)
            jobs.append(
                Job(
                    n,
                    line.id,
                    line.brand,
                    root,
                    tuple(line.channels) if line.channels else None,
                    _input_hash(brand, line.channels, folders),
                )
            )
        except InputError as exc:
            bad.append(BadLine(n, job_id, str(exc)))
    return jobs, bad


def fingerprint(pipeline: Pipeline, model: str) -> str:
    """What makes results comparable: the pipeline spec (minus where the server is), prompts, model."""
    spec = pipeline.spec.model_dump(
        mode="json", exclude={"backend": {"base_url", "api_key", "timeout_s", "max_retries", "concurrency"}}
    )
    prompts = sorted(f"{p.ref}:{p.hash}" for agent in pipeline.agents for p in agent.prompts.values())
    prompts.append(f"{pipeline.context_prompt.ref}:{pipeline.context_prompt.hash}")
    blob = json.dumps({"spec": spec, "prompts": prompts, "model": model}, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


class _Budgeted(WrappedBackend):
    """Per-item limits, checked before each call: wall time and tokens."""

    def __init__(self, inner: LLMBackend, deadline: float | None, max_tokens: int | None) -> None:
        super().__init__(inner)
        self.deadline, self.max_tokens, self.used = deadline, max_tokens, 0

    def _complete(
        self, messages: list[ChatMessage], json_schema: dict[str, Any] | None, params: GenerationParams
    ) -> Completion:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise ItemStopped("timed out (--timeout-per-item)")
        if self.max_tokens is not None and self.used >= self.max_tokens:
            raise ItemStopped(f"token budget spent ({self.used} >= --max-tokens-per-item {self.max_tokens})")
        completion = self.inner.complete(messages, json_schema=json_schema, params=params)
        self.used += completion.prompt_tokens + completion.completion_tokens
        return completion


@dataclass
class ItemOutcome:
    job_id: str
    line: int
    campaign: dict[str, Any] | None = None
    error: str | None = None
    seconds: float = 0.0


def run_item(
    job: Job,
    pipeline: str,
    overrides: dict[str, Any],
    timeout_s: float | None,
    max_tokens: int | None,
) -> ItemOutcome:
    """Run one job start to finish (in a thread here, or in a Ray worker); never raises."""
    started = time.monotonic()
    try:
        resolved = load_pipeline(pipeline, backend_overrides=overrides)
        brand = load_job_brand(job.brand_ref, job.root)
        deadline = started + timeout_s if timeout_s else None
        config = resolved.spec.backend
        # In-process vLLM batches on the GPU only what reaches it together: gather concurrent items' calls.
        shared = get_batched_backend(config) if config.kind == "vllm" else get_backend(config)
        llm = _Budgeted(shared, deadline, max_tokens)

        def check_time(message: str) -> None:
            if deadline is not None and time.monotonic() > deadline:
                raise ItemStopped(f"timed out after {timeout_s:g} s (--timeout-per-item)")

        campaign: Campaign = run_campaign(
            brand,
            pipeline=resolved,
            channels=list(job.channels) if job.channels else None,
            progress=check_time,
            llm=llm,
        )
        if campaign.backend_error:
            return ItemOutcome(
                job.id,
                job.line,
                error=f"backend error {campaign.backend_error}",
                seconds=time.monotonic() - started,
            )
        return ItemOutcome(
            job.id, job.line, campaign=campaign.model_dump(mode="json"), seconds=time.monotonic() - started
        )
    except (ItemStopped, BackendError, InputError) as exc:
        return ItemOutcome(
            job.id, job.line, error=f"{type(exc).__name__}: {exc}", seconds=time.monotonic() - started
        )
    except Exception as exc:
        return ItemOutcome(
            job.id,
            job.line,
            error=f"unexpected {type(exc).__name__}: {exc}",
            seconds=time.monotonic() - started,
        )


class _AppendLog:
    """One line per write, fsynced: a crash can tear at most the last line."""

    def __init__(self, path: Path, *, truncate: bool = False) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | (os.O_TRUNC if truncate else 0)
        self.fd = os.open(path, flags, 0o644)
        self.lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self.lock:
            os.write(self.fd, data)
            os.fsync(self.fd)

    def close(self) -> None:
        os.close(self.fd)


def _load_results(path: Path) -> list[dict[str, Any]]:
    """Finished results; a torn last line (a crash mid-write) is cut off the file."""
    if not path.exists():
        return []
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        os.truncate(path, keep)
        data = data[:keep]
    out = []
    for raw in data.decode("utf-8").splitlines():
        try:
            record = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and "id" in record:
            out.append(record)
    return out


@dataclass
class BatchSummary:
    jobs: int
    malformed: int
    already_done: int
    succeeded: int
    failed: int
    not_run: int
    seconds: float
    items_per_hour: float | None
    tokens: dict[str, int]
    verdicts: dict[str, dict[str, int]]
    interrupted: bool = False
    fingerprint: str = ""
    executor: str = "local"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        return 1 if (self.failed or self.malformed) else 0


class _Progress:
    def __init__(self, total: int, stream: Any = sys.stderr) -> None:
        self.total, self.done, self.failed, self.started, self.stream = total, 0, 0, time.monotonic(), stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def update(self, ok: bool, job_id: str) -> None:
        self.done += 1
        self.failed += not ok
        elapsed = time.monotonic() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        line = (
            f"[{bar}] {self.done}/{self.total} items, {self.failed} failed, "
            f"{rate * 3600:.0f}/h, ETA {_duration(eta)} (last: {job_id})"
        )
        if self.tty:
            self.stream.write("\r" + line[:150].ljust(150))
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return (
        f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
        if seconds >= 3600
        else f"{seconds // 60}m{seconds % 60:02d}s"
    )


Executor = Callable[[list[Job], Callable[[ItemOutcome], None], threading.Event], None]


def _local_executor(concurrency: int, item: Callable[[Job], ItemOutcome]) -> Executor:
    def execute(jobs: list[Job], deliver: Callable[[ItemOutcome], None], stop: threading.Event) -> None:
        queue = iter(jobs)
        with cf.ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="batch") as pool:
            running: set[cf.Future[ItemOutcome]] = set()
            while True:
                while not stop.is_set() and len(running) < concurrency:
                    job = next(queue, None)
                    if job is None:
                        break
                    running.add(pool.submit(item, job))
                if not running:
                    return
                done, running = cf.wait(running, timeout=0.5, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    deliver(future.result())

    return execute


def _ray_executor(address: str | None, concurrency: int, args: tuple[Any, ...]) -> Executor:
    try:
        import ray
    except ImportError:
        raise InputError("--executor ray needs Ray: pip install 'brandforge[cluster]'") from None

    def execute(jobs: list[Job], deliver: Callable[[ItemOutcome], None], stop: threading.Event) -> None:
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
        remote = ray.remote(num_cpus=1, max_retries=0)(run_item)
        queue = iter(jobs)
        pending: dict[Any, Job] = {}
        while True:
            while not stop.is_set() and len(pending) < concurrency:
                job = next(queue, None)
                if job is None:
                    break
                pending[remote.remote(job, *args)] = job
            if not pending:
                return
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
            for ref in ready:
                job = pending.pop(ref)
                try:
                    deliver(ray.get(ref))
                except Exception as exc:
                    deliver(
                        ItemOutcome(job.id, job.line, error=f"ray task failed: {type(exc).__name__}: {exc}")
                    )

    return execute


def run_batch(
    jobs_path: Path,
    out_dir: Path,
    *,
    pipeline: str = "default",
    backend_overrides: dict[str, Any] | None = None,
    concurrency: int = 1,
    executor: str = "local",
    ray_address: str | None = None,
    max_items: int | None = None,
    timeout_per_item: float | None = None,
    max_tokens_per_item: int | None = None,
    recompute_stale: bool = False,
    progress_stream: Any = sys.stderr,
) -> BatchSummary:
    started = time.monotonic()
    overrides = dict(backend_overrides or {})
    resolved = load_pipeline(pipeline, backend_overrides=overrides)
    pipeline_ref = resolved.source if Path(resolved.source).is_file() else pipeline
    model = get_backend(resolved.spec.backend).model_name
    run_fp = fingerprint(resolved, model)
    jobs, bad = read_jobs(jobs_path)

    out_dir.mkdir(parents=True, exist_ok=True)
    lock = (out_dir / ".lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise InputError(
            "another batch is writing to this folder; wait for it or choose another --out", source=out_dir
        ) from None
    log = (out_dir / "batch.log").open("a", encoding="utf-8")

    def note(message: str) -> None:
        log.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {message}\n")
        log.flush()

    results_path = out_dir / "results.jsonl"
    previous = _load_results(results_path)
    by_id = {job.id: job for job in jobs}
    stale = [
        r
        for r in previous
        if r.get("fingerprint") != run_fp
        or (r["id"] in by_id and r.get("input") != by_id[r["id"]].input_hash)
    ]
    if stale and not recompute_stale:
        reason = (
            "another pipeline, prompt version or model"
            if any(r.get("fingerprint") != run_fp for r in stale)
            else "changed brand files"
        )
        raise InputError(
            f"{len(stale)} earlier result(s) were made with {reason} (fingerprint now {run_fp}); they "
            "would be mixed with new ones. Rerun with --recompute-stale to archive and redo them, or use "
            "another --out",
            source=results_path,
        )
    if stale:
        archive = out_dir / f"results.stale-{time.strftime('%Y%m%dT%H%M%S')}.jsonl"
        archive.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in stale), encoding="utf-8")
        keep = [r for r in previous if r not in stale]
        atomic_write(
            results_path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in keep).encode("utf-8")
        )
        note(f"archived {len(stale)} stale result(s) to {archive.name}")
        previous = keep
    done_ids = {r["id"] for r in previous}
    todo = [job for job in jobs if job.id not in done_ids]
    not_run = 0
    if max_items is not None and len(todo) > max_items:
        not_run = len(todo) - max_items
        todo = todo[:max_items]

    errors = _AppendLog(out_dir / "errors.jsonl.tmp", truncate=True)
    for b in bad:
        errors.append(b.record())
    results = _AppendLog(results_path)
    note(
        f"start: {len(jobs)} jobs, {len(bad)} malformed, {len(done_ids & set(by_id))} already done, "
        f"{len(todo)} to run; fingerprint {run_fp}"
    )
    bar = _Progress(len(todo), progress_stream)
    counts = {"ok": 0, "failed": 0}

    def deliver(outcome: ItemOutcome) -> None:
        if outcome.campaign is not None:
            results.append(
                {
                    "id": outcome.job_id,
                    "fingerprint": run_fp,
                    "input": by_id[outcome.job_id].input_hash,
                    "campaign": outcome.campaign,
                }
            )
            counts["ok"] += 1
            note(f"done {outcome.job_id} in {outcome.seconds:.1f} s")
        else:
            errors.append({"line": outcome.line, "id": outcome.job_id, "error": outcome.error})
            counts["failed"] += 1
            note(f"failed {outcome.job_id}: {outcome.error}")
        bar.update(outcome.campaign is not None, outcome.job_id)

    args = (pipeline_ref, overrides, timeout_per_item, max_tokens_per_item)
    if executor == "ray":
        execute = _ray_executor(ray_address, concurrency, args)
    elif executor == "local":
        execute = _local_executor(concurrency, lambda job: run_item(job, *args))
    else:
        raise InputError(f"unknown executor {executor!r}; valid choices: local, ray", field="--executor")

    stop = threading.Event()
    interrupted = False

    def on_sigint(signum: int, frame: Any) -> None:
        nonlocal interrupted
        if interrupted:  # second Ctrl-C: leave now; what is finished is already on disk
            os._exit(130)
        interrupted = True
        stop.set()
        progress_stream.write("\ninterrupted: finishing the items already running (Ctrl-C again to abort)\n")

    previous_handler = (
        signal.signal(signal.SIGINT, on_sigint)
        if threading.current_thread() is threading.main_thread()
        else None
    )
    try:
        execute(todo, deliver, stop)
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGINT, previous_handler)
        results.close()
        errors.close()
        os.replace(out_dir / "errors.jsonl.tmp", out_dir / "errors.jsonl")
    not_run += len(todo) - counts["ok"] - counts["failed"]

    seconds = time.monotonic() - started
    all_results = _load_results(results_path)
    verdicts: dict[str, Counter[str]] = {}
    tokens = Counter[str]()
    for record in all_results:
        campaign = record["campaign"]
        for piece in campaign["pieces"]:
            verdicts.setdefault(piece["channel"], Counter())[piece["compliance"]["verdict"]] += 1
        for key in ("prompt_tokens", "completion_tokens", "cached_prompt_tokens"):
            tokens[key] += campaign["stats"].get(key, 0)
    attempted = counts["ok"] + counts["failed"]
    summary = BatchSummary(
        jobs=len(jobs) + len(bad),
        malformed=len(bad),
        already_done=len(done_ids & set(by_id)),
        succeeded=counts["ok"],
        failed=counts["failed"],
        not_run=not_run,
        seconds=round(seconds, 2),
        items_per_hour=round(attempted / seconds * 3600, 1) if attempted and seconds > 0 else None,
        tokens=dict(tokens),
        verdicts={ch: dict(c) for ch, c in sorted(verdicts.items())},
        interrupted=interrupted,
        fingerprint=run_fp,
        executor=executor,
        extra={
            "results": len(all_results),
            "concurrency": concurrency,
            "backend": resolved.spec.backend.kind,
            "model": model,
        },
    )
    atomic_write(out_dir / "summary.json", (json.dumps(summary.__dict__, indent=2) + "\n").encode())
    atomic_write(out_dir / "report.md", _report(summary).encode("utf-8"))
    note(f"end: {counts['ok']} done, {counts['failed']} failed, {not_run} not run, {seconds:.1f} s")
    log.close()
    lock.close()
    return summary


def _report(s: BatchSummary) -> str:
    lines = [
        "# BrandForge batch report",
        "",
        f"- jobs: {s.jobs} ({s.malformed} malformed), already done before this run: {s.already_done}",
        f"- this run: {s.succeeded} done, {s.failed} failed, {s.not_run} not run"
        + (" (interrupted)" if s.interrupted else ""),
        f"- results on file: {s.extra.get('results')}",
        f"- wall time {s.seconds:.1f} s"
        + (f", {s.items_per_hour:.0f} items/hour" if s.items_per_hour else "")
        + f" ({s.executor}, concurrency {s.extra.get('concurrency')}, "
        f"{s.extra.get('backend')}: {s.extra.get('model')})",
        f"- tokens: {s.tokens.get('prompt_tokens', 0)} prompt, "
        f"{s.tokens.get('completion_tokens', 0)} generated",
        "",
        "| channel | pass | revised | blocked |",
        "|---|---|---|---|",
    ]
    for channel, counts in s.verdicts.items():
        lines.append(
            f"| {channel} | {counts.get('pass', 0)} | {counts.get('revised', 0)} "
            f"| {counts.get('blocked', 0)} |"
        )
    if s.failed or s.malformed:
        lines += [
            "",
            "Failed and malformed lines are in errors.jsonl; rerun the same command to retry the "
            "failed ones.",
        ]
    return "\n".join(lines) + "\n"
