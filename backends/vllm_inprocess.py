"""vLLM in-process (``vllm.LLM``) for high-throughput batch work on a GPU (``gpu`` extra).

Contract: ``vllm`` is imported in :meth:`warm_up`, never at module import, so CPU installs never need it.
The engine is created once per process with prefix caching on (campaign prompts share their brand
context). JSON schemas use vLLM's structured outputs (``StructuredOutputsParams(json=...)``).
:meth:`complete_many` submits all requests in one ``LLM.chat`` call so the engine batches them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from backends.base import (
    BackendConfig,
    BackendError,
    ChatMessage,
    Completion,
    CompletionRequest,
    GenerationParams,
    LLMBackend,
)


class VLLMBackend(LLMBackend):
    kind = "vllm"

    def __init__(self, config: BackendConfig) -> None:
        super().__init__(config)
        if not config.model:
            raise BackendError("backend 'vllm' needs backend.model: a Hugging Face model id or local folder")
        self._llm: Any = None

    @property
    def model_name(self) -> str:
        return str(self.config.model)

    def warm_up(self) -> None:
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
