"""Publishable copy with the real embedded model: a blog body cut off mid-sentence goes back to the
copywriter and comes out finished (or blocked), and what a campaign delivers passes every quality check
when checked again from scratch."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agents.channels import load_channels
from agents.quality import QualityContext, quality_findings
from pipelines.session import CampaignSession
from tests.conftest import EXAMPLES

pytestmark = [pytest.mark.llm]
CHANNELS = load_channels()
CUT_BLOG = (
    "在我们的世界里，人们总是习惯于走马观花。真正的旅行应该是一次深入的体验。"
    "Wanderly 的云南·雨崩徒步为期 7 天，"
    "从梅里雪山脚下的雨崩村出发，由藏族向导带路，每天只走一段路，留出时间和村里人一起生活。"
    "秋天，我们去新疆的喀纳斯，在禾木等一场晨雾。福建的土楼之旅适合亲子家庭，孩子们可以住进百年土楼，"
    "跟客家人学做擂茶。最后，让我们看看福建·土楼文化5天的行程。这"
)


def test_a_blog_cut_off_mid_sentence_is_revised_not_delivered(tmp_path: Path) -> None:
    root = tmp_path / "wanderly"
    shutil.copytree(EXAMPLES / "wanderly", root, ignore=shutil.ignore_patterns(".brandforge"))
    session = CampaignSession.open(root, channels=["blog"])
    draft = {"channel": "blog", "fields": {"title": "慢旅行：跟 Wanderly 去雨崩", "body": CUT_BLOG}}
    state = session.run_step("compliance", {"drafts": {"blog": {**draft, "cut_off": ["body"]}}})
    (piece,) = state.pieces
    found = {(f.rule_id, f.fixed) for f in piece.compliance.findings}
    assert ("quality.truncated", True) in found  # found, sent back, fixed
    assert ("quality.truncated", False) not in found
    assert piece.revisions and piece.revisions[0].by == "compliance"
    assert any("cut off" in r or "mid-sentence" in r for r in piece.revisions[0].requests)
    body = piece.fields["body"].rstrip()
    last = body.splitlines()[-1].strip()  # a sentence, or a list item ("- **新疆·喀纳斯秋季 8天**")
    finished = last[-1] in "。！？!?.…」”)" or last.startswith(("- ", "* "))
    assert not body.endswith("这") and finished, body[-40:]
    # Whatever the verdict, nothing truncated is delivered: checked again from scratch.
    context = QualityContext.build(CHANNELS["blog"], session.brand, [p.text for p in state.passages])
    assert "quality.truncated" not in {f.rule_id for f in quality_findings(context, piece.fields)}
