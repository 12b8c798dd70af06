"""Role contracts: every prompt names its role, pipelines check it at load, ask() answers typed, the
constrained schemas are pinned, and agents touch only the state they declare and no other agent's code."""

from __future__ import annotations

import ast
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from agents import AGENTS
from agents.base import RunContext, ask
from agents.channels import load_channels
from agents.roles import (
    CLAIMS,
    DRAFT,
    REVIEW,
    REVIEW_ANSWER_MODEL,
    ROLES,
    RUBRIC_ANSWER_MODEL,
    AnswerRole,
    BriefAnswer,
    ClaimsAnswer,
    ClaimsInputs,
    DraftAnswer,
    ReviewAnswer,
    RubricAnswer,
    brief_answer_model,
    claims_answer_model,
    draft_answer_model,
    get_role,
)
from agents.schema import json_schema_of
from agents.state import CampaignState, RetrievedPassage
from backends import GenerationParams
from backends.fake import FakeBackend, FakeConfig
from core.errors import InputError
from knowledge.brand import load_brand
from knowledge.embedders import get_embedder
from knowledge.index import build_index
from pipelines.spec import load_pipeline
from prompts import PromptError, PromptRegistry, default_registry
from prompts.registry import TEMPLATES_DIR

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden" / "answer_schemas.json"
AGENT_MODULES = {"retriever", "strategist", "copywriter", "reviewer", "compliance"}

PIPELINE = """\
name: t
prompt_dirs: [extra]
steps:
  - agent: retriever
  - agent: strategist
  - agent: copywriter
  - agent: reviewer
    prompts: {review: REF}
  - agent: compliance
"""


def _pipeline_with_review_prompt(tmp_path: Path, ref: str, prompt_file: str | None = None) -> Path:
    (tmp_path / "extra").mkdir(exist_ok=True)
    if prompt_file is not None:
        (tmp_path / "extra" / f"{ref}.yaml").write_text(prompt_file, encoding="utf-8")
    path = tmp_path / "p.yaml"
    path.write_text(PIPELINE.replace("REF", ref), encoding="utf-8")
    return path


def _review_prompt(ref: str, template: str, inputs: str, role: str | None = "reviewer.review") -> str:
    pid, version = ref.split("@")
    head = f"id: {pid}\nversion: {version}\n" + (f"role: {role}\n" if role else "")
    return f"{head}description: d\ninputs: [{inputs}]\ntemplate: '{template}'\n"


# --- every prompt names its role, and fits it --------------------------------------------------------


