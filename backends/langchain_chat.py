"""LangChain chat models as a backend: any ``BaseChatModel``, configured or passed in.

Contract:

- **Configured** (pipeline YAML ``backend: {kind: langchain, model: "openai:<model>"}``): the chat model is
  built in :meth:`~LangChainChatBackend.warm_up` with ``langchain.chat_models.init_chat_model`` from
  LangChain's standard parameters (``base_url``, ``api_key``, ``temperature``, ``max_tokens``,
  ``timeout``, ``max_retries``). Only providers whose LangChain integration is installed are accepted
  (``langchain-openai`` ships with BrandForge); the pipeline fails at load otherwise.
- **Passed in**: :meth:`LangChainChatBackend.from_chat_model` wraps any
  ``langchain_core.language_models.BaseChatModel``; :func:`as_backend` takes either that or an
  :class:`~backends.base.LLMBackend` (for ``run_campaign(llm=...)``). The chat model keeps its own
  sampling settings unless ``forward_sampling=True``.
- **Sampling per call**: BrandForge's per-call settings (temperature, top_p, max_tokens, seed) go to the
  chat model as a copy with those fields updated, for the fields its class declares (a chat model
  without ``seed`` never receives one). To a self-hosted OpenAI-compatible server (``openai`` provider
  with ``base_url``) ``max_tokens`` and the repeat penalty also go in the body under the names llama.cpp
  and vLLM read (OpenAI's own API has no repeat penalty, and langchain-openai sends
  ``max_completion_tokens``, which llama.cpp's server ignores).
- **Structured output goes through the chat model** (``structured_output``): ``json_schema`` (default)
  and ``function_calling`` call ``with_structured_output(schema, method=..., include_raw=True)``, so each
  integration uses its provider's own mechanism; ``json_object_schema`` binds llama.cpp's
  ``response_format={"type": "json_object", "schema": ...}`` (llama-cpp-python's server has no
  ``json_schema``). The completion's text is the model's raw JSON (a tool call's arguments when the
  answer came as one); parsing, validation and repair stay the caller's job, as for every backend.
- **Accounting**: token counts from the message's ``usage_metadata`` (0 when the model reports none),
  ``finish_reason`` "length" when the answer was cut off, the model id the provider reports.
- **Errors**: anything the chat model raises becomes a :class:`~backends.base.BackendError` naming the
  model and the error type, with a bounded quote of its message; retries are the chat model's own
  (``max_retries``). ``langchain`` is imported only when a backend warms up, never at discovery.
  ``warm_up`` builds the chat model but cannot probe the provider (LangChain has no portable probe), so
  an unreachable endpoint or a refused key shows on the first call, as a BackendError.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from backends.base import (
    BackendError,
    BackendRegistration,
    BaseBackendConfig,
    ChatMessage,
    Completion,
    CompletionRequest,
    GenerationParams,
    LLMBackend,
)
from core.errors import bounded_repr

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage, BaseMessage
    from langchain_core.runnables import Runnable

# init_chat_model's provider names -> the package of their LangChain integration. A provider is accepted
# when its package is installed; every one takes LangChain's standard chat-model parameters.
PROVIDERS: dict[str, str] = {
    "openai": "langchain_openai",
    "azure_openai": "langchain_openai",
    "anthropic": "langchain_anthropic",
    "google_genai": "langchain_google_genai",
    "mistralai": "langchain_mistralai",
    "groq": "langchain_groq",
    "ollama": "langchain_ollama",
    "deepseek": "langchain_deepseek",
    "xai": "langchain_xai",
}
_SAMPLING_FIELDS = ("temperature", "top_p", "max_tokens", "seed")
_CUT_OFF = frozenset({"length", "max_tokens"})  # OpenAI's and Anthropic's words for it
_ERROR_QUOTE_CHARS = 200


@functools.cache
def installed_providers() -> list[str]:
    """The providers of :data:`PROVIDERS` whose integration package is installed here."""
    return [name for name, package in PROVIDERS.items() if importlib.util.find_spec(package) is not None]


class LangChainConfig(BaseBackendConfig):
    """A LangChain chat model, built with ``langchain.chat_models.init_chat_model``."""

    kind: Literal["langchain"] = Field("langchain", description="Backend to use.")
    model: str | None = Field(
        None,
        description="'<provider>:<model>', e.g. 'openai:gpt-4o-mini' (required); the provider's LangChain "
        "integration must be installed (langchain-openai is).",
    )
    base_url: str | None = Field(
        None, description="Endpoint of the provider, e.g. a vLLM server's http://127.0.0.1:8000/v1."
    )
    api_key: str | None = Field(None, description="API key (default: the provider's own env var).")
    structured_output: Literal["json_schema", "function_calling", "json_object_schema"] = Field(
        "json_schema",
        description="How the JSON schema reaches the model: with_structured_output(method=json_schema or "
        "function_calling), or llama.cpp's response_format json_object+schema.",
    )
    timeout_s: float = Field(300.0, ge=1.0, le=3600.0, description="Seconds to wait for one reply.")
    max_retries: int = Field(2, ge=0, le=5, description="Retries of failed requests, by the chat model.")
    concurrency: int = Field(
        4, ge=1, le=256, description="Calls served at once (max_concurrency; complete_many)."
    )

    @field_validator("model")
    @classmethod
    def _provider_installed(cls, value: str | None) -> str | None:
        if value is None:
            return value
        provider, _, name = value.partition(":")
        installed = installed_providers()
        if not name or provider not in PROVIDERS:
            raise PydanticCustomError(
                "langchain_model",
                "expected '<provider>:<model>' with a provider among {installed}",
                {"installed": str(installed)},
            )
        if provider not in installed:
            package = PROVIDERS[provider].replace("_", "-")
            raise PydanticCustomError(
                "langchain_model",
                "provider '{provider}' needs its LangChain integration: pip install {package} "
                "(installed providers: {installed})",
                {"provider": provider, "package": package, "installed": str(installed)},
            )
        return value


def _langchain_messages(messages: Sequence[ChatMessage]) -> list[BaseMessage]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[m["role"]](content=m["content"]) for m in messages]


def _answer_text(message: AIMessage) -> str:
    """The model's raw answer: a forced tool call's arguments as JSON, else the message text."""
    if message.tool_calls:
        return json.dumps(message.tool_calls[0]["args"], ensure_ascii=False)
    return message.text


class LangChainChatBackend(LLMBackend):
    kind = "langchain"
    remote = True
    config: LangChainConfig

    def __init__(
        self,
        config: LangChainConfig,
        chat_model: BaseChatModel | None = None,
        *,
        forward_sampling: bool = True,
    ) -> None:
        super().__init__(config)
        if chat_model is None and not config.model:
            raise BackendError(
                "backend 'langchain' needs backend.model: '<provider>:<model>', e.g. 'openai:gpt-4o-mini' "
                f"(installed providers: {installed_providers()})"
            )
        self._chat_model = chat_model
        self._forward_sampling = forward_sampling
        self._lock = threading.Lock()
        # max_concurrency is what callers are told; this holds every caller (fan-out threads, batch items,
        # several runnables sharing the backend) to it, since a chat model running in process (e.g. one
        # over llama.cpp) may not be safe to call from two threads at once.
        self._slots = threading.BoundedSemaphore(config.concurrency)
        provider = (config.model or "").partition(":")[0]
        # llama.cpp / vLLM read these from the body; OpenAI's own API would refuse the penalty.
        self._self_hosted_openai = chat_model is None and provider == "openai" and bool(config.base_url)

    @classmethod
    def from_chat_model(
        cls,
        chat_model: BaseChatModel,
        config: LangChainConfig | None = None,
        *,
        forward_sampling: bool = False,
    ) -> LangChainChatBackend:
        """Wrap any LangChain chat model. ``config`` sets ``structured_output``, ``concurrency`` (how many
        calls it is given at once; default 1 for a model passed in, since nothing says it may be called
        from several threads — raise it for a client of a server that batches, such as vLLM) and, with
        ``forward_sampling=True``, the sampling defaults sent with each call; without it the chat model's
        own settings apply."""
        from langchain_core.language_models import BaseChatModel

        if not isinstance(chat_model, BaseChatModel):
            raise TypeError(f"expected a langchain_core BaseChatModel, got {type(chat_model).__name__}")
        return cls(config or LangChainConfig(concurrency=1), chat_model, forward_sampling=forward_sampling)

    @property
    def chat_model(self) -> BaseChatModel:
        """The LangChain chat model that answers (built on first use when configured)."""
        if self._chat_model is None:
            self.warm_up()
        assert self._chat_model is not None
        return self._chat_model

    @property
    def model_name(self) -> str:
        if self.config.model:
            return self.config.model.partition(":")[2]
        for attribute in ("model_name", "model", "model_id"):
            value = getattr(self._chat_model, attribute, None)
            if isinstance(value, str) and value:
                return value
        return type(self._chat_model).__name__

    @property
    def max_concurrency(self) -> int:
        return self.config.concurrency

    def _described(self) -> str:
        """The model's name for messages, with its class when that says more."""
        name, cls = self.model_name, type(self.chat_model).__name__
        return repr(name) if name == cls else f"{name!r} ({cls})"

    def warm_up(self) -> None:
        with self._lock:
            if self._chat_model is None:
                self._chat_model = self._build()
            self._warm = True

    def _build(self) -> BaseChatModel:
        try:
            from langchain.chat_models import init_chat_model
        except ImportError:
            raise BackendError(
                "backend 'langchain' needs the langchain package: pip install langchain"
            ) from None
        assert self.config.model is not None
        settings: dict[str, Any] = {
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
            "timeout": self.config.timeout_s,
            "max_retries": self.config.max_retries,
        }
        for name in ("base_url", "api_key"):
            if getattr(self.config, name) is not None:
                settings[name] = getattr(self.config, name)
        try:
            return init_chat_model(self.config.model, **settings)
        except Exception as exc:  # a missing integration, an unknown model, a missing API key, ...
            raise BackendError(
                f"cannot create LangChain chat model {self.config.model!r}: {type(exc).__name__}: "
                f"{bounded_repr(str(exc), _ERROR_QUOTE_CHARS)}"
            ) from None

    def _for_call(self, params: GenerationParams) -> BaseChatModel:
        """The chat model with this call's sampling settings, where it has fields for them."""
        model = self.chat_model
        if not self._forward_sampling:
            return model
        declared = type(model).model_fields
        update: dict[str, Any] = {
            name: getattr(params, name) for name in _SAMPLING_FIELDS if name in declared
        }
        if self._self_hosted_openai and "extra_body" in declared:
            update["extra_body"] = {
                **(getattr(model, "extra_body", None) or {}),
                "max_tokens": params.max_tokens,
                "repeat_penalty": params.repeat_penalty,
                "repetition_penalty": params.repeat_penalty,
            }
        return model.model_copy(update=update) if update else model

    def _runnable(self, model: BaseChatModel, json_schema: dict[str, Any] | None) -> Runnable[Any, Any]:
        mode = self.config.structured_output
        if json_schema is None:
            return model
        if mode == "json_object_schema":
            return model.bind(response_format={"type": "json_object", "schema": json_schema})
        # LangChain names the answer after the schema's title; ours may have none.
        schema = {"title": "output", **json_schema}
        try:
            return model.with_structured_output(schema, method=mode, include_raw=True)
        except (NotImplementedError, ValueError, TypeError) as exc:
            raise BackendError(
                f"chat model {type(model).__name__} cannot give structured output with method {mode!r} "
                f"({type(exc).__name__}: {bounded_repr(str(exc), _ERROR_QUOTE_CHARS)}); choose another "
                "structured_output: json_schema, function_calling or json_object_schema"
            ) from None

    def _complete(
        self, messages: list[ChatMessage], json_schema: dict[str, Any] | None, params: GenerationParams
    ) -> Completion:
        started = time.perf_counter()
        runnable = self._runnable(self._for_call(params), json_schema)
        try:
            with self._slots:
                answer = runnable.invoke(_langchain_messages(messages))
        except BackendError:
            raise
        except Exception as exc:  # whatever the integration raises: connection, refusal, bad reply
            raise BackendError(
                f"chat model {self._described()} failed: {type(exc).__name__}: "
                f"{bounded_repr(str(exc), _ERROR_QUOTE_CHARS)}"
            ) from None
        message = answer["raw"] if isinstance(answer, dict) else answer
        from langchain_core.messages import AIMessage

        if not isinstance(message, AIMessage):
            raise BackendError(
                f"chat model {self._described()} answered with a {type(message).__name__}, not an AIMessage"
            )
        usage: dict[str, Any] = dict(message.usage_metadata or {})
        metadata = message.response_metadata or {}
        finish = metadata.get("finish_reason") or metadata.get("stop_reason") or "stop"
        return Completion(
            text=_answer_text(message),
            prompt_tokens=int(usage.get("input_tokens", 0)),
            completion_tokens=int(usage.get("output_tokens", 0)),
            seconds=time.perf_counter() - started,
            model=str(metadata.get("model_name") or self.model_name),
            backend=self.kind,
            cached_prompt_tokens=int((usage.get("input_token_details") or {}).get("cache_read", 0) or 0),
            finish_reason="length" if finish in _CUT_OFF else str(finish),
        )

    def complete_many(self, requests: Sequence[CompletionRequest]) -> list[Completion]:
        """Up to ``max_concurrency`` calls at once; answers in request order."""
        if not self._warm:
            self.warm_up()
        workers = max(1, min(self.max_concurrency, len(requests)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(
                pool.map(
                    lambda r: self.complete(r.messages, json_schema=r.json_schema, params=r.params), requests
                )
            )


def as_backend(llm: LLMBackend | BaseChatModel) -> LLMBackend:
    """``llm`` as a BrandForge backend: an :class:`LLMBackend` as it is, a LangChain ``BaseChatModel``
    wrapped by :meth:`LangChainChatBackend.from_chat_model` (its own sampling settings kept)."""
    if isinstance(llm, LLMBackend):
        return llm
    from langchain_core.language_models import BaseChatModel

    if isinstance(llm, BaseChatModel):
        return LangChainChatBackend.from_chat_model(llm)
    raise TypeError(
        f"llm must be a BrandForge LLMBackend or a LangChain BaseChatModel, not {type(llm).__name__}"
    )


BACKEND = BackendRegistration(
    LangChainConfig,
    LangChainChatBackend,
    "A LangChain chat model ('<provider>:<model>' through init_chat_model, for providers whose "
    "integration is installed; or any BaseChatModel passed in): structured output through the model's "
    "with_structured_output. Serves `concurrency` calls at once.",
)
