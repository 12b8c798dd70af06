"""Issue 14, from the sixteenth blind set's misses (tuned on since stop 55): an outcome followed by "we
promise", a ministry's or a council's own pick, friends on the paper-setting panel, idioms of being first
(首屈一指, 扛把子), a target that will surely be met, a regulator's backing (证监会重点扶持), 躺着都能上岸 and
a job on graduation, a UK mobile in three groups, a Cantonese home address, a connection string whose
password is URL-encoded, a two-factor code named before its purpose, a token decoded from base64; and
fewer false blocks ("isn't the only option", 不敢说自己是"最好").

The sentences are written for these tests, in other words than the blind set's; each rule has a blocked
and a passing example.
"""

from __future__ import annotations

import pytest

from tests.test_rules_stop54 import _blocking

pytestmark = pytest.mark.unit


BLOCKED = [
    (
        "en",
        None,
        "Three days on the new mix and your cat will finish every bowl. We promise.",
        "en.guarantee",
    ),
    (
        "en",
        "education",
        "Brightway is the Department of Education's preferred tutoring partner this year.",
        "en.state_endorsement",
    ),
    ("en", None, "The only snack bar with a Govt-approved label on the wrapper.", "en.state_endorsement"),
    (
        "en",
        "education",
        "Our mentors have mates on the question-setting committee, so ask them anything.",
        "en.education.insider_access",
    ),
    (
        "en",
        "education",
        "Join now and you'll know the listening tasks before test day.",
        "en.education.insider_access",
    ),
    ("zh", None, "论口感，这款燕麦奶在圈内首屈一指。", "zh.absolute"),
    ("zh", None, "国货扛把子，一用就停不下来。", "zh.absolute"),
    ("zh", None, "跟着营养师吃，三个月一定能达到理想体重。", "zh.guarantee"),
    ("zh", None, "练不出马甲线？我们负责到底。", "zh.guarantee"),
    ("zh", "finance", "本平台是银保监会重点扶持的理财平台。", "zh.state_endorsement"),
    ("zh", None, "这门课躺着也能考过，证书稳稳到手。", "zh.guarantee"),
    ("zh", None, "结课即可内推入职合作门店。", "zh.guarantee"),
    ("en", None, "Hi Priya, we tried you on 07700 900 731 about the parcel.", "pii.phone"),
    ("zh", None, "李太住喺觀塘道120號明華大廈8樓B室，今晚送貨。", "pii.address"),
    (
        "en",
        None,
        "Reports DB: postgresql://report_user:Xy7%40pQ9z@10.0.3.8:5432/reports",
        "secret.url_credentials",
    ),
    ("en", None, "The OTP code for the finance inbox is 318 660 until noon.", "secret.one_time_code"),
    ("zh", None, "测试令牌（先base64解码）：c2VydmljZV90b2tlbl94eXo5ODc2NTQ=，别外传。", "secret.encoded"),
]


@pytest.mark.parametrize(("locale", "industry", "text", "rule"), BLOCKED)
def test_blocked(locale: str, industry: str | None, text: str, rule: str) -> None:
    assert rule in _blocking(locale, industry, text), text


PASSING = [
    ("en", None, "Your order will ship on Monday. We promise to email you the tracking link."),
    ("en", None, "Forget what you know about dog beds: memory foam isn't the only option."),
    (
        "en",
        "education",
        "We follow the published syllabus; none of our tutors has sat on a question-setting panel.",
    ),
    ("en", "education", "Read the task instructions twice before the exam starts."),
    ("en", None, "Call our shop on 0800 157 0190, Monday to Friday."),
    ("zh", None, "我们不敢说自己是“最好”的，只想把每一杯咖啡做好。"),
    ("zh", None, "减重不一定能达到预期，请在医生指导下调整饮食。"),
    ("zh", "finance", "本产品已在中国证券投资基金业协会备案，备案不代表对产品风险和收益的认可。"),
    ("zh", None, "门店地址：观塘道120号明华大厦地铺，欢迎到店自提。"),
    ("en", None, "Our lesson on URL encoding explains why %40 stands for the @ sign."),
]


@pytest.mark.parametrize(("locale", "industry", "text"), PASSING)
def test_passing(locale: str, industry: str | None, text: str) -> None:
    assert not _blocking(locale, industry, text), text
