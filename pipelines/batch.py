"""Batch runs: many brands overnight, resumable, each result written exactly once.

Contract (``brandforge batch JOBS --out RUN_DIR``):

- Input: JSONL (``{"id": ..., "brand": "dir" | {...}, "channels": [...]}`` per line) or CSV (columns
  ``id, brand, channels``). A line that cannot run — invalid JSON (nested deeper than 32, a number of
  more than 100 digits, a line over 1 MB included), no id, a duplicate id, a missing brand folder, an
  invalid brand — goes to ``errors.jsonl`` with its line number; the others run.
- Output in RUN_DIR: ``results.jsonl`` (one line per finished id: ``{"id", "campaign", "fingerprint",
  "input"}``), ``errors.jsonl`` (this run's malformed lines and failed items), ``summary.json`` +
  ``report.md``, ``batch.log``. Only the driver writes ``results.jsonl``: one checked ``write`` +
  ``fsync`` per line, so a crash (SIGKILL included) can at worst leave a torn last line, which the next
  run cuts off. A write that fails (disk full, read-only, no permission) is cut back off the file, never
  counted or logged as done, and ends the batch with an :class:`InputError` naming the file (exit 2);
  what was written before stays valid, and rerunning resumes.
- Resume: rerunning the same command skips ids whose result has the current fingerprint and input hash.
  The fingerprint covers the pipeline spec, every prompt's hash, the built-in channel specs and rule
  packs, and the model — for a server, the id the server reports, read after the backend has started
  (so the backend is started before anything is written, and an unreachable one is a BackendError).
  The input hash covers brand.yaml, the knowledge documents, the brand's channel specs
  (``BRAND_DIR/channels/``), its ``compliance.rule_files`` and the requested channels. Results made
  with anything else are stale: the run refuses to mix them (``--recompute-stale`` archives and redoes
  them). Failed items are retried by the next run.
- Retries of transient backend errors happen in one place, the backend client (``max_retries`` with
  backoff); an item whose backend still fails is an error for the next run to retry, never a loop here.
- ``--timeout-per-item`` and ``--max-tokens-per-item`` stop an item between model calls; Ctrl-C stops
  scheduling, finishes (and records) what is running, and exits 130 — the next run resumes. Every
  numeric knob has a validated range (:data:`KNOB_RANGES`).
- Executors: ``local`` (threads; concurrent requests reach an HTTP server, which batches them) and
  ``ray`` (one task per item on a Ray cluster; results still flow back to the one driver that writes).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import csv
import fcntl
import hashlib
import json
import math
import os
import signal
import stat
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agents.channels import BUILTIN_DIR as BUILTIN_CHANNELS_DIR
from agents.state import Campaign, StepFailure
from backends import (
    BackendError,
    ChatMessage,
    Completion,
    GenerationParams,
    LLMBackend,
    WrappedBackend,
    get_backend,
    get_concurrent_backend,
)
from backends.base import RayResources
from backends.registry import resources as backend_resources
from core.errors import InputError, format_validation_error
from core.files import atomic_write
from core.yamlio import confined_path, validate_model
from knowledge.brand import Brand, load_brand
from pipelines.session import CampaignSession, campaign_channels
from pipelines.spec import Pipeline, load_pipeline
from policy.rules import RULES_DIR

# Why these bounds: a jobs line is an id, a brand path or a brand.yaml-sized object and a few channel
# names — a few KB and a few levels deep. The caps keep a hostile line from costing more than a moment to
# refuse (json recursion on "[[[[...", Python's quadratic parsing of 100k-digit integers).
MAX_LINE_BYTES = 1 << 20
MAX_JSON_DEPTH = 32
MAX_INT_DIGITS = 100
# The most items in flight at once: the same bound as a backend's own concurrency.
MAX_CONCURRENCY = 256
KNOB_RANGES: dict[str, tuple[float, float]] = {
    "--concurrency": (1, MAX_CONCURRENCY),
    "--max-items": (1, 10**9),
    "--timeout-per-item": (0.001, 7 * 24 * 3600.0),  # seconds; a week is longer than any nightly run
    "--max-tokens-per-item": (1, 10**9),
}


class ItemStopped(RuntimeError):
    """An item ran past its time or token budget; raised between model calls."""


class BatchWriteError(InputError):
    """A file of the run folder could not be written (disk full, read-only, no permission)."""


def _cannot_write(path: Path, exc: OSError) -> BatchWriteError:
    reason = exc.strerror or type(exc).__name__
    return BatchWriteError(
        f"cannot write ({reason}); the batch stopped. Results already in results.jsonl are complete: "
        "free space (or fix the folder's permissions) and rerun the same command to resume",
        source=path,
    )


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


def _file_hash(path: Path) -> bytes:
    """Content hash of a regular file, read in chunks (a large document never sits in memory). Anything
    else — missing, a FIFO, a device — hashes as what it is: opening a FIFO would block, and loading
    the brand refuses such files anyway."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return b"missing"
    if not stat.S_ISREG(mode):
        return f"not a regular file ({stat.S_IFMT(mode):o})".encode()
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:  # unreadable: loading the brand reports it; the hash only has to differ
        return f"unreadable ({exc.strerror})".encode()
    return digest.digest()


