"""Micro-batching: concurrent calls become batched ``complete_many`` calls; each caller gets its answer."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from backends import BackendError, CompletionRequest
from backends.batching import MicroBatchingBackend
from backends.fake import FakeBackend, FakeConfig

pytestmark = pytest.mark.unit


class _Recording(FakeBackend):
    def __init__(self, fail: bool = False) -> None:
        super().__init__(FakeConfig())
        self.batches: list[int] = []
        self.threads: set[str] = set()
        self.fail = fail

    def complete_many(self, requests: Sequence[CompletionRequest]):  # type: ignore[override]
        self.batches.append(len(requests))
        self.threads.add(threading.current_thread().name)
        if self.fail:
            raise BackendError("engine died")
        return super().complete_many(requests)


def _ask_concurrently(backend, n: int) -> list:
    results: list = [None] * n
    barrier = threading.Barrier(n)

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = backend.complete([{"role": "user", "content": f"question {i}"}]).text
        except BackendError as exc:
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_concurrent_calls_are_batched_and_answers_routed() -> None:
    inner = _Recording()
    batched = MicroBatchingBackend(inner, max_batch=8, wait_s=0.2)
    answers = _ask_concurrently(batched, 12)
    expected = [
        FakeBackend(FakeConfig()).complete([{"role": "user", "content": f"question {i}"}]).text
        for i in range(12)
    ]
    assert answers == expected  # every thread got the answer to its own question
    assert sum(inner.batches) == 12 and max(inner.batches) == 8 and len(inner.batches) <= 3
    assert inner.threads == {"micro-batcher"}  # the engine is only ever called from one thread


def test_an_error_fails_every_call_of_its_batch_and_the_batcher_survives() -> None:
    inner = _Recording(fail=True)
    batched = MicroBatchingBackend(inner, max_batch=4, wait_s=0.2)
    assert all(isinstance(r, BackendError) for r in _ask_concurrently(batched, 4))
    inner.fail = False
    assert batched.complete([{"role": "user", "content": "again"}]).text
