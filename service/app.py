"""The HTTP application: ``create_app(config)`` is what ``brandforge serve`` runs on uvicorn.

Contract:

- One process loads the model, the embedder and the semantic layer once (``/readyz`` answers 503 until
  they are), keeps each brand's index in memory, and runs campaign jobs on :class:`~service.jobs.JobWorkers`.
- Routes (all under ``/v1`` need ``Authorization: Bearer <key>``; the scope each needs is in its OpenAPI
  description): campaigns as jobs (``POST /v1/campaigns`` → 202; ``GET /v1/jobs/{id}``, ``/events``
  (server-sent events), ``/result``; ``DELETE`` cancels; ``POST …/retry``), ``POST /v1/check``, brands and
  their knowledge documents, API keys and the audit log (admin). ``/healthz``, ``/readyz`` and
  ``/metrics`` are for the platform.
- Errors are JSON ``{"error": {"status", "code", "message", "field"?, "request_id"}}``: 401 without a
  valid key, 403 without the scope, 404 for what does not exist (or another key's job), 409 for a state
  that does not allow the action, 413 for a body over its limit, 422 naming the field for bad input, 429
  over a rate limit or the cap on active jobs (with ``Retry-After``). A 500 is a bug; it carries the
  request id that the log line with the traceback carries too.
- Every write (campaign, cancel, retry, brand, document, key) is recorded in the audit log: who (key id),
  what, when, on what.
"""

import asyncio
import contextvars
import json
import logging
import pathlib
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import anyio
from fastapi import Depends, FastAPI, Header, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import InputError
from pipelines.session import campaign_channels
from service.auth import SCOPES, RateLimiter, check_scopes, create_key, has_scope, verify_token
from service.brands import BrandRegistry, check_brand_name
from service.config import ServiceConfig
from service.jobs import NAME, BatchRequest, CampaignRequest, JobWorkers
from service.metrics import Metrics
from service.store import (
    FINAL_STATES,
    ActiveJobLimit,
    IdempotencyConflict,
    JobRecord,
    KeyRecord,
    Store,
    worker_id,
)

log = logging.getLogger("service.app")

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
JOB_ID = r"^[0-9a-f]{32}$"
MAX_STREAMS_PER_KEY = 10  # open server-sent event streams per API key, per replica
STREAM_LIFETIME_S = 1800.0  # a stream ends after this; the client resumes with Last-Event-ID
MAX_CHECK_CHARS = 20_000  # a synchronous check: a long blog post, not a book (brandforge check for more)
MAX_CHECK_LINES = 200
CHECKS_AT_ONCE = 2  # checks are CPU-bound: more at once only queue in the thread pool


# --- response models ---------------------------------------------------------------------------------


class ErrorBody(BaseModel):
    status: int
    code: str
    message: str
    field: str | None = None
    request_id: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class JobView(BaseModel):
    """A campaign job as the API shows it."""

    id: str
    kind: str = Field(..., description="campaign | batch")
    state: str = Field(..., description="queued | running | done | failed | cancelled | interrupted")
    brand: str
    request: dict[str, Any]
    message: str | None = Field(None, description="The last progress line, or why the job ended as it did.")
    summary: dict[str, Any] | None = Field(
        None, description="For a done job: pieces, delivered, blocked, tokens."
    )
    cancel_requested: bool
    attempts: int
    created_at: str
    started_at: str | None
    finished_at: str | None
    links: dict[str, str]


class CheckRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "全网最低价，100%有效！", "locale": "zh"}]},
    )
    text: str = Field(..., min_length=1, max_length=MAX_CHECK_CHARS, description="The copy to check.")
    locale: str | None = Field(
        None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$", description="zh or en (default: the brand's)."
    )
    industry: str | None = Field(None, pattern=NAME)
    brand: str | None = Field(
        None, pattern=NAME, description="A registered brand: its rules and facts apply."
    )
    lines: bool = Field(False, description="Check each non-blank line on its own.")
    rules_only: bool = Field(False, description="Rules only, without the semantic layer.")


class BrandPut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    brand: dict[str, Any] = Field(..., description="The content of brand.yaml, as a JSON object.")


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1, max_length=200)
    scopes: list[Literal["campaign:run", "check", "brands:write", "review", "admin"]] = Field(
        ..., min_length=1, max_length=len(SCOPES)
    )
    rate_per_minute: int = Field(120, ge=1, le=100_000)
    max_active_jobs: int = Field(4, ge=1, le=1000)

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, name: str) -> str:
        # The same test the store applies (str.strip), so a name of only whitespace or control
        # separators is a 422 here rather than a ValueError deep in create_key.
        if not name.strip():
            raise ValueError("a key needs a name with at least one visible character")
        return name


