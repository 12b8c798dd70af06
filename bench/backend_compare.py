"""The same prompts through three engines on the same GGUF file: tokens/s side by side.

Usage: python bench/backend_compare.py [--prompts 4] [--max-tokens 96] [--skip transformers]

Engines (each loads the embedded Qwen2.5-Coder-1.5B Q4_K_M file):
1. ``llama.cpp in-process`` — llama-cpp-python, what the ``llamacpp`` backend runs.
2. ``llama.cpp server`` — ``python -m llama_cpp.server`` on 127.0.0.1, reached over its OpenAI-compatible
   HTTP API with streaming (what the ``openai`` backend does against a local server).
3. ``transformers`` — ``AutoModelForCausalLM.from_pretrained(..., gguf_file=...)``: transformers reads
   the same file and dequantises it to float32; greedy decoding with its KV cache, torch on the CPU.

Every engine first answers one untimed warm-up prompt, then gets the same chat prompts (distinct from
their first words, so no engine reuses another prompt's KV cache), greedy decoding, ``--max-tokens`` new
tokens. Per engine: load time, time to first token (= prompt evaluation), prompt tokens/s, decode
tokens/s (tokens after the first ÷ the time after the first), and how many of its greedy tokens match
llama.cpp in-process (same weights, other numerics).
Last line: decode tokens/s of the three engines and the in-process engine's speed-up over each.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backends.embedded_model import embedded_model_path  # noqa: E402

SERVER_N_CTX = 8192  # what tests/servers.py starts llama_cpp.server with
WARM_UP = "Say hello."
PROMPTS = [
    "Write a two-sentence Instagram caption for a small coffee roaster's new cherry-and-cocoa blend.",
    "In three short bullet points, explain why a travel company should publish its carbon offsets.",
    "Draft a polite reply to a customer asking whether a mineral sunscreen is safe for children.",
    "Summarise the benefits of a seven-day guided trek in the mountains for a newsletter headline.",
    "Suggest five hashtags for a skincare brand launching a fragrance-free moisturiser.",
    "Write one sentence inviting readers to a coffee tasting event on Saturday morning.",
]


@dataclass
class Run:
    engine: str
    load_s: float = 0.0
    prompt_tokens: list[int] = field(default_factory=list)
    generated: list[list[int]] = field(default_factory=list)  # token ids (for the agreement check)
    ttft: list[float] = field(default_factory=list)
    decode_s: list[float] = field(default_factory=list)

    def row(self, reference: Run | None) -> str:
        gen = sum(len(g) for g in self.generated)
        prefill = sum(self.prompt_tokens) / sum(self.ttft)
        if reference is None:
            agree = "(reference)"
        else:
            same = total = 0
            for mine, ref in zip(self.generated, reference.generated, strict=True):
                n = min(len(mine), len(ref))
                prefix = next((i for i in range(n) if mine[i] != ref[i]), n)
                same, total = same + prefix, total + n
            agree = f"{same}/{total} tokens"
        return (
            f"{self.engine:24} {self.load_s:>7.1f} {sum(self.prompt_tokens):>8} {gen:>6} "
            f"{statistics.median(self.ttft):>9.2f} {prefill:>10.1f} {self.decode_rate:>9.1f}  {agree}"
        )

    @property
    def decode_rate(self) -> float:
        return sum(len(g) - 1 for g in self.generated) / sum(self.decode_s)


CONTEXT = (
    "You are a marketing assistant for small consumer brands: a coffee roaster in Maine, a travel company "
    "running guided treks in western China, and a skincare brand with fragrance-free products. Write in "
    "a warm, concrete, honest voice; state only facts given in the request; no superlatives, no "
    "guarantees, no health claims; keep to the length asked for."
)


def messages(prompt: str) -> list[dict[str, str]]:
    # The request's own words open the system message, so no engine can reuse the previous prompt's KV
    # cache beyond the chat template's first tokens: every engine evaluates every prompt in full.
    return [{"role": "system", "content": f"{prompt}\n\n{CONTEXT}"}, {"role": "user", "content": prompt}]


def run_in_process(model: Path, prompts: list[str], max_tokens: int, threads: int) -> Run:
    from llama_cpp import Llama

    run = Run("llama.cpp in-process")
    started = time.perf_counter()
    llm = Llama(model_path=str(model), n_ctx=SERVER_N_CTX, n_threads=threads, n_batch=512, verbose=False)
    run.load_s = time.perf_counter() - started
    llm.create_chat_completion(messages=messages(WARM_UP), max_tokens=8, temperature=0.0)  # untimed
    for prompt in prompts:
        t0 = time.perf_counter()
        stream = llm.create_chat_completion(
            messages=messages(prompt), max_tokens=max_tokens, temperature=0.0, stream=True
        )
        record_stream(run, t0, (chunk["choices"][0]["delta"].get("content") for chunk in stream), llm, prompt)
    llm.close()
    return run


def record_stream(run: Run, t0: float, deltas: Iterator[str | None], llm: Any, prompt: str) -> None:
    """Consume one streamed answer (request sent at ``t0``): time to first token, decode time, tokens."""
    first = None
    text = ""
    for delta in deltas:
        if delta:
            first = first or time.perf_counter()
            text += delta
    end = time.perf_counter()
    assert first is not None, "the engine streamed no text"
    run.ttft.append(first - t0)
    run.decode_s.append(end - first)
    run.prompt_tokens.append(len(chat_tokens(llm, prompt)))
    run.generated.append(llm.tokenize(text.encode(), add_bos=False, special=False))


def chat_tokens(llm: object, prompt: str) -> list[int]:
    """The prompt's tokens once the model's own chat template is applied (what every engine evaluates)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    special = llm.detokenize  # type: ignore[attr-defined]
    formatter = Jinja2ChatFormatter(
        template=llm.metadata["tokenizer.chat_template"],  # type: ignore[attr-defined]
        eos_token=special([llm.token_eos()], special=True).decode(),  # type: ignore[attr-defined]
        bos_token="",
    )
    rendered = formatter(messages=messages(prompt)).prompt  # type: ignore[arg-type]
    return llm.tokenize(rendered.encode(), add_bos=False, special=True)  # type: ignore[attr-defined]


