"""The agent contract, the run context, and structured calls with bounded repair.

Contract (every agent in :mod:`agents`):
- An agent class has a registered ``name``, the state fields it ``reads`` and ``writes``, the prompt
  ``roles`` it uses with their default ``id@version``, and a ``Params`` model (``extra="forbid"``) for
  its pipeline parameters. It is built from (params, prompts) and does its work in
  ``run(state, ctx)``, reading and writing only the fields it declared.
- Model calls go through :func:`ask`: the shared system message (brand + passages, identical for every
  call of a campaign so backends reuse its KV cache) plus the agent's rendered prompt, the output's JSON
  schema passed to the backend's constrained decoding, and validation into a pydantic model. Malformed
  output is re-asked at most ``max_repairs`` times with the validation errors; then
  :class:`StructuredOutputError` is raised — never a crash on what the model wrote.
- A prompt with ``thread: true`` is a turn in a conversation: :func:`ask` sends it after the turns of
  its thread (``state.threads``: the campaign's, then its channel's; see :func:`conversation`) and
  records the exchange, the answer verbatim. Each call then adds only its own turn to a prefix the
  backend has already evaluated, instead of restating the brief or the draft it is about.
- Every attempt, good or bad, becomes a :class:`~agents.state.TraceEntry`.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.state import CampaignState, TraceEntry, Turn
from backends import BackendConfig, ChatMessage, GenerationParams, LLMBackend
from knowledge.index import FaissKnowledgeIndex
from prompts import Prompt

T = TypeVar("T", bound=BaseModel)

LANGUAGE_NAMES = {
    "en": "English",
    "zh": "Simplified Chinese (简体中文)",
    "ja": "Japanese",
    "ko": "Korean",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
}


def language_name(state: CampaignState) -> str:
    """The name of the language the brand's content is written in, as prompts say it."""
    return LANGUAGE_NAMES.get(state.brand.language, state.brand.locale)


class StructuredOutputError(RuntimeError):
    """The model did not produce valid output within the repair budget."""

    def __init__(self, step: str, prompt: str, errors: str, last_text: str) -> None:
        super().__init__(f"{step}: no valid output from {prompt} after repairs: {errors}")
        self.step, self.prompt, self.errors, self.last_text = step, prompt, errors, last_text


class AgentParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_repairs: int = Field(
        2, ge=0, le=5, description="Re-asks after an invalid answer (each is one more model call)."
    )


@dataclass
class RunContext:
    """What agents need besides the state: models, prompts, the index, progress reporting."""

    backend: LLMBackend
    backend_config: BackendConfig
    index: FaissKnowledgeIndex
    context_prompt: Prompt
    progress: Callable[[str], None] = lambda message: None
    _system_cache: dict[tuple[str, ...], str] = field(default_factory=dict)

    def system_message(self, state: CampaignState) -> str:
        key = tuple(p.id for p in state.passages)
        if key not in self._system_cache:
            self._system_cache[key] = self.context_prompt.render(
                brand=state.brand,
                language_name=language_name(state),
                passages=state.passages,
            )
        return self._system_cache[key]

    def thread_budget(self, state: CampaignState) -> int:
        """Tokens (estimated) a conversation's earlier turns may take: the context window less the system
        message and :data:`TURN_RESERVE_TOKENS` for the new turn and its answer."""
        system = estimate_tokens(self.system_message(state))
        return max(0, self.backend_config.n_ctx - system - TURN_RESERVE_TOKENS)


class Agent(ABC):
    name: ClassVar[str]
    reads: ClassVar[frozenset[str]]
    writes: ClassVar[frozenset[str]]
    roles: ClassVar[dict[str, str]] = {}
    Params: ClassVar[type[AgentParams]] = AgentParams

    def __init__(self, params: AgentParams, prompts: dict[str, Prompt]) -> None:
        self.params = params
        self.prompts = prompts

    @abstractmethod
    def run(self, state: CampaignState, ctx: RunContext) -> None:
        """Read the declared fields of ``state``, write the declared ones."""


