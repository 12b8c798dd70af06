"""The two real embedders: bundled multilingual USE (default) and sentence-transformers (MiniLM)."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InputError
from knowledge.embedders import get_embedder

pytestmark = pytest.mark.unit


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


def test_use_is_cross_lingual_and_normalised() -> None:
    emb = get_embedder("use-multilingual")
    v = emb.embed(["探索未知的旅程", "exploring unknown journeys", "季度财务报表审计"])
    assert v.shape == (3, 512) and emb.dimension == 512
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert _cos(v[0], v[1]) > 0.6 > _cos(v[0], v[2]) + 0.3
    assert emb.embedder_id.startswith("use-multilingual-v3@")
    assert get_embedder("use-multilingual") is emb  # loaded once per process


def test_sentence_transformers_minilm_offline() -> None:
    emb = get_embedder("minilm")
    v = emb.embed(["fresh roasted coffee beans", "coffee roasted recently", "tax return deadline"])
    assert v.shape == (3, 384)
    assert _cos(v[0], v[1]) > _cos(v[0], v[2]) + 0.3
    assert emb.embedder_id == "sentence-transformers:all-MiniLM-L6-v2"
    # LangChain Embeddings interface
    assert len(emb.embed_query("hello")) == 384 and len(emb.embed_documents(["a", "b"])) == 2


def test_unknown_embedder_lists_choices() -> None:
    with pytest.raises(InputError, match=r"unknown embedder 'bert'; valid choices: \['use-multilingual'"):
        get_embedder("bert")


def test_missing_local_model_is_input_error(tmp_path) -> None:
    with pytest.raises(InputError, match="cannot load sentence-transformers model"):
        get_embedder(f"sentence-transformers:{tmp_path / 'none'}")
