"""What BrandForge itself costs around the model: orchestration, retrieval, validation, I/O.

Runs ``run_campaign`` with the fake backend at a fixed per-call latency (a stand-in for a model whose
time we know exactly), and prints, per run, wall time, model time (sum of per-call seconds) and
(wall - model) / wall. Each run has its own positioning statement, so prompts and model output differ
from run to run. The first run builds the index and loads the embedder; later runs reuse both, as a
long-lived process does. Last line: the overhead of a warm run.

    python bench/overhead.py [BRAND_DIR] [--delay 0.2] [--runs 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

from pipelines import run_campaign

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("brand", nargs="?", default=str(ROOT / "examples" / "brands" / "tidewater"))
    parser.add_argument("--delay", type=float, default=0.2, help="simulated seconds per model call")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        brand = Path(tmp) / Path(args.brand).name
        shutil.copytree(args.brand, brand, ignore=shutil.ignore_patterns(".brandforge"))
        manifest = brand / "brand.yaml"
        original = yaml.safe_load(manifest.read_text(encoding="utf-8"))
        for run in range(1, args.runs + 1):
            # A different positioning each run gives different prompts, hence different (fake) model
            # output: no run is helped by caches keyed on the previous run's texts.
            variant = {**original, "positioning": f"{original['positioning']} ({run})"}
            manifest.write_text(yaml.safe_dump(variant, allow_unicode=True), encoding="utf-8")
            started = time.perf_counter()
            campaign = run_campaign(brand, backend={"kind": "fake", "delay_s": args.delay})
            wall = time.perf_counter() - started
            model = sum(t.seconds for t in campaign.trace)
            rows.append((run, len(campaign.trace), wall, model, (wall - model) / wall))

    print(f"{'run':>3}  {'calls':>5}  {'wall s':>8}  {'model s':>8}  {'overhead':>8}")
    for run, calls, wall, model, share in rows:
        print(f"{run:>3}  {calls:>5}  {wall:>8.3f}  {model:>8.3f}  {share:>8.2%}")
    warm = rows[1:] or rows
    print(
        f"orchestration overhead (warm, delay {args.delay}s/call) = {sum(r[4] for r in warm) / len(warm):.2%}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