def _folder_hash(folder: Path) -> str:
    """Hash of every file under ``folder`` (names and contents); a missing folder hashes as empty."""
    digest = hashlib.sha256()
    if folder.is_dir():
        for path in sorted(p for p in folder.rglob("*") if not p.is_dir()):
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(_file_hash(path))
    return digest.hexdigest()


def _input_hash(brand: Brand, channels: Sequence[str] | None, memo: dict[Path, str]) -> str:
    """Hash of what an item's result depends on besides the pipeline and the model: brand.yaml, its
    knowledge documents, its channel specs (``BRAND_DIR/channels/``), its ``compliance.rule_files`` and
    the requested channels. ``memo`` keeps each folder's and file's hash: many jobs share one brand."""
    assert brand.root is not None
    source = brand.root / "brand.yaml"
    parts: list[tuple[str, Path]] = [
        ("knowledge", brand.knowledge_path),
        ("channels", brand.root / "channels"),  # where pipelines.session looks for the brand's channels
    ]
    parts += [
        (
            f"rule_files[{n}]",
            confined_path(brand.root, rel, source=source, field=f"compliance.rule_files[{n}]"),
        )
        for n, rel in enumerate(brand.compliance.rule_files)
    ]
    digest = hashlib.sha256()
    digest.update(brand.model_dump_json().encode())
    digest.update(json.dumps(list(channels) if channels else None).encode())
    for name, path in parts:
        if path not in memo:
            memo[path] = _folder_hash(path) if path.is_dir() else _file_hash(path).hex()
        digest.update(f"{name}:{memo[path]}".encode())
    return digest.hexdigest()[:16]


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"a number of more than {MAX_INT_DIGITS} digits")
    return int(text)


