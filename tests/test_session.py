"""The campaign session: resolved once, typed errors before any work, incomplete campaigns marked, one step
on given inputs, and channel fan-out to a real OpenAI-compatible HTTP endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agents.state import Campaign
from backends import BackendError
from backends.base import ChatMessage, Completion, GenerationParams
from backends.fake import FakeBackend, FakeConfig
from core.errors import InputError
from pipelines import run_campaign
from pipelines.session import CampaignSession, campaign_channels
from tests.schema_endpoint import SchemaEndpoint, peak_in_flight
from tests.servers import free_port

pytestmark = pytest.mark.unit


class Dying(FakeBackend):
    """The fake backend, failing the calls ``fail(prompt, schema)`` says so for (prompt: the last message)."""

    def __init__(self, fail: Any, error: str = "bad") -> None:
        super().__init__(FakeConfig())
        self.fail, self.error = fail, error

    def _complete(
        self, messages: list[ChatMessage], json_schema: dict[str, Any] | None, params: GenerationParams
    ) -> Completion:
        if self.fail(messages[-1]["content"], json_schema or {}):
            if self.error == "backend":
                raise BackendError("connection reset by peer")
            return Completion(text="no JSON here", prompt_tokens=5, completion_tokens=3, seconds=0.01,
                              model=self.model_name, backend=self.kind)  # fmt: skip
        return super()._complete(messages, json_schema, params)


def test_run_campaign_keeps_its_signature_and_finishes(mini_brand: Path) -> None:
    campaign = run_campaign(mini_brand, backend="fake", channels=["search_ad", "cs_reply"])
    assert [p.channel for p in campaign.pieces] == ["search_ad", "cs_reply"]
    assert campaign.failure is None and not campaign.incomplete and campaign.backend_error is None
    assert campaign.status == ("blocked" if campaign.blocked else "ok")
    assert campaign.stats.llm_calls == len(campaign.trace) > 0


def test_a_session_is_resolved_once_and_runs_the_same_campaign_again(mini_brand: Path) -> None:
    llm = FakeBackend(FakeConfig())
    session = CampaignSession.open(mini_brand, llm=llm, channels=["social_post"])
    assert [c.name for c in session.channels] == ["social_post"] and llm.calls == []  # no model call yet
    first, second = session.run(), session.run()
    assert first.pieces == second.pieces and first.brief == second.brief
    assert len(llm.calls) == 2 * first.stats.llm_calls


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"channels": ["telegram"]}, "telegram"),
        ({"pipeline": "no-such-pipeline"}, "unknown pipeline"),
        ({"backend": {"kind": "fake", "temperature": 9}}, "temperature"),
    ],
)
def test_bad_input_is_an_input_error_before_any_model_call(
    mini_brand: Path, kwargs: dict[str, Any], message: str
) -> None:
    llm = FakeBackend(FakeConfig())
    with pytest.raises(InputError, match=message):
        run_campaign(mini_brand, llm=llm if "backend" not in kwargs else None, **kwargs)
    assert llm.calls == []


def test_a_missing_brand_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        run_campaign(tmp_path / "nowhere", backend="fake")


def test_an_unreachable_backend_is_a_backend_error_before_any_step(mini_brand: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(BackendError, match="cannot reach"):
        run_campaign(mini_brand, backend={"kind": "openai", "base_url": url, "max_retries": 0})


def test_no_valid_brief_returns_an_incomplete_campaign_not_a_crash(mini_brand: Path) -> None:
    llm = Dying(lambda prompt, schema: "audience_insight" in schema.get("properties", {}))
    campaign = run_campaign(mini_brand, llm=llm)
    assert campaign.status == "incomplete" and campaign.incomplete
    assert campaign.failure is not None
    assert (campaign.failure.step, campaign.failure.reason) == ("strategist", "no_valid_output")
    assert "no valid output" in campaign.failure.message and campaign.backend_error is None
    assert campaign.brief is None
    # nothing after the strategist ran; every channel is delivered, blocked, saying why
    assert {t.agent for t in campaign.trace} == {"strategist"} and not any(t.ok for t in campaign.trace)
    assert [p.channel for p in campaign.pieces] == ["search_ad", "social_post", "cs_reply"]
    for piece in campaign.pieces:
        assert piece.compliance.verdict == "blocked"
        assert "no valid model output during strategist" in piece.compliance.findings[0].explanation


def test_a_backend_dying_mid_run_keeps_the_work_and_says_which_step(mini_brand: Path) -> None:
    drafts: list[str] = []

    def second_draft(prompt: str, schema: dict[str, Any]) -> bool:
        # Drafts (and only drafts, until the reviewer) have the fields + citations schema.
        if set(schema.get("properties", {})) == {"citations", "fields"}:
            drafts.append(prompt)
            return len(drafts) == 2
        return False

    campaign = run_campaign(mini_brand, llm=Dying(second_draft, error="backend"))
    assert campaign.status == "incomplete" and campaign.failure is not None
    assert (campaign.failure.step, campaign.failure.reason) == ("copywriter", "backend")
    assert campaign.backend_error == "during copywriter: connection reset by peer"
    assert campaign.brief is not None  # the strategist's work is kept
    assert [p.channel for p in campaign.pieces] == ["search_ad", "social_post", "cs_reply"]
    assert all(p.compliance.verdict == "blocked" for p in campaign.pieces)
    # the drafts written before the failure are delivered (blocked), not dropped; the failed one is empty
    written = [p for p in campaign.pieces if p.fields]
    assert 1 <= len(written) < len(campaign.pieces)
    lost = [p for p in campaign.pieces if not p.fields]
    assert all("backend error during copywriter" in p.compliance.findings[0].explanation for p in lost)


def test_status_tells_blocked_from_ok(mini_brand: Path) -> None:
    campaign = run_campaign(mini_brand, backend="fake", channels=["social_post"])
    piece = campaign.pieces[0]
    passing = piece.model_copy(update={"compliance": piece.compliance.model_copy(update={"verdict": "pass"})})
    blocked = piece.model_copy(
        update={"compliance": piece.compliance.model_copy(update={"verdict": "blocked"})}
    )
    assert campaign.model_copy(update={"pieces": [passing]}).status == "ok"
    assert campaign.model_copy(update={"pieces": [passing, blocked]}).status == "blocked"
    again = Campaign.model_validate_json(campaign.model_dump_json())  # the JSON round-trips
    assert again.status == campaign.status and again.failure is None


def test_run_step_retrieves_then_runs_one_step_on_the_inputs(mini_brand: Path) -> None:
    llm = FakeBackend(FakeConfig())
    session = CampaignSession.open(mini_brand, llm=llm, channels=["social_post"])
    inputs = {
        "brief": {"audience_insight": "Home brewers.", "key_messages": [{"text": "Fresh."}], "tone": "warm"},
        "drafts": {"social_post": {"channel": "social_post", "fields": {"text": "Tidewater, roasted."}}},
    }
    state = session.run_step("reviewer", inputs)
    assert state.passages  # retrieved by the pipeline's retrieval step
    assert {t.agent for t in state.trace} == {"reviewer"}  # retrieval makes no model call
    assert state.reviews and state.reviews[0].channel == "social_post"
    with pytest.raises(InputError, match=r"reads \['brief'\]"):
        session.run_step("reviewer", {"drafts": inputs["drafts"]})
    with pytest.raises(InputError, match=r"not a step.*its steps"):
        session.run_step("critic", inputs)
    with pytest.raises(InputError, match="inputs do not fit"):
        session.run_step("reviewer", {**inputs, "brief": {"tone": 3}})


def test_channels_are_resolved_with_the_brands_inputs(mini_brand: Path) -> None:
    from knowledge.brand import load_brand

    brand = load_brand(mini_brand)
    assert [c.name for c in campaign_channels(brand, None)] == ["search_ad", "social_post", "cs_reply"]
    bare = brand.model_copy(update={"channel_inputs": {}})
    with pytest.raises(InputError, match=r"channel_inputs\.cs_reply"):
        campaign_channels(bare, ["cs_reply"])


def _without_timing(campaign: Campaign) -> tuple[list[Any], list[Any]]:
    timing = {"seconds", "prompt_seconds", "generation_seconds"}
    return (
        [p.model_dump() for p in campaign.pieces],
        [t.model_dump(exclude=timing) for t in campaign.trace],
    )


def test_an_openai_server_receives_the_channels_requests_concurrently(mini_brand: Path) -> None:
    """A whole campaign against a real HTTP endpoint: with ``concurrency: 4`` the copywriter's drafts for
    the channels are in flight together; with 1 no two requests are — and both campaigns are the same."""
    channels = ["search_ad", "social_post", "email", "cs_reply"]
    campaigns, drafts_at_once = {}, {}
    with SchemaEndpoint(latency_s=0.15) as endpoint:
        for concurrency in (1, 4):
            endpoint.clear()
            backend = {"kind": "openai", "base_url": endpoint.base_url, "concurrency": concurrency}
            campaigns[concurrency] = run_campaign(mini_brand, backend=backend, channels=channels)
            # The copywriter stage: the first draft-shaped request per channel (revisions come later).
            drafts = endpoint.recorded(answer_keys={"citations", "fields"})[: len(channels)]
            assert len(drafts) == len(channels)
            drafts_at_once[concurrency] = peak_in_flight(drafts)
            if concurrency == 1:
                assert endpoint.peak_in_flight() == 1
    assert drafts_at_once[1] == 1
    assert drafts_at_once[4] > 1, "the channels' drafts reached the server one at a time"
    one, four = campaigns[1], campaigns[4]
    assert one.status == four.status != "incomplete"
    assert [p.channel for p in four.pieces] == channels
    assert _without_timing(four) == _without_timing(one)
    assert four.model == endpoint.model


def test_an_embedder_failing_mid_run_keeps_the_work_and_marks_the_step(mini_brand: Path) -> None:
    """A LangChain embeddings model that goes away during a step (the copywriter looks up the passages
    that answer a customer's question) is a service failure: the campaign comes back incomplete with the
    work done, not an InputError that throws it away."""
    import dataclasses

    from langchain_core.embeddings import Embeddings

    from knowledge.embedders import register_embedder, unregister_embedder
    from pipelines.spec import load_pipeline

    class GoesAway(Embeddings):  # type: ignore[misc]
        broken = False

        def _vec(self, text: str) -> list[float]:
            if self.broken:
                raise ConnectionError("embedding server unreachable")
            return [float(len(text) % 7) + 1.0, float(text.count("e")) + 1.0, 1.0]

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [self._vec(t) for t in texts]

        def embed_query(self, text: str) -> list[float]:
            return self._vec(text)

    embeddings = GoesAway()
    register_embedder("goes-away", embeddings)
    try:
        loaded = load_pipeline("default", backend_overrides={"kind": "fake"})
        retrieval = loaded.spec.retrieval.model_copy(update={"embedder": "goes-away"})
        pipeline = dataclasses.replace(loaded, spec=loaded.spec.model_copy(update={"retrieval": retrieval}))

        def progress(message: str) -> None:
            if message.startswith("copywriter:"):
                embeddings.broken = True

        campaign = run_campaign(mini_brand, pipeline=pipeline, progress=progress)
    finally:
        unregister_embedder("goes-away")
    assert campaign.status == "incomplete"
    assert campaign.failure is not None and campaign.failure.reason == "service"
    assert campaign.failure.step == "copywriter"
    assert "embedding server unreachable" in campaign.failure.message
    assert campaign.brief is not None and len(campaign.pieces) == 3  # the brief kept, every channel delivered
