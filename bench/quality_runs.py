"""Run the quality benchmark's campaigns: every example brand x every seed, one campaign JSON each.

    python bench/quality_runs.py OUT_DIR [--brands a,b] [--seeds 7,8,9] [--pipeline P] [--channels c,d]

Writes ``OUT_DIR/<brand>-s<seed>.json`` (the Campaign, as the CLI writes it) and skips a file that is
already there, so an interrupted run resumes where it stopped. ``--channels`` runs only those channels (to
look at one channel's pieces quickly; the strategist then plans for those channels alone, so its pieces
are not the ones a whole campaign delivers and its figures are not the benchmark's).
``bench/quality.py`` scores the folders.
Run it alone: two llama.cpp processes on two cores slow each other down many times over, and campaign
time is one of the figures reported.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from backends import get_backend
from pipelines import run_campaign
from pipelines.spec import load_pipeline

ROOT = Path(__file__).resolve().parent.parent
BRANDS = ROOT / "examples" / "brands"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--brands", help="comma-separated folder names under examples/brands (default: all)")
    parser.add_argument("--seeds", default="7,8,9")
    parser.add_argument("--pipeline", default="default")
    parser.add_argument("--channels", help="comma-separated channel names (default: the brand's own)")
    args = parser.parse_args()
    brands = args.brands.split(",") if args.brands else sorted(p.name for p in BRANDS.iterdir() if p.is_dir())
    seeds = [int(s) for s in args.seeds.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        for name in brands:
            target = args.out / f"{name}-s{seed}.json"
            if target.exists():
                continue
            resolved = load_pipeline(args.pipeline, backend_overrides={"seed": seed})
            llm = get_backend(resolved.spec.backend)
            started = time.perf_counter()
            channels = args.channels.split(",") if args.channels else None
            campaign = run_campaign(BRANDS / name, pipeline=resolved, channels=channels)
            wall = time.perf_counter() - started
            llm.close()
            target.write_text(campaign.model_dump_json(indent=2), encoding="utf-8")
            verdicts = ", ".join(f"{p.channel}={p.compliance.verdict}" for p in campaign.pieces)
            print(
                f"{name} seed {seed}: {wall:.0f} s, {campaign.stats.llm_calls} calls; {verdicts}", flush=True
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
