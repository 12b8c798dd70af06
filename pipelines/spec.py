"""Pipeline YAML: which backend, which retrieval, which agents with which prompts and parameters.

Contract: a pipeline file is validated by :class:`PipelineSpec` (``extra="forbid"``; JSON Schema from
:func:`pipeline_json_schema`). :func:`load_pipeline` resolves it into a :class:`Pipeline` and fails at
*load* time — never mid-campaign — on an unknown agent, prompt slot, prompt ``id@version`` or parameter,
on a prompt that does not serve its slot's role (:mod:`agents.roles`: the role it names, the variables
it uses, the answer keys it writes out; the error lists the versions that fit), and when a step reads a
state field that no earlier step writes. ``dump_pipeline`` writes the canonical
YAML form back (round-trip tested against a golden file). Names resolve in this order: a path to a
YAML file, then a built-in pipeline in ``pipelines/`` (``default``).

Every number a pipeline can set has a validated range (backend knobs in
:class:`~backends.BackendConfig`, agent parameters in each agent's ``Params``, and the number of
steps and prompt folders here), so a pipeline file cannot configure an unbounded amount of work or
requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents import Agent, agent_class
from agents.roles import SYSTEM, Role
from agents.state import INITIAL_FIELDS
from backends import BackendConfig, default_backend_config, resolve_backend
from core.errors import InputError, format_validation_error
from core.yamlio import confined_path, load_model
from knowledge.embedders import DEFAULT_EMBEDDER
from knowledge.index import DEFAULT_CHUNK_CHARS, FaissKind
from prompts import Prompt, PromptRegistry, default_registry
from prompts.registry import TEMPLATES_DIR

PIPELINES_DIR = Path(__file__).parent
MAX_STEPS = 16  # the default pipeline has 5; a variant may repeat a reviewer or two, not hundreds
MAX_PROMPT_DIRS = 16


class RetrievalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    embedder: str = Field(
        DEFAULT_EMBEDDER,
        description="use-multilingual | minilm | sentence-transformers:<model> | a name given to "
        "knowledge.embedders.register_embedder (any LangChain Embeddings)",
    )
    chunk_chars: int = Field(
        DEFAULT_CHUNK_CHARS, ge=80, le=4000, description="Maximum characters per passage."
    )
    faiss_index: FaissKind = Field(
        "flat",
        description="flat: exact search (default); hnsw: approximate graph search for very large "
        "knowledge folders (bench/retrieval.py compares them).",
    )


class StepConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent: str = Field(description="Registered agent name.")
    # The schema (docs/pipeline.schema.json) still says "role": the keys are the agent's prompt slots.
    prompts: dict[str, str] = Field(
        default_factory=dict,
        description="slot -> prompt id@version; the prompt must serve the slot's role (agents/roles.py).",
    )
    params: dict[str, Any] = Field(default_factory=dict, description="Agent parameters.")


class PipelineSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    backend: BackendConfig = Field(
        default_factory=default_backend_config,
        description="The LLM backend: its kind and that backend's settings (docs/backends.md).",
    )
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig)
    context_prompt: str = Field("context.system@1", description="Shared system prompt id@version.")
    prompt_dirs: list[str] = Field(
        default_factory=list,
        max_length=MAX_PROMPT_DIRS,
        description="Extra prompt folders (relative to this file) adding versions, e.g. a candidate v2.",
    )
    # Each step is a round of model calls per channel: a bound on steps is a bound on requests.
    steps: list[StepConfig] = Field(min_length=1, max_length=MAX_STEPS)


@dataclass
class Pipeline:
    """A validated pipeline, ready to run."""

    spec: PipelineSpec
    source: str
    agents: list[Agent]
    context_prompt: Prompt


def pipeline_json_schema() -> dict[str, Any]:
    return PipelineSpec.model_json_schema()


def builtin_pipelines() -> list[str]:
    return sorted(p.stem for p in PIPELINES_DIR.glob("*.yaml"))


def _resolve_path(name: str | Path) -> Path:
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise InputError("pipeline file not found", source=path)
        return path
    builtin = PIPELINES_DIR / f"{name}.yaml"
    if not builtin.is_file():
        raise InputError(
            f"unknown pipeline {str(name)!r}; valid choices: {builtin_pipelines()} or a path to a "
            "pipeline YAML file"
        )
    return builtin


def build_pipeline(spec: PipelineSpec, source: str, registry: PromptRegistry | None = None) -> Pipeline:
    """Resolve agents, prompts and params, and check the state-field chain."""
    registry = registry or default_registry()
    written = set(INITIAL_FIELDS)
    agents: list[Agent] = []
    for n, step in enumerate(spec.steps):
        where = f"steps[{n}]"
        cls = agent_class(step.agent, source=source, field=f"{where}.agent")
        unknown_slots = sorted(set(step.prompts) - set(cls.slots))
        if unknown_slots:
            raise InputError(
                f"agent {step.agent!r} has no prompt slot {unknown_slots[0]!r}; valid choices: "
                f"{sorted(cls.slots)}",
                source=source,
                field=f"{where}.prompts",
            )
        prompts: dict[str, Prompt] = {}
        for slot_name, slot in cls.slots.items():
            prompts[slot_name] = _prompt_for(
                registry,
                step.prompts.get(slot_name, slot.default),
                slot.role,
                f"slot {slot_name!r} of agent {step.agent!r}",
                source=source,
                field=f"{where}.prompts.{slot_name}",
            )
        try:
            params = cls.Params.model_validate(step.params)
        except ValidationError as exc:
            raise InputError(
                str(format_validation_error(exc)).replace("invalid configuration", "invalid params"),
                source=source,
                field=f"{where}.params",
            ) from None
        missing = sorted(cls.reads - written)
        if missing:
            raise InputError(
                f"agent {step.agent!r} reads {missing} but no earlier step writes them (written so "
                f"far: {sorted(written)})",
                source=source,
                field=where,
            )
        written |= cls.writes
        agents.append(cls(params, prompts))
    context = _prompt_for(
        registry,
        spec.context_prompt,
        SYSTEM,
        "the pipeline's context_prompt",
        source=source,
        field="context_prompt",
    )
    for n, agent in enumerate(agents):
        for slot_name, prompt in agent.prompts.items():
            if prompt.needs_context and context.ref not in prompt.needs_context:
                raise InputError(
                    f"prompt {prompt.ref} (slot {slot_name!r} of agent {agent.name!r}) is written for the "
                    f"system prompt {' or '.join(prompt.needs_context)}, but this pipeline's context_prompt "
                    f"is {context.ref}; set context_prompt to {prompt.needs_context[-1]} or pick a prompt "
                    f"version without that requirement",
                    source=source,
                    field=f"steps[{n}].prompts.{slot_name}",
                )
    if "pieces" not in written:
        raise InputError(
            "no step writes 'pieces'; a pipeline must end with a step that delivers pieces "
            "(the compliance agent)",
            source=source,
            field="steps",
        )
    return Pipeline(spec, source, agents, context)


def _prompt_for(
    registry: PromptRegistry, ref: str, role: Role, where: str, *, source: str, field: str
) -> Prompt:
    """The prompt ``ref`` names, checked against the ``role`` its place (``where``) takes; an unknown or
    unfit prompt lists the versions that fit."""
    try:
        prompt = registry.get(ref)
    except InputError as exc:
        raise InputError(str(exc), source=source, field=field) from None
    problem = role.check(prompt)
    if problem is not None:
        fitting = [p.ref for p in registry.serving(role.name) if role.check(p) is None]
        raise InputError(
            f"{problem}; {where} takes the role {role.name!r}; valid choices: {fitting}",
            source=source,
            field=field,
        )
    return prompt


def load_pipeline_spec(name: str | Path = "default") -> tuple[PipelineSpec, str]:
    path = _resolve_path(name)
    return load_model(path, PipelineSpec), str(path)


def load_pipeline(
    name: str | Path = "default", *, backend_overrides: dict[str, Any] | None = None
) -> Pipeline:
    """Load, apply backend overrides (env, then ``backend_overrides``), validate."""
    spec, source = load_pipeline_spec(name)
    spec = spec.model_copy(update={"backend": resolve_backend(spec.backend, backend_overrides or {})})
    registry = None
    if spec.prompt_dirs:
        root = Path(source).resolve().parent
        folders = [
            confined_path(root, rel, source=source, field=f"prompt_dirs[{n}]")
            for n, rel in enumerate(spec.prompt_dirs)
        ]
        for n, folder in enumerate(folders):
            if not folder.is_dir():
                raise InputError("prompt folder not found", source=source, field=f"prompt_dirs[{n}]")
        registry = PromptRegistry(TEMPLATES_DIR, *folders)
    return build_pipeline(spec, source, registry)


def dump_pipeline(spec: PipelineSpec) -> str:
    """Canonical YAML of a pipeline (only fields that were set), stable for golden-file tests."""
    data = spec.model_dump(mode="json", exclude_unset=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
