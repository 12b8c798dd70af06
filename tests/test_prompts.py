"""Prompts as data: strict rendering, load-time checks, and snapshots of every shipped version."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agents.channels import load_channels
from agents.roles import (
    REVIEW_ANSWER_MODEL,
    RUBRIC_ANSWER_MODEL,
    SectionPlanAnswer,
    brief_answer_model,
    claims_answer_model,
    draft_answer_model,
    outline_answer_model,
)
from agents.schema import answer_shape, json_schema_of
from agents.state import CreativeBrief, Draft, KeyMessage, RetrievedPassage
from knowledge.brand import load_brand
from prompts import PromptError, PromptRegistry, default_registry

pytestmark = pytest.mark.unit
SNAPSHOTS = Path(__file__).parent / "snapshots" / "prompts"


def _write(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(body, encoding="utf-8")
    return folder


def test_registry_lists_and_resolves() -> None:
    reg = default_registry()
    assert "copywriter.draft@1" in reg.refs()
    assert reg.get("copywriter.draft").ref == reg.versions("copywriter.draft")[-1].ref
    assert len(reg.get("copywriter.draft@1").hash) == 12


def test_unknown_prompt_lists_choices() -> None:
    with pytest.raises(
        PromptError, match=r"unknown prompt 'copywriter.drafts'; valid choices: \[.*'copywriter.draft'"
    ):
        default_registry().get("copywriter.drafts@1")
    with pytest.raises(PromptError, match=r"valid choices: \['copywriter.draft@1'"):
        default_registry().get("copywriter.draft@9")
    with pytest.raises(PromptError, match="malformed prompt reference"):
        default_registry().get("Copywriter draft")


def test_missing_variable_is_an_error() -> None:
    prompt = default_registry().get("compliance.claims@1")
    with pytest.raises(PromptError, match=r"missing variables \['sentences'\]"):
        prompt.render()


def test_undefined_attribute_is_an_error(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "t.x@1.yaml",
        "id: t.x\nversion: 1\ndescription: d\ninputs: [a]\ntemplate: '{{ a.missing }}'\n",
    )
    with pytest.raises(PromptError, match="undefined value"):
        PromptRegistry(tmp_path).get("t.x@1").render(a={})


def test_declared_inputs_must_match_template(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "t.x@1.yaml",
        "id: t.x\nversion: 1\ndescription: d\ninputs: [a, b]\ntemplate: '{{ a }} {{ c }}'\n",
    )
    with pytest.raises(PromptError, match=r"used but not declared \['c'\], declared but not used \['b'\]"):
        PromptRegistry(tmp_path)


def test_file_name_must_match_id_and_version(tmp_path: Path) -> None:
    _write(tmp_path, "t.x@2.yaml", "id: t.x\nversion: 1\ndescription: d\ninputs: []\ntemplate: hi\n")
    with pytest.raises(PromptError, match=r"file name must be 't.x@1.yaml'"):
        PromptRegistry(tmp_path)


def test_sandbox_blocks_attribute_escape(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "t.x@1.yaml",
        "id: t.x\nversion: 1\ndescription: d\ninputs: [a]\ntemplate: '{{ a.__class__.__mro__ }}'\n",
    )
    from jinja2.exceptions import SecurityError

    with pytest.raises((SecurityError, PromptError)):
        PromptRegistry(tmp_path).get("t.x@1").render(a="x")


def _fixed_inputs() -> dict:
    root = Path(__file__).parent.parent / "examples" / "brands"
    brand = load_brand(root / "tidewater")
    channel = load_channels()["search_ad"]
    passages = [
        RetrievedPassage(
            id="knowledge/a.md#0-aaaaaaaa",
            alias="P1",
            doc="knowledge/a.md",
            text="Fixed passage text.",
            score=0.9,
        )
    ]
    brief = CreativeBrief(
        audience_insight="Insight.",
        key_messages=[KeyMessage(text="Message.", citations=["P1"])],
        tone="warm",
        channel_angles={"search_ad": "Angle."},
    )
    draft = Draft(channel="search_ad", fields={f.name: "Text" for f in channel.fields}, citations=["P1"])
    return {
        "brand": brand,
        "channel": channel,
        "channels": [channel],
        "passages": passages,
        "brief": brief,
        "draft": draft,
        "edited": None,  # threaded prompts: the conversation shows the draft as it is
        "brief_shown": True,
        "angle": "Angle.",
        "channel_inputs": {"question": "Q?"},
        "focus": ["P1"],
        "case_rows": ["Cancel 15-29 days before the roast date: 70% back."],
        "requests": ["Shorten it."],
        "sentences": ["Ships within 48 hours.", "Hello."],
        "sentence": "My dad drank it for two months and his blood sugar is steady now.",
        "locale": "en",
        "candidates": ["health_claim", "guarantee"],
        "rules": ["en.health_effect"],
        "language_name": "English",
        "criterion": "Sounds warm and precise.",
        "text": "Roasted yesterday, at your door tomorrow.",
        "long_field": load_channels()["blog"].field("body"),
        "sections": 4,
        "title": "title: Fixed title",
        "outline": [
            SectionPlanAnswer(heading="Opening", points="Roasted the day it ships.", citations=["P1"]),
            SectionPlanAnswer(heading="Closing", points="Order today.", citations=[]),
        ],
        "index": 2,
        "words": 110,
        "previous": "The end of the first section.",
        "product": brand.products[0],
        "passage": "Harbor Light keeps for a month in its sealed bag.",
        "featured": brand.products[0],
        "story": [
            "Tidewater was founded in 2013 by Maya Okafor and Ben Lindqvist.",
            "Every coffee is roasted in batches of up to 15 kg.",
        ],
        "instruction": "Lead with the spring departures.",
        "customer_voice": ["M1"],
        "brand_name": "Tidewater Coffee Roasters",
        "rivals": ["Summit Beans"],
        "examples": ["The roast date was a week old when it arrived.", "Stale beans again this month."],
        "terms": ["stale", "roast date", "old"],
    }


def _answer_shape(role: str, inputs: dict) -> str:
    """The ``answer_shape`` variable ask() gives a prompt of ``role``, for the fixed inputs."""
    aliases = tuple(p.alias for p in inputs["passages"])
    models = {
        "copywriter.draft": lambda: draft_answer_model(inputs["channel"], aliases),
        "copywriter.revise": lambda: draft_answer_model(inputs["channel"], aliases),
        "copywriter.outline": lambda: outline_answer_model(load_channels()["blog"], "body", 4, aliases),
        "strategist.brief": lambda: brief_answer_model(aliases, tuple(c.name for c in inputs["channels"])),
        "compliance.claims": lambda: claims_answer_model(len(inputs["sentences"]), aliases),
        "reviewer.review": lambda: REVIEW_ANSWER_MODEL,
        "evals.rubric": lambda: RUBRIC_ANSWER_MODEL,
    }
    return answer_shape(json_schema_of(models[role]()))


@pytest.mark.parametrize("ref", default_registry().refs())
def test_rendered_prompt_snapshot(ref: str) -> None:
    """Any prompt change shows up here as a diff; bless with BRANDFORGE_UPDATE_SNAPSHOTS=1."""
    prompt = default_registry().get(ref)
    inputs = _fixed_inputs()
    if "answer_shape" in prompt.inputs:
        inputs["answer_shape"] = _answer_shape(prompt.role, inputs)
    rendered = prompt.render(**{name: inputs[name] for name in prompt.inputs})
    snapshot = SNAPSHOTS / f"{ref}.txt"
    if os.environ.get("BRANDFORGE_UPDATE_SNAPSHOTS") == "1":
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(rendered, encoding="utf-8")
    elif not snapshot.exists():
        pytest.fail(
            f"snapshot {snapshot} is missing; write it with BRANDFORGE_UPDATE_SNAPSHOTS=1 and review it"
        )
    assert rendered == snapshot.read_text(encoding="utf-8")


def test_threaded_prompts_restate_what_the_conversation_does_not_show() -> None:
    """v2+ prompts refer to the brief and draft above; when the draft was edited since the model wrote it
    (or the brief is not in the conversation) they restate it."""
    inputs = _fixed_inputs()
    edited = inputs["draft"].model_copy(update={"fields": {"headline": "Edited headline"}})
    for ref in ("reviewer.review@2", "reviewer.review@3"):
        prompt = default_registry().get(ref)
        assert prompt.thread
        plain = prompt.render(**inputs)
        restated = prompt.render(**{**inputs, "edited": edited})
        assert "above" in plain and "Edited headline" not in plain
        assert '"headline": Edited headline' in restated and "below" in restated
    for ref in ("copywriter.draft@2", "copywriter.draft@3", "copywriter.draft@4"):
        draft = default_registry().get(ref)
        assert "Message." not in draft.render(**inputs) and "brief above" in draft.render(**inputs)
        assert "Message. [P1]" in draft.render(**{**inputs, "brief_shown": False})
    assert not default_registry().get("copywriter.draft@1").thread


def test_a_shape_written_from_the_answer_model_renders_like_the_hand_written_one() -> None:
    """copywriter.draft@5 is v2 with "Return JSON: {{ answer_shape }}": the shape comes from the role's
    answer model, and the text is v2's to the byte, so the model sees the same prompt."""
    reg = default_registry()
    inputs = _fixed_inputs()
    inputs["answer_shape"] = _answer_shape("copywriter.draft", inputs)
    assert inputs["answer_shape"] == (
        '{"citations": ["P1", ...], "fields": {"headline_1": "...", "headline_2": "...", '
        '"headline_3": "...", "description_1": "...", "description_2": "..."}}'
    )
    v2, v5 = reg.get("copywriter.draft@2"), reg.get("copywriter.draft@5")
    assert v5.json_keys == () and v2.json_keys == ("citations", "fields")
    for shown in (True, False):
        variables = {**inputs, "brief_shown": shown}
        assert v5.render(**variables) == v2.render(**variables)


