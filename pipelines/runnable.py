"""A campaign as a LangChain ``Runnable``: :class:`CampaignRunnable`.

Contract:
- ``invoke(input)`` runs :func:`~pipelines.runner.run_campaign` once and returns the
  :class:`~agents.state.Campaign`. ``input`` is a brand (folder path, ``brand.yaml`` path or loaded
  :class:`~knowledge.brand.Brand`) or a mapping validated by :class:`CampaignRequest` (``brand`` plus
  optional ``channels``, ``pipeline``, ``backend``, ``index_dir``) whose values override the
  runnable's own defaults for that call. Unknown keys or wrong types are an InputError naming the field.
- ``batch(inputs, config)`` runs several campaigns on LangChain's thread pool, at most
  ``config["max_concurrency"]`` at once, outputs in input order. The backends are process-wide and
  thread-safe (in-process llama.cpp serialises its calls behind a lock), so concurrent campaigns share
  one loaded model.
- ``stream(input)`` yields :class:`CampaignProgress` events while the campaign runs, then the
  ``Campaign`` as the last item. The campaign runs in a worker thread; its progress callback feeds a
  queue that the caller's iterator drains as events arrive. Closing the iterator early cancels the
  run cooperatively: the next progress event raises :class:`CampaignCancelled` in the worker.
  ``astream`` does the same for asyncio callers.
- ``config`` honoured: ``callbacks`` (each call is one ``chain`` run; every progress line is also
  dispatched to them as the custom event :data:`PROGRESS_EVENT` with ``{"message", "seconds"}``, which
  ``astream_events`` shows as ``on_custom_event``), ``tags``, ``metadata``, ``run_name``, ``run_id``,
  and ``max_concurrency`` (``batch``/``abatch`` only). Nothing else in a ``RunnableConfig`` changes a
  campaign; model calls are not LangChain runs, so callbacks see progress lines, not tokens.
- ``embeddings`` (any LangChain ``Embeddings``) replaces the pipeline's embedder for the brand index;
  the index records its identity (see :mod:`knowledge.embedders`), so switching embedders rebuilds the
  index instead of mixing vectors.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import queue
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForChainRun,
    CallbackManagerForChainRun,
)
from langchain_core.callbacks.manager import adispatch_custom_event, dispatch_custom_event
from langchain_core.embeddings import Embeddings
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.state import Campaign
from backends import BaseBackendConfig, LLMBackend, backend_overrides
from core.errors import InputError, format_validation_error
from knowledge.brand import Brand
from knowledge.embedders import as_embedder, register_embedder, unregister_embedder
from pipelines.runner import run_campaign
from pipelines.spec import Pipeline, load_pipeline

PROGRESS_EVENT = "brandforge_progress"


class CampaignRequest(BaseModel):
    """One campaign asked of :class:`CampaignRunnable`; fields left unset take the runnable's defaults."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    brand: str | Path | Brand = Field(description="Brand folder, brand.yaml path or loaded Brand.")
    channels: list[str] | None = Field(None, description="Channels to write (default: the brand's).")
    pipeline: str | Path | None = Field(None, description="Pipeline name or YAML path.")
    backend: str | dict[str, Any] | BaseBackendConfig | None = Field(
        None, description="Backend kind, overrides mapping or config model, as run_campaign takes it."
    )
    index_dir: Path | None = Field(None, description="Where the brand's index lives.")


@dataclass(frozen=True)
class CampaignProgress:
    """A progress line from a running campaign; ``seconds`` since this call started."""

    message: str
    seconds: float


class CampaignCancelled(Exception):
    """Raised inside a streamed campaign's worker once its consumer has stopped listening."""


@dataclass(frozen=True)
class _Done:
    campaign: Campaign


@dataclass(frozen=True)
class _Failed:
    error: BaseException


