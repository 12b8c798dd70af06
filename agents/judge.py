"""The compliance judge: a model that rules on the sentences the checker's rules and classifier cannot settle.

Contract: :class:`ModelJudge` implements :class:`policy.adjudication.Adjudicator`. For a list of
:class:`~policy.adjudication.Question` it asks the configured backend, through the ``compliance.judge``
role's prompt (:data:`JUDGE_PROMPT`) and constrained decoding of the role's answer model
(:func:`agents.roles.ruling_answer_model`), one question per call, greedily. It returns one
:class:`~policy.adjudication.Ruling` per question, in order, or ``None`` in a question's place when the
model could not answer it usably: the backend failed, the answer did not validate, the category is not
one of the question's candidates, the rationale is empty, or the offending words (``span_text``) are not
in the sentence — compared with runs of whitespace collapsed, and given back as the sentence writes
them. A ruling's ``extra`` names the prompt (``id@version``) and the model that answered.

One question per call, because that is both more accurate and faster per sentence on the embedded model
(``bench/judge.py``, BENCHMARKS.md): the fixed instructions are in the KV cache either way, and with four
sentences per call the 1.5B model mixed the sentences' rulings up.

The same object serves ``brandforge check --judge`` (built from a backend and its config) and a campaign
(:meth:`ModelJudge.for_run`: the run's backend, every call traced into the state as
:func:`agents.base.ask` traces its calls). It does not go through :func:`agents.base.ask`, which needs a
campaign state and puts the brand's context first: the judge must work without a brand, and its prompt
starts with fixed standing instructions (definitions, worked examples) that no question changes. Those
go as the system message, the question as the user message: llama.cpp then evaluates only the question
after the first call, keeps the instructions' KV state when the first call asks it to
(``GenerationParams.continued``) so that a campaign restores it after other agents' calls, and keeps it on
disk (``prompt_cache_mb``) so that the next ``brandforge check --judge`` loads it instead of evaluating
it again (the first judge call of a process asks for that; later ones do not, so a campaign keeps one
such state, not one per channel). The split is found by rendering the prompt for two unrelated probe
questions: the lines they share are the instructions.
"""

from __future__ import annotations

import functools
import json
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from agents.base import RunContext, close_truncated_json, extract_json
from agents.roles import ANSWER_SHAPE, JUDGE, JudgeInputs, RulingForm, ruling_answer_model
from agents.schema import answer_shape, json_schema_of
from agents.state import CampaignState, TraceEntry
from backends import BaseBackendConfig, ChatMessage, Completion, GenerationParams, LLMBackend
from core.errors import InputError, ServiceError
from policy.adjudication import Question, Ruling
from prompts import Prompt, default_registry

JUDGE_PROMPT = "compliance.judge@1"
"""The judge's prompt; a new version changes every ruling."""
ANSWER_FORMS: dict[str, RulingForm] = {
    "compliance.judge@2": "verdict_first",
    "compliance.judge@3": "short_clean",
    "compliance.judge@4": "found_or_null",
}
"""The answer's form per prompt (:func:`agents.roles.ruling_answer_model`; ``full`` when not listed).
``verdict_first``: the verdict alone when the sentence breaks nothing, and such a ruling's rationale is
:data:`NO_VIOLATION`; ``short_clean``: the rationale and the verdict alone when it breaks nothing."""
VERDICT_FIRST = frozenset(ref for ref, form in ANSWER_FORMS.items() if form == "verdict_first")
NO_VIOLATION = "no violation of the checked categories"
RATIONALE_CHARS = 160
"""A rationale is one line of at most this many characters (longer ones are cut)."""
MAX_TOKENS = 96
"""Generation budget per sentence: a ruling with a one-line rationale takes 30-50 tokens."""
_QUOTES = "\"'“”‘’「」『』<>《》"  # what a model may wrap copied words in: not part of the words

TraceSink = Callable[[TraceEntry], None]


