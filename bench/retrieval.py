"""Retrieval: embedding throughput, recall@5 on the labelled queries, FAISS flat vs HNSW at scale.

Usage: python bench/retrieval.py [--sizes 10000,100000] [--queries 200]

1. For both bundled embedders (USE multilingual, the default; MiniLM): chunks/s embedding the example
   brands' passages, and recall@5 on ``tests/data/retrieval_queries.yaml`` (41 bilingual queries: is the
   labelled passage among the 5 hits?) through ``FaissKnowledgeIndex``.
2. For each size: an index of the example brands' real passages plus distractor vectors (mixtures of
   real passage vectors with noise, so they sit where real text does), FAISS ``IndexFlatIP`` (exact)
   vs ``IndexHNSWFlat`` (M=32, efSearch=64): build time, end-to-end query latency p50/p95 (embed the
   query + search) and recall@5 of the labelled queries among the distractors.
Last line: p95 query latency at the smallest size, flat, and the default embedder's recall@5.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np
import yaml

from knowledge.brand import load_brand
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


def embedder_rows(work: Path) -> tuple[list[str], float]:
    rows = []
    default_recall = 0.0
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
        found = sum(hit(c, [h.passage for h in indexes[c["brand"]].search(c["query"], 5)]) for c in cases)
        recall = found / len(cases)
        if name == "use-multilingual":
            default_recall = recall
        rows.append(f"{name:18} {rate:>10.0f} {recall:>9.3f}")
    return rows, default_recall


def scale_rows(sizes: list[int], n_queries: int) -> tuple[list[str], float]:
    embedder = get_embedder("use-multilingual")
    cases = labelled()
    real_texts: list[str] = []
    real_keys: list[tuple[str, str, str]] = []  # brand, doc, text of each real passage
    for brand_name in BRANDS:
        index, _ = build_index(load_brand(ROOT / "examples/brands" / brand_name), embedder)
        for p in index.passages.values():
            real_texts.append(p.text)
            real_keys.append((brand_name, p.doc, p.text))
    real = embedder.embed(real_texts).astype("float32")
    rng = np.random.default_rng(7)
    query_texts = [c["query"] for c in cases]
    queries = [query_texts[i % len(query_texts)] for i in range(n_queries)]
    rows = []
    headline = 0.0
    for size in sizes:
        n_fake = size - len(real)
        a, b = rng.integers(0, len(real), n_fake), rng.integers(0, len(real), n_fake)
        mix = rng.uniform(0.2, 0.8, (n_fake, 1)).astype("float32")
        fake = (
            mix * real[a]
            + (1 - mix) * real[b]
            + rng.normal(0, 0.05, (n_fake, real.shape[1])).astype("float32")
        )
        vectors = np.concatenate([real, fake]).astype("float32")
        faiss.normalize_L2(vectors)
        for kind in ("flat", "hnsw"):
            started = time.perf_counter()
            if kind == "flat":
                index = faiss.IndexFlatIP(vectors.shape[1])
            else:
                index = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
                index.hnsw.efConstruction = 80
            index.add(vectors)
            if kind == "hnsw":
                index.hnsw.efSearch = 64
            build = time.perf_counter() - started
            latencies = []
            for query in queries:
                t0 = time.perf_counter()
                index.search(embedder.embed([query]).astype("float32"), 5)
                latencies.append((time.perf_counter() - t0) * 1000)
            found = 0
            for case in cases:
                _, ids = index.search(embedder.embed([case["query"]]).astype("float32"), 5)
                top = [real_keys[i] for i in ids[0] if 0 <= i < len(real_keys)]
                found += any(
                    brand == case["brand"] and doc == case["expect_doc"] and case["expect_text"] in text
                    for brand, doc, text in top
                )
            p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
            if size == sizes[0] and kind == "flat":
                headline = p95
            rows.append(
                f"{size:>8} {kind:5} {size / build:>12.0f} {p50:>8.2f} {p95:>8.2f} {found / len(cases):>9.3f}"
            )
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
    print(f"{'embedder':18} {'chunks/s':>10} {'recall@5':>9}")
    print("\n".join(rows))
    scale, p95 = scale_rows([int(s) for s in args.sizes.split(",")], args.queries)
    print(f"\n{'chunks':>8} {'index':5} {'add vec/s':>12} {'p50 ms':>8} {'p95 ms':>8} {'recall@5':>9}")
    print("\n".join(scale))
    smallest = args.sizes.split(",")[0]
    print(f"\nquery p95 at {smallest} chunks (flat, embed + search): {p95:.1f} ms; recall@5 {recall:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
