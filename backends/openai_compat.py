"""Any OpenAI-compatible chat server (``vllm serve``, llama.cpp's server): production's path to a GPU.

Contract:

- **Start.** :meth:`OpenAICompatBackend.warm_up` probes ``GET {base_url}/models`` before any work, so an
  unreachable server, a refused API key or a model the server does not serve is a :class:`BackendError`
  then, not halfway through a campaign. :attr:`~OpenAICompatBackend.model_name` is then the id the server
  reports: its first model when ``backend.model`` is not set, else the configured name, checked against
  the server's list (the valid ids are named when it is not there). A server without ``/models`` (404,
  405 or 501) is taken at its word with the configured name.
- **Requests** go to ``{base_url}/chat/completions``. The JSON schema is sent the way the server
  understands it (``structured_output``):
  ``json_schema``: OpenAI's ``response_format={"type": "json_schema", "json_schema": {...}}`` (vLLM
  enforces it with its structured-output engine); ``json_object_schema``: llama.cpp's
  ``response_format={"type": "json_object", "schema": {...}}``; ``function_calling``: one forced tool
  whose parameters are the schema; ``auto`` (default): ``json_schema`` first, and if the server rejects
  that request shape (llama.cpp answers 4xx/5xx naming response_format), ``json_object_schema`` for the
  rest of the process.
- **Replies** are read up to :data:`MAX_REPLY_BYTES` and must be JSON of the OpenAI shape; anything else
  (too large, not JSON, JSON of another shape) is a :class:`BackendError` with a short message that
  never quotes more than a few words of the reply.
- **Timeouts and retries.** A connection must open within ``connect_timeout_s`` and a reply arrive within
  ``timeout_s``. Connection failures and 408, 409, 429, 500, 502, 503, 504 answers are retried
  ``max_retries`` times with exponential backoff (0.5 s, doubling, at most 8 s; a longer ``Retry-After``
  up to 30 s is honoured): one call sends at most ``1 + max_retries`` requests and, while a server keeps
  failing, at most about two a second. A reply that does not come within ``timeout_s`` is not retried:
  the server is still working on the request and a second copy would only add to its load.

The HTTP exchange is done here with httpx (the OpenAI client's own transport) rather than through an SDK,
so that the size cap, the retry policy and every error message are this module's, in one place.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import httpx
from pydantic import BaseModel, Field, ValidationError

from backends.base import (
    BackendError,
    BackendRegistration,
    BaseBackendConfig,
    ChatMessage,
    Completion,
    CompletionRequest,
    GenerationParams,
    LLMBackend,
)

_TOOL_NAME = "respond"

# Why 4 MB: a chat completion is at most max_tokens (<= 32,768) tokens of text, a few hundred KB of JSON
# even with every character escaped, and a /models list is a few KB. Four times the largest honest reply
# still bounds what a broken or hostile server can make us hold: 4 MB per request in flight, 1 GB at the
# highest concurrency (256).
MAX_REPLY_BYTES = 4 << 20
_TRANSIENT_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
_BACKOFF_S, _MAX_BACKOFF_S, _MAX_RETRY_AFTER_S = 0.5, 8.0, 30.0
_QUOTE_CHARS = 160  # how much of a server's error message goes into ours


def response_format_body(mode: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The request-body fields that carry ``schema`` in the given mode."""
    if mode == "json_schema":
        return {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": schema, "strict": True},
            }
        }
    if mode == "json_object_schema":
        return {"response_format": {"type": "json_object", "schema": schema}}
    if mode == "function_calling":
        return {
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": _TOOL_NAME,
                        "parameters": schema,
                        "description": "Return the answer.",
                    },
                }
            ],
            "tool_choice": {"type": "function", "function": {"name": _TOOL_NAME}},
        }
    raise ValueError(f"unknown structured_output mode {mode!r}")


# The parts of the OpenAI reply shapes we use; other fields are ignored, missing or mistyped ones refused.
class _ToolFunction(BaseModel):
    arguments: str


class _ToolCall(BaseModel):
    function: _ToolFunction


class _Message(BaseModel):
    content: str | None = None
    tool_calls: list[_ToolCall] | None = None


class _Choice(BaseModel):
    message: _Message
    finish_reason: str | None = None


class _Usage(BaseModel):
    prompt_tokens: int = Field(0, ge=0)
    completion_tokens: int = Field(0, ge=0)


