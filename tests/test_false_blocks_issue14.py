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
- A claim the clause says nobody can make ("No coach can guarantee…", "没有哪家机构能保证…", "no such thing
  as a risk-free fund"), a required disclaimer ("不能代替药物治疗…") and a referral to a doctor of someone
  under treatment are not the claim; a listed rival named as a plain fact (switching from it, also sold
  at it) is no disparagement unless the sentence runs someone down or makes its customers an offer.

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
        # warned off as scams, fakes or traps, or dismissed (stop 49)
        ("en", 'Fraudsters promise "guaranteed returns"; we never will, so please report them.'),
        ("en", 'If a tutor advertises a "guaranteed pass", walk away.'),
        ("en", 'We would never call our green juice a "detox" drink.'),
        ("zh", "朋友圈里说“喝了能降血压”的，一律别信，食品就是食品。"),
        ("zh", "外包装写着“增强免疫力”的都是假冒货，正品包装没有这句话。"),
        ("zh", "所谓“稳赚不赔”的产品，多半藏着坑，请直接划走。"),
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


# --- Stop 46: a claim said to be impossible, a disclaimer, a listed rival named as a plain fact ---------


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("en", "There's no such thing as a risk-free fund, so every factsheet shows the worst year."),
        ("en", "No coach can guarantee a place, but we can guarantee twelve hours of practice."),
        ("en", "This balm is not a substitute for medical treatment of psoriasis."),
        ("en", "If you're being treated for rosacea, ask your doctor before adding our serum."),
        ("zh", "没有哪家机构能保证你一定上岸，我们只负责把课表排满。"),
        ("zh", "本品为普通化妆品，不能代替药物治疗皮肤疾病。"),
        ("zh", "如果您正在服用降糖药物治疗糖尿病，请先咨询医生再饮用。"),
        ("zh", '世上没有"稳赚"这回事，请理性投资。'),
    ],
)
def test_a_claim_said_to_be_impossible_or_disclaimed_is_not_made(locale: str, text: str) -> None:
    assert not _rules(locale, text), _rules(locale, text)


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("en", "Our coaching is guaranteed to get you the place."),
        ("en", "Our balm treats psoriasis in two weeks."),
        ("zh", "报我们的班，保证你一定上岸。"),
        ("zh", "如果您有糖尿病，喝我们的燕麦就能降血糖，不用看医生。"),
        ("zh", "本品能治疗湿疹，三天见效。"),
    ],
)
def test_the_same_claims_made_still_block(locale: str, text: str) -> None:
    assert _rules(locale, text)


def _with_rivals(locale: str, text: str, rivals: list[str]) -> set[str]:
    from knowledge.brand import Brand

    brand = Brand(name="Lumo", positioning="Lumo", locale=locale, industry="finance", competitors=rivals)
    checker = ComplianceChecker(load_policy(locale, "finance", brand), check_claims=False)
    return {f.rule_id for f in checker.check(text) if f.severity == "block"}


@pytest.mark.parametrize(
    ("locale", "text", "expect"),
    [
        ("en", "Moving over from Kestrel Bank? Your standing orders follow you in seven days.", "pass"),
        ("en", "Lumo cards are also sold at Kestrel Bank branches in Scotland.", "pass"),
        ("zh", "从青禾理财转入的用户，在 App 里选择“跨平台转入”即可。", "pass"),
        ("zh", "Lumo 礼盒同时在青禾理财线下网点有售。", "pass"),
        # side by side as a fact, or used alongside (stop 50, twelfth blind set, tuned on)
        ("en", "Lumo and Kestrel Bank both publish their fees, so compare them before you switch.", "pass"),
        ("en", "Our planners work alongside your Kestrel Bank pension if you already hold one.", "pass"),
        ("zh", "常有人问 Lumo 和青禾理财是不是同一家公司：不是，两家互不相干。", "pass"),
        ("en", "Lumo and Kestrel Bank both charge fees, but only Kestrel Bank hides them.", "block"),
        ("en", "Moving over from Kestrel Bank? Unlike them, we never hide a fee.", "block"),
        ("en", "Switching from Kestrel Bank? Get a £50 bonus when you do.", "block"),
        ("en", "Kestrel Bank is a rip-off.", "block"),
        ("zh", "从青禾理财转入吧，别再被割韭菜了。", "block"),
    ],
)
def test_a_listed_rival_named_as_a_plain_fact_is_no_disparagement(
    locale: str, text: str, expect: str
) -> None:
    found = "brand.competitor" in _with_rivals(locale, text, ["Kestrel Bank", "青禾理财"])
    assert found == (expect == "block")


