"""Grammar-constrained sampling for llama.cpp that checks the grammar on one token, not the vocabulary.

Why: llama-cpp-python puts the JSON grammar in its sampler chain before top-k, so for every generated
token llama.cpp tests all ~152k vocabulary entries of the embedded Qwen model against the grammar:
26 ms per token on this project's 2-core machine, on top of a 45 ms decode step (``bench/campaign.py``
before/after in BENCHMARKS.md). Almost always the token the model would pick anyway is valid.

Contract: :func:`llama_class` returns a subclass of ``llama_cpp.Llama`` whose grammar-constrained
generation samples as llama.cpp's own ``common_sampler`` does: sample with the usual chain (penalties,
top-k, top-p, min-p, temperature) ignoring the grammar; ask the grammar about that one token; only if it
is rejected, apply the grammar to the whole vocabulary and sample again. The accepted token advances
both the chain and the grammar. The output still always satisfies the grammar; only the cost changes.
Generation without a grammar is untouched.
"""

from __future__ import annotations

import ctypes
import functools
from typing import Any

import numpy as np

_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)], align=True)


class GrammarCheckedSampler:
    """A sampler with llama-cpp-python's ``LlamaSampler.sample(ctx, idx)`` interface (see module doc)."""

    def __init__(self, llama_cpp: Any, chain: Any, vocab: Any, n_vocab: int, grammar: Any) -> None:
        self._lib = llama_cpp
        self._chain = chain  # a LlamaSampler without the grammar; owns its native chain
        self._grammar = llama_cpp.llama_sampler_init_grammar(
            vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
        )
        if not self._grammar:
            raise ValueError("llama.cpp could not compile the grammar")
        self._n_vocab = n_vocab
        self._candidates = np.zeros(n_vocab, dtype=_TOKEN_DATA)
        self._ids = np.arange(n_vocab, dtype=np.int32)
        self._one = np.zeros(1, dtype=_TOKEN_DATA)
        self.rejections = 0  # tokens the grammar refused: sampled again over the full vocabulary
        self.tokens = 0

    def _array(self, data: np.ndarray) -> Any:
        lib = self._lib
        return lib.llama_token_data_array(
            data=data.ctypes.data_as(lib.llama_token_data_p), size=len(data), selected=-1, sorted=False
        )

    def _fill(self, ctx: Any, idx: int) -> Any:
        logits = np.ctypeslib.as_array(self._lib.llama_get_logits_ith(ctx, idx), shape=(self._n_vocab,))
        self._candidates["id"] = self._ids
        self._candidates["logit"] = logits
        self._candidates["p"] = 0.0
        return self._array(self._candidates)

    def sample(self, ctx: Any, idx: int = -1) -> int:
        lib, raw_ctx = self._lib, ctx.ctx
        chain = self._chain.sampler
        cur = self._fill(raw_ctx, idx)
        lib.llama_sampler_apply(chain, ctypes.byref(cur))
        token = int(cur.data[cur.selected].id)  # samplers may reorder or shrink the array
        self._one[0] = (token, 1.0, 0.0)
        single = self._array(self._one)
        lib.llama_sampler_apply(self._grammar, ctypes.byref(single))
        if not np.isfinite(self._one["logit"][0]):
            self.rejections += 1
            cur = self._fill(raw_ctx, idx)
            lib.llama_sampler_apply(self._grammar, ctypes.byref(cur))
            lib.llama_sampler_apply(chain, ctypes.byref(cur))
            token = int(cur.data[cur.selected].id)
        lib.llama_sampler_accept(self._grammar, token)
        lib.llama_sampler_accept(chain, token)
        self.tokens += 1
        return token

    def close(self) -> None:
        if self._grammar:
            self._lib.llama_sampler_free(self._grammar)
            self._grammar = None
        self._chain.close()

    def __del__(self) -> None:
        self.close()


@functools.cache
def llama_class(base: type | None = None) -> type:
    """``base`` (default ``llama_cpp.Llama``) with :class:`GrammarCheckedSampler` for
    grammar-constrained generation."""
    import llama_cpp

    if base is None:
        from llama_cpp import Llama as base

    class GrammarCheckedLlama(base):  # type: ignore[misc, valid-type]
        last_sampler: GrammarCheckedSampler | None = None

        def _init_sampler(self, **kwargs: Any) -> Any:  # type: ignore[override]  # called with keywords only
            grammar = kwargs.pop("grammar", None)
            chain = super()._init_sampler(**kwargs)
            if grammar is None:
                return chain
            sampler = GrammarCheckedSampler(llama_cpp, chain, self._model.vocab, self._n_vocab, grammar)
            self.last_sampler = sampler
            return sampler

    return GrammarCheckedLlama
