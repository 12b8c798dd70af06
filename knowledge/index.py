"""FAISS index over a brand's knowledge, persisted without pickle and updated incrementally.

Contract:
- On disk an index is three files in one folder: ``index.faiss`` (FAISS's own format), ``docstore.json``
  (the passages) and ``manifest.json`` (format, embedder id and fingerprint, dimension, chunk size,
  sha256 per document). Nothing is unpickled.
- The embedder is ours or any LangChain ``Embeddings`` (wrapped by
  :func:`~knowledge.embedders.as_embedder`). :meth:`FaissKnowledgeIndex.load` refuses an index built by
  another embedder — another ``embedder_id``, dimension, or a fingerprint pointing elsewhere (see
  :mod:`knowledge.embedders`) — or a corrupt one.
- :func:`build_index` creates or updates the index of a brand: only documents added, changed or
  removed since the last build are re-embedded / dropped; a change of embedder or chunk size rebuilds.
  Its ``progress`` callback (one line per call) hears about large folders and documents being read
  and chunked, and about embedding, batch by batch, when there are more than :data:`EMBED_BATCH`
  passages; small updates stay silent.
- Search returns passages by cosine similarity (vectors are unit length; the index is inner product).
  :meth:`FaissKnowledgeIndex.as_retriever` serves the same search as a LangChain ``BaseRetriever``
  whose ``Document`` objects carry the passage id (``Document.id`` and ``metadata["passage_id"]``),
  the document path, chunk number, section and score.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import faiss
import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from core.errors import InputError
from core.files import atomic_write, cache_dir
from knowledge.brand import Brand
from knowledge.chunking import Passage, chunk_document
from knowledge.documents import PROGRESS_BYTES, read_documents
from knowledge.embedders import BrandForgeEmbeddings, as_embedder, same_space
from knowledge.lexical import BM25

# Searches here are one query at a time, where OpenMP's thread start-up costs more than the search:
# bench/retrieval.py measured query p95 22 ms with 2 threads vs 3 ms with 1 at 10k chunks.
# BRANDFORGE_FAISS_THREADS sets it for hosts that search big batches instead.
faiss.omp_set_num_threads(int(os.environ.get("BRANDFORGE_FAISS_THREADS", "1")))

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
DEFAULT_CHUNK_CHARS = 360
RRF_K = 60  # the usual reciprocal-rank-fusion constant (Cormack et al. 2009), not tuned here
RRF_DEPTH = 50  # candidates each ranking contributes to the fusion

HNSW_M = 32  # graph degree
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 64  # recall and latency vs flat at 10k / 100k chunks: bench/retrieval.py

# Passages embedded per call while building, so that progress can be reported between calls. A multiple
# of the embedders' own batch size (32), so the batches they run, and thus the vectors, do not change.
EMBED_BATCH = 1024

SearchMode = Literal["dense", "hybrid"]
FaissKind = Literal["flat", "hnsw"]
SEARCH_MODES: tuple[str, ...] = get_args(SearchMode)
FAISS_KINDS: tuple[str, ...] = get_args(FaissKind)


class IndexMismatchError(InputError):
    """The index on disk was built differently (embedder, dimension, format) from what is asked."""


@dataclass(frozen=True)
class ScoredPassage:
    passage: Passage
    score: float


@dataclass
class IndexUpdate:
    """What :func:`build_index` did."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    rebuilt: bool = False
    passages_embedded: int = 0

    @property
    def touched(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.rebuilt)


def _new_faiss(kind: FaissKind, dimension: int) -> faiss.Index:
    if kind == "hnsw":
        graph = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        return faiss.IndexIDMap2(graph)
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))


def _set_ef_search(index: faiss.Index) -> None:
    # efSearch is a search-time setting: set ours after every load, whatever the file carries.
    inner = faiss.downcast_index(faiss.downcast_index(index).index)  # type: ignore[attr-defined]
    if isinstance(inner, faiss.IndexHNSW):
        inner.hnsw.efSearch = HNSW_EF_SEARCH


