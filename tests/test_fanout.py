"""Channel fan-out: forks of the state, bounded concurrency, joins in channel order, errors after joins."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from agents.base import RunContext, ask
from agents.channels import ChannelSpec, load_channels
from agents.citations import aliases
from agents.fanout import for_each_channel, max_concurrency
from agents.roles import DRAFT, DraftInputs, draft_answer_model
from agents.state import (
    CampaignState,
    ComplianceResult,
    CreativeBrief,
    Draft,
    KeyMessage,
    Piece,
    Review,
    ReviewScores,
    TraceEntry,
    Turn,
)
from agents.threads import mark_turn
from backends import BackendError, LLMBackend, WrappedBackend
from backends.base import ChatMessage, Completion, GenerationParams
from backends.fake import FakeBackend, FakeConfig
from knowledge.brand import load_brand
from knowledge.embedders import get_embedder
from knowledge.index import build_index
from prompts import default_registry

pytestmark = pytest.mark.unit

CHANNELS = ["search_ad", "social_post", "email", "blog", "cs_reply"]


class Limited(WrappedBackend):
    """A backend that serves ``limit`` calls at once and records how many were in flight."""

    def __init__(self, inner: LLMBackend, limit: int) -> None:
        super().__init__(inner)
        self.limit = limit
        self.in_flight = self.peak = 0
        self._lock = threading.Lock()

    @property
    def max_concurrency(self) -> int:
        return self.limit

    def _complete(
        self, messages: list[ChatMessage], json_schema: dict[str, Any] | None, params: GenerationParams
    ) -> Completion:
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            return self.inner.complete(messages, json_schema=json_schema, params=params)
        finally:
            with self._lock:
                self.in_flight -= 1


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, dict[str, ChannelSpec]]:
    from tests.conftest import MINI_BRAND, MINI_DOCS, write_brand

    root = write_brand(tmp_path_factory.mktemp("fanout") / "mini", MINI_BRAND, MINI_DOCS)
    brand = load_brand(root)
    index, _ = build_index(brand, get_embedder("use-multilingual"), index_dir=root / ".idx")
    return brand, index, load_channels()


def _ctx(setting: Any, limit: int, delay_s: float = 0.0) -> tuple[RunContext, Limited]:
    _, index, _ = setting
    backend = Limited(FakeBackend(FakeConfig(delay_s=delay_s)), limit)
    ctx = RunContext(
        backend=backend,
        backend_config=backend.config,
        index=index,
        context_prompt=default_registry().get("context.system@2"),
    )
    return ctx, backend


def _state(setting: Any, names: list[str] = CHANNELS) -> CampaignState:
    brand, _, channels = setting
    brief = CreativeBrief(
        audience_insight="Home brewers want fresh beans.",
        key_messages=[KeyMessage(text="Roasted within 48 hours.", citations=[])],
        tone="warm",
    )
    state = CampaignState(brand=brand, channels=[channels[n] for n in names], brief=brief)
    state.threads[""] = [Turn(prompt="strategist.brief@3", user="brief please", answer="{}", shows="brief")]
    return state


def _entry(channel: str, n: int) -> TraceEntry:
    return TraceEntry(
        step=f"t:{channel}",
        agent="t",
        channel=channel,
        prompt="p@1",
        prompt_hash="h",
        backend="fake",
        model="m",
        prompt_tokens=n,
        completion_tokens=0,
        seconds=0.0,
    )


def _record(state: CampaignState, channel: ChannelSpec, delay: float = 0.0) -> None:
    """Fake channel work: writes every kind of field a channel's work writes, sleeping in between."""
    for n in range(3):
        time.sleep(delay)
        state.trace.append(_entry(channel.name, n))
    scores = ReviewScores(voice_fit=4, brief_coverage=4, grounding=4, channel_fit=4)
    state.reviews.append(Review(channel=channel.name, round=1, scores=scores, approved=True))
    state.drafts[channel.name] = Draft(channel=channel.name, fields={"body": channel.name})
    state.threads.setdefault(channel.name, []).append(Turn(prompt="p@1", user=channel.name, answer="{}"))
    state.pieces.append(
        Piece(
            channel=channel.name,
            fields={"body": channel.name},
            citations=[],
            compliance=ComplianceResult(verdict="pass"),
        )
    )