def _too_deep(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists/objects more than ``limit`` levels (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def _parse_line(raw: bytes) -> Any:
    """One JSONL line as JSON, or ValueError with a short reason."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from None
    try:
        value = json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} at column {exc.colno}") from None
    except ValueError as exc:  # from _parse_int
        raise ValueError(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise ValueError(f"invalid JSON: nested deeper than {MAX_JSON_DEPTH} levels") from None
    if _too_deep(value, MAX_JSON_DEPTH):
        raise ValueError(f"invalid JSON: nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def _bounded_lines(f: Any) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) for each line of a binary file; ``None`` for a line over MAX_LINE_BYTES, which
    is skipped in chunks rather than read whole."""
    n = 0
    while raw := f.readline(MAX_LINE_BYTES + 1):
        n += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while (rest := f.readline(1 << 16)) and not rest.endswith(b"\n"):
                pass
            yield n, None
            continue
        yield n, raw


def _csv_rows(f: Iterable[str]) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    reader = csv.DictReader(f)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a field over csv's size limit, a NUL byte, ...
            yield reader.line_num, None, f"invalid CSV: {exc}"
            continue
        record: dict[str, Any] = {k: v for k, v in row.items() if k and v not in (None, "")}
        if isinstance(record.get("channels"), str):
            record["channels"] = [
                c.strip() for c in record["channels"].replace(";", ",").split(",") if c.strip()
            ]
        yield reader.line_num, record, None


def _records(path: Path) -> Iterator[tuple[int, Any, str | None]]:
    """(line number, parsed record or None, error) for every non-empty line of a JSONL or CSV file."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8", newline="") as f:
            yield from _csv_rows(f)
        return
    with path.open("rb") as f:
        for n, raw in _bounded_lines(f):
            if raw is None:
                yield n, None, f"line longer than {MAX_LINE_BYTES >> 20} MB"
                continue
            if not raw.strip():
                continue
            try:
                yield n, _parse_line(raw), None
            except ValueError as exc:
                yield n, None, str(exc)


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
                campaign_channels(brand, line.channels)
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


# How a server is reached, not what it answers: these backend fields stay out of the fingerprint.
_TRANSPORT_FIELDS = {"base_url", "api_key", "timeout_s", "connect_timeout_s", "max_retries", "concurrency"}


def fingerprint(pipeline: Pipeline, model: str) -> str:
    """What makes results comparable: the pipeline spec (minus where the server is), every prompt's
    hash, the built-in channel specs and rule packs, and ``model`` — the id of the model that answers
    (for a server, as the server reports it after warm-up, never a placeholder such as "default")."""
    spec = pipeline.spec.model_dump(mode="json", exclude={"backend": _TRANSPORT_FIELDS})
    prompts = sorted(f"{p.ref}:{p.hash}" for agent in pipeline.agents for p in agent.prompts.values())
    prompts.append(f"{pipeline.context_prompt.ref}:{pipeline.context_prompt.hash}")
    builtins = {"channels": _folder_hash(BUILTIN_CHANNELS_DIR), "rules": _folder_hash(RULES_DIR)}
    blob = json.dumps(
        {"spec": spec, "prompts": prompts, "builtins": builtins, "model": model}, sort_keys=True
    ).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


class _Budgeted(WrappedBackend):
    """Per-item limits, checked before each call: wall time and tokens."""

    def __init__(self, inner: LLMBackend, deadline: float | None, max_tokens: int | None) -> None:
        super().__init__(inner)
        self.deadline, self.max_tokens, self.used = deadline, max_tokens, 0
        self._lock = threading.Lock()  # an item's channels call from several threads (agents.fanout)

    def _complete(
        self, messages: list[ChatMessage], json_schema: dict[str, Any] | None, params: GenerationParams
    ) -> Completion:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise ItemStopped("timed out (--timeout-per-item)")
        with self._lock:
            used = self.used
        if self.max_tokens is not None and used >= self.max_tokens:
            raise ItemStopped(f"token budget spent ({used} >= --max-tokens-per-item {self.max_tokens})")
        completion = self.inner.complete(messages, json_schema=json_schema, params=params)
        with self._lock:
            self.used += completion.prompt_tokens + completion.completion_tokens
        return completion


def _failure_text(failure: StepFailure) -> str:
    what = "backend error" if failure.reason == "backend" else "no valid model output"
    return f"{what} during {failure.step}: {failure.message}"


@dataclass
class ItemOutcome:
    job_id: str
    line: int
    campaign: dict[str, Any] | None = None
    error: str | None = None
    seconds: float = 0.0
    resources: dict[str, float] | None = None  # what a Ray task was given (None: a local thread)
    internal: bool = False  # failed with an unexpected exception: a bug, not the input or the backend


def run_item(
    job: Job,
    pipeline: str,
    overrides: dict[str, Any],
    timeout_s: float | None,
    max_tokens: int | None,
    model: str | None = None,
) -> ItemOutcome:
    """Run one job start to finish (in a thread here, or in a Ray worker); never raises. ``model`` is the
    model id in the run's fingerprint: an item answered by another model (a Ray worker behind a load
    balancer that reached another server) fails instead of being recorded under that fingerprint."""
    started = time.monotonic()
    try:
        resolved = load_pipeline(pipeline, backend_overrides=overrides)
        brand = load_job_brand(job.brand_ref, job.root)
        deadline = started + timeout_s if timeout_s else None
        config = resolved.spec.backend
        # In-process vLLM batches on the GPU only what reaches it together: gather concurrent items' calls.
        shared = get_concurrent_backend(config)
        llm = _Budgeted(shared, deadline, max_tokens)

        def check_time(message: str) -> None:
            if deadline is not None and time.monotonic() > deadline:
                raise ItemStopped(f"timed out after {timeout_s:g} s (--timeout-per-item)")

        session = CampaignSession.open(
            brand,
            pipeline=resolved,
            channels=list(job.channels) if job.channels else None,
            progress=check_time,
            llm=llm,
        )
        campaign: Campaign = session.run()
        if campaign.failure is not None:  # incomplete: an error for the next run to retry, not a result
            return ItemOutcome(
                job.id,
                job.line,
                error=f"incomplete: {_failure_text(campaign.failure)}",
                seconds=time.monotonic() - started,
            )
        if model is not None and campaign.model != model:
            return ItemOutcome(
                job.id,
                job.line,
                error=f"answered by model {campaign.model!r}, but this run's fingerprint is for {model!r}",
                seconds=time.monotonic() - started,
            )
        return ItemOutcome(
            job.id, job.line, campaign=campaign.model_dump(mode="json"), seconds=time.monotonic() - started
        )
    except (ItemStopped, BackendError, InputError) as exc:
        return ItemOutcome(
            job.id, job.line, error=f"{type(exc).__name__}: {exc}", seconds=time.monotonic() - started
        )
    except Exception as exc:  # a bug: recorded like any failure, and counted apart (BatchSummary.internal)
        return ItemOutcome(
            job.id,
            job.line,
            error=f"unexpected {type(exc).__name__}: {exc}",
            seconds=time.monotonic() - started,
            internal=True,
        )


class _AppendLog:
    """One line per write, fsynced, and whole or not at all: a crash can tear at most the last line, and
    a write that fails (disk full, I/O error) is cut back off the file before the error is raised."""

    def __init__(self, path: Path, *, truncate: bool = False) -> None:
        self.path = path
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | (os.O_TRUNC if truncate else 0)
        try:
            self.fd = os.open(path, flags, 0o644)
        except OSError as exc:
            raise _cannot_write(path, exc) from None
        self.lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        """Write one line and fsync it; :class:`BatchWriteError` if any of it failed (nothing is then on
        file: the caller must not count the line as written)."""
        data = memoryview((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
        with self.lock:
            start = os.fstat(self.fd).st_size  # O_APPEND and one writer: the line starts here
            try:
                while data:  # a full disk first writes part of the line, then fails the next write
                    written = os.write(self.fd, data)
                    if written <= 0:
                        raise OSError(0, "the write made no progress")
                    data = data[written:]
                os.fsync(self.fd)
            except OSError as exc:
                with contextlib.suppress(OSError):  # if even that fails, the next run cuts the torn line
                    os.ftruncate(self.fd, start)
                raise _cannot_write(self.path, exc) from None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _load_results(path: Path) -> list[dict[str, Any]]:
    """Finished results; a torn last line (a crash mid-write) is cut off the file, and a line that does
    not parse as a result record is not one (its item runs again)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", source=path) from None
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        try:
            os.truncate(path, keep)
        except OSError as exc:
            raise _cannot_write(path, exc) from None
        data = data[:keep]
    out = []
    for raw in data.split(b"\n"):
        try:
            record = json.loads(raw)
        except (ValueError, RecursionError):  # empty, torn, not UTF-8, not JSON
            continue
        if isinstance(record, dict) and isinstance(record.get("id"), str) and "campaign" in record:
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
    internal: int = 0  # of the failed items, those that failed with an unexpected exception (a bug)

    @property
    def exit_code(self) -> int:
        """The ``brandforge batch`` exit code for this run (:func:`pipelines.exits.batch_exit_code`)."""
        from pipelines.exits import batch_exit_code

        return int(batch_exit_code(self))


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


def _run_item_on_ray(job: Job, *args: Any) -> ItemOutcome:
    """:func:`run_item` in a Ray task, recording the resources Ray gave it (for batch.log)."""
    import ray

    outcome = run_item(job, *args)
    outcome.resources = dict(ray.get_runtime_context().get_assigned_resources())
    return outcome


def _ray_executor(
    address: str | None, concurrency: int, args: tuple[Any, ...], resources: RayResources
) -> Executor:
    try:
        import ray
    except ImportError:
        raise InputError("--executor ray needs Ray: pip install 'brandforge[cluster]'") from None

    def execute(jobs: list[Job], deliver: Callable[[ItemOutcome], None], stop: threading.Event) -> None:
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
        # max_calls=0 (no limit): Ray's default for a task that asks for a GPU is one call per worker
        # process, which would load the model again for every item; a worker keeps its process-wide
        # backend (and its engine's batching) across the items it runs.
        remote = ray.remote(
            max_retries=0,
            max_calls=0,
            num_cpus=resources.get("num_cpus", 1),
            num_gpus=resources.get("num_gpus", 0),
        )(_run_item_on_ray)
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


def _resource_text(resources: dict[str, float]) -> str:
    return ", ".join(f"{name} {amount:g}" for name, amount in sorted(resources.items()))


def _check_knobs(values: dict[str, float | None]) -> None:
    """Each run-level knob inside :data:`KNOB_RANGES`, else an InputError naming the flag."""
    for flag, value in values.items():
        low, high = KNOB_RANGES[flag]
        if value is not None and not (math.isfinite(value) and low <= value <= high):
            raise InputError(f"expected a number from {low:g} to {high:g}, got {value!r}", field=flag)


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
    stop: threading.Event | None = None,
) -> BatchSummary:
    """Run every job of ``jobs_path`` not yet done into ``out_dir`` (the module docstring is the contract).

    ``stop``, when set by another thread (the service cancelling a batch job), stops scheduling as
    Ctrl-C does: the items running finish and are recorded, and the summary says ``interrupted``.

    Raises :class:`InputError` for bad input or a run folder that cannot be written, and
    :class:`BackendError` when the backend cannot start — both before any item runs, except a write that
    fails mid-run (:class:`BatchWriteError`), which stops the batch with what is written kept."""
    started = time.monotonic()
    _check_knobs(
        {
            "--concurrency": concurrency,
            "--max-items": max_items,
            "--timeout-per-item": timeout_per_item,
            "--max-tokens-per-item": max_tokens_per_item,
        }
    )
    if executor not in ("local", "ray"):
        raise InputError(f"unknown executor {executor!r}; valid choices: local, ray", field="--executor")
    overrides = dict(backend_overrides or {})
    resolved = load_pipeline(pipeline, backend_overrides=overrides)
    pipeline_ref = resolved.source if Path(resolved.source).is_file() else pipeline
    jobs, bad = read_jobs(jobs_path)
    # Start the backend before anything is written: an unreachable server is a BackendError now, and the
    # model in the fingerprint is the one that answers. A model loaded in-process is only loaded here when
    # this process runs the items (local executor); Ray workers load their own.
    llm = get_backend(resolved.spec.backend)
    if executor == "local" or llm.remote:
        llm.warm_up()
    model = llm.model_name
    run_fp = fingerprint(resolved, model)

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        lock = (out_dir / ".lock").open("w")
    except OSError as exc:
        raise _cannot_write(Path(exc.filename or out_dir), exc) from None
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(lock.close)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                "another batch is writing to this folder; wait for it or choose another --out",
                source=out_dir,
            ) from None
        log = _RunLog(out_dir / "batch.log")
        cleanup.callback(log.close)
        return _run_locked(
            out_dir,
            jobs,
            bad,
            resolved,
            run_fp,
            model,
            log,
            started=started,
            args=(pipeline_ref, overrides, timeout_per_item, max_tokens_per_item, model),
            concurrency=concurrency,
            executor=executor,
            ray_address=ray_address,
            max_items=max_items,
            recompute_stale=recompute_stale,
            progress_stream=progress_stream,
            stop=stop,
        )


