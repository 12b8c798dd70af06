"""vLLM in-process: runs only on a CUDA machine with the ``gpu`` extra and a local model
(``BRANDFORGE_VLLM_MODEL``); skips cleanly everywhere else."""

from __future__ import annotations

import importlib.util
import os

import pytest
from pydantic import BaseModel, ConfigDict, Field

from agents.schema import inline_refs
from backends import CompletionRequest, GenerationParams, create_backend
from backends.vllm_inprocess import VLLMConfig

pytestmark = pytest.mark.gpu


def _gpu_ready() -> str | None:
    if importlib.util.find_spec("vllm") is None:
        return "vllm is not installed (pip install -e '.[gpu]')"
    import torch

    if not torch.cuda.is_available():
        return "no CUDA GPU"
    if not os.environ.get("BRANDFORGE_VLLM_MODEL"):
        return "set BRANDFORGE_VLLM_MODEL to a local model folder or cached HF id"
    return None


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")
    headline: str = Field(max_length=30)


@pytest.mark.skipif(_gpu_ready() is not None, reason=_gpu_ready() or "")
def test_batch_with_structured_outputs() -> None:
    backend = create_backend(VLLMConfig(model=os.environ["BRANDFORGE_VLLM_MODEL"], n_ctx=4096))
    schema = inline_refs(Out.model_json_schema())
    requests = [
        CompletionRequest(
            [{"role": "user", "content": f"Headline #{i} for fresh coffee as JSON"}],
            schema,
            GenerationParams(max_tokens=60),
        )
        for i in range(8)
    ]
    results = backend.complete_many(requests)
    assert len(results) == 8
    for r in results:
        assert len(Out.model_validate_json(r.text).headline) <= 30 and r.completion_tokens > 0


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_without_vllm_the_backend_says_how_to_get_it() -> None:
    """On a CPU install, creating the backend works (vllm is imported lazily) and using it explains."""
    from backends import BackendError

    backend = create_backend(VLLMConfig(model="any"))
    with pytest.raises(BackendError, match=r"needs the gpu extra"):
        backend.complete([{"role": "user", "content": "hi"}])
