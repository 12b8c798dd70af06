"""The checker measured on labelled corpora (same numbers as ``bench/compliance.py``), held to a floor.

``compliance_corpus.yaml`` (303 sentences) was used to find and fix gaps in the rules;
``compliance_holdout.yaml`` (171 sentences, other brands, written without seeing the rules) was
measured once, then the generic bugs it exposed were fixed; ``compliance_sealed.yaml`` (191
sentences, written last) was measured once after all changes and is never used to tune: its floor is
the honest estimate of how the checker does on new copy.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.embedders import get_embedder
from policy.evaluate import Report, evaluate, load_corpus

pytestmark = pytest.mark.unit
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def tuning() -> Report:
    return evaluate(load_corpus(DATA / "compliance_corpus.yaml"), get_embedder("use-multilingual"))


@pytest.fixture(scope="module")
def holdout() -> Report:
    return evaluate(load_corpus(DATA / "compliance_holdout.yaml"), get_embedder("use-multilingual"))


@pytest.fixture(scope="module")
def sealed() -> Report:
    return evaluate(load_corpus(DATA / "compliance_sealed.yaml"), get_embedder("use-multilingual"))


def test_corpora_are_bilingual_and_cover_every_category(
    tuning: Report, holdout: Report, sealed: Report
) -> None:
    for report, size in ((tuning, 300), (holdout, 150), (sealed, 150)):
        cases = [o.case for o in report.outcomes]
        assert len(cases) >= size
        assert {c.locale for c in cases} == {"en", "zh"}
        assert len(report.by_category) == 13
        for name, score in report.by_category.items():
            assert score.tp + score.fn >= 7 and score.fp + score.tn >= 3, name  # violations and look-alikes


def test_tuning_corpus(tuning: Report) -> None:
    misses = [(o.case.expect, o.case.text) for o in tuning.misses()]
    assert tuning.overall.precision >= 0.98 and tuning.overall.recall >= 0.97, misses
    assert tuning.evasion.recall >= 0.98, misses
    for name, score in tuning.by_category.items():
        assert score.recall >= 0.85 and score.precision >= 0.9, (name, misses)


def test_holdout_corpus(holdout: Report) -> None:
    misses = [(o.case.expect, o.case.text) for o in holdout.misses()]
    assert holdout.overall.precision >= 0.93 and holdout.overall.recall >= 0.9, misses
    assert holdout.evasion.recall >= 0.85, misses


def test_sealed_corpus(sealed: Report) -> None:
    misses = [(o.case.expect, o.case.text) for o in sealed.misses()]
    assert sealed.overall.precision >= 0.95 and sealed.overall.recall >= 0.9, misses
    assert sealed.evasion.recall >= 0.9, misses


def test_every_block_says_where_and_why(tuning: Report) -> None:
    for outcome in tuning.outcomes:
        text = outcome.case.text
        for f in outcome.findings:
            assert f.rule_id and f.category and f.explanation and f.suggestion, f
            assert f.span is not None and text[f.span[0] : f.span[1]] == f.matched, (text, f)


# --- with the semantic layer (issue 14) ------------------------------------------------------------
# The classifiers were trained on policy/corpus/ only: on the three corpora above they are measured
# out of sample. On the training corpora the figures are in-sample (a regression floor, not an estimate).


def _with_semantic(path: Path) -> Report:
    from policy.semantic import load_semantic

    return evaluate(load_corpus(path), get_embedder("use-multilingual"), semantic=load_semantic())


@pytest.mark.parametrize(
    ("name", "precision", "recall", "false_block"),
    [
        ("compliance_corpus.yaml", 0.95, 0.93, 0.05),
        ("compliance_holdout.yaml", 0.95, 0.93, 0.06),
        ("compliance_sealed.yaml", 0.95, 0.92, 0.07),
    ],
)
def test_older_corpora_with_the_semantic_layer(
    name: str, precision: float, recall: float, false_block: float
) -> None:
    report = _with_semantic(DATA / name)
    misses = [(o.case.expect, o.case.text) for o in report.misses()]
    s = report.overall
    assert s.precision >= precision and s.recall >= recall and s.false_block <= false_block, misses


def test_training_corpora_with_the_semantic_layer() -> None:
    from policy.train_semantic import default_corpora

    for path in default_corpora():
        report = _with_semantic(path)
        misses = [(o.case.expect, o.case.text) for o in report.misses()]
        for language, s in report.by_language.items():
            assert s.recall >= 0.82 and s.false_block <= 0.17, (path.name, language, misses)


def _merged(*names: str) -> Report:
    """Several corpus files as one (profile names prefixed by file), rules + semantic."""
    from policy.evaluate import Corpus
    from policy.semantic import load_semantic

    cases, profiles = [], {}
    for name in names:
        corpus = load_corpus(DATA / name)
        profiles.update({f"{name}/{k}": v for k, v in corpus.profiles.items()})
        cases += [
            c.model_copy(update={"profile": f"{name}/{c.profile}" if c.profile else None})
            for c in corpus.cases
        ]
    merged = Corpus(profiles=profiles, cases=cases)
    return evaluate(merged, get_embedder("use-multilingual"), semantic=load_semantic())


@pytest.mark.parametrize(
    ("names", "recall", "false_block"),
    [
        # Issue 14's first blind set: measured once at 0.886 / 0.174, then tuned on (0.886 / 0.164; after
        # the false-block fixes of 2026-12-03, about 0.886 / 0.108).
        (("compliance_sealed14_a.yaml", "compliance_sealed14_b.yaml"), 0.88, 0.12),
        # The second: measured once at 0.809 / 0.232, then tuned on (0.805 / 0.128 on 2026-12-03).
        (("compliance_blind14c_en.yaml", "compliance_blind14c_zh.yaml"), 0.80, 0.14),
        # The third, sealed on 2026-12-03 at 0.766 / 0.159. Floors against regressions, never targets.
        (("compliance_blind14d.yaml",), 0.76, 0.16),
        # The fourth, sealed on 2026-12-04 at 0.757 / 0.172, then tuned on (0.757 / 0.118 the same day).
        (("compliance_blind14e.yaml",), 0.75, 0.12),
        # The sixth, written blind and sealed on 2026-12-04 (night) at 0.833 / 0.126 (rules + semantic).
        (("compliance_blind14g_en.yaml", "compliance_blind14g_zh.yaml"), 0.83, 0.13),
        # The seventh, written blind and sealed on 2026-12-05 at 0.801 / 0.126 (rules + semantic); 0.795 /
        # 0.093 once a listed rival's name blocked only in a sentence read as running it down (stop 41).
        (("compliance_blind14h_en.yaml", "compliance_blind14h_zh.yaml"), 0.79, 0.10),
        # The eighth, written blind and sealed on 2026-12-05 (stop 41) at 0.756 / 0.203 (rules + semantic),
        # then tuned on: 0.776 / 0.187 (stop 42: quoted rejections, a phrase inside a hyphenated word,
        # personal data told as a story).
        (("compliance_blind14i_en.yaml", "compliance_blind14i_zh.yaml"), 0.77, 0.19),
        # The ninth, written blind and sealed on 2026-12-06 (stop 43) at 0.801 / 0.159 (rules + semantic).
        (("compliance_blind14j_en.yaml", "compliance_blind14j_zh.yaml"), 0.80, 0.16),
        # The eleventh, written blind and sealed on 2026-12-06 (stop 48) at 0.673 / 0.214 (rules + semantic);
        # tuned on in stop 49 (0.801 / 0.176), so a tuning set since: the floor keeps what was gained.
        (("compliance_blind14l_en.yaml", "compliance_blind14l_zh.yaml"), 0.79, 0.18),
        # The twelfth, written blind and sealed on 2026-12-07 (stop 50) at 0.712 / 0.126 (rules + semantic);
        # tuned on the same day (0.776 / 0.082), so a tuning set since.
        (("compliance_blind14m_en.yaml", "compliance_blind14m_zh.yaml"), 0.75, 0.09),
        # The thirteenth, written blind and sealed on 2026-12-07 (stop 51) at 0.782 / 0.154 (rules +
        # semantic); tuned on the same day (0.801 / 0.154), so a tuning set since.
        (("compliance_blind14n_en.yaml", "compliance_blind14n_zh.yaml"), 0.80, 0.16),
        # The fourteenth, written blind and sealed on 2026-12-07 (stop 52) at 0.814 / 0.110 (rules +
        # semantic); tuned on in stop 53 (0.929 / 0.110), so a tuning set since.
        (("compliance_blind14o_en.yaml", "compliance_blind14o_zh.yaml"), 0.92, 0.11),
        # The fifteenth, written blind and sealed on 2026-12-07 (stop 53) at 0.827 / 0.110 (rules +
        # semantic); tuned on in stop 54 (0.955 / 0.093), so a tuning set since.
        (("compliance_blind14p_en.yaml", "compliance_blind14p_zh.yaml"), 0.95, 0.10),
        # The sixteenth, written blind and sealed on 2026-12-07 (stop 54) at 0.859 / 0.110 (rules +
        # semantic); tuned on in stop 55 (0.942 / 0.060 with the retrained model), a tuning set since.
        (("compliance_blind14q_en.yaml", "compliance_blind14q_zh.yaml"), 0.85, 0.11),
        # The seventeenth, written blind and sealed on 2026-12-07 (stop 55) at 0.897 / 0.066 (rules +
        # semantic), after every change of that stop; not tuned on.
        (("compliance_blind14r_en.yaml", "compliance_blind14r_zh.yaml"), 0.89, 0.07),
    ],
)
def test_issue_14_blind_sets_stay_at_their_measured_figures(
    names: tuple[str, ...], recall: float, false_block: float
) -> None:
    s = _merged(*names).overall
    assert s.recall >= recall and s.false_block <= false_block, (s.recall, s.false_block)


def test_no_blind_sentence_is_in_the_training_corpus() -> None:
    """The blind sets measure generalisation only if the classifiers never saw their sentences (three
    standard legal disclaimers and one EU-authorised nutrient claim are word for word in both: the
    regulator's wording, not leaked cases)."""
    from policy.train_semantic import default_corpora

    train = {c.text.strip() for p in default_corpora() for c in load_corpus(p).cases}
    blind = (
        "compliance_blind14c_en.yaml",
        "compliance_blind14c_zh.yaml",
        "compliance_blind14d.yaml",
        "compliance_blind14e.yaml",
        "compliance_blind14f.yaml",
        "compliance_blind14g_en.yaml",
        "compliance_blind14g_zh.yaml",
        "compliance_blind14h_en.yaml",
        "compliance_blind14h_zh.yaml",
        "compliance_blind14i_en.yaml",
        "compliance_blind14i_zh.yaml",
        "compliance_blind14j_en.yaml",
        "compliance_blind14j_zh.yaml",
        "compliance_blind14l_en.yaml",
        "compliance_blind14l_zh.yaml",
        "compliance_blind14m_en.yaml",
        "compliance_blind14m_zh.yaml",
        "compliance_blind14n_en.yaml",
        "compliance_blind14n_zh.yaml",
        "compliance_blind14o_en.yaml",
        "compliance_blind14o_zh.yaml",
        "compliance_blind14p_en.yaml",
        "compliance_blind14p_zh.yaml",
        "compliance_blind14q_en.yaml",
        "compliance_blind14q_zh.yaml",
    )
    for name in (*blind, "compliance_sealed14_a.yaml", "compliance_sealed14_b.yaml"):
        shared = {c.text.strip() for c in load_corpus(DATA / name).cases} & train
        boilerplate = (
            "Past performance",
            "Food and Drug Administration",
            "growth and maintenance of muscle",
            "保健食品不是药物",
            "理财非存款",  # the mandated wealth-product risk statement (eighth set)
        )
        assert all(any(b in t for b in boilerplate) for t in shared), shared