def test_every_shipped_prompt_states_a_role_it_fits() -> None:
    registry = default_registry()
    for path in sorted(TEMPLATES_DIR.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert "role" in raw, f"{path.name} does not state its role"
        prompt = registry.get(f"{raw['id']}@{raw['version']}")
        assert get_role(prompt.role).check(prompt) is None, path.name
    served = {registry.get(ref).role for ref in registry.refs()}
    assert served == set(ROLES), "a role without a shipped prompt, or a prompt of no role"


def test_unknown_role_lists_the_valid_ones() -> None:
    with pytest.raises(InputError, match=r"unknown role 'reviewer'; valid choices: \['compliance.claims'"):
        get_role("reviewer")


def test_a_file_without_a_role_serves_the_one_its_id_names(tmp_path: Path) -> None:
    """Unset, the role is the id: a copied-and-edited version of a shipped prompt keeps fitting its slot;
    a prompt of a new id must say which role it serves."""
    ok = _pipeline_with_review_prompt(
        tmp_path,
        "reviewer.review@9",
        _review_prompt("reviewer.review@9", "{{ channel.name }}", "channel", None),
    )
    assert load_pipeline(ok).agents[3].prompts["review"].role == "reviewer.review"
    acme = _review_prompt("acme.review@1", "{{ channel.name }}", "channel", None)
    with pytest.raises(InputError, match=r"prompt acme\.review@1 serves the role 'acme\.review', not"):
        load_pipeline(_pipeline_with_review_prompt(tmp_path, "acme.review@1", acme))
    named = _review_prompt("acme.review@1", "{{ channel.name }}", "channel")
    assert load_pipeline(_pipeline_with_review_prompt(tmp_path, "acme.review@1", named)).agents[3].prompts[
        "review"
    ].ref == ("acme.review@1")


def test_a_prompt_using_a_variable_its_role_lacks_fails_at_load(tmp_path: Path) -> None:
    text = _review_prompt("reviewer.review@9", "{{ sentences }}", "sentences")
    with pytest.raises(InputError) as caught:
        load_pipeline(_pipeline_with_review_prompt(tmp_path, "reviewer.review@9", text))
    message = str(caught.value)
    assert (
        "p.yaml: steps[3].prompts.review: prompt reviewer.review@9 uses the variables ['sentences']"
        in message
    )
    assert (
        "which the role 'reviewer.review' does not provide (it provides ['answer_shape', 'brand'" in message
    )
    assert message.endswith("valid choices: ['reviewer.review@1', 'reviewer.review@2', 'reviewer.review@3']")


def test_a_hand_written_answer_shape_must_name_the_answer_keys(tmp_path: Path) -> None:
    stray = _review_prompt("reviewer.review@9", 'Return JSON: {"score": 1, "revision_requests": []}', "")
    with pytest.raises(
        InputError, match=r"writes out the answer keys \['score'\], which no answer of the role"
    ):
        load_pipeline(_pipeline_with_review_prompt(tmp_path, "reviewer.review@9", stray))
    partial = _review_prompt("reviewer.review@9", 'Return JSON: {"scores": {"grounding": 1}}', "")
    with pytest.raises(InputError, match=r"without the keys \['revision_requests'\] of the role"):
        load_pipeline(_pipeline_with_review_prompt(tmp_path, "reviewer.review@9", partial))
    shaped = _review_prompt("reviewer.review@9", "Return JSON: {{ answer_shape }}", "answer_shape")
    assert load_pipeline(_pipeline_with_review_prompt(tmp_path, "reviewer.review@9", shaped))


def test_json_keys_are_read_from_the_templates_own_text(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "t.x@1.yaml").write_text(
        "id: t.x\nversion: 1\ndescription: d\ninputs: [k]\n"
        'template: \'{"a": 1, "{{ k }}": 2, "b" : [{"c":3}], "not a key", "d"}\'\n',
        encoding="utf-8",
    )
    prompt = PromptRegistry(folder).get("t.x@1")
    assert prompt.json_keys == ("a", "b", "c") and prompt.role == "t.x"


def test_quoted_words_in_prose_are_not_an_answer_shape(tmp_path: Path) -> None:
    """Only keys inside braces or first on their line count as a hand-written shape: a prompt that quotes
    an example in prose ('a headline such as "Fresh": ...') still loads in its slot."""
    prose = _review_prompt(
        "reviewer.review@9",
        'A headline such as "Fresh": short and concrete is good. Return JSON: {{ answer_shape }}',
        "answer_shape",
    )
    loaded = load_pipeline(_pipeline_with_review_prompt(tmp_path, "reviewer.review@9", prose))
    assert loaded.agents[3].prompts["review"].json_keys == ()
    folder = tmp_path / "listed"
    folder.mkdir()
    (folder / "t.x@1.yaml").write_text(
        "id: t.x\nversion: 1\ndescription: d\ninputs: []\n"
        'template: |\n  Answer with:\n  - "tone": a few words\n  * "angle": one line, e.g. "Calm": quiet\n',
        encoding="utf-8",
    )
    assert PromptRegistry(folder).get("t.x@1").json_keys == ("tone", "angle")


# --- ask() returns the role's typed answer; the schema sent is the narrowed one ------------------------


@pytest.fixture
def ctx_state(mini_brand: Path, tmp_path: Path) -> tuple[RunContext, CampaignState, FakeBackend]:
    brand = load_brand(mini_brand)
    index, _ = build_index(brand, get_embedder("use-multilingual"), index_dir=tmp_path / "idx")
    backend = FakeBackend(FakeConfig())
    ctx = RunContext(
        backend=backend,
        backend_config=backend.config,
        index=index,
        context_prompt=default_registry().get("context.system@1"),
    )
    passages = [
        RetrievedPassage(id=f"knowledge/a.md#{n}", alias=f"P{n}", doc="a.md", text="t", score=1.0)
        for n in (1, 2)
    ]
    state = CampaignState(brand=brand, channels=[load_channels()["search_ad"]], passages=passages)
    return ctx, state, backend


def test_ask_returns_the_roles_typed_answer_from_the_narrowed_schema(ctx_state) -> None:
    ctx, state, backend = ctx_state
    answer = ask(
        ctx,
        state,
        agent="compliance",
        prompt=default_registry().get("compliance.claims@1"),
        role=CLAIMS,
        inputs=ClaimsInputs(sentences=["Ships in 48 hours.", "Hello."]),
        answer_model=claims_answer_model(2, ("P1", "P2")),
    )
    assert type(answer) is ClaimsAnswer and len(answer.judgments) == 2
    assert {p for j in answer.judgments for p in j.passages} <= {"P1", "P2"}
    _, schema = backend.calls[-1]
    assert schema == json_schema_of(claims_answer_model(2, ("P1", "P2")))


def test_ask_refuses_a_prompt_of_another_role_and_inputs_of_another(ctx_state) -> None:
    ctx, state, backend = ctx_state
    review = default_registry().get("reviewer.review@2")
    with pytest.raises(
        PromptError, match=r"reviewer\.review@2 serves the role 'reviewer\.review', not 'compliance"
    ):
        ask(ctx, state, agent="t", prompt=review, role=CLAIMS, inputs=ClaimsInputs(sentences=["x"]))
    claims = default_registry().get("compliance.claims@1")
    with pytest.raises(TypeError, match="takes ClaimsInputs, not ReviewInputs"):
        ask(ctx, state, agent="t", prompt=claims, role=CLAIMS, inputs=_review_inputs(state))  # type: ignore[arg-type]
    assert backend.calls == []  # refused before any model call


def _review_inputs(state: CampaignState) -> Any:
    from agents.roles import ReviewInputs
    from agents.state import Draft

    draft = Draft(channel="search_ad", fields={"headline_1": "Hi"}, citations=[])
    return ReviewInputs(brand=state.brand, channel=state.channels[0], brief=None, draft=draft, edited=None)


def test_answer_shape_is_given_from_the_schema_sent(ctx_state, tmp_path: Path) -> None:
    ctx, state, backend = ctx_state
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "reviewer.review@9.yaml").write_text(
        _review_prompt("reviewer.review@9", "Return JSON: {{ answer_shape }}", "answer_shape"),
        encoding="utf-8",
    )
    prompt = PromptRegistry(folder).get("reviewer.review@9")
    answer = ask(ctx, state, agent="reviewer", prompt=prompt, role=REVIEW, inputs=_review_inputs(state))
    assert type(answer) is ReviewAnswer
    messages, _ = backend.calls[-1]
    assert messages[-1]["content"] == (
        'Return JSON: {"scores": {"voice_fit": 1-5, "brief_coverage": 1-5, "grounding": 1-5, '
        '"channel_fit": 1-5}, "revision_requests": ["...", ...]}\n'
    )


