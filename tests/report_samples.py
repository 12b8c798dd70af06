"""Campaigns for the report and studio tests: one per language, with a passed, a revised, a blocked and an
undelivered piece, revisions with their before and after text, and findings with and without spans."""

from __future__ import annotations

from agents.state import (
    BrandSummary,
    Campaign,
    CampaignStats,
    ComplianceFinding,
    ComplianceResult,
    CreativeBrief,
    KeyMessage,
    Piece,
    RetrievedPassage,
    Revision,
    StepFailure,
    TraceEntry,
)
from policy.findings import EvidenceRef

EN_PASSAGES = [
    RetrievedPassage(
        id="knowledge/beans.md#0",
        alias="P1",
        doc="knowledge/beans.md",
        text="Every bag is roasted to order and shipped within 48 hours of roasting.",
        score=0.8,
    ),
    RetrievedPassage(
        id="knowledge/faq.md#2",
        alias="P2",
        doc="knowledge/faq.md",
        text="Unopened bags can be returned within 30 days for a full refund.",
        score=0.7,
    ),
]

ZH_PASSAGES = [
    RetrievedPassage(
        id="knowledge/课程.md#0",
        alias="P1",
        doc="knowledge/课程.md",
        text="青屿小班编程课每班最多 8 人，孩子每一期都亲手做出能运行的作品。",
        score=0.8,
    ),
    RetrievedPassage(
        id="knowledge/退费.md#1",
        alias="P2",
        doc="knowledge/退费.md",
        text="开课后两周内可申请退还未上课时的学费。",
        score=0.7,
    ),
]


POST_TEXT = "Our beans are roasted to order and shipped within 48 hours. #FreshCoffee #Tidewater"


def _stats() -> CampaignStats:
    return CampaignStats(
        seconds=42.5,
        llm_calls=3,
        prompt_tokens=1200,
        completion_tokens=340,
        cached_prompt_tokens=0,
        llm_seconds=40.0,
    )


def _trace() -> list[TraceEntry]:
    return [
        TraceEntry(
            step="strategist",
            agent="strategist",
            prompt="strategist.brief@3",
            prompt_hash="abc",
            backend="llamacpp",
            model="qwen2.5-1.5b",
            prompt_tokens=600,
            completion_tokens=200,
            seconds=20.0,
        ),
        TraceEntry(
            step="copywriter",
            agent="copywriter",
            channel="search_ad",
            prompt="copywriter.draft@5",
            prompt_hash="def",
            backend="llamacpp",
            model="qwen2.5-1.5b",
            prompt_tokens=600,
            completion_tokens=140,
            seconds=20.0,
            ok=False,
            error="timeout",
        ),
    ]


def en_campaign(*, failed: bool = False) -> Campaign:
    """An English campaign: a passed search ad, a revised social post, a blocked e-mail and a reply."""
    ad = Piece(
        channel="search_ad",
        fields={
            "headline_1": "Roasted to Order",
            "headline_2": "Shipped Within 48 Hours",
            "headline_3": "Order Your Bag Today",
            "description_1": "Every bag is roasted to order and shipped within 48 hours of roasting.",
            "description_2": "Unopened bags can be returned within 30 days. Order yours now.",
        },
        citations=["knowledge/beans.md#0", "knowledge/faq.md#2"],
        compliance=ComplianceResult(verdict="pass"),
        drafted={
            "headline_1": "Roasted to Order",
            "headline_2": "Shipped Within 48 Hours",
            "headline_3": "Order Your Bag Today",
            "description_1": "Every bag is roasted to order and shipped within 48 hours of roasting.",
            "description_2": "Unopened bags can be returned within 30 days. Order yours now.",
        },
    )
    post = Piece(
        channel="social_post",
        fields={"text": POST_TEXT},
        citations=["knowledge/beans.md#0"],
        compliance=ComplianceResult(
            verdict="revised",
            findings=[
                ComplianceFinding(
                    rule_id="ad_law.absolute_terms",
                    category="absolute_claim",
                    severity="block",
                    explanation="absolute term 'the best' is banned in advertising",
                    field="text",
                    span=(0, 8),
                    matched="the best",
                    suggestion="say what makes it good instead",
                    legal_reference="Advertising Law Art. 9(3)",
                    fixed=True,
                )
            ],
        ),
        revisions=[
            Revision(
                round=1,
                by="compliance",
                requests=["text: absolute term 'the best' is banned; say what makes it good instead"],
                before={"text": "The best beans, roasted to order and shipped within 48 hours. #FreshCoffee"},
                after={"text": POST_TEXT},
            )
        ],
        drafted={"text": "The best beans, roasted to order and shipped within 48 hours. #FreshCoffee"},
    )
    body = (
        "Hi there,\n\nEvery bag is roasted to order and shipped within 48 hours of roasting. "
        "This coffee cures headaches and boosts your immune system. Order today.\n\nThe Tidewater team"
    )
    cure = body.index("cures headaches")
    email = Piece(
        channel="email",
        fields={"subject": "Fresh Coffee, Roasted For You", "preheader": "Roasted to order", "body": body},
        citations=["knowledge/beans.md#0"],
        compliance=ComplianceResult(
            verdict="blocked",
            findings=[
                ComplianceFinding(
                    rule_id="health.medical_claim",
                    category="medical_claim",
                    severity="block",
                    explanation="a food may not claim to treat or cure a disease",
                    field="body",
                    span=(cure, cure + len("cures headaches")),
                    matched="cures headaches",
                    suggestion="remove the health claim",
                    legal_reference="Food Safety Law Art. 73",
                    evidence=[EvidenceRef(passage="knowledge/beans.md#0", score=0.41, supports=False)],
                ),
                ComplianceFinding(
                    rule_id="quality.too_short",
                    category="quality",
                    severity="warn",
                    explanation='"body" has 35 words; it should have at least 60',
                    field="body",
                ),
            ],
        ),
        revisions=[
            Revision(
                round=1,
                by="reviewer",
                requests=["body: add a call to action"],
                before={"subject": "Fresh Coffee", "preheader": "Roasted to order", "body": body},
                after={
                    "subject": "Fresh Coffee, Roasted For You",
                    "preheader": "Roasted to order",
                    "body": body,
                },
            )
        ],
        drafted={"subject": "Fresh Coffee", "preheader": "Roasted to order", "body": body},
    )
    reply = Piece(
        channel="cs_reply",
        fields={},
        citations=[],
        compliance=ComplianceResult(
            verdict="blocked",
            findings=[
                ComplianceFinding(
                    rule_id="pipeline.incomplete",
                    category="generation",
                    severity="block",
                    explanation="the run stopped before this channel was written",
                )
            ],
        ),
        inputs={"question": "How fresh is the coffee when it arrives?"},
    )
    pieces = [ad, post, email] + ([reply] if failed else [])
    return Campaign(
        brand=BrandSummary(
            name="Tidewater", positioning="Small-batch coffee, roasted to order", locale="en", industry="food"
        ),
        pipeline="default",
        backend="llamacpp",
        model="qwen2.5-1.5b",
        brief=CreativeBrief(
            audience_insight="Coffee drinkers who want beans that are actually fresh",
            key_messages=[
                KeyMessage(text="Roasted to order, shipped in 48 hours", citations=["knowledge/beans.md#0"])
            ],
            tone="warm, plain",
            channel_angles={"email": "freshness you can taste"},
        ),
        pieces=pieces,
        trace=_trace(),
        passages=EN_PASSAGES,
        stats=_stats(),
        failure=StepFailure(step="copywriter", reason="backend", message="the server closed the connection")
        if failed
        else None,
    )


