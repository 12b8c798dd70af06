"""Retrieval: embedding throughput, recall@5 on the labelled queries, FAISS flat vs HNSW at scale.

Usage: python bench/retrieval.py [--sizes 10000,100000] [--queries 200]

1. For both bundled embedders (USE multilingual, the default; MiniLM): chunks/s embedding the example
   brands' passages, and recall@5 on ``tests/data/retrieval_queries.yaml`` (41 bilingual queries: is the
   labelled passage among the 5 hits?) through ``FaissKnowledgeIndex``, dense-only vs hybrid (dense +
   BM25, reciprocal rank fusion; the default) side by side.
2. For each size: a ``FaissKnowledgeIndex`` of the example brands' real passages plus distractors
   (vector: a noisy mixture of two real passages' vectors, so they sit where real text does; text: words
   and CJK character pairs drawn from the real passages, so BM25 sees realistic term statistics).
   FAISS flat (exact) vs HNSW (M=32, efSearch=64): vectors added/s, end-to-end query latency p50/p95
   (embed the query + search, dense and hybrid) and recall@5 of the labelled queries among them.
Last line: hybrid query p95 at the smallest size (flat), and the default embedder's recall@5.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np
import yaml

from knowledge.brand import load_brand
from knowledge.chunking import Passage
from knowledge.embedders import get_embedder
from knowledge.index import FaissKnowledgeIndex, build_index

ROOT = Path(__file__).resolve().parent.parent
BRANDS = ["wanderly", "tidewater", "clearleaf"]


def labelled() -> list[dict]:
    return yaml.safe_load((ROOT / "tests/data/retrieval_queries.yaml").read_text(encoding="utf-8"))["queries"]


def hit(case: dict, passages: list) -> bool:
    return any(p.doc == case["expect_doc"] and case["expect_text"] in p.text for p in passages)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def embedder_rows(work: Path) -> tuple[list[str], dict[str, float]]:
    rows = []
    default_recall: dict[str, float] = {}
    cases = labelled()
    for name in ("use-multilingual", "minilm"):
        embedder = get_embedder(name)
        indexes: dict[str, FaissKnowledgeIndex] = {}
        texts: list[str] = []
        for brand_name in BRANDS:
            brand = load_brand(ROOT / "examples/brands" / brand_name)
            indexes[brand_name], _ = build_index(
                brand, embedder, index_dir=work / name / brand_name, rebuild=True
            )
            texts += [p.text for p in indexes[brand_name].passages.values()]
        sample = (texts * (2000 // len(texts) + 1))[:2000]
        embedder.embed(sample[:32])  # warm
        started = time.perf_counter()
        embedder.embed(sample)
        rate = len(sample) / (time.perf_counter() - started)
        recall = {}
        for mode in ("dense", "hybrid"):
            found = sum(
                hit(c, [h.passage for h in indexes[c["brand"]].search(c["query"], 5, mode)]) for c in cases
            )
            recall[mode] = found / len(cases)
        if name == "use-multilingual":
            default_recall = recall
        rows.append(f"{name:18} {rate:>10.0f} {recall['dense']:>15.3f} {recall['hybrid']:>16.3f}")
    return rows, default_recall


def scale_rows(sizes: list[int], n_queries: int) -> tuple[list[str], float]:
    embedder = get_embedder("use-multilingual")
    cases = labelled()
    real: list[Passage] = []
    brand_of: list[str] = []
    for brand_name in BRANDS:
        index, _ = build_index(load_brand(ROOT / "examples/brands" / brand_name), embedder)
        for p in index.all_passages():
            real.append(p)
            brand_of.append(brand_name)
    real_vectors = embedder.embed([p.embed_text for p in real]).astype("float32")
    # Distractor text: 40 pieces drawn from the real passages' words and CJK character pairs, so term
    # statistics (and BM25's posting lists) look like the brands' own, without copying whole phrases.
    vocabulary = [w for p in real for w in re.findall(r"[A-Za-z0-9]+|[\u4e00-\u9fff]{1,2}", p.text)]
    rng = np.random.default_rng(7)
    query_texts = [c["query"] for c in cases]
    queries = [query_texts[i % len(query_texts)] for i in range(n_queries)]
    rows = []
    headline = 0.0
    for size in sizes:
        n_fake = size - len(real)
        a, b = rng.integers(0, len(real), n_fake), rng.integers(0, len(real), n_fake)
        mix = rng.uniform(0.2, 0.8, (n_fake, 1)).astype("float32")
        fake_vectors = (
            mix * real_vectors[a]
            + (1 - mix) * real_vectors[b]
            + rng.normal(0, 0.05, (n_fake, real_vectors.shape[1])).astype("float32")
        )
        vectors = np.concatenate([real_vectors, fake_vectors]).astype("float32")
        faiss.normalize_L2(vectors)
        pieces = rng.choice(np.asarray(vocabulary, dtype=object), (n_fake, 40))
        fakes = [
            Passage(id=f"fake#{n}", doc=f"fake/{n % 500}.md", chunk=n, text=" ".join(row))
            for n, row in enumerate(pieces.tolist())
        ]
        passages = real + fakes
        for kind in ("flat", "hnsw"):
            index = FaissKnowledgeIndex(embedder, kind=kind)  # type: ignore[arg-type]
            started = time.perf_counter()
            index.add_passages(passages, vectors)
            build = time.perf_counter() - started
            index.lexical()  # built once per index, on first hybrid search
            cells = []
            for mode in ("dense", "hybrid"):
                latencies = []
                for query in queries:
                    t0 = time.perf_counter()
                    index.search(query, 5, mode)  # type: ignore[arg-type]
                    latencies.append((time.perf_counter() - t0) * 1000)
                p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
                if size == sizes[0] and kind == "flat" and mode == "hybrid":
                    headline = p95
                cells.append(f"{p50:>7.2f} {p95:>7.2f}")
            recalls = []
            for mode in ("dense", "hybrid"):
                found = 0
                for case in cases:
                    top = index.search(case["query"], 5, mode)  # type: ignore[arg-type]
                    found += any(
                        not h.passage.id.startswith("fake#")
                        and brand_of[real.index(h.passage)] == case["brand"]
                        and hit(case, [h.passage])
                        for h in top
                    )
                recalls.append(f"{found / len(cases):>7.3f}")
            rows.append(f"{size:>8} {kind:5} {size / build:>11.0f}  " + "  ".join(cells + recalls))
    return rows, headline


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200, help="queries timed per index")
    parser.add_argument("--threads", type=int, default=1, help="FAISS OpenMP threads (1: best for one query)")
    args = parser.parse_args()
    faiss.omp_set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        rows, recall = embedder_rows(Path(tmp))
    print(f"{'embedder':18} {'chunks/s':>10} {'recall@5 dense':>15} {'recall@5 hybrid':>16}")
    print("\n".join(rows))
    scale, p95 = scale_rows([int(s) for s in args.sizes.split(",")], args.queries)
    print(
        f"\n{'':>8} {'':5} {'':>11}  {'dense ms':^15}  {'hybrid ms':^15}  {'recall@5':^15}\n"
        f"{'chunks':>8} {'index':5} {'add vec/s':>11}  {'p50':>7} {'p95':>7}  {'p50':>7} {'p95':>7}  "
        f"{'dense':>7} {'hybrid':>7}"
    )
    print("\n".join(scale))
    smallest = args.sizes.split(",")[0]
    print(
        f"\nquery p95 at {smallest} chunks (flat, hybrid, embed + search): {p95:.1f} ms; "
        f"recall@5 hybrid {recall['hybrid']:.3f} (dense {recall['dense']:.3f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
