"""Batch throughput: items/hour for the same jobs through each executor, side by side.

Usage: python bench/batch.py [--items 12] [--channels social_post] [--backend fake|llamacpp] [--ray]

Writes a jobs file over the example brands, runs ``run_batch`` into fresh folders — local with 1 and 2
threads, and with ``--ray`` on a local Ray instance — and prints wall time and items/hour per run. With
the fake backend (no model time) this is BrandForge's own cost per item; with ``llamacpp`` it is the
embedded model on this machine. Last line: the fastest configuration's items/hour.
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
from pathlib import Path

from pipelines.batch import run_batch

ROOT = Path(__file__).resolve().parent.parent
BRANDS = ["tidewater", "wanderly", "clearleaf"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=12)
    parser.add_argument("--channels", default="social_post", help="comma-separated channels per item")
    parser.add_argument("--backend", default="fake", choices=["fake", "llamacpp"])
    parser.add_argument("--ray", action="store_true", help="also run on a local Ray instance")
    parser.add_argument("--concurrency", default="1,2", help="local thread counts to compare")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bf-bench-batch-"))
    jobs = work / "jobs.jsonl"
    channels = [c for c in args.channels.split(",") if c]
    jobs.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"item-{i}",
                    "brand": str(ROOT / "examples/brands" / BRANDS[i % 3]),
                    "channels": channels,
                }
            )
            + "\n"
            for i in range(args.items)
        ),
        encoding="utf-8",
    )
    runs: list[tuple[str, int]] = [("local", int(c)) for c in args.concurrency.split(",")]
    if args.ray:
        runs.append(("ray", 2))
    # Warm the process (embedder, indexes, model) so every configuration starts equal.
    run_batch(
        jobs,
        work / "warm",
        backend_overrides={"kind": args.backend},
        max_items=1,
        progress_stream=io.StringIO(),
    )
    print(f"{args.items} items x {len(channels)} channel(s), backend {args.backend}")
    print(f"{'executor':10} {'threads':>7} {'wall s':>8} {'items/h':>9} {'done':>5} {'failed':>6}")
    best = 0.0
    for executor, concurrency in runs:
        started = time.perf_counter()
        summary = run_batch(
            jobs,
            work / f"{executor}-{concurrency}",
            backend_overrides={"kind": args.backend},
            executor=executor,
            concurrency=concurrency,
            progress_stream=io.StringIO(),
        )
        wall = time.perf_counter() - started
        rate = summary.succeeded / wall * 3600
        best = max(best, rate)
        done, failed = summary.succeeded, summary.failed
        print(f"{executor:10} {concurrency:>7} {wall:>8.1f} {rate:>9.0f} {done:>5} {failed:>6}")
    print(f"best: {best:.0f} items/hour ({args.backend})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
