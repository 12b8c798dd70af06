"""Saved KV states for llama.cpp: continue from the longest cached prompt prefix, not only the last one.

Why: llama.cpp holds one KV cache and llama-cpp-python reuses only the prefix a prompt shares with the
*previous* call. A campaign's calls form conversation threads that branch (the brief, then one thread
per channel: draft, reviews), and the agents go stage by stage across channels, so the previous call
is usually another channel's: without saved states every review would evaluate its channel's draft
again.

Contract: :func:`with_saved_states` returns a subclass of a ``llama_cpp.Llama`` class whose
``generate`` first lines the prompt's tokens up with a saved state whose text it continues (an earlier
answer, tokenized again, can split differently from how the model sampled it:
:meth:`KVStateCache.align`), then restores, from a :class:`KVStateCache`, the saved state that shares
the longest prefix with the prompt (when it beats the live cache by more than ``min_gain`` tokens), lets
llama-cpp-python evaluate only the rest, and saves the state again when generation ends. A state is a
copy of sequence 0's KV cells (``llama_state_seq_get_data``: no logits; about 28 KB per token for the
embedded 1.5B model), keyed by its tokens and evicted least-recently-used beyond ``capacity_bytes``.
Only answers a conversation goes on from are saved (``keep_state``, from ``GenerationParams.continued``),
and a state is dropped once a saved one continues it, so a campaign keeps about one per channel.
Restored cells are the ones computed when those tokens were first evaluated; as with llama.cpp's own
prefix reuse, a fresh evaluation could differ from them in floating-point rounding (batches are split
differently), so sampling can take another path, never an invalid one.

:class:`PromptStateFiles` does the same across processes for system messages (a brand's context: brand
section and retrieved passages, ~2.4k tokens, ~30 s of prompt evaluation on 2 cores): the state after the
first continued call of a system message is written as a llama.cpp sequence-state file, keyed by a hash
of the model file and the system message; a later process whose prompt starts cold with that system
message loads it instead of evaluating it. Files are written atomically, the oldest are deleted beyond
``capacity_bytes``, and llama.cpp checks a file's format and sizes when loading (a bad file is deleted
and the prompt evaluated as usual).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import tempfile
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def common_prefix(a: np.ndarray, b: np.ndarray) -> int:
    """Length of the longest common prefix of two token arrays."""
    n = min(len(a), len(b))
    differ = np.flatnonzero(a[:n] != b[:n])
    return int(differ[0]) if len(differ) else n


class KVStateCache:
    """Saved sequence-0 states of one ``Llama`` context, LRU within ``capacity_bytes``."""

    def __init__(self, capacity_bytes: int, *, min_gain: int = 16, min_tokens: int = 64) -> None:
        self.capacity_bytes = capacity_bytes
        self.min_gain = min_gain
        self.min_tokens = min_tokens
        self._states: OrderedDict[bytes, tuple[np.ndarray, Any]] = OrderedDict()
        self._bytes = 0
        self.restores = 0
        self.aligned = 0

    def __len__(self) -> int:
        return len(self._states)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def clear(self) -> None:
        self._states.clear()
        self._bytes = 0

    def align(self, llama: Any, tokens: Sequence[int]) -> list[int]:
        """``tokens`` with its start replaced by a saved state's tokens where that state's *text* is a
        prefix of the prompt's text (the longest such state); otherwise ``tokens`` unchanged.

        Why: the next prompt of a conversation tokenizes the model's earlier answer again, and the tokens
        the model sampled are not always the ones the tokenizer picks for the same text (the repeat
        penalty steers it to other splits, e.g. "exp" + "eriences"). The token prefix then breaks inside
        that answer and everything after it would be evaluated again. The model sees the same text
        either way, split as it wrote it."""
        prompt = list(tokens)
        ids_prompt = np.asarray(prompt, dtype=np.intc)
        best: tuple[np.ndarray, bytes] | None = None
        for ids, _ in self._states.values():
            n = common_prefix(ids, ids_prompt)
            if n == len(ids) or n < self.min_tokens or (best is not None and len(ids) <= len(best[0])):
                continue  # already a token prefix, unrelated, or shorter than a match found
            saved_tail = llama.detokenize(ids[n:].tolist(), prev_tokens=ids[:n].tolist(), special=True)
            prompt_tail = llama.detokenize(prompt[n:], prev_tokens=prompt[:n], special=True)
            if prompt_tail.startswith(saved_tail):
                best = (ids, prompt_tail[len(saved_tail) :])
        if best is None:
            return prompt
        ids, rest = best
        aligned = ids.tolist() + (llama.tokenize(rest, add_bos=False, special=True) if rest else [])
        if len(aligned) >= llama.n_ctx():  # other splits can be longer; never overflow the context
            return prompt
        self.aligned += 1
        return aligned

    def restore(self, llama: Any, tokens: Sequence[int]) -> int:
        """Load the saved state sharing the longest prefix with ``tokens`` if it beats the live KV cache;
        returns how many prompt tokens the KV cache then holds (0 when nothing matches)."""
        import llama_cpp

        prompt = np.asarray(tokens, dtype=np.intc)
        live = common_prefix(np.asarray(llama.input_ids[: llama.n_tokens]), prompt)
        best_key, best_len = None, live + self.min_gain
        for key, (ids, _) in self._states.items():
            n = common_prefix(ids, prompt)
            if n > best_len:
                best_key, best_len = key, n
        if best_key is None:
            return live
        ids, data = self._states[best_key]
        self._states.move_to_end(best_key)
        llama._ctx.kv_cache_clear()
        if llama_cpp.llama_state_seq_set_data(llama._ctx.ctx, data, len(data), 0) != len(data):
            # The state no longer fits this context: forget it and start clean.
            llama._ctx.kv_cache_clear()
            llama.n_tokens = 0
            self._drop(best_key)
            return 0
        llama.input_ids[: len(ids)] = ids
        llama.n_tokens = len(ids)
        llama._requires_eval = True  # the logits of the restored last token are not there
        self.restores += 1
        return best_len

    def save(self, llama: Any) -> None:
        """Save the KV cells of the tokens ``llama`` has evaluated (skipped for short prompts)."""
        import llama_cpp

        n = int(llama.n_tokens)
        if n < self.min_tokens or self.capacity_bytes <= 0:
            return
        ids = np.array(llama.input_ids[:n], dtype=np.intc)
        key = ids.tobytes()
        size = llama_cpp.llama_state_seq_get_size(llama._ctx.ctx, 0)
        if size > self.capacity_bytes:
            return
        data = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(llama._ctx.ctx, data, size, 0)
        if written == 0:
            return
        if written < size:
            data = (ctypes.c_uint8 * written).from_buffer_copy(data)
        # A saved state whose tokens this one continues is superseded: restoring this one and cutting it
        # back serves every prompt the old one could.
        for old_key, (old_ids, _) in list(self._states.items()):
            if len(old_ids) <= n and common_prefix(old_ids, ids) == len(old_ids):
                self._drop(old_key)
        self._states[key] = (ids, data)
        self._bytes += len(data)
        while self._bytes > self.capacity_bytes and self._states:
            self._drop(next(iter(self._states)))

    def _drop(self, key: bytes) -> None:
        entry = self._states.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry[1])


class PromptStateFiles:
    """KV states of system messages on disk, one llama.cpp sequence-state file each (see module doc)."""

    SUFFIX = ".kvstate"

    def __init__(self, folder: Path, capacity_bytes: int, model_id: str, *, cold_tokens: int = 64) -> None:
        self.folder = folder
        self.capacity_bytes = capacity_bytes
        self.model_id = model_id
        self.cold_tokens = cold_tokens  # a prompt that has fewer tokens in the KV cache starts cold
        self.loads = self.saves = 0

    def key(self, system_message: str) -> str:
        return hashlib.sha256(f"{self.model_id}\0{system_message}".encode()).hexdigest()[:32]

    def path(self, key: str) -> Path:
        return self.folder / f"{key}{self.SUFFIX}"

    def load(self, llama: Any, key: str) -> int:
        """Load ``key``'s state into sequence 0; returns its token count (0: no usable file)."""
        import llama_cpp

        path = self.path(key)
        try:
            if not path.is_file():
                return 0
        except OSError:
            return 0
        capacity = llama.n_ctx()
        tokens = (llama_cpp.llama_token * capacity)()
        count = ctypes.c_size_t(0)
        llama._ctx.kv_cache_clear()
        loaded = llama_cpp.llama_state_seq_load_file(
            llama._ctx.ctx, str(path).encode(), 0, tokens, capacity, ctypes.byref(count)
        )
        if loaded == 0 or count.value == 0:
            llama._ctx.kv_cache_clear()
            llama.n_tokens = 0
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)  # unreadable by this build: write it again next time
            return 0
        n = int(count.value)
        llama.input_ids[:n] = np.ctypeslib.as_array(tokens)[:n]
        llama.n_tokens = n
        llama._requires_eval = True
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: evicted last
        self.loads += 1
        return n

    def save(self, llama: Any, key: str) -> None:
        """Write the state of what ``llama`` has evaluated as ``key``'s file (atomically), then evict.
        A folder that cannot be written (read-only, full) only costs the speed-up: nothing is raised."""
        import llama_cpp

        path = self.path(key)
        n = int(llama.n_tokens)
        tokens = (llama_cpp.llama_token * n)(*llama.input_ids[:n].tolist())
        tmp = None
        try:
            if path.exists() or self.capacity_bytes <= 0:
                return
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{path.name}.", suffix=".tmp")
            os.close(fd)
            if llama_cpp.llama_state_seq_save_file(llama._ctx.ctx, tmp.encode(), 0, tokens, n) == 0:
                return
            os.replace(tmp, path)
            self.saves += 1
            self.evict()
        except OSError:
            return
        finally:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)

    def evict(self) -> None:
        """Delete the least recently used files until the folder fits ``capacity_bytes``."""
        sized = []
        for p in self.folder.glob(f"*{self.SUFFIX}"):
            try:
                stat = p.stat()
            except OSError:  # deleted meanwhile (another process evicting)
                continue
            sized.append((stat.st_mtime, stat.st_size, p))
        total = sum(size for _, size, _ in sized)
        for _, size, old in sorted(sized, key=lambda entry: entry[0]):
            if total <= self.capacity_bytes:
                break
            total -= size
            old.unlink(missing_ok=True)


