"""The campaign as a LangChain Runnable (pipelines/runnable.py): invoke, batch, stream, astream, config,
composition with ``|``, and a LangChain ``Embeddings`` for the brand index.

Campaigns run on the deterministic fake backend (orchestration) over real example brands, the real
FAISS index and the real embedders: nothing here is mocked except, in the cancellation test, the
campaign itself.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.runnables import RunnableLambda

from agents.channels import load_channels
from agents.quality import QualityContext, quality_findings
from agents.state import Campaign
from core.errors import InputError
from knowledge.brand import load_brand
from pipelines import runnable as runnable_module
from pipelines.runnable import PROGRESS_EVENT, CampaignProgress, CampaignRunnable
from tests.conftest import copy_brand

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def brands(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Copies of two example brands, so their indexes are written under a temporary folder."""
    root = tmp_path_factory.mktemp("brands")
    return {name: copy_brand(name, root) for name in ("tidewater", "clearleaf")}


class Recorder(BaseCallbackHandler):
    """Records chain runs (with their tags, metadata and name) and progress events, per run."""

    def __init__(self, barrier: threading.Barrier | None = None) -> None:
        self.lock = threading.Lock()
        self.starts: list[dict[str, Any]] = []
        self.events: dict[UUID, list[str]] = {}
        self.running = 0
        self.most_running = 0
        self.barrier = barrier
        self.barrier_broken = False

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        with self.lock:
            self.starts.append({"run_id": run_id, **kwargs})
            self.running += 1
            self.most_running = max(self.most_running, self.running)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        with self.lock:
            self.running -= 1

    def on_custom_event(self, name: str, data: Any, *, run_id: UUID, **kwargs: Any) -> None:
        assert name == PROGRESS_EVENT
        with self.lock:
            first = run_id not in self.events
            self.events.setdefault(run_id, []).append(data["message"])
        if first and self.barrier is not None:
            try:  # passes only if the other campaign is running at the same time
                self.barrier.wait()
            except threading.BrokenBarrierError:
                self.barrier_broken = True


def test_invoke_takes_a_brand_path_or_a_request(brands: dict[str, Path]) -> None:
    runnable = CampaignRunnable(backend="fake")
    campaign = runnable.invoke(brands["tidewater"])
    assert isinstance(campaign, Campaign) and campaign.backend == "fake"
    assert campaign.brand.name.startswith("Tidewater") and campaign.passages
    assert [p.channel for p in campaign.pieces] == ["search_ad", "social_post", "email", "blog", "cs_reply"]
    one = runnable.invoke({"brand": str(brands["tidewater"]), "channels": ["email"], "backend": "fake"})
    assert [p.channel for p in one.pieces] == ["email"]


def test_bad_input_is_an_input_error_naming_the_field(brands: dict[str, Path]) -> None:
    runnable = CampaignRunnable(backend="fake")
    expected = r"campaign input: invalid configuration:\n  brand: Field required\n  brnd: unknown field"
    with pytest.raises(InputError, match=expected):
        runnable.invoke({"brnd": str(brands["tidewater"])})
    with pytest.raises(InputError, match=r"channels: Input should be a valid list"):
        runnable.invoke({"brand": str(brands["tidewater"]), "channels": "email"})
    with pytest.raises(InputError, match="campaign input is a int; expected a brand folder path"):
        runnable.invoke(17)
    with pytest.raises(InputError, match=r"'fax'.*valid choices"):
        runnable.invoke({"brand": str(brands["tidewater"]), "channels": ["fax"]})


def test_invoke_honours_callbacks_tags_metadata_and_run_name(brands: dict[str, Path]) -> None:
    recorder = Recorder()
    campaign = CampaignRunnable(backend="fake", channels=["email"]).invoke(
        brands["tidewater"],
        config={
            "callbacks": [recorder],
            "tags": ["nightly"],
            "metadata": {"team": "brand"},
            "run_name": "tw",
        },
    )
    assert len(recorder.starts) == 1
    start = recorder.starts[0]
    assert start["tags"] == ["nightly"] and start["metadata"]["team"] == "brand" and start["name"] == "tw"
    messages = recorder.events[start["run_id"]]
    assert "backend: fake (fake-deterministic)" in messages
    assert any(m.startswith("compliance: checking email") for m in messages) and campaign.pieces