def zh_campaign() -> Campaign:
    """A Chinese campaign: a revised search ad, a blog, and a reply blocked for a refund promise."""
    ad = Piece(
        channel="search_ad",
        fields={
            "headline_1": "青屿小班编程课",
            "headline_2": "每班最多 8 人",
            "headline_3": "立即预约试听",
            "description_1": "青屿小班编程课每班最多 8 人，孩子每一期都亲手做出能运行的作品。",
            "description_2": "开课后两周内可申请退还未上课时的学费，现在就预约试听。",
        },
        citations=["knowledge/课程.md#0", "knowledge/退费.md#1"],
        compliance=ComplianceResult(
            verdict="revised",
            findings=[
                ComplianceFinding(
                    rule_id="ad_law.absolute_terms",
                    category="absolute_claim",
                    severity="block",
                    explanation="广告不得使用“最好”等绝对化用语",
                    field="headline_1",
                    matched="最好",
                    suggestion="删去绝对化用语",
                    legal_reference="《中华人民共和国广告法》第九条第（三）项",
                    fixed=True,
                )
            ],
        ),
        revisions=[
            Revision(
                round=1,
                by="compliance",
                requests=["headline_1: 广告不得使用“最好”等绝对化用语"],
                before={"headline_1": "最好的少儿编程课"},
                after={"headline_1": "青屿小班编程课"},
            )
        ],
        drafted={"headline_1": "最好的少儿编程课"},
    )
    blog_body = "青屿小班编程课每班最多 8 人。孩子每一期都亲手做出能运行的作品。" * 6
    blog = Piece(
        channel="blog",
        fields={"title": "让孩子把想法变成作品", "body": blog_body},
        citations=["knowledge/课程.md#0"],
        compliance=ComplianceResult(verdict="pass"),
    )
    reply_text = "您好！开课后两周内可申请退还未上课时的学费。保证孩子一定考上重点中学。"
    promise = reply_text.index("保证孩子一定考上重点中学")
    reply = Piece(
        channel="cs_reply",
        fields={"reply": reply_text},
        citations=["knowledge/退费.md#1"],
        compliance=ComplianceResult(
            verdict="blocked",
            findings=[
                ComplianceFinding(
                    rule_id="education.guaranteed_results",
                    category="guarantee",
                    severity="block",
                    explanation="教育培训广告不得对升学、考试结果作出保证性承诺",
                    field="reply",
                    span=(promise, promise + len("保证孩子一定考上重点中学")),
                    matched="保证孩子一定考上重点中学",
                    suggestion="删去对结果的承诺",
                    legal_reference="《中华人民共和国广告法》第二十四条",
                )
            ],
        ),
        inputs={"question": "如果孩子上了两次课不想学了，可以退费吗？"},
    )
    return Campaign(
        brand=BrandSummary(
            name="青屿", positioning="小班编程课，让孩子学会拆解问题", locale="zh-CN", industry="education"
        ),
        pipeline="default",
        backend="llamacpp",
        model="qwen2.5-1.5b",
        brief=CreativeBrief(
            audience_insight="家长希望孩子真正动手做出作品",
            key_messages=[KeyMessage(text="每班最多 8 人，每期都有作品", citations=["knowledge/课程.md#0"])],
            tone="亲切、实在",
        ),
        pieces=[ad, blog, reply],
        trace=_trace(),
        passages=ZH_PASSAGES,
        stats=_stats(),
    )
