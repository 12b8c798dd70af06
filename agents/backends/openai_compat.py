"""Any OpenAI-compatible chat server, through langchain-openai: production's path to ``vllm serve``.

Contract: requests go to ``{base_url}/chat/completions`` via ``langchain_openai.ChatOpenAI``. The JSON
schema is sent the way the server understands it (``structured_output``):
- ``json_schema``: OpenAI's ``response_format={"type": "json_schema", "json_schema": {...}}`` — vLLM's
  server enforces it with its structured-output engine;
- ``json_object_schema``: llama.cpp's ``response_format={"type": "json_object", "schema": {...}}``;
- ``function_calling``: one forced tool whose parameters are the schema;
- ``auto`` (default): ``json_schema`` first; if the server rejects that request shape (llama.cpp answers
  4xx/5xx naming response_format), switch to ``json_object_schema`` for the rest of the process.
The body is built here and passed as ``extra_body`` so exactly this JSON goes on the wire. Transient
errors (429, 5xx, timeouts, dropped connections) are retried by the OpenAI client with exponential
backoff ``max_retries`` times; an unreachable server is a :class:`BackendError`.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from agents.backends.base import (
    BackendConfig,
    BackendError,
    ChatMessage,
    Completion,
    CompletionRequest,
    GenerationParams,
    LLMBackend,
)

_TOOL_NAME = "respond"


def response_format_body(mode: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The request-body fields that carry ``schema`` in the given mode."""
    if mode == "json_schema":
        return {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": schema, "strict": True},
            }
        }
    if mode == "json_object_schema":
        return {"response_format": {"type": "json_object", "schema": schema}}
    if mode == "function_calling":
        return {
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": _TOOL_NAME,
                        "parameters": schema,
                        "description": "Return the answer.",
                    },
                }
            ],
            "tool_choice": {"type": "function", "function": {"name": _TOOL_NAME}},
        }
    raise ValueError(f"unknown structured_output mode {mode!r}")


class OpenAICompatBackend(LLMBackend):
    kind = "openai"

    def __init__(self, config: BackendConfig) -> None:
        super().__init__(config)
        if not config.base_url:
            raise BackendError(
                "backend 'openai' needs base_url (e.g. http://127.0.0.1:8000/v1); set it in the "
                "pipeline's backend.base_url, BRANDFORGE_BASE_URL or --base-url"
            )
        self._mode = config.structured_output
        self._mode_lock = threading.Lock()
        self._chat: Any = None
        self._model = config.model

    @property
    def model_name(self) -> str:
        return self._model or "default"

    @property
    def structured_mode(self) -> str:
        """The schema mechanism in use (``auto`` resolves after the first structured call)."""
        return self._mode

    def warm_up(self) -> None:
        if self._chat is not None:
            return
        from langchain_openai import ChatOpenAI

        api_key = self.config.api_key or os.environ.get("OPENAI_API_KEY") or "not-needed"
        if not self._model:
            self._model = self._discover_model(api_key)
        self._chat = ChatOpenAI(
            model=self._model,
            base_url=self.config.base_url,
            api_key=api_key,  # type: ignore[arg-type]
            timeout=self.config.timeout_s,
            max_retries=self.config.max_retries,
        )
        self._warm = True

    def _discover_model(self, api_key: str) -> str:
        # A server started with one model answers /models with it: no need to repeat the name in config.
        import openai

        client = openai.OpenAI(base_url=self.config.base_url, api_key=api_key, timeout=30, max_retries=1)
        try:
            models = client.models.list().data
        except openai.APIConnectionError:
            raise BackendError(f"cannot reach OpenAI-compatible server at {self.config.base_url}") from None
        except openai.APIStatusError as exc:
            raise BackendError(
                f"server at {self.config.base_url} refused /models ({exc.status_code}); set backend.model"
            ) from None
        if not models:
            raise BackendError(f"server at {self.config.base_url} serves no model; set backend.model")
        return models[0].id

    def _invoke(self, messages: list[ChatMessage], body: dict[str, Any], params: GenerationParams) -> Any:
        import openai

        extra_body = {
            **body,
            # Repetition control under both servers' names (each ignores the other's).
            "repeat_penalty": params.repeat_penalty,
            "repetition_penalty": params.repeat_penalty,
        }
        try:
            return self._chat.invoke(
                [(m["role"], m["content"]) for m in messages],
                temperature=params.temperature,
                top_p=params.top_p,
                max_tokens=params.max_tokens,
                seed=params.seed,
                extra_body=extra_body,
            )
        except openai.APIConnectionError:
            raise BackendError(f"cannot reach OpenAI-compatible server at {self.config.base_url}") from None
        except openai.AuthenticationError:
            raise BackendError(
                f"server at {self.config.base_url} refused the API key (set OPENAI_API_KEY or "
                "backend.api_key)"
            ) from None
        except openai.NotFoundError:
            raise BackendError(f"server at {self.config.base_url} has no model {self._model!r}") from None

    def _complete(
        self, messages: list[ChatMessage], json_schema: dict[str, Any] | None, params: GenerationParams
    ) -> Completion:
        import openai

        started = time.perf_counter()
        mode = self._mode
        if json_schema is None:
            message = self._invoke(messages, {}, params)
        elif mode == "auto":
            try:
                message = self._invoke(messages, response_format_body("json_schema", json_schema), params)
                with self._mode_lock:
                    self._mode = "json_schema"
            except (
                openai.BadRequestError,
                openai.UnprocessableEntityError,
                openai.InternalServerError,
            ) as exc:
                if "response_format" not in str(exc) and "json_schema" not in str(exc):
                    raise BackendError(
                        f"server at {self.config.base_url} rejected the request: {exc}"
                    ) from None
                with self._mode_lock:
                    self._mode = "json_object_schema"
                message = self._invoke(
                    messages, response_format_body("json_object_schema", json_schema), params
                )
        else:
            try:
                message = self._invoke(messages, response_format_body(mode, json_schema), params)
            except openai.APIStatusError as exc:
                raise BackendError(
                    f"server at {self.config.base_url} rejected the {mode} request: {exc}"
                ) from None
        text = message.content if isinstance(message.content, str) else ""
        if json_schema is not None and self._mode == "function_calling" and message.tool_calls:
            text = json.dumps(message.tool_calls[0]["args"], ensure_ascii=False)
        usage = message.usage_metadata or {}
        return Completion(
            text=text,
            prompt_tokens=int(usage.get("input_tokens", 0)),
            completion_tokens=int(usage.get("output_tokens", 0)),
            seconds=time.perf_counter() - started,
            model=str(message.response_metadata.get("model_name") or self.model_name),
            backend=self.kind,
            finish_reason=str(message.response_metadata.get("finish_reason") or "stop"),
        )

    def complete_many(self, requests: Sequence[CompletionRequest]) -> list[Completion]:
        """Concurrent requests: the server (vLLM) batches them on the GPU."""
        if not self._warm:
            self.warm_up()
        with ThreadPoolExecutor(max_workers=self.config.concurrency) as pool:
            return list(
                pool.map(
                    lambda r: self.complete(r.messages, json_schema=r.json_schema, params=r.params), requests
                )
            )
