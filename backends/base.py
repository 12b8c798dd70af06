"""The one seam between agents and language models.

Contract: a backend turns chat messages into one :class:`Completion`. If ``json_schema`` is given the
backend must use its own constrained decoding (llama.cpp grammars, OpenAI/vLLM ``response_format``,
vLLM structured outputs) so the text is JSON matching the schema; parsing, validation and repair are the
caller's job (:mod:`agents.structured`). Token counts and wall time come back on every completion so the
trace can account for them. Backends load their model (or probe their server) in
:meth:`LLMBackend.warm_up`, never in ``__init__``, and are shared per process
(:func:`backends.get_backend`). After ``warm_up``, :attr:`LLMBackend.model_name` is the id of the
model that answers — for a server, the id the server reports — which traces and batch fingerprints
record.

Failures: a backend that cannot be reached or configured raises :class:`BackendError` (bad
configuration, the CLI exits 2), from ``warm_up`` when it can tell before any work; transient server
errors are retried inside the backend, at most ``max_retries`` times, with backoff — callers never add
their own retry loop on top. Every numeric knob of :class:`BackendConfig` has a validated range.
"""

from __future__ import annotations

import dataclasses
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


class BackendError(RuntimeError):
    """The backend cannot serve requests (unreachable server, missing model file, missing extra)."""


