"""A deterministic fake backend for orchestration tests and dry runs.

Contract: for a JSON schema it returns JSON that validates against it (objects, arrays, strings with
length limits and enums, numbers with bounds, ``$ref``/``anyOf``), derived only from a hash of the
messages — the same input always gives the same output. Array items picked from an ``enum`` (passage
citations) rotate through the choices. A string reads like finished copy in shape (not in sense), so the
quality checks of a campaign pass it: it opens with the name the system message repeats most (the
brand's, quoted), ends with a full stop and, when the messages speak of hashtags, a hashtag of that
name, and is cut at a word, never mid-word, to half a string's ``maxLength`` (draft schemas bound a
field at twice its channel limit).
``delay_s`` simulates model latency and ``concurrency`` how many calls it serves at once, so
orchestration tests can exercise both. Tests can pass ``script``, a function
of (messages, schema) returning a dict or text, to play a specific conversation (with ``concurrency`` > 1
it is called from several threads).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field

from backends.base import (
    BackendRegistration,
    BaseBackendConfig,
    ChatMessage,
    Completion,
    GenerationParams,
    LLMBackend,
)

Script = Callable[[list[ChatMessage], dict[str, Any] | None], "dict[str, Any] | str"]

_WORDS = (
    "bright",
    "journey",
    "calm",
    "quality",
    "crafted",
    "discover",
    "fresh",
    "trusted",
    "simple",
    "daily",
    "moment",
    "story",
    "care",
    "detail",
    "open",
    "light",
    "honest",
    "warm",
    "clear",
    "new",
)


# What it writes when the prompt asks for Chinese ("Write all content in Simplified Chinese"): a Chinese
# brand's copy in Latin words would be mixed-language copy (agents.quality), which no model is asked for.
_WORDS_ZH = (
    "清晨", "旅程", "安静", "用心", "细节", "发现", "新鲜", "可靠", "简单", "日常",
    "时刻", "故事", "关怀", "开阔", "明亮", "真诚", "温暖", "清澈", "崭新", "慢慢",
)  # fmt: skip


class FakeConfig(BaseBackendConfig):
    """The deterministic fake: no model, answers derived from a hash of the messages."""

    kind: Literal["fake"] = Field("fake", description="Backend to use.")
    model: str | None = Field(None, description="Name recorded in the trace (default: fake-deterministic).")
    delay_s: float = Field(0.0, ge=0.0, le=60.0, description="Simulated latency per call, in seconds.")
    concurrency: int = Field(
        1,
        ge=1,
        le=256,
        description="Calls it serves at once (max_concurrency), so orchestration tests can exercise "
        "concurrent callers; 1 keeps scripted conversations in call order.",
    )


class FakeBackend(LLMBackend):
    kind = "fake"
    config: FakeConfig

    def __init__(self, config: FakeConfig, script: Script | None = None) -> None:
        super().__init__(config)
        self.script = script
        self.calls: list[tuple[list[ChatMessage], dict[str, Any] | None]] = []

    @property
    def model_name(self) -> str:
        return self.config.model or "fake-deterministic"

    @property
    def max_concurrency(self) -> int:
        return self.config.concurrency

    def _complete(
        self, messages: list[ChatMessage], json_schema: dict[str, Any] | None, params: GenerationParams
    ) -> Completion:
        started = time.perf_counter()
        self.calls.append((messages, json_schema))
        if self.config.delay_s:
            time.sleep(self.config.delay_s)
        seed = hashlib.sha256(json.dumps(messages, ensure_ascii=False).encode()).digest()
        if self.script is not None:
            result = self.script(messages, json_schema)
            text = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)
        elif json_schema is not None:
            # Hashtags only where the prompt speaks of them (a post), as a model following it would.
            tags = any("hashtag" in m["content"].casefold() for m in messages)
            chinese = any("Write all content in Simplified Chinese" in m["content"] for m in messages)
            faker = _SchemaFaker(
                json_schema,
                seed,
                _main_name(messages),
                tags=tags,
                product=_main_product(messages),
                chinese=chinese,
            )
            text = json.dumps(faker.value(json_schema, "root"), ensure_ascii=False)
        else:
            text = _words(seed, "text", 12)
        prompt_tokens = sum(len(m["content"]) for m in messages) // 4 + 1
        return Completion(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=len(text) // 4 + 1,
            seconds=time.perf_counter() - started,
            model=self.model_name,
            backend=self.kind,
        )


BACKEND = BackendRegistration(
    FakeConfig,
    FakeBackend,
    "Deterministic answers that validate against the requested JSON schema, derived from a hash of the "
    "messages; no model. For orchestration tests and dry runs.",
)


def _words(seed: bytes, path: str, n: int, *, chinese: bool = False) -> str:
    digest = hashlib.sha256(seed + path.encode()).digest()
    words = _WORDS_ZH if chinese else _WORDS
    return ("" if chinese else " ").join(words[digest[i % len(digest)] % len(words)] for i in range(n))


def _main_name(messages: list[ChatMessage]) -> str:
    """The capitalised word the system message repeats most (a campaign's brand name), else "Fake"."""
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    counts: dict[str, int] = {}
    for line in system.splitlines():
        # Words that open a line are headings and instructions ("Never use...", "Do: ..."), not names.
        for word in re.findall(r"(?<=[\w,:;(\"'] )[A-Z][a-z]{2,20}\b|(?<=\")[A-Z][a-z]{2,20}\b", line):
            counts[word] = counts.get(word, 0) + 1
    quoted = [w for w in counts if f'"{w}"' in system]  # a name the prompt quotes is the one that matters
    return max(sorted(quoted or counts), key=lambda w: counts[w], default="Fake")


def _main_product(messages: list[ChatMessage]) -> str | None:
    """The first product the system message lists under "Products:" ("- Harbor Blend: A chocolatey…")."""
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    listed = system.split("Products:", 1)
    found = re.search(r"^\s*- ([^:\n]{2,60}):", listed[1], re.MULTILINE) if len(listed) > 1 else None
    return found.group(1).strip() if found else None


def _copy(name: str, words: str, low: int, high: int, *, tag: bool = True) -> str:
    """``words`` as one finished sentence: "Name words. #Name" (without the hashtag unless ``tag``),
    cut at a word to fit ``high``."""
    hashtag = f" #{name}" if tag else ""
    body = f"{name} {words}"
    room = high - len(hashtag) - 1
    if room < len(name) + 1:
        return f"{name} {words}"[:high].rstrip() if high >= low else ""
    if len(body) > room:
        body = body[:room].rsplit(" ", 1)[0]
    text = body + "." + hashtag
    return text if len(text) >= low else (text + " " + words)[:high]


class _SchemaFaker:
    def __init__(
        self,
        root: dict[str, Any],
        seed: bytes,
        name: str = "Fake",
        *,
        tags: bool = True,
        product: str | None = None,
        chinese: bool = False,
    ) -> None:
        self.product = product
        self.chinese = chinese
        self.defs = root.get("$defs", {})
        self.seed = seed
        self.name = name
        self.tags = tags

    def value(self, schema: dict[str, Any], path: str) -> Any:
        if "$ref" in schema:
            return self.value(self.defs[schema["$ref"].rsplit("/", 1)[-1]], path)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            choices = schema["enum"]
            return choices[hashlib.sha256(self.seed + path.encode()).digest()[0] % len(choices)]
        for key in ("anyOf", "oneOf", "allOf"):
            if key in schema:
                options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
                return self.value(options[0], path)
        kind = schema.get("type", "object")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object":
            props = schema.get("properties", {})
            return {name: self.value(sub, f"{path}.{name}") for name, sub in props.items()}
        if kind == "array":
            items = schema.get("items", {})
            low, high = schema.get("minItems", 1), schema.get("maxItems", max(schema.get("minItems", 1), 2))
            count = max(low, min(high, 2))
            if "enum" in items:
                choices = items["enum"]
                count = min(count, len(choices)) if schema.get("uniqueItems") else count
                start = hashlib.sha256(self.seed + path.encode()).digest()[0]
                return [choices[(start + i) % len(choices)] for i in range(count)]
            return [self.value(items, f"{path}[{i}]") for i in range(count)]
        if kind == "string":
            low, high = schema.get("minLength", 0), schema.get("maxLength", 160)
            text = _words(self.seed, path, 24, chinese=self.chinese)
            # A long field (a post, an e-mail body) names the brand's first product, as a model told to be
            # concrete would; headlines and short fields keep to the brand's name.
            if self.product and schema.get("maxLength", 240) >= 240:
                text = f"{self.product} {text}"
            while len(text) < low:
                text += " " + _words(self.seed, path + str(len(text)), 24, chinese=self.chinese)
            # Draft schemas bound a field at twice its channel limit (generation room): write to half.
            high = max(low, high // 2) if "maxLength" in schema else high
            return _copy(self.name, text, low, high, tag=self.tags)
        if kind in ("integer", "number"):
            low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
            high = schema.get("maximum", schema.get("exclusiveMaximum", low + 10))
            mid = low + (high - low) * 0.8
            return int(mid) if kind == "integer" else round(mid, 2)
        if kind == "boolean":
            return True
        return None
