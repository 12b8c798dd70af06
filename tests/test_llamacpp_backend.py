"""The embedded llama.cpp backend with the real model: grammar-constrained JSON, KV-cache reuse of a
shared prefix, accounting."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field

from agents.schema import inline_refs
from backends import GenerationParams, create_backend, get_backend
from backends.llamacpp import LlamaCppConfig, grammar_safe_schema

pytestmark = pytest.mark.llm


class Ad(BaseModel):
    model_config = ConfigDict(extra="forbid")
    citations: list[str] = Field(max_length=2, json_schema_extra={"items": {"enum": ["P1", "P2"]}})
    headline: str = Field(max_length=30)


def test_schema_is_enforced_and_prefix_is_reused() -> None:
    # No prompt cache on disk: this test is about the KV cache in memory (and forgetting it).
    backend = get_backend(LlamaCppConfig(prompt_cache_mb=0))
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
    # Benchmarks start each run cold.
    backend.forget_prompts()
    cold = backend.complete(
        [system, {"role": "user", "content": "Say hi."}], params=GenerationParams(max_tokens=4)
    )
    assert cold.cached_prompt_tokens == 0


def test_prefix_reuse_can_be_turned_off_for_benchmarks() -> None:
    backend = get_backend(LlamaCppConfig(prefix_reuse=False, max_tokens=16))
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
    backend = get_backend(LlamaCppConfig(max_tokens=24))
    backend.warm_up()
    out = json.loads(backend.complete(messages, json_schema=schema).text)
    assert out["answer"] in {"zebra-17", "quokka-42"} and isinstance(out["n"], int)
    sampler = backend._llama.last_sampler  # type: ignore[attr-defined]
    assert sampler.tokens > 0 and 0 < sampler.rejections < sampler.tokens
    # Free text is sampled by llama-cpp-python's own chain, untouched.
    assert backend.complete(messages).text.strip()


def test_a_conversation_continues_from_its_saved_state_after_another_one() -> None:
    """Thread A, then thread B (same system message), then A again with its answer and a new turn: the
    third call restores A's saved KV state, so only the new turn is evaluated. With the saved states
    off, the same call evaluates A's first turn and answer again. Only answers marked ``continued``
    (a conversation goes on from them) are saved."""
    system = {"role": "system", "content": "You write ads for Tidewater Coffee Roasters. " * 30}
    a1 = {"role": "user", "content": "Write a headline about freshness. " + "Keep it warm and plain. " * 8}
    b1 = {"role": "user", "content": "Write a headline about the roaster. " + "Keep it short and calm. " * 8}
    follow = {"role": "user", "content": "Now make it shorter."}
    evaluated = {}
    for mb in (1024, 0):
        # A backend of its own: the shared one holds earlier tests' states.
        config = LlamaCppConfig(max_tokens=24, kv_state_cache_mb=mb, prompt_cache_mb=0)
        backend = create_backend(config)
        first = backend.complete([system, a1], params=GenerationParams(max_tokens=24, continued=True))
        backend.complete([system, b1])  # not continued: not saved
        again = backend.complete([system, a1, {"role": "assistant", "content": first.text}, follow])
        evaluated[mb] = again.prompt_tokens - again.cached_prompt_tokens
        if mb:
            states = backend._llama.kv_states  # type: ignore[attr-defined]
            assert states.restores == 1 and len(states) == 1 and states.size_bytes > 0
        backend.close()
    # Off: a1 (~60 tokens) and the answer are evaluated again; on: only the new turn (~20 tokens).
    assert evaluated[1024] < 30 < evaluated[0]


def test_a_system_messages_state_is_kept_on_disk_for_a_later_process(tmp_path) -> None:
    """The first continued call of a system message writes its KV state to the prompt cache; a cold
    start (here: everything in memory dropped, as in a new process) loads it instead of evaluating the
    system message again. A damaged file is deleted and the prompt evaluated as usual."""
    system = {"role": "system", "content": "You write ads for Tidewater Coffee Roasters in Maine. " * 25}
    backend = create_backend(LlamaCppConfig(prompt_cache_dir=str(tmp_path)))
    params = GenerationParams(max_tokens=8, continued=True)

    def ask(text: str):
        return backend.complete([system, {"role": "user", "content": text}], params=params)

    first = ask("Say hi.")
    files = list(tmp_path.glob("*.kvstate"))
    assert first.cached_prompt_tokens == 0 and len(files) == 1
    backend.forget_prompts()
    again = ask("Say hello.")
    assert again.cached_prompt_tokens > 0.8 * again.prompt_tokens
    assert backend._llama.state_files.loads == 1  # type: ignore[attr-defined]
    assert list(tmp_path.glob("*.kvstate")) == files  # not written twice
    files[0].write_bytes(b"not a llama.cpp state")
    backend.forget_prompts()
    third = ask("Say hey.")
    assert third.cached_prompt_tokens == 0 and third.completion_tokens > 0
    assert files[0].stat().st_size > 1000  # written again from the fresh evaluation
    backend.close()


@pytest.mark.parametrize("align", [True, False])
def test_an_answer_split_unlike_the_tokenizer_still_continues_its_saved_state(
    align: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model can sample a split of its answer that the tokenizer would not choose; the next prompt of
    that conversation tokenizes the answer canonically. The saved state is matched by its text, so only
    the new turn is evaluated (with matching by tokens only, the answer is evaluated again)."""
    from backends.kv_states import KVStateCache

    if not align:
        monkeypatch.setattr(KVStateCache, "align", lambda self, llama, tokens: list(tokens))
    system = {"role": "system", "content": "You write copy for Wanderly, a slow-travel company. " * 20}
    user = {"role": "user", "content": "Write a one-line tagline."}
    answer = "Unhurried journeys, experienced with local guides and small groups."
    backend = create_backend(LlamaCppConfig(max_tokens=16, prompt_cache_mb=0))
    first = backend.complete([system, user], params=GenerationParams(max_tokens=1))
    llama = backend._llama  # type: ignore[attr-defined]
    prompt = llama.input_ids[: first.prompt_tokens].tolist()
    # The answer one character per token: the same text, split as no tokenizer would.
    split = [t for ch in answer for t in llama.tokenize(ch.encode(), add_bos=False)]
    canonical = llama.tokenize(answer.encode(), add_bos=False)
    assert split != canonical
    llama.keep_state = True
    next(llama.generate(prompt + split, temp=0.0))  # evaluate it and save the state, as after an answer
    assert len(llama.kv_states) == 1
    follow = {"role": "user", "content": "Now make it shorter."}
    again = backend.complete([system, user, {"role": "assistant", "content": answer}, follow])
    evaluated = again.prompt_tokens - again.cached_prompt_tokens
    aligned = llama.kv_states.aligned
    backend.close()
    if align:
        assert evaluated < 20 and aligned == 1  # only the new turn: "<|im_end|>", "user", "Now make ..."
    else:
        assert evaluated > len(canonical)