class _RunLog:
    """``batch.log``: timestamped lines; a failed write is a :class:`BatchWriteError`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.file = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise _cannot_write(path, exc) from None

    def note(self, message: str) -> None:
        try:
            self.file.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {message}\n")
            self.file.flush()
        except OSError as exc:
            raise _cannot_write(self.path, exc) from None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()


def _write_file(path: Path, data: bytes) -> None:
    try:
        atomic_write(path, data)
    except OSError as exc:
        raise _cannot_write(path, exc) from None


def _run_locked(
    out_dir: Path,
    jobs: list[Job],
    bad: list[BadLine],
    resolved: Pipeline,
    run_fp: str,
    model: str,
    log: _RunLog,
    *,
    started: float,
    args: tuple[Any, ...],
    concurrency: int,
    executor: str,
    ray_address: str | None,
    max_items: int | None,
    recompute_stale: bool,
    progress_stream: Any,
    stop: threading.Event | None = None,
) -> BatchSummary:
    """The part of :func:`run_batch` that runs holding the run folder's lock."""
    note = log.note
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
            "another pipeline, prompt version, built-in channel or rule pack, or model"
            if any(r.get("fingerprint") != run_fp for r in stale)
            else "changed brand files (brand.yaml, knowledge, channels or rule files)"
        )
        raise InputError(
            f"{len(stale)} earlier result(s) were made with {reason} (fingerprint now {run_fp}, model "
            f"{model!r}); they would be mixed with new ones. Rerun with --recompute-stale to archive and "
            "redo them, or use another --out",
            source=results_path,
        )
    if stale:
        archive = out_dir / f"results.stale-{time.strftime('%Y%m%dT%H%M%S')}.jsonl"
        _write_file(archive, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in stale).encode())
        keep = [r for r in previous if r not in stale]
        _write_file(
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

    results = _AppendLog(results_path)
    try:
        errors = _AppendLog(out_dir / "errors.jsonl.tmp", truncate=True)
    except BatchWriteError:
        results.close()
        raise
    bar = _Progress(len(todo), progress_stream)
    counts = {"ok": 0, "failed": 0, "internal": 0}
    stop = stop or threading.Event()
    write_failure: BatchWriteError | None = None

    def deliver(outcome: ItemOutcome) -> None:
        nonlocal write_failure
        if write_failure is not None:
            return  # the batch is stopping: what still finishes is not recorded; the next run redoes it
        try:
            if outcome.campaign is not None:
                results.append(
                    {
                        "id": outcome.job_id,
                        "fingerprint": run_fp,
                        "input": by_id[outcome.job_id].input_hash,
                        "campaign": outcome.campaign,
                    }
                )
                counts["ok"] += 1  # only once the whole line is on disk
                on = f" on {_resource_text(outcome.resources)}" if outcome.resources else ""
                note(f"done {outcome.job_id} in {outcome.seconds:.1f} s{on}")
            else:
                errors.append({"line": outcome.line, "id": outcome.job_id, "error": outcome.error})
                counts["failed"] += 1
                counts["internal"] += outcome.internal
                note(f"failed {outcome.job_id}: {outcome.error}")
        except BatchWriteError as exc:
            write_failure = exc
            stop.set()
            return
        bar.update(outcome.campaign is not None, outcome.job_id)

    if executor == "ray":
        # What the backend needs in each task: a GPU for in-process vLLM, which loads the model there.
        resources = backend_resources(resolved.spec.backend)
        note(f"ray: each item's task requests {resources}")
        execute = _ray_executor(ray_address, concurrency, args, resources)
    else:
        execute = _local_executor(concurrency, lambda job: run_item(job, *args))

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
        for b in bad:
            errors.append(b.record())
        note(
            f"start: {len(jobs)} jobs, {len(bad)} malformed, {len(done_ids & set(by_id))} already done, "
            f"{len(todo)} to run; fingerprint {run_fp} (model {model})"
        )
        execute(todo, deliver, stop)
        interrupted = interrupted or stop.is_set()
    except BatchWriteError as exc:
        write_failure = write_failure or exc
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGINT, previous_handler)
        results.close()
        errors.close()
        try:
            os.replace(out_dir / "errors.jsonl.tmp", out_dir / "errors.jsonl")
        except OSError as exc:
            write_failure = write_failure or _cannot_write(out_dir / "errors.jsonl", exc)
    if write_failure is not None:
        with contextlib.suppress(BatchWriteError):
            note(f"stopped: {write_failure}")
        raise write_failure
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
        internal=counts["internal"],
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
    _write_file(out_dir / "summary.json", (json.dumps(summary.__dict__, indent=2) + "\n").encode())
    _write_file(out_dir / "report.md", _report(summary).encode("utf-8"))
    note(f"end: {counts['ok']} done, {counts['failed']} failed, {not_run} not run, {seconds:.1f} s")
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
