"""Pipeline YAML: validation at load time, golden round-trip, backend overrides."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from backends import resolve_backend
from backends.llamacpp import LlamaCppConfig
from core.errors import InputError
from pipelines.spec import (
    PIPELINES_DIR,
    builtin_pipelines,
    dump_pipeline,
    load_pipeline,
    load_pipeline_spec,
)

pytestmark = pytest.mark.unit
GOLDEN = Path(__file__).parent / "golden"

BASE = """\
name: t
steps:
  - agent: retriever
  - agent: strategist
  - agent: copywriter
  - agent: reviewer
  - agent: compliance
"""


def _load(tmp_path: Path, text: str):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return load_pipeline(path)


@pytest.mark.parametrize("name", builtin_pipelines())
def test_builtin_pipelines_round_trip(name: str) -> None:
    """Load -> dump is the golden form, and loading the dump gives the same spec."""
    spec, _ = load_pipeline_spec(name)
    dumped = dump_pipeline(spec)
    golden = GOLDEN / f"{name}.pipeline.yaml"
    if os.environ.get("BRANDFORGE_UPDATE_SNAPSHOTS") == "1":
        golden.write_text(dumped, encoding="utf-8")
    elif not golden.exists():
        pytest.fail(
            f"golden file {golden} is missing; write it with BRANDFORGE_UPDATE_SNAPSHOTS=1 and review it"
        )
    assert dumped == golden.read_text(encoding="utf-8")
    again = load_pipeline_spec(golden)[0]
    assert again == spec
    pipeline = load_pipeline(name)
    assert [a.name for a in pipeline.agents] == [
        "retriever",
        "strategist",
        "spotlight",  # the story the blog retells (features: story)
        "copywriter",
        "reviewer",
        "compliance",
    ]


def test_defaults_fill_prompts(tmp_path: Path) -> None:
    pipeline = _load(tmp_path, BASE)
    assert pipeline.agents[2].prompts["draft"].ref == "copywriter.draft@2"
    assert pipeline.context_prompt.ref == "context.system@1"


def test_prompt_written_for_another_system_prompt_fails_at_load(tmp_path: Path) -> None:
    """draft@3 leaves its instructions to context.system@2: under @1 the model would never see them."""
    v3 = BASE.replace("agent: copywriter\n", "agent: copywriter\n    prompts: {draft: copywriter.draft@3}\n")
    with pytest.raises(
        InputError,
        match=r"p\.yaml: steps\[2\]\.prompts\.draft: prompt copywriter\.draft@3 \(slot 'draft' of agent "
        r"'copywriter'\) is written for the system prompt context\.system@2, but this pipeline's "
        r"context_prompt is context\.system@1; set context_prompt to context\.system@2",
    ):
        _load(tmp_path, v3)
    assert _load(tmp_path, "context_prompt: context.system@2\n" + v3).context_prompt.ref == "context.system@2"
    # Prompts that carry their own instructions (the defaults) work under either system prompt.
    assert _load(tmp_path, "context_prompt: context.system@2\n" + BASE).agents[2].prompts["draft"].ref == (
        "copywriter.draft@2"
    )


def test_unknown_agent_lists_choices(tmp_path: Path) -> None:
    with pytest.raises(
        InputError,
        match=r"p\.yaml: steps\[1\]\.agent: unknown agent 'strategy'; valid choices: "
        r"\['compliance', 'copywriter'",
    ):
        _load(tmp_path, BASE.replace("agent: strategist", "agent: strategy"))


def test_unknown_prompt_lists_choices(tmp_path: Path) -> None:
    text = BASE.replace("agent: copywriter", "agent: copywriter\n    prompts: {draft: copywriter.draft@99}")
    with pytest.raises(
        InputError,
        match=r"steps\[2\]\.prompts\.draft: unknown version 'copywriter.draft@99'; "
        r"valid choices: \['copywriter.draft@1'",
    ):
        _load(tmp_path, text)


def test_unknown_prompt_slot(tmp_path: Path) -> None:
    text = BASE.replace("agent: copywriter", "agent: copywriter\n    prompts: {write: copywriter.draft@1}")
    with pytest.raises(
        InputError,
        match=r"has no prompt slot 'write'; valid choices: "
        r"\['draft', 'expand', 'outline', 'retell', 'section', 'story'\]",
    ):
        _load(tmp_path, text)


def test_prompt_of_another_role_fails_at_load(tmp_path: Path) -> None:
    """The compliance claims prompt in the reviewer's review slot: refused when the pipeline loads, naming
    the file, the field and the versions that do serve the slot's role, before any model call."""
    text = BASE.replace("agent: reviewer", "agent: reviewer\n    prompts: {review: compliance.claims@1}")
    with pytest.raises(InputError) as caught:
        _load(tmp_path, text)
    assert str(caught.value) == (
        f"{tmp_path / 'p.yaml'}: steps[3].prompts.review: prompt compliance.claims@1 serves the role "
        "'compliance.claims', not 'reviewer.review'; slot 'review' of agent 'reviewer' takes the role "
        "'reviewer.review'; valid choices: ['reviewer.review@1', 'reviewer.review@2', 'reviewer.review@3']"
    )
    # The system prompt is a role too.
    with pytest.raises(InputError, match=r"context_prompt: prompt reviewer\.review@2 serves the role"):
        _load(tmp_path, "context_prompt: reviewer.review@2\n" + BASE)


