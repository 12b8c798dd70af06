"""One full campaign with the embedded model: where the time goes.

Prints a table (wall time, peak memory, model calls, prompt tokens and how many were reused from the
KV cache, generated tokens, prompt-evaluation vs decoding seconds) and, on its last line, the ratio of
wall time to the pure-generation lower bound (generated tokens / this machine's decode rate, measured
in the same run from llama.cpp's own decode counters).

    python bench/campaign.py [BRAND_DIR] [--channels a,b] [--backend llamacpp]
                             [--compare reuse,grammar] [--save-dir DIR]

``--compare`` runs the same campaign again with one speed-up turned off, side by side, so each gain is
visible: ``reuse`` evaluates every prompt from scratch (no llama.cpp prompt-prefix reuse); ``grammar``
checks the JSON grammar against the whole vocabulary at every token (llama-cpp-python's default) instead
of on the sampled token. ``--save-dir`` writes each run's campaign JSON (with its per-call trace).
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
# --compare name -> (BackendConfig field turned off, label of that run)
SPEEDUPS = {
    "reuse": ("prefix_reuse", "prefix reuse off"),
    "grammar": ("grammar_fast_path", "full-vocabulary grammar check"),
}


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
        "--compare",
        default="",
        help="comma-separated speed-ups to turn off in extra runs: reuse, grammar",
    )
    parser.add_argument("--save-dir", type=Path, help="write each run's campaign JSON here")
    args = parser.parse_args()
    channels = args.channels.split(",") if args.channels else None
    backend = {"kind": args.backend} if args.backend else None
    offs = [c for c in args.compare.split(",") if c]
    unknown = sorted(set(offs) - set(SPEEDUPS))
    if unknown:
        parser.error(f"--compare: unknown {unknown}; valid choices: {sorted(SPEEDUPS)}")

    runs = [("all speed-ups on", run_once(args.brand, channels, backend))]
    for off in offs:
        field, label = SPEEDUPS[off]
        runs.append((label, run_once(args.brand, channels, {**(backend or {}), field: False})))
    if args.save_dir:
        args.save_dir.mkdir(parents=True, exist_ok=True)
        for label, (_, campaign) in runs:
            path = args.save_dir / f"{label.replace(' ', '_')}.json"
            path.write_text(campaign.model_dump_json(indent=1), encoding="utf-8")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tables = [rows_for(label, wall, campaign) for label, (wall, campaign) in runs]
    width = max(len(k) for rows, _ in tables for k, _ in rows)
    for key_index in range(max(len(rows) for rows, _ in tables)):
        key = tables[0][0][key_index][0] if key_index < len(tables[0][0]) else ""
        values = [rows[key_index][1] if key_index < len(rows) else "" for rows, _ in tables]
        print(f"{key:<{width}}  " + "  |  ".join(values))
    print(f"{'peak RSS (MB)':<{width}}  {peak_mb:.0f}")
    on_wall = runs[0][1][0]
    for label, (off_wall, _) in runs[1:]:
        print(f"{label}: {off_wall:.0f} s; all on: {on_wall:.0f} s ({off_wall / on_wall:.2f}x faster)")
    bound = tables[0][1]
    if bound:
        print(f"wall / pure-generation lower bound = {bound:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
