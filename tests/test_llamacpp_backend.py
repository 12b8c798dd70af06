"""The embedded llama.cpp backend with the real model: grammar-constrained JSON, KV-cache reuse of a
shared prefix, accounting."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field

from agents.backends import BackendConfig, get_backend
from agents.backends.llamacpp import grammar_safe_schema
from agents.base import inline_refs

pytestmark = pytest.mark.llm


class Ad(BaseModel):
    model_config = ConfigDict(extra="forbid")
    citations: list[str] = Field(max_length=2, json_schema_extra={"items": {"enum": ["P1", "P2"]}})
    headline: str = Field(max_length=30)


def test_schema_is_enforced_and_prefix_is_reused() -> None:
    backend = get_backend(BackendConfig(kind="llamacpp"))
    system = {"role": "system", "content": "You write ads for Tidewater Coffee Roasters. " * 30}
    schema = inline_refs(Ad.model_json_schema())
    first = backend.complete(
        [system, {"role": "user", "content": "A headline about freshness, as JSON."}], json_schema=schema
    )
    second = backend.complete(
        [system, {"role": "user", "content": "A headline about the roaster, as JSON."}], json_schema=schema
    )
    for completion in (first, second):
        ad = Ad.model_validate_json(completion.text)
        assert len(ad.headline) <= 30 and set(ad.citations) <= {"P1", "P2"}
        assert completion.backend == "llamacpp" and completion.model.endswith(".gguf")
        assert completion.prompt_tokens > 300 and completion.completion_tokens > 0
        assert completion.prompt_seconds is not None and completion.generation_seconds is not None
    # The second call re-evaluates only what follows the shared system message.
    assert second.cached_prompt_tokens > 0.8 * second.prompt_tokens
    assert second.prompt_seconds < first.prompt_seconds


def test_prefix_reuse_can_be_turned_off_for_benchmarks() -> None:
    backend = get_backend(BackendConfig(kind="llamacpp", prefix_reuse=False, max_tokens=16))
    system = {"role": "system", "content": "You write ads for Tidewater Coffee Roasters. " * 30}
    backend.complete([system, {"role": "user", "content": "Say hi."}])
    second = backend.complete([system, {"role": "user", "content": "Say hello."}])
    assert second.prompt_tokens > 300 and second.cached_prompt_tokens == 0  # all evaluated again


def test_long_bounds_are_left_to_max_tokens() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string", "maxLength": 5000}, "b": {"type": "string", "maxLength": 30}},
    }
    safe = grammar_safe_schema(schema)
    assert "maxLength" not in safe["properties"]["a"] and safe["properties"]["b"]["maxLength"] == 30


def test_grammar_is_checked_on_the_sampled_token_and_enforced_when_it_refuses() -> None:
    """The fast path (grammar asked about the sampled token only) still forces the grammar: the model
    wants to answer in prose, the schema only allows two made-up words; the refused tokens are resampled
    over the whole vocabulary."""
    import json

    schema = {
        "type": "object",
        "properties": {"answer": {"enum": ["zebra-17", "quokka-42"]}, "n": {"type": "integer"}},
        "required": ["answer", "n"],
    }
    messages = [{"role": "user", "content": "What colour is the sky? Answer in one full sentence."}]
    backend = get_backend(BackendConfig(kind="llamacpp", max_tokens=24))
    backend.warm_up()
    out = json.loads(backend.complete(messages, json_schema=schema).text)
    assert out["answer"] in {"zebra-17", "quokka-42"} and isinstance(out["n"], int)
    sampler = backend._llama.last_sampler  # type: ignore[attr-defined]
    assert sampler.tokens > 0 and 0 < sampler.rejections < sampler.tokens
    # Free text is sampled by llama-cpp-python's own chain, untouched.
    assert backend.complete(messages).text.strip()