def with_saved_states(base: type) -> type:
    """``base`` (a ``llama_cpp.Llama`` class) whose ``generate`` restores and saves KV states. Set per
    instance: ``kv_states`` (a :class:`KVStateCache`; None: off), ``state_files`` (a
    :class:`PromptStateFiles`; None: off); per call: ``keep_state`` (the conversation goes on from this
    answer) and ``system_key`` (the state-file key of the prompt's system message; None: none)."""

    class SavedStatesLlama(base):  # type: ignore[misc, valid-type]
        kv_states: KVStateCache | None = None
        state_files: PromptStateFiles | None = None
        keep_state = True
        system_key: str | None = None

        def generate(self, tokens: Sequence[int], *args: Any, **kwargs: Any) -> Iterator[int]:  # type: ignore[override]
            cache, files, key = self.kv_states, self.state_files, self.system_key
            tokens = cache.align(self, tokens) if cache is not None else list(tokens)
            held = cache.restore(self, tokens) if cache is not None else 0
            cold = files is not None and key is not None and held < files.cold_tokens
            if cold and files.load(self, key):  # type: ignore[union-attr, arg-type]
                cold = False
            try:
                yield from super().generate(tokens, *args, **kwargs)
            finally:  # also when the caller stops reading (end of answer, max_tokens)
                if self.keep_state:
                    if cache is not None:
                        cache.save(self)
                    if cold:
                        files.save(self, key)  # type: ignore[union-attr, arg-type]

    return SavedStatesLlama
