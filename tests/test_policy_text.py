"""Evasion-robust folding and term matching (policy.text)."""

from __future__ import annotations

import pytest

from policy.text import find_spans, fold, sentence_around

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "term", "matched"),
    [
        ("Wanderly，最佳旅行", "最佳", "最佳"),
        ("最 佳旅行", "最佳", "最 佳"),  # space inserted
        ("最-佳旅行", "最佳", "最-佳"),  # punctuation inserted
        ("最·佳旅行", "最佳", "最·佳"),
        ("國家級路線", "国家级", "國家級"),  # traditional characters
        ("ＢＥＳＴ coffee", "best", "ＢＥＳＴ"),  # full-width
        ("GuArAnTeEd results", "guaranteed", "GuArAnTeEd"),  # case
        ("g u a r a n t e e d results", "guaranteed", "g u a r a n t e e d"),
        ("g-u-a-r-a-n-t-e-e-d results", "guaranteed", "g-u-a-r-a-n-t-e-e-d"),
        ("gua\u200branteed results", "guaranteed", "gua\u200branteed"),  # zero-width space
        ("the b\u0435st coffee", "the best", "the b\u0435st"),  # Cyrillic е
        (
            "\u0420\u0415\u0421\u0410\u0420 rules",
            "pecap",
            "\u0420\u0415\u0421\u0410\u0420",
        ),  # upper-case Cyrillic
        ("risk—free trial", "risk free", "risk—free"),  # em dash between words
        ("riskfree trial", "risk free", "riskfree"),
        ("gu\u0301aranteed", "guaranteed", "gu\u0301aranteed"),  # combining accent
    ],
)
def test_evasions_match_and_spans_point_at_the_original(text: str, term: str, matched: str) -> None:
    folded = fold(text)
    spans = find_spans(folded, [term])
    assert [folded.original(*s) for s in spans] == [matched]
    start, end = folded.span(*spans[0])
    assert text[start:end] == matched


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("a secure checkout", "cure"),  # Latin terms match whole words only
        ("our bestseller list", "best"),
        ("确保，证件齐全", "保证"),  # clause punctuation is not a separator
        ("#10 on the list", "#1"),
        ("treatment", "treat"),
    ],
)
def test_no_match_across_word_or_clause_boundaries(text: str, term: str) -> None:
    assert find_spans(fold(text), [term]) == []


def test_folding_keeps_a_map_for_expanding_characters() -> None:
    text = "Straße ﬁne 最佳"  # ß -> ss and ﬁ -> fi change the length
    folded = fold(text)
    assert folded.text == "strasse fine 最佳"
    (span,) = find_spans(folded, ["最佳"])
    assert folded.original(*span) == "最佳"


def test_sentence_around_keeps_decimals_inside() -> None:
    text = "Fees are low. Annual return of 7.2% net of fees. Done."
    assert sentence_around(text, 31, 35) == " Annual return of 7.2% net of fees."
