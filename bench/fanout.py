"""Channel fan-out (agents.fanout) against the old channel-by-channel loop, side by side.

    python bench/fanout.py [--part endpoint|llamacpp|both] [--brand DIR] [--channels a,b,c]
                           [--latency 0.2] [--concurrency 4] [--runs 1]

Two parts, each running the same campaign twice per run — once with the stages' channel loops as
:func:`agents.fanout.for_each_channel` (forks of the state, at most the backend's ``max_concurrency``
at once, joined in channel order), once with the old loop (every channel's work in place, one after
another) patched back in:

- ``endpoint``: the ``openai`` backend against a real OpenAI-compatible HTTP endpoint on 127.0.0.1
  (tests/schema_endpoint.py) that answers each request after a fixed latency, standing in for a vLLM
  server that serves many requests at once. The fan-out should divide the channel stages' time by up to
  the number of channels; the peak column is the most requests the server had in flight.
- ``llamacpp``: the embedded model in process (max_concurrency 1): the fan-out runs the same calls in
  the same order in the calling thread, so the KV-cache reuse and the time must be unchanged — a
  no-regression check. Minutes per campaign on a laptop CPU.

Both modes must produce the same campaign (pieces and trace order); the table says so. The last line is
the headline: the speed-up of the fan-out on the endpoint, and the in-process ratio where it ran.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents.base import RunContext  # noqa: E402
from agents.channels import ChannelSpec  # noqa: E402
from agents.state import Campaign, CampaignState  # noqa: E402
from pipelines import run_campaign  # noqa: E402
from tests.schema_endpoint import SchemaEndpoint  # noqa: E402

FANOUT, SEQUENTIAL = "fan-out", "old loop"


def _old_loop(
    ctx: RunContext,
    state: CampaignState,
    work: Callable[[CampaignState, ChannelSpec], None],
    channels: Sequence[ChannelSpec] | None = None,
) -> None:
    """The channel loop before the fan-out: each channel's work on the shared state, in order."""
    for channel in state.channels if channels is None else channels:
        work(state, channel)


@contextmanager
def old_loop() -> Iterator[int]:
    """Patch the old loop into every agent module that imported ``for_each_channel``; yields how many."""
    patched = [
        (module, module.for_each_channel)
        for name, module in list(sys.modules.items())
        if name.startswith("agents.") and name != "agents.fanout" and hasattr(module, "for_each_channel")
    ]
    for module, _ in patched:
        module.for_each_channel = _old_loop
    try:
        yield len(patched)
    finally:
        for module, original in patched:
            module.for_each_channel = original


@dataclass
class Run:
    mode: str
    wall: float
    calls: int
    cached: int
    prompt_tokens: int
    peak: int | None
    campaign: Campaign


def _signature(campaign: Campaign) -> tuple[Any, ...]:
    timing = {"seconds", "prompt_seconds", "generation_seconds", "cached_prompt_tokens"}
    return (
        [p.model_dump() for p in campaign.pieces],
        [t.model_dump(exclude=timing) for t in campaign.trace],
    )


def _campaign(brand: Path, channels: list[str], backend: dict[str, Any], mode: str) -> tuple[Campaign, float]:
    started = time.perf_counter()
    if mode == SEQUENTIAL:
        with old_loop() as patched:
            if not patched:
                print(
                    "note: no agent calls for_each_channel yet: both modes run the same loop", file=sys.stderr
                )
            campaign = run_campaign(brand, channels=channels, backend=backend)
    else:
        campaign = run_campaign(brand, channels=channels, backend=backend)
    return campaign, time.perf_counter() - started


def _run(
    brand: Path, channels: list[str], backend: dict[str, Any], mode: str, peak: Callable[[], int] | None
) -> Run:
    campaign, wall = _campaign(brand, channels, backend, mode)
    return Run(
        mode,
        wall,
        campaign.stats.llm_calls,
        campaign.stats.cached_prompt_tokens,
        campaign.stats.prompt_tokens,
        peak() if peak else None,
        campaign,
    )