# --- the constrained schemas: pinned, and narrowings of the static answers ----------------------------


def _constrained_schemas() -> dict[str, Any]:
    """The schemas for fixed campaigns, keyed as in the golden file (recorded before the roles moved
    here, from the models the agents built then)."""
    channels = load_channels()
    aliases = ("P1", "P2", "P3")
    out: dict[str, Any] = {
        "strategist.brief": json_schema_of(brief_answer_model(aliases, ("search_ad", "social_post"))),
        "strategist.brief/no-passages": json_schema_of(brief_answer_model((), ("email",))),
    }
    for name, spec in sorted(channels.items()):
        out[f"copywriter.draft/{name}"] = json_schema_of(draft_answer_model(spec, aliases))
    out["copywriter.draft/search_ad/no-passages"] = json_schema_of(
        draft_answer_model(channels["search_ad"], ())
    )
    out["reviewer.review"] = json_schema_of(REVIEW_ANSWER_MODEL)
    out["compliance.claims/2"] = json_schema_of(claims_answer_model(2, aliases))
    out["evals.rubric"] = RUBRIC_ANSWER_MODEL.model_json_schema()  # sent as pydantic writes it
    return out


def test_constrained_schemas_are_unchanged() -> None:
    """The eval suite's response cache is keyed on these schemas (and the backend's grammar follows their
    key order): any change, even of order, shows up here. Bless with BRANDFORGE_UPDATE_SNAPSHOTS=1."""
    text = json.dumps(_constrained_schemas(), ensure_ascii=False, indent=1) + "\n"
    if os.environ.get("BRANDFORGE_UPDATE_SNAPSHOTS") == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    elif not GOLDEN.exists():
        pytest.fail(
            f"golden file {GOLDEN} is missing; write it with BRANDFORGE_UPDATE_SNAPSHOTS=1 and review it"
        )
    assert text == GOLDEN.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("constrained", "output"),
    [
        (brief_answer_model(("P1", "P2"), ("search_ad", "email")), BriefAnswer),
        (brief_answer_model((), ("email",)), BriefAnswer),
        (brief_answer_model(("P1", "M1", "M2"), ("email",), ("M1", "M2")), BriefAnswer),
        *[(draft_answer_model(spec, ("P1", "P2")), DraftAnswer) for spec in load_channels().values()],
        (REVIEW_ANSWER_MODEL, ReviewAnswer),
        (claims_answer_model(3, ("P1",)), ClaimsAnswer),
        (RUBRIC_ANSWER_MODEL, RubricAnswer),
    ],
)
def test_every_constrained_answer_is_a_valid_typed_answer(constrained: Any, output: Any) -> None:
    """The narrowing holds: answers that satisfy the schema sent (as the fake backend writes them, for
    several different prompts) validate as the role's static answer, with the same content."""
    backend = FakeBackend(FakeConfig())
    params = GenerationParams.from_config(backend.config)
    for n in range(5):
        text = backend.complete(
            [{"role": "user", "content": f"case {n}"}], json_schema=json_schema_of(constrained), params=params
        ).text
        narrowed = constrained.model_validate_json(text)
        typed = output.model_validate(narrowed.model_dump())
        assert typed.model_dump(exclude_unset=True) == narrowed.model_dump()