def _iso(t: float | None) -> str | None:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds") if t is not None else None


def job_view(job: JobRecord) -> JobView:
    base = f"/v1/jobs/{job.id}"
    links = {"self": base, "events": f"{base}/events"}
    if job.state == "done":
        links["result"] = f"{base}/result"
    return JobView(
        id=job.id,
        kind=job.kind,
        state=job.state,
        brand=job.brand,
        request=job.request,
        message=job.message,
        summary=job.summary,
        cancel_requested=job.cancel_requested,
        attempts=job.attempts,
        created_at=_iso(job.created_at) or "",
        started_at=_iso(job.started_at),
        finished_at=_iso(job.finished_at),
        links=links,
    )


def key_view(record: KeyRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "scopes": sorted(record.scopes),
        "rate_per_minute": record.rate_per_minute,
        "max_active_jobs": record.max_active_jobs,
        "created_at": _iso(record.created_at),
        "revoked_at": _iso(record.revoked_at),
    }


# --- errors ------------------------------------------------------------------------------------------


class ApiError(HTTPException):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status, detail=message, headers=headers)
        self.code, self.field = code, field


def _error(
    status: int, code: str, message: str, field: str | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = ErrorBody(status=status, code=code, message=message, field=field, request_id=request_id_var.get())
    return JSONResponse({"error": body.model_dump(exclude_none=True)}, status_code=status, headers=headers)


def _field_path(loc: Sequence[Any]) -> str:
    """``("body", "overrides", "seed")`` -> ``overrides.seed``; ``("query", "limit")`` -> ``limit``."""
    parts = [str(p) for p in loc]
    if len(parts) > 1 and parts[0] in ("body", "path", "query", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


def install_error_handlers(app: FastAPI, hide: Sequence[pathlib.Path] = ()) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status_code, exc.code, str(exc.detail), exc.field, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(
            exc.status_code, _CODES.get(exc.status_code, "error"), str(exc.detail), headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": ("body",), "msg": "invalid request"}
        where = _field_path(first.get("loc", ("body",)))
        message = f"{where}: {first.get('msg', 'invalid')}"
        if first.get("type") == "json_invalid":
            message = "the body is not valid JSON"
        return _error(422, "invalid", message, where)

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> JSONResponse:
        # Paths under the service's folders are the operator's business, not the client's.
        message = str(exc)
        for root in hide:
            message = message.replace(f"{root}/", "").replace(str(root), ".")
        return _error(422, "invalid", message, exc.field)


# --- middleware --------------------------------------------------------------------------------------


class ServiceMiddleware:
    """Request ids, body limits, metrics and one access-log line per request (pure ASGI: streams pass)."""

    def __init__(self, app: ASGIApp, state: "ServiceState") -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        given = headers.get("x-request-id", "")
        rid = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        path = scope.get("path", "")
        limit = (
            self.state.config.max_document_bytes
            if "/documents/" in path
            else self.state.config.max_body_bytes
        )
        status = 500
        sent_start = False
        too_large = False

        async def send_wrapped(message: Message) -> None:
            nonlocal status, sent_start
            if too_large and not message.get("bf_own"):
                return  # the app's answer to a body cut short (a 400) gives way to our 413
            message.pop("bf_own", None)
            if message["type"] == "http.response.start":
                status = message["status"]
                sent_start = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > limit):
                await self._reject(send_wrapped, 413, f"the body is larger than {limit} bytes")
                return
            received = 0

            async def receive_limited() -> Message:
                nonlocal received, too_large
                if too_large:
                    return {"type": "http.disconnect"}
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        too_large = True
                        return {"type": "http.disconnect"}
                return message

            try:
                await self.app(scope, receive_limited, send_wrapped)
            except Exception as exc:
                if not too_large:
                    # Here, not in an exception handler: the request id is still known, for the answer,
                    # its X-Request-ID header and the log line with the traceback.
                    log.error(
                        "internal error on %s %s",
                        scope.get("method"),
                        path,
                        exc_info=exc,
                        extra={"request_id": rid},
                    )
                    if sent_start:
                        raise
                    await self._reject(
                        send_wrapped,
                        500,
                        "internal error; the server log has the details under this request id",
                    )
            if too_large and not sent_start:
                await self._reject(send_wrapped, 413, f"the body is larger than {limit} bytes")
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.state.metrics.observe_request(route, scope.get("method", ""), status, seconds)
            key = scope.get("state", {}).get("key_id")
            log.info(
                "%s %s %d %.1f ms",
                scope.get("method"),
                route,
                status,
                seconds * 1000,
                extra={
                    "request_id": rid,
                    "status": status,
                    "route": route,
                    "key_id": key,
                    "ms": round(seconds * 1000, 1),
                },
            )
            request_id_var.reset(token)

    @staticmethod
    async def _reject(send: Send, status: int, message: str) -> None:
        response = _error(status, _CODES.get(status, "error"), message)

        async def own(message: Message) -> None:
            await send({**message, "bf_own": True})

        await response({"type": "http"}, _empty_receive, own)


async def _empty_receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


# --- the application ---------------------------------------------------------------------------------


class UnknownBrand(InputError):
    """A brand name that is not registered."""


@dataclass
class ServiceState:
    config: ServiceConfig
    store: Store
    registry: BrandRegistry
    metrics: Metrics
    workers: JobWorkers
    limiter: RateLimiter = field(default_factory=RateLimiter)
    ready: threading.Event = field(default_factory=threading.Event)
    ready_error: str | None = None
    model: str | None = None
    checkers: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    checkers_lock: threading.Lock = field(default_factory=threading.Lock)
    streams: dict[str, int] = field(default_factory=dict)
    streams_lock: threading.Lock = field(default_factory=threading.Lock)
    shutting_down: threading.Event = field(default_factory=threading.Event)


def worker_count(config: ServiceConfig, max_concurrency: int) -> int:
    """Jobs at once: the configured number, else one for a backend that serves one call at a time (a model
    in this process) and one per four concurrent calls otherwise (a campaign fans out its channels)."""
    if config.workers is not None:
        return config.workers
    return 1 if max_concurrency <= 1 else max(2, max_concurrency // 4)


_bearer = HTTPBearer(auto_error=False, description="An API key from `brandforge keys create`.")


def create_app(config: ServiceConfig, *, store: Store | None = None) -> FastAPI:
    """The service application (see the module docstring); ``store`` defaults to ``config.database``."""
    db = store or Store(config.database)
    registry = BrandRegistry(config.brands_dir)
    metrics = Metrics(db.counts_by_state)
    workers = JobWorkers(
        db,
        registry,
        metrics,
        worker_prefix=worker_id(),
        backend=config.backend,
        default_pipeline=config.pipeline,
        heartbeat_s=config.heartbeat_s,
        stale_after_s=config.stale_after_s,
        data_dir=config.data_dir,
        ray_address=config.ray_address,
    )
    state = ServiceState(config, db, registry, metrics, workers)

    def warm_up() -> None:
        try:
            from backends import get_concurrent_backend
            from knowledge.embedders import get_embedder
            from policy.semantic import load_semantic

            pipeline = workers.pipeline(None)
            backend = get_concurrent_backend(pipeline.spec.backend)
            backend.warm_up()
            state.model = backend.model_name
            if config.warm_up:
                get_embedder(pipeline.spec.retrieval.embedder)
                load_semantic()
            workers.start(worker_count(config, backend.max_concurrency))
            state.ready.set()
            log.info("ready: model %s, %d job workers", state.model, workers.count)
        except Exception as exc:
            state.ready_error = f"could not start ({type(exc).__name__}); the server log says why"
            log.error("cannot start: %s: %s", type(exc).__name__, exc)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for job_id in db.mark_interrupted(config.stale_after_s):
            log.warning(
                "job %s was interrupted by the last stop; retry it with POST /v1/jobs/%s/retry",
                job_id,
                job_id,
            )
        starter = threading.Thread(target=warm_up, daemon=True, name="warm-up")
        starter.start()
        yield
        state.shutting_down.set()
        requeued = await run_in_threadpool(workers.stop, config.shutdown_grace_s)
        if requeued:
            log.warning("shutdown: requeued %d running jobs: %s", len(requeued), ", ".join(requeued))
        if store is None:
            db.close()

    app = FastAPI(
        title="BrandForge",
        version="0.1.0",
        summary="Channel-ready, reviewed and compliance-checked marketing copy from a brand's positioning.",
        description=(
            "Campaigns run as jobs: POST /v1/campaigns answers 202 with a job; follow it with GET "
            "/v1/jobs/{job_id} or its server-sent events, and fetch the Campaign JSON from its result. "
            "Every /v1 route needs `Authorization: Bearer <key>` (create keys with `brandforge keys "
            "create`); each route's description names the scope it needs."
        ),
        lifespan=lifespan,
        responses={
            400: {"model": ErrorResponse, "description": "A body that cannot be read (not UTF-8)."},
            401: {"model": ErrorResponse, "description": "No valid API key."},
            403: {"model": ErrorResponse, "description": "The key lacks the scope."},
            422: {"model": ErrorResponse, "description": "Bad input; `field` names it."},
            429: {"model": ErrorResponse, "description": "Over the key's rate limit or active-job cap."},
        },
    )
    app.state.service = state
    install_error_handlers(app, hide=[registry.root])
    app.add_middleware(ServiceMiddleware, state=state)

    def require(scope: str | None, *also: str) -> Callable[..., Awaitable[KeyRecord]]:
        """A dependency: a valid key holding ``scope`` (or one of ``also``), within its rate."""

        async def dependency(
            request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
        ) -> KeyRecord:
            if credentials is None or credentials.scheme.lower() != "bearer":
                raise ApiError(
                    401,
                    "unauthorized",
                    "an API key is required (Authorization: Bearer <key>)",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            record = await run_in_threadpool(verify_token, db, credentials.credentials)
            if record is None:
                raise ApiError(
                    401,
                    "unauthorized",
                    "the API key is not valid or was revoked",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            request.scope.setdefault("state", {})["key_id"] = record.id
            if scope is not None and not any(has_scope(record, s) for s in (scope, *also)):
                wanted = " or ".join(repr(s) for s in (scope, *also))
                raise ApiError(403, "forbidden", f"this key lacks the scope {wanted}")
            wait = state.limiter.take(record.id, record.rate_per_minute)
            if wait > 0:
                raise ApiError(
                    429,
                    "rate_limited",
                    f"over this key's rate of {record.rate_per_minute} requests per minute",
                    headers={"Retry-After": str(max(1, round(wait)))},
                )
            return record

        return dependency

    Key = Annotated[KeyRecord, Depends(require(None))]
    RunKey = Annotated[KeyRecord, Depends(require("campaign:run"))]
    ReadKey = Annotated[KeyRecord, Depends(require("campaign:run", "review"))]  # reading jobs
    CheckKey = Annotated[KeyRecord, Depends(require("check"))]
    BrandsKey = Annotated[KeyRecord, Depends(require("brands:write"))]
    AdminKey = Annotated[KeyRecord, Depends(require("admin"))]
    JobId = Annotated[str, Path(pattern=JOB_ID, description="A job id (32 hex characters).")]
    BrandName = Annotated[str, Path(pattern=NAME, description="A registered brand's name.")]

    def visible_job(key: KeyRecord, job_id: str, *, write: bool = False) -> JobRecord:
        """The job, if ``key`` may see it (its own; any with review or admin) or, for ``write``, change it
        (its own; any with admin). 404 otherwise: another key's job is not confirmed to exist."""
        job = db.get_job(job_id)
        allowed = job is not None and (
            job.key_id == key.id or has_scope(key, "admin") or (not write and has_scope(key, "review"))
        )
        if job is None or not allowed:
            raise ApiError(404, "not_found", f"no job {job_id}", field="job_id")
        return job

    # --- platform ---

    @app.get("/healthz", tags=["operations"], summary="Liveness: the process answers.")
    async def healthz() -> dict[str, str]:  # async: answers even when the thread pool is busy
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="Readiness: model, embedder and database ready.",
        responses={503: {"description": "Still loading, or could not start."}},
    )
    async def readyz() -> JSONResponse:
        ready = state.ready.is_set() and not state.shutting_down.is_set() and db.ping()
        body = {
            "ready": ready,
            "model": state.model,
            "error": state.ready_error,
            "workers": workers.count,
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    if config.metrics_public:

        @app.get(
            "/metrics", tags=["operations"], summary="Prometheus metrics.", response_class=PlainTextResponse
        )
        def metrics_public() -> Response:
            return Response(metrics.exposition(), media_type="text/plain; version=0.0.4")

    else:

        @app.get(
            "/metrics",
            tags=["operations"],
            summary="Prometheus metrics (scope: admin).",
            response_class=PlainTextResponse,
        )
        def metrics_admin(key: AdminKey) -> Response:
            return Response(metrics.exposition(), media_type="text/plain; version=0.0.4")

    # --- campaigns and jobs ---

    IdempotencyKey = Annotated[
        str | None,
        Header(
            description="Retrying with the same key returns the same job.",
            pattern=r"^[\x21-\x7e]{1,200}$",
        ),
    ]

    def check_pipeline(name: str | None) -> None:
        if name is not None and name not in config.pipelines:
            raise ApiError(
                422,
                "invalid",
                f"unknown pipeline {name!r}; valid choices: {config.pipelines}",
                field="pipeline",
            )

    def check_runnable(name: str, channels: list[str] | None, where: str) -> None:
        """A registered brand with documents, and channels it can have: a 422 now, not a failed job later."""
        if not registry.exists(name):
            raise ApiError(422, "invalid", f"no registered brand {name!r}; see GET /v1/brands", field=where)
        brand = registry.load(name)
        try:
            campaign_channels(brand, channels)
        except InputError as exc:
            raise ApiError(422, "invalid", str(exc).split(": ", 2)[-1], field=where) from None
        if not registry.documents(brand):
            raise ApiError(
                422,
                "invalid",
                f"brand {name!r} has no knowledge documents yet; upload one with "
                f"PUT /v1/brands/{name}/documents/NAME",
                field=where,
            )

    def queue(
        kind: str,
        body: CampaignRequest | BatchRequest,
        brand: str,
        key: KeyRecord,
        response: Response,
        idempotency_key: str | None,
    ) -> JobView:
        try:
            job, created = db.create_job(
                key_id=key.id,
                brand=brand,
                request=body.model_dump(mode="json", exclude_none=True),
                request_hash=body.fingerprint(),
                idempotency_key=idempotency_key,
                max_active=key.max_active_jobs,
                kind=kind,
            )
        except IdempotencyConflict as exc:
            raise ApiError(409, "conflict", str(exc), field="Idempotency-Key") from None
        except ActiveJobLimit as exc:
            raise ApiError(429, "too_many_jobs", str(exc), headers={"Retry-After": "10"}) from None
        if created:
            db.audit(key.id, f"{kind}.create", f"job:{job.id}", {"brand": brand, "request": job.request})
            workers.wake()
        else:
            response.headers["Idempotent-Replayed"] = "true"
        response.headers["Location"] = f"/v1/jobs/{job.id}"
        return job_view(job)

    @app.post(
        "/v1/campaigns",
        status_code=202,
        response_model=JobView,
        tags=["campaigns"],
        summary="Start a campaign job (scope: campaign:run).",
        responses={
            409: {"model": ErrorResponse, "description": "Idempotency-Key reused for another request."}
        },
    )
    def start_campaign(
        body: CampaignRequest, key: RunKey, response: Response, idempotency_key: IdempotencyKey = None
    ) -> JobView:
        check_pipeline(body.pipeline)
        check_runnable(body.brand, body.channels, "brand")
        return queue("campaign", body, body.brand, key, response, idempotency_key)

    @app.post(
        "/v1/batches",
        status_code=202,
        response_model=JobView,
        tags=["campaigns"],
        summary="Start a batch of campaigns as one job, locally or on the Ray cluster (scope: campaign:run).",
        description=(
            "The batch runner of `brandforge batch` runs the items (resumable: a retried batch skips the "
            "finished ones); `executor: ray` sends them to the service's Ray cluster. The result is the "
            "batch's results.jsonl: one line per finished item with its Campaign JSON."
        ),
        responses={
            409: {"model": ErrorResponse, "description": "Idempotency-Key reused for another request."}
        },
    )
    def start_batch(
        body: BatchRequest, key: RunKey, response: Response, idempotency_key: IdempotencyKey = None
    ) -> JobView:
        check_pipeline(body.pipeline)
        seen: set[str] = set()
        for n, item in enumerate(body.items):
            if item.id in seen:
                raise ApiError(422, "invalid", f"duplicate item id {item.id!r}", field=f"items.{n}.id")
            seen.add(item.id)
            check_runnable(item.brand, item.channels, f"items.{n}.brand")
        if body.executor == "ray":
            if config.ray_address is None:
                raise ApiError(
                    422,
                    "invalid",
                    "this server has no Ray cluster configured (ray_address); use executor local",
                    field="executor",
                )
            try:
                import ray  # noqa: F401
            except ImportError:
                raise ApiError(
                    422,
                    "invalid",
                    "this server has no Ray (pip install 'brandforge[cluster]')",
                    field="executor",
                ) from None
        brands = ",".join(sorted({item.brand for item in body.items}))
        return queue("batch", body, brands[:100], key, response, idempotency_key)

    @app.get("/v1/jobs", tags=["campaigns"], summary="List jobs, newest first (scope: campaign:run).")
    def list_jobs(
        key: ReadKey,
        state_: Annotated[
            str | None, Query(alias="state", pattern=r"^(queued|running|done|failed|cancelled|interrupted)$")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> list[JobView]:
        everyone = has_scope(key, "review") or has_scope(key, "admin")
        return [
            job_view(j) for j in db.list_jobs(key_id=None if everyone else key.id, state=state_, limit=limit)
        ]

    @app.get(
        "/v1/jobs/{job_id}",
        response_model=JobView,
        tags=["campaigns"],
        summary="A job's state and progress (scope: campaign:run).",
        responses={404: {"model": ErrorResponse}},
    )
    def get_job(job_id: JobId, key: ReadKey) -> JobView:
        return job_view(visible_job(key, job_id))

    @app.get(
        "/v1/jobs/{job_id}/result",
        tags=["campaigns"],
        summary="The Campaign JSON of a done campaign job; a batch's results.jsonl (scope: campaign:run).",
        responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
    )
    def get_result(job_id: JobId, key: ReadKey) -> Response:
        job = visible_job(key, job_id)
        result = db.get_result(job.id) if job.state == "done" else None
        if result is None:
            raise ApiError(409, "conflict", f"job {job_id} is {job.state}; a result exists once it is done")
        return Response(
            result, media_type="application/x-ndjson" if job.kind == "batch" else "application/json"
        )

    async def stream_job(job_id: JobId, key: ReadKey) -> AsyncIterator[JobRecord]:
        job = await run_in_threadpool(visible_job, key, job_id)
        with state.streams_lock:
            if state.streams.get(key.id, 0) >= MAX_STREAMS_PER_KEY:
                raise ApiError(
                    429,
                    "too_many_streams",
                    f"this key already has {MAX_STREAMS_PER_KEY} event streams open",
                    headers={"Retry-After": "5"},
                )
            state.streams[key.id] = state.streams.get(key.id, 0) + 1
        try:
            yield job
        finally:
            with state.streams_lock:
                state.streams[key.id] -= 1

    @app.get(
        "/v1/jobs/{job_id}/events",
        response_class=EventSourceResponse,
        tags=["campaigns"],
        summary="Server-sent events of a job: state and progress, until it ends (scope: campaign:run).",
        responses={404: {"model": ErrorResponse}},
    )
    async def job_events(
        job: Annotated[JobRecord, Depends(stream_job)],
        last_event_id: Annotated[str | None, Header(description="Resume after this event id.")] = None,
    ) -> AsyncIterator[ServerSentEvent]:
        after = (
            int(last_event_id) if last_event_id and last_event_id.isdigit() and len(last_event_id) < 18 else 0
        )
        until = time.monotonic() + STREAM_LIFETIME_S  # then the client reconnects with Last-Event-ID
        pause = 0.25
        while time.monotonic() < until:
            events = await run_in_threadpool(db.events, job.id, after)
            ended = False
            for event in events:
                after = event.id
                yield ServerSentEvent(data=event.data, event=event.kind, id=str(event.id))
                if event.kind == "state":
                    ended = event.data.get("state") in FINAL_STATES
            if ended:  # the last state so far is final: the stream ends unless a retry came since
                current = await run_in_threadpool(db.get_job, job.id)
                later = await run_in_threadpool(db.events, job.id, after, 1)
                if current is not None and current.state in FINAL_STATES and not later:
                    return
            if state.shutting_down.is_set():
                return
            if events:
                pause = 0.25
            else:  # idle: poll less often, up to every 2 s
                current = await run_in_threadpool(db.get_job, job.id)
                if current is None:
                    return
                await asyncio.sleep(pause)
                pause = min(2.0, pause * 1.5)

    @app.delete(
        "/v1/jobs/{job_id}",
        status_code=202,
        tags=["campaigns"],
        summary="Cancel a job (scope: campaign:run).",
        responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
    )
    def cancel_job(job_id: JobId, key: RunKey) -> dict[str, str]:
        job = visible_job(key, job_id, write=True)
        outcome = db.cancel(job.id)
        if outcome is None:
            raise ApiError(409, "conflict", f"job {job_id} has already ended ({job.state})")
        workers.cancel_local(job.id)
        db.audit(key.id, "campaign.cancel", f"job:{job.id}", {"outcome": outcome})
        return {"id": job.id, "state": outcome}

    @app.post(
        "/v1/jobs/{job_id}/retry",
        status_code=202,
        response_model=JobView,
        tags=["campaigns"],
        summary="Queue a failed, cancelled or interrupted job again (scope: campaign:run).",
        responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
    )
    def retry_job(job_id: JobId, key: RunKey) -> JobView:
        job = visible_job(key, job_id, write=True)
        owner = db.get_key(job.key_id)  # the cap is the job owner's, whoever retries it
        try:
            retried = db.retry(job.id, max_active=owner.max_active_jobs if owner else None)
        except ActiveJobLimit as exc:
            raise ApiError(429, "too_many_jobs", str(exc), headers={"Retry-After": "10"}) from None
        if not retried:
            raise ApiError(
                409,
                "conflict",
                f"job {job_id} is {job.state}; only failed, cancelled or interrupted jobs can be retried",
            )
        db.audit(key.id, "campaign.retry", f"job:{job.id}", {"was": job.state})
        workers.wake()
        return job_view(db.get_job(job.id) or job)

    # --- check ---

    @app.post("/v1/check", tags=["check"], summary="Check copy for compliance, synchronously (scope: check).")
    async def check(body: CheckRequest, key: CheckKey) -> dict[str, Any]:
        if body.locale is None and body.brand is None:
            raise ApiError(422, "invalid", "give a locale (zh or en) or a registered brand", field="locale")
        if body.lines and sum(1 for line in body.text.splitlines() if line.strip()) > MAX_CHECK_LINES:
            raise ApiError(422, "invalid", f"more than {MAX_CHECK_LINES} lines; split the text", field="text")
        # Its own small pool: CPU-bound checks cannot take the threads every other route needs.
        return await anyio.to_thread.run_sync(run_check, body, limiter=check_limiter)

    check_limiter = anyio.CapacityLimiter(CHECKS_AT_ONCE)
    brand_limiter = anyio.CapacityLimiter(2)  # document uploads: indexing is CPU-bound too

    def open_checker_for(
        brand_name: str | None,
        locale: str | None = None,
        industry: str | None = None,
        rules_only: bool = False,
    ) -> tuple[Any, Any, Any]:
        """(checker, policy, index), kept while the brand's index is the same object (its folder unchanged).
        UnknownBrand for a brand that is not registered."""
        from pipelines.check import open_checker

        brand = index = None
        if brand_name is not None:
            if not registry.exists(brand_name):
                raise UnknownBrand(f"no registered brand {brand_name!r}", field="brand")
            brand = registry.load(brand_name)
            index = registry.index(brand, workers.pipeline(None))
        cache_key = (locale, industry, brand_name, rules_only)
        with state.checkers_lock:
            opened = state.checkers.get(cache_key)
        if opened is None or opened[2] is not index:
            checker, policy = open_checker(
                locale=locale, industry=industry, brand=brand, index=index, rules_only=rules_only
            )
            opened = (checker, policy, index)
            with state.checkers_lock:
                state.checkers[cache_key] = opened
        return opened

    def run_check(body: CheckRequest) -> dict[str, Any]:
        from pipelines.check import check_report

        try:
            opened = open_checker_for(body.brand, body.locale, body.industry, body.rules_only)
        except UnknownBrand as exc:
            raise ApiError(422, "invalid", str(exc).removeprefix("brand: "), field="brand") from None
        report = check_report(opened[0], opened[1], body.text, lines=body.lines)
        metrics.checks.labels(report["verdict"]).inc()
        return report

    # --- brands ---

    def brand_view(name: str) -> dict[str, Any]:
        brand = registry.load(name)
        return {
            "name": name,
            "display_name": brand.name,
            "locale": brand.locale,
            "industry": brand.industry,
            "positioning": brand.positioning,
            "channels": list(brand.channels),
            "documents": registry.documents(brand),
        }

    @app.get("/v1/brands", tags=["brands"], summary="Registered brands (any scope).")
    def list_brands(key: Key) -> list[dict[str, Any]]:
        out = []
        for name in registry.names():
            try:
                out.append(brand_view(name))
            except InputError as exc:
                out.append({"name": name, "error": str(exc).replace(str(registry.root), ".")})
        return out

    @app.get(
        "/v1/brands/{name}",
        tags=["brands"],
        summary="One registered brand (any scope).",
        responses={404: {"model": ErrorResponse}},
    )
    def get_brand(name: BrandName, key: Key) -> dict[str, Any]:
        if not registry.exists(name):
            raise ApiError(404, "not_found", f"no registered brand {name!r}", field="name")
        return brand_view(name)

    @app.put(
        "/v1/brands/{name}",
        tags=["brands"],
        summary="Register or replace a brand's brand.yaml (scope: brands:write).",
        responses={201: {"description": "Registered."}, 200: {"description": "Replaced."}},
    )
    def put_brand(name: BrandName, body: BrandPut, key: BrandsKey, response: Response) -> dict[str, Any]:
        check_brand_name(name, "name")
        _, created = registry.put_brand(name, body.brand)
        response.status_code = 201 if created else 200
        db.audit(
            key.id, "brand.register" if created else "brand.replace", f"brand:{name}", {"brand": body.brand}
        )
        return brand_view(name)

    @app.put(
        "/v1/brands/{name}/documents/{document}",
        tags=["brands"],
        summary="Add or replace a knowledge document; the body is the file's bytes (scope: brands:write).",
        responses={404: {"model": ErrorResponse}},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            }
        },
    )
    async def put_document(
        name: BrandName, document: Annotated[str, Path(max_length=160)], request: Request, key: BrandsKey
    ) -> dict[str, Any]:
        if not registry.exists(name):
            raise ApiError(404, "not_found", f"no registered brand {name!r}", field="name")
        data = await request.body()
        if not data:
            raise ApiError(422, "invalid", "the body is empty; send the document's bytes", field="body")
        result = await anyio.to_thread.run_sync(
            registry.put_document, name, document, data, workers.pipeline(None), limiter=brand_limiter
        )
        await run_in_threadpool(
            db.audit,
            key.id,
            "document.put",
            f"brand:{name}/{document}",
            {"bytes": len(data), "created": result["created"]},
        )
        return result

    @app.delete(
        "/v1/brands/{name}/documents/{document}",
        tags=["brands"],
        summary="Remove a knowledge document (scope: brands:write).",
        responses={404: {"model": ErrorResponse}},
    )
    def delete_document(
        name: BrandName, document: Annotated[str, Path(max_length=160)], key: BrandsKey
    ) -> dict[str, Any]:
        if not registry.exists(name):
            raise ApiError(404, "not_found", f"no registered brand {name!r}", field="name")
        if not registry.delete_document(name, document, workers.pipeline(None)):
            raise ApiError(404, "not_found", f"brand {name!r} has no document {document!r}", field="document")
        db.audit(key.id, "document.delete", f"brand:{name}/{document}")
        return {"document": document, "deleted": True}

    # --- keys and audit ---

    @app.get("/v1/keys", tags=["admin"], summary="API keys, without secrets (scope: admin).")
    def list_keys(key: AdminKey) -> list[dict[str, Any]]:
        return [key_view(k) for k in db.list_keys()]

    @app.post(
        "/v1/keys",
        status_code=201,
        tags=["admin"],
        summary="Create an API key; its token is shown once (scope: admin).",
    )
    def new_key(body: KeyCreate, key: AdminKey) -> dict[str, Any]:
        try:
            scopes = check_scopes(body.scopes)
        except ValueError as exc:
            raise ApiError(422, "invalid", str(exc), field="scopes") from None
        made = create_key(
            db, body.name, scopes, rate_per_minute=body.rate_per_minute, max_active_jobs=body.max_active_jobs
        )
        db.audit(key.id, "key.create", f"key:{made.record.id}", {"name": body.name, "scopes": scopes})
        return {**key_view(made.record), "token": made.token}

    @app.delete(
        "/v1/keys/{key_id}",
        tags=["admin"],
        summary="Revoke an API key (scope: admin).",
        responses={404: {"model": ErrorResponse}},
    )
    def revoke_key(key_id: Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")], key: AdminKey) -> dict[str, Any]:
        if not db.revoke_key(key_id):
            raise ApiError(404, "not_found", f"no live key {key_id}", field="key_id")
        cancelled = db.cancel_queued(key_id)
        db.audit(key.id, "key.revoke", f"key:{key_id}", {"queued_jobs_cancelled": cancelled})
        return {"id": key_id, "revoked": True}

    @app.get("/v1/audit", tags=["admin"], summary="The audit log, oldest first (scope: admin).")
    def audit(
        key: AdminKey,
        after: Annotated[int, Query(ge=0, le=2**62)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        return [{**e, "at": _iso(e["at"])} for e in db.audit_entries(limit=limit, after=after)]

    from service.studio import install_studio

    workers.checker_for = open_checker_for
    install_studio(app, db, registry, workers, open_checker_for)
    return app


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and request/job ids when known."""

    FIELDS = ("request_id", "job_id", "status", "route", "key_id", "ms")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id_var.get()
        if rid:
            entry["request_id"] = rid
        for name in self.FIELDS[1:]:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
