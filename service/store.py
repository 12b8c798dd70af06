"""Durable state of the service — API keys, jobs with their results and events, the audit log — behind one
:class:`Store` on SQLAlchemy Core.

Contract:

- One code path for SQLite (the default: one file, WAL journal, one server process) and PostgreSQL (any
  number of API replicas on one database). Dialect differences stay in this module: how a worker claims
  the next queued job (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, SQLite's single writer elsewhere) and
  how a connection is set up (WAL, foreign keys, busy timeout on SQLite).
- **Nothing is half-written.** Every change is one transaction. A job's result and its ``done`` state are
  written by one ``UPDATE``; a worker can only finish a job it still owns (``state = 'running'`` and its
  worker id), so a job marked interrupted and retried is never overwritten by the worker that lost it.
- **Interrupted jobs.** A running job's worker refreshes ``heartbeat_at``. :meth:`Store.mark_interrupted`
  marks ``interrupted`` every running job whose heartbeat is older than ``stale_after`` seconds, or whose
  worker ran on this host in a process that no longer exists (a server killed with SIGKILL and started
  again): such a job keeps its events and can be retried (:meth:`Store.retry`).
- **The cap on a key's active jobs** is checked in the transaction that queues the job: on PostgreSQL
  under a lock on the key's row (so concurrent requests to any replica queue one after another), on
  SQLite under this process's lock (SQLite serves one server process).
- **Idempotency.** A job created with an idempotency key is unique per (API key, idempotency key): a
  second create with the same pair returns the first job, or raises :class:`IdempotencyConflict` when
  the request differs.
- Times are seconds since the epoch (float); request and result bodies are JSON text.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from core.errors import InputError, ServiceError

JOB_STATES = ("queued", "running", "done", "failed", "cancelled", "interrupted")
ACTIVE_STATES = ("queued", "running")
FINAL_STATES = ("done", "failed", "cancelled", "interrupted")
RETRYABLE_STATES = ("failed", "cancelled", "interrupted")

metadata = sa.MetaData()

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("scopes", sa.String(500), nullable=False),  # space-separated
    sa.Column("rate_per_minute", sa.Integer, nullable=False),
    sa.Column("max_active_jobs", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float, nullable=True),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("key_id", sa.String(32), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False, default="campaign"),  # campaign | batch
    sa.Column("idempotency_key", sa.String(200), nullable=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("brand", sa.String(100), nullable=False),
    sa.Column("request", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("message", sa.Text, nullable=True),  # the last progress line, or why it failed
    sa.Column("summary", sa.Text, nullable=True),  # JSON: pieces, blocked, status, stats
    sa.Column("result", sa.Text, nullable=True),  # the Campaign JSON, as the CLI writes it
    sa.Column("cancel_requested", sa.Boolean, nullable=False, default=False),
    sa.Column("worker", sa.String(200), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("started_at", sa.Float, nullable=True),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Column("heartbeat_at", sa.Float, nullable=True),
    sa.UniqueConstraint("key_id", "idempotency_key", name="uq_jobs_idempotency"),
)

job_events = sa.Table(
    "job_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.String(32), nullable=False, index=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # state | progress
    sa.Column("data", sa.Text, nullable=False),  # JSON
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),  # an API key id, or "cli:<user>"
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(500), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),  # JSON
)


# The review studio (service/review.py, service/users.py). A review is one delivered piece of a done job
# (``item`` is the batch item id, "" for a campaign job): its current text and findings, and where it
# stands. Every decision on it is a row of the audit log in the same transaction as the change.
REVIEW_STATES = ("pending_review", "approved", "rejected", "sent_back")
REVIEWED_KINDS = ("campaign", "batch")  # the jobs whose pieces are reviewed (a "revise" job's are already)

reviews = sa.Table(
    "reviews",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("job_id", sa.String(32), nullable=False, index=True),
    sa.Column("item", sa.String(200), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("brand", sa.String(100), nullable=False, index=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("fields", sa.Text, nullable=False),  # JSON: the current text, field by field
    sa.Column("findings", sa.Text, nullable=False),  # JSON: the findings on the current text
    sa.Column("verdict", sa.String(16), nullable=False),  # pass | revised | blocked, of the current text
    sa.Column("version", sa.Integer, nullable=False),  # +1 on every change: a stale form cannot overwrite
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=True),
    sa.UniqueConstraint("job_id", "item", "channel", name="uq_reviews_piece"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),  # marketer | legal | admin
    sa.Column("password_hash", sa.String(300), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("disabled_at", sa.Float, nullable=True),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user", sa.String(100), nullable=False, index=True),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

# The audit log is append-only in the database itself, not only in this code.
_APPEND_ONLY = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$",
        "CREATE OR REPLACE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    ],
}


def delivered_pieces(kind: str, result: str) -> list[tuple[str, int, dict[str, Any]]]:
    """(item, position, piece) for every piece in a done job's result: a campaign's pieces (item ""), or
    each finished batch item's (the results.jsonl lines)."""
    if kind not in REVIEWED_KINDS:
        return []  # a revision's result is a piece's new text, under review already
    if kind == "campaign":
        campaigns = [("", json.loads(result))]
    else:
        campaigns = []
        for line in result.splitlines():
            record = json.loads(line) if line.strip() else None
            if isinstance(record, dict) and isinstance(record.get("campaign"), dict):
                campaigns.append((str(record.get("id", "")), record["campaign"]))
    return [
        (item, position, piece)
        for item, campaign in campaigns
        for position, piece in enumerate(campaign.get("pieces") or [])
        if isinstance(piece, dict)
    ]


