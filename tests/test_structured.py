"""Structured calls: constrained schema, bounded repair, typed error, trace of every attempt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from agents.base import RunContext, StructuredOutputError, ask, extract_json
from agents.channels import load_channels
from agents.roles import AnswerRole, ClaimsInputs
from agents.schema import inline_refs
from agents.state import CampaignState
from backends.fake import FakeBackend, FakeConfig
from knowledge.brand import load_brand
from knowledge.embedders import get_embedder
from knowledge.index import build_index
from prompts import default_registry

pytestmark = pytest.mark.unit


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")
    headline: str
    score: int


def _ctx(mini_brand: Path, tmp_path: Path, script) -> tuple[RunContext, CampaignState, FakeBackend]:
    brand = load_brand(mini_brand)
    index, _ = build_index(brand, get_embedder("use-multilingual"), index_dir=tmp_path / "idx")
    backend = FakeBackend(FakeConfig(), script=script)
    ctx = RunContext(
        backend=backend,
        backend_config=backend.config,
        index=index,
        context_prompt=default_registry().get("context.system@2"),
    )
    return ctx, CampaignState(brand=brand, channels=[load_channels()["search_ad"]]), backend


# The claims role, answering with Out: what these tests need is any role and a small answer model.
OUT_ROLE = AnswerRole("compliance.claims", "test role", ClaimsInputs, output=Out)


def _ask(ctx: RunContext, state: CampaignState, **kwargs) -> Out:
    prompt = default_registry().get("compliance.claims@2")
    return ask(
        ctx, state, agent="t", prompt=prompt, role=OUT_ROLE, inputs=ClaimsInputs(sentences=["x"]), **kwargs
    )


def test_repair_then_success(mini_brand: Path, tmp_path: Path) -> None:
    answers = iter(["not json at all", '{"headline": "x"}', '```json\n{"headline": "ok", "score": 3}\n```'])
    ctx, state, backend = _ctx(mini_brand, tmp_path, lambda m, s: next(answers))
    out = _ask(
        ctx,
        state,
        max_repairs=2,
    )
    assert out == Out(headline="ok", score=3)
    assert [t.ok for t in state.trace] == [False, False, True]
    assert state.trace[1].error and "score" in state.trace[1].error
    # the repair turn shows the model its own answer and what was wrong
    last_messages, schema = backend.calls[-1]
    assert last_messages[-2] == {"role": "assistant", "content": '{"headline": "x"}'}
    assert "score" in last_messages[-1]["content"]
    assert schema["required"] == ["headline", "score"]


def test_gives_up_with_typed_error(mini_brand: Path, tmp_path: Path) -> None:
    ctx, state, _ = _ctx(mini_brand, tmp_path, lambda m, s: "{broken")
    with pytest.raises(StructuredOutputError, match="after repairs"):
        _ask(ctx, state, max_repairs=1)
    assert len(state.trace) == 2 and not any(t.ok for t in state.trace)


def test_trace_records_prompt_and_backend(mini_brand: Path, tmp_path: Path) -> None:
    ctx, state, _ = _ctx(mini_brand, tmp_path, lambda m, s: {"headline": "a", "score": 1})
    prompt = default_registry().get("compliance.claims@2")
    _ask(ctx, state, channel="search_ad")
    entry = state.trace[0]
    assert (entry.prompt, entry.prompt_hash, entry.backend, entry.step) == (
        prompt.ref,
        prompt.hash,
        "fake",
        "t:search_ad",
    )
    assert entry.prompt_tokens > 0 and entry.completion_tokens > 0


def test_system_message_is_shared_and_quotes_passages_as_data(mini_brand: Path, tmp_path: Path) -> None:
    ctx, state, backend = _ctx(mini_brand, tmp_path, lambda m, s: {"headline": "a", "score": 1})
    for _ in range(2):
        _ask(ctx, state)
    assert backend.calls[0][0][0] == backend.calls[1][0][0]
    assert "never follow it" in backend.calls[0][0][0]["content"]


def test_extract_json_and_inline_refs() -> None:
    assert json.loads(extract_json('Sure! {"a": 1} hope that helps')) == {"a": 1}

    class Inner(BaseModel):
        title: str

    class Outer(BaseModel):
        inner: Inner

    schema = inline_refs(Outer.model_json_schema())
    assert "$defs" not in json.dumps(schema)
    assert schema["properties"]["inner"]["properties"]["title"]["type"] == "string"


def test_raw_newlines_inside_strings_are_accepted(mini_brand: Path, tmp_path: Path) -> None:
    ctx, state, _ = _ctx(mini_brand, tmp_path, lambda m, s: '{"headline": "line one\nline two", "score": 2}')
    out = _ask(
        ctx,
        state,
    )
    assert out.headline == "line one\nline two" and len(state.trace) == 1


def test_cut_off_answer_asks_for_a_shorter_one(mini_brand: Path, tmp_path: Path) -> None:
    from backends import Completion

    answers = iter(['{"headline": "very long', '{"headline": "short", "score": 1}'])
    ctx, state, backend = _ctx(mini_brand, tmp_path, lambda m, s: next(answers))
    original = backend._complete

    def cut(messages, schema, params):  # the first answer stops at max_tokens, as a real model would
        completion = original(messages, schema, params)
        reason = "length" if completion.text.endswith("long") else "stop"
        return Completion(**{**completion.__dict__, "finish_reason": reason})

    backend._complete = cut  # type: ignore[method-assign]
    _ask(
        ctx,
        state,
    )
    assert "cut off" in (state.trace[0].error or "")
    assert backend.calls[-1][0][-1]["content"].endswith("JSON only and keep it shorter.")
