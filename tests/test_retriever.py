"""The campaign retriever on a real brand, a real embedder and the real FAISS index: a channel input
(the customer's question) keeps its own best passages, so the row that answers it reaches the prompt."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.base import RunContext
from agents.channels import load_channels
from agents.retriever import Retriever, RetrieverParams
from agents.state import CampaignState
from backends.fake import FakeBackend, FakeConfig
from knowledge.brand import load_brand
from knowledge.embedders import get_embedder
from knowledge.index import build_index
from prompts import default_registry

pytestmark = pytest.mark.unit
QINGYU = Path(__file__).parent.parent / "examples" / "brands" / "qingyu"
REFUND_TABLE = "| 开营前 15 天及以上 | 全额退"


def _passages(tmp_path: Path, params: RetrieverParams) -> list[str]:
    brand = load_brand(QINGYU)
    index, _ = build_index(brand, get_embedder("use-multilingual"), index_dir=tmp_path / "idx")
    state = CampaignState(brand=brand, channels=list(load_channels().values()))
    config = FakeConfig()
    ctx = RunContext(
        backend=FakeBackend(config),
        backend_config=config,
        index=index,
        context_prompt=default_registry().get("context.system@2"),
    )
    Retriever(params, {}).run(state, ctx)
    return [p.text for p in state.passages if p.kind != "customer"]


def test_the_refund_table_that_answers_the_question_is_retrieved(tmp_path: Path) -> None:
    # The question ("离开营还有 10 天……能退多少钱？") ranks two passages that only point to the table
    # ("详见……退款表") above the table itself (4th). Merged round-robin with every product's queries,
    # the question got two places and the answer was left out.
    assert not any(REFUND_TABLE in p for p in _passages(tmp_path / "a", RetrieverParams(per_input=0)))
    passages = _passages(tmp_path / "b", RetrieverParams())
    assert len(passages) == RetrieverParams().k
    assert any(REFUND_TABLE in p for p in passages)