class IdempotencyConflict(ValueError):
    """The idempotency key was used before by this API key for a different request."""


class ActiveJobLimit(RuntimeError):
    """The API key already has its maximum of queued and running jobs."""


@dataclass(frozen=True)
class KeyRecord:
    id: str
    name: str
    secret_hash: str
    scopes: frozenset[str]
    rate_per_minute: int
    max_active_jobs: int
    created_at: float
    revoked_at: float | None


@dataclass(frozen=True)
class JobRecord:
    id: str
    key_id: str
    kind: str
    idempotency_key: str | None
    brand: str
    request: dict[str, Any]
    state: str
    message: str | None
    summary: dict[str, Any] | None
    cancel_requested: bool
    worker: str | None
    attempts: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    heartbeat_at: float | None


@dataclass(frozen=True)
class EventRecord:
    id: int
    job_id: str
    at: float
    kind: str
    data: dict[str, Any]


def worker_id() -> str:
    """This process's worker id: host, pid and a random part (a restarted process never reuses one)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _process_gone(worker: str | None) -> bool:
    """Whether ``worker`` ran on this host in a process that no longer exists."""
    if not worker:
        return False
    host, _, rest = worker.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _key(row: Any) -> KeyRecord:
    return KeyRecord(
        id=row["id"],
        name=row["name"],
        secret_hash=row["secret_hash"],
        scopes=frozenset(row["scopes"].split()),
        rate_per_minute=row["rate_per_minute"],
        max_active_jobs=row["max_active_jobs"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


def _job(row: Any) -> JobRecord:
    return JobRecord(
        id=row["id"],
        key_id=row["key_id"],
        kind=row["kind"],
        idempotency_key=row["idempotency_key"],
        brand=row["brand"],
        request=json.loads(row["request"]),
        state=row["state"],
        message=row["message"],
        summary=json.loads(row["summary"]) if row["summary"] else None,
        cancel_requested=bool(row["cancel_requested"]),
        worker=row["worker"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        heartbeat_at=row["heartbeat_at"],
    )


_JOB_COLUMNS = [c for c in jobs.c if c.name != "result"]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a commit survives a process crash
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///FILE`` or ``postgresql+psycopg://...``) set up for this store."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql"):
        return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    raise ValueError(
        f"unsupported database URL {url.split(':', 1)[0]!r}; use sqlite:/// or postgresql+psycopg://"
    )


class Store:
    """The service's tables on one database (see the module docstring for the guarantees)."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = create_engine(url)
        except ValueError as exc:
            raise InputError(str(exc), field="database") from None
        self.postgres = self.engine.dialect.name == "postgresql"
        self._cap_lock = threading.Lock()
        try:
            metadata.create_all(self.engine)
            with self._tx() as conn:
                for statement in _APPEND_ONLY.get(self.engine.dialect.name, []):
                    conn.execute(sa.text(statement))
        except sa.exc.SQLAlchemyError as exc:
            where = self.engine.url.render_as_string(hide_password=True)
            raise ServiceError(
                f"cannot open the database {where}: {str(getattr(exc, 'orig', None) or exc).splitlines()[0]}"
            ) from None

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.SQLAlchemyError:
            return False

    # --- API keys -----------------------------------------------------------------------------------

    def add_key(self, record: KeyRecord) -> None:
        with self._tx() as conn:
            conn.execute(
                api_keys.insert().values(
                    id=record.id,
                    name=record.name,
                    secret_hash=record.secret_hash,
                    scopes=" ".join(sorted(record.scopes)),
                    rate_per_minute=record.rate_per_minute,
                    max_active_jobs=record.max_active_jobs,
                    created_at=record.created_at,
                    revoked_at=None,
                )
            )

    def get_key(self, key_id: str) -> KeyRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(api_keys.select().where(api_keys.c.id == key_id)).mappings().first()
        return _key(row) if row else None

    def list_keys(self) -> list[KeyRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(api_keys.select().order_by(api_keys.c.created_at)).mappings().all()
        return [_key(r) for r in rows]

    def revoke_key(self, key_id: str) -> bool:
        """Revoke ``key_id``; False when there is no such key or it was already revoked."""
        with self._tx() as conn:
            done = conn.execute(
                api_keys.update()
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            )
        return bool(done.rowcount)

    # --- jobs ---------------------------------------------------------------------------------------

    def create_job(
        self,
        *,
        key_id: str,
        brand: str,
        request: dict[str, Any],
        request_hash: str,
        idempotency_key: str | None = None,
        max_active: int | None = None,
        kind: str = "campaign",
    ) -> tuple[JobRecord, bool]:
        """A new queued job, or the job made before with the same idempotency key: ``(job, created)``.
        Raises :class:`IdempotencyConflict` when that earlier job was for another request, and
        :class:`ActiveJobLimit` when the key already has ``max_active`` queued or running jobs."""
        if idempotency_key is not None:
            earlier = self._job_by_idempotency(key_id, idempotency_key)
            if earlier is not None:
                return self._same_request(earlier, request_hash), False
        job_id = uuid.uuid4().hex
        now = time.time()
        try:
            with self._capped(key_id, max_active) as conn:
                conn.execute(
                    jobs.insert().values(
                        id=job_id,
                        key_id=key_id,
                        kind=kind,
                        idempotency_key=idempotency_key,
                        request_hash=request_hash,
                        brand=brand,
                        request=json.dumps(request, sort_keys=True),
                        state="queued",
                        cancel_requested=False,
                        attempts=0,
                        created_at=now,
                    )
                )
                self._event(conn, job_id, "state", {"state": "queued"}, now)
        except IntegrityError:
            # Two requests with one idempotency key at once: the other one's insert won.
            earlier = self._job_by_idempotency(key_id, idempotency_key or "")
            if earlier is None:
                raise
            return self._same_request(earlier, request_hash), False
        job = self.get_job(job_id)
        assert job is not None
        return job, True

    @contextmanager
    def _capped(self, key_id: str, max_active: int | None) -> Iterator[Connection]:
        """A transaction in which ``key_id`` has fewer than ``max_active`` active jobs (ActiveJobLimit
        otherwise), serialised with the key's other capped transactions."""
        with self._cap_lock if not self.postgres else contextlib.nullcontext(), self._tx() as conn:
            if max_active is not None:
                if self.postgres:
                    conn.execute(sa.select(api_keys.c.id).where(api_keys.c.id == key_id).with_for_update())
                active = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(jobs)
                    .where(jobs.c.key_id == key_id, jobs.c.state.in_(ACTIVE_STATES))
                ).scalar_one()
                if active >= max_active:
                    raise ActiveJobLimit(f"this key already has {max_active} queued or running jobs")
            yield conn

    def _same_request(self, job: JobRecord, request_hash: str) -> JobRecord:
        with self.engine.connect() as conn:
            stored = conn.execute(sa.select(jobs.c.request_hash).where(jobs.c.id == job.id)).scalar_one()
        if stored != request_hash:
            raise IdempotencyConflict(
                f"Idempotency-Key {job.idempotency_key!r} was used for a different request (job {job.id})"
            )
        return job

    def _job_by_idempotency(self, key_id: str, idempotency_key: str) -> JobRecord | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    sa.select(*_JOB_COLUMNS).where(
                        jobs.c.key_id == key_id, jobs.c.idempotency_key == idempotency_key
                    )
                )
                .mappings()
                .first()
            )
        return _job(row) if row else None

    def get_job(self, job_id: str) -> JobRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(*_JOB_COLUMNS).where(jobs.c.id == job_id)).mappings().first()
        return _job(row) if row else None

    def get_result(self, job_id: str) -> str | None:
        """The Campaign JSON of a done job (None for any other)."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(jobs.c.result).where(jobs.c.id == job_id)).scalar_one_or_none()

    def list_jobs(
        self,
        *,
        key_id: str | None = None,
        state: str | None = None,
        limit: int = 50,
        before: float | None = None,
    ) -> list[JobRecord]:
        query = sa.select(*_JOB_COLUMNS).order_by(jobs.c.created_at.desc()).limit(limit)
        if key_id is not None:
            query = query.where(jobs.c.key_id == key_id)
        if state is not None:
            query = query.where(jobs.c.state == state)
        if before is not None:
            query = query.where(jobs.c.created_at < before)
        with self.engine.connect() as conn:
            return [_job(r) for r in conn.execute(query).mappings().all()]

    def count_active(self, key_id: str) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(jobs)
                    .where(jobs.c.key_id == key_id, jobs.c.state.in_(ACTIVE_STATES))
                ).scalar_one()
            )

    def counts_by_state(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(jobs.c.state, sa.func.count()).group_by(jobs.c.state)).all()
        counts = dict.fromkeys(JOB_STATES, 0)
        counts.update({state: int(n) for state, n in rows})
        return counts

    def claim(self, worker: str) -> JobRecord | None:
        """Take the oldest queued job for ``worker`` (running, attempts + 1), or None when none is queued."""
        for _ in range(5):  # another worker took the one picked: pick again
            claimed, raced = self._claim_once(worker)
            if claimed is not None or not raced:
                return claimed
        return None

    def _claim_once(self, worker: str) -> tuple[JobRecord | None, bool]:
        now = time.time()
        with self._tx() as conn:
            pick = sa.select(jobs.c.id).where(jobs.c.state == "queued").order_by(jobs.c.created_at).limit(1)
            if self.postgres:
                pick = pick.with_for_update(skip_locked=True)
            job_id = conn.execute(pick).scalar_one_or_none()
            if job_id is None:
                return None, False
            done = conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.state == "queued")
                .values(
                    state="running",
                    worker=worker,
                    started_at=now,
                    heartbeat_at=now,
                    attempts=jobs.c.attempts + 1,
                    message=None,
                )
            )
            if not done.rowcount:
                return None, True
            self._event(conn, job_id, "state", {"state": "running", "worker": worker}, now)
        return self.get_job(job_id), False

    def heartbeat(self, worker: str, job_ids: list[str]) -> set[str]:
        """Refresh the heartbeat of ``worker``'s running jobs; the ids among them a client asked to cancel."""
        if not job_ids:
            return set()
        with self._tx() as conn:
            conn.execute(
                jobs.update()
                .where(jobs.c.id.in_(job_ids), jobs.c.worker == worker, jobs.c.state == "running")
                .values(heartbeat_at=time.time())
            )
            rows = conn.execute(
                sa.select(jobs.c.id).where(jobs.c.id.in_(job_ids), jobs.c.cancel_requested.is_(True))
            ).all()
        return {r[0] for r in rows}

    def progress(self, job_id: str, worker: str, message: str) -> None:
        now = time.time()
        with self._tx() as conn:
            done = conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.worker == worker, jobs.c.state == "running")
                .values(message=message, heartbeat_at=now)
            )
            if done.rowcount:
                self._event(conn, job_id, "progress", {"message": message}, now)

    def finish(
        self,
        job_id: str,
        worker: str,
        state: str,
        *,
        message: str | None = None,
        summary: dict[str, Any] | None = None,
        result: str | None = None,
    ) -> bool:
        """End a job ``worker`` still owns: ``done`` (with its result), ``failed``, ``cancelled`` or back to
        ``queued`` (a graceful shutdown). False when the job is no longer this worker's."""
        if state not in ("done", "failed", "cancelled", "queued"):
            raise ValueError(f"cannot finish a job as {state!r}")
        now = time.time()
        values: dict[str, Any] = {"state": state, "message": message}
        if state == "queued":
            values.update(worker=None, started_at=None, heartbeat_at=None, cancel_requested=False)
        else:
            values.update(finished_at=now, summary=json.dumps(summary) if summary else None, result=result)
        with self._tx() as conn:
            done = conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.worker == worker, jobs.c.state == "running")
                .values(**values)
            )
            if not done.rowcount:
                return False
            if state == "done" and result:
                self._open_reviews(conn, job_id, result, now)
            data: dict[str, Any] = {"state": state}
            if message:
                data["message"] = message
            if summary:
                data["summary"] = summary
            self._event(conn, job_id, "state", data, now)
        return True

    def _open_reviews(self, conn: Connection, job_id: str, result: str, now: float) -> None:
        """Every piece of a done job arrives in the studio as ``pending_review`` (in the transaction that
        marks the job done: no piece is ever done and not under review). Pieces already under review
        (the job finished before) keep their review."""
        kind, brand, request = conn.execute(
            sa.select(jobs.c.kind, jobs.c.brand, jobs.c.request).where(jobs.c.id == job_id)
        ).one()
        item_brands = {
            str(i.get("id")): str(i.get("brand"))
            for i in (json.loads(request).get("items") or [])
            if isinstance(i, dict)
        }
        rows = [
            {
                "id": uuid.uuid4().hex,
                "job_id": job_id,
                "item": item,
                "position": position,
                "brand": item_brands.get(item, brand) if item else brand,
                "channel": str(piece.get("channel", ""))[:64],
                "state": "pending_review",
                "fields": json.dumps(piece.get("fields") or {}, ensure_ascii=False),
                "findings": json.dumps(
                    (piece.get("compliance") or {}).get("findings") or [], ensure_ascii=False
                ),
                "verdict": str((piece.get("compliance") or {}).get("verdict", "blocked")),
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "updated_by": None,
            }
            for item, position, piece in delivered_pieces(kind, result)
        ]
        # A job finished again (a retry of a batch that resumed) keeps the reviews, and decisions, it has.
        existing = set(
            conn.execute(
                sa.select(reviews.c.item, reviews.c.channel).where(reviews.c.job_id == job_id)
            ).tuples()
        )
        rows = [r for r in rows if (r["item"], r["channel"]) not in existing]
        if rows:
            conn.execute(reviews.insert(), rows)

    def cancel(self, job_id: str) -> str | None:
        """Cancel a job: a queued one at once (``cancelled``), a running one when its worker next checks
        (``cancelling``). The resulting word, or None when the job has already ended."""
        now = time.time()
        with self._tx() as conn:
            queued = conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.state == "queued")
                .values(state="cancelled", finished_at=now, message="cancelled before it started")
            )
            if queued.rowcount:
                self._event(conn, job_id, "state", {"state": "cancelled"}, now)
                return "cancelled"
            running = conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.state == "running")
                .values(cancel_requested=True)
            )
            if running.rowcount:
                self._event(conn, job_id, "progress", {"message": "cancellation requested"}, now)
                return "cancelling"
        return None

    def cancel_queued(self, key_id: str) -> int:
        """Cancel every queued job of ``key_id`` (its key was revoked); how many."""
        now = time.time()
        with self._tx() as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    sa.select(jobs.c.id).where(jobs.c.key_id == key_id, jobs.c.state == "queued")
                ).all()
            ]
            if ids:
                conn.execute(
                    jobs.update()
                    .where(jobs.c.id.in_(ids), jobs.c.state == "queued")
                    .values(state="cancelled", finished_at=now, message="cancelled: its API key was revoked")
                )
                for job_id in ids:
                    self._event(conn, job_id, "state", {"state": "cancelled"}, now)
        return len(ids)

    def retry(self, job_id: str, max_active: int | None = None) -> bool:
        """Queue a failed, cancelled or interrupted job again (same id, its events kept); ActiveJobLimit
        when its key already has ``max_active`` active jobs."""
        now = time.time()
        job = self.get_job(job_id)
        if job is None:
            return False
        with self._capped(job.key_id, max_active) as conn:
            done = conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.state.in_(RETRYABLE_STATES))
                .values(
                    state="queued",
                    worker=None,
                    message=None,
                    summary=None,
                    result=None,
                    cancel_requested=False,
                    started_at=None,
                    finished_at=None,
                    heartbeat_at=None,
                )
            )
            if done.rowcount:
                self._event(conn, job_id, "state", {"state": "queued", "retry": True}, now)
        return bool(done.rowcount)

    def mark_interrupted(self, stale_after: float) -> list[str]:
        """Mark ``interrupted`` the running jobs whose worker is gone (see the module docstring)."""
        now = time.time()
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(jobs.c.id, jobs.c.worker, jobs.c.heartbeat_at).where(jobs.c.state == "running")
            ).all()
        gone = [
            (job_id, worker)
            for job_id, worker, beat in rows
            if (beat or 0) < now - stale_after or _process_gone(worker)
        ]
        marked = []
        for job_id, worker in gone:
            message = f"interrupted: the server running it ({worker}) stopped; retry it with POST .../retry"
            with self._tx() as conn:
                done = conn.execute(
                    jobs.update()
                    .where(jobs.c.id == job_id, jobs.c.state == "running", jobs.c.worker == worker)
                    .values(state="interrupted", finished_at=now, message=message)
                )
                if done.rowcount:
                    self._event(conn, job_id, "state", {"state": "interrupted", "message": message}, now)
                    marked.append(job_id)
        return marked

    # --- events -------------------------------------------------------------------------------------

    def _event(self, conn: Connection, job_id: str, kind: str, data: dict[str, Any], at: float) -> None:
        conn.execute(job_events.insert().values(job_id=job_id, at=at, kind=kind, data=json.dumps(data)))

    def events(self, job_id: str, after: int = 0, limit: int = 500) -> list[EventRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                job_events.select()
                .where(job_events.c.job_id == job_id, job_events.c.id > after)
                .order_by(job_events.c.id)
                .limit(limit)
            ).mappings()
            return [
                EventRecord(
                    id=r["id"], job_id=r["job_id"], at=r["at"], kind=r["kind"], data=json.loads(r["data"])
                )
                for r in rows
            ]

    # --- audit --------------------------------------------------------------------------------------

    def audit(self, actor: str, action: str, target: str, detail: dict[str, Any] | None = None) -> None:
        with self._tx() as conn:
            conn.execute(
                audit_log.insert().values(
                    at=time.time(),
                    actor=actor,
                    action=action,
                    target=target,
                    detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
                )
            )

    def audit_entries(self, limit: int = 100, after: int = 0) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                audit_log.select().where(audit_log.c.id > after).order_by(audit_log.c.id).limit(limit)
            ).mappings()
            return [{**dict(r), "detail": json.loads(r["detail"])} for r in rows]
