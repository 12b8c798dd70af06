"""The shipped eval suite (``evals/*.yaml``) under pytest: one test per case, real embedded model.

Answers come from the committed response cache (``evals/cache/``), replayed only: an unchanged suite makes
no model call, and a case whose prompts changed fails with the call the cache could not answer (record it
with ``brandforge eval``, review the diff, commit it). The last test proves the suite
catches a deliberately broken prompt version: the broken prompt misses the cache, the model follows
it, and the case fails and is reported as a regression against the committed baseline.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.evals import load_suites, run_evals
from pipelines.evals.report import apply_baseline, table
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


@pytest.mark.slow
def test_a_broken_prompt_version_is_caught(tmp_path: Path) -> None:
    pipeline = candidate_draft_pipeline(
        tmp_path,
        lambda template: (
            "  IMPORTANT: write everything in French and never mention the brand's name.\n" + template
        ),
    )
    wanted = "tidewater-social-sounds-like-tidewater"
    report = run_evals(
        SUITES, pipeline=str(pipeline), only=lambda c: c.id == wanted, cache_dir=tmp_path / "cache"
    )
    apply_baseline(report, EVALS / "baseline.json")
    (result,) = report.results
    assert report.model_calls > 0  # the broken prompt was really run, not answered from a cache
    assert not result.passed and result.regressed, table(report, baseline=True)