def test_unknown_param(tmp_path: Path) -> None:
    text = BASE.replace("agent: reviewer", "agent: reviewer\n    params: {max_rounds: 3}")
    with pytest.raises(InputError, match=r"(?s)steps\[3\]\.params.*max_rounds: unknown field"):
        _load(tmp_path, text)


def test_step_reading_unwritten_state_fails_at_load(tmp_path: Path) -> None:
    text = BASE.replace(
        "  - agent: retriever\n  - agent: strategist\n", "  - agent: strategist\n  - agent: retriever\n"
    )
    with pytest.raises(
        InputError, match=r"steps\[0\]: agent 'strategist' reads \['passages'\] but no earlier step"
    ):
        _load(tmp_path, text)


def test_pipeline_must_deliver_pieces(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no step writes 'pieces'"):
        _load(tmp_path, BASE.replace("  - agent: compliance\n", ""))


def test_unknown_top_level_field_and_backend(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="stepz: unknown field"):
        _load(tmp_path, BASE + "stepz: []\n")
    with pytest.raises(InputError, match=r"backend\.kind: unknown backend 'gpt'; valid choices: \[.*'fake'"):
        _load(tmp_path, BASE + "backend: {kind: gpt}\n")


def test_unknown_pipeline_name() -> None:
    with pytest.raises(InputError, match=r"unknown pipeline 'fast'; valid choices: \['default'"):
        load_pipeline("fast")


def test_backend_precedence(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    yaml_cfg = LlamaCppConfig(temperature=0.1)
    monkeypatch.setenv("BRANDFORGE_BACKEND", "openai")
    monkeypatch.setenv("BRANDFORGE_BASE_URL", "http://127.0.0.1:9/v1")
    cfg = resolve_backend(yaml_cfg, {})
    assert (cfg.kind, cfg.base_url, cfg.temperature) == ("openai", "http://127.0.0.1:9/v1", 0.1)
    cfg = resolve_backend(yaml_cfg, {"kind": "fake"})
    assert cfg.kind == "fake"
    monkeypatch.delenv("BRANDFORGE_BACKEND")
    # A shell set up for a server (BRANDFORGE_BASE_URL, _API_KEY) does not stop a llamacpp pipeline from
    # loading: the variable is ignored, with a warning in the log.
    with caplog.at_level(logging.WARNING, logger="backends"):
        cfg = resolve_backend(yaml_cfg, {})
    assert cfg.kind == "llamacpp" and not hasattr(cfg, "base_url")
    assert "BRANDFORGE_BASE_URL is set but backend 'llamacpp' has no field 'base_url'" in caplog.text
    # An explicit override the backend does not take is still an error.
    with pytest.raises(InputError, match=r"override base_url sets backend\.base_url, which backend 'l"):
        resolve_backend(yaml_cfg, {"base_url": "http://127.0.0.1:9/v1"})
    monkeypatch.delenv("BRANDFORGE_BASE_URL")
    with pytest.raises(InputError, match="max_tokens"):
        resolve_backend(yaml_cfg, {"max_tokens": 1})


def test_shipped_schema_is_current() -> None:
    import json

    from pipelines.spec import pipeline_json_schema

    shipped = json.loads((PIPELINES_DIR.parent / "docs" / "pipeline.schema.json").read_text())
    assert shipped == pipeline_json_schema()
