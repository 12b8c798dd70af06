"""The fake backend is deterministic and schema-valid, so orchestration tests mean something."""

from __future__ import annotations

import time
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from agents.schema import inline_refs
from backends import BackendError, create_backend, get_backend
from backends.fake import FakeConfig
from backends.llamacpp import LlamaCppConfig
from backends.openai_compat import OpenAIConfig
from backends.vllm_inprocess import VLLMConfig

pytestmark = pytest.mark.unit


class Item(BaseModel):
    name: Annotated[str, Field(min_length=5, max_length=12)]
    tags: Annotated[list[Literal["P1", "P2", "P3"]], Field(max_length=2)]
    score: Literal[1, 2, 3, 4, 5]


class Out(BaseModel):
    items: Annotated[list[Item], Field(min_length=3, max_length=5)]
    ok: bool
    ratio: Annotated[float, Field(ge=0, le=1)]


def test_schema_valid_and_deterministic() -> None:
    backend = create_backend(FakeConfig())
    schema = inline_refs(Out.model_json_schema())
    messages = [{"role": "user", "content": "hello"}]
    a = backend.complete(messages, json_schema=schema)
    b = backend.complete(messages, json_schema=schema)
    c = backend.complete([{"role": "user", "content": "other"}], json_schema=schema)
    assert a.text == b.text and a.text != c.text
    Out.model_validate_json(a.text)
    Out.model_validate_json(c.text)


def test_delay() -> None:
    backend = create_backend(FakeConfig(delay_s=0.05))
    started = time.perf_counter()
    backend.complete([{"role": "user", "content": "x"}])
    assert time.perf_counter() - started >= 0.05


def test_backends_are_shared_per_config() -> None:
    assert get_backend(FakeConfig()) is get_backend(FakeConfig(temperature=0.9))
    assert get_backend(FakeConfig()) is not get_backend(FakeConfig(delay_s=0.01))


def test_misconfigured_backends_fail_clearly(tmp_path) -> None:
    with pytest.raises(BackendError, match="needs base_url"):
        create_backend(OpenAIConfig())
    with pytest.raises(BackendError, match=r"needs backend\.model"):
        create_backend(VLLMConfig())
    backend = create_backend(LlamaCppConfig(model=str(tmp_path / "missing.gguf")))
    with pytest.raises(BackendError, match=r"GGUF file .* not found"):
        backend.warm_up()
