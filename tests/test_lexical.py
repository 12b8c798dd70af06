"""BM25 terms and scoring used by hybrid retrieval."""

from __future__ import annotations

import pytest

from knowledge.lexical import BM25, terms

pytestmark = pytest.mark.unit


def test_terms_fold_case_width_and_plurals_and_split_cjk_into_bigrams() -> None:
    assert terms("The TOURS of Ｙｕｂｅｎｇ") == ["tour", "yubeng"]
    assert terms("雨崩徒步") == ["雨崩", "崩徒", "徒步"]
    assert terms("茶 ratio 1:5") == ["ratio", "1:5", "茶"]
    assert terms("what is the") == []


def test_bm25_prefers_rare_exact_terms_and_shorter_passages() -> None:
    bm25 = BM25(
        [
            ("a", "Our coffee is roasted in small batches every week."),
            ("b", "Low Tide tastes of cherry, cocoa and brown sugar."),
            ("c", "Low Tide coffee: " + "a long passage about many other things " * 10),
            ("d", "雨崩徒步路线需要7天6晚。"),
        ]
    )
    top = bm25.top("tasting notes of Low Tide", 3)
    assert [key for key, _ in top][:2] == ["b", "c"]
    assert bm25.top("雨崩要走几天", 1)[0][0] == "d"
    assert bm25.top("nothing matches zzz", 3) == []
    assert len(bm25) == 4
