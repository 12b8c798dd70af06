"""Issue 14, clean copy that used to be blocked: each mechanism that now lets it through, with a violation
worded alike that still blocks.

- Chinese pack rules match whole words (``whole_words``): "保本" is not in "环保本色".
- A term quoted or named to reject it is mentioned, not used ("我们从不用“药妆”这个词").
- A rule's ``needs_reading`` words ("healing", "治愈", a bare "guarantee") block only when the sentence
  also reads as the rule's category to the semantic layer; without the layer they block as before.
- An offer or policy term no passage states takes ``fact_severity`` when people's copy is checked
  (``warn``), unless it gives a price where the documents give prices of their own.
- Numbers labelled as a registration number are nobody's phone; a labelled account number or sort
  code is personal data.
- A bare call to action ("Order Now!", "立即下单！") is no superlative, and a sentence with no word of
  money, returns or credit is no finance claim, whatever a score or the judge says.

The sentences were written for these tests, not taken from the corpora or the evaluation sets.
"""

from __future__ import annotations

import pytest

from knowledge.embedders import get_embedder
from policy import ComplianceChecker, load_policy, verdict_of
from policy.claims import PassageEvidence
from policy.semantic import load_semantic

pytestmark = pytest.mark.unit


def _rules(locale: str, text: str) -> set[str]:
    checker = ComplianceChecker(load_policy(locale, None), check_claims=False)
    return {f.rule_id for f in checker.check(text) if f.severity == "block"}


def _with_semantic(locale: str, text: str) -> str:
    checker = ComplianceChecker(load_policy(locale, None), check_claims=False, semantic=load_semantic())
    return verdict_of(checker.check(text))


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("快递已经帮您打包过去了，请留意短信通知", "zh.guarantee"),  # 打包/过去, not 包过
        ("会员礼是一只环保本白帆布袋，注册即送", "zh.guarantee"),  # 环保/本白, not 保本
        ("新开的店里有一道毒舌鸭脖，辣得过瘾", "zh.medical"),  # 毒舌 is a word, not 毒
    ],
)
def test_chinese_rules_do_not_match_across_words(text: str, rule: str) -> None:
    assert rule not in _rules("zh", text)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("报名冲刺班，保证包过，不过全退", "zh.guarantee"),
        ("这款理财保本保息，放心买", "zh.guarantee"),
    ],
)
def test_the_same_terms_used_as_words_still_block(text: str, rule: str) -> None:
    assert rule in _rules("zh", text)


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("zh", "我们的文案里从不用“抗癌”这个说法，产品也不是药"),
        ("zh", "提醒：R1 级≠保本，投资前请阅读产品说明书"),
        ("zh", "本店已下架所有印有“包治”字样的旧包装"),
        # quoted inside a longer quotation, called a false notion, answered "No", or the second of two
        # quoted terms after the negation (stop 42)
        ("zh", "“稳赚不赔”本身就是个伪命题，投资都有风险"),
        ("zh", "“根治”只是营销话术，我们只说配料表里有什么"),
        ("en", "Guaranteed? No — and no honest coach would say so."),
        ("en", "We will never promise 'instant' fixes or 'guaranteed results'."),
    ],
)
def test_a_term_quoted_to_reject_it_is_not_used(locale: str, text: str) -> None:
    assert not _rules(locale, text)


def test_a_quoted_term_without_rejection_still_blocks() -> None:
    assert _rules("zh", "这款“抗癌”的茶，喝了就知道") == {"zh.medical"}
    assert "zh.medical" in _rules("zh", "我们的茶能“根治”失眠")
    assert _rules("en", "Guaranteed? You bet.") == {"en.guarantee"}
    # an apostrophe is no quotation mark: "it's … we've" quotes nothing
    assert "en.guarantee" in _rules("en", "Don't worry, it's guaranteed results we've delivered.")


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("en", "Healing a long week, one slow pour-over at a time."),
        ("zh", "一碗热汤面，治愈整个加班的夜晚"),
        ("en", "Every order is guaranteed to ship within 24 hours."),
    ],
)
def test_figurative_and_service_wording_warns_with_the_semantic_layer(locale: str, text: str) -> None:
    assert _rules(locale, text), "the rule layer alone no longer trips: pick another example"
    assert _with_semantic(locale, text) != "block"


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("en", "This tea heals stomach ulcers in two weeks."),
        ("en", "We guarantee first-page search rankings within a month."),
        ("zh", "这款草本茶专治失眠，喝一周就见效"),
    ],
)
def test_the_same_words_as_claims_still_block(locale: str, text: str) -> None:
    assert _with_semantic(locale, text) == "block"


def _checked_against(evidence: list[str], text: str) -> dict[str, str]:
    checker = ComplianceChecker(
        load_policy("en", None),
        PassageEvidence([(f"p{n}", t) for n, t in enumerate(evidence)], get_embedder("use-multilingual")),
    )
    return {f.rule_id: f.severity for f in checker.check(text) if f.category == "unsupported_claim"}


