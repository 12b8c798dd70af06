"""Issue 14, rule packs: everyday wordings of violations are blocked; clean copy that looks risky is not.

The sentences here were written for these tests, in other words than the training corpora
(``policy/corpus/train_t*.yaml``): each bullet of the issue has blocked and passing examples in Chinese
and English. Only the rule layer is exercised (no claim checking, no semantic layer), so a failure points
at a rule pack.
"""

from __future__ import annotations

import pytest

from policy import ComplianceChecker, load_policy, verdict_of
from policy.findings import ComplianceFinding

pytestmark = pytest.mark.unit


def _findings(locale: str, industry: str | None, text: str) -> list[ComplianceFinding]:
    checker = ComplianceChecker(load_policy(locale, industry), check_claims=False)
    return checker.check(text)


def _blocking_rules(locale: str, industry: str | None, text: str) -> set[str]:
    return {f.rule_id for f in _findings(locale, industry, text) if f.severity == "block"}


BLOCKED = [
    # superlatives disguised by circled or look-alike digits, homophones, pinyin, slang and scope
    ("zh", None, "全网第①的防晒霜，今天下单立减二十", "zh.absolute"),
    ("zh", None, "醉便宜的一次年货节，错过再等一年", "zh.absolute"),
    ("zh", None, "这款洗发水zui hao用，不接受反驳", "zh.absolute"),
    ("zh", None, "国货护肤天花板，懂的都懂", "zh.absolute"),
    ("zh", None, "史上最划算的中秋礼盒来了", "zh.absolute"),
    ("zh", None, "我吃过最牛的牛肉面，没有之一", "zh.absolute"),
    ("en", None, "The comfiest hoodie on the planet, now in sage.", "en.superlative"),
    ("en", None, "N0.1 pick of weekend bakers.", "en.superlative"),
    ("en", None, "Best. Pancakes. Ever.", "en.superlative"),
    ("en", None, "The world's most loved trail shoe.", "en.superlative"),
    ("en", None, "Ranked first in the county, no survey needed.", "en.superlative"),
    ("en", None, "The most powerful hand blender ever made.", "en.superlative"),
    # disparaging another business without naming it from a list
    ("zh", None, "某东上卖的同款全是翻新机，大家别上当", "zh.disparagement"),
    ("zh", None, "别家的火锅底料用的都是地沟油", "zh.disparagement"),
    ("zh", None, "隔壁那家健身房，教练全是骗钱的", "zh.disparagement"),
    ("zh", None, "市面上很多牌子的面膜都是智商税", "zh.disparagement"),
    ("zh", None, "不像某些跑路的平台，我们一直都在", "zh.disparagement"),
    ("en", None, "Other mattress brands are cheap junk that sags within a year.", "en.disparagement"),
    ("en", None, "Unlike the other guys, our espresso isn't burnt garbage.", "en.disparagement"),
    (
        "en",
        None,
        "A certain big-box electronics store sells refurbished laptops as new.",
        "en.disparagement_comparative",
    ),
    ("en", None, "That blue-logo airline will leave you stranded at the gate.", "en.disparagement"),
    ("en", None, "Brand X uses toxic dyes in its kids' pyjamas.", "en.disparagement_comparative"),
    # guarantees and efficacy in everyday words
    ("zh", None, "坚持用两周，斑点淡不掉直接退款", "zh.guarantee"),
    ("zh", None, "用了没效果？全额退给你", "zh.guarantee"),
    ("zh", None, "谁用谁见效，我拿人格担保", "zh.guarantee"),
    ("zh", None, "这款去屑洗发水不管用就不收钱", "zh.guarantee"),
    ("zh", None, "这款祛痘膏效果我们敢保证！", "zh.guarantee"),
    ("en", None, "Clear skin in 10 days or your money back.", "en.results_or_refund"),
    ("en", None, "If the snoring hasn't stopped in a week, we refund you.", "en.results_or_refund"),
    ("en", None, "Straighter teeth by summer, or the aligners are free.", "en.results_or_refund"),
    ("en", None, "This cream works on everybody, no exceptions.", "en.guarantee"),
    ("en", None, "Our ad bundle guarantees page-one rankings in a month.", "en.guarantee"),
    ("en", None, "Follow the plan and it will definitely work for you.", "en.guarantee"),
    # health claims as anecdotes, symptoms and medicine replacement
    ("zh", None, "我妈喝了三个月，血压稳稳的", "zh.medical"),
    ("zh", None, "每天两粒，痛风再也不犯", "zh.medical"),
    ("zh", None, "吃了一个月，胃病全好了", "zh.medical"),
    ("zh", None, "靠這款茶調理血糖，效果明顯", "zh.medical"),
    ("zh", None, "多年的鼻炎居然好了", "zh.medical"),
    ("zh", None, "喝了半年，降糖药都停了", "zh.medical"),
    ("en", None, "Since switching to our tea, my acid reflux is gone.", "en.health_effect"),
    ("en", None, "No more migraines — just two capsules a day.", "en.health_effect"),
    ("en", None, "Say goodbye to joint pain with our turmeric shots.", "en.health_effect"),
    ("en", None, "Our gummies keep your blood sugar in check.", "en.health_effect"),
    ("en", None, "Ditch the statins: our garlic extract does the job.", "en.health_effect"),
    ("en", None, "One night on this pillow and your neck stops hurting.", "en.health_effect"),
    # education outcomes handed over with the course, insiders at the exam (stop 49)
    (
        "en",
        "education",
        "Take our GMAT sprint and leave with a score of 700, simple as that.",
        "en.education.pass_guarantee",
    ),
    (
        "en",
        "education",
        "Join the MCAT programme and watch the offer letters come rolling in.",
        "en.education.admission_guarantee",
    ),
    (
        "en",
        "education",
        "Our tutors predict the actual questions for every mock board exam.",
        "en.education.insider_access",
    ),
    ("zh", "education", "托福冲刺班学完就能拿到名校offer，家长放心。", "zh.education.admission_guarantee"),
    ("zh", "education", "报名就业班，结业包入职互联网公司。", "zh.education.admission_guarantee"),
    ("zh", "education", "託福衝刺班結課穩拿100分。", "zh.education.score_promise"),
    ("zh", "education", "今年阅卷组里有我们的老师，重点一定要背熟。", "zh.education.exam_insider"),
    # endorsement by a regulator's name or a leader's family (stop 49)
    (
        "en",
        "finance",
        "Our wealth app is SEBI-approved, so invest without a second thought.",
        "en.state_endorsement",
    ),
    (
        "en",
        None,
        "The education ministry reckons every child should have our tablet.",
        "en.state_endorsement",
    ),
    ("zh", "finance", "本平台已通过证监会专项认证，资金放心交给我们。", "zh.state_endorsement"),
    ("zh", None, "好几位大领导的家人都在用这款按摩椅。", "zh.state_endorsement"),
    # finance promises paraphrased
    ("zh", "finance", "放心买，亏了有平台兜底", "zh.finance.principal_guarantee"),
    ("zh", "finance", "这款理财比存银行还安全", "zh.finance.principal_guarantee"),
    ("zh", "finance", "每月固定返息3%，到期还本", "zh.finance.return_promise"),
    ("zh", "finance", "随便买都不亏，赶紧上车", "zh.finance.principal_guarantee"),
    ("en", "finance", "Your principal is completely protected.", "en.finance.risk_free"),
    ("en", "finance", "Even in a bear market, this fund keeps paying 6%.", "en.finance.outsized_returns"),
    ("en", "finance", "A coin that can only go up.", "en.finance.risk_free"),
    ("en", "finance", "We absorb all your losses, you keep the profits.", "en.finance.risk_free"),
    # education promises paraphrased
    ("zh", "education", "报我们的班，考不上研全额退费", "zh.education.pass_guarantee"),
    ("zh", "education", "签约班过不了，明年免费重学", "zh.education.pass_guarantee"),
    ("zh", "education", "托福保100分，报名从速", "zh.education.score_promise"),
    ("zh", "education", "交钱就能进重点中学", "zh.education.exam_insider"),
    ("en", "education", "Pass your bar exam on the first try or get a full refund.", "en.results_or_refund"),
    ("en", "education", "Hit 1500 on the SAT or your tuition is refunded.", "en.results_or_refund"),
    ("en", "education", "Our insiders at the exam board help.", "en.education.insider_access"),
    ("en", "education", "With our method, failing the GRE is impossible.", "en.education.pass_guarantee"),
    # authority endorsement by paraphrase
    ("zh", None, "这套练习册被教育局指定为课堂用书", "zh.state_endorsement"),
    ("zh", None, "省长都点赞的桂林米粉", "zh.state_endorsement"),
    ("zh", None, "国家队运动员都在喝的蛋白粉", "zh.state_endorsement"),
    ("zh", None, "某部委推荐的指定用品，送礼有面子", "zh.state_endorsement"),
    ("en", None, "Recommended by the Ministry of Health for daily use.", "en.state_endorsement"),
    ("en", None, "The sunscreen the US Army trusts.", "en.state_endorsement"),
    ("en", None, "Officially endorsed by the national food agency.", "en.state_endorsement"),
    ("en", None, "Backed by the Federal Reserve, so your savings can relax.", "en.state_endorsement"),
    # stop 53, from the fourteenth blind set's misses (a tuning set since), in new sentences: finance and
    # job promises in any industry's copy, Cantonese refunds, a hospital's grade as endorsement, exam
    # papers that "hit", a product in place of medication, a regulator that "loves" a product, a value that
    # only rises, past returns as a floor
    ("zh", "cosmetics", "加盟我们的美容院，总部兜底，三年回本。", "zh.guarantee"),
    ("zh", "cosmetics", "美妆学院结业包分配到合作门店。", "zh.guarantee"),
    ("zh", None, "储值会员每月返息，本金永不缩水。", "zh.guarantee"),
    ("zh", None, "用咗两个礼拜冇效果，全数退钱俾你。", "zh.guarantee"),
    ("zh", "cosmetics", "经三甲医院皮肤科临床验证，修护力看得见。", "zh.state_endorsement"),
    ("zh", "education", "我们的冲刺卷去年命中率超过八成。", "zh.education.exam_insider"),
    (
        "en",
        "health_food",
        "Since starting our gummies, my son no longer needs his inhaler.",
        "en.health_effect",
    ),
    ("en", None, "The NHS loves our sunscreen, honestly.", "en.state_endorsement"),
    ("en", None, "Our vintage tins only go up in value, so buy two.", "en.guarantee"),
    (
        "en",
        "finance",
        "Last year we returned 5%, so you can bank on that again next year.",
        "en.finance.guaranteed_returns",
    ),
    ("en", "education", "Finish the Data Track, placement guaranteed.", "en.education.job_placement"),
]