class BackendConfig(BaseModel):
    """Which model answers, and how. Pipeline YAML ``backend:``, overridden by env vars and CLI flags."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["llamacpp", "openai", "vllm", "fake"] = Field("llamacpp", description="Backend to use.")
    model: str | None = Field(
        None, description="GGUF path (llamacpp), served model name (openai), HF id (vllm)."
    )
    base_url: str | None = Field(
        None, description="OpenAI-compatible server URL, e.g. http://127.0.0.1:8000/v1."
    )
    api_key: str | None = Field(None, description="API key for the server; default from OPENAI_API_KEY.")
    structured_output: Literal["auto", "json_schema", "json_object_schema", "function_calling"] = Field(
        "auto",
        description="openai only: how the JSON schema is sent. auto tries OpenAI's json_schema (vLLM) and "
        "falls back to llama.cpp's json_object+schema when the server refuses it.",
    )
    temperature: float = Field(0.3, ge=0.0, le=2.0)
    top_p: float = Field(0.9, gt=0.0, le=1.0)
    repeat_penalty: float = Field(
        1.1, ge=1.0, le=2.0, description="Small Qwen models repeat themselves without it."
    )
    max_tokens: int = Field(700, ge=16, le=32768)
    seed: int = Field(7, ge=0, le=2**32 - 1, description="Sampling seed (llama.cpp takes a uint32).")
    n_ctx: int = Field(8192, ge=512, le=131072, description="llamacpp context window.")
    n_threads: int | None = Field(None, ge=1, le=1024, description="llamacpp threads (default: all cores).")
    # Why 300 s: the server answers only when the whole reply is generated. A CPU llama.cpp server
    # evaluating an 8k-token prompt and then writing max_tokens=700 at a few tokens per second needs a
    # few minutes; a GPU server needs seconds. A read timeout is not retried (the server is still busy
    # with the request), so one call waits at most this long for its answer.
    timeout_s: float = Field(
        300.0,
        ge=1.0,
        le=3600.0,
        description="openai only: seconds to wait for one reply (not retried: the server is still busy).",
    )
    connect_timeout_s: float = Field(
        5.0,
        ge=0.1,
        le=60.0,
        description="openai only: seconds to wait for a connection; a server that cannot even accept a "
        "connection in a few seconds is down or unreachable.",
    )
    max_retries: int = Field(
        2,
        ge=0,
        le=5,
        description="openai only: retries of transient errors (connection failures, 408, 429, 5xx), with "
        "exponential backoff; one call sends at most 1 + max_retries requests.",
    )
    concurrency: int = Field(4, ge=1, le=256, description="Parallel requests for complete_many (openai).")
    delay_s: float = Field(0.0, ge=0.0, le=60.0, description="fake only: simulated latency per call.")
    prefix_reuse: bool = Field(
        True,
        description="llamacpp only: reuse the KV cache of the prompt prefix shared with the previous call "
        "(off: every prompt is evaluated from scratch; for benchmarks).",
    )
    grammar_fast_path: bool = Field(
        True,
        description="llamacpp only: check the JSON grammar on the sampled token and fall back to the whole "
        "vocabulary only when it is refused (off: llama-cpp-python's full-vocabulary check on every "
        "token; for benchmarks).",
    )
    kv_state_cache_mb: int = Field(
        1024,
        ge=0,
        le=1 << 16,
        description="llamacpp only: RAM for the saved KV states of earlier calls, so a conversation "
        "continues from its own last call even when others came in between (0: off; needs prefix_reuse).",
    )
    prompt_cache_mb: int = Field(
        2048,
        ge=0,
        le=1 << 20,
        description="llamacpp only: disk space for the KV states of system messages (a brand's context), "
        "so a later process skips evaluating one it has seen (0: off; needs kv_state_cache_mb).",
    )
    prompt_cache_dir: str | None = Field(
        None, description="llamacpp only: where those states go (default: $BRANDFORGE_CACHE/prompt-states)."
    )
    gpu_memory_utilization: float = Field(0.85, gt=0.0, le=1.0, description="vllm only.")

    def cache_key(self) -> tuple[Any, ...]:
        """What identifies a loaded model: backends with equal keys are shared."""
        return (
            self.kind,
            self.model,
            self.base_url,
            # How a server is reached: two configs that differ here must not share one client.
            self.api_key,
            self.timeout_s,
            self.connect_timeout_s,
            self.max_retries,
            self.concurrency,
            self.n_ctx,
            self.n_threads,
            self.structured_output,
            self.delay_s,
            self.prefix_reuse,
            self.grammar_fast_path,
            self.kv_state_cache_mb,
            self.prompt_cache_mb,
            self.prompt_cache_dir,
            self.gpu_memory_utilization,
        )


@dataclass(frozen=True)
class GenerationParams:
    temperature: float = 0.3
    top_p: float = 0.9
    repeat_penalty: float = 1.1
    max_tokens: int = 700
    seed: int = 7
    # A hint, not a sampling setting: the conversation goes on from this answer (a threaded prompt), so a
    # backend that saves KV states (llamacpp) should keep this one. It never changes the answer.
    continued: bool = False

    def sampling(self) -> dict[str, Any]:
        """The settings that determine the answer (everything but hints), e.g. for cache keys."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "continued"}

    @classmethod
    def from_config(cls, config: BackendConfig, **overrides: Any) -> GenerationParams:
        values = {
            k: getattr(config, k) for k in ("temperature", "top_p", "repeat_penalty", "max_tokens", "seed")
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass(frozen=True)
class Completion:
    """One model answer with its accounting."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    model: str
    backend: str
    cached_prompt_tokens: int = 0
    finish_reason: str = "stop"  # "length" when max_tokens cut the answer off
    # Where the backend can tell (llama.cpp's perf counters): time spent evaluating the prompt vs decoding.
    prompt_seconds: float | None = None
    generation_seconds: float | None = None


@dataclass(frozen=True)
class CompletionRequest:
    messages: Sequence[ChatMessage]
    json_schema: dict[str, Any] | None = None
    params: GenerationParams = GenerationParams()


class LLMBackend(ABC):
    """Implement :meth:`_complete`; everything else has a working default."""

    kind: ClassVar[str]
    # True when the model runs elsewhere (a server): warming up is then a cheap probe, worth doing in a
    # process that only coordinates work (the batch driver); False when warming up loads the model here.
    remote: ClassVar[bool] = False

    def __init__(self, config: BackendConfig) -> None:
        self.config = config
        self._warm = False

    @property
    @abstractmethod
    def model_name(self) -> str:
        """Model identifier recorded in the trace (for a server: the id it serves, known after warm-up)."""

    def warm_up(self) -> None:
        """Load the model / check the server. Idempotent."""
        self._warm = True

    def forget_prompts(self) -> None:
        """Drop what the backend keeps of earlier prompts (KV caches), so the next call starts cold; for
        benchmarks that compare runs in one process. Answers never depend on it. Default: nothing kept."""
        return None

    def close(self) -> None:
        """Free what the backend holds (a loaded model, its caches); the next call loads it again.
        Default: nothing held."""
        return None

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        json_schema: dict[str, Any] | None = None,
        params: GenerationParams | None = None,
    ) -> Completion:
        """Answer one conversation; with ``json_schema`` the answer is constrained to it."""
        if not self._warm:
            self.warm_up()
        params = params or GenerationParams.from_config(self.config)
        started = time.perf_counter()
        completion = self._complete(list(messages), json_schema, params)
        if completion.seconds <= 0:
            completion = Completion(**{**completion.__dict__, "seconds": time.perf_counter() - started})
        return completion

    def complete_many(self, requests: Sequence[CompletionRequest]) -> list[Completion]:
        """Answer several independent conversations; backends that batch override this."""
        return [self.complete(r.messages, json_schema=r.json_schema, params=r.params) for r in requests]

    @abstractmethod
    def _complete(
        self, messages: list[ChatMessage], json_schema: dict[str, Any] | None, params: GenerationParams
    ) -> Completion:
        """Backend-specific call."""


class WrappedBackend(LLMBackend):
    """A backend that adds behaviour around another one (cache, limits, batching): same kind, same model;
    warming it warms the wrapped backend. Subclasses implement :meth:`_complete` using ``self.inner``."""

    def __init__(self, inner: LLMBackend) -> None:
        super().__init__(inner.config)
        self.inner = inner
        self.kind = inner.kind  # type: ignore[misc]
        self.remote = inner.remote  # type: ignore[misc]

    @property
    def model_name(self) -> str:
        return self.inner.model_name

    def warm_up(self) -> None:
        self.inner.warm_up()
        self._warm = True

    def forget_prompts(self) -> None:
        self.inner.forget_prompts()

    def close(self) -> None:
        self.inner.close()
