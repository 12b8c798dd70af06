"""One full campaign with the embedded model: where the time goes.

Prints a table (wall time, peak memory, model calls, prompt tokens and how many were reused from the
KV cache, generated tokens, prompt-evaluation vs decoding seconds) and, on its last line, the ratio of
wall time to the pure-generation lower bound (generated tokens / this machine's decode rate, measured
in the same run from llama.cpp's own decode counters).

    python bench/campaign.py [BRAND_DIR] [--channels a,b] [--backend llamacpp] [--compare-reuse]

With ``--compare-reuse`` the same campaign runs a second time with llama.cpp's prompt-prefix reuse off
(every prompt evaluated from scratch), side by side, so the gain from reuse is visible.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from agents.state import Campaign
from pipelines import run_campaign

ROOT = Path(__file__).resolve().parent.parent


def run_once(brand_dir: str, channels: list[str] | None, backend: dict | None) -> tuple[float, Campaign]:
    with tempfile.TemporaryDirectory() as tmp:
        brand = Path(tmp) / Path(brand_dir).name
        shutil.copytree(brand_dir, brand, ignore=shutil.ignore_patterns(".brandforge"))
        started = time.perf_counter()
        campaign = run_campaign(
            brand, channels=channels, backend=backend, progress=lambda m: print(f"  {m}", file=sys.stderr)
        )
        return time.perf_counter() - started, campaign


def rows_for(label: str, wall: float, campaign: Campaign) -> tuple[list[tuple[str, str]], float | None]:
    s = campaign.stats
    decode_rate = s.completion_tokens / s.generation_seconds if s.generation_seconds else None
    rows = [
        ("run", label),
        ("brand / channels", f"{campaign.brand.name} / {len(campaign.pieces)}"),
        ("verdicts", ", ".join(f"{p.channel}={p.compliance.verdict}" for p in campaign.pieces)),
        ("wall time (s)", f"{wall:.1f}"),
        ("model calls", str(s.llm_calls)),
        ("prompt tokens (reused from cache)", f"{s.prompt_tokens} ({s.cached_prompt_tokens})"),
        ("generated tokens", str(s.completion_tokens)),
        ("prompt evaluation (s)", f"{s.prompt_seconds:.1f}" if s.prompt_seconds is not None else "n/a"),
        ("decoding (s)", f"{s.generation_seconds:.1f}" if s.generation_seconds is not None else "n/a"),
        ("decode rate (tok/s)", f"{decode_rate:.1f}" if decode_rate else "n/a"),
    ]
    if s.prompt_seconds is not None and s.generation_seconds is not None:
        rows.append(
            (
                "share prompt / decode / other",
                f"{s.prompt_seconds / wall:.0%} / "
                f"{s.generation_seconds / wall:.0%} / "
                f"{1 - (s.prompt_seconds + s.generation_seconds) / wall:.0%}",
            )
        )
    bound = wall / (s.completion_tokens / decode_rate) if decode_rate else None
    if bound:
        rows.append(("wall / pure-generation bound", f"{bound:.2f}x"))
    return rows, bound


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("brand", nargs="?", default=str(ROOT / "examples" / "brands" / "tidewater"))
    parser.add_argument("--channels", help="comma-separated (default: the brand's five)")
    parser.add_argument("--backend", default=None)
    parser.add_argument(
        "--compare-reuse", action="store_true", help="run again with llama.cpp prompt-prefix reuse off"
    )
    args = parser.parse_args()
    channels = args.channels.split(",") if args.channels else None
    backend = {"kind": args.backend} if args.backend else None

    runs = [("prefix reuse on", run_once(args.brand, channels, backend))]
    if args.compare_reuse:
        runs.append(
            ("prefix reuse off", run_once(args.brand, channels, {**(backend or {}), "prefix_reuse": False}))
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tables = [rows_for(label, wall, campaign) for label, (wall, campaign) in runs]
    width = max(len(k) for rows, _ in tables for k, _ in rows)
    for key_index in range(max(len(rows) for rows, _ in tables)):
        key = tables[0][0][key_index][0] if key_index < len(tables[0][0]) else ""
        values = [rows[key_index][1] if key_index < len(rows) else "" for rows, _ in tables]
        print(f"{key:<{width}}  " + "  |  ".join(values))
    print(f"{'peak RSS (MB)':<{width}}  {peak_mb:.0f}")
    if len(runs) == 2:
        (on_wall, _), (off_wall, _) = runs[0][1], runs[1][1]
        print(f"prefix reuse: {off_wall:.0f} s -> {on_wall:.0f} s ({off_wall / on_wall:.2f}x faster)")
    bound = tables[0][1]
    if bound:
        print(f"wall / pure-generation lower bound = {bound:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