# --- Stop 47: a promise said not to be made, quoted terms in a row, a warning against a claim ----------


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("zh", "我们不能保证理财一定赚钱，也不承诺固定收益，请看清风险。"),
        ("zh", "我们的菜单上从没有“排毒”“燃脂”这类词，只有食材和做法。"),
        ("zh", "凡是号称“稳赚不赔”的理财，多半是骗局，请勿轻信。"),
        ("zh", "任何宣称保本保息的产品都请提高警惕。"),
        ("en", "We can't promise every student a band 8, and nobody honest would."),
        ("en", "Anyone selling 'guaranteed' returns is running a scam: walk away."),
    ],
)
def test_a_promise_denied_or_warned_against_is_not_made(locale: str, text: str) -> None:
    assert not _rules(locale, text), _rules(locale, text)


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("zh", "我们保证理财一定赚钱，承诺固定收益。"),
        ("zh", "我们不收手续费，保证本金安全。"),  # the denial is of something else
        ("zh", "这款茶能排毒燃脂，一周见效。"),
        ("en", "We guarantee every student a band 8."),
        ("en", "Our 'guaranteed' returns beat the bank every year."),
    ],
)
def test_the_promise_made_still_blocks(locale: str, text: str) -> None:
    assert _rules(locale, text)


def test_the_classifier_does_not_read_a_rejected_term_back_into_a_sentence() -> None:
    """The semantic layer reads "我们从不说“排毒”" as the health claim it rejects: in a sentence whose
    rule matches were all rejected, those categories (and an unsupported claim) do not block; the same
    words used as a claim still do."""
    assert _with_semantic("zh", "我们从不说“排毒”“燃脂”这类词，燕麦就是一份好好吃的早餐。") == "pass"
    assert _with_semantic("zh", "这款燕麦能排毒燃脂，一周瘦五斤。") == "block"


@pytest.mark.parametrize(
    ("text", "blocked"),
    [
        ("Lumo | The UK's N°1 budgeting app", True),
        ("Britain's number 1 easy-access saver.", True),
        ("Cabin number 1 sleeps two and has its own deck.", False),
    ],
)
def test_a_rank_written_with_a_degree_sign_or_owned_by_a_place_is_a_superlative(
    text: str, blocked: bool
) -> None:
    assert ("en.superlative" in _rules("en", text)) is blocked


def _zh(industry: str, text: str) -> set[str]:
    checker = ComplianceChecker(load_policy("zh", industry), check_claims=False)
    return {f.rule_id for f in checker.check(text) if f.severity == "block"}


@pytest.mark.parametrize(
    ("industry", "text", "blocked"),
    [
        ("education", "跟着我们的课表走，小白也一定能考过，考不过算我的。", True),
        ("education", "报了班，妈妈从此再也不用为作业发愁。", True),
        ("finance", "年化6.5%稳稳到手，到期本金一分不少。", True),
        ("finance", "打开提醒，再也不会错过任何一次调仓机会。", True),
        ("travel", "向导全程陪同，确保您能够安全、轻松地走完全程。", True),
        ("travel", "我们确保您能够按时收到行前说明。", False),
        ("education", "这门课不一定能让你考过，但每道错题都有老师讲。", False),
        ("education", "在线约课上线，再也不用打电话排队了。", False),
        ("finance", "设置到账提醒，工资到了会第一时间通知你。", False),
    ],
)
def test_a_guarantee_in_everyday_words_blocks_and_a_convenience_does_not(
    industry: str, text: str, blocked: bool
) -> None:
    assert bool(_zh(industry, text)) is blocked, _zh(industry, text)