def test_batch_runs_campaigns_concurrently_up_to_max_concurrency(brands: dict[str, Path]) -> None:
    runnable = CampaignRunnable(backend="fake", channels=["email"])
    inputs = [brands["tidewater"], {"brand": str(brands["clearleaf"])}]
    runnable.batch(inputs)  # build both indexes first, so the timing below is about the campaigns

    # max_concurrency=2: both campaigns must reach their first progress line together (a barrier of
    # two that times out if they ran one after the other).
    together = Recorder(threading.Barrier(2, timeout=60))
    campaigns = runnable.batch(inputs, config={"callbacks": [together], "max_concurrency": 2})
    assert [c.brand.name.split()[0] for c in campaigns] == ["Tidewater", "Clearleaf"]  # input order
    assert not together.barrier_broken and together.most_running == 2

    one_at_a_time = Recorder()
    runnable.batch(inputs, config={"callbacks": [one_at_a_time], "max_concurrency": 1})
    assert one_at_a_time.most_running == 1 and len(one_at_a_time.starts) == 2

    outcomes = runnable.batch([brands["tidewater"], {"brand": "/no/such/brand"}], return_exceptions=True)
    assert isinstance(outcomes[0], Campaign) and isinstance(outcomes[1], InputError)


def test_stream_yields_progress_while_the_campaign_runs_then_the_campaign(brands: dict[str, Path]) -> None:
    recorder = Recorder()
    items: list[Any] = []
    worker_alive_at_first_event = None
    for item in CampaignRunnable(backend="fake").stream(
        brands["tidewater"], config={"callbacks": [recorder]}
    ):
        if worker_alive_at_first_event is None:
            worker_alive_at_first_event = any(
                t.name == "brandforge-campaign" and t.is_alive() for t in threading.enumerate()
            )
        items.append(item)
    *progress, campaign = items
    assert isinstance(campaign, Campaign) and len(campaign.pieces) == 5
    assert progress and all(isinstance(p, CampaignProgress) for p in progress)
    assert worker_alive_at_first_event  # streamed as it happened, not replayed after the end
    seconds = [p.seconds for p in progress]
    assert seconds == sorted(seconds)
    assert "backend: fake (fake-deterministic)" in [p.message for p in progress]
    # The same lines reached the callbacks as custom events of this one run.
    assert [recorder.events[recorder.starts[0]["run_id"]]] == [[p.message for p in progress]]