class FaissKnowledgeIndex:
    """Passages + their vectors in a FAISS ``IndexIDMap2`` over ``IndexFlatIP`` (exact, the default) or
    ``IndexHNSWFlat`` (approximate; for very large knowledge folders: bench/retrieval.py compares them)."""

    def __init__(
        self,
        embedder: Embeddings,
        chunk_chars: int = DEFAULT_CHUNK_CHARS,
        kind: FaissKind = "flat",
    ) -> None:
        if kind not in FAISS_KINDS:
            raise InputError(f"unknown FAISS index kind {kind!r}; valid choices: {list(FAISS_KINDS)}")
        self.embedder: BrandForgeEmbeddings = as_embedder(embedder)
        self.chunk_chars = chunk_chars
        self.kind: FaissKind = kind
        self.dimension = self.embedder.dimension
        self.index: faiss.Index = _new_faiss(kind, self.dimension)
        _set_ef_search(self.index)
        self.passages: dict[int, Passage] = {}
        self.documents: dict[str, str] = {}  # doc path -> sha256
        self.next_id = 0
        self.skipped: list[str] = []
        self._by_passage_id: dict[str, Passage] = {}
        self._bm25: BM25 | None = None

    # -- content -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.passages)

    def get(self, passage_id: str) -> Passage | None:
        """The passage with this stable id, or None."""
        return self._by_passage_id.get(passage_id)

    def all_passages(self) -> list[Passage]:
        return sorted(self.passages.values(), key=lambda p: (p.doc, p.chunk))

    def add_passages(self, passages: list[Passage], vectors: np.ndarray | None = None) -> None:
        """Add passages, embedding them unless their unit-length ``vectors`` (one row each) are given."""
        if not passages:
            return
        if vectors is None:
            vectors = self.embedder.embed([p.embed_text for p in passages])
        elif vectors.shape != (len(passages), self.dimension):
            raise ValueError(f"vectors {vectors.shape} for {len(passages)} passages of dim {self.dimension}")
        ids = np.arange(self.next_id, self.next_id + len(passages), dtype=np.int64)
        self.index.add_with_ids(vectors, ids)
        for int_id, passage in zip(ids.tolist(), passages, strict=True):
            self.passages[int_id] = passage
            self._by_passage_id[passage.id] = passage
        self.next_id += len(passages)
        self._bm25 = None

    def remove_document(self, doc: str) -> None:
        ids = [i for i, p in self.passages.items() if p.doc == doc]
        if ids and self.kind == "hnsw":
            # An HNSW graph cannot delete: rebuild it from the vectors that stay.
            keep = np.asarray(sorted(set(self.passages) - set(ids)), dtype=np.int64)
            vectors = np.stack([self.index.reconstruct(int(i)) for i in keep]) if len(keep) else None
            self.index = _new_faiss("hnsw", self.dimension)
            _set_ef_search(self.index)
            if vectors is not None:
                self.index.add_with_ids(vectors, keep)  # type: ignore[call-arg]
        elif ids:
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))  # type: ignore[arg-type]
        for i in ids:
            self._by_passage_id.pop(self.passages.pop(i).id, None)
        self.documents.pop(doc, None)
        self._bm25 = None

    # -- search --------------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, mode: SearchMode = "hybrid") -> list[ScoredPassage]:
        """The ``k`` passages that best answer ``query``, best first (see :meth:`search_many`)."""
        return self.search_many([query], k, mode)

    def search_many(
        self, queries: Iterable[str], k: int = 5, mode: SearchMode = "hybrid"
    ) -> list[ScoredPassage]:
        """Best ``k`` passages over several queries, best first; a passage ranks by its best query.

        ``dense``: cosine similarity of the embeddings. ``hybrid`` (default): reciprocal rank fusion
        (RRF, k=60) of the dense ranking and a BM25 ranking of each query's top candidates, so exact
        terms (route names, figures, SKUs) count as well as meaning. Either way each hit's ``score`` is
        its cosine similarity to the closest query, so thresholds on scores mean the same in both modes.
        """
        queries = [q for q in queries if q.strip()]
        if not queries or not self.passages:
            return []
        if mode not in SEARCH_MODES:
            raise ValueError(f"unknown search mode {mode!r}; valid choices: {list(SEARCH_MODES)}")
        vectors = self.embedder.embed_queries(queries)
        depth = min(len(self.passages), k if mode == "dense" else max(4 * k, RRF_DEPTH))
        scores, ids = self.index.search(vectors, depth)
        cosine: dict[int, float] = {}  # passage -> best cosine over the queries
        rank_score: dict[int, float] = {}  # passage -> best ranking score over the queries
        for n, (row_scores, row_ids) in enumerate(zip(scores, ids, strict=True)):
            dense = [(i, s) for i, s in zip(row_ids.tolist(), row_scores.tolist(), strict=True) if i >= 0]
            if mode == "dense":
                fused = {i: s for i, s in dense}
            else:
                fused = {i: 1 / (RRF_K + rank) for rank, (i, _) in enumerate(dense, start=1)}
                for rank, (key, _) in enumerate(self.lexical().top(queries[n], depth), start=1):
                    int_id = int(key)  # type: ignore[call-overload]
                    fused[int_id] = fused.get(int_id, 0.0) + 1 / (RRF_K + rank)
            known = dict(dense)
            for int_id, value in fused.items():
                if int_id not in known:  # found by BM25 only: its cosine from the stored vector
                    known[int_id] = float(self.index.reconstruct(int_id) @ vectors[n])
                cosine[int_id] = max(cosine.get(int_id, -2.0), known[int_id])
                rank_score[int_id] = max(rank_score.get(int_id, -2.0), value)
        ranked = sorted(rank_score, key=lambda i: (-rank_score[i], -cosine[i]))[:k]
        return [ScoredPassage(self.passages[i], cosine[i]) for i in ranked]

    def as_retriever(
        self, k: int = 5, *, mode: SearchMode = "hybrid", min_score: float | None = None, **kwargs: Any
    ) -> KnowledgeRetriever:
        """This index as a LangChain ``BaseRetriever`` (``k`` passages per query, ``mode`` as in
        :meth:`search`, hits below the cosine ``min_score`` dropped); ``kwargs`` are the retriever's
        own fields (``tags``, ``metadata``)."""
        return KnowledgeRetriever(index=self, k=k, mode=mode, min_score=min_score, **kwargs)

    def lexical(self) -> BM25:
        """The BM25 index of the passages, built on first use after any change."""
        if self._bm25 is None:
            self._bm25 = BM25((i, p.embed_text) for i, p in self.passages.items())
        return self._bm25

    # -- persistence ---------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / "index.faiss", faiss.serialize_index(self.index).tobytes())
        docstore = [{"int_id": i, **asdict(p)} for i, p in sorted(self.passages.items())]
        atomic_write(
            folder / "docstore.json", json.dumps({"passages": docstore}, ensure_ascii=False).encode()
        )
        manifest = {
            "format": FORMAT_VERSION,
            "embedder": self.embedder.embedder_id,
            # Six decimals keep it exact to ~1e-6, far inside SAME_SPACE_COSINE's tolerance.
            "embedder_fingerprint": [round(float(x), 6) for x in self.embedder.fingerprint()],
            "dimension": self.dimension,
            "chunk_chars": self.chunk_chars,
            "faiss_index": self.kind,
            "next_id": self.next_id,
            "passages": len(self.passages),
            "documents": dict(sorted(self.documents.items())),
            "skipped": self.skipped,
        }
        # Written last: a crash before this line leaves the previous manifest, which the count check catches.
        atomic_write(folder / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False).encode())

    @staticmethod
    def read_manifest(folder: Path) -> dict | None:
        path = folder / "manifest.json"
        if not path.exists():
            return None
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(
                f"unreadable index manifest ({exc}); rebuild with `brandforge index --rebuild`", source=path
            ) from None
        if not isinstance(manifest, dict):
            raise InputError(
                "index manifest is not a JSON object; rebuild with `brandforge index --rebuild`", source=path
            )
        return manifest

    @classmethod
    def load(cls, folder: Path, embedder: Embeddings) -> FaissKnowledgeIndex:
        """Load an index; refuse one built with another embedder or an inconsistent one."""
        embedder = as_embedder(embedder)
        manifest = cls.read_manifest(folder)
        if manifest is None:
            raise InputError("no index here; build it with `brandforge index BRAND_DIR`", source=folder)
        source = folder / "manifest.json"
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexMismatchError(
                f"index format {manifest.get('format')!r}, expected {FORMAT_VERSION}; rebuild it",
                source=source,
            )
        if (
            manifest.get("embedder") != embedder.embedder_id
            or manifest.get("dimension") != embedder.dimension
        ):
            raise IndexMismatchError(
                f"index was built with embedder {manifest.get('embedder')!r} "
                f"(dim {manifest.get('dimension')}), "
                f"not {embedder.embedder_id!r} (dim {embedder.dimension}); rebuild it with that embedder",
                source=source,
            )
        stored = manifest.get("embedder_fingerprint")  # absent from indexes built before it existed
        if stored is not None and not _same_fingerprint(stored, embedder):
            raise IndexMismatchError(
                f"index was built with an embedder named {embedder.embedder_id!r} that embeds differently "
                "from this one (another model or other settings under the same name); rebuild it",
                source=source,
            )
        try:
            raw = np.frombuffer((folder / "index.faiss").read_bytes(), dtype=np.uint8)
            faiss_index = faiss.deserialize_index(raw)
            store = json.loads((folder / "docstore.json").read_text(encoding="utf-8"))
            passages = {int(row.pop("int_id")): Passage(**row) for row in store["passages"]}
        except (OSError, RuntimeError, ValueError, KeyError, TypeError) as exc:
            raise InputError(
                f"corrupt index ({type(exc).__name__}: {exc}); rebuild with `brandforge index --rebuild`",
                source=folder,
            ) from None
        if faiss_index.ntotal != len(passages) or faiss_index.d != embedder.dimension:
            raise InputError(
                f"index holds {faiss_index.ntotal} vectors for {len(passages)} passages; rebuild with "
                "`brandforge index --rebuild`",
                source=folder,
            )
        kind = manifest.get("faiss_index", "flat")
        if kind not in FAISS_KINDS:
            raise InputError(f"unknown faiss_index {kind!r} in the manifest; rebuild it", source=source)
        index = cls(embedder, int(manifest.get("chunk_chars", DEFAULT_CHUNK_CHARS)), kind)
        _set_ef_search(faiss_index)
        index.index = faiss_index
        index.passages = passages
        index._by_passage_id = {p.id: p for p in passages.values()}
        index.documents = dict(manifest.get("documents", {}))
        index.next_id = int(manifest.get("next_id", len(passages)))
        index.skipped = list(manifest.get("skipped", []))
        return index