def test_max_concurrency_is_the_backends_and_at_least_one() -> None:
    assert max_concurrency(Limited(FakeBackend(FakeConfig()), 6)) == 6
    assert max_concurrency(Limited(FakeBackend(FakeConfig()), 0)) == 1


def test_fork_shares_inputs_and_holds_only_its_channel(setting: Any) -> None:
    state = _state(setting)
    state.drafts = {n: Draft(channel=n, fields={"body": n}) for n in ("email", "blog")}
    state.errors = {"blog": "no draft"}
    fork = state.fork("email")
    for name in ("brand", "channels", "passages", "brief", "quarantined"):
        assert getattr(fork, name) is getattr(state, name)
    assert fork.drafts == {"email": state.drafts["email"]} and fork.errors == {}
    assert fork.trace == [] and fork.reviews == [] and fork.pieces == []
    assert [t.user for t in fork.threads[""]] == ["brief please"]
    fork.threads.setdefault("email", []).append(Turn(prompt="p@1", user="hi", answer="{}"))
    fork.errors["email"] = "failed"
    fork.drafts.pop("email")
    assert "email" not in state.threads and "email" in state.drafts  # nothing leaks before the join
    state.join(fork, "email")
    assert [t.user for t in state.threads["email"]] == ["hi"]
    assert state.errors == {"blog": "no draft", "email": "failed"}
    assert set(state.drafts) == {"blog"}  # the work removed its draft


def test_writing_the_campaign_thread_from_channel_work_fails_loudly(setting: Any) -> None:
    ctx, _ = _ctx(setting, 1)
    state = _state(setting, ["email"])

    def bad(fork: CampaignState, channel: ChannelSpec) -> None:
        fork.threads[""].append(Turn(prompt="p@1", user="x", answer="{}"))

    with pytest.raises(RuntimeError, match="campaign-wide conversation thread"):
        for_each_channel(ctx, state, bad)
    assert len(state.threads[""]) == 1


def test_one_at_a_time_runs_in_the_calling_thread_in_channel_order(setting: Any) -> None:
    ctx, _ = _ctx(setting, 1)
    state = _state(setting)
    events: list[tuple[str, str, int]] = []

    def work(fork: CampaignState, channel: ChannelSpec) -> None:
        events.append(("start", channel.name, threading.get_ident()))
        _record(fork, channel, 0.001)
        events.append(("end", channel.name, threading.get_ident()))

    for_each_channel(ctx, state, work)
    me = threading.get_ident()
    assert events == [(kind, name, me) for name in CHANNELS for kind in ("start", "end")]
    assert [t.channel for t in state.trace] == [n for n in CHANNELS for _ in range(3)]


def test_concurrent_forks_join_in_channel_order_whatever_the_timing(setting: Any) -> None:
    sequential = _state(setting)
    for_each_channel(_ctx(setting, 1)[0], sequential, _record)

    concurrent = _state(setting)
    finished: list[str] = []

    def slow_first(fork: CampaignState, channel: ChannelSpec) -> None:
        # The first channels take longest, so they finish last.
        _record(fork, channel, 0.02 * (len(CHANNELS) - CHANNELS.index(channel.name)))
        finished.append(channel.name)

    for_each_channel(_ctx(setting, len(CHANNELS))[0], concurrent, slow_first)
    assert finished != CHANNELS  # the timing really differed from channel order
    assert concurrent.model_dump() == sequential.model_dump()
    assert [p.channel for p in concurrent.pieces] == CHANNELS


def test_at_most_max_concurrency_channels_run_at_once(setting: Any) -> None:
    ctx, _ = _ctx(setting, 2)
    state = _state(setting)
    lock = threading.Lock()
    running = peak = 0

    def work(fork: CampaignState, channel: ChannelSpec) -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.03)
        with lock:
            running -= 1
        _record(fork, channel)

    for_each_channel(ctx, state, work)
    assert peak == 2
    assert [p.channel for p in state.pieces] == CHANNELS


def test_only_the_given_channels_run(setting: Any) -> None:
    ctx, _ = _ctx(setting, 3)
    state = _state(setting)
    _, _, channels = setting
    for_each_channel(ctx, state, _record, [channels["blog"], channels["search_ad"]])
    assert [p.channel for p in state.pieces] == ["blog", "search_ad"]
    with pytest.raises(ValueError, match="more than once"):
        for_each_channel(ctx, state, _record, [channels["blog"], channels["blog"]])


