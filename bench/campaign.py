"""One full campaign with the embedded model: where the time goes.

Prints a table (wall time, peak memory, model calls, prompt tokens and how many were reused from the
KV cache, generated tokens, prompt-evaluation vs decoding seconds) and, on its last line, the ratio of
wall time to the pure-generation lower bound (generated tokens / this machine's decode rate, measured
in the same run from llama.cpp's own decode counters).

    python bench/campaign.py [BRAND_DIR] [--channels a,b] [--backend llamacpp]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from pipelines import run_campaign

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("brand", nargs="?", default=str(ROOT / "examples" / "brands" / "tidewater"))
    parser.add_argument("--channels", help="comma-separated (default: the brand's five)")
    parser.add_argument("--backend", default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        brand = Path(tmp) / Path(args.brand).name
        shutil.copytree(args.brand, brand, ignore=shutil.ignore_patterns(".brandforge"))
        channels = args.channels.split(",") if args.channels else None
        started = time.perf_counter()
        campaign = run_campaign(
            brand,
            channels=channels,
            backend=args.backend,
            progress=lambda m: print(f"  {m}", file=sys.stderr),
        )
        wall = time.perf_counter() - started

    s = campaign.stats
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    decode_rate = s.completion_tokens / s.generation_seconds if s.generation_seconds else None
    rows = [
        ("brand / channels", f"{campaign.brand.name} / {len(campaign.pieces)}"),
        ("verdicts", ", ".join(f"{p.channel}={p.compliance.verdict}" for p in campaign.pieces)),
        ("wall time (s)", f"{wall:.1f}"),
        ("peak RSS (MB)", f"{peak_mb:.0f}"),
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
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    if decode_rate:
        print(f"wall / pure-generation lower bound = {wall / (s.completion_tokens / decode_rate):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
