"""The ``langchain`` backend: any LangChain chat model behind BrandForge's one backend interface.

Orchestration runs on langchain_core's fake chat models (a whole campaign on one that answers through
LangChain's own ``with_structured_output`` tool-calling path); the request bodies of a real
``langchain_openai.ChatOpenAI`` are pinned against a recording endpoint; and one structured answer comes
from the real llama.cpp OpenAI-compatible server through ChatOpenAI (marked ``server``)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ConfigDict, Field

from agents.schema import inline_refs
from backends import BackendError, CompletionRequest, GenerationParams, as_backend, create_backend
from backends.embedded_model import embedded_model_path
from backends.fake import FakeBackend, FakeConfig
from backends.langchain_chat import LangChainChatBackend, LangChainConfig
from core.errors import InputError
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
USAGE = {"input_tokens": 31, "output_tokens": 9, "total_tokens": 40}


def _fake(*answers: AIMessage | str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter(answers))


class ToolFakeChat(GenericFakeChatModel):
    """A fake chat model with tool calling, so LangChain's own ``with_structured_output`` works on it."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)


class SchemaChat(BaseChatModel):
    """Answers every structured request through tool calling with JSON valid for the requested schema
    (BrandForge's fake backend makes it up), like a provider with native tool calling; records how many
    calls were in flight at once."""

    delay_s: float = 0.0
    calls: int = 0
    peak: int = 0
    _inflight: int = 0
    _lock: Any = None

    @property
    def _llm_type(self) -> str:
        return "schema-chat"

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        lock = self.__dict__.setdefault("_guard", threading.Lock())
        with lock:
            self.calls += 1
            self._inflight += 1
            self.peak = max(self.peak, self._inflight)
        try:
            time.sleep(self.delay_s)
            plain = [{"role": _ROLE[m.type], "content": str(m.content)} for m in messages]
            tools = kwargs.get("tools") or []
            if not tools:
                text = FakeBackend(FakeConfig()).complete(plain).text
                message = AIMessage(content=text, usage_metadata=USAGE)
            else:
                function = tools[0]["function"]
                args = json.loads(
                    FakeBackend(FakeConfig()).complete(plain, json_schema=function["parameters"]).text
                )
                call = {"name": function["name"], "args": args, "id": f"call-{self.calls}"}
                message = AIMessage(content="", tool_calls=[call], usage_metadata=USAGE)
            message.response_metadata = {"model_name": "schema-chat-1", "finish_reason": "stop"}
            return ChatResult(generations=[ChatGeneration(message=message)])
        finally:
            with lock:
                self._inflight -= 1


_ROLE = {"system": "system", "human": "user", "ai": "assistant"}


# --- a wrapped chat model -----------------------------------------------------------------------------


def test_plain_answer_with_usage_finish_reason_and_model() -> None:
    answer = AIMessage(
        content="Fresh beans, every day.",
        usage_metadata={**USAGE, "input_token_details": {"cache_read": 12}},
        response_metadata={"finish_reason": "length", "model_name": "served-id"},
    )
    backend = as_backend(_fake(answer))
    assert isinstance(backend, LangChainChatBackend) and backend.kind == "langchain"
    completion = backend.complete(MESSAGES)
    assert completion.text == "Fresh beans, every day."
    assert (completion.prompt_tokens, completion.completion_tokens, completion.cached_prompt_tokens) == (
        31,
        9,
        12,
    )
    assert (completion.finish_reason, completion.model, completion.backend) == (
        "length",
        "served-id",
        "langchain",
    )


def test_a_model_without_usage_reports_zero_tokens_and_its_class_name() -> None:
    backend = as_backend(_fake("ok"))
    completion = backend.complete(MESSAGES)
    assert (completion.text, completion.prompt_tokens, completion.completion_tokens) == ("ok", 0, 0)
    assert backend.model_name == "GenericFakeChatModel" and completion.finish_reason == "stop"


def test_structured_output_through_the_models_own_with_structured_output() -> None:
    """No method the base class knows but tool calling: the answer is the tool call's arguments."""
    call = {"name": "Headline", "args": {"headline": "Roasted yesterday", "tags": ["fresh"]}, "id": "c1"}
    chat = ToolFakeChat(messages=iter([AIMessage(content="", tool_calls=[call], usage_metadata=USAGE)]))
    completion = as_backend(chat).complete(MESSAGES, json_schema=SCHEMA)
    assert Headline.model_validate_json(completion.text) == Headline(
        headline="Roasted yesterday", tags=["fresh"]
    )
    assert completion.prompt_tokens == 31


