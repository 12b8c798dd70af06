"""The ``openai`` backend over real HTTP: against a real ``llama_cpp.server`` with the embedded model (the
same protocol production uses with ``vllm serve``), and against a recording endpoint that pins the exact
request bodies vLLM receives."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from agents.channels import load_channels
from agents.schema import inline_refs
from backends import BackendError, create_backend
from backends.embedded_model import embedded_model_path
from backends.openai_compat import OpenAIConfig
from knowledge.brand import load_brand
from knowledge.embedders import get_embedder
from knowledge.index import FaissKnowledgeIndex, default_index_dir
from tests.conftest import EXAMPLES
from tests.servers import chat_response, llama_cpp_server, recording_openai_server


class Headline(BaseModel):
    model_config = ConfigDict(extra="forbid")
    headline: str = Field(max_length=40)
    tags: list[str] = Field(max_length=2)


SCHEMA = inline_refs(Headline.model_json_schema())
MESSAGES = [
    {"role": "system", "content": "You write ad headlines."},
    {"role": "user", "content": "A headline for fresh coffee, as JSON."},
]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("server") / "llama_server.log"
    with llama_cpp_server(embedded_model_path(), "qwen-embedded", log) as base_url:
        yield base_url


@pytest.mark.server
@pytest.mark.llm
def test_auto_mode_falls_back_to_llama_cpp_schema_form(llama_server: str) -> None:
    backend = create_backend(OpenAIConfig(base_url=llama_server, max_tokens=80))
    completion = backend.complete(MESSAGES, json_schema=SCHEMA)
    assert backend.structured_mode == "json_object_schema"  # llama.cpp refused json_schema; remembered
    Headline.model_validate_json(completion.text)
    assert (
        completion.model == "qwen-embedded" and backend.model_name == "qwen-embedded"
    )  # discovered via /models
    assert completion.prompt_tokens > 0 and completion.completion_tokens > 0


@pytest.mark.server
@pytest.mark.llm
@pytest.mark.parametrize("mode", ["json_object_schema", "function_calling"])
def test_explicit_modes_against_llama_server(llama_server: str, mode: str) -> None:
    backend = create_backend(OpenAIConfig(base_url=llama_server, structured_output=mode, max_tokens=80))
    Headline.model_validate_json(backend.complete(MESSAGES, json_schema=SCHEMA).text)


@pytest.mark.unit
def test_json_schema_body_is_what_vllm_expects() -> None:
    with recording_openai_server(
        lambda body, n: (200, chat_response('{"headline": "Fresh", "tags": []}'))
    ) as (url, bodies):
        backend = create_backend(OpenAIConfig(base_url=url, model="served", seed=3, repeat_penalty=1.15))
        completion = backend.complete(MESSAGES, json_schema=SCHEMA)
    body = bodies[0]
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": SCHEMA, "strict": True},
    }
    assert body["model"] == "served" and body["seed"] == 3 and body["messages"][0]["role"] == "system"
    assert body["repetition_penalty"] == 1.15  # vLLM's name for it
    assert backend.structured_mode == "json_schema"
    assert (completion.prompt_tokens, completion.completion_tokens) == (11, 7)


@pytest.mark.unit
def test_llama_cpp_body_and_function_calling_body() -> None:
    tool_answer = chat_response("")
    tool_answer["choices"][0]["message"]["tool_calls"] = [
        {
            "id": "c1",
            "type": "function",
            "function": {"name": "respond", "arguments": json.dumps({"headline": "Hi", "tags": ["a"]})},
        }
    ]
    with recording_openai_server(lambda body, n: (200, tool_answer)) as (url, bodies):
        backend = create_backend(OpenAIConfig(base_url=url, model="m", structured_output="function_calling"))
        assert json.loads(backend.complete(MESSAGES, json_schema=SCHEMA).text) == {
            "headline": "Hi",
            "tags": ["a"],
        }
    assert bodies[0]["tools"][0]["function"]["parameters"] == SCHEMA
    assert bodies[0]["tool_choice"] == {"type": "function", "function": {"name": "respond"}}

    with recording_openai_server(lambda body, n: (200, chat_response("{}"))) as (url, bodies):
        create_backend(
            OpenAIConfig(base_url=url, model="m", structured_output="json_object_schema")
        ).complete(MESSAGES, json_schema=SCHEMA)
    assert bodies[0]["response_format"] == {"type": "json_object", "schema": SCHEMA}


@pytest.mark.unit
def test_transient_errors_are_retried_then_succeed() -> None:
    def flaky(body: dict, n: int) -> tuple[int, dict]:
        return (503, {"error": {"message": "overloaded"}}) if n == 1 else (200, chat_response("{}"))

    with recording_openai_server(flaky) as (url, bodies):
        backend = create_backend(OpenAIConfig(base_url=url, model="m", max_retries=2))
        assert backend.complete(MESSAGES).text == "{}"
    assert len(bodies) == 2


@pytest.mark.unit
def test_unreachable_server_is_a_backend_error() -> None:
    from tests.servers import free_port

    backend = create_backend(
        OpenAIConfig(base_url=f"http://127.0.0.1:{free_port()}/v1", model="m", max_retries=0)
    )
    with pytest.raises(BackendError, match="cannot reach"):
        backend.complete(MESSAGES)


@pytest.mark.server
@pytest.mark.llm
@pytest.mark.slow
def test_campaign_and_batch_through_the_server(llama_server: str, tmp_path: Path) -> None:
    """``brandforge batch`` runs a campaign against a real OpenAI-compatible server: every call goes there,
    the reply keeps its channel's limits and cites passages of the brand's real index. One item of one
    channel (the batch runner's concurrency is tested on the fake backend and on Ray; two items at once on
    this one-slot server took 15 minutes, each request evicting the other's prompt cache; a separate
    two-channel campaign here took 5.5 minutes, so the batch's campaign is the one checked)."""
    import io

    from pipelines.batch import run_batch

    root = tmp_path / "tidewater"
    shutil.copytree(EXAMPLES / "tidewater", root, ignore=shutil.ignore_patterns(".brandforge"))
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(json.dumps({"id": "tidewater", "brand": str(root), "channels": ["cs_reply"]}) + "\n")
    # concurrency 1: llama-cpp-python's server answers one request at a time, so requests sent at once
    # would only queue there (against the reply timeout) and evict each other's prompt prefix.
    summary = run_batch(
        jobs,
        tmp_path / "run",
        backend_overrides={"kind": "openai", "base_url": llama_server, "concurrency": 1},
        concurrency=1,
        progress_stream=io.StringIO(),
    )
    assert (summary.succeeded, summary.failed, summary.exit_code) == (1, 0, 0)
    lines = [json.loads(line) for line in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in lines] == ["tidewater"]
    campaign = lines[0]["campaign"]
    assert campaign["backend"] == "openai" and campaign["model"] == "qwen-embedded"
    assert {t["backend"] for t in campaign["trace"]} == {"openai"}
    (piece,) = campaign["pieces"]
    assert piece["channel"] == "cs_reply" and piece["fields"]["reply"].strip()
    assert piece["compliance"]["verdict"] != "blocked", piece["compliance"]["findings"]
    spec = load_channels()["cs_reply"]
    for name, text in piece["fields"].items():
        assert spec.field(name).violations(text) == []
    index = FaissKnowledgeIndex.load(default_index_dir(load_brand(root)), get_embedder("use-multilingual"))
    assert all(index.get(c) for c in piece["citations"])


@pytest.mark.server
@pytest.mark.llm
def test_eval_case_through_the_server(llama_server: str, tmp_path: Path) -> None:
    """An eval case (the reviewer in isolation) answered by a real server, then from the cache."""
    from pipelines.evals import load_suites, run_evals

    suites = load_suites([Path(__file__).resolve().parent.parent / "evals" / "agents.yaml"])

    def run():
        return run_evals(
            suites,
            backend_overrides={"kind": "openai", "base_url": llama_server},
            cache_dir=tmp_path / "cache",
            only=lambda c: c.id == "reviewer-sends-back-overlong-headline",
        )

    first = run()
    (result,) = first.results
    assert result.ok and first.model_calls > 0 and first.backend == "openai"
    again = run()
    assert again.model_calls == 0 and again.results[0].pass_rate == result.pass_rate