def _failing_on(name: str, delay: float = 0.0):
    def work(fork: CampaignState, channel: ChannelSpec) -> None:
        fork.trace.append(_entry(channel.name, 0))
        if channel.name == name:
            raise BackendError(f"server gone while drafting {name}")
        time.sleep(delay)
        _record(fork, channel)

    return work


def test_an_error_one_at_a_time_keeps_the_work_done_and_starts_nothing_more(setting: Any) -> None:
    ctx, _ = _ctx(setting, 1)
    state = _state(setting)
    with pytest.raises(BackendError, match="drafting email"):
        for_each_channel(ctx, state, _failing_on("email"))
    assert [p.channel for p in state.pieces] == ["search_ad", "social_post"]
    # the failed channel's call is in the trace; the channels after it never started
    assert {t.channel for t in state.trace} == {"search_ad", "social_post", "email"}
    assert state.trace[-1].channel == "email"


def test_an_error_with_concurrency_lets_running_channels_finish_then_raises(setting: Any) -> None:
    ctx, _ = _ctx(setting, len(CHANNELS))
    state = _state(setting)
    with pytest.raises(BackendError, match="drafting social_post"):
        for_each_channel(ctx, state, _failing_on("social_post", delay=0.05))
    # all channels started together; the others finished and were joined, in channel order
    assert [p.channel for p in state.pieces] == [n for n in CHANNELS if n != "social_post"]
    # each fork's trace (one entry before the failure point, three after) joined in channel order
    expected = [n for n in CHANNELS for _ in range(1 if n == "social_post" else 4)]
    assert [t.channel for t in state.trace] == expected


def test_several_failures_raise_the_first_in_channel_order_with_the_others_as_notes(setting: Any) -> None:
    ctx, _ = _ctx(setting, len(CHANNELS))
    state = _state(setting)

    def work(fork: CampaignState, channel: ChannelSpec) -> None:
        if channel.name in ("email", "blog"):
            time.sleep(0.05 if channel.name == "email" else 0.0)  # blog fails first in time
            raise BackendError(f"{channel.name} failed")
        _record(fork, channel)

    with pytest.raises(BackendError, match="email failed") as caught:
        for_each_channel(ctx, state, work)
    assert any("'blog' failed too" in note for note in caught.value.__notes__)


def test_structured_calls_fan_out_to_the_backend_with_the_same_result(setting: Any) -> None:
    """Real :func:`ask` calls (threaded draft prompt, fake backend): concurrent calls reach the backend
    together, and the joined state equals the one-at-a-time state."""
    prompt = default_registry().get("copywriter.draft@4")
    names = ["search_ad", "social_post", "email", "cs_reply"]

    def draft(ctx: RunContext):
        def work(fork: CampaignState, channel: ChannelSpec) -> None:
            assert fork.brief is not None
            answer = ask(
                ctx,
                fork,
                agent="copywriter",
                prompt=prompt,
                role=DRAFT,
                inputs=DraftInputs(
                    brand=fork.brand,
                    language_name="English",
                    channel=channel,
                    brief=fork.brief,
                    brief_shown=True,
                    angle="freshness",
                    channel_inputs=fork.brand.channel_inputs.get(channel.name, {}),
                    focus=[],
                ),
                answer_model=draft_answer_model(channel, aliases(fork.passages)),
                channel=channel.name,
            )
            mark_turn(fork, prompt, channel.name, shows="draft")
            fork.drafts[channel.name] = Draft(channel=channel.name, fields=answer.fields)

        return work

    results = []
    for limit in (1, 4):
        ctx, backend = _ctx(setting, limit, delay_s=0.05)
        state = _state(setting, names)
        for_each_channel(ctx, state, draft(ctx))
        results.append((state, backend.peak))
    (one, peak_one), (four, peak_four) = results
    assert peak_one == 1 and peak_four == 4
    assert four.model_dump(exclude={"trace"}) == one.model_dump(exclude={"trace"})

    def timeless(state: CampaignState) -> list[dict[str, Any]]:
        return [t.model_dump(exclude={"seconds"}) for t in state.trace]

    assert timeless(four) == timeless(one)
    assert [t.channel for t in four.trace] == names
    # each channel's conversation continues the campaign's and holds its own turn only
    assert all(len(four.threads[n]) == 1 and four.threads[n][0].shows == "draft" for n in names)