def run_server(model: Path, prompts: list[str], max_tokens: int) -> Run:
    from llama_cpp import Llama
    from openai import OpenAI

    from tests.servers import llama_cpp_server

    tokenizer = Llama(model_path=str(model), vocab_only=True, verbose=False)
    run = Run("llama.cpp server (HTTP)")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        with llama_cpp_server(model, "bench", Path(tmp) / "server.log") as base:
            run.load_s = time.perf_counter() - started
            client = OpenAI(base_url=base, api_key="unused")
            client.chat.completions.create(
                model="bench",
                messages=messages(WARM_UP),  # type: ignore[arg-type]
                max_tokens=8,
                temperature=0.0,
            )  # untimed
            for n, prompt in enumerate(prompts):
                t0 = time.perf_counter()
                stream = client.chat.completions.create(
                    model="bench",
                    messages=messages(prompt),  # type: ignore[arg-type]
                    max_tokens=max_tokens,
                    temperature=0.0,
                    stream=True,
                    seed=n,
                )
                deltas = (chunk.choices[0].delta.content if chunk.choices else None for chunk in stream)
                record_stream(run, t0, deltas, tokenizer, prompt)
    tokenizer.close()
    return run


class _TokenClock:
    """A transformers streamer that notes when the first new token arrives (the prompt comes first)."""

    def __init__(self) -> None:
        self.calls = 0
        self.first = 0.0

    def put(self, value: object) -> None:
        self.calls += 1
        if self.calls == 2:
            self.first = time.perf_counter()

    def end(self) -> None:
        pass


def run_transformers(model: Path, prompts: list[str], max_tokens: int, threads: int) -> Run:
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(threads)
    run = Run("transformers (torch CPU)")
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(str(model.parent), gguf_file=model.name)
    lm = AutoModelForCausalLM.from_pretrained(str(model.parent), gguf_file=model.name, dtype=torch.float32)
    lm.eval()
    run.load_s = time.perf_counter() - started
    with torch.inference_mode():
        lm.generate(**tokenizer(WARM_UP, return_tensors="pt"), max_new_tokens=8, do_sample=False)  # untimed
        for prompt in prompts:
            ids = tokenizer.apply_chat_template(
                messages(prompt), add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            clock = _TokenClock()
            t0 = time.perf_counter()
            out = lm.generate(**ids, max_new_tokens=max_tokens, do_sample=False, streamer=clock)
            end = time.perf_counter()
            n_prompt = int(ids["input_ids"].shape[1])
            generated = out[0, n_prompt:].tolist()
            while generated and generated[-1] in (tokenizer.eos_token_id, tokenizer.pad_token_id):
                generated.pop()  # the end-of-turn token, as llama.cpp does not return it
            run.ttft.append(clock.first - t0)
            run.decode_s.append(end - clock.first)
            run.prompt_tokens.append(n_prompt)
            run.generated.append(generated)
    del lm
    gc.collect()
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=4, help=f"how many prompts (1-{len(PROMPTS)})")
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--skip", default="", help="comma-separated: server, transformers")
    args = parser.parse_args()
    prompts = PROMPTS[: max(1, min(args.prompts, len(PROMPTS)))]
    skip = {s for s in args.skip.split(",") if s}
    model = embedded_model_path()
    print(
        f"model: {model.name}; {len(prompts)} prompts, greedy, up to {args.max_tokens} new tokens",
        file=sys.stderr,
    )

    runs = [run_in_process(model, prompts, args.max_tokens, args.threads)]
    if "server" not in skip:
        runs.append(run_server(model, prompts, args.max_tokens))
    if "transformers" not in skip:
        runs.append(run_transformers(model, prompts, args.max_tokens, args.threads))

    print(
        f"{'engine':24} {'load s':>7} {'prompt':>8} {'gen':>6} {'TTFT p50':>9} {'prompt t/s':>10} "
        f"{'decode t/s':>9}  greedy tokens equal to in-process (common prefix)"
    )
    for run in runs:
        print(run.row(None if run is runs[0] else runs[0]))
    reference = runs[0].decode_rate
    parts = [f"{r.engine} {r.decode_rate:.1f}" for r in runs]
    ratios = [f"{reference / r.decode_rate:.2f}x vs {r.engine}" for r in runs[1:]]
    print(f"decode tok/s: {'; '.join(parts)}" + (f" (in-process: {', '.join(ratios)})" if ratios else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
