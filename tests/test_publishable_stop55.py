"""Issue 15, from stop 54's blind review of run s10h: what both or one of the reviewers sent back that no
check found.

- A study result restated without its figure: Clearleaf's documents give "81% said skin felt smoother",
  and the ad said "Serum felt smoother after using it." (``claims.result_without_figure``).
- A product named in two headlines, read side by side: Wanderly's "Wanderly 云南·雨崩徒步 7天" beside
  "云南·雨崩徒步 7天：最高海拔约 3,700 米" (``quality.repetition``).
- A story blog filled with a shop's terms and labelled values: Hearthline's "All prices are in US
  dollars." and "Warranty: limited lifetime." (:func:`agents.story.story_text`).

Each has a failing and a passing example, written for these tests apart from the run's own sentences.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.channels import load_channels
from agents.quality import QualityContext, quality_findings
from knowledge.brand import load_brand
from policy.claims import unreported_results

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
CH = load_channels()
STUDY = [
    "In a 4-week consumer perception study of 52 participants (independent lab):\n"
    "  - 81% said skin felt smoother\n  - 73% said skin tone looked more even\n"
    "  - 67% of participants reported that their pores looked less visible",
    "在 28 天的消费者自评测试中，86%的受试者表示肌肤更水润。",
]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("The serum felt smoother from the first week.", "skin felt smoother"),
        ("Your skin feels smoother, morning after morning.", "skin felt smoother"),
        ("Skin tone looks more even in a month.", "skin tone looked more even"),
        ("Pores look less visible after a few weeks.", "pores looked less visible"),
        ("用了一个月，肌肤更水润了。", "肌肤更水润"),
    ],
)
def test_a_study_result_without_its_figure_is_found(text: str, said: str) -> None:
    (found,) = unreported_results(text, STUDY)
    assert found[2] == said
    assert text[found[0] : found[1]].strip()


@pytest.mark.parametrize(
    "text",
    [
        "81% of 52 participants said skin felt smoother after 4 weeks.",
        "In a 4-week study, 8 in 10 said their skin felt smoother.",
        "86%的受试者表示肌肤更水润（28 天自评测试）。",
        "A water-light gel that absorbs in under a minute.",  # no result of the study
        "Smoother mornings start with coffee.",  # the words apart are no result
    ],
)
def test_a_study_result_with_its_figure_or_no_result_is_not(text: str) -> None:
    assert unreported_results(text, STUDY) == []


def test_no_study_in_the_documents_means_no_finding() -> None:
    assert unreported_results("Skin felt smoother.", ["Our serum is made in Colorado."]) == []


def test_the_checker_blocks_the_result_told_as_a_fact_with_the_brands_documents() -> None:
    """With the brand's passages as evidence, ``check`` blocks the restatement and names the result."""
    from knowledge.embedders import get_embedder
    from policy import ComplianceChecker, load_policy
    from policy.claims import PassageEvidence

    evidence = PassageEvidence([("sheet#0", STUDY[0])], get_embedder("use-multilingual"))
    checker = ComplianceChecker(load_policy("en", "cosmetics"), evidence)
    found = [f for f in checker.check("Serum felt smoother after using it.") if f.severity == "block"]
    assert [(f.rule_id, f.matched) for f in found if f.rule_id == "claims.result_without_figure"] == [
        ("claims.result_without_figure", "felt smoother")
    ]
    assert "81%" not in found[0].explanation and "skin felt smoother" in found[0].suggestion
    reported = checker.check("81% of 52 participants said skin felt smoother after 4 weeks.")
    assert "claims.result_without_figure" not in {f.rule_id for f in reported}


@pytest.fixture(scope="module")
def wanderly_ad() -> QualityContext:
    return QualityContext.build(CH["search_ad"], load_brand(ROOT / "examples" / "brands" / "wanderly"))


def test_a_product_named_in_two_headlines_is_a_repeat(wanderly_ad: QualityContext) -> None:
    ad = {
        "headline_1": "福建·土楼文化 5天 跟 Wanderly",
        "headline_2": "福建·土楼文化 5天：住进百年土楼",
        "headline_3": "每团最多 12 人",
        "description_1": "在土楼民宿住两晚，跟当地师傅学做擂茶。",
        "description_2": "详情请访问 wanderly.example",
    }
    found = [f for f in quality_findings(wanderly_ad, ad) if f.rule_id == "quality.repetition"]
    assert [(f.field, f.severity, "headline_1" in f.explanation) for f in found] == [
        ("headline_2", "block", True)
    ]