def test_role_instructions_live_in_the_system_message_once() -> None:
    """context.system@2 carries each role's standing instructions; the prompts written for it (needs_context)
    do not repeat them, which is what makes each call's new tokens few."""
    reg = default_registry()
    inputs = _fixed_inputs()
    system = reg.get("context.system@2").render(**inputs)
    standing = [
        "count every character",  # copywriter
        '"revision_requests" give up to 3 concrete changes',  # reviewer
        "check every number and condition exactly",  # compliance editor
        '"channel_angles": one per channel',  # strategist
    ]
    for phrase in standing:
        assert system.count(phrase) == 1, phrase
    written_for = [p for p in map(reg.get, reg.refs()) if p.needs_context]
    assert {p.id for p in written_for} == {
        "strategist.brief",
        "copywriter.draft",
        "copywriter.revise",
        "reviewer.review",
        "compliance.claims",
    }
    # draft@4 repeats the hard-limit sentence beside the fields on purpose: v3 drafts without it overshot
    # the limits and were revised more often (BENCHMARKS.md).
    repeated = {"copywriter.draft@4": {"count every character"}}
    for prompt in written_for:
        assert prompt.needs_context == ("context.system@2",)
        user = prompt.render(**{name: inputs[name] for name in prompt.inputs})
        found = {phrase for phrase in standing if phrase in user}
        assert found == repeated.get(prompt.ref, set()), prompt.ref
        role = user.split(":", 1)[0]
        assert f"## {role}" in system, f"{prompt.ref} names role {role!r}, which the system message lacks"


def test_needs_context_must_be_versioned_references(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "t.x@1.yaml",
        "id: t.x\nversion: 1\ndescription: d\ninputs: []\nneeds_context: [context.system]\ntemplate: hi\n",
    )
    with pytest.raises(PromptError, match=r"needs_context\[0\].*'context.system' is not a prompt reference"):
        PromptRegistry(tmp_path)


def test_only_a_prompt_that_carries_its_own_source_leaves_the_passages_out() -> None:
    """``passages: false`` (copywriter.story: the system message without the campaign's passages) is set
    only where the prompt gives the model its source itself; every other shipped prompt shows them."""
    registry = default_registry()
    without = sorted(ref for ref in registry.refs() if not registry.get(ref).passages)
    assert without == ["copywriter.retell@1", "copywriter.story@1"]
    assert "story" in registry.get("copywriter.story@1").inputs
    assert "passage" in registry.get("copywriter.retell@1").inputs
