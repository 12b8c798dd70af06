"""llama.cpp in-process (llama-cpp-python): the embedded CPU default.

Contract: one ``Llama`` per model file per process, loaded in :meth:`warm_up`; calls are serialised
with a lock (a ``Llama`` is not thread-safe). JSON schemas go through llama.cpp's own constrained
decoding (``response_format={"type": "json_object", "schema": ...}`` → a GBNF grammar), which enforces
structure, enums and string lengths; the grammar is checked on the sampled token first
(:mod:`backends.grammar_sampling`), not on the whole vocabulary at every step. llama.cpp keeps the
previous prompt's KV cache and re-evaluates only what differs after the longest common prefix, so
prompts put the shared brand context first; with ``kv_state_cache_mb`` the KV states of earlier calls are
kept too (:mod:`backends.kv_states`), so a channel's conversation continues from its own last
call even when other channels' calls came in between; with ``prompt_cache_mb`` the state of a system
message (a brand's context) is also kept on disk for later processes.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from backends.base import (
    BackendError,
    BackendRegistration,
    BaseBackendConfig,
    ChatMessage,
    Completion,
    GenerationParams,
    LLMBackend,
)

# llama.cpp compiles maxLength N into N nested optional rules and refuses large N (then crashes using
# the missing grammar); longer bounds are dropped from the grammar and left to max_tokens + validation.
GRAMMAR_MAX_LENGTH = 300


def grammar_safe_schema(schema: Any) -> Any:
    """``schema`` without string/array length bounds llama.cpp's grammar compiler cannot take."""
    if isinstance(schema, dict):
        return {
            k: grammar_safe_schema(v)
            for k, v in schema.items()
            if not (
                k in ("maxLength", "minLength", "maxItems", "minItems")
                and isinstance(v, int)
                and v > GRAMMAR_MAX_LENGTH
            )
        }
    if isinstance(schema, list):
        return [grammar_safe_schema(v) for v in schema]
    return schema


class LlamaCppConfig(BaseBackendConfig):
    """llama.cpp in this process (llama-cpp-python), on the CPU: the embedded default."""

    kind: Literal["llamacpp"] = Field("llamacpp", description="Backend to use.")
    model: str | None = Field(
        None, description="Path to a GGUF file (default: the embedded Qwen2.5-Coder-1.5B-Instruct Q4_K_M)."
    )
    n_threads: int | None = Field(None, ge=1, le=1024, description="CPU threads (default: all cores).")
    prefix_reuse: bool = Field(
        True,
        description="Reuse the KV cache of the prompt prefix shared with the previous call (off: every "
        "prompt is evaluated from scratch; for benchmarks).",
    )
    grammar_fast_path: bool = Field(
        True,
        description="Check the JSON grammar on the sampled token and fall back to the whole vocabulary only "
        "when it is refused (off: llama-cpp-python's full-vocabulary check on every token; for benchmarks).",
    )
    kv_state_cache_mb: int = Field(
        1024,
        ge=0,
        le=1 << 16,
        description="RAM for the saved KV states of earlier calls, so a conversation continues from its "
        "own last call even when others came in between (0: off; needs prefix_reuse).",
    )
    prompt_cache_mb: int = Field(
        2048,
        ge=0,
        le=1 << 20,
        description="Disk space for the KV states of system messages (a brand's context), so a later "
        "process skips evaluating one it has seen (0: off; needs kv_state_cache_mb).",
    )
    prompt_cache_dir: str | None = Field(
        None, description="Where those states go (default: $BRANDFORGE_CACHE/prompt-states)."
    )