class ModelJudge:
    """Adjudication by a language model (see the module docstring)."""

    def __init__(
        self,
        backend: LLMBackend,
        config: BaseBackendConfig,
        prompt: Prompt | None = None,
        *,
        trace: TraceSink | None = None,
        agent: str = "compliance",
        channel: str | None = None,
    ) -> None:
        prompt = prompt or default_registry().get(JUDGE_PROMPT)
        problem = JUDGE.check(prompt)
        if problem:
            raise InputError(f"the compliance judge's prompt cannot serve as one: {problem}")
        self.backend, self.config, self.prompt = backend, config, prompt
        self.trace, self.agent, self.channel = trace, agent, channel

    @classmethod
    def for_run(
        cls,
        ctx: RunContext,
        state: CampaignState,
        *,
        agent: str = "compliance",
        channel: str | None = None,
        prompt: Prompt | None = None,
    ) -> ModelJudge:
        """A judge for a campaign step: the run's backend, each call traced into ``state.trace``."""
        return cls(
            ctx.backend,
            ctx.backend_config,
            prompt,
            trace=state.trace.append,
            agent=agent,
            channel=channel,
        )

    @functools.cached_property
    def _instructions(self) -> str:
        """The lines of the rendered prompt that no question changes (up to the first line that differs
        between two renders of unrelated questions): sent as the system message, whose KV state the
        llama.cpp backend keeps, also on disk for later processes (prompt_cache_mb)."""
        probes = [
            JudgeInputs(sentence="\x01", locale="en", candidates=["superlative"], rules=[]),
            JudgeInputs(sentence="\x02", locale="zh", candidates=["pii", "secret"], rules=["x"]),
        ]
        first, second = (self.prompt.render(**_with_shape(p, self.prompt)) for p in probes)
        same = next((n for n, (a, b) in enumerate(zip(first, second, strict=False)) if a != b), len(first))
        return first[: first.rfind("\n", 0, same) + 1]

    def adjudicate(self, questions: list[Question]) -> list[Ruling | None]:
        """One ruling (or ``None``) per question, in order; a question without candidates is not asked."""
        return [self._judge(q) if q.candidates and q.sentence.strip() else None for q in questions]

    def _judge(self, question: Question) -> Ruling | None:
        inputs = _inputs(question)
        constrained = ruling_answer_model(tuple(inputs.candidates), _form(self.prompt))
        schema = json_schema_of(constrained)
        rendered = self.prompt.render(**_with_shape(inputs, self.prompt))
        fixed = self._instructions if rendered.startswith(self._instructions) else ""
        messages: list[ChatMessage] = [{"role": "user", "content": rendered[len(fixed) :]}]
        if fixed:
            messages.insert(0, {"role": "system", "content": fixed.rstrip()})
        params = GenerationParams.from_config(
            self.config,
            temperature=0.0,
            repeat_penalty=1.0,  # the offending words are copied from the sentence: never penalise that
            max_tokens=MAX_TOKENS,
            continued=_first_call(self.backend, self.prompt),  # keep the instructions' KV state
        )
        started = time.perf_counter()
        try:
            completion = self.backend.complete(messages, json_schema=schema, params=params)
        except ServiceError as exc:
            self._record(None, time.perf_counter() - started, f"{type(exc).__name__}: {exc}"[:300])
            return None
        answer, error = _parse(completion, constrained)
        self._record(completion, completion.seconds, error)
        if answer is None:
            return None
        return _checked(inputs, answer, {"prompt": self.prompt.ref, "model": completion.model})

    def _record(self, completion: Completion | None, seconds: float, error: str | None) -> None:
        if self.trace is None:
            return
        self.trace(
            TraceEntry(
                step=f"{self.agent}:{self.channel}" if self.channel else self.agent,
                agent=self.agent,
                channel=self.channel,
                prompt=self.prompt.ref,
                prompt_hash=self.prompt.hash,
                backend=completion.backend if completion else self.backend.kind,
                model=completion.model if completion else self.backend.model_name,
                prompt_tokens=completion.prompt_tokens if completion else 0,
                completion_tokens=completion.completion_tokens if completion else 0,
                seconds=round(seconds, 4),
                cached_prompt_tokens=completion.cached_prompt_tokens if completion else 0,
                prompt_seconds=_round(completion.prompt_seconds if completion else None),
                generation_seconds=_round(completion.generation_seconds if completion else None),
                ok=error is None,
                error=error,
            )
        )


_asked_before: weakref.WeakKeyDictionary[LLMBackend, set[str]] = weakref.WeakKeyDictionary()
_asked_lock = threading.Lock()