PASSES = [
    # advice, own-store and wish uses of "best"/"最"; sourced rankings and awards
    ("zh", None, "每年四月是最佳赏花季节，记得带伞"),
    ("zh", None, "店里最受欢迎的是桂花拿铁"),
    ("zh", None, "我们最大的心愿，是每位客人都吃得开心"),
    ("zh", None, "荣获“2023城市咖啡大赏·最佳烘焙”（都市生活周刊评选）"),
    ("zh", None, "在本店销量排名第一（数据来源：门店收银系统，2024年全年）"),
    ("en", None, "For best results, apply to damp hair."),
    ("en", None, "Rated No. 1 for service in the 2024 Greenfield Shopper Survey."),
    ("en", None, "Make the most of your weekend in town with our city guide."),
    ("en", None, "Our best seller ships worldwide."),
    ("en", None, "The fastest way to our store in the city centre is by tram."),
    ("zh", None, "我最好的朋友推荐了这家店"),
    ("zh", None, "这次活动最大折扣五折"),
    ("zh", "education", "孩子，你是最棒的！"),
    ("zh", None, "最靠谱的做法是先咨询医生"),
    ("en", None, "Everest, the highest mountain in the world, is on our trekking list."),
    # route, platform and model numbers
    ("en", None, "Take Gate #1 to reach the food court."),
    ("en", None, "Model No. 1 blenders are no longer covered by the warranty."),
    ("en", None, "Board at platform no. 1 for the airport express."),
    # neutral mentions of other businesses
    ("zh", None, "隔壁的花店今天也有活动，欢迎顺路逛逛"),
    ("zh", None, "和其他品牌相比，我们的保修期多一年（以官网为准）"),
    ("en", None, "Works with other brands' chargers too."),
    ("en", None, "Unlike other brands, we ship in recycled boxes."),
    ("en", None, "Unlike other apps, we never sell your data."),
    ("en", None, "Unlike other brands, ours is non-toxic and vegan."),
    # refund, cancellation, delivery and authenticity policies
    ("zh", None, "收到商品7天内可无理由退货"),
    ("zh", None, "保证正品，假一赔三"),
    ("zh", None, "我们保证48小时内发货"),
    ("zh", "education", "开课前7天可申请全额退费，开课后按课时退费"),
    ("zh", "education", "我们不承诺分数，只保证每节课认真备课"),
    ("zh", "education", "报名后如需取消，请提前三天告知，否则不予退费"),
    ("zh", "education", "报名资格审核未通过，全额退款"),
    ("en", None, "Orders ship within one business day, guaranteed."),
    ("en", None, "Your table is guaranteed until 8 pm on the night of the booking."),
    ("zh", None, "新鲜保证：当天采摘当天发货"),
    ("en", None, "Love it or your money back."),
    ("en", None, "If your order doesn't arrive by Friday, we'll refund your shipping."),
    ("en", "education", "Cancel within 14 days of purchase for a full refund."),
    # required disclaimers and negations
    ("zh", None, "本品不能代替药物治疗疾病，请遵医嘱"),
    ("zh", None, "本品为普通食品，不具有疾病预防或治疗功能"),
    ("zh", "finance", "本产品不保证本金安全，过往业绩不代表未来表现"),
    ("zh", "finance", "我们不承诺收益，但会讲清楚每一项费用"),
    ("zh", "finance", "买之前先算一算，亏不亏得起"),
    ("zh", None, "亲，这款是普通食品，不能治疗胃病，建议就医"),
    ("en", None, "Our cosmetics are not intended to treat any disease."),
    ("en", "finance", "Past performance is no guarantee of future results."),
    ("en", "finance", "Deposits are FDIC-insured up to $250,000 per depositor."),
    ("en", "finance", "Stay invested whatever the market does: that is the discipline."),
    # idioms and figurative uses of medical words
    ("zh", None, "治愈系的海边日落，拍给你看"),
    ("zh", None, "这杯热可可，疗愈一下被工作掏空的周一"),
    ("en", None, "A little cure for the Monday blues."),
    ("en", None, "Chocolate cake: the remedy for a bad day."),
    ("en", None, "Detox your inbox with our weekly digest."),
    ("en", None, "It stops hurting to pay full price once you join the club."),
    ("zh", None, "天气转凉，注意防止感冒，出门记得戴口罩"),
    # factual licences and public standards, not endorsement
    ("zh", None, "本店食品经营许可证由市市场监督管理局核发"),
    ("zh", None, "课程依据教育部发布的课程标准设计"),
    ("zh", None, "政府消费补贴活动的指定门店可用"),
    ("zh", "education", "本班专为备战国家级数学竞赛设计"),
    ("en", None, "Licensed by the State Department of Insurance, license No. 12345."),
    ("en", None, "The CDC recommends washing hands for 20 seconds."),
    # stop 53: the same rules leave a refusal to promise and a place named beside a hospital alone
    ("zh", "education", "本课程不包分配，也不承诺就业。"),
    ("zh", None, "我们在三甲医院附近开了新门店。"),
    ("en", "health_food", "Keep taking any medication your doctor prescribed; our tea is not a substitute."),
    ("en", "finance", "Past returns are no guide: you cannot count on the same again."),
]