class CampaignRunnable(Runnable[Any, Campaign]):
    """Run BrandForge campaigns through LangChain's ``Runnable`` interface (see the module docstring).

    The constructor's arguments are the defaults for every call: ``pipeline``, ``backend``,
    ``channels`` and ``index_dir`` as :func:`~pipelines.runner.run_campaign` takes them, ``llm`` a
    backend instance to use instead of the pipeline's, and ``embeddings`` a LangChain ``Embeddings``
    for the brand index (optionally named by ``embedder_id``).
    """

    def __init__(
        self,
        *,
        pipeline: str | Path = "default",
        backend: str | Mapping[str, Any] | BaseBackendConfig | None = None,
        channels: Sequence[str] | None = None,
        index_dir: Path | None = None,
        llm: LLMBackend | None = None,
        embeddings: Embeddings | None = None,
        embedder_id: str | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.backend = backend
        self.channels = list(channels) if channels is not None else None
        self.index_dir = index_dir
        self.llm = llm
        self._embedder_name: str | None = None
        if embeddings is not None:
            embedder = as_embedder(embeddings, embedder_id=embedder_id)
            # A name private to this runnable: two runnables whose models share an id never swap them.
            self._embedder_name = f"{embedder.embedder_id}#runnable-{id(self):x}"
            register_embedder(self._embedder_name, embedder)
            weakref.finalize(self, unregister_embedder, self._embedder_name)

    # -- Runnable --------------------------------------------------------------------------------
    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Campaign:
        return self._call_with_config(self._invoke, input, config, run_type="chain", **kwargs)

    def stream(  # type: ignore[override]
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[CampaignProgress | Campaign]:
        """Progress events as they happen, then the Campaign (see the module docstring)."""
        # Typed for chunks of the output type; these chunks are progress events, then the output.
        transform: Any = self._stream
        yield from self._transform_stream_with_config(
            iter([input]), transform, config, run_type="chain", **kwargs
        )

    async def astream(  # type: ignore[override]
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[CampaignProgress | Campaign]:
        """:meth:`stream` for asyncio: the campaign runs in a worker thread, the loop stays free."""

        async def one() -> AsyncIterator[Any]:
            yield input

        transform: Any = self._astream
        async for item in self._atransform_stream_with_config(
            one(), transform, config, run_type="chain", **kwargs
        ):
            yield item

    # -- implementation --------------------------------------------------------------------------
    def _invoke(
        self, input: Any, run_manager: CallbackManagerForChainRun, config: RunnableConfig
    ) -> Campaign:
        started = time.perf_counter()

        def progress(message: str) -> None:
            _dispatch(CampaignProgress(message, round(time.perf_counter() - started, 3)), config)

        return self._run(self._request(input), progress)

    def _stream(
        self, inputs: Iterator[Any], run_manager: CallbackManagerForChainRun, config: RunnableConfig
    ) -> Iterator[CampaignProgress | Campaign]:
        request = self._request(_last(inputs))
        events: queue.SimpleQueue[CampaignProgress | _Done | _Failed] = queue.SimpleQueue()
        cancel = self._start_worker(request, events.put)
        try:
            while True:
                item = events.get()
                if isinstance(item, _Done):
                    yield item.campaign
                    return
                if isinstance(item, _Failed):
                    raise item.error
                _dispatch(item, config)
                yield item
        finally:
            cancel.set()  # a no-op once the worker is done; otherwise it stops at its next progress line

    async def _astream(
        self, inputs: AsyncIterator[Any], run_manager: AsyncCallbackManagerForChainRun, config: RunnableConfig
    ) -> AsyncIterator[CampaignProgress | Campaign]:
        request = None
        async for item in inputs:
            request = self._request(item)
        if request is None:
            raise InputError("no campaign input was given")
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[CampaignProgress | _Done | _Failed] = asyncio.Queue()

        def put(item: CampaignProgress | _Done | _Failed) -> None:  # called in the worker thread
            loop.call_soon_threadsafe(events.put_nowait, item)

        cancel = self._start_worker(request, put)
        try:
            while True:
                event = await events.get()
                if isinstance(event, _Done):
                    yield event.campaign
                    return
                if isinstance(event, _Failed):
                    raise event.error
                await adispatch_custom_event(
                    PROGRESS_EVENT, {"message": event.message, "seconds": event.seconds}, config=config
                )
                yield event
        finally:
            cancel.set()

    def _start_worker(
        self, request: CampaignRequest, put: Callable[[CampaignProgress | _Done | _Failed], None]
    ) -> threading.Event:
        """Run the campaign in a daemon thread that reports through ``put``; returns its cancel flag."""
        cancel = threading.Event()
        started = time.perf_counter()

        def progress(message: str) -> None:
            if cancel.is_set():
                raise CampaignCancelled("the stream's consumer stopped listening")
            put(CampaignProgress(message, round(time.perf_counter() - started, 3)))

        def work() -> None:
            try:
                put(_Done(self._run(request, progress)))
            except BaseException as exc:  # handed to the consumer, which raises it in its own thread
                put(_Failed(exc))

        # The caller's context (LangChain's run context, tracing) goes with the campaign into the thread.
        context = contextvars.copy_context()
        threading.Thread(target=context.run, args=(work,), name="brandforge-campaign", daemon=True).start()
        return cancel

    def _request(self, input: Any) -> CampaignRequest:
        if isinstance(input, CampaignRequest):
            return input
        if isinstance(input, str | Path | Brand):
            return CampaignRequest(brand=input)
        if not isinstance(input, Mapping):
            raise InputError(
                f"campaign input is a {type(input).__name__}; expected a brand folder path, a Brand, or a "
                "mapping with 'brand' and optionally 'channels', 'pipeline', 'backend', 'index_dir'"
            )
        try:
            return CampaignRequest.model_validate(dict(input))
        except ValidationError as exc:
            raise format_validation_error(exc, "campaign input") from None

    def _run(self, request: CampaignRequest, progress: Callable[[str], None]) -> Campaign:
        name = request.pipeline or self.pipeline
        pipeline: str | Path | Pipeline = name
        backend = request.backend if request.backend is not None else self.backend
        if self._embedder_name is not None:
            # The embedder is a pipeline setting: load the pipeline (with the backend overrides, as
            # run_campaign would) and point its retrieval at this runnable's registered embedder.
            loaded = load_pipeline(name, backend_overrides=backend_overrides(backend))
            retrieval = loaded.spec.retrieval.model_copy(update={"embedder": self._embedder_name})
            pipeline = dataclasses.replace(
                loaded, spec=loaded.spec.model_copy(update={"retrieval": retrieval})
            )
            backend = None
        return run_campaign(
            request.brand,
            pipeline=pipeline,
            channels=request.channels if request.channels is not None else self.channels,
            backend=backend,  # type: ignore[arg-type]  # run_campaign takes a kind, a mapping or its config
            index_dir=request.index_dir or self.index_dir,
            progress=progress,
            llm=self.llm,
        )


def _last(inputs: Iterator[Any]) -> Any:
    last: Any = None
    seen = False
    for item in inputs:
        last, seen = item, True
    if not seen:
        raise InputError("no campaign input was given")
    return last


def _dispatch(event: CampaignProgress, config: RunnableConfig) -> None:
    """Tell the run's callbacks about a progress line (a no-op when none are configured)."""
    if config.get("callbacks") is None:
        return
    dispatch_custom_event(PROGRESS_EVENT, {"message": event.message, "seconds": event.seconds}, config=config)
