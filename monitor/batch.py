"""Monitoring for many brands overnight: ``brandforge monitor-batch JOBS.jsonl --out RUN_DIR``.

Contract:

- Input: JSON Lines, one job per line: ``{"id": "wanderly-2026-11", "brand": "brands/wanderly",
  "mentions": "exports/wanderly.jsonl"}`` plus optional ``timezone``, ``columns`` (field -> header) and
  ``format``. Paths are relative to the jobs file's folder. An id is a folder name: letters, digits,
  ``.``, ``_`` and ``-``, at most 100, not starting with a dot. A line that cannot run (not JSON, a bad
  or duplicate id, an unknown key, a missing file) goes to ``RUN_DIR/errors.jsonl`` with its line number;
  the others run.
- Output: ``RUN_DIR/<id>/`` holds the job's run (mentions.jsonl, insights.json, report.html,
  errors.jsonl) and ``done.json`` (its input hash, counts, seconds), written last. ``RUN_DIR/summary.json``
  lists every job's outcome.
- Resume: rerunning skips a job whose ``done.json`` has the same input hash: the mentions file, brand.yaml,
  the sentiment classifier's weights, the options and whether the model is used. A job that failed (its
  mentions file unreadable, say) is recorded in ``errors.jsonl`` and tried again next time; one job's
  failure never stops the others.
- Jobs run one after another: monitoring is CPU-bound, and the embedded model answers one call at a time.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.errors import InputError
from core.files import atomic_write, read_regular_file
from monitor.model import MonitorModel
from monitor.run import Progress, run_monitor
from monitor.sentiment import MODEL_DIR

MAX_JOBS_BYTES = 16 * 1024 * 1024
_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}")


class MonitorJob(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    brand: str = Field(min_length=1, max_length=1_000)
    mentions: str = Field(min_length=1, max_length=1_000)
    timezone: str | None = Field(None, max_length=64)
    columns: dict[str, str] | None = None
    format: str = Field("auto", pattern="^(auto|jsonl|csv)$")

    @field_validator("id")
    @classmethod
    def _folder_name(cls, value: str) -> str:
        if not _ID.fullmatch(value):
            raise ValueError("expected letters, digits, '.', '_' or '-' (at most 100, not starting with '.')")
        return value


@dataclass
class BatchOutcome:
    done: list[str]
    skipped: list[str]
    failed: list[str]
    bad_lines: int
    seconds: float


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "-"


def read_jobs(path: Path) -> tuple[list[tuple[int, MonitorJob]], list[dict[str, Any]]]:
    raw = read_regular_file(path, MAX_JOBS_BYTES, what="jobs file (JSON Lines)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start}); expected JSON Lines", source=path) from None
    jobs: list[tuple[int, MonitorJob]] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            job = MonitorJob.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            errors.append({"line": number, "id": None, "reason": f"not JSON ({exc.msg})"})
            continue
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "line"
            errors.append({"line": number, "id": None, "reason": f"{where}: {first['msg']}"})
            continue
        if job.id in seen:
            errors.append({"line": number, "id": job.id, "reason": "duplicate id; an earlier line has it"})
            continue
        seen.add(job.id)
        jobs.append((number, job))
    return jobs, errors


def run_monitor_batch(
    jobs_path: str | Path,
    out: str | Path,
    *,
    model: MonitorModel | None = None,
    progress: Progress | None = None,
) -> BatchOutcome:
    started = time.perf_counter()
    say = progress or (lambda _m: None)
    jobs_path, out = Path(jobs_path), Path(out)
    base = jobs_path.resolve().parent
    jobs, errors = read_jobs(jobs_path)
    bad_lines = len(errors)
    out.mkdir(parents=True, exist_ok=True)
    classifier = _sha256(MODEL_DIR / "sentiment.npz")
    outcome = BatchOutcome([], [], [], bad_lines, 0.0)
    summary: list[dict[str, Any]] = []
    for number, job in jobs:
        folder = out / job.id
        mentions, brand = base / job.mentions, base / job.brand
        options = json.dumps(
            {
                "timezone": job.timezone,
                "columns": job.columns,
                "format": job.format,
                "model": model is not None,
            },
            sort_keys=True,
        )
        key = hashlib.sha256(
            "|".join([_sha256(mentions), _sha256(brand / "brand.yaml"), classifier, options]).encode()
        ).hexdigest()
        done_file = folder / "done.json"
        if done_file.is_file():
            try:
                if json.loads(done_file.read_text("utf-8")).get("input_hash") == key:
                    outcome.skipped.append(job.id)
                    summary.append({"id": job.id, "status": "skipped (already done)"})
                    continue
            except (OSError, ValueError):
                pass  # a damaged done.json: run the job again
        say(f"{job.id}: monitoring {job.mentions} for {job.brand}")
        job_started = time.perf_counter()
        try:
            run = run_monitor(
                mentions,
                brand,
                folder,
                model=model,
                timezone=job.timezone,
                columns=job.columns,
                file_format=job.format,
            )
        except InputError as exc:
            errors.append({"line": number, "id": job.id, "reason": str(exc)[:500]})
            outcome.failed.append(job.id)
            summary.append({"id": job.id, "status": "failed", "reason": str(exc)[:500]})
            say(f"{job.id}: failed: {exc}")
            continue
        record = {
            "id": job.id,
            "input_hash": key,
            "mentions": run.insights.totals.mentions,
            "bad_lines": run.errors,
            "alerts": len(run.insights.alerts),
            "seconds": round(time.perf_counter() - job_started, 2),
        }
        atomic_write(done_file, (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
        outcome.done.append(job.id)
        summary.append({"status": "done", **record})
    lines = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in errors)
    atomic_write(out / "errors.jsonl", lines.encode("utf-8"))
    outcome.seconds = time.perf_counter() - started
    report = {"jobs": summary, "bad_lines": bad_lines, "seconds": round(outcome.seconds, 2)}
    atomic_write(
        out / "summary.json", (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    )
    return outcome