def test_a_banned_word_inside_a_streets_name_is_an_address() -> None:
    from knowledge.brand import Brand

    brand = Brand(
        name="启航", positioning="启航", locale="zh", industry="education", banned_terms=["状元", "押题"]
    )
    checker = ComplianceChecker(load_policy("zh", "education", brand), check_claims=False)
    blocked = {
        f.rule_id for f in checker.check("新校区搬到了状元坊路 66 号，周末开放。") if f.severity == "block"
    }
    assert not blocked, blocked
    assert "brand.banned_term" in {f.rule_id for f in checker.check("师资全是高考状元，押题特别准。")}


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("zh", "我们不敢说自己是最好的，只敢把检测报告放在详情页第一张。"),
        ("en", "We won't claim to be the cheapest gym in town, but there is no joining fee."),
        ("zh", "节假日期间暂停交易，申购顺延至节后首个交易日确认。"),
    ],
)
def test_a_superlative_the_brand_declines_and_a_first_trading_day_are_no_superlative(
    locale: str, text: str
) -> None:
    """Stop 49 (the eleventh blind set's false blocks, then tuned on): a superlative said not to be claimed,
    and "首个交易日" (the first trading day after a holiday)."""
    assert not _rules(locale, text)
    assert _rules("zh", "我们就是全城最好的健身房") and _rules("zh", "全国首个获此认证的品牌")


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("en", "Check the best before date on the lid before you open the jar."),
        ("en", "Holding a licence doesn't mean the government endorses our savings plans."),
        ("en", "We won't tell you this balm heals eczema: it is a plain moisturiser."),
        ("zh", "我们保证在 24 小时内回复您的退款申请。"),
        ("zh", "有學員問「報了班保證包過嗎？」答案是不能保證，考試靠自己。"),
        ("zh", "有人说「保本高收益」？告诉大家：这样的产品根本不存在。"),
        ("zh", "任何承諾保本保息的電話推銷都可能是詐騙。"),
        ("zh", "本品係普通食品，唔可以代替藥物治療疾病。"),
    ],
)
def test_a_claim_declined_refuted_or_a_service_time_is_not_made(locale: str, text: str) -> None:
    """Stop 50 (the twelfth blind set's false blocks, tuned on): "the best before date", "doesn't mean
    the government endorses", "we won't tell you … heals", a promise of a reply time, a quoted claim asked
    about and answered no (in Traditional characters too), "任何承诺…都可能是诈骗", a Cantonese
    disclaimer. These sentences were written for this test."""
    assert not _rules(locale, text), _rules(locale, text)


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("en", "You won't find a better protein bar from Leeds to London."),
        ("en", "There simply isn't a better maths tutor anywhere in Manchester."),
        ("en", "We promise you will never feel bloated again."),
        ("en", "Our government endorses this balm for eczema."),
        ("zh", "我们保证在考试中拿高分。"),
        ("zh", "这款奶茶的口感，全城你找不出第二家。"),
        ("zh", "零基础也能学，学不会算我们的。"),
        ("zh", "上过央视的那款酸奶，就是我们家的。"),
        ("zh", "有人问我们能不能保本？当然能，稳赚不赔。"),
    ],
)
def test_the_claims_declined_above_made_instead_still_block(locale: str, text: str) -> None:
    assert _rules(locale, text)


def test_emoji_between_letters_and_accented_pinyin_do_not_hide_a_term() -> None:
    """ "g🧠e🧠n🧠i🧠u🧠s" is "genius" and "wěn zhuàn" is "wen zhuan" to the rules (twelfth blind set, tuned
    on); a brand's banned term is found through both."""
    from knowledge.brand import Brand
    from policy.text import fold_str, simplified_in_place

    assert fold_str("wěn zhuàn bù péi") == "wen zhuan bu pei" and fold_str("Café") == "cafe"
    assert fold_str("ひらがな") == "ひらがな"  # other scripts' marks stay
    assert simplified_in_place("承諾保本") == "承诺保本" and len(simplified_in_place("臺灣")) == 2
    en = Brand(name="Fernway", positioning="Fernway", locale="en", banned_terms=["genius"])
    zh = Brand(name="青屿", positioning="青屿", locale="zh", banned_terms=["秒杀", "学霸"])
    for brand, text in (
        (en, "A course for the next g🧠e🧠n🧠i🧠u🧠s in your family."),
        (zh, "今晚八点，秒🔥杀价上线。"),
        (zh, "三个月从学渣到 xué bà 的故事。"),
    ):
        checker = ComplianceChecker(load_policy(brand.locale, None, brand), check_claims=False)
        assert "brand.banned_term" in {f.rule_id for f in checker.check(text)}, text
    checker = ComplianceChecker(load_policy("en", None, en), check_claims=False)
    assert not checker.check("Fernway courses for curious minds in your family.")


