"""The agent contract, the run context, and structured calls with bounded repair.

Contract (every agent in :mod:`agents`):
- An agent class has a registered ``name``; the state fields it ``reads`` and ``writes`` — every field it
  touches, the run's bookkeeping (``trace``, ``threads``, ``errors``, ``revisions``) included; its prompt
  ``slots`` (slot -> :class:`~agents.roles.PromptSlot`: the role the slot takes and its default
  ``id@version``); and a ``Params`` model (``extra="forbid"``) for its pipeline parameters. It is built
  from (params, prompts) and does its work in ``run(state, ctx)``, reading and writing only the fields it
  declared. An agent module imports shared helpers (:mod:`agents.citations`, :mod:`agents.threads`,
  :mod:`agents.drafts`, :mod:`agents.revision`, :mod:`agents.roles`), never another agent module.
- Model calls go through :func:`ask`: the shared system message (brand + passages, identical for every
  call of a campaign so backends reuse its KV cache) plus the prompt rendered from its role's typed
  inputs, the JSON schema of the role's (constrained) answer model passed to the backend's constrained
  decoding, and validation into the role's typed ``output`` model, which is what :func:`ask` returns.
  Malformed output is re-asked at most ``max_repairs`` times with the validation errors; then
  :class:`StructuredOutputError` is raised — never a crash on what the model wrote.
- A prompt with ``thread: true`` is a turn in a conversation: :func:`ask` sends it after the turns of
  its thread (``state.threads``: the campaign's, then its channel's; see :mod:`agents.threads`) and
  records the exchange, the answer verbatim. Each call then adds only its own turn to a prefix the
  backend has already evaluated, instead of restating the brief or the draft it is about.
- Every attempt, good or bad, becomes a :class:`~agents.state.TraceEntry`.
"""

from __future__ import annotations

import json
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.roles import ANSWER_SHAPE, AnswerRole, PromptSlot, RoleInputs, SystemInputs
from agents.schema import answer_shape, json_schema_of
from agents.state import CampaignState, TraceEntry
from agents.threads import TURN_RESERVE_TOKENS, conversation, estimate_tokens, record_turn
from backends import BackendConfig, ChatMessage, GenerationParams, LLMBackend
from knowledge.index import FaissKnowledgeIndex
from prompts import Prompt, PromptError

T = TypeVar("T", bound=BaseModel)
A = TypeVar("A", bound=BaseModel)

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

    def system_message(self, state: CampaignState, *, passages: bool = True) -> str:
        """The shared context prompt rendered for ``state``: with the campaign's passages, or (``passages``
        false, for a prompt that carries its own source) with none."""
        shown = state.passages if passages else []
        key = tuple(p.id for p in shown)
        if key not in self._system_cache:
            inputs = SystemInputs(brand=state.brand, language_name=language_name(state), passages=shown)
            self._system_cache[key] = self.context_prompt.render(**inputs.variables())
        return self._system_cache[key]

    def thread_budget(self, state: CampaignState) -> int:
        """Tokens (estimated) a conversation's earlier turns may take: the context window less the system
        message and :data:`TURN_RESERVE_TOKENS` for the new turn and its answer."""
        system = estimate_tokens(self.system_message(state))
        return max(0, self.backend_config.n_ctx - system - TURN_RESERVE_TOKENS)


class Agent(ABC):
    name: ClassVar[str]
    reads: ClassVar[frozenset[str]]
    # Fields of ``reads`` the agent does without when they are empty (compliance and the brief: a piece
    # checked on its own has no story to retell and no featured product to refill from).
    optional_reads: ClassVar[frozenset[str]] = frozenset()
    writes: ClassVar[frozenset[str]]
    slots: ClassVar[dict[str, PromptSlot]] = {}
    Params: ClassVar[type[AgentParams]] = AgentParams

    def __init__(self, params: AgentParams, prompts: dict[str, Prompt]) -> None:
        self.params = params
        self.prompts = prompts

    @abstractmethod
    def run(self, state: CampaignState, ctx: RunContext) -> None:
        """Read the declared fields of ``state``, write the declared ones."""


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