@pytest.mark.parametrize(("locale", "industry", "text", "rule_id"), BLOCKED, ids=lambda v: str(v)[:40])
def test_everyday_wording_of_a_violation_is_blocked(
    locale: str, industry: str | None, text: str, rule_id: str
) -> None:
    findings = _findings(locale, industry, text)
    assert verdict_of(findings) == "block", text
    assert rule_id in _blocking_rules(locale, industry, text), [(f.rule_id, f.matched) for f in findings]


@pytest.mark.parametrize(("locale", "industry", "text"), PASSES, ids=lambda v: str(v)[:40])
def test_clean_copy_that_looks_risky_is_not_blocked(locale: str, industry: str | None, text: str) -> None:
    findings = _findings(locale, industry, text)
    assert _blocking_rules(locale, industry, text) == set(), [(f.rule_id, f.matched) for f in findings]


def test_a_disclaimer_in_the_same_sentence_does_not_clear_the_claim() -> None:
    # the disclaimer's span is exempt, the claim next to it is not
    text = "喝了一个月血压稳多了，保健食品不是药物，不能代替药物治疗疾病。"
    assert "zh.medical" in _blocking_rules("zh", None, text)
    text = "It reverses diabetes in weeks. Results may vary."
    assert "en.health_effect" in _blocking_rules("en", None, text)