def _first_call(backend: LLMBackend, prompt: Prompt) -> bool:
    """Whether this is the process's first judge call with ``prompt`` on ``backend``: only that call
    asks the backend to keep its KV state (one saved state serves every later judge, of any channel,
    instead of one per judge crowding out the campaign's conversations)."""
    with _asked_lock:
        asked = _asked_before.setdefault(backend, set())
        first = prompt.hash not in asked
        asked.add(prompt.hash)
    return first


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _form(prompt: Prompt) -> RulingForm:
    """The form of ``prompt``'s answer (:data:`ANSWER_FORMS`)."""
    return ANSWER_FORMS.get(prompt.ref, "full")


def _with_shape(inputs: JudgeInputs, prompt: Prompt) -> dict[str, Any]:
    """The variables to render ``prompt`` with: the inputs, and the answer's shape if it shows one."""
    variables: dict[str, Any] = inputs.variables()
    if ANSWER_SHAPE in prompt.inputs:
        schema = json_schema_of(ruling_answer_model(tuple(inputs.candidates), _form(prompt)))
        variables[ANSWER_SHAPE] = answer_shape(schema)
    return variables


def _inputs(question: Question) -> JudgeInputs:
    ranked = sorted(question.candidates, key=lambda c: -question.candidates[c])  # stable: ties keep order
    return JudgeInputs(
        sentence=question.sentence.strip(),
        locale=question.locale,
        candidates=ranked,
        rules=list(question.rule_ids),
    )


def _parse(completion: Completion, model: type[BaseModel]) -> tuple[dict[str, Any] | None, str | None]:
    """The validated answer as plain data, or the reason there is none."""
    text = completion.text
    if completion.finish_reason == "length":  # cut off: usable only if what came is complete in structure
        closed = close_truncated_json(text)
        if closed is None:
            return None, f"the answer was cut off at max_tokens: {text[-80:]!r}"
        text = closed
    try:
        # strict=False: grammars let models put raw newlines inside strings; the meaning is unambiguous.
        return model.model_validate(json.loads(extract_json(text), strict=False)).model_dump(), None
    except (ValidationError, ValueError) as exc:
        return None, f"invalid answer: {str(exc).splitlines()[0][:200]}"


def _checked(question: JudgeInputs, answer: dict[str, Any], extra: dict[str, str]) -> Ruling | None:
    """``answer`` as a ruling on ``question``, or None when it is not a usable one."""
    if set(answer) == {"violation"} and not answer["violation"]:  # a verdict-first prompt's clean answer
        return Ruling(violation=False, category=None, rationale=NO_VIOLATION, extra=dict(extra))
    if "found" in answer:  # one object at the root: ``found`` is null when the sentence breaks nothing
        found = answer["found"] or {}
        answer = {"rationale": answer["rationale"], "violation": bool(found), **found}
    rationale = " ".join(str(answer["rationale"]).split())
    if not rationale:
        return None
    if len(rationale) > RATIONALE_CHARS:
        rationale = rationale[: RATIONALE_CHARS - 1].rstrip() + "…"
    if not answer["violation"]:  # a short clean answer has no category
        return Ruling(violation=False, category=None, rationale=rationale, extra=dict(extra))
    category = str(answer["category"])
    if category not in question.candidates:
        return None
    span: str | None = None
    copied = str(answer["span_text"]).strip()
    if copied:  # as written, else without the quotes or brackets a model may have put around the words
        span = locate(copied, question.sentence) or locate(copied.strip(_QUOTES), question.sentence)
        if span is None:
            return None
    return Ruling(violation=True, category=category, rationale=rationale, span_text=span, extra=dict(extra))


def locate(words: str, sentence: str) -> str | None:
    """``words`` as ``sentence`` writes them, comparing the two with every run of whitespace collapsed to
    one space; None when the sentence does not contain them."""
    wanted = " ".join(words.split())
    if not wanted:
        return None
    folded, origin = _collapse(sentence)
    at = folded.find(wanted)
    if at < 0:
        return None
    return sentence[origin[at] : origin[at + len(wanted) - 1] + 1]


def _collapse(text: str) -> tuple[str, Sequence[int]]:
    """``text`` with whitespace runs collapsed to one space (none at the ends), and for each character of
    the result the index of the character of ``text`` it comes from."""
    chars: list[str] = []
    origin: list[int] = []
    pending: int | None = None
    for i, ch in enumerate(text):
        if ch.isspace():
            if chars and pending is None:
                pending = i
            continue
        if pending is not None:
            chars.append(" ")
            origin.append(pending)
            pending = None
        chars.append(ch)
        origin.append(i)
    return "".join(chars), origin