@pytest.mark.parametrize(
    ("locale", "text", "blocks"),
    [
        ("en", "Honestly, this travel mug is the GOAT of commuter gear.", True),
        ("en", "Our blender wipes the floor with every other one on the shelf.", True),
        ("en", "Our farm's goat cheese is made every Tuesday.", False),
        ("en", "Spill some coffee? Wipe the floor with a damp cloth.", False),
        ("en", "Ridgeway: The Original Camp Stove", True),  # stop 50's blog title, in other words
        ("en", "The original packaging must be kept for a return.", False),
        ("en", "Compared with the original edition, the new one is lighter.", False),
        ("zh", "报名就承诺帮你三个月内 offer 到手。", True),
        ("zh", "完成实训后名企内推直通，不用排队。", True),
        ("zh", "去年有学员拿到了 offer，我们替他高兴。", False),
    ],
)
def test_slang_for_the_best_and_an_offer_promised_in_hand(locale: str, text: str, blocks: bool) -> None:
    """Rules added when the retrained semantic layer (stop 51) stopped catching two of the eighth blind set's
    sentences: "the GOAT of…", "wipes the floor with…", "promise…offer 拿到手", "…内推直通"; and "The
    Original …" as a heading (stop 50's Hearthline blog title, stopped by both blind reviewers)."""
    industry = "education" if locale == "zh" else None
    checker = ComplianceChecker(load_policy(locale, industry), check_claims=False)
    assert any(f.severity == "block" for f in checker.check(text)) is blocks, text


@pytest.mark.parametrize(
    ("locale", "text", "blocks"),
    [
        ("en", "Until Friday, the recovery code for the shared inbox is here: 2290-4417-8830.", True),
        ("en", "Door's the blue one, and the wifi password's harbour-2261 if you need it.", True),
        ("en", "The password's length must be at least 12 characters.", False),
        ("en", "Print your own recovery codes from the settings page.", False),
        ("zh", "测试环境的 token 是 tk-live-88af02c9d1e7，用完记得删。", True),
        ("zh", "前台抽屉里的钥匙 key 是红色那把。", False),
    ],
)
def test_a_backup_code_a_password_given_with_s_and_a_key_given_with_shi(
    locale: str, text: str, blocks: bool
) -> None:
    """The thirteenth blind set (stop 51, tuned on after it was sealed): a 2FA backup code in groups of
    digits, "the password's …", and "key 是 …" in Chinese copy gave their secrets unblocked."""
    checker = ComplianceChecker(load_policy(locale, None), check_claims=False)
    assert any(f.severity == "block" for f in checker.check(text)) is blocks, text


@pytest.mark.parametrize(
    ("locale", "industry", "text", "blocks"),
    [
        ("en", "finance", "No savings account is risk-free; read the terms before you open one.", False),
        ("en", "finance", "This savings account is risk-free.", True),
        ("en", "health_food", "People ask whether our tea can 'cure' a cold: it can't.", False),
        ("en", "health_food", "People ask whether our tea can 'cure' a cold: it does, in a day.", True),
        ("en", "health_food", "Our tea can 'cure' a cold: it works overnight.", True),
        ("zh", "education", "常有人问冲刺班是不是真能包过，我们的回答是：任何老师都不可能包过。", False),
        ("zh", "education", "是不是真能包过？能！报名就包过。", True),
    ],
)
def test_a_claim_refuted_in_its_own_sentence_is_not_the_claim(
    locale: str, industry: str, text: str, blocks: bool
) -> None:
    """The thirteenth blind set (stop 51, a tuning set since) blocked clean sentences that refute the claim
    they name: "No investment is risk-free", "whether oat drink can 'cure' diabetes: it can't", "任何机构都不
    可能包过". A claim asked about and answered no, or said of no such thing, is mentioned, not made."""
    checker = ComplianceChecker(load_policy(locale, industry), check_claims=False)
    assert any(f.severity == "block" for f in checker.rule_findings(text)) is blocks, text
