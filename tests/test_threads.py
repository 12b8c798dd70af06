"""Conversation threads: each threaded call is its thread's previous call plus one new turn, so a
backend that caches prompt prefixes evaluates only that turn; what the thread does not show as it is
now (an edited draft, turns left out for length) is restated."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from agents import threads
from agents.channels import load_channels
from agents.state import CampaignState, Draft, Turn
from agents.threads import conversation, edited_view
from backends import ChatMessage, Completion, GenerationParams
from backends.fake import FakeBackend, FakeConfig
from knowledge.brand import load_brand
from pipelines import run_campaign

pytestmark = pytest.mark.unit


class RecordingFake(FakeBackend):
    """The fake backend, keeping each call's answer next to its messages."""

    def __init__(self, script: Any = None) -> None:
        super().__init__(FakeConfig(), script=script)
        self.answers: list[str] = []

    def _complete(
        self, messages: list[ChatMessage], json_schema: dict[str, Any] | None, params: GenerationParams
    ) -> Completion:
        completion = super()._complete(messages, json_schema, params)
        self.answers.append(completion.text)
        return completion


def _channel_of(user: str) -> str | None:
    for name in load_channels():
        if f" {name} " in user or f" {name}:" in user:
            return name
    return None


def test_each_threaded_call_extends_its_threads_previous_call(mini_brand: Path) -> None:
    backend = RecordingFake()
    campaign = run_campaign(mini_brand, channels=["search_ad", "social_post"], llm=backend)
    assert len(campaign.pieces) == 2
    calls = [(messages, answer) for (messages, _), answer in zip(backend.calls, backend.answers, strict=True)]
    strategist, *rest = calls
    assert [m["role"] for m in strategist[0]] == ["system", "user"]
    previous: dict[str, list[ChatMessage]] = {}
    revised: set[str] = set()
    threaded = restated = 0
    for messages, answer in rest:
        user = messages[-1]["content"]
        channel = _channel_of(user)
        # Claim checks and revisions are stateless prompts (compliance.claims@1, copywriter.revise@1).
        # So are the compliance judge's rulings (compliance.judge@1: its instructions as the system message).
        if messages[0]["content"].startswith("You are the compliance reviewer"):
            assert [m["role"] for m in messages] == ["system", "user"]
            continue
        if user.startswith(("You are the compliance editor.", "You are the copywriter. Revise")):
            assert [m["role"] for m in messages] == ["system", "user"]
            if user.startswith("You are the copywriter. Revise"):
                revised.add(str(channel))
            continue
        assert channel is not None, user[:80]
        before = previous.get(channel, [*strategist[0], {"role": "assistant", "content": strategist[1]}])
        # Everything the thread's previous call saw, and its answer verbatim, then one new user turn.
        assert messages[:-1] == before
        previous[channel] = [*messages, {"role": "assistant", "content": answer}]
        threaded += 1
        if user.startswith("You are the reviewer."):
            # The first review refers to the draft above; after a stateless revision the thread no
            # longer shows the draft as it is, so the review restates it.
            assert ("The draft as it is now:" in user) == (channel in revised)
            restated += channel in revised
    assert threaded >= 4 and revised and restated


class ScriptedFake(RecordingFake):
    """Fixed answers for the copywriter's draft and the reviewer; the fake's own for the rest."""

    def _complete(
        self, messages: list[ChatMessage], json_schema: dict[str, Any] | None, params: GenerationParams
    ) -> Completion:
        user = messages[-1]["content"]
        if user.startswith("You are the copywriter. Write"):
            self.script = lambda m, s: {"citations": ["P1"], "fields": {"text": REPEATED}}
        elif user.startswith("You are the reviewer."):
            scores = dict.fromkeys(("voice_fit", "brief_coverage", "grounding", "channel_fit"), 5)
            self.script = lambda m, s: {"scores": scores, "revision_requests": []}
        try:
            return super()._complete(messages, json_schema, params)
        finally:
            self.script = None


REPEATED = "Roasted to order. Roasted to order."