def one_of(values: Sequence[Any]) -> Any:
    """``Literal[*values]``: a type whose JSON schema is an enum, for schemas built at run time."""
    return Literal[tuple(values)]  # type: ignore[valid-type]


def list_of(item: Any, *, min_items: int = 0, max_items: int | None = None) -> Any:
    """``list[item]`` with item-count bounds (``minItems`` / ``maxItems`` in the schema)."""
    return Annotated[list[item], Field(min_length=min_items, max_length=max_items)]  # type: ignore[valid-type]


def text_field(max_chars: int | None = None, min_chars: int = 1) -> Any:
    """A string with length bounds (``minLength`` / ``maxLength``)."""
    return Annotated[str, Field(min_length=min_chars, max_length=max_chars)]


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Resolve ``$ref``s into a self-contained schema (every backend's grammar compiler accepts it)."""
    defs = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
            # "title" annotations are noise to a grammar; a *property* named title is a dict and stays.
            return {
                k: resolve(v)
                for k, v in node.items()
                if k != "$defs" and not (k == "title" and isinstance(v, str))
            }
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


def extract_json(text: str) -> str:
    """The JSON object in a model answer (tolerates code fences and text around it)."""
    text = _FENCE.sub("", text.strip())
    start = text.find("{")
    end = text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text


def close_truncated_json(text: str) -> str | None:
    """Best-effort completion of JSON cut off by ``max_tokens``: close the open string, drop a dangling
    key or separator, close open arrays/objects. Returns None when nothing sensible is left."""
    text = _FENCE.sub("", text.strip())
    start = text.find("{")
    if start < 0:
        return None
    text = text[start:]
    stack: list[str] = []
    in_string = escaped = False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack:
            stack.pop()
        if not stack and i > 0:
            return text[: i + 1]  # already complete
    candidate = text
    if in_string:
        candidate = candidate[:-1] if escaped else candidate
        candidate += '"'
    candidate = re.sub(r'(,\s*|:\s*|,\s*"[^"]*"\s*:?\s*)$', "", candidate.rstrip())
    closed = candidate + "".join(reversed(stack))
    try:
        json.loads(closed, strict=False)
    except ValueError:
        return None
    return closed


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _summarise(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'root'}: {e['msg']}" for e in exc.errors()[:6])
    return str(exc)[:300]


def _parse(text: str, output: type[T]) -> T:
    # strict=False: grammars let models put raw newlines inside strings; the meaning is unambiguous.
    return output.model_validate(json.loads(extract_json(text), strict=False))


_schemas: weakref.WeakKeyDictionary[type[BaseModel], dict[str, Any]] = weakref.WeakKeyDictionary()
_schemas_lock = threading.Lock()


def json_schema_of(output: type[BaseModel]) -> dict[str, Any]:
    """``output``'s self-contained JSON schema, generated once per model class (pydantic's schema
    generation costs about 2 ms, every model call asks for it). Callers get their own copy."""
    with _schemas_lock:
        schema = _schemas.get(output)
        if schema is None:
            schema = _schemas[output] = inline_refs(output.model_json_schema())
    return copy.deepcopy(schema)


def estimate_tokens(text: str) -> int:
    """A safe over-estimate of ``text``'s token count for any of the supported models' tokenizers: one
    token per non-ASCII character (CJK), one per 3 ASCII characters."""
    ascii_chars = sum(1 for ch in text if ch < "\x80")
    return len(text) - ascii_chars + ascii_chars // 3 + 1


# What a threaded call keeps free for its own turn and its answer, besides the system message.
TURN_RESERVE_TOKENS = 2048


def conversation(state: CampaignState, channel: str | None, budget: int) -> list[Turn]:
    """The turns a threaded prompt about ``channel`` (None: the campaign) is sent after: the campaign's
    turns, then the newest of the channel's that fit in ``budget`` tokens (estimated) with them. What is
    left out is not shown: callers restate what they need from it (see :func:`RunContext.thread_budget`)."""
    shared = state.threads.get("", [])
    if channel is None:
        return list(shared)
    own = state.threads.get(channel, [])
    budget -= sum(estimate_tokens(t.user) + estimate_tokens(t.answer) for t in shared)
    kept = 0
    for turn in reversed(own):
        budget -= estimate_tokens(turn.user) + estimate_tokens(turn.answer)
        if budget < 0:
            break
        kept += 1
    return [*shared, *own[len(own) - kept :]]


def ask(
    ctx: RunContext,
    state: CampaignState,
    *,
    agent: str,
    prompt: Prompt,
    variables: dict[str, Any],
    output: type[T],
    channel: str | None = None,
    max_tokens: int | None = None,
    max_repairs: int = 2,
) -> T:
    """One structured model call: render, constrain, validate, repair; trace every attempt. A threaded
    prompt goes after its conversation's turns, and its exchange is added to the thread."""
    schema = json_schema_of(output)
    user = prompt.render(**variables)
    history: list[ChatMessage] = []
    for turn in conversation(state, channel, ctx.thread_budget(state)) if prompt.thread else []:
        history += [{"role": "user", "content": turn.user}, {"role": "assistant", "content": turn.answer}]
    messages: list[ChatMessage] = [
        {"role": "system", "content": ctx.system_message(state)},
        *history,
        {"role": "user", "content": user},
    ]
    asked = len(messages)
    params = GenerationParams.from_config(ctx.backend_config, max_tokens=max_tokens, continued=prompt.thread)
    last_text, errors = "", ""
    for attempt in range(1, max_repairs + 2):
        started = time.perf_counter()
        completion = ctx.backend.complete(messages, json_schema=schema, params=params)
        entry = TraceEntry(
            step=f"{agent}:{channel}" if channel else agent,
            agent=agent,
            channel=channel,
            prompt=prompt.ref,
            prompt_hash=prompt.hash,
            backend=completion.backend,
            model=completion.model,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            seconds=round(completion.seconds or time.perf_counter() - started, 4),
            attempt=attempt,
            cached_prompt_tokens=completion.cached_prompt_tokens,
            prompt_seconds=_round(completion.prompt_seconds),
            generation_seconds=_round(completion.generation_seconds),
        )
        try:
            result = _parse(completion.text, output)
        except (ValidationError, ValueError) as exc:
            salvaged = close_truncated_json(completion.text) if completion.finish_reason == "length" else None
            if salvaged is not None:
                try:
                    result = _parse(salvaged, output)
                except (ValidationError, ValueError):
                    pass
                else:  # cut off mid-text but complete in structure: later limit checks trim the text
                    state.trace.append(
                        entry.model_copy(update={"error": "cut off at max_tokens; JSON closed"})
                    )
                    _record(state, prompt, channel, user, salvaged)
                    return result
            last_text, errors = completion.text, _summarise(exc)
            if completion.finish_reason == "length":
                errors = f"the answer was cut off at {params.max_tokens} tokens before the JSON was complete"
            state.trace.append(entry.model_copy(update={"ok": False, "error": errors}))
            shorter = " and keep it shorter" if completion.finish_reason == "length" else ""
            messages = [
                *messages[:asked],
                {"role": "assistant", "content": completion.text},
                {
                    "role": "user",
                    "content": f"That answer was not valid: {errors}. "
                    f"Reply again with the complete, corrected JSON only{shorter}.",
                },
            ]
            continue
        state.trace.append(entry)
        _record(state, prompt, channel, user, completion.text)
        return result
    raise StructuredOutputError(
        agent if channel is None else f"{agent}:{channel}", prompt.ref, errors, last_text
    )


def _record(state: CampaignState, prompt: Prompt, channel: str | None, user: str, answer: str) -> None:
    if prompt.thread:
        state.threads.setdefault(channel or "", []).append(Turn(prompt=prompt.ref, user=user, answer=answer))


def mark_turn(state: CampaignState, prompt: Prompt, channel: str | None, **shows: Any) -> None:
    """Say what the answer of the turn just recorded for ``prompt`` shows (``shows=``, ``draft=``)."""
    turns = state.threads.get(channel or "", [])
    if prompt.thread and turns and turns[-1].prompt == prompt.ref:
        turns[-1] = turns[-1].model_copy(update=shows)