class _ChatReply(BaseModel):
    model: str | None = Field(None, max_length=500)
    choices: list[_Choice] = Field(min_length=1)
    usage: _Usage | None = None


class _ServedModel(BaseModel):
    id: str = Field(min_length=1, max_length=500)


class _ModelList(BaseModel):
    data: list[_ServedModel]


class ServerRefused(BackendError):
    """The server answered a request with an error status (after retries, where it was transient).
    ``body`` is the start of its error body, to recognise a known refusal; never shown whole."""

    def __init__(self, message: str, status: int, body: str) -> None:
        super().__init__(message)
        self.status, self.body = status, body


def _short(text: str) -> str:
    """A few printable words of untrusted text, for an error message."""
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return text if len(text) <= _QUOTE_CHARS else text[:_QUOTE_CHARS] + "…"


def _error_detail(data: Any) -> str:
    """The message of an error body, shortened: OpenAI's ``{"error": {"message": ...}}`` or FastAPI's
    ``{"detail": [{"loc": [...], "msg": ...}]}`` (llama.cpp's Python server)."""
    if not isinstance(data, dict):
        return ""
    error = data.get("error", data.get("detail", data.get("message")))
    if isinstance(error, list) and error and isinstance(error[0], dict):
        where = ".".join(str(part) for part in error[0].get("loc") or [])
        error = f"{where}: {error[0].get('msg')}" if where else error[0].get("msg")
    if isinstance(error, dict):
        error = error.get("message")
    return _short(error) if isinstance(error, str) else ""


def _first_error(exc: ValidationError) -> str:
    item = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in item["loc"]) or "(top level)"
    return f"{where}: {item['msg']}"


def _backoff(attempt: int, retry_after: str | None) -> float:
    """Seconds before retry number ``attempt`` (1, 2, ...): exponential with jitter, never shorter than
    that even if the server asks for less, and a server's longer Retry-After honoured up to a cap."""
    delay = min(_MAX_BACKOFF_S, _BACKOFF_S * 2 ** (attempt - 1)) * random.uniform(0.75, 1.0)
    try:
        asked = float(retry_after) if retry_after else 0.0
    except ValueError:  # an HTTP date: rare from model servers; the backoff alone is fine
        asked = 0.0
    return max(delay, min(asked, _MAX_RETRY_AFTER_S))


class OpenAIConfig(BaseBackendConfig):
    """Any OpenAI-compatible chat server (vLLM, llama.cpp's server), reached over HTTP."""

    kind: Literal["openai"] = Field("openai", description="Backend to use.")
    model: str | None = Field(
        None, description="Served model name (default: the first model the server lists at /models)."
    )
    base_url: str | None = Field(None, description="Server URL, e.g. http://127.0.0.1:8000/v1 (required).")
    api_key: str | None = Field(None, description="API key for the server; default from OPENAI_API_KEY.")
    structured_output: Literal["auto", "json_schema", "json_object_schema", "function_calling"] = Field(
        "auto",
        description="How the JSON schema is sent. auto tries OpenAI's json_schema (vLLM) and falls back to "
        "llama.cpp's json_object+schema when the server refuses it.",
    )
    # Why 300 s: the server answers only when the whole reply is generated. A CPU llama.cpp server
    # evaluating an 8k-token prompt and then writing max_tokens=700 at a few tokens per second needs a
    # few minutes; a GPU server needs seconds. A read timeout is not retried (the server is still busy
    # with the request), so one call waits at most this long for its answer.
    timeout_s: float = Field(
        300.0,
        ge=1.0,
        le=3600.0,
        description="Seconds to wait for one reply (not retried: the server is still busy).",
    )
    connect_timeout_s: float = Field(
        5.0,
        ge=0.1,
        le=60.0,
        description="Seconds to wait for a connection; a server that cannot even accept a connection in a "
        "few seconds is down or unreachable.",
    )
    max_retries: int = Field(
        2,
        ge=0,
        le=5,
        description="Retries of transient errors (connection failures, 408, 429, 5xx), with exponential "
        "backoff; one call sends at most 1 + max_retries requests.",
    )
    concurrency: int = Field(
        4,
        ge=1,
        le=256,
        description="Requests in flight at once (max_concurrency; complete_many): the server batches them.",
    )