def test_llama_cpp_schema_form_is_bound_to_the_call() -> None:
    seen: list[dict[str, Any]] = []

    class Recording(GenericFakeChatModel):
        def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
            seen.append(kwargs)
            return super()._generate(messages, stop, run_manager, **kwargs)

    chat = Recording(messages=iter(['{"headline": "Hi", "tags": []}']))
    backend = LangChainChatBackend.from_chat_model(
        chat, LangChainConfig(structured_output="json_object_schema")
    )
    Headline.model_validate_json(backend.complete(MESSAGES, json_schema=SCHEMA).text)
    assert seen == [{"response_format": {"type": "json_object", "schema": SCHEMA}}]


def test_chat_model_failures_are_backend_errors() -> None:
    class Broken(GenericFakeChatModel):
        def _generate(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("upstream said no " * 500)

    with pytest.raises(
        BackendError, match=r"chat model 'Broken' failed: RuntimeError: 'upstream said no"
    ) as e:
        as_backend(Broken(messages=iter([]))).complete(MESSAGES)
    assert len(str(e.value)) < 400  # a bounded quote, not the whole upstream message
    with pytest.raises(BackendError, match="cannot give structured output with method 'json_schema'"):
        as_backend(_fake("{}")).complete(MESSAGES, json_schema=SCHEMA)  # no tool calling, no json_schema


def test_as_backend_takes_backends_and_chat_models_only() -> None:
    fake = create_backend(FakeConfig())
    assert as_backend(fake) is fake
    with pytest.raises(TypeError, match="LLMBackend or a LangChain BaseChatModel, not str"):
        as_backend("gpt-4o")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="BaseChatModel"):
        LangChainChatBackend.from_chat_model(fake)  # type: ignore[arg-type]


def test_complete_many_runs_up_to_max_concurrency_at_once_in_order() -> None:
    chat = SchemaChat(delay_s=0.2)
    backend = LangChainChatBackend.from_chat_model(chat, LangChainConfig(concurrency=3))
    requests = [CompletionRequest([{"role": "user", "content": f"q{i}"}], SCHEMA) for i in range(6)]
    started = time.perf_counter()
    answers = backend.complete_many(requests)
    elapsed = time.perf_counter() - started
    assert chat.peak == 3 and elapsed < 6 * 0.2
    expected = [
        FakeBackend(FakeConfig()).complete(r.messages, json_schema=_tool_schema()).text for r in requests
    ]
    assert [json.loads(a.text) for a in answers] == [json.loads(t) for t in expected]


def test_a_chat_model_passed_in_is_called_one_at_a_time_whoever_calls() -> None:
    """max_concurrency is not only a hint: threads calling complete() directly (fan-out, batch items,
    several runnables) are held to it, and a model passed in gets 1 unless the caller says more."""
    from concurrent.futures import ThreadPoolExecutor

    chat = SchemaChat(delay_s=0.05)
    backend = as_backend(chat)
    assert backend.max_concurrency == 1
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda i: backend.complete([{"role": "user", "content": f"q{i}"}]), range(8)))
    assert chat.peak == 1 and chat.calls == 8


def _tool_schema() -> dict[str, Any]:
    return convert_to_openai_tool({"title": "output", **SCHEMA})["function"]["parameters"]


def test_a_campaign_runs_on_a_langchain_chat_model(mini_brand: Path) -> None:
    from pipelines import run_campaign

    chat = SchemaChat()
    campaign = run_campaign(mini_brand, backend="fake", llm=chat)
    assert [p.channel for p in campaign.pieces] == ["search_ad", "social_post", "cs_reply"]
    assert campaign.backend == "langchain" and {t.backend for t in campaign.trace} == {"langchain"}
    assert {t.model for t in campaign.trace} == {"schema-chat-1"}
    assert chat.calls == len(campaign.trace) and all(t.prompt_tokens == 31 for t in campaign.trace)
    assert chat.peak <= as_backend(chat).max_concurrency


# --- configured: init_chat_model ----------------------------------------------------------------------


def test_config_accepts_only_installed_providers(tmp_path: Path) -> None:
    from backends import validate_backend_config

    config = validate_backend_config({"kind": "langchain", "model": "openai:gpt-4o-mini"})
    assert isinstance(config, LangChainConfig) and create_backend(config).model_name == "gpt-4o-mini"
    with pytest.raises(
        InputError, match=r"model: expected '<provider>:<model>' with a provider among \['openai'"
    ):
        validate_backend_config({"kind": "langchain", "model": "gpt-4o-mini"})
    with pytest.raises(InputError, match="provider 'anthropic' needs its LangChain integration: pip install"):
        validate_backend_config({"kind": "langchain", "model": "anthropic:claude-x"})
    with pytest.raises(BackendError, match=r"backend 'langchain' needs backend\.model"):
        create_backend(LangChainConfig())


