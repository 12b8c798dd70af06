"""Micro-batching: concurrent single calls from many threads become one batched call.

Contract: :class:`MicroBatchingBackend` wraps a backend whose :meth:`~LLMBackend.complete_many` really
batches (vLLM in-process: one ``LLM.chat`` for the whole batch, scheduled together on the GPU). Threads
call :meth:`complete` as usual; a dispatcher thread collects the calls that arrive within ``wait_s`` (up
to ``max_batch``), sends them as one ``complete_many`` and hands each thread its own answer. An error
fails every call of that batch. The wrapped backend is only ever called from the dispatcher thread.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Any

from backends.base import (
    ChatMessage,
    Completion,
    CompletionRequest,
    GenerationParams,
    LLMBackend,
    WrappedBackend,
)


class MicroBatchingBackend(WrappedBackend):
    def __init__(self, inner: LLMBackend, *, max_batch: int = 32, wait_s: float = 0.02) -> None:
        super().__init__(inner)
        self.max_batch, self.wait_s = max_batch, wait_s
        self.batch_sizes: list[int] = []
        self._queue: list[tuple[CompletionRequest, Future[Completion]]] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def _complete(
        self, messages: list[ChatMessage], json_schema: dict[str, Any] | None, params: GenerationParams
    ) -> Completion:
        future: Future[Completion] = Future()
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._dispatch, name="micro-batcher", daemon=True)
                self._thread.start()
            self._queue.append((CompletionRequest(messages, json_schema, params), future))
            self._cond.notify()
        return future.result()

    def _dispatch(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                deadline = time.monotonic() + self.wait_s
                while len(self._queue) < self.max_batch and (left := deadline - time.monotonic()) > 0:
                    self._cond.wait(left)
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            self.batch_sizes.append(len(batch))
            try:
                completions = self.inner.complete_many([request for request, _ in batch])
            except BaseException as exc:  # delivered to every waiting caller, then the loop goes on
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for (_, future), completion in zip(batch, completions, strict=True):
                future.set_result(completion)