def test_the_answer_roles_share_their_static_answers_where_the_job_is_the_same() -> None:
    assert ROLES["copywriter.revise"].output is DRAFT.output is DraftAnswer  # type: ignore[attr-defined]
    answering = [r for r in ROLES.values() if isinstance(r, AnswerRole)]
    assert {r.name for r in answering} == set(ROLES) - {"context.system"}
    assert all("answer_shape" in r.variables for r in answering)
    assert "answer_shape" not in ROLES["context.system"].variables


# --- agents: only their declared state, and no other agent's code -------------------------------------


def test_no_agent_module_imports_another() -> None:
    """Shared helpers live in agents.citations, .threads, .drafts, .revision, .lengthen, .roles; an agent
    module imports none of the other agents (grep-proof: no `from agents.<agent>` in any agent module)."""
    for name in sorted(AGENT_MODULES):
        tree = ast.parse((ROOT / "agents" / f"{name}.py").read_text(encoding="utf-8"))
        imported = {
            node.module.split(".")[1]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("agents.")
        }
        assert not (imported & AGENT_MODULES) - {name}, f"agents/{name}.py imports {imported & AGENT_MODULES}"
    for path in (ROOT / "agents").glob("*.py"):
        assert "Any = ask(" not in path.read_text(encoding="utf-8"), f"{path.name} types an answer as Any"


class _Watched(CampaignState):
    """A campaign state that records which fields are read (fork/join copy every field: not counted)."""

    def __getattribute__(self, name: str) -> Any:
        if name in _FIELDS and not getattr(_quiet, "on", False):
            _read.add(name)
        return super().__getattribute__(name)

    def fork(self, channel: str) -> CampaignState:
        _quiet.on = True
        try:
            return super().fork(channel)
        finally:
            _quiet.on = False

    def join(self, fork: CampaignState, channel: str) -> None:
        _quiet.on = True
        try:
            super().join(fork, channel)
        finally:
            _quiet.on = False


