"""LLM backends: one small interface, chosen by configuration.

``get_backend(config)`` returns the shared backend for a :class:`BackendConfig` (one model load per
process). Kinds: ``llamacpp`` (embedded default), ``openai`` (any OpenAI-compatible server: vLLM,
llama.cpp), ``vllm`` (in-process, GPU), ``fake`` (deterministic, for tests and dry runs).
"""

from __future__ import annotations

import threading

from backends.base import (
    BackendConfig,
    BackendError,
    ChatMessage,
    Completion,
    CompletionRequest,
    GenerationParams,
    LLMBackend,
    WrappedBackend,
)

BACKEND_KINDS = ("llamacpp", "openai", "vllm", "fake")
_cache: dict[tuple, LLMBackend] = {}
_batched: dict[tuple, LLMBackend] = {}
_lock = threading.Lock()


def create_backend(config: BackendConfig) -> LLMBackend:
    """A new, unshared backend for ``config`` (its model is loaded on first use)."""
    if config.kind == "llamacpp":
        from backends.llamacpp import LlamaCppBackend

        return LlamaCppBackend(config)
    if config.kind == "openai":
        from backends.openai_compat import OpenAICompatBackend

        return OpenAICompatBackend(config)
    if config.kind == "vllm":
        from backends.vllm_inprocess import VLLMBackend

        return VLLMBackend(config)
    if config.kind == "fake":
        from backends.fake import FakeBackend

        return FakeBackend(config)
    raise BackendError(f"unknown backend {config.kind!r}; valid choices: {list(BACKEND_KINDS)}")


def get_backend(config: BackendConfig) -> LLMBackend:
    """The process-wide backend for ``config``: models load once and are reused across campaigns."""
    key = config.cache_key()
    with _lock:
        backend = _cache.get(key)
        if backend is None:
            backend = _cache[key] = create_backend(config)
    return backend


def get_batched_backend(config: BackendConfig) -> LLMBackend:
    """The shared backend behind a process-wide micro-batcher: concurrent calls from many threads (batch
    items) reach ``complete_many`` together — for vLLM in-process, one engine batch."""
    from backends.batching import MicroBatchingBackend

    key = config.cache_key()
    backend = get_backend(config)
    with _lock:
        batched = _batched.get(key)
        if batched is None:
            batched = _batched[key] = MicroBatchingBackend(backend)
    return batched


__all__ = [
    "BACKEND_KINDS",
    "BackendConfig",
    "BackendError",
    "ChatMessage",
    "Completion",
    "CompletionRequest",
    "GenerationParams",
    "LLMBackend",
    "WrappedBackend",
    "create_backend",
    "get_backend",
    "get_batched_backend",
]
