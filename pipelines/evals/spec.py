r"""Eval suites as YAML: cases, targets and assertions, validated at load time.

Contract: a suite file holds ``cases``. A case targets either a **channel** of a full campaign
(``brand`` + ``channel``: the piece the pipeline delivers) or one **agent** with fixed inputs
(``brand`` + ``agent`` + ``inputs``, e.g. the reviewer on a given draft), runs ``repeat`` times and
passes when at least ``pass_rate`` of the runs pass every assertion. :func:`load_suites` validates
everything a run would trip on — unknown assertion types or fields, a field the channel does not have,
a brand folder that does not exist, an agent input that is not a state field, a regex that does not
compile — and names the file and the case in the error.

Regexes (``regex``, ``not_regex``) are RE2 syntax and run with RE2, whose matching time is linear in
the text: they run on model output, which no one controls. RE2 has no look-around or backreferences
("must not match" is ``not_regex``), and its ``\w``, ``\d`` and ``\b`` are ASCII (``\p{L}``,
``\p{Han}`` and ``\p{N}`` cover other scripts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agents.channels import load_channels
from agents.state import STATE_FIELDS
from core.errors import InputError
from core.yamlio import load_model
from knowledge.brand import load_brand
from policy.text import linear_regex


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Text(_Strict):
    field: str | None = Field(
        None, description="Channel field (campaign cases) or dotted output path (agent cases)."
    )


class Contains(_Text):
    type: Literal["contains"]
    value: str
    case_sensitive: bool = False


class NotContains(_Text):
    type: Literal["not_contains"]
    value: str
    case_sensitive: bool = False


class MaxChars(_Text):
    type: Literal["max_chars"]
    value: int = Field(ge=0)


class MinChars(_Text):
    type: Literal["min_chars"]
    value: int = Field(ge=0)


class MaxWords(_Text):
    type: Literal["max_words"]
    value: int = Field(ge=0)


MAX_REGEX_CHARS = 1_000
_REGEX_HELP = (
    f"RE2 syntax, at most {MAX_REGEX_CHARS:,} characters: no look-around or backreferences; "
    r"\w \d \b are ASCII (use \p{L}, \p{Han}, \p{N})."
)


class _Pattern(_Text):
    value: str = Field(max_length=MAX_REGEX_CHARS, description=_REGEX_HELP)

    @field_validator("value")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            linear_regex(value)
        except ValueError as exc:
            raise ValueError(f"invalid regex ({exc}); expected {_REGEX_HELP}") from None
        return value


class Regex(_Pattern):
    """Passes when the pattern matches somewhere in the text."""

    type: Literal["regex"]


class NotRegex(_Pattern):
    """Passes when the pattern matches nowhere in the text (RE2 has no negative look-ahead)."""

    type: Literal["not_regex"]


class Language(_Text):
    type: Literal["language"]
    value: Literal["en", "zh"]


class Equals(_Text):
    type: Literal["equals"]
    value: Any


class CitesKnowledge(_Strict):
    type: Literal["cites_knowledge"]
    min: int = Field(1, ge=0, description="At least this many citations, every one a real passage.")


class ComplianceVerdict(_Strict):
    type: Literal["compliance"]
    verdict: list[Literal["pass", "revised", "blocked"]] = Field(min_length=1)


class NoFindings(_Strict):
    type: Literal["no_findings"]
    rules: list[str] = Field(
        min_length=1,
        description="Rule ids (or prefixes ending in '.', e.g. 'quality.'): the delivered piece carries no "
        "unfixed finding of any of them.",
    )


class SimilarTo(_Text):
    type: Literal["similar_to"]
    value: str
    min: float = Field(ge=-1.0, le=1.0)


class LlmRubric(_Text):
    type: Literal["llm_rubric"]
    value: str = Field(description="What a good answer does, judged by the model (score 1-5, scaled to 0-1).")
    min: float = Field(0.75, ge=0.0, le=1.0)


Assertion = Annotated[
    Contains
    | NotContains
    | MaxChars
    | MinChars
    | MaxWords
    | Regex
    | NotRegex
    | Language
    | Equals
    | CitesKnowledge
    | ComplianceVerdict
    | NoFindings
    | SimilarTo
    | LlmRubric,
    Field(discriminator="type"),
]
ASSERTION_TYPES = sorted(
    t.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
    for t in (
        Contains,
        NotContains,
        MaxChars,
        MinChars,
        MaxWords,
        Regex,
        NotRegex,
        Language,
        Equals,
        CitesKnowledge,
        ComplianceVerdict,
        NoFindings,
        SimilarTo,
        LlmRubric,
    )
)


class EvalCase(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    brand: str = Field(description="Brand folder, relative to the suite file.")
    channel: str = Field(description="The channel whose piece (or agent output) is checked.")
    agent: str | None = Field(None, description="Run only this agent (with `inputs`) instead of a campaign.")
    inputs: dict[str, Any] = Field(default_factory=dict, description="State fields given to the agent.")
    known_failure: str | None = Field(
        None,
        description="A known bug this case shows (issue, reason). It must keep failing: when it passes the "
        "run fails (XPASS) so the marker is removed.",
    )
    repeat: int = Field(1, ge=1, le=20)
    pass_rate: float = Field(1.0, ge=0.0, le=1.0)
    assertions: list[Assertion] = Field(alias="assert", min_length=1)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _inputs_need_an_agent(self) -> EvalCase:
        if self.inputs and not self.agent:
            raise ValueError("`inputs` is only for agent cases; add `agent:` or remove `inputs`")
        return self


class EvalSuite(_Strict):
    description: str = ""
    pipeline: str | None = Field(None, description="Default pipeline for the suite (CLI --pipeline wins).")
    cases: list[EvalCase] = Field(min_length=1)
    path: Path | None = Field(None, exclude=True)

    def brand_dir(self, case: EvalCase) -> Path:
        assert self.path is not None
        return (self.path.parent / case.brand).resolve()


def _check_case(suite: EvalSuite, n: int, case: EvalCase, source: Path) -> None:
    where = f"cases[{n}] ({case.id})"
    brand_dir = suite.brand_dir(case)
    if not (brand_dir / "brand.yaml").is_file():
        raise InputError(f"brand folder not found: {brand_dir}", source=source, field=f"{where}.brand")
    load_brand(brand_dir)  # a brand.yaml that does not validate is this case's error, named now
    channels = load_channels(brand_dir / "channels")
    if case.channel not in channels:
        raise InputError(
            f"unknown channel {case.channel!r}; valid choices: {sorted(channels)}",
            source=source,
            field=f"{where}.channel",
        )
    fields = [f.name for f in channels[case.channel].fields]
    for k, assertion in enumerate(case.assertions):
        field = getattr(assertion, "field", None)
        if field is None:
            continue
        if case.agent is None and field not in fields:
            raise InputError(
                f"channel {case.channel!r} has no field {field!r}; valid choices: {fields}",
                source=source,
                field=f"{where}.assert[{k}].field",
            )
    if case.agent is not None:
        from agents import AGENTS

        if case.agent not in AGENTS:
            raise InputError(
                f"unknown agent {case.agent!r}; valid choices: {sorted(AGENTS)}",
                source=source,
                field=f"{where}.agent",
            )
        unknown = sorted(set(case.inputs) - STATE_FIELDS)
        if unknown:
            raise InputError(
                f"unknown state field {unknown[0]!r}; valid choices: {sorted(STATE_FIELDS)}",
                source=source,
                field=f"{where}.inputs",
            )


def load_suite(path: Path) -> EvalSuite:
    if not path.is_file():
        raise InputError("eval suite not found", source=path)
    suite = load_model(path, EvalSuite).model_copy(update={"path": path.resolve()})
    ids = [c.id for c in suite.cases]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise InputError(f"case id used twice: {dupes[0]!r}", source=path, field="cases")
    for n, case in enumerate(suite.cases):
        _check_case(suite, n, case, path)
    return suite


def load_suites(paths: list[Path]) -> list[EvalSuite]:
    """Load and validate suite files (folders: every ``*.yaml`` in them); ids must be unique across all."""
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    if not files:
        raise InputError("no eval suite files found", source=", ".join(str(p) for p in paths) or None)
    suites = [load_suite(f) for f in files]
    seen: dict[str, Path] = {}
    for suite in suites:
        for case in suite.cases:
            assert suite.path is not None
            if case.id in seen:
                raise InputError(f"case id {case.id!r} is also used in {seen[case.id]}", source=suite.path)
            seen[case.id] = suite.path
    return suites