def test_an_offer_no_document_states_warns_in_check_and_a_wrong_price_blocks() -> None:
    evidence = ["The Trail Pack costs $120 and ships free in the US.", "Returns are accepted within 30 days."]
    found = _checked_against(evidence, "Use code HIKE15 at checkout for 15% off your first order.")
    assert found.get("claims.unsupported_offer") == "warn"
    assert _checked_against(evidence, "The Trail Pack costs just $95.").get("claims.unsupported_offer") in (
        "block",
        None,  # a contradicted figure may be reported under its own rule, which also blocks
    )
    assert (
        verdict_of(
            ComplianceChecker(
                load_policy("en", None),
                PassageEvidence(
                    [(f"p{n}", t) for n, t in enumerate(evidence)], get_embedder("use-multilingual")
                ),
            ).check("The Trail Pack costs just $95.")
        )
        == "block"
    )


@pytest.mark.parametrize(
    ("text", "blocked"),
    [
        ("Your refund went to acct 55102938, sort code 40-12-76.", True),
        ("Payment was returned to account number 00418823.", True),
        ("Food facility registration no. 13912345678 (registration is not an FDA approval).", False),
    ],
)
def test_account_numbers_and_registration_numbers(text: str, blocked: bool) -> None:
    found = {f.rule_id for f in ComplianceChecker(load_policy("en", None)).check(text)}
    assert bool(found & {"pii.account_number", "pii.cn_mobile"}) == blocked, found


@pytest.mark.parametrize(
    "text",
    [
        "From the station, take the No. 1 tram three stops to the old harbour.",
        "Cabin #1 sleeps two and has its own deck.",
        "Rated #1 for ease of use among budgeting apps — 2026 Pocket Finance Survey (methodology: see site).",
    ],
)
def test_numbered_places_and_sourced_rankings_are_no_superlative(text: str) -> None:
    assert "en.superlative" not in _rules("en", text)


def test_an_unsourced_number_one_still_blocks() -> None:
    assert "en.superlative" in _rules("en", "The #1 budgeting app, hands down.")


class _UpholdAll:
    """A judge that rules every sentence it is asked about a violation of its likeliest category."""

    def adjudicate(self, questions):  # type: ignore[no-untyped-def]
        from policy.adjudication import Ruling

        return [
            Ruling(True, max(q.candidates, key=q.candidates.__getitem__), "ruled a violation")
            for q in questions
        ]


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("en", "Order Now!"),  # scored 0.74 as a superlative in a campaign's ad
        ("zh", "立即下单！"),
        ("en", "Every pot comes with a 1-year limited warranty on the knob."),  # the judge: "a finance claim"
    ],
)
def test_a_call_to_action_ranks_nothing_and_a_warranty_is_no_finance_claim(locale: str, text: str) -> None:
    checker = ComplianceChecker(
        load_policy(locale, None), check_claims=False, semantic=load_semantic(), adjudicator=_UpholdAll()
    )
    found = checker.check(text)
    assert not [f for f in found if f.category in {"superlative", "finance_claim"}], found


@pytest.mark.parametrize(
    ("locale", "text", "category"),
    [
        ("en", "Order now: the best cookware money can buy.", "superlative"),
        ("zh", "立即下单，全网最低价！", "superlative"),
        ("en", "Put your savings with us and watch them double every year.", "finance_claim"),
    ],
)
def test_a_ranking_or_a_money_promise_worded_alike_still_blocks(
    locale: str, text: str, category: str
) -> None:
    checker = ComplianceChecker(
        load_policy(locale, None), check_claims=False, semantic=load_semantic(), adjudicator=_UpholdAll()
    )
    found = checker.check(text)
    assert verdict_of(found) == "block" and any(f.category == category for f in found), found


@pytest.mark.parametrize(
    "text",
    [
        "Make six figures from home.",
        "Become a millionaire this year.",
        "A profitable side hustle for anyone.",
        "ROI you can count on.",
        "Get paid every week.",
        "Cashback on every order.",
        "月入五千不是梦。",
        "躺着也有被动收入。",
        "一年收入翻三番。",
    ],
)
def test_money_worded_without_a_currency_is_still_read_for_a_finance_claim(text: str) -> None:
    checker = ComplianceChecker(load_policy("en", None), check_claims=False)
    assert not checker._cannot_read_as("finance_claim", text, None)


@pytest.mark.parametrize(
    "text",
    [
        "Order now: unbeatable prices!",
        "Shop the ｂｅｓｔ",  # full-width letters
        "Shop the b\u200best",  # a zero-width space inside the word
        "Buy the w o r l d - c l a s s pan",
        "立即下单，无敌好锅",
        "立即抢购，巅峰之作",
    ],
)
def test_a_call_to_action_with_a_ranking_word_however_spelt_is_still_read(text: str) -> None:
    checker = ComplianceChecker(load_policy("en", None), check_claims=False)
    assert not checker._cannot_read_as("superlative", text, None)
    assert checker._cannot_read_as("superlative", "Shop now!", None)