def _table(title: str, runs: list[Run]) -> float:
    """Print the runs, means per mode; returns old-loop wall / fan-out wall (>1: the fan-out is faster)."""
    print(f"\n{title}")
    print(f"{'mode':<9} {'wall s':>8} {'calls':>6} {'prompt tok':>10} {'cached tok':>10} {'peak':>5}")
    for run in runs:
        peak = "-" if run.peak is None else str(run.peak)
        tokens = f"{run.prompt_tokens:>10} {run.cached:>10}"
        print(f"{run.mode:<9} {run.wall:>8.2f} {run.calls:>6} {tokens} {peak:>5}")
    fan = fmean(r.wall for r in runs if r.mode == FANOUT)
    old = fmean(r.wall for r in runs if r.mode == SEQUENTIAL)
    same = {repr(_signature(r.campaign)) for r in runs}
    print(f"mean wall: fan-out {fan:.2f} s, old loop {old:.2f} s; ratio old/fan-out {old / fan:.2f}x")
    print(f"same campaign in every run (pieces, trace order): {'yes' if len(same) == 1 else 'NO'}")
    return old / fan


def endpoint_part(brand: Path, channels: list[str], latency: float, concurrency: int, runs: int) -> float:
    with SchemaEndpoint(latency_s=latency) as endpoint:
        backend = {"kind": "openai", "base_url": endpoint.base_url, "concurrency": concurrency}
        _campaign(brand, channels, backend, FANOUT)  # warm: index, embedder, HTTP connections
        results = []
        for _ in range(runs):
            for mode in (SEQUENTIAL, FANOUT):  # alternate, so drift hits both modes alike
                endpoint.clear()
                results.append(_run(brand, channels, backend, mode, endpoint.peak_in_flight))
    title = (
        f"openai backend -> recording endpoint, {latency:g} s per request, concurrency {concurrency}, "
        f"{len(channels)} channels"
    )
    return _table(title, results)


def llamacpp_part(brand: Path, channels: list[str], runs: int) -> float:
    from backends import get_backend
    from pipelines.spec import load_pipeline

    # No prompt cache on disk: the first campaign would write the brand context's state there and the
    # second would start from it, favouring whichever mode runs second.
    backend = {"kind": "llamacpp", "prompt_cache_mb": 0}
    llm = get_backend(load_pipeline("default", backend_overrides=backend).spec.backend)
    llm.warm_up()  # the model loads before any clock starts
    results = []
    for _ in range(runs):
        for mode in (SEQUENTIAL, FANOUT):
            llm.forget_prompts()  # every campaign starts with a cold KV cache
            results.append(_run(brand, channels, backend, mode, None))
    return _table(f"llama.cpp in process (max_concurrency 1), {len(channels)} channels", results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["endpoint", "llamacpp", "both"], default="both")
    parser.add_argument("--brand", type=Path, default=ROOT / "examples/brands/tidewater")
    parser.add_argument("--channels", default="search_ad,social_post,email")
    parser.add_argument("--latency", type=float, default=0.2, help="endpoint seconds per request")
    parser.add_argument("--concurrency", type=int, default=4, help="openai backend concurrency")
    parser.add_argument("--runs", type=int, default=1, help="campaigns per mode and part")
    args = parser.parse_args()
    channels = [c for c in args.channels.split(",") if c]

    endpoint_ratio = llama_ratio = None
    if args.part in ("endpoint", "both"):
        endpoint_ratio = endpoint_part(args.brand, channels, args.latency, args.concurrency, args.runs)
    if args.part in ("llamacpp", "both"):
        llama_ratio = llamacpp_part(args.brand, channels, args.runs)
    parts = []
    if endpoint_ratio is not None:
        parts.append(f"OpenAI endpoint {endpoint_ratio:.2f}x faster (concurrency {args.concurrency})")
    if llama_ratio is not None:
        parts.append(f"in-process llama.cpp {llama_ratio:.2f}x (1.00x = no regression)")
    print("\nfan-out vs old loop, " + f"{len(channels)} channels: " + "; ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