class OpenAICompatBackend(LLMBackend):
    kind = "openai"
    remote = True
    config: OpenAIConfig

    def __init__(self, config: OpenAIConfig) -> None:
        super().__init__(config)
        if not config.base_url:
            raise BackendError(
                "backend 'openai' needs base_url (e.g. http://127.0.0.1:8000/v1); set it in the "
                "pipeline's backend.base_url, BRANDFORGE_BASE_URL or --base-url"
            )
        self._base = config.base_url.rstrip("/")
        self._mode = config.structured_output
        self._lock = threading.Lock()
        self._http: httpx.Client | None = None
        self._served: str | None = None

    @property
    def model_name(self) -> str:
        """The id of the served model as the server reports it; asking starts the backend."""
        if self._served is None:
            self.warm_up()
        assert self._served is not None
        return self._served

    @property
    def max_concurrency(self) -> int:
        return self.config.concurrency

    @property
    def structured_mode(self) -> str:
        """The schema mechanism in use (``auto`` resolves after the first structured call)."""
        return self._mode

    def warm_up(self) -> None:
        with self._lock:
            if self._served is not None:
                return
            if self._http is None:
                api_key = self.config.api_key or os.environ.get("OPENAI_API_KEY")
                self._http = httpx.Client(
                    timeout=httpx.Timeout(self.config.timeout_s, connect=self.config.connect_timeout_s),
                    headers={"Authorization": f"Bearer {api_key}"} if api_key else {},
                    limits=httpx.Limits(max_connections=max(self.config.concurrency, 10)),
                )
            self._served = self._probe_model()
            self._warm = True

    def close(self) -> None:
        with self._lock:
            if self._http is not None:
                self._http.close()
            self._http, self._served, self._warm = None, None, False

    def _probe_model(self) -> str:
        configured = self.config.model
        try:
            data = self._call("GET", "models")
        except ServerRefused as exc:
            if exc.status in (404, 405, 501) and configured:
                return configured  # no /models on this server: trust the configuration
            if configured:
                raise
            raise BackendError(f"{exc}; set backend.model (--model) to the served model's name") from None
        try:
            served = [m.id for m in _ModelList.model_validate(data).data]
        except ValidationError as exc:
            raise BackendError(
                f"server at {self._base} answered GET /models with something other than a model list "
                f"({_first_error(exc)})"
            ) from None
        if not served:
            raise BackendError(f"server at {self._base} serves no model")
        if configured is None:
            return served[0]
        if configured not in served:
            raise BackendError(
                f"server at {self._base} does not serve model {configured!r} (backend.model / --model); "
                f"valid choices: {served[:20]}"
            )
        return configured

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One request with the retry policy of the module docstring; the parsed JSON of a 2xx reply.
        Raises :class:`ServerRefused` for an error status, :class:`BackendError` for everything else."""
        assert self._http is not None
        url = f"{self._base}/{path}"
        tries = self.config.max_retries + 1
        retry_after: str | None = None
        problem = ""
        for attempt in range(tries):
            if attempt:
                time.sleep(_backoff(attempt, retry_after))
            try:
                status, headers, raw = self._exchange(method, url, body)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError, httpx.ReadError):
                problem, retry_after = f"cannot reach OpenAI-compatible server at {self._base}", None
                continue
            except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout):
                raise BackendError(
                    f"server at {self._base} sent no answer to {method} /{path} within "
                    f"{self.config.timeout_s:g} s (backend.timeout_s)"
                ) from None
            except httpx.HTTPError as exc:  # invalid URL, unsupported protocol, too many redirects, ...
                raise BackendError(
                    f"request to {url} failed: {type(exc).__name__}: {_short(str(exc))}"
                ) from None
            data = self._parse(raw, method, path, status)
            if 200 <= status < 300:
                return data
            detail = _error_detail(data)
            problem = f"server at {self._base} answered {status} to {method} /{path}" + (
                f": {detail}" if detail else ""
            )
            error_body = raw[:65536].decode("utf-8", errors="replace")
            if status not in _TRANSIENT_STATUS:
                raise ServerRefused(problem, status, error_body)
            retry_after = headers.get("retry-after")
            if attempt == tries - 1:
                raise ServerRefused(f"{problem} (tried {tries} times)", status, error_body)
        raise BackendError(f"{problem} (tried {tries} times)")

    def _exchange(
        self, method: str, url: str, body: dict[str, Any] | None
    ) -> tuple[int, httpx.Headers, bytes]:
        """Send, then read the reply up to the cap and within ``timeout_s`` in all (httpx's read timeout
        is per read: a server trickling bytes would otherwise hold us forever)."""
        assert self._http is not None
        deadline = time.monotonic() + self.config.timeout_s
        with self._http.stream(method, url, json=body) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_REPLY_BYTES:
                raise self._too_large(url)
            chunks, size = [], 0
            for chunk in response.iter_bytes():  # decompressed: the cap also stops a gzip bomb
                size += len(chunk)
                if size > MAX_REPLY_BYTES:
                    raise self._too_large(url)
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("reply took too long", request=response.request)
                chunks.append(chunk)
            return response.status_code, response.headers, b"".join(chunks)

    def _too_large(self, url: str) -> BackendError:
        return BackendError(
            f"server at {self._base} sent a reply larger than {MAX_REPLY_BYTES >> 20} MB to {url}; "
            "refused (a chat completion is far smaller: is base_url a model server?)"
        )

    def _parse(self, raw: bytes, method: str, path: str, status: int) -> Any:
        try:
            return json.loads(raw) if raw.strip() else None
        except (ValueError, RecursionError):  # not JSON, not UTF-8, a 5,000-digit number, [[[[...
            if 200 <= status < 300:
                raise BackendError(
                    f"server at {self._base} answered {method} /{path} with something that is not JSON "
                    f"({len(raw)} bytes); is base_url an OpenAI-compatible server?"
                ) from None
            return None  # an error page: the status says enough

    def _chat(
        self, messages: list[ChatMessage], fields: dict[str, Any], params: GenerationParams
    ) -> _ChatReply:
        body = {
            "model": self.model_name,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
            "seed": params.seed,
            "stream": False,
            # Repetition control under both servers' names (each ignores the other's).
            "repeat_penalty": params.repeat_penalty,
            "repetition_penalty": params.repeat_penalty,
            **fields,
        }
        try:
            data = self._call("POST", "chat/completions", body)
        except ServerRefused as exc:
            if exc.status in (401, 403):
                raise BackendError(
                    f"server at {self._base} refused the API key (set OPENAI_API_KEY or backend.api_key)"
                ) from None
            if exc.status == 404:
                raise BackendError(f"server at {self._base} has no model {self.model_name!r}") from None
            raise
        try:
            return _ChatReply.model_validate(data)
        except ValidationError as exc:
            raise BackendError(
                f"server at {self._base} answered with JSON that is not a chat completion "
                f"({_first_error(exc)})"
            ) from None

    def _complete(
        self, messages: list[ChatMessage], json_schema: dict[str, Any] | None, params: GenerationParams
    ) -> Completion:
        started = time.perf_counter()
        mode = self._mode
        if json_schema is None:
            reply = self._chat(messages, {}, params)
        elif mode == "auto":
            try:
                reply = self._chat(messages, response_format_body("json_schema", json_schema), params)
                self._mode = "json_schema"
            except ServerRefused as exc:
                if exc.status not in (400, 422, 500) or not (
                    "response_format" in exc.body or "json_schema" in exc.body
                ):
                    raise
                self._mode = "json_object_schema"  # this server's dialect, for the rest of the process
                reply = self._chat(messages, response_format_body("json_object_schema", json_schema), params)
        else:
            reply = self._chat(messages, response_format_body(mode, json_schema), params)
        choice = reply.choices[0]
        text = choice.message.content or ""
        if json_schema is not None and self._mode == "function_calling" and choice.message.tool_calls:
            text = choice.message.tool_calls[0].function.arguments
        usage = reply.usage or _Usage()
        return Completion(
            text=text,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            seconds=time.perf_counter() - started,
            model=reply.model or self.model_name,
            backend=self.kind,
            finish_reason=choice.finish_reason or "stop",
        )

    def complete_many(self, requests: Sequence[CompletionRequest]) -> list[Completion]:
        """Concurrent requests: the server (vLLM) batches them on the GPU."""
        if not self._warm:
            self.warm_up()
        with ThreadPoolExecutor(max_workers=self.config.concurrency) as pool:
            return list(
                pool.map(
                    lambda r: self.complete(r.messages, json_schema=r.json_schema, params=r.params), requests
                )
            )


BACKEND = BackendRegistration(
    OpenAIConfig,
    OpenAICompatBackend,
    "Any OpenAI-compatible chat server (vllm serve, llama.cpp's server) over HTTP: JSON schemas through "
    "response_format or a forced tool, retries with backoff, bounded replies. Serves `concurrency` calls "
    "at once.",
)