_FIELDS = frozenset(CampaignState.model_fields)
_read: set[str] = set()
_quiet = threading.local()


def test_each_agent_reads_and_writes_only_what_it_declares(mini_brand: Path, tmp_path: Path) -> None:
    """The default pipeline's agents and the opt-in spotlight, one by one on the fake backend: the fields
    each one reads are among its declared reads (or writes), and the fields whose value changed are among
    its declared writes."""
    brand = load_brand(mini_brand)
    index, _ = build_index(brand, get_embedder("use-multilingual"), index_dir=tmp_path / "idx")
    default = (ROOT / "pipelines" / "default.yaml").read_text(encoding="utf-8")
    step = "  - agent: copywriter\n"
    (tmp_path / "spotlight.yaml").write_text(default.replace(step, "  - agent: spotlight\n" + step))
    pipeline = load_pipeline(tmp_path / "spotlight.yaml")
    backend = FakeBackend(FakeConfig())
    ctx = RunContext(
        backend=backend, backend_config=backend.config, index=index, context_prompt=pipeline.context_prompt
    )
    channels = load_channels()
    specs = [channels[name] for name in ("search_ad", "social_post", "email", "cs_reply")]
    state = _Watched(brand=brand, channels=specs)
    touched: dict[str, set[str]] = {}
    for agent in pipeline.agents:
        assert set(agent.reads) | set(agent.writes) <= _FIELDS, agent.name
        before = {name: _dump(getattr(state, name)) for name in _FIELDS}
        _read.clear()
        agent.run(state, ctx)
        read = set(_read)
        changed = {name for name in _FIELDS if _dump(getattr(state, name)) != before[name]}
        assert read <= agent.reads | agent.writes, f"{agent.name} read {sorted(read - agent.reads)}"
        assert changed <= agent.writes, f"{agent.name} wrote {sorted(changed - agent.writes)}"
        touched[agent.name] = changed
    # The run exercised the bookkeeping, so the check above covers it: threads, trace and revisions.
    assert {"trace", "threads"} <= touched["strategist"] and {"trace", "drafts"} <= touched["copywriter"]
    assert "revisions" in touched["reviewer"] | touched["compliance"]
    assert set(AGENTS) == {agent.name for agent in pipeline.agents}


def _dump(value: Any) -> str:
    return json.dumps(value, default=lambda v: v.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)


class _Counting(FakeBackend):
    """The fake backend, counting the calls in flight at once."""

    def __init__(self, concurrency: int) -> None:
        super().__init__(FakeConfig(concurrency=concurrency, delay_s=0.02))
        self.in_flight = self.peak = 0
        self._lock = threading.Lock()

    def _complete(self, messages: Any, json_schema: Any, params: Any) -> Any:
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            return super()._complete(messages, json_schema, params)
        finally:
            with self._lock:
                self.in_flight -= 1


def test_channels_fan_out_and_the_campaign_does_not_depend_on_it(mini_brand: Path, tmp_path: Path) -> None:
    """Copywriter, reviewer and compliance run their channels through agents.fanout: on a backend that
    serves several calls at once they overlap, and the campaign (pieces, reviews, trace order) is the one
    a backend serving one call at a time gives."""
    from pipelines import run_campaign

    campaigns, peaks = [], []
    for concurrency in (1, 3):
        backend = _Counting(concurrency)
        campaign = run_campaign(mini_brand, llm=backend, index_dir=tmp_path / "idx")
        data = campaign.model_dump(mode="json", exclude={"stats"})
        for entry in data["trace"]:
            entry.pop("seconds")
        campaigns.append(data)
        peaks.append(backend.peak)
    assert peaks[0] == 1 and peaks[1] > 1
    assert campaigns[0] == campaigns[1]
    assert [p["channel"] for p in campaigns[1]["pieces"]] == ["search_ad", "social_post", "cs_reply"]
