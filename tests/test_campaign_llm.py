"""Full campaigns with the real embedded model (llama.cpp, Qwen2.5-Coder-1.5B), the real USE embedder and
the real FAISS index: the product's promises, checked on what the model actually wrote."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from agents.channels import load_channels
from agents.compliance import checker_for
from agents.judge import JUDGE_PROMPT
from agents.quality import QualityContext, quality_findings
from agents.state import Campaign
from knowledge.brand import Brand, load_brand
from knowledge.embedders import get_embedder
from knowledge.index import FaissKnowledgeIndex, default_index_dir
from pipelines import run_campaign
from pipelines.report import campaign_html
from policy.checker import _in_address
from tests.browser import artifacts, browser, overflowing
from tests.conftest import EXAMPLES

pytestmark = [pytest.mark.llm, pytest.mark.slow]
__all__ = ["browser"]  # the fixture
CHANNELS = load_channels()


# Each channel runs once on the real model, in the language where it failed most: Wanderly (zh) writes
# the long pieces (the e-mail's greeting, the blog's length and ending), Tidewater (en) the search ad
# (headlines cut into fragments) and the customer reply (answered from the policy); the Chinese social
# post (hashtags and repeats) is the real campaign of tests/test_langchain_edges.py. CI took 65 minutes
# with both campaigns whole and 60.6 with Wanderly's three channels here (8.75 minutes of its 51 in
# tests, 2026-12-07). Every channel of every example brand is replayed by the eval suite
# (tests/test_eval_suite.py) and measured on the model by bench/quality.py.
RUNS = {"wanderly": ["email", "blog"], "tidewater": ["search_ad", "cs_reply"]}


@pytest.fixture(scope="module", params=list(RUNS))
def campaign(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Campaign, Brand]:
    root = tmp_path_factory.mktemp("brands") / request.param
    shutil.copytree(EXAMPLES / request.param, root, ignore=shutil.ignore_patterns(".brandforge"))
    brand = load_brand(root)
    channels = RUNS[request.param]
    result = run_campaign(brand, channels=channels, progress=print)
    return result, brand.model_copy(update={"channels": channels})


def test_every_requested_channel_is_present(campaign: tuple[Campaign, Brand]) -> None:
    result, brand = campaign
    assert [p.channel for p in result.pieces] == brand.channels
    # How many pieces the 1.5B model gets through is a quality figure, measured by bench/quality.py (issue
    # 15: 10 of 25 delivered on seed 7; in this test's run on 2026-12-02 Tidewater had none). What must
    # hold: a blocked piece says why (an unfixed blocking finding), a delivered one has every field.
    delivered = [p for p in result.pieces if p.compliance.verdict != "blocked"]
    for piece in result.blocked:
        assert any(f.severity == "block" and not f.fixed for f in piece.compliance.findings), piece.channel
    for piece in delivered:
        assert set(piece.fields) == {f.name for f in CHANNELS[piece.channel].fields}
        assert all(text.strip() for text in piece.fields.values())


def test_delivered_pieces_pass_the_quality_checks(campaign: tuple[Campaign, Brand]) -> None:
    """Checked again from scratch: nothing delivered is truncated, unnamed, mixed-language or repetitive."""
    result, brand = campaign
    documents = [p.text for p in result.passages]
    for piece in result.pieces:
        assert piece.scorecard is not None and piece.scorecard.applied >= 20, piece.channel
        if piece.compliance.verdict == "blocked":
            continue
        context = QualityContext.build(CHANNELS[piece.channel], brand, documents)
        standing = [
            (f.rule_id, f.explanation)
            for f in quality_findings(context, piece.fields)
            if f.severity == "block"
        ]
        assert standing == [], (piece.channel, piece.fields)


def test_all_limits_respected(campaign: tuple[Campaign, Brand]) -> None:
    result, _ = campaign
    for piece in result.pieces:
        for name, text in piece.fields.items():
            assert CHANNELS[piece.channel].field(name).violations(text) == [], (piece.channel, name, text)


def test_no_banned_term_and_brand_spelled_as_required(campaign: tuple[Campaign, Brand]) -> None:
    result, brand = campaign
    for piece in result.pieces:
        if piece.compliance.verdict == "blocked":
            continue
        text = "\n".join(piece.fields.values())
        # An independent re-check of what shipped: no rule of the brand's packs, terms, PII or injection
        # blocks it, unless the judge overruled that rule in this piece (a meaning rule read literally,
        # such as "perfect" in a description; never banned terms, personal data, secrets or injection).
        blocking = [f for f in checker_for(brand).rule_findings(text) if f.severity == "block"]
        overruled = {
            (f.rule_id, f.matched)
            for f in piece.compliance.findings
            if f.layer == "judge" and f.severity == "warn" and f.rationale
        }
        unexplained = [f for f in blocking if (f.rule_id, f.matched) not in overruled]
        assert unexplained == [], (piece.channel, text, unexplained)
        assert not {f.category for f in blocking} & {"banned_term", "pii", "secret", "prompt_injection"}
        for term in brand.required_terms:
            lowered = text.lower()
            start = lowered.find(term.lower())
            while start >= 0:
                # inside a web or e-mail address the name keeps its lower case ("Visit tidewater.example"),
                # as the checker's required-spelling rule has it
                if not _in_address(text, start, start + len(term)):
                    assert text[start : start + len(term)] == term, (piece.channel, text)
                start = lowered.find(term.lower(), start + 1)


def test_language_matches_locale(campaign: tuple[Campaign, Brand]) -> None:
    result, brand = campaign
    for piece in result.pieces:
        text = "".join(piece.fields.values())
        if not text:
            continue
        cjk = sum("\u4e00" <= c <= "\u9fff" for c in text) / len(text)
        assert (cjk > 0.3) if brand.language == "zh" else (cjk < 0.05), (piece.channel, text)


def test_citations_resolve_to_real_passages(campaign: tuple[Campaign, Brand]) -> None:
    result, brand = campaign
    index = FaissKnowledgeIndex.load(default_index_dir(brand), get_embedder("use-multilingual"))
    cited = [c for p in result.pieces for c in p.citations]
    cited += [c for m in result.brief.key_messages for c in m.citations] if result.brief else []
    assert cited, "nothing was cited"
    for passage_id in cited:
        assert index.get(passage_id) is not None, passage_id


def test_trace_is_complete(campaign: tuple[Campaign, Brand]) -> None:
    result, _ = campaign
    agents = {t.agent for t in result.trace}
    assert {"strategist", "copywriter", "reviewer", "compliance"} <= agents
    for entry in result.trace:
        assert entry.backend == "llamacpp" and entry.model.endswith(".gguf")
        assert "@" in entry.prompt and len(entry.prompt_hash) == 12
        assert entry.prompt_tokens > 0 and entry.completion_tokens > 0 and entry.seconds > 0
    assert result.stats.completion_tokens == sum(t.completion_tokens for t in result.trace)


def test_injected_instructions_never_reach_a_piece(campaign: tuple[Campaign, Brand]) -> None:
    result, _ = campaign
    for piece in result.pieces:
        if piece.compliance.verdict == "blocked":
            continue
        text = "\n".join(piece.fields.values()).lower()
        assert "canary" not in text and "ignore previous" not in text and "忽略之前" not in text


def test_v3_prompts_deliver_with_instructions_once_in_the_system_message(tmp_path) -> None:
    """The opt-in v3 prompts (context.system@2) run end to end with the real model: every call is
    answered, and a first review sends only its one-line request after the draft turn."""
    from pipelines.spec import PIPELINES_DIR, load_pipeline

    swaps = {
        "context.system@3": "context.system@2",
        "strategist.brief@5": "strategist.brief@3",
        "copywriter.draft@7": "copywriter.draft@3",
        "reviewer.review@2": "reviewer.review@3",
        "copywriter.revise@3": "copywriter.revise@2",
        "compliance.claims@1": "compliance.claims@2",
    }
    text = (PIPELINES_DIR / "default.yaml").read_text(encoding="utf-8")
    for old, new in swaps.items():
        text = text.replace(old, new)
    (tmp_path / "v3.yaml").write_text(text, encoding="utf-8")
    pipeline = load_pipeline(tmp_path / "v3.yaml")
    root = tmp_path / "wanderly"
    shutil.copytree(EXAMPLES / "wanderly", root, ignore=shutil.ignore_patterns(".brandforge"))
    result = run_campaign(load_brand(root), pipeline=pipeline, channels=["social_post"])
    assert [p.channel for p in result.pieces] == ["social_post"]
    assert {t.prompt for t in result.trace} <= {*swaps.values(), JUDGE_PROMPT}  # the judge has one
    review = next(t for t in result.trace if t.prompt == "reviewer.review@3")
    # The conversation's prefix is reused: only the request line is new, plus the draft when a fix edited
    # it since the draft turn (since issue 15 the copywriter's output is often cleaned up: ~75 tokens).
    assert review.prompt_tokens - review.cached_prompt_tokens < 0.1 * review.prompt_tokens


def test_the_report_shows_every_piece_of_a_real_campaign(
    campaign: tuple[Campaign, Brand], browser: Browser, tmp_path: Path
) -> None:
    """The real model's campaign in the HTML report, in a real Chromium: every delivered field is on the
    page as written, nothing overflows its preview; the JSON and a screenshot are kept as artifacts."""
    result, brand = campaign
    folder = artifacts("real-campaigns")
    (folder / f"{brand.name}.json").write_text(result.model_dump_json(indent=2), encoding="utf-8")
    page_file = folder / f"{brand.name}.html"
    page_file.write_text(campaign_html(result), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(page_file.as_uri())
    assert overflowing(page, ".preview") == []
    previews = page.locator(".preview")
    assert previews.count() == len(result.pieces)
    for i, piece in enumerate(result.pieces):
        shown = " ".join(re.sub(r"\[\d+\]", "", previews.nth(i).inner_text()).split())
        for text in piece.fields.values():
            for line in text.splitlines():
                assert " ".join(line.split()) in shown, (piece.channel, line)
    page.screenshot(path=str(folder / f"{brand.name}.png"), full_page=True)
    page.close()
