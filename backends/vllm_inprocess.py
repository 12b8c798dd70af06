"""vLLM in-process (``vllm.LLM``) for high-throughput batch work on a GPU (``gpu`` extra).

Contract: ``vllm`` is imported in :meth:`warm_up`, never at module import, so CPU installs never need it.
The engine is created once per process with prefix caching on (campaign prompts share their brand
context). JSON schemas use vLLM's structured outputs (``StructuredOutputsParams(json=...)``).
:meth:`complete_many` submits all requests in one ``LLM.chat`` call so the engine batches them; calls are
serialised with a lock (``vllm.LLM`` is not thread-safe), so concurrent callers reach the GPU together
only behind :class:`~backends.batching.MicroBatchingBackend` (:func:`backends.get_concurrent_backend`),
which gathers up to ``concurrency`` of them into one batch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

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
)


class VLLMConfig(BaseBackendConfig):
    """vLLM's engine in this process (``vllm.LLM``), on CUDA GPUs; ``gpu`` extra."""

    kind: Literal["vllm"] = Field("vllm", description="Backend to use.")
    model: str | None = Field(None, description="Hugging Face model id or local model folder (required).")
    gpu_memory_utilization: float = Field(
        0.85, gt=0.0, le=1.0, description="Share of each GPU's memory the engine may take."
    )
    tensor_parallel_size: int = Field(
        1,
        ge=1,
        le=64,
        description="GPUs one engine spreads the model over (a batch worker asks Ray for as many).",
    )
    concurrency: int = Field(
        32,
        ge=1,
        le=1024,
        description="Concurrent calls gathered into one engine batch (max_concurrency).",
    )

    def resources(self) -> RayResources:
        return {"num_cpus": 1, "num_gpus": self.tensor_parallel_size}


class VLLMBackend(LLMBackend):
    kind = "vllm"
    config: VLLMConfig

    def __init__(self, config: VLLMConfig) -> None:
        super().__init__(config)
        if not config.model:
            raise BackendError("backend 'vllm' needs backend.model: a Hugging Face model id or local folder")
        self._llm: Any = None
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return str(self.config.model)

    @property
    def max_concurrency(self) -> int:
        return self.config.concurrency

    def warm_up(self) -> None:
        with self._lock:  # one engine per backend, even when several threads start it at once
            if self._llm is not None:
                return
            try:
                from vllm import LLM
            except ImportError:
                raise BackendError(
                    "backend 'vllm' needs the gpu extra on a CUDA machine: pip install -e '.[gpu]'"
                ) from None
            self._llm = LLM(
                model=self.config.model,
                enable_prefix_caching=True,
                gpu_memory_utilization=self.config.gpu_memory_utilization,
                seed=self.config.seed,
                max_model_len=self.config.n_ctx,
                tensor_parallel_size=self.config.tensor_parallel_size,
            )
            self._warm = True

    @staticmethod
    def sampling_params(json_schema: dict[str, Any] | None, params: GenerationParams) -> Any:
        from vllm import SamplingParams
        from vllm.sampling_params import StructuredOutputsParams

        return SamplingParams(
            temperature=params.temperature,
            top_p=params.top_p,
            repetition_penalty=params.repeat_penalty,
            max_tokens=params.max_tokens,
            seed=params.seed,
            structured_outputs=StructuredOutputsParams(json=json_schema) if json_schema is not None else None,
        )

    def _complete(
        self, messages: list[ChatMessage], json_schema: dict[str, Any] | None, params: GenerationParams
    ) -> Completion:
        return self.complete_many([CompletionRequest(messages, json_schema, params)])[0]

    def complete_many(self, requests: Sequence[CompletionRequest]) -> list[Completion]:
        if not self._warm:
            self.warm_up()
        started = time.perf_counter()
        with self._lock:
            outputs = self._llm.chat(
                [list(r.messages) for r in requests],
                sampling_params=[self.sampling_params(r.json_schema, r.params) for r in requests],
                use_tqdm=False,
            )
        seconds = (time.perf_counter() - started) / max(1, len(requests))
        return [
            Completion(
                text=out.outputs[0].text,
                prompt_tokens=len(out.prompt_token_ids or []),
                completion_tokens=len(out.outputs[0].token_ids),
                seconds=seconds,
                model=self.model_name,
                backend=self.kind,
                finish_reason=str(out.outputs[0].finish_reason or "stop"),
                cached_prompt_tokens=int(getattr(out, "num_cached_tokens", 0) or 0),
            )
            for out in outputs
        ]


BACKEND = BackendRegistration(
    VLLMConfig,
    VLLMBackend,
    "vLLM's engine in this process on CUDA GPUs (gpu extra), for batch work: concurrent calls are gathered "
    "into one engine batch, JSON schemas through vLLM's structured outputs.",
    micro_batch=True,
)