def test_closing_the_stream_cancels_the_campaign(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    ended = threading.Event()

    def slow_campaign(brand: Any, *, progress: Any, **kwargs: Any) -> Campaign:
        try:
            for n in range(200):
                calls.append(n)
                progress(f"step {n}")
                time.sleep(0.01)
            raise AssertionError("the campaign ran to the end although nobody was listening")
        finally:
            ended.set()

    monkeypatch.setattr(runnable_module, "run_campaign", slow_campaign)
    stream = CampaignRunnable(backend="fake").stream("examples/brands/tidewater")
    assert next(stream) == CampaignProgress("step 0", pytest.approx(0, abs=1))  # type: ignore[arg-type]
    stream.close()
    assert ended.wait(10) and len(calls) < 20


def test_astream_and_astream_events(brands: dict[str, Path]) -> None:
    runnable = CampaignRunnable(backend="fake", channels=["cs_reply"])

    async def collect() -> tuple[list[Any], list[dict[str, Any]]]:
        items = [item async for item in runnable.astream(brands["tidewater"])]
        events = [event async for event in runnable.astream_events(brands["tidewater"], version="v2")]
        return items, events

    items, events = asyncio.run(collect())
    assert isinstance(items[-1], Campaign) and all(isinstance(i, CampaignProgress) for i in items[:-1])
    custom = [e for e in events if e["event"] == "on_custom_event"]
    assert custom and all(e["name"] == PROGRESS_EVENT for e in custom)
    assert [e["data"]["message"] for e in custom] == [i.message for i in items[:-1]]
    end = [e for e in events if e["event"] == "on_chain_end"][-1]
    assert isinstance(end["data"]["output"], Campaign)


def test_the_campaign_composes_in_an_lcel_chain(brands: dict[str, Path]) -> None:
    chain = (
        RunnableLambda(lambda name: {"brand": str(brands[name]), "channels": ["search_ad", "email"]})
        | CampaignRunnable(backend="fake")
        | RunnableLambda(lambda campaign: [(p.channel, p.compliance.verdict) for p in campaign.pieces])
    )
    result = chain.invoke("tidewater")
    assert [channel for channel, _ in result] == ["search_ad", "email"]
    assert all(verdict in ("pass", "revised", "blocked") for _, verdict in result)
    # Streaming through the chain: the progress events pass by, the last step sees only the Campaign.
    assert list(chain.stream("tidewater")) == [result]


def test_a_langchain_embeddings_serves_the_campaigns_index(brands: dict[str, Path], tmp_path: Path) -> None:
    import os

    from langchain_community.embeddings import HuggingFaceEmbeddings

    from knowledge.embedders import bundled_minilm_path

    os.environ["HF_HUB_OFFLINE"] = "1"
    embeddings = HuggingFaceEmbeddings(
        model_name=str(bundled_minilm_path()), model_kwargs={"device": "cpu", "local_files_only": True}
    )
    runnable = CampaignRunnable(backend="fake", channels=["cs_reply"], embeddings=embeddings)
    campaign = runnable.invoke({"brand": str(brands["tidewater"]), "index_dir": tmp_path / "idx"})
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert manifest["embedder"].startswith("langchain:langchain_community.embeddings.huggingface.")
    assert manifest["dimension"] == 384 and campaign.passages
    # The vectors are MiniLM's: the stored fingerprint is the one the built-in MiniLM embedder gives.
    from knowledge.embedders import get_embedder, same_space

    assert same_space(manifest["embedder_fingerprint"], get_embedder("minilm").fingerprint())
    assert not same_space(
        manifest["embedder_fingerprint"][:384], get_embedder("use-multilingual").fingerprint()
    )


@pytest.mark.llm
@pytest.mark.slow
def test_the_runnable_streams_a_real_campaign_on_the_embedded_model(tmp_path: Path) -> None:
    """The Runnable over the real embedded model (llama.cpp), not only the fake: progress streams while
    the model works, and the campaign it ends with is a real one, cited from the real FAISS index. It is
    also the suite's real-model Chinese social post (tests/test_campaign_llm.py runs the other channels):
    delivered, it passes the quality checks again from scratch (hashtags, repeats, the positioning line
    once)."""
    root = copy_brand("wanderly", tmp_path)
    items = list(CampaignRunnable(channels=["social_post"]).stream(root))
    *progress, campaign = items
    assert isinstance(campaign, Campaign) and campaign.backend == "llamacpp"
    assert [p.channel for p in campaign.pieces] == ["social_post"] and campaign.failure is None
    assert campaign.trace and {t.backend for t in campaign.trace} == {"llamacpp"}
    (piece,) = campaign.pieces
    assert piece.fields["text"].strip()
    assert {p.id for p in campaign.passages} >= set(piece.citations)
    messages = [p.message for p in progress]
    assert any(m.startswith("copywriter: drafting social_post") for m in messages)
    if piece.compliance.verdict == "blocked":  # a blocked piece says why
        assert any(f.severity == "block" and not f.fixed for f in piece.compliance.findings)
    else:
        documents = [p.text for p in campaign.passages]
        context = QualityContext.build(load_channels()["social_post"], load_brand(root), documents)
        blocking = [f.rule_id for f in quality_findings(context, piece.fields) if f.severity == "block"]
        assert blocking == [], piece.fields
