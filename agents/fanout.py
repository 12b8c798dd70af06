"""Channel fan-out: one piece of work per channel, run concurrently as far as the backend can serve.

Contract of :func:`for_each_channel`:
- ``work(fork, channel)`` runs once per channel on a fork of the state (:meth:`CampaignState.fork`): the
  fork shares the read-only inputs (brand, channels, passages, brief, quarantined, ...) and has its own
  trace, reviews and pieces lists and its own entries of drafts, revisions, errors and threads; the
  campaign-wide thread ``""`` is there to be read, not written. Work reads and writes only its fork.
- At most :func:`max_concurrency` channels run at once: what the backend can serve at once (1 for the
  in-process llama.cpp model, the configured ``concurrency`` for an OpenAI-compatible server). With 1,
  the work runs in the calling thread, channel after channel — exactly the order of a plain loop, so a
  backend that reuses its KV cache from one call to the next sees the same calls in the same order.
- Forks are joined back in channel order, whatever order they finished in: the campaign (pieces,
  reviews, trace order) does not depend on timing.
- If work raises (a :class:`~backends.BackendError` when the backend died), no further channel starts,
  the channels already running finish, every fork that ran is joined — its model calls were made and
  stay in the trace — and then the first error in channel order is raised (the others as its notes).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from agents.base import RunContext
from agents.channels import ChannelSpec
from agents.state import CampaignState
from backends import LLMBackend

ChannelWork = Callable[[CampaignState, ChannelSpec], None]


def max_concurrency(backend: LLMBackend) -> int:
    """How many channels may call ``backend`` at once: its :attr:`~backends.LLMBackend.max_concurrency`,
    at least 1."""
    return max(1, backend.max_concurrency)


def for_each_channel(
    ctx: RunContext,
    state: CampaignState,
    work: ChannelWork,
    channels: Sequence[ChannelSpec] | None = None,
) -> None:
    """Run ``work`` for each of ``channels`` (default: ``state.channels``) on forks of ``state``, at most
    ``max_concurrency(ctx.backend)`` at once, and join the forks back in channel order (see the module
    docstring for the failure rules). Raises ValueError when a channel is listed twice."""
    todo = list(state.channels if channels is None else channels)
    names = [channel.name for channel in todo]
    if len(set(names)) != len(names):
        twice = sorted({name for name in names if names.count(name) > 1})
        raise ValueError(f"channels listed more than once: {twice}")
    forks: list[CampaignState | None] = [None] * len(todo)
    errors: list[BaseException | None] = [None] * len(todo)
    limit = min(max_concurrency(ctx.backend), len(todo))
    if limit <= 1:
        _run_in_order(state, work, todo, forks, errors)
    else:
        _run_concurrently(state, work, todo, forks, errors, limit)
    for channel, fork in zip(todo, forks, strict=True):
        if fork is not None:
            state.join(fork, channel.name)
    failures = [(channel, exc) for channel, exc in zip(todo, errors, strict=True) if exc is not None]
    if failures:
        first = failures[0][1]
        for channel, exc in failures[1:]:
            if exc is not first:  # a micro-batcher hands one exception to every call of its batch
                first.add_note(f"channel {channel.name!r} failed too: {type(exc).__name__}: {exc}")
        raise first


def _run_in_order(
    state: CampaignState,
    work: ChannelWork,
    todo: list[ChannelSpec],
    forks: list[CampaignState | None],
    errors: list[BaseException | None],
) -> None:
    for i, channel in enumerate(todo):
        fork = forks[i] = state.fork(channel.name)
        try:
            work(fork, channel)
        except BaseException as exc:  # joined and re-raised by the caller, after the work already done
            errors[i] = exc
            return


def _run_concurrently(
    state: CampaignState,
    work: ChannelWork,
    todo: list[ChannelSpec],
    forks: list[CampaignState | None],
    errors: list[BaseException | None],
    limit: int,
) -> None:
    running: dict[Future[None], int] = {}
    started = 0
    with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="brandforge-channel") as pool:
        while running or (started < len(todo) and not _failed(errors)):
            # Channels start in order, and only while nothing has failed: after a failure (most often the
            # backend gone) starting more would only add failed calls.
            while started < len(todo) and len(running) < limit and not _failed(errors):
                fork = forks[started] = state.fork(todo[started].name)
                # Each channel runs in a copy of the caller's context, so context variables (logging,
                # LangChain callbacks) reach the backend calls made in pool threads.
                call = contextvars.copy_context().run
                running[pool.submit(call, work, fork, todo[started])] = started
                started += 1
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                errors[running.pop(future)] = future.exception()


def _failed(errors: list[BaseException | None]) -> bool:
    return any(exc is not None for exc in errors)
