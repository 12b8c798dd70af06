"""The language model's part in monitoring: a stance where the classifier is unsure, and topic labels.

Contract: :class:`MonitorModel` wraps a backend with the prompts ``monitor.stance`` and
``monitor.topic_label`` (versioned under prompts/, rendered with plain data). Each call's answer is
constrained to its schema; a call that fails (the backend errs or the answer does not parse) returns
``None`` and is counted, and the caller keeps what it had (the classifier's label, the topic's terms):
monitoring never loses a mention to a model failure. The fixed head of each prompt is sent as the system
message so a llama.cpp backend keeps its KV state between mentions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from agents.roles import (
    STANCE,
    STANCE_ANSWER_MODEL,
    TOPIC_LABEL,
    TOPIC_LABEL_ANSWER_MODEL,
    StanceInputs,
    TopicLabelInputs,
)
from agents.schema import json_schema_of
from backends import BaseBackendConfig, ChatMessage, GenerationParams, LLMBackend
from core.errors import InputError, ServiceError
from prompts import default_registry

STANCE_PROMPT = "monitor.stance@2"
TOPIC_LABEL_PROMPT = "monitor.topic_label@1"


@dataclass
class ModelUse:
    """What the model was asked and what it cost."""

    calls: int = 0
    failed: int = 0
    seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    errors: list[str] = field(default_factory=list)


class MonitorModel:
    def __init__(
        self, backend: LLMBackend, config: BaseBackendConfig, *, stance_prompt: str = STANCE_PROMPT
    ) -> None:
        registry = default_registry()
        self.backend, self.config = backend, config
        self.stance_prompt = registry.get(stance_prompt)
        self.label_prompt = registry.get(TOPIC_LABEL_PROMPT)
        for role, prompt in ((STANCE, self.stance_prompt), (TOPIC_LABEL, self.label_prompt)):
            problem = role.check(prompt)
            if problem:
                raise InputError(f"monitoring prompt cannot serve its role: {problem}")
        self.use = ModelUse()

    @property
    def name(self) -> str:
        return f"{self.backend.kind}:{self.backend.model_name}"

    @functools.cached_property
    def _stance_head(self) -> str:
        a = self.stance_prompt.render(**StanceInputs(text="\x01", brand_name="\x01", rivals=[]).variables())
        probe = StanceInputs(text="\x02", brand_name="\x02", rivals=["x"])
        b = self.stance_prompt.render(**probe.variables())
        same = next((n for n, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a))
        return a[: a.rfind("\n", 0, same) + 1]

    def stance(self, text: str, brand: str, rivals: list[str]) -> str | None:
        """positive / negative / neutral toward ``brand``, or None when the call failed."""
        rendered = self.stance_prompt.render(
            **StanceInputs(text=text, brand_name=brand, rivals=rivals).variables()
        )
        head = self._stance_head if rendered.startswith(self._stance_head) else ""
        messages: list[ChatMessage] = [{"role": "user", "content": rendered[len(head) :]}]
        if head:
            messages.insert(0, {"role": "system", "content": head.rstrip()})
        answer = self._ask(messages, STANCE_ANSWER_MODEL, max_tokens=60, keep=self.use.calls == 0)
        return str(answer.stance) if answer is not None else None  # type: ignore[attr-defined]

    def topic_label(self, examples: list[str], terms: list[str], language_name: str) -> str | None:
        inputs = TopicLabelInputs(examples=examples, terms=terms, language_name=language_name)
        rendered = self.label_prompt.render(**inputs.variables())
        answer = self._ask([{"role": "user", "content": rendered}], TOPIC_LABEL_ANSWER_MODEL, max_tokens=40)
        if answer is None:
            return None
        label = " ".join(str(answer.label).split()).strip(" .。\"'“”")  # type: ignore[attr-defined]
        return label or None

    def _ask(
        self, messages: list[ChatMessage], model: type[BaseModel], *, max_tokens: int, keep: bool = False
    ) -> Any:
        params = GenerationParams.from_config(
            self.config, temperature=0.0, max_tokens=max_tokens, continued=keep
        )
        self.use.calls += 1
        try:
            completion = self.backend.complete(messages, json_schema=json_schema_of(model), params=params)
        except ServiceError as exc:
            self._fail(f"{type(exc).__name__}: {exc}")
            return None
        self.use.seconds += completion.seconds
        self.use.prompt_tokens += completion.prompt_tokens
        self.use.completion_tokens += completion.completion_tokens
        try:
            return model.model_validate_json(completion.text)
        except ValidationError as exc:
            self._fail(f"answer did not parse: {str(exc)[:200]}")
            return None

    def _fail(self, error: str) -> None:
        self.use.failed += 1
        if len(self.use.errors) < 20:
            self.use.errors.append(error[:300])