def default_index_dir(brand: Brand) -> Path:
    """Where a brand's index lives unless told otherwise: ``BRAND_DIR/.brandforge/index``, or, when the
    brand folder is read-only (an installed example, a mounted share), a per-folder directory under
    ``$BRANDFORGE_CACHE/indexes`` (default ``~/.cache/brandforge``)."""
    if brand.root is None:
        raise InputError("brand has no folder; pass index_dir explicitly")
    local = brand.root / ".brandforge" / "index"
    if local.exists() or os.access(brand.root, os.W_OK):
        return local
    digest = hashlib.sha256(str(brand.root.resolve()).encode()).hexdigest()[:16]
    return cache_dir() / "indexes" / f"{brand.root.name}-{digest}"


def _same_fingerprint(stored: Any, embedder: BrandForgeEmbeddings) -> bool:
    if not isinstance(stored, list) or not all(isinstance(x, int | float) for x in stored):
        return False
    return same_space(stored, embedder.fingerprint())


def build_index(
    brand: Brand,
    embedder: Embeddings,
    *,
    index_dir: Path | None = None,
    chunk_chars: int = DEFAULT_CHUNK_CHARS,
    kind: FaissKind = "flat",
    rebuild: bool = False,
    progress: Callable[[str], None] | None = None,
) -> tuple[FaissKnowledgeIndex, IndexUpdate]:
    """Create or incrementally update the index of ``brand``'s knowledge folder, and save it.

    An index this process already loaded (same folder, embedder, chunk size and kind) is reused from
    memory and only brought up to date with the documents; it is read from disk once per process.
    ``progress`` gets one-line messages while a large folder is read and embedded (see the module doc).
    ``embedder`` is one of ours or any LangChain ``Embeddings``.
    """
    embedder = as_embedder(embedder)
    folder = index_dir or default_index_dir(brand)
    assert brand.root is not None
    docs = read_documents(brand.knowledge_path, brand.root, progress)
    update = IndexUpdate(skipped=docs.skipped)
    key = (str(folder.resolve()), embedder.embedder_id, chunk_chars, kind)

    index: FaissKnowledgeIndex | None = None
    with _loaded_lock:
        cached = None if rebuild else _loaded.get(key)
    manifest = None if rebuild or cached else FaissKnowledgeIndex.read_manifest(folder)
    if (
        cached is not None
        and (folder / "manifest.json").exists()
        and (cached.embedder is embedder or same_space(cached.embedder.fingerprint(), embedder.fingerprint()))
    ):
        index = cached
        index.embedder = embedder  # the same space: answer queries with the instance the caller holds
    elif manifest is not None:
        try:
            index = FaissKnowledgeIndex.load(folder, embedder)
            if index.chunk_chars != chunk_chars or index.kind != kind:
                log.info(
                    "index settings changed (chunk_chars %s -> %s, faiss_index %s -> %s): rebuilding",
                    index.chunk_chars, chunk_chars, index.kind, kind,
                )  # fmt: skip
                index = None
        except InputError as exc:
            log.warning("rebuilding index: %s", exc)
            index = None
    if index is None:
        index = FaissKnowledgeIndex(embedder, chunk_chars, kind)
        update.rebuilt = True

    current = {d.path: d for d in docs.documents}
    for gone in sorted(set(index.documents) - set(current)):
        index.remove_document(gone)
        update.removed.append(gone)
    new_passages: list[Passage] = []
    for path, doc in current.items():
        old = index.documents.get(path)
        if old == doc.sha256:
            update.unchanged.append(path)
            continue
        if old is not None:
            index.remove_document(path)
            update.changed.append(path)
        else:
            update.added.append(path)
        if progress and len(doc.text) >= PROGRESS_BYTES:
            progress(f"index: chunking {path} ({len(doc.text):,} characters)")
        new_passages.extend(chunk_document(path, doc.text, max_chars=chunk_chars))
        index.documents[path] = doc.sha256
    total = len(new_passages)
    if progress and total > EMBED_BATCH:
        progress(f"index: embedding {total:,} passages")
    for start in range(0, total, EMBED_BATCH):
        index.add_passages(new_passages[start : start + EMBED_BATCH])
        if progress and total > EMBED_BATCH:
            progress(f"index: embedded {min(start + EMBED_BATCH, total):,}/{total:,} passages")
    update.passages_embedded = total
    index.skipped = docs.skipped
    if update.touched or not (folder / "manifest.json").exists():
        index.save(folder)
    with _loaded_lock:
        _loaded[key] = index
    return index, update