def test_a_draft_edited_after_the_model_wrote_it_is_restated(mini_brand: Path) -> None:
    """The copywriter repeats a sentence; the draft loses the repeat before review, so the reviewer is
    shown the draft as it is now instead of being pointed at the answer above."""
    backend = ScriptedFake()
    run_campaign(mini_brand, channels=["social_post"], llm=backend)
    review = next(m for m, _ in backend.calls if m[-1]["content"].startswith("You are the reviewer."))
    assert "The draft as it is now:" in review[-1]["content"]
    assert '"text": Roasted to order.\n' in review[-1]["content"]
    # The answer as written is still in the thread, verbatim (the backend's cache holds those tokens).
    assert REPEATED in review[-2]["content"]


def _state_with_turns(mini_brand: Path, sizes: list[int]) -> CampaignState:
    state = CampaignState(brand=load_brand(mini_brand), channels=[load_channels()["social_post"]])
    state.threads[""] = [Turn(prompt="strategist.brief@2", user="brief?", answer="{}", shows="brief")]
    draft = Draft(channel="social_post", fields={"text": "Hello."}, citations=[])
    state.threads["social_post"] = [
        Turn(prompt="copywriter.draft@2", user="x" * size, answer="{}", shows="draft", draft=draft)
        for size in sizes
    ]
    return state


def test_long_threads_keep_the_brief_and_their_newest_turns(mini_brand: Path) -> None:
    state = _state_with_turns(mini_brand, [1500, 1500, 1500])  # ~500 tokens each
    turns = conversation(state, "social_post", budget=1200)
    assert turns[0].shows == "brief"
    assert [len(t.user) for t in turns[1:]] == [1500, 1500]  # the oldest no longer fits
    assert sum(threads.estimate_tokens(t.user) + threads.estimate_tokens(t.answer) for t in turns) <= 1200
    assert len(conversation(state, "social_post", budget=5000)) == 4
    assert conversation(state, None, budget=0) == state.threads[""]
    assert threads.estimate_tokens("探索未知，发现美丽") >= 9 and threads.estimate_tokens("a" * 300) >= 100


def test_edited_view_is_none_only_while_the_thread_shows_the_draft(mini_brand: Path) -> None:
    channel = load_channels()["social_post"]
    state = _state_with_turns(mini_brand, [10])
    shown = Draft(channel="social_post", fields={"text": "Hello."}, citations=[])
    assert edited_view(state, channel, shown, budget=1000) is None
    changed = shown.model_copy(update={"fields": {"text": "Hello there."}})
    assert edited_view(state, channel, changed, budget=1000) == changed
    state.threads["social_post"] = [state.threads["social_post"][0].model_copy(update={"user": "x" * 5000})]
    assert edited_view(state, channel, shown, budget=1000) == shown  # its turn was left out for length


class LabelledBriefFake(RecordingFake):
    """The fake's own brief, each key message headed by a value label as the 1.5B model wrote them."""

    def _complete(
        self, messages: list[ChatMessage], json_schema: dict[str, Any] | None, params: GenerationParams
    ) -> Completion:
        completion = super()._complete(messages, json_schema, params)
        if messages[-1]["content"].startswith("You are the strategist"):
            answer = json.loads(completion.text)
            labels = ("Transparency", "Honest Roasting", "Freshness")
            for label, message in zip(labels, answer["key_messages"], strict=False):
                message["text"] = f"{label}: We {message['text'][:1].lower()}{message['text'][1:]}"
            completion = dataclasses.replace(completion, text=json.dumps(answer))
        return completion


def test_key_messages_lose_the_value_labels_the_model_heads_them_with(mini_brand: Path) -> None:
    """A Wanderly brief of 2026-12-05 (seed 7) headed its messages "慢行探索：我们采用……"; the copy pasted the
    labels in. The brief keeps the sentences, not the labels."""
    campaign = run_campaign(mini_brand, channels=["social_post"], llm=LabelledBriefFake())
    texts = [m.text for m in campaign.brief.key_messages]
    assert texts and all(t.startswith("We ") for t in texts), texts
    assert not any(t.startswith(("Transparency", "Honest Roasting", "Freshness")) for t in texts)
