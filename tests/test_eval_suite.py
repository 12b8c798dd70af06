"""The shipped eval suite (``evals/*.yaml``) under pytest: one test per case, real embedded model.

Answers come from the committed response cache (``evals/cache/``), replayed only: an unchanged suite makes
no model call, and a case whose prompts changed fails with the call the cache could not answer (record it
with ``brandforge eval``, review the diff, commit it). The last test proves that evals catch a
deliberately broken prompt version: on a copywriter case, the shipped prompt passes and becomes the
baseline, the broken one misses the cache, the model follows it, and the case fails as a regression.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.evals import load_suites, run_evals
from pipelines.evals.report import apply_baseline, baseline_json, table
from tests.candidates import candidate_draft_pipeline

ROOT = Path(__file__).resolve().parent.parent
EVALS = ROOT / "evals"
SUITES = load_suites([EVALS])
CASES = [(suite, case) for suite in SUITES for case in suite.cases]

pytestmark = pytest.mark.llm


@pytest.mark.parametrize(("suite", "case"), CASES, ids=[case.id for _, case in CASES])
def test_case(suite, case) -> None:
    # Replay only: a call the committed cache cannot answer fails here, instead of running the model and
    # writing its answer into evals/cache/ (which would make the next run pass on a cache nobody reviewed).
    report = run_evals([suite], only=lambda c: c.id == case.id, cache_dir=EVALS / "cache", replay_only=True)
    (result,) = report.results
    assert result.ok, table(report)  # passes, or a known failure that still fails (xfail)
    assert report.model_calls == 0, "the committed cache should answer every call of the shipped suite"


# The copywriter alone on a fixed brief: a broken draft prompt shows in its own output, with none of the
# pipeline's later rounds (review, compliance) to repair it. A campaign case took 13 minutes over four
# seeds and, run once, could pass: the reviewer and compliance sent the French post back to be rewritten.
COPYWRITER_CASE = """
description: the copywriter in isolation (test_a_broken_prompt_version_is_caught)
cases:
  - id: copywriter-writes-tidewater-in-english
    brand: {brand}
    channel: social_post
    agent: copywriter
    inputs:
      brief:
        audience_insight: Home brewers want coffee that is still fresh when it arrives.
        key_messages: [{{text: Every bag is roasted the day before it ships.}}]
        tone: warm, precise
    assert:
      - {{type: contains, field: drafts.social_post.fields.text, value: Tidewater}}
      - {{type: language, field: drafts.social_post.fields.text, value: en}}
"""


@pytest.mark.slow
def test_a_broken_prompt_version_is_caught(tmp_path: Path) -> None:
    suite_file = tmp_path / "copywriter.yaml"
    suite_file.write_text(COPYWRITER_CASE.format(brand=ROOT / "examples/brands/tidewater"), encoding="utf-8")
    suites = load_suites([suite_file])
    # the shipped prompt passes and is the baseline ...
    before = run_evals(suites, cache_dir=tmp_path / "cache")
    assert before.results[0].passed and before.model_calls > 0, table(before)
    (tmp_path / "baseline.json").write_text(baseline_json(before), encoding="utf-8")
    # ... and the broken version of it fails, as a regression against that baseline
    pipeline = candidate_draft_pipeline(
        tmp_path,
        lambda template: (
            "  IMPORTANT: write every field in Simplified Chinese (简体中文) only, and never write "
            "the brand's name.\n" + template
        ),
    )
    report = run_evals(suites, pipeline=str(pipeline), cache_dir=tmp_path / "cache")
    apply_baseline(report, tmp_path / "baseline.json")
    (result,) = report.results
    assert report.model_calls > 0  # the broken prompt was really run, not answered from the cache
    assert not result.passed and result.regressed, table(report, baseline=True)
