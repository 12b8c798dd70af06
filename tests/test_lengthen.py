"""Lengthening a story blog (:mod:`agents.lengthen`): which parts of the story are still untold, and where a
retold paragraph goes. The model calls are covered by the campaign tests in test_quality.py."""

from __future__ import annotations

import pytest

from agents.lengthen import place_retold, untold_part

pytestmark = pytest.mark.unit

HISTORY = (
    "Tidewater was founded in 2013 in Astoria by two friends who roasted on a 5 kg roaster in a net loft. "
    "They sold their first bags at the Astoria Sunday Market. In 2016 they moved to a 15 kg roaster called "
    "Big Eddy and opened a tasting room on the pier, open Thursday through Sunday."
)


def test_a_passage_told_in_part_gives_its_untold_sentences() -> None:
    text = (
        "Tidewater was founded in 2013 in Astoria by two friends who roasted on a 5 kg roaster in a net loft."
    )
    part = untold_part(HISTORY, text)
    assert part.startswith("They sold their first bags") and "Big Eddy" in part
    assert "founded in 2013" not in part
    # told all but a short sentence: nothing worth a call
    most = HISTORY.replace(" They sold their first bags at the Astoria Sunday Market.", "")
    assert untold_part(HISTORY, most) == ""
    assert untold_part(HISTORY, "") == HISTORY


def test_a_chinese_passage_told_in_part_gives_its_untold_sentences() -> None:
    passage = (
        "2017 年，与雨崩上村、下村的 5 户藏族家庭客栈签订长期合作协议，至今没有更换过。"
        "2019 年，开通新疆喀纳斯秋季路线，首次引入摄影领队，带旅客在禾木等一场晨雾。"
    )
    told = "2017 年，我们与雨崩上村、下村的 5 户藏族家庭客栈签订了长期合作协议。"
    assert untold_part(passage, told).startswith("2019 年，开通新疆喀纳斯秋季路线")


def test_a_retold_paragraph_follows_a_last_paragraph_of_story_and_precedes_a_closing_line() -> None:
    story = [HISTORY, "Every coffee is roasted in batches of up to 15 kg, and one batch a day is cupped."]
    closing = "Intro paragraph.\n\nThanks for reading: come and see us on the pier."
    assert (
        place_retold(closing, "NEW.", story)
        == "Intro paragraph.\n\nNEW.\n\nThanks for reading: come and see us on the pier."
    )
    told_last = (
        "Intro paragraph.\n\nThey sold their first bags at the Astoria Sunday Market. In 2016 they moved "
        "to a 15 kg roaster called Big Eddy."
    )
    assert place_retold(told_last, "NEW.", story) == f"{told_last}\n\nNEW."