def test_a_product_in_one_headline_and_a_description_is_not(wanderly_ad: QualityContext) -> None:
    ad = {
        "headline_1": "福建·土楼文化 5天 跟 Wanderly",
        "headline_2": "住进百年土楼学做擂茶",
        "headline_3": "每团最多 12 人",
        "description_1": "福建·土楼文化 5天：在土楼民宿住两晚，跟当地师傅学做擂茶。",
        "description_2": "详情请访问 wanderly.example",
    }
    assert not [f for f in quality_findings(wanderly_ad, ad) if f.rule_id == "quality.repetition"]


def test_a_story_leaves_out_a_shops_terms_and_labelled_values() -> None:
    from agents.story import story_text

    text = (
        "All prices are in euros. Shipping is free on orders over 50 euros.\n"
        "We bake every loaf by hand in Leeds. Guarantee: two years. Our ovens burn wood from local mills.\n"
        "所有价格均为人民币。满 99 元包邮。我们的茶园在武夷山。"
    )
    assert story_text(text) == (
        "We bake every loaf by hand in Leeds. Our ovens burn wood from local mills.\n我们的茶园在武夷山。"
    )
    kept = "We ship our first loaves to cafes in 1999, and we still bake them by hand."
    assert story_text(kept) == kept


def test_hearthlines_story_carries_no_price_convention_or_warranty_label(tmp_path: Path) -> None:
    """The story of stop 54's Hearthline blog, for the angle it had, from the real index."""
    from agents.retriever import RetrieverParams
    from agents.story import story_passages, story_source
    from tests.conftest import retrieve

    _, ctx = retrieve(ROOT / "examples" / "brands" / "hearthline", tmp_path, ["blog"], RetrieverParams(k=4))
    angle = "Provide more detailed information on the product features and care instructions."
    told = "\n".join(story_source(story_passages(ctx.index, angle, "en"), ctx.index))
    assert "Walter and June Brask" in told and "sand mold" in told
    assert "All prices are" not in told and "Shipping is free" not in told
    assert "Warranty: limited lifetime" not in told


def test_an_english_timeline_row_that_can_stand_as_a_sentence_is_told_as_one() -> None:
    """Hearthline's relaunch under its own name is only in its timeline ("2009 - Granddaughter Nora Brask
    relaunches the skillets under the Hearthline name …"): left out, the story's foundry was another
    company to both blind reviewers of stop 54. A row without a subject is told as what "we" did; a
    headline-like row ("First …", "Company founded …") and a year the prose already tells stay out."""
    from agents.story import story_text

    text = (
        "In 1990 Ada Lind opened a bakery in Leeds.\n"
        "1990 - Ada Lind opens the bakery.\n"
        "1998 - Launch of the Rye Loaf.\n"
        "2004 - Moved to a bigger oven house on Kirk Street.\n"
        "2010 - Founded the Lind Baking School.\n"
        "2015 - First classes at the bakery.\n"
        "2020 - Company founded in Leeds.\n"
        "2021 - Established in a new home on Mill Lane.\n"
        "2022 - Lindloaf reaches 40 bakers.\n"
        "Every loaf is shaped by hand; Lindloaf bakes about 900 a day."
    )
    assert story_text(text) == (
        "In 1990 Ada Lind opened a bakery in Leeds.\n"
        "In 1998 we launched the Rye Loaf. In 2004 we moved to a bigger oven house on Kirk Street. "
        "In 2010 we founded the Lind Baking School. In 2021 we were established in a new home on Mill Lane. "
        "In 2022, Lindloaf reaches 40 bakers.\n"
        "Every loaf is shaped by hand; Lindloaf bakes about 900 a day."
    )


def test_a_colon_before_a_sentence_is_no_label() -> None:
    """The label rule above cut Qingyu's story of stop 55 (first run) by two sentences: "我们的做法很简单：
    班要小，……" and "创始人许然说：……" are sentences, not form fields."""
    from agents.story import story_text

    text = (
        "青屿在青岛。我们的做法很简单：班要小，每一期都做出作品。创始人许然说：想法像小岛。\n"
        "We teach in Leeds. Note: all classes are small, and every one ends with a demo."
    )
    assert story_text(text) == text


def test_a_studys_share_given_with_another_result_is_found() -> None:
    """Clearleaf's ad of stop 55 (first run): "We found that 81% of people who used our Niacinamide 10%
    Serum felt softer", where the documents give 81% for "skin felt smoother"."""
    from policy.claims import misquoted_results

    (found,) = misquoted_results("In our study, 73% of users said their skin felt firmer.", STUDY)
    assert found[2] == "skin tone looked more even"
    for fine in (
        "81% of 52 participants said skin felt smoother after 4 weeks.",
        "Made with 81% recycled plastic, it feels solid.",  # the share is no study's
        "67% said pores looked less visible.",
    ):
        assert misquoted_results(fine, STUDY) == [], fine