@pytest.fixture
def recorded() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    with recording_openai_server(
        lambda body, n: (200, chat_response('{"headline": "Fresh", "tags": []}'))
    ) as server:
        yield server


def test_configured_openai_body_carries_schema_and_per_call_sampling(recorded: tuple[str, list]) -> None:
    url, bodies = recorded
    config = LangChainConfig(model="openai:served", base_url=url, api_key="k", seed=3, repeat_penalty=1.15)
    backend = create_backend(config)
    completion = backend.complete(
        MESSAGES, json_schema=SCHEMA, params=GenerationParams(max_tokens=80, seed=5)
    )
    body = bodies[0]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["properties"] == SCHEMA["properties"]
    assert (body["model"], body["seed"], body["max_completion_tokens"], body["temperature"]) == (
        "served",
        5,
        80,
        0.3,
    )
    # what llama.cpp and vLLM read from a self-hosted server's body
    assert (body["max_tokens"], body["repeat_penalty"], body["repetition_penalty"]) == (80, 1.1, 1.1)
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert (completion.text, completion.prompt_tokens, completion.completion_tokens) == (
        '{"headline": "Fresh", "tags": []}',
        11,
        7,
    )
    assert completion.model == "recorded-model" and backend.model_name == "served"


def test_configured_function_calling_and_llama_cpp_forms(recorded: tuple[str, list]) -> None:
    url, bodies = recorded
    for mode in ("function_calling", "json_object_schema"):
        config = LangChainConfig(model="openai:served", base_url=url, api_key="k", structured_output=mode)
        create_backend(config).complete(MESSAGES, json_schema=SCHEMA)
    tools, llama = bodies
    assert tools["tools"][0]["function"]["parameters"]["properties"].keys() == SCHEMA["properties"].keys()
    assert tools["tool_choice"]["function"]["name"] == SCHEMA.get("title", "output")
    assert llama["response_format"] == {"type": "json_object", "schema": SCHEMA}


def test_a_wrapped_chat_openai_keeps_its_own_sampling(recorded: tuple[str, list]) -> None:
    from langchain_openai import ChatOpenAI

    url, bodies = recorded
    chat = ChatOpenAI(model="mine", base_url=url, api_key="k", temperature=0.0, max_retries=0)
    as_backend(chat).complete(MESSAGES, params=GenerationParams(temperature=0.9, seed=5))
    assert bodies[0]["temperature"] == 0.0 and "seed" not in bodies[0] and "repeat_penalty" not in bodies[0]


def test_server_errors_and_unreachable_servers_are_backend_errors() -> None:
    from tests.servers import free_port

    with recording_openai_server(
        lambda body, n: (422, {"detail": [{"loc": ["body"], "msg": "bad format"}]})
    ) as (
        url,
        _,
    ):
        config = LangChainConfig(model="openai:served", base_url=url, api_key="k", max_retries=0)
        with pytest.raises(
            BackendError, match=r"chat model 'served' \(ChatOpenAI\) failed: UnprocessableEntityError"
        ):
            create_backend(config).complete(MESSAGES, json_schema=SCHEMA)
    dead = LangChainConfig(
        model="openai:m", base_url=f"http://127.0.0.1:{free_port()}/v1", api_key="k", max_retries=0
    )
    with pytest.raises(BackendError, match=r"chat model 'm' \(ChatOpenAI\) failed: \w*ConnectionError"):
        create_backend(dead).complete(MESSAGES)


# --- the real llama.cpp server ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("server") / "llama_server.log"
    with llama_cpp_server(embedded_model_path(), "qwen-embedded", log) as base_url:
        yield base_url


@pytest.mark.server
@pytest.mark.llm
def test_chat_openai_against_the_real_llama_cpp_server(llama_server: str) -> None:
    """ChatOpenAI (built by init_chat_model from the config) answers a structured request that validates:
    llama-cpp-python's server takes the schema as json_object+schema."""
    config = LangChainConfig(
        model="openai:qwen-embedded",
        base_url=llama_server,
        api_key="none",
        structured_output="json_object_schema",
        max_tokens=80,
    )
    backend = create_backend(config)
    completion = backend.complete(MESSAGES, json_schema=SCHEMA)
    headline = Headline.model_validate_json(completion.text)
    assert headline.headline.strip()
    assert completion.model == "qwen-embedded" and completion.backend == "langchain"
    assert completion.prompt_tokens > 0 and completion.completion_tokens > 0
