"""One full campaign with the embedded model: where the time goes.

Prints a table (wall time, peak memory, model calls, prompt tokens and how many were reused from the
KV cache, generated tokens, prompt-evaluation vs decoding seconds) and, on its last line, the ratio of
wall time to the pure-generation lower bound (generated tokens / this machine's decode rate, measured
in the same run from llama.cpp's own decode counters).

    python bench/campaign.py [BRAND_DIR] [--channels a,b] [--backend llamacpp]
                             [--compare threads,states,reuse,grammar] [--repeat] [--save-dir DIR]

``--compare`` runs the same campaign again with one speed-up turned off, side by side, so each gain is
visible: ``threads`` uses the stateless prompt versions (v1: every prompt restates the brief and the draft
instead of continuing the channel's conversation); ``states`` keeps only llama.cpp's live KV cache, no
saved states of earlier calls; ``reuse`` evaluates every prompt from scratch (no prompt-prefix reuse at
all); ``grammar`` checks the JSON grammar against the whole vocabulary at every token (llama-cpp-python's
default) instead of on the sampled token. ``--repeat`` runs the campaign once more as a later process
would: live KV cache and saved states dropped, the brand context's state loaded from the prompt cache on
disk that the first run wrote. ``--save-dir`` writes each run's campaign JSON (with its per-call trace).
The model is loaded before each run's clock starts (a process loads it once); the load time is its own
row. Every other run starts cold: nothing cached in memory, an empty prompt-cache folder of its own.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from agents.backends import get_backend
from agents.state import Campaign
from pipelines import run_campaign
from pipelines.spec import PIPELINES_DIR, load_pipeline

ROOT = Path(__file__).resolve().parent.parent
# --compare name -> (BackendConfig override that turns it off, label of that run)
SPEEDUPS: dict[str, tuple[dict[str, object], str]] = {
    "threads": ({}, "stateless prompts (v1)"),
    "states": ({"kv_state_cache_mb": 0}, "no saved KV states"),
    "reuse": ({"prefix_reuse": False}, "prefix reuse off"),
    "grammar": ({"grammar_fast_path": False}, "full-vocabulary grammar check"),
}
# The default pipeline with each threaded prompt swapped for its stateless predecessor.
STATELESS = {
    "strategist.brief@2": "strategist.brief@1",
    "copywriter.draft@2": "copywriter.draft@1",
    "reviewer.review@2": "reviewer.review@1",
}


def run_once(
    brand_dir: str, channels: list[str] | None, backend: dict, *, stateless: bool = False
) -> tuple[float, float, Campaign]:
    """(model load s, campaign wall s, campaign) for one campaign on a copy of ``brand_dir``."""
    with tempfile.TemporaryDirectory() as tmp:
        pipeline: Path | str = "default"
        if stateless:
            text = (PIPELINES_DIR / "default.yaml").read_text(encoding="utf-8")
            for new, old in STATELESS.items():
                text = text.replace(new, old)
            pipeline = Path(tmp) / "stateless.yaml"
            pipeline.write_text(text, encoding="utf-8")
        resolved = load_pipeline(pipeline, backend_overrides=backend)
        started = time.perf_counter()
        llm = get_backend(resolved.spec.backend)
        llm.warm_up()
        load = time.perf_counter() - started
        llm.forget_prompts()  # nothing in memory from an earlier run with the same model
        brand = Path(tmp) / Path(brand_dir).name
        shutil.copytree(brand_dir, brand, ignore=shutil.ignore_patterns(".brandforge"))
        started = time.perf_counter()
        campaign = run_campaign(
            brand, pipeline=resolved, channels=channels, progress=lambda m: print(f"  {m}", file=sys.stderr)
        )
        return load, time.perf_counter() - started, campaign


def rows_for(
    label: str, load: float, wall: float, campaign: Campaign
) -> tuple[list[tuple[str, str]], float | None]:
    s = campaign.stats
    decode_rate = s.completion_tokens / s.generation_seconds if s.generation_seconds else None
    rows = [
        ("run", label),
        ("brand / channels", f"{campaign.brand.name} / {len(campaign.pieces)}"),
        ("verdicts", ", ".join(f"{p.channel}={p.compliance.verdict}" for p in campaign.pieces)),
        ("model load, before the clock (s)", f"{load:.1f}"),
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
        help=f"comma-separated speed-ups to turn off in extra runs: {', '.join(SPEEDUPS)}",
    )
    parser.add_argument(
        "--repeat", action="store_true", help="run again as a later process: brand context from disk"
    )
    parser.add_argument("--save-dir", type=Path, help="write each run's campaign JSON here")
    args = parser.parse_args()
    channels = args.channels.split(",") if args.channels else None
    backend: dict[str, object] = {"kind": args.backend} if args.backend else {}
    offs = [c for c in args.compare.split(",") if c]
    unknown = sorted(set(offs) - set(SPEEDUPS))
    if unknown:
        parser.error(f"--compare: unknown {unknown}; valid choices: {sorted(SPEEDUPS)}")

    states = Path(tempfile.mkdtemp(prefix="bench-prompt-states-"))
    first = {**backend, "prompt_cache_dir": str(states / "first")}
    runs = [("all speed-ups on", run_once(args.brand, channels, first))]
    for off in offs:
        override, label = SPEEDUPS[off]
        config = {**backend, **override, "prompt_cache_dir": str(states / off)}
        runs.append((label, run_once(args.brand, channels, config, stateless=off == "threads")))
    if args.repeat:
        runs.append(("repeat: brand context from disk", run_once(args.brand, channels, first)))
    shutil.rmtree(states, ignore_errors=True)
    if args.save_dir:
        args.save_dir.mkdir(parents=True, exist_ok=True)
        for label, (_, _, campaign) in runs:
            path = args.save_dir / f"{label.replace(' ', '_')}.json"
            path.write_text(campaign.model_dump_json(indent=1), encoding="utf-8")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tables = [rows_for(label, load, wall, campaign) for label, (load, wall, campaign) in runs]
    width = max(len(k) for rows, _ in tables for k, _ in rows)
    for key_index in range(max(len(rows) for rows, _ in tables)):
        key = tables[0][0][key_index][0] if key_index < len(tables[0][0]) else ""
        values = [rows[key_index][1] if key_index < len(rows) else "" for rows, _ in tables]
        print(f"{key:<{width}}  " + "  |  ".join(values))
    print(f"{'peak RSS (MB)':<{width}}  {peak_mb:.0f}")
    on_wall = runs[0][1][1]
    for label, (_, off_wall, _) in runs[1:]:
        print(f"{label}: {off_wall:.0f} s; all on: {on_wall:.0f} s ({off_wall / on_wall:.2f}x faster)")
    if args.repeat and tables[-1][1]:
        print(f"repeat campaign (brand context from disk): wall / generation bound = {tables[-1][1]:.2f}x")
    bound = tables[0][1]
    if bound:
        print(f"wall / pure-generation lower bound = {bound:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