def extract_json(text: str) -> str:
    """The JSON object in a model answer (tolerates code fences and text around it)."""
    text = _FENCE.sub("", text.strip())
    start = text.find("{")
    end = text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text


CUT_OFF_NOTE = "cut off at max_tokens; JSON closed"  # the trace note of an answer salvaged by closing it


def answer_was_cut(state: CampaignState) -> bool:
    """Whether the last answer :func:`ask` returned was cut off at ``max_tokens`` and closed (salvaged)."""
    return bool(state.trace) and state.trace[-1].error == CUT_OFF_NOTE


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


def ask(
    ctx: RunContext,
    state: CampaignState,
    *,
    agent: str,
    prompt: Prompt,
    role: AnswerRole[A],
    inputs: RoleInputs,
    answer_model: type[BaseModel] | None = None,
    channel: str | None = None,
    max_tokens: int | None = None,
    max_repairs: int = 2,
) -> A:
    """One structured model call of ``role``: render ``prompt`` from ``inputs``, constrain decoding to
    ``answer_model``'s schema (the role's per-campaign narrowing; default: the role's own), validate,
    repair; trace every attempt. Returns the role's typed ``output``. A threaded prompt goes after its
    conversation's turns, and its exchange is added to the thread."""
    if prompt.role != role.name:  # load_pipeline refuses this; a caller that builds its own prompts may not
        raise PromptError(f"prompt {prompt.ref} serves the role {prompt.role!r}, not {role.name!r}")
    if not isinstance(inputs, role.inputs):
        raise TypeError(f"role {role.name!r} takes {role.inputs.__name__}, not {type(inputs).__name__}")
    constrained = answer_model or role.answer_model or role.output
    schema = json_schema_of(constrained)
    variables = inputs.variables()
    if ANSWER_SHAPE in prompt.inputs:
        variables[ANSWER_SHAPE] = answer_shape(schema)
    user = prompt.render(**variables)
    history: list[ChatMessage] = []
    for turn in conversation(state, channel, ctx.thread_budget(state)) if prompt.thread else []:
        history += [{"role": "user", "content": turn.user}, {"role": "assistant", "content": turn.answer}]
    messages: list[ChatMessage] = [
        {"role": "system", "content": ctx.system_message(state, passages=prompt.passages)},
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
            result = _parse(completion.text, constrained)
        except (ValidationError, ValueError) as exc:
            salvaged = close_truncated_json(completion.text) if completion.finish_reason == "length" else None
            if salvaged is not None:
                try:
                    result = _parse(salvaged, constrained)
                except (ValidationError, ValueError):
                    pass
                else:  # cut off mid-text but complete in structure: later limit checks trim the text
                    state.trace.append(entry.model_copy(update={"error": CUT_OFF_NOTE}))
                    record_turn(state, prompt, channel, user, salvaged)
                    return _typed(result, role)
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
        record_turn(state, prompt, channel, user, completion.text)
        return _typed(result, role)
    raise StructuredOutputError(
        agent if channel is None else f"{agent}:{channel}", prompt.ref, errors, last_text
    )


def _typed(answer: BaseModel, role: AnswerRole[A]) -> A:
    """``answer`` (valid against the constrained model) as the role's typed output."""
    if isinstance(answer, role.output):
        return answer
    try:
        return role.output.model_validate(answer.model_dump())
    except ValidationError as exc:  # a narrowing that is not one is a bug here, not the model's fault
        raise TypeError(
            f"{type(answer).__name__} is not a narrowing of {role.output.__name__} (role {role.name!r}): "
            f"{_summarise(exc)}"
        ) from exc


__all__ = [
    "Agent",
    "AgentParams",
    "RunContext",
    "StructuredOutputError",
    "answer_was_cut",
    "ask",
    "close_truncated_json",
    "extract_json",
    "language_name",
]