# Indexes this process has loaded or built, by (folder, embedder, chunk size, kind). Campaigns in one
# process (a batch, an eval suite, a server) share them instead of reading index files each time.
_loaded: dict[tuple[str, str, int, str], FaissKnowledgeIndex] = {}
_loaded_lock = threading.Lock()


def forget_loaded(folder: Path) -> int:
    """Drop the indexes this process holds for ``folder``: the next :func:`build_index` reads the saved
    index and updates that copy, so an index object a running campaign still searches is never changed
    under it (the service updates indexes this way). Returns how many were dropped."""
    where = str(folder.resolve())
    with _loaded_lock:
        keys = [key for key in _loaded if key[0] == where]
        for key in keys:
            del _loaded[key]
    return len(keys)


class KnowledgeRetriever(BaseRetriever):
    """A :class:`FaissKnowledgeIndex` as a LangChain retriever (:meth:`FaissKnowledgeIndex.as_retriever`).

    Each ``Document`` is one passage: ``page_content`` its text, ``id`` its stable passage id, and
    ``metadata`` ``passage_id``, ``doc`` (path in the brand folder, also as ``source``), ``chunk``,
    ``section`` and ``score`` (cosine similarity to the query). ``invoke(query, k=3)`` overrides ``k``
    for one call. Passages are the brand's knowledge as indexed: this does not withhold documents the
    campaign's retriever would quarantine as injected (that judgement is the retriever agent's).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    index: FaissKnowledgeIndex
    k: int = Field(5, ge=1, le=1000)
    mode: SearchMode = "hybrid"
    min_score: float | None = Field(None, ge=-1.0, le=1.0)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        if k is not None and not 1 <= k <= 1000:
            raise InputError(f"k={k}: expected 1 to 1000 passages", field="k")
        hits = self.index.search(query, k or self.k, self.mode)
        return [
            Document(
                id=hit.passage.id,
                page_content=hit.passage.text,
                metadata={
                    "passage_id": hit.passage.id,
                    "doc": hit.passage.doc,
                    "source": hit.passage.doc,
                    "chunk": hit.passage.chunk,
                    "section": hit.passage.section,
                    "score": hit.score,
                },
            )
            for hit in hits
            if self.min_score is None or hit.score >= self.min_score
        ]
