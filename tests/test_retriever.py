"""The campaign retriever on a real brand, a real embedder and the real FAISS index: a channel input
(the customer's question) keeps its own best passages, so the row that answers it reaches the prompt."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.channels import load_channels
from agents.retriever import RetrieverParams
from tests.conftest import retrieve

pytestmark = pytest.mark.unit
QINGYU = Path(__file__).parent.parent / "examples" / "brands" / "qingyu"
REFUND_TABLE = "| 开营前 15 天及以上 | 全额退"


def _passages(tmp_path: Path, params: RetrieverParams) -> list[str]:
    state, _ = retrieve(QINGYU, tmp_path, list(load_channels()), params)
    return [p.text for p in state.passages if p.kind != "customer"]


def test_the_refund_table_that_answers_the_question_is_retrieved(tmp_path: Path) -> None:
    # The question ("离开营还有 10 天……能退多少钱？") ranks two passages that only point to the table
    # ("详见……退款表") above the table itself (4th). Merged round-robin with every product's queries,
    # the question got two places and the answer was left out.
    assert not any(REFUND_TABLE in p for p in _passages(tmp_path / "a", RetrieverParams(per_input=0)))
    passages = _passages(tmp_path / "b", RetrieverParams())
    assert len(passages) == RetrieverParams().k
    assert any(REFUND_TABLE in p for p in passages)
