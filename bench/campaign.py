"""One full campaign with the embedded model: where the time goes.

Prints a table (wall time, peak memory, model calls, prompt tokens and how many were reused from the
KV cache, generated tokens, prompt-evaluation vs decoding seconds) and, on its last line, the ratio of
wall time to the pure-generation lower bound (generated tokens / this machine's decode rate, measured
in the same run from llama.cpp's own decode counters).

    python bench/campaign.py [BRAND_DIR] [--channels a,b] [--backend llamacpp]
                             [--compare roles,threads,states,reuse,grammar] [--repeat] [--seeds 7,8,9]
                             [--save-dir DIR]

``--compare`` runs the same campaign again with one speed-up turned off, side by side, so each gain is
visible (or an alternative design measured against it): ``roles`` uses the v3 prompts, which leave each
role's standing instructions and answer shape to the shared system message (context.system@2) instead of
carrying them in every call; ``threads`` uses the stateless prompt versions (v1: every prompt restates
the brief and the draft instead of continuing the channel's conversation); ``states`` keeps only
llama.cpp's live KV cache, no saved states of earlier calls; ``reuse`` evaluates every prompt from
scratch (no prompt-prefix reuse at all); ``grammar`` checks the JSON grammar against the whole vocabulary
at every token (llama-cpp-python's default) instead of on the sampled token. ``--repeat`` runs the
campaign once more as a later process would: live KV cache and saved states dropped, the brand context's
state loaded from the prompt cache on disk that the first run wrote. ``--seeds`` runs all of that once
per sampling seed and adds the means: one seed's revisions (a blocked claim, a short blog) can change a
campaign's calls by a third, so a single run cannot tell a slower design from an unlucky sample.
``--save-dir`` writes each run's campaign JSON (with its per-call trace).

Besides the headline ratio, the table shows wall time over the generation bound plus the first call's
prompt evaluation: the one pass over the brand context that a campaign on a brand new to this machine
cannot avoid (it is ~0 when that context comes from the prompt cache on disk). The model is loaded
before each run's clock starts (a process loads it once); the load time is its own row. Every other run
starts cold: nothing cached in memory, an empty prompt-cache folder of its own.
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from statistics import fmean

from agents.state import Campaign
from backends import DEFAULT_KIND, get_backend
from backends.registry import registration
from pipelines import run_campaign
from pipelines.spec import PIPELINES_DIR, load_pipeline

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = "all speed-ups on"
REPEAT = "repeat: brand context from disk"
# The default pipeline's threaded prompts -> their stateless predecessors (v1: every prompt restates the
# brief and the draft).
STATELESS = {
    "strategist.brief@5": "strategist.brief@1",
    "copywriter.draft@7": "copywriter.draft@1",
    "reviewer.review@2": "reviewer.review@1",
}
# The default pipeline's prompts -> the versions that leave each role's standing instructions and answer
# shape to the shared system message (context.system@2) and send only what differs per call. The draft is
# @4 (v3 with the hard-limit sentence back beside the fields); the claim check keeps @1, whose criteria
# sit beside the sentences it judges (with @2, which leaves them to the system message, the model blocked
# supported sentences more often: BENCHMARKS.md).
SYSTEM_INSTRUCTIONS = {
    "context.system@3": "context.system@2",
    "strategist.brief@5": "strategist.brief@3",
    "copywriter.draft@7": "copywriter.draft@4",
    "reviewer.review@2": "reviewer.review@3",
    "copywriter.revise@3": "copywriter.revise@2",
}
# --compare name -> (BackendConfig override, prompt swaps in the default pipeline, label of that run)
SPEEDUPS: dict[str, tuple[dict[str, object], dict[str, str], str]] = {
    "roles": ({}, SYSTEM_INSTRUCTIONS, "instructions once, in the system message (v3)"),
    "threads": ({}, STATELESS, "stateless prompts (v1)"),
    "states": ({"kv_state_cache_mb": 0}, {}, "no saved KV states"),
    "reuse": ({"prefix_reuse": False}, {}, "prefix reuse off"),
    "grammar": ({"grammar_fast_path": False}, {}, "full-vocabulary grammar check"),
}


def run_once(
    brand_dir: str, channels: list[str] | None, backend: dict, *, swaps: dict[str, str] | None = None
) -> tuple[float, float, Campaign]:
    """(model load s, campaign wall s, campaign) for one campaign on a copy of ``brand_dir``, with the
    default pipeline's prompt references replaced as ``swaps`` says (all at once, so chains cannot form)."""
    with tempfile.TemporaryDirectory() as tmp:
        pipeline: Path | str = "default"
        if swaps:
            text = (PIPELINES_DIR / "default.yaml").read_text(encoding="utf-8")
            missing = [ref for ref in swaps if ref not in text]
            if missing:
                raise SystemExit(f"bench: the default pipeline no longer uses {missing}; update the swaps")
            text = re.sub("|".join(map(re.escape, swaps)), lambda m: swaps[m[0]], text)
            pipeline = Path(tmp) / "swapped.yaml"
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
        wall = time.perf_counter() - started
        # Each run's settings (seed, prompt-cache folder) make a backend of its own: free its model and
        # saved states, or the process would hold every run's and the peak-RSS row would add them up.
        llm.close()
        return load, wall, campaign


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
        # A campaign on a brand this machine has not seen must read its context once, whatever the
        # prompt design: the first call's prompt (system message + brief request) is that pass.
        first = next((t.prompt_seconds for t in campaign.trace if t.prompt_seconds is not None), None)
        if first is not None:
            floor = s.completion_tokens / decode_rate + first
            rows.append(("wall / (generation + first prompt)", f"{wall / floor:.2f}x"))
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
    parser.add_argument(
        "--seeds", help="comma-separated sampling seeds: every run once per seed, and means (default: 7)"
    )
    args = parser.parse_args()
    channels = args.channels.split(",") if args.channels else None
    backend: dict[str, object] = {"kind": args.backend} if args.backend else {}
    offs = [c for c in args.compare.split(",") if c]
    unknown = sorted(set(offs) - set(SPEEDUPS))
    if unknown:
        parser.error(f"--compare: unknown {unknown}; valid choices: {sorted(SPEEDUPS)}")

    seeds: list[int | None] = [int(x) for x in args.seeds.split(",")] if args.seeds else [None]
    states = Path(tempfile.mkdtemp(prefix="bench-prompt-states-"))
    runs: list[tuple[str, int | None, tuple[float, float, Campaign]]] = []
    if args.save_dir:
        args.save_dir.mkdir(parents=True, exist_ok=True)

    def record(label: str, seed: int | None, result: tuple[float, float, Campaign]) -> None:
        """Keep one run's result, and write its JSON at once: a later run that fails loses nothing."""
        runs.append((label, seed, result))
        if args.save_dir:
            name = label + (f" seed {seed}" if seed is not None else "")
            path = args.save_dir / (re.sub(r"[\s/\\]+", "_", name) + ".json")
            path.write_text(result[2].model_dump_json(indent=1), encoding="utf-8")

    kind = str(backend.get("kind", DEFAULT_KIND))
    keeps_states = "prompt_cache_dir" in registration(kind).config.model_fields

    def with_states(config: dict[str, object], folder: str) -> dict[str, object]:
        """Each run its own prompt-state folder, where the backend keeps states on disk (llamacpp)."""
        return {**config, "prompt_cache_dir": str(states / folder)} if keeps_states else config

    for seed in seeds:
        seeded = {**backend, "seed": seed} if seed is not None else dict(backend)
        first = with_states(seeded, f"first-{seed}")
        record(DEFAULT, seed, run_once(args.brand, channels, first))
        for off in offs:
            override, swaps, label = SPEEDUPS[off]
            config = with_states({**seeded, **override}, f"{off}-{seed}")
            record(label, seed, run_once(args.brand, channels, config, swaps=swaps))
        if args.repeat:
            record(REPEAT, seed, run_once(args.brand, channels, first))
    shutil.rmtree(states, ignore_errors=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tables = [
        rows_for(label + (f" (seed {seed})" if len(seeds) > 1 else ""), load, wall, campaign)
        for label, seed, (load, wall, campaign) in runs
    ]
    width = max(len(k) for rows, _ in tables for k, _ in rows)
    for key_index in range(max(len(rows) for rows, _ in tables)):
        key = tables[0][0][key_index][0] if key_index < len(tables[0][0]) else ""
        values = [rows[key_index][1] if key_index < len(rows) else "" for rows, _ in tables]
        print(f"{key:<{width}}  " + "  |  ".join(values))
    print(f"{'peak RSS (MB)':<{width}}  {peak_mb:.0f}")

    # Per configuration, over the seeds: one seed's revisions can change a campaign's calls by a third.
    by_label: dict[str, list[tuple[float, Campaign, float | None]]] = {}
    for (label, _, (_, wall, campaign)), (_, bound) in zip(runs, tables, strict=True):
        by_label.setdefault(label, []).append((wall, campaign, bound))

    def mean_wall(label: str) -> float:
        return fmean(w for w, _, _ in by_label[label])

    def mean_bound(label: str) -> float | None:
        bounds = [b for _, _, b in by_label.get(label, []) if b]
        return fmean(bounds) if bounds else None

    if len(seeds) > 1:
        print(f"mean over seeds {args.seeds}:")
        for label, results in by_label.items():
            ratio = mean_bound(label)
            print(
                f"  {label}: wall {mean_wall(label):.1f} s, "
                f"{fmean(c.stats.llm_calls for _, c, _ in results):.1f} calls, "
                f"{fmean(c.stats.completion_tokens for _, c, _ in results):.0f} generated tokens, "
                f"prompt evaluation {fmean(c.stats.prompt_seconds or 0.0 for _, c, _ in results):.1f} s, "
                f"wall / generation bound {f'{ratio:.2f}x' if ratio else 'n/a'}"
            )

    on_wall = mean_wall(DEFAULT)
    for label in by_label:
        if label != DEFAULT:
            off_wall = mean_wall(label)
            print(f"{label}: {off_wall:.0f} s; all on: {on_wall:.0f} s ({off_wall / on_wall:.2f}x faster)")
    repeat_bound = mean_bound(REPEAT)
    if repeat_bound:
        print(f"repeat campaign (brand context from disk): wall / generation bound = {repeat_bound:.2f}x")
    bound = mean_bound(DEFAULT)
    if bound:
        print(f"wall / pure-generation lower bound = {bound:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