class LlamaCppBackend(LLMBackend):
    kind = "llamacpp"
    config: LlamaCppConfig

    def __init__(self, config: LlamaCppConfig) -> None:
        super().__init__(config)
        self._llama: Any = None
        self._lock = threading.Lock()
        self._path: Path | None = None

    @property
    def model_path(self) -> Path:
        if self._path is None:
            if self.config.model:
                self._path = Path(self.config.model).expanduser()
                if not self._path.is_file():
                    raise BackendError(
                        f"backend.model: GGUF file {str(self._path)!r} not found; expected a path "
                        "to a .gguf file (or leave it empty for the embedded model)"
                    )
            else:
                from backends.embedded_model import embedded_model_path

                self._path = embedded_model_path()
        return self._path

    @property
    def model_name(self) -> str:
        return self.model_path.name

    def warm_up(self) -> None:
        if self._llama is not None:
            return
        try:
            from llama_cpp import Llama

            from backends.grammar_sampling import llama_class
            from backends.kv_states import KVStateCache, PromptStateFiles, with_saved_states
        except ImportError:
            raise BackendError(
                "backend 'llamacpp' needs llama-cpp-python: pip install -e '.[embedded]'"
            ) from None
        path = self.model_path
        try:
            cls: type = Llama
            saved_states = self.config.prefix_reuse and self.config.kv_state_cache_mb > 0
            if saved_states:
                cls = with_saved_states(cls)
            if self.config.grammar_fast_path:
                cls = llama_class(cls)
            self._llama = cls(
                model_path=str(path),
                n_ctx=self.config.n_ctx,
                n_threads=self.config.n_threads or os.cpu_count() or 2,
                n_batch=512,
                seed=self.config.seed,
                # The repeat penalty looks back this many tokens; llama.cpp's default (64) is shorter than
                # the loops small models fall into in long Chinese text.
                last_n_tokens_size=256,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise BackendError(f"cannot load GGUF model {str(path)!r}: {exc}") from None
        if saved_states:
            self._llama.kv_states = KVStateCache(self.config.kv_state_cache_mb << 20)
            if self.config.prompt_cache_mb > 0:
                self._llama.state_files = PromptStateFiles(
                    self.prompt_cache_dir, self.config.prompt_cache_mb << 20, self._model_id(path)
                )
        # Free the model before interpreter teardown; llama-cpp-python's own finaliser fails that late.
        atexit.register(self.close)
        self._warm = True

    @property
    def prompt_cache_dir(self) -> Path:
        if self.config.prompt_cache_dir:
            return Path(self.config.prompt_cache_dir).expanduser()
        from core.files import cache_dir

        return cache_dir() / "prompt-states"

    @staticmethod
    def _model_id(path: Path) -> str:
        """What a saved KV state is only valid for: this model file, this llama.cpp build."""
        import llama_cpp

        stat = path.stat()
        return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|llama-cpp-python {llama_cpp.__version__}"

    def forget_prompts(self) -> None:
        with self._lock:
            if self._llama is not None:
                self._llama.reset()
                self._llama._ctx.kv_cache_clear()
                states = getattr(self._llama, "kv_states", None)
                if states is not None:
                    states.clear()

    def close(self) -> None:
        """Free the model; the backend loads it again on next use."""
        with self._lock:
            if self._llama is not None:
                self._llama.close()
                self._llama = None
                self._warm = False

    def _complete(
        self, messages: list[ChatMessage], json_schema: dict[str, Any] | None, params: GenerationParams
    ) -> Completion:
        response_format = (
            {"type": "json_object", "schema": grammar_safe_schema(json_schema)}
            if json_schema is not None
            else None
        )
        with self._lock:
            import llama_cpp

            raw_ctx = self._llama._ctx.ctx
            if not self.config.prefix_reuse:
                self._llama.reset()  # forget the evaluated tokens: the whole prompt is evaluated again
            self._llama.keep_state = params.continued  # saved for later calls of the same conversation
            files = getattr(self._llama, "state_files", None)
            self._llama.system_key = (
                files.key(messages[0]["content"])
                if files and messages and messages[0]["role"] == "system"
                else None
            )
            llama_cpp.llama_perf_context_reset(raw_ctx)
            started = time.perf_counter()
            try:
                result = self._llama.create_chat_completion(
                    messages=messages,
                    response_format=response_format,
                    temperature=params.temperature,
                    top_p=params.top_p,
                    repeat_penalty=params.repeat_penalty,
                    max_tokens=params.max_tokens,
                    seed=params.seed,
                )
            except ValueError as exc:  # e.g. prompt longer than the context window
                raise BackendError(f"llama.cpp refused the request: {exc}") from None
            seconds = time.perf_counter() - started
            perf = llama_cpp.llama_perf_context(raw_ctx)
        usage = result.get("usage", {})
        return Completion(
            text=result["choices"][0]["message"].get("content") or "",
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            seconds=seconds,
            model=self.model_name,
            backend=self.kind,
            # Tokens of this prompt not re-evaluated: the KV cache of the shared prefix was reused.
            finish_reason=str(result["choices"][0].get("finish_reason") or "stop"),
            cached_prompt_tokens=max(0, int(usage.get("prompt_tokens", 0)) - int(perf.n_p_eval)),
            prompt_seconds=perf.t_p_eval_ms / 1000.0,
            generation_seconds=perf.t_eval_ms / 1000.0,
        )


BACKEND = BackendRegistration(
    LlamaCppConfig,
    LlamaCppBackend,
    "llama.cpp in this process (llama-cpp-python) on the CPU, with JSON-schema grammars and KV-cache reuse; "
    "the embedded default. Serves one call at a time.",
)
