"""Issue 14, from the fifteenth blind set's misses (tuned on since stop 54): credit promised to everyone,
"first in the industry", a guarantee said as "包你", exam insiders and refunds for missing the line, a
rival alluded to by one character of its name, a prize winner's address, Australian tax and bank
numbers, a login code in groups, a trade mark glued to a banned word, and an award no document names.

The sentences are written for these tests, in other words than the blind set's; each rule has a blocked
and a passing example.
"""

from __future__ import annotations

import pytest

from knowledge.brand import Brand, BrandCompliance
from policy import ComplianceChecker, load_policy
from policy.claims import unstated_awards
from policy.findings import ComplianceFinding

pytestmark = pytest.mark.unit


def _blocking(locale: str, industry: str | None, text: str) -> set[str]:
    checker = ComplianceChecker(load_policy(locale, industry), check_claims=False)
    return {f.rule_id for f in checker.check(text) if f.severity == "block"}


BLOCKED = [
    ("en", None, "Spread the cost of your bike over 6 months. No credit check, everybody gets approved.",
     "en.credit_promise"),
    ("zh", None, "课程分期不查征信，黑户也能贷，当天秒批。", "zh.credit_promise"),
    ("zh", None, "零门槛放款，学生也能借。", "zh.credit_promise"),
    ("zh", None, "全国首创的恒温发酵工艺，只此一家。", "zh.absolute"),
    ("en", None, "Voted by locals: the 1️⃣ bakery in the city for sourdough.", "en.superlative"),
    ("zh", None, "用了这款洗发水，包你一周不掉发！", "zh.guarantee"),
    ("zh", None, "会员储值比存银行还安全，随时可退。", "zh.guarantee"),
    ("zh", "education", "冲刺班没过分数线全额退款，放心报。", "zh.education.pass_guarantee"),
    ("zh", "education", "跟着王老师学，稳稳上岸不是梦。", "zh.education.admission_guarantee"),
    ("zh", "education", "我们的主讲曾在命题组待过三年，重点他心里有数。", "zh.education.exam_insider"),
    ("en", "education", "Our founder served on the national testing board for a decade.",
     "en.education.insider_access"),
    ("en", "education", "After two sessions you will know exactly which questions are coming.",
     "en.education.insider_access"),
    ("zh", None, "某个“鹿”字打头的奶茶店，奶精兑水还敢卖三十。", "zh.disparagement"),
    ("zh", None, "上个月的冥想课，治好了她多年的焦虑症。", "zh.medical"),
    ("en", None, "Well done to our raffle winner Tom Ashby, 7 Willow Close. Your voucher is in the post.",
     "pii.address"),
    ("zh", None, "本周中奖粉丝：收件人王丽，地址成都市武侯区玉林路25号2栋301。", "pii.address"),
    ("en", None, "Thanks Priya, your tax file number 123 456 782 is saved to your account.",
     "pii.id_document"),
    ("en", None, "Refund sent to BSB 112-879, account 4471 2290.", "pii.account_number"),
    ("zh", None, "请把学费退到我妈妈的卡：6217 0000 9876 5432 100。", "pii.payment_card"),
    ("en", None, "The login code is 730 218, paste it in the team chat please.", "secret.one_time_code"),
]  # fmt: skip

PASSES = [
    ("en", None, "Check your credit score for free in the app; every application is assessed."),
    ("zh", None, "分期需通过征信审核，具体额度以审批结果为准。"),
    ("zh", None, "2016 年首家门店在成都玉林路开业。"),
    ("en", None, "Step 1 of 3 in the app: choose a plan."),
    ("zh", None, "过年的红包你收好，别弄丢了。"),
    ("zh", "education", "不过，全额退款需在开课前七天申请。"),
    ("zh", "education", "我们的老师从未进过命题组，只按公开考纲教学。"),
    ("en", "education", "The exam board publishes past papers every June; we work through them in class."),
    ("zh", None, "我们的奶茶不加奶精，只用鲜牛乳。"),
    ("zh", None, "考试季请尽量保证每天七小时睡眠。"),
    ("zh", None, "我们能保证的是每份作业 48 小时内批改完。"),
    ("zh", "cosmetics", "如果正在接受治疗，请先咨询医生再使用。"),
    ("en", None, "Winners can collect their prizes at our store, 12 High Street, Leeds."),
    ("zh", None, "中奖的朋友请到门店领取：玉林路25号。"),
    ("en", None, "Our passport photo booth is open 9 to 5 on weekdays."),
    ("zh", None, "会员卡有效期 12 个月，过期可续。"),
    ("en", "finance", "Being regulated doesn't make any fund risk-free; read the product disclosure first."),
    ("en", None, "No investment is risk-free, and our pension plan is no exception."),
]


@pytest.mark.parametrize(("locale", "industry", "text", "rule_id"), BLOCKED, ids=lambda v: str(v)[:40])
def test_the_new_wordings_are_blocked(locale: str, industry: str | None, text: str, rule_id: str) -> None:
    assert rule_id in _blocking(locale, industry, text)


@pytest.mark.parametrize(("locale", "industry", "text"), PASSES, ids=lambda v: str(v)[:40])
def test_the_look_alikes_pass(locale: str, industry: str | None, text: str) -> None:
    assert _blocking(locale, industry, text) == set()


def test_a_trade_mark_glued_to_a_banned_word_is_still_the_word() -> None:
    brand = Brand(
        name="Acme",
        positioning="test",
        locale="en",
        banned_terms=["effortless"],
        compliance=BrandCompliance(),
    )
    checker = ComplianceChecker(load_policy("en", None, brand), check_claims=False)
    found: list[ComplianceFinding] = checker.check("Yoga that feels Effortless™. Book now.")
    assert [f.matched for f in found if f.category == "banned_term"] == ["Effortless"]
    assert not [f for f in checker.check("Yoga that feels easy™. Book now.") if f.category == "banned_term"]


DOCUMENTS = [
    "Breakwater Blend won the 2022 Good Taste Award (Guild of Fine Food).",
    "萤栖修护精华获2024年「栖云美妆评选」年度新锐精华奖 [栖云美妆评选组委会]",
]


@pytest.mark.parametrize(
    "text",
    [
        "Breakwater Blend, winner of the 2023 Coffee of the Year award.",
        "Our award-winning tasting room opens on Saturdays.",  # no document mentions this award
        "萤栖精华荣获国际美妆金奖。",
        "Breakwater Blend has WON THE GOLDEN BEAN PRIZE.",
    ],
)
def test_an_award_no_document_names_is_found(text: str) -> None:
    documents = DOCUMENTS if "award-winning" not in text else ["We roast on Saturdays."]
    (found,) = unstated_awards(text, documents)
    assert text[found[0] : found[1]] and found[2]


@pytest.mark.parametrize(
    "text",
    [
        "Breakwater Blend won a Good Taste Award in 2022.",
        "Our award-winning Breakwater Blend is back.",
        "萤栖修护精华荣获栖云美妆评选年度新锐精华奖。",
        "We have never won an award, and that is fine.",
        "恭喜尾号 8421 的用户获得一等奖！",
        "Jess won this month's giveaway prize.",
    ],
)
def test_an_award_the_documents_name_or_a_prize_draw_is_not(text: str) -> None:
    assert unstated_awards(text, DOCUMENTS) == []
