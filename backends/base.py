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
their own retry loop on top. Every numeric knob of a backend's config has a validated range.

Configuration: :class:`BaseBackendConfig` holds what every backend has (sampling defaults, context
window); each backend module subclasses it with its own fields and declares a
:class:`BackendRegistration` (see :mod:`backends.registry`). :attr:`LLMBackend.max_concurrency` says how
many calls a backend serves at once, so callers can fan work out without overrunning it.
"""

from __future__ import annotations

import dataclasses
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypedDict, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field

from core.errors import ServiceError


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


class BackendError(ServiceError):
    """The backend cannot serve requests (unreachable server, missing model file, missing extra)."""


class RayResources(TypedDict, total=False):
    """``ray.remote`` options for one batch worker."""

    num_cpus: float
    num_gpus: float


class BaseBackendConfig(BaseModel):
    """The settings every backend has: how to sample (the defaults of each call's
    :class:`GenerationParams`) and the context window agents budget conversations for. Each backend
    subclasses it in its own module with ``kind: Literal["<kind>"] = "<kind>"`` and its own fields;
    :data:`backends.BackendConfig` is the union of those subclasses, discriminated by ``kind``."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="Backend to use.")
    temperature: float = Field(0.3, ge=0.0, le=2.0, description="Sampling temperature.")
    top_p: float = Field(
        0.9, gt=0.0, le=1.0, description="Nucleus sampling: keep this much probability mass."
    )
    repeat_penalty: float = Field(
        1.1,
        ge=1.0,
        le=2.0,
        description="Penalty on repeated tokens; small Qwen models repeat themselves without it.",
    )
    max_tokens: int = Field(700, ge=16, le=32768, description="Longest answer, in tokens.")
    seed: int = Field(7, ge=0, le=2**32 - 1, description="Sampling seed (llama.cpp takes a uint32).")
    n_ctx: int = Field(
        8192,
        ge=512,
        le=131072,
        description="Context window in tokens: agents fit a conversation's earlier turns into it; in-process "
        "backends (llamacpp, vllm) also load the model with it.",
    )

    def cache_key(self) -> tuple[str, str]:
        """What identifies a loaded model or client: backends with equal keys are shared. Every setting
        counts except the per-call sampling ones (:data:`SAMPLING_FIELDS`), which each request carries."""
        identity = self.model_dump(mode="json", exclude=set(SAMPLING_FIELDS))
        return (self.kind, json.dumps(identity, sort_keys=True))

    def resources(self) -> RayResources:
        """What one batch worker using this backend needs from a Ray cluster (``ray.remote`` options)."""
        return {"num_cpus": 1}


BackendFactory = Callable[[Any], "LLMBackend"]


@dataclass(frozen=True)
class BackendRegistration:
    """How a backend module declares itself: ``BACKEND = BackendRegistration(Config, Factory, "...")`` at
    module level (found by :mod:`backends.registry`). ``factory`` builds an unshared backend from a
    validated ``config``; it must not load a model (that happens in ``warm_up``). ``micro_batch``: the
    backend's ``complete_many`` batches in one engine call, so concurrent callers share it through
    :class:`~backends.batching.MicroBatchingBackend`."""

    config: type[BaseBackendConfig]
    factory: BackendFactory
    description: str
    micro_batch: bool = False

    def __post_init__(self) -> None:
        kind_field = self.config.model_fields.get("kind")
        if kind_field is None or get_origin(kind_field.annotation) is not Literal:
            raise TypeError(f"{self.config.__name__}.kind must be a Literal of the backend's kind")
        if get_args(kind_field.annotation) != (kind_field.default,):
            raise TypeError(f"{self.config.__name__}.kind must default to its one Literal value")
        if self.config.model_config.get("extra") != "forbid":
            raise TypeError(f"{self.config.__name__} must forbid extra fields")

    @property
    def kind(self) -> str:
        return str(self.config.model_fields["kind"].default)


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
    def from_config(cls, config: BaseBackendConfig, **overrides: Any) -> GenerationParams:
        values = {k: getattr(config, k) for k in SAMPLING_FIELDS}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


# The per-call settings: a backend config's defaults for them, sent with every request, never part of what
# identifies a loaded backend.
SAMPLING_FIELDS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(GenerationParams) if f.name != "continued"
)


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

    def __init__(self, config: BaseBackendConfig) -> None:
        self.config = config
        self._warm = False

    @property
    @abstractmethod
    def model_name(self) -> str:
        """Model identifier recorded in the trace (for a server: the id it serves, known after warm-up)."""

    @property
    def max_concurrency(self) -> int:
        """How many calls this backend can usefully serve at once, from that many threads: callers that fan
        work out (a campaign's channels) stay at or under it. Default 1: one call at a time (an in-process
        model such as llama.cpp serialises calls anyway)."""
        return 1

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

    @property
    def max_concurrency(self) -> int:
        return self.inner.max_concurrency

    def warm_up(self) -> None:
        self.inner.warm_up()
        self._warm = True

    def forget_prompts(self) -> None:
        self.inner.forget_prompts()

    def close(self) -> None:
        self.inner.close()
