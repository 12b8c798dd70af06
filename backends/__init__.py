"""LLM backends: one small interface, chosen by configuration.

``get_backend(config)`` returns the shared backend for a :data:`BackendConfig` (one model load per
process). The kinds, their config models and descriptions are in :mod:`backends.registry` (one module per
backend, found there; ``docs/backends.md`` lists them): ``llamacpp`` (embedded default), ``openai`` (any
OpenAI-compatible server: vLLM, llama.cpp), ``vllm`` (in-process, GPU), ``langchain`` (any LangChain
chat model), ``fake`` (deterministic, for tests and dry runs).
"""

from __future__ import annotations

import threading

from backends.base import (
    BackendError,
    BackendRegistration,
    BaseBackendConfig,
    ChatMessage,
    Completion,
    CompletionRequest,
    GenerationParams,
    LLMBackend,
    RayResources,
    WrappedBackend,
)
from backends.langchain_chat import LangChainChatBackend, as_backend
from backends.registry import (
    DEFAULT_KIND,
    ENV_OVERRIDES,
    BackendConfig,
    backend_kinds,
    backend_overrides,
    create_backend,
    default_backend_config,
    micro_batches,
    resolve_backend,
    resources,
    validate_backend_config,
)

_cache: dict[tuple[str, str], LLMBackend] = {}
_batched: dict[tuple[str, str], LLMBackend] = {}
_lock = threading.Lock()


def get_backend(config: BaseBackendConfig) -> LLMBackend:
    """The process-wide backend for ``config``: models load once and are reused across campaigns."""
    key = config.cache_key()
    with _lock:
        backend = _cache.get(key)
        if backend is None:
            backend = _cache[key] = create_backend(config)
    return backend


def get_batched_backend(config: BaseBackendConfig) -> LLMBackend:
    """The shared backend behind a process-wide micro-batcher: concurrent calls from many threads (batch
    items) reach ``complete_many`` together, up to its ``max_concurrency`` — for vLLM in-process, one
    engine batch."""
    from backends.batching import MicroBatchingBackend

    key = config.cache_key()
    backend = get_backend(config)
    with _lock:
        batched = _batched.get(key)
        if batched is None:
            batched = _batched[key] = MicroBatchingBackend(backend, max_batch=backend.max_concurrency)
    return batched


def get_concurrent_backend(config: BaseBackendConfig) -> LLMBackend:
    """The shared backend to call from up to its ``max_concurrency`` threads at once: behind the
    micro-batcher for kinds whose engine batches in this process (vllm), else :func:`get_backend`."""
    return get_batched_backend(config) if micro_batches(config) else get_backend(config)


__all__ = [
    "DEFAULT_KIND",
    "ENV_OVERRIDES",
    "BackendConfig",
    "BackendError",
    "BackendRegistration",
    "BaseBackendConfig",
    "ChatMessage",
    "Completion",
    "CompletionRequest",
    "GenerationParams",
    "LLMBackend",
    "LangChainChatBackend",
    "RayResources",
    "WrappedBackend",
    "as_backend",
    "backend_kinds",
    "backend_overrides",
    "create_backend",
    "default_backend_config",
    "get_backend",
    "get_batched_backend",
    "get_concurrent_backend",
    "micro_batches",
    "resolve_backend",
    "resources",
    "validate_backend_config",
]
