"""A response cache for model calls, so an unchanged eval suite costs no model calls.

Contract: :class:`CachedBackend` wraps any :class:`~backends.LLMBackend`. A call's key is the
sha256 of backend kind, model, the rendered messages (so the prompt file's content and every input),
the JSON schema and the generation parameters (seed included: repeats of a case use different seeds).
A hit returns the stored completion without loading the model; a miss calls the wrapped backend and
stores the answer atomically as one JSON file under the cache folder. Changing one prompt file
therefore re-runs exactly the calls whose rendered prompt changed, and the calls downstream of them.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

from backends import BackendError, ChatMessage, Completion, GenerationParams, LLMBackend, WrappedBackend
from core.files import atomic_write

CACHE_VERSION = 1


class CacheMiss(BackendError):
    """A replay-only cache had no answer for a call."""


class CachedBackend(WrappedBackend):
    def __init__(
        self, inner: LLMBackend, folder: Path | None, *, read: bool = True, replay_only: bool = False
    ) -> None:
        """``folder=None``: no cache at all, only the counting (every call is a miss). ``replay_only``: a
        miss is a :class:`CacheMiss` instead of a model call, and nothing is written (tests that replay a
        committed cache must fail on a miss, not quietly fill the cache in)."""
        super().__init__(inner)
        self.folder = folder
        self.read = read
        self.replay_only = replay_only
        self.hits = 0
        self.misses = 0
        self.used: set[str] = set()
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Nothing to load until a call misses the cache."""
        self._warm = True

    def key(
        self, messages: list[ChatMessage], json_schema: dict[str, Any] | None, params: GenerationParams
    ) -> str:
        material = {
            "v": CACHE_VERSION,
            "backend": self.inner.kind,
            "model": self.inner.model_name,
            "messages": messages,
            "schema": json_schema,
            "params": params.sampling(),
        }
        blob = json.dumps(material, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()

    def prune(self) -> int:
        """Delete the entries this run did not use (after a full run: answers no case needs any more)."""
        if self.folder is None or not self.folder.is_dir():
            return 0
        removed = 0
        for path in self.folder.glob("*/*.json"):
            if path.stem not in self.used:
                path.unlink()
                removed += 1
        return removed

    def path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / f"{key}.json"

    def _complete(
        self, messages: list[ChatMessage], json_schema: dict[str, Any] | None, params: GenerationParams
    ) -> Completion:
        if self.folder is None:
            with self._lock:
                self.misses += 1
            return self.inner.complete(messages, json_schema=json_schema, params=params)
        key = self.key(messages, json_schema, params)
        path = self.path(key)
        with self._lock:
            self.used.add(key)
        if self.read and path.is_file():
            try:
                stored = json.loads(path.read_text(encoding="utf-8"))["completion"]
                with self._lock:
                    self.hits += 1
                return Completion(
                    **{**stored, "seconds": 1e-6, "prompt_seconds": None, "generation_seconds": None}
                )
            except (ValueError, KeyError, TypeError):
                pass  # a damaged entry is a miss; it is rewritten below
        if self.replay_only:
            with self._lock:
                self.misses += 1
            raise CacheMiss(
                f"the response cache {self.folder} has no answer for this call (key {key[:12]}): a prompt, "
                "input or schema changed; rerun `brandforge eval` without replay to record it"
            )
        completion = self.inner.complete(messages, json_schema=json_schema, params=params)
        with self._lock:
            self.misses += 1
        record = {
            "key": key,
            "backend": self.inner.kind,
            "model": completion.model,
            "completion": completion.__dict__,
        }
        atomic_write(path, json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8"))
        return completion
