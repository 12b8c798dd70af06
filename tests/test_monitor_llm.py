"""Brand monitoring with the embedded model: it decides the posts the classifier is unsure of and writes
topic labels in the brand's language; and a campaign given the insights has a brief that cites what
customers said. (The same flows on a scripted backend, with every failure path: test_monitor_model.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backends import default_backend_config, get_backend
from knowledge.brand import load_brand
from monitor.campaign import with_insights
from monitor.model import MonitorModel
from monitor.run import run_monitor
from pipelines.session import CampaignSession

pytestmark = [pytest.mark.llm, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent
WANDERLY = ROOT / "examples" / "brands" / "wanderly"
MONTH = ROOT / "examples" / "monitor" / "wanderly_mentions.jsonl"


@pytest.fixture(scope="module")
def model() -> MonitorModel:
    config = default_backend_config()
    return MonitorModel(get_backend(config), config)


def test_the_model_decides_unsure_posts_and_labels_topics_in_chinese(
    model: MonitorModel, tmp_path: Path
) -> None:
    few = tmp_path / "few.jsonl"
    few.write_text(
        "".join(MONTH.read_text(encoding="utf-8").splitlines(keepends=True)[:40]), encoding="utf-8"
    )
    run = run_monitor(few, WANDERLY, tmp_path / "run", model=model)
    method = run.insights.method
    assert method.uncertain > 0 and 0 < method.model_decided <= method.uncertain
    assert sum(m.sentiment_by == "model" for m in run.mentions) == method.model_decided
    labels = [t.label for t in run.insights.topics]
    assert labels and {t.label_by for t in run.insights.topics} == {"model"}
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in label) and len(label) <= 40 for label in labels), (
        labels
    )
    assert model.use.failed == 0


def test_a_brief_with_insights_cites_what_customers_said(tmp_path: Path) -> None:
    """The retriever and the strategist of the default pipeline, on the real model (the rest of a campaign
    is the campaign tests' business)."""
    run = run_monitor(MONTH, WANDERLY, tmp_path / "run")  # classifier only: the brief is what is tested
    channels = ["social_post", "cs_reply"]
    brand, voices = with_insights(load_brand(WANDERLY), run.insights, channels)
    session = CampaignSession.open(brand, channels=channels, index_dir=tmp_path / "idx")
    state = session.new_state(voices=voices)
    ctx = session.context()
    for agent in session.pipeline.agents[:2]:
        assert agent.name in ("retriever", "strategist")
        agent.run(state, ctx)
    assert state.brief is not None
    customer = {p.id for p in state.passages if p.kind == "customer"}
    cited = {c for m in state.brief.key_messages for c in m.citations}
    assert cited & customer, json.dumps(state.brief.model_dump(), ensure_ascii=False)
    assert run.insights.alerts and f"alert:{run.insights.alerts[0].day}" in customer