def test_findings_point_at_the_violation() -> None:
    text = "每天两粒，痛风再也不犯。"
    [finding] = [f for f in _findings("zh", None, text) if f.rule_id == "zh.medical"]
    assert finding.span is not None and text[finding.span[0] : finding.span[1]] == finding.matched
    assert finding.matched.startswith("痛风") and finding.legal_reference


IDIOMS_AND_DISCLAIMERS = [
    ("zh", "治愈系的海边日落，拍给你看"),
    ("zh", "本品不能代替药物治疗疾病，请遵医嘱"),
    ("zh", "保健食品不是药物，不能代替药物治疗疾病"),
    ("en", "A little cure for the Monday blues."),
    ("en", "Chocolate cake: the remedy for a bad day."),
    ("en", "This product is not intended to treat any disease."),
]


@pytest.mark.parametrize("industry", [None, "cosmetics", "health_food", "finance", "education"])
def test_idioms_and_disclaimers_pass_under_every_industry_pack(industry: str | None) -> None:
    blocked = [(text, _blocking_rules(loc, industry, text)) for loc, text in IDIOMS_AND_DISCLAIMERS]
    assert [b for b in blocked if b[1]] == []


@pytest.mark.parametrize(
    ("locale", "industry", "text", "rule"),
    [
        # the legal faults stop 40's blind reviewer found in delivered pieces
        ("en", None, "Enjoy the freshest coffee on the Oregon coast.", "en.superlative"),
        ("en", None, "A lifetime of cooking without worrying about rust or corrosion.", "en.guarantee"),
        ("zh", None, "我们的团队由藏族向导和摄影领队组成，确保旅行的安全性和舒适度。", "zh.guarantee"),
        (
            "zh",
            "education",
            "让每个孩子都能在动手实践中学习逻辑思维和解决问题的能力。",
            "zh.education.ability_claim",
        ),
    ],
)
def test_stop_40_legal_faults_are_found(locale: str, industry: str | None, text: str, rule: str) -> None:
    found = ComplianceChecker(load_policy(locale, industry)).check(text)
    assert rule in {f.rule_id for f in found}, found


@pytest.mark.parametrize(
    ("locale", "industry", "text"),
    [
        ("en", None, "The best way to brew it is a pour-over on the Oregon coast."),
        ("zh", None, "为确保安全，请在出发前阅读装备清单。"),
        ("zh", "education", "孩子在课上学习用 Scratch 做一个会动的小游戏。"),
    ],
)
def test_stop_40_rules_leave_plain_sentences_alone(locale: str, industry: str | None, text: str) -> None:
    found = ComplianceChecker(load_policy(locale, industry)).check(text)
    assert not [f for f in found if f.layer == "rules" and f.category != "unsupported_claim"], found
