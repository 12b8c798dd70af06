"""Publishable-copy checks (agents.quality): each check with a piece it fails and one it passes."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from agents.channels import dangling_word, fit_with_cut, load_channels
from agents.quality import (
    QUALITY_RULES,
    QualityContext,
    complete_alternative,
    drop_foreign_hashtags,
    finish_conventions,
    finish_fields,
    name_a_product,
    one_register,
    quality_findings,
)
from agents.state import Draft
from backends.base import Completion
from backends.fake import FakeBackend, FakeConfig
from knowledge.brand import Brand, load_brand
from tests.conftest import MINI_BRAND, MINI_DOCS, write_brand

pytestmark = pytest.mark.unit
CH = load_channels()
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wanderly() -> Brand:
    return load_brand(ROOT / "examples" / "brands" / "wanderly")


@pytest.fixture(scope="module")
def tidewater() -> Brand:
    return load_brand(ROOT / "examples" / "brands" / "tidewater")


@pytest.fixture(scope="module")
def hearthline() -> Brand:
    return load_brand(ROOT / "examples" / "brands" / "hearthline")


def rules(brand: Brand, channel: str, fields: dict[str, str], **ctx: object) -> list[str]:
    context = QualityContext.build(CH[channel], brand, **ctx)  # type: ignore[arg-type]
    return [f.rule_id for f in quality_findings(context, fields)]


GOOD_EMAIL_EN = {
    "subject": "Harbor Light is back on the roaster",
    "preheader": "A washed Ethiopian coffee, roasted to order",
    "body": "Hi there,\n\nHarbor Light is back: a washed Ethiopian coffee from Yirgacheffe with notes of "
    "jasmine and bergamot. Tidewater roasts every bag to order and ships it within 48 hours, so it "
    "reaches you fresh. Brew it as a pour-over to taste the peach, or try it as a cold brew on a warm "
    "afternoon. Each bag names the farm, the altitude and the day it was roasted.\n\nPick your grind "
    "and order today.\n\nWarmly,\nThe Tidewater team",
}
FILLER = (
    " Harbor Light comes from the Kochere area of Yirgacheffe, grown up to 2,200 m. Our roaster in"
    " Astoria runs small batches each morning. Harbor Light is a light roast with notes of white peach,"
    " jasmine and bergamot. Every order ships within 48 hours of roasting, and the label names the farm."
)
GOOD_SOCIAL_ZH = {
    "text": "在雨崩村慢走七天，藏族向导带路，每天只走一段。跟 Wanderly 去看梅里雪山。#Wanderly #慢旅行"
}


def test_clean_pieces_pass(wanderly: Brand, tidewater: Brand) -> None:
    assert rules(tidewater, "email", GOOD_EMAIL_EN) == []
    assert rules(wanderly, "social_post", GOOD_SOCIAL_ZH) == []
    ad = {
        "headline_1": "Tidewater fresh-roasted coffee",
        "headline_2": "Ships within 48 hours",
        "headline_3": "Order your bag today",
        "description_1": "Tidewater roasts small batches on the Oregon coast.",
        "description_2": "Single origins and blends, roasted to order. Order today.",
    }
    assert rules(tidewater, "search_ad", ad) == []


def test_truncated_mid_sentence_mid_phrase_and_unclosed(wanderly: Brand, tidewater: Brand) -> None:
    cut_blog = {"title": "慢旅行", "body": "我们住进土楼，" * 70 + "让我们看看福建·土楼文化5天的行程。这"}
    assert "quality.truncated" in rules(wanderly, "blog", cut_blog)
    subject = dict(GOOD_EMAIL_EN, subject="Tidewater Coffee Roasters: Fresh Coffee on the")
    assert rules(tidewater, "email", subject) == ["quality.truncated"]
    unclosed = dict(GOOD_EMAIL_EN, preheader="Harbor Light (a washed Ethiopian")
    assert rules(tidewater, "email", unclosed) == ["quality.truncated"]
    zh = {"text": "在雨崩村慢走七天，藏族向导带路和 #Wanderly"}
    assert "quality.truncated" in rules(wanderly, "social_post", zh)
    # A sign-off on the same line as the last sentence is an ending, not a sentence cut short.
    body = "你好！秋天快到了，Wanderly 的雨崩徒步还有名额，藏族向导带路，每天只走一段，留出时间看山。" * 3
    email = {"subject": "跟着 Wanderly 慢慢走一次雨崩", "preheader": "雨崩徒步，藏族向导同行"}
    assert "quality.truncated" not in rules(
        wanderly, "email", {**email, "body": body + "祝好，Wanderly 团队"}
    )
    assert "quality.truncated" in rules(
        wanderly, "email", {**email, "body": body + "我们从梅里雪山脚下的雨崩村出发，然后"}
    )


def test_a_field_the_answer_was_cut_off_in_is_truncated(tidewater: Brand) -> None:
    assert rules(tidewater, "email", GOOD_EMAIL_EN, cut_off=["body"]) == ["quality.truncated"]
    assert rules(tidewater, "email", GOOD_EMAIL_EN, cut_to_fit=["subject"]) == ["quality.fragment"]


def test_finish_fields_drops_the_unfinished_sentence() -> None:
    draft = Draft(channel="email", fields={"body": "Hi there,\n\nWe roast daily. And we have Brazili"})
    fixed = finish_fields(CH["email"], draft.model_copy(update={"cut_off": ["body"]}))
    assert fixed.fields["body"] == "Hi there,\n\nWe roast daily." and fixed.cut_off == []


def test_required_terms_with_a_per_channel_policy(wanderly: Brand, tidewater: Brand) -> None:
    anonymous = dict(GOOD_EMAIL_EN, body=GOOD_EMAIL_EN["body"].replace("Tidewater", "We"))
    assert rules(tidewater, "email", anonymous) == ["quality.required_term"]
    exempt = tidewater.model_copy(update={"required_terms_in": {"email": "none"}})
    assert rules(exempt, "email", anonymous) == []
    only_subject = tidewater.model_copy(update={"required_terms_in": {"email": ["subject"]}})
    assert rules(only_subject, "email", GOOD_EMAIL_EN) == ["quality.required_term"]
    # A support reply need not name the brand (the cs_reply channel's own default).
    assert (
        rules(tidewater, "cs_reply", {"reply": "Yes, you can skip a delivery before your roast date."}) == []
    )


def test_mixed_language_and_the_glossary(wanderly: Brand, tidewater: Brand) -> None:
    mixed = {"text": "亲爱的 subscribers，跟 Wanderly 去雨崩慢走七天。#Wanderly"}
    found = quality_findings(QualityContext.build(CH["social_post"], wanderly), mixed)
    assert [f.rule_id for f in found] == ["quality.mixed_language"] and found[0].matched == "subscribers"
    glossary = wanderly.model_copy(update={"glossary": ["subscribers"]})
    assert rules(glossary, "social_post", mixed) == []
    # Units after figures, acronyms, links, hashtags and the brand's own document words are not mixing.
    ok = {"text": "海拔 3,200 m 的雨崩村，GPS 导航，详见 wanderly.example.com。跟 Wanderly 走。#Wanderly"}
    assert rules(wanderly, "social_post", ok) == []
    assert rules(wanderly, "social_post", {"text": "跟 Wanderly 走 Yubeng 七天。#Wanderly"}) == [
        "quality.mixed_language"
    ]
    assert (
        rules(
            wanderly,
            "social_post",
            {"text": "跟 Wanderly 走 Yubeng 七天。#Wanderly"},
            documents=["Yubeng 村"],
        )
        == []
    )
    english = dict(GOOD_EMAIL_EN, preheader="A washed Ethiopian coffee, 新鲜烘焙")
    assert rules(tidewater, "email", english) == ["quality.mixed_language"]


def test_a_closing_sentence_is_no_sign_off(tidewater: Brand) -> None:
    # A Clearleaf e-mail of 2026-12-05 ended "Thank you for considering Clearleaf.": no sign-off, the blind
    # reviewer wrote. A valediction or a signature is.
    body = GOOD_EMAIL_EN["body"].replace(
        "Warmly,\nThe Tidewater team", "Thank you for considering Tidewater."
    )
    assert "quality.sign_off" in rules(tidewater, "email", dict(GOOD_EMAIL_EN, body=body))
    for closing in (
        "Thanks!",
        "Cheers,\nTidewater",
        "Thank you,\nThe Tidewater team",
        "— The Tidewater team",
    ):
        body = GOOD_EMAIL_EN["body"].replace("Warmly,\nThe Tidewater team", closing)
        assert "quality.sign_off" not in rules(tidewater, "email", dict(GOOD_EMAIL_EN, body=body)), closing


def test_hashtags_in_another_language_are_mixing_and_the_last_resort_drops_them(wanderly: Brand) -> None:
    # A Wanderly post of 2026-12-05 ended "#Wanderly #CultureTour #SlowTravel": English in Chinese copy.
    post = {"text": "藏族向导同行，他们会告诉你哪一段路午后容易起雾。#Wanderly #CultureTour #SlowTravel"}
    found = quality_findings(QualityContext.build(CH["social_post"], wanderly), post)
    assert [(f.rule_id, f.matched) for f in found] == [("quality.mixed_language", "CultureTour")]
    fixed = drop_foreign_hashtags(
        QualityContext.build(CH["social_post"], wanderly), Draft(channel="social_post", fields=post)
    )
    assert fixed.fields["text"] == "藏族向导同行，他们会告诉你哪一段路午后容易起雾。#Wanderly"
    assert rules(wanderly, "social_post", fixed.fields) == []
    # The brand's own words and Chinese tags stay.
    assert rules(wanderly, "social_post", {"text": "跟 Wanderly 去雨崩慢走七天。#Wanderly #慢旅行"}) == []


def test_repetition_and_the_positioning_line(wanderly: Brand, tidewater: Brand) -> None:
    twice = {
        "text": "探索未知，发现美丽。在梅里雪山脚下的雨崩村慢走七天。"
        "走进梅里雪山脚下的村庄，探索未知，发现美丽。#Wanderly"
    }
    found = rules(wanderly, "social_post", twice)
    assert "quality.repetition" in found and "quality.positioning_repeated" in found
    once = {"text": "探索未知，发现美丽。在雨崩村慢走七天，藏族向导同行。跟 Wanderly 出发。#Wanderly"}
    assert rules(wanderly, "social_post", once) == []
    # Across fields: the positioning line in headline and description is used twice in the ad.
    ad = {
        "headline_1": "探索未知，发现美丽",
        "headline_2": "雨崩徒步 7 天",
        "headline_3": "现在报名",
        "description_1": "Wanderly 小团慢游，探索未知，发现美丽。",
        "description_2": "藏族向导同行，每团最多 8 人。",
    }
    assert rules(wanderly, "search_ad", ad) == ["quality.positioning_repeated"]
    same = dict(
        GOOD_EMAIL_EN,
        body=GOOD_EMAIL_EN["body"]
        .replace("Brew it", "We roast small batches daily. Brew it")
        .replace("Pick your grind", "We roast small batches daily. Pick your grind"),
    )
    assert "quality.repetition" in rules(tidewater, "email", same)
    # Two fields saying the same thing: an ad's headlines, an e-mail's subject and preheader.
    same_ad = dict(ad, headline_3="雨崩徒步 7 天", description_2="Wanderly 小团慢游，探索未知，发现美丽。")
    assert "quality.repetition" in rules(wanderly, "search_ad", same_ad)
    same_mail = dict(GOOD_EMAIL_EN, preheader=GOOD_EMAIL_EN["subject"])
    assert rules(tidewater, "email", same_mail) == ["quality.repetition"]
    # The brand's and its products' names may recur.
    names = {"text": "Wanderly 的雨崩徒步 7 天，Wanderly 的喀纳斯秋季 8 天。跟 Wanderly 走。#Wanderly"}
    assert rules(wanderly, "social_post", names) == []


def test_parallel_facts_after_different_figures_are_no_repetition(tidewater: Brand, wanderly: Brand) -> None:
    # A customer reply quoting two rows of a warranty table was blocked for "year limited warranty on".
    rows = {
        "reply": "Hi, thanks for asking. Your skillet has a 10-year limited warranty on the enamel and "
        "body, and a 1-year limited warranty on the knob. Chips from a knock are not covered. "
        "Best, the Tidewater team"
    }
    assert "quality.repetition" not in rules(tidewater, "cs_reply", rows)
    ladder = {
        "reply": "您好，出发前30天以上取消可全额退款团费，出发前15天以上取消可退款团费的70%。祝好，Wanderly"
    }
    assert "quality.repetition" not in rules(wanderly, "cs_reply", ladder)
    # the same figure twice is a repeat
    twice = dict(
        rows, reply=rows["reply"].replace("a 1-year limited warranty on", "a 10-year limited warranty on")
    )
    assert "quality.repetition" in rules(tidewater, "cs_reply", twice)
    # a longer repeated stretch after different figures (the reviewer's case)
    long_rows = {"reply": "您好，7天内可以无理由退货退款，15天内可以无理由退货换货。祝好，Wanderly"}
    assert "quality.repetition" not in rules(wanderly, "cs_reply", long_rows)
    # a figure that ends the sentence before is not the repeated phrase's figure
    across = {
        "reply": "Hi, our pans are used in kitchens in over 50. Order now and enjoy the limited warranty on "
        "the knob. Our pots are used in over 40. Order now and enjoy the limited warranty on the knob. "
        "Best, the Tidewater team"
    }
    assert "quality.repetition" in rules(tidewater, "cs_reply", across)


def test_minimum_length_counts_chinese_at_its_ratio(wanderly: Brand) -> None:
    def blog(chars: int) -> dict[str, str]:
        # Distinct sentences (no phrase said twice), cut to ``chars`` characters at a sentence end.
        places = "雨崩 喀纳斯 禾木 白哈巴 土楼 梅里 德钦 飞来寺 尼农 冰湖 神瀑 笑农 西当 明永 雾浓顶 贡山"
        acts = "看晨雾 学擂茶 走栈道 听溪水 住木屋 拍星空 等日出 读地图 喝酥油茶 认野花 背行囊 过吊桥"
        places, acts = places.split(" "), acts.split(" ")
        body = "Wanderly 带你慢慢走。"
        for i in range(200):
            first, then = acts[(i * 5) % len(acts)], acts[(i * 7 + 3) % len(acts)]
            sentence = f"第{i + 1}站我们在{places[i % len(places)]}{first}，再{then}。"
            if len(body) + len(sentence) > chars:
                break
            body += sentence
        return {"title": "慢旅行的七天", "body": body}

    context = QualityContext.build(CH["blog"], wanderly)
    short = quality_findings(context, blog(300))  # 300 characters = 200 words < 0.8 x 300
    assert [(f.rule_id, f.severity) for f in short] == [("quality.too_short", "block")]
    assert "450" in short[0].explanation
    # ~280 words: above 80% of the minimum, but an article (a field with sections) blocks anywhere below it
    nearly = quality_findings(context, blog(420))
    assert [(f.rule_id, f.severity) for f in nearly] == [("quality.too_short", "block")]
    assert quality_findings(context, blog(540)) == []


def test_a_short_field_without_sections_only_warns_just_below_its_minimum(tidewater: Brand) -> None:
    context = QualityContext.build(CH["email"], tidewater)
    words = "Our Harbor Light is roasted on Thursday and ships within 48 hours of roasting, every week. "
    body = "Hi there,\n\n" + words * 3 + "Order yours today.\n\nBest,\nThe Tidewater team"
    short = [
        f
        for f in quality_findings(context, dict(GOOD_EMAIL_EN, body=body))
        if f.rule_id == "quality.too_short"
    ]
    assert [f.severity for f in short] == ["warn"]  # under 60 words, above 80% of them


def test_channel_conventions(wanderly: Brand, tidewater: Brand) -> None:
    assert rules(wanderly, "social_post", {"text": "跟 Wanderly 去雨崩慢走七天。"}) == ["quality.hashtags"]
    no_greeting = dict(GOOD_EMAIL_EN, body=GOOD_EMAIL_EN["body"].replace("Hi there,\n\n", ""))
    assert rules(tidewater, "email", no_greeting) == ["quality.greeting"]
    no_sign_off = dict(
        GOOD_EMAIL_EN, body=GOOD_EMAIL_EN["body"].replace("\n\nWarmly,\nThe Tidewater team", "")
    )
    assert rules(tidewater, "email", no_sign_off) == ["quality.sign_off"]
    hashtags_only = {"text": "#Wanderly #慢旅行"}
    assert rules(wanderly, "social_post", hashtags_only) == ["quality.too_short"]


@pytest.mark.parametrize(
    ("line", "sign_off", "rule"),
    [
        ("Hi [First Name], Tidewater roasts to order.", "Cheers,\nthe team", "quality.placeholder"),
        ("Hi {name}, Tidewater roasts to order.", "Cheers,\nthe team", "quality.placeholder"),
        (
            "Hi there, Tidewater roasts to order. | Coffee | Origin | Price | Weight |",
            "Cheers,\nthe team",
            "quality.placeholder",
        ),
        (
            "Hi there, here is the revised email: Tidewater roasts to order.",
            "Cheers,\nthe team",
            "quality.echoed_instruction",
        ),
        ("Hi there, Tidewater roasts to order (P3).", "Cheers,\nthe team", "quality.citation_id"),
        (
            "Hi there, Tidewater lists it in knowledge/faq.md#2-ab12.",
            "Cheers,\nthe team",
            "quality.citation_id",
        ),
        ("Hi there, Tidewater roasts to order.", "Best,\nThe Brand Forge Team", "quality.tool_name"),
    ],
)
def test_template_text_ids_and_the_tool_name(tidewater: Brand, line: str, sign_off: str, rule: str) -> None:
    filler = FILLER
    body = f"{line}{filler}\n\n{sign_off}"
    assert rules(tidewater, "email", dict(GOOD_EMAIL_EN, body=body)) == [rule]
    clean = f"Hi there, Tidewater roasts to order.{filler}\n\nCheers,\nthe team"
    assert rules(tidewater, "email", dict(GOOD_EMAIL_EN, body=clean)) == []


def test_severity_follows_the_brand(tidewater: Brand) -> None:
    relaxed = tidewater.model_copy(
        update={
            "compliance": tidewater.compliance.model_copy(update={"severity": {"quality.hashtags": "warn"}})
        }
    )
    found = quality_findings(
        QualityContext.build(CH["social_post"], relaxed),
        {"text": "Tidewater roasts daily and ships within 48 hours."},
    )
    assert [(f.rule_id, f.severity) for f in found] == [("quality.hashtags", "warn")]


def test_every_rule_has_a_group_and_severity() -> None:
    assert {g for g, _, _ in QUALITY_RULES.values()} <= {"channel", "voice", "facts", "compliance"}
    assert all(s in ("block", "warn") for _, s, _ in QUALITY_RULES.values())


@pytest.mark.parametrize(
    ("text", "limit", "expected", "how"),
    [
        ("Experience the durability and strength of cast iron", 30, "Experience the durability", "words"),
        (
            "Tidewater Coffee Roasters: Fresh, Traceable Coffee on the coast",
            30,
            "Tidewater Coffee Roasters",
            "clauses",
        ),
        ("Roasted yesterday. Delivered to your door tomorrow morning", 30, "Roasted yesterday.", "sentences"),
        ("Short and sweet", 30, "Short and sweet", "none"),
    ],
)
def test_fit_keeps_whole_sentences_then_clauses_and_never_a_dangling_word(
    text: str, limit: int, expected: str, how: str
) -> None:
    from agents.channels import FieldSpec, dangling_word

    spec = FieldSpec(name="headline", description="x", max_chars=limit)
    cut, kind = fit_with_cut(text, spec)
    assert (cut, kind) == (expected, how) and dangling_word(cut) is None


def test_fit_keeps_closing_hashtags() -> None:
    spec = CH["social_post"].fields[0]
    text = (
        " ".join(f"Sentence number {w} about the roast." for w in ("one", "two", "three") * 4)
        + " #Tidewater #pourover"
    )
    cut, _ = fit_with_cut(text, spec)
    assert len(cut) <= 280 and cut.endswith("roast. #Tidewater #pourover")


def test_scorecard_counts_checks_by_group(tidewater: Brand) -> None:
    from agents.scorecard import scorecard
    from policy.findings import ComplianceFinding

    clean = scorecard(CH["email"], tidewater, [])
    assert clean.score == 1.0 and clean.passed == clean.applied
    # limits, 2 endings, opening, 5 template-text checks, length, greeting, sign-off, call to action,
    # a subject its body backs
    assert clean.groups["channel"].applied == 15 and "quality.greeting" not in clean.groups["channel"].failed
    findings = [
        ComplianceFinding(
            rule_id="quality.required_term", category="quality_voice", severity="block", explanation="x"
        ),
        ComplianceFinding(
            rule_id="en.superlative", category="superlative", severity="block", explanation="x", fixed=True
        ),
        ComplianceFinding(
            rule_id="facts.condition_mismatch",
            category="unsupported_claim",
            severity="block",
            explanation="x",
        ),
        ComplianceFinding(
            rule_id="semantic.unsupported_claim",
            category="unsupported_claim",
            severity="warn",
            explanation="x",
        ),
    ]
    card = scorecard(CH["email"], tidewater, findings)
    assert card.groups["voice"].failed == ["quality.required_term"]
    assert card.groups["facts"].failed == ["claims.sourced", "facts.condition_mismatch"]
    assert card.groups["compliance"].failed == []  # the superlative was fixed by revision
    assert card.passed == clean.passed - 3 and card.applied == clean.applied
    # A social post has no greeting to check; a reply need not name the brand.
    assert "quality.greeting" not in str(scorecard(CH["social_post"], tidewater, []).groups["channel"])
    reply = scorecard(CH["cs_reply"], tidewater, [])
    assert reply.groups["voice"].applied == clean.groups["voice"].applied - 1


def test_a_blog_is_written_outline_first_section_by_section(mini_brand: Path, tmp_path: Path) -> None:
    from pipelines import run_campaign
    from pipelines.spec import load_pipeline

    # The default is one call, the story (outline-first measured no longer on the embedded model).
    one = run_campaign(mini_brand, channels=["blog"], backend={"kind": "fake"})
    first, *more = [t.prompt for t in one.trace if t.agent == "copywriter"]
    assert first == "copywriter.story@1" and set(more) <= {"copywriter.retell@1"}
    # On, the blog is an outline and one call per section.
    text = (ROOT / "pipelines" / "default.yaml").read_text(encoding="utf-8")
    assert "outline_first: false" in text
    (tmp_path / "sections.yaml").write_text(text.replace("outline_first: false", "outline_first: true"))
    pipeline = load_pipeline(tmp_path / "sections.yaml", backend_overrides={"kind": "fake"})
    campaign = run_campaign(mini_brand, channels=["blog"], pipeline=pipeline)
    prompts = [t.prompt for t in campaign.trace if t.agent == "copywriter"]
    assert prompts[:5] == ["copywriter.outline@1"] + ["copywriter.section@1"] * 4
    assert set(prompts[5:]) <= {"copywriter.retell@1"}  # the built-in blog is a story
    (piece,) = campaign.pieces
    assert piece.scorecard is not None and piece.scorecard.applied > 20


def _completion(answer: dict[str, object], model: str) -> Completion:
    """What a fake model returns when a test overrides its answer: ``answer`` as JSON."""
    text = json.dumps(answer)
    return Completion(
        text=text, prompt_tokens=1, completion_tokens=len(text) // 4, seconds=0.0, model=model, backend="fake"
    )


class _StoryModel(FakeBackend):
    """The fake model, recording the messages of the call that writes a story (copywriter.story) and of
    those that lengthen it (copywriter.retell)."""

    def __init__(self, config: FakeConfig) -> None:
        super().__init__(config)
        self.story: list[dict[str, str]] = []
        self.retold: list[list[dict[str, str]]] = []

    def _complete(self, messages, json_schema, params):  # type: ignore[no-untyped-def]
        if "It retells this part of" in messages[-1]["content"]:
            self.story = list(messages)
        if "Retell this passage" in messages[-1]["content"]:
            self.retold.append(list(messages))
        return super()._complete(messages, json_schema, params)


def test_the_blog_retells_one_part_of_the_brands_documents(tmp_path: Path) -> None:
    """The shipped blog features a story (issue 15: none of the 13 blogs composed from facts and product
    sheets over stops 41-43 was published): the spotlight step adds the document that best matches the
    brief's angle to the campaign's passages, and the copywriter is given its prose alone, in order, in
    a prompt whose system message shows no other passage (shown them, the 1.5B model wrote from them)."""
    from pipelines import run_campaign

    docs = {
        **MINI_DOCS,
        "history.md": "# Our history\nTidewater was founded in 2013 in Astoria by two friends who roasted "
        "on a 5 kg roaster in a net loft.\n\n# Timeline\n2013 - Founded.\n2016 - The 15 kg roaster.\n\n"
        "# How we roast\nOne batch from every roast day is cupped the next morning by two roasters, and a "
        "batch that misses its profile is pulled from sale.\n",
    }
    brand = write_brand(tmp_path / "story", MINI_BRAND, docs)
    assert load_channels()["blog"].features == "story"
    model = _StoryModel(FakeConfig())
    campaign = run_campaign(brand, channels=["blog"], llm=model)
    # The fake model's article is short: it is lengthened by retelling the story's passages it does not
    # tell, one call each, never by product paragraphs.
    first, *more = [t.prompt for t in campaign.trace if t.agent == "copywriter"]
    assert first == "copywriter.story@1" and more and set(more) == {"copywriter.retell@1"}
    assert len(more) == len(model.retold) <= 6
    assert all("<passage" not in messages[0]["content"] for messages in model.retold)
    retold = [m[-1]["content"].split("Retell this passage", 1)[1] for m in model.retold]
    assert len(set(retold)) == len(retold)  # each passage once
    system, user = model.story[0]["content"], model.story[-1]["content"]
    assert "<passage" not in system and "Tidewater" in system
    told = user.split("It retells this part of", 1)[1].split("Write it in", 1)[0]
    assert "2013 - Founded" not in told and "# Timeline" not in told  # rows and headings left out
    assert "CANARY" not in told and "Starbeans" not in told  # never the document with an instruction
    story_docs = {p.doc for p in campaign.passages if p.text.strip() and p.text.strip()[:40] in told}
    assert story_docs and story_docs <= {"knowledge/history.md", "knowledge/roasting.md"}


class _AddingStoryModel(FakeBackend):
    """The fake model, except that its story retells the passages it is given word for word and adds a
    sentence of its own, as the 1.5B model did ("We offer a wide range of classes for all ages"), and that
    asked to revise the story it returns it unchanged (the 1.5B model often did)."""

    ADDED = "We also run weekly cupping classes for all ages and skill levels at our Portland cafe."

    def __init__(self, config: FakeConfig) -> None:
        super().__init__(config)
        self.answer: dict[str, object] = {}

    def _complete(self, messages, json_schema, params):  # type: ignore[no-untyped-def]
        prompt = messages[-1]["content"]
        if "It retells this part of" in prompt:
            told = prompt.split("It retells this part of", 1)[1].split("Write it in", 1)[0]
            prose = [line.strip(' "') for line in told.splitlines() if line.strip(' "').endswith(".")]
            body = " ".join(prose[:2]) + f" {self.ADDED}\n\n" + " ".join(prose[2:])
            fields = {"title": "How Tidewater started", "body": body}
            self.answer = {"citations": ["P1"], "fields": fields}
        elif not (self.answer and "Revise the blog piece" in prompt):
            return super()._complete(messages, json_schema, params)
        return _completion(self.answer, "story")


def test_a_sentence_added_to_the_story_is_dropped_not_sent_back(tmp_path: Path) -> None:
    """Asked to fix a sentence it had added to a story, the 1.5B model rewrote the story around it
    (stop 45's Clearleaf blog made both founders "formulation chemists with a PhD"). The compliance agent
    drops the sentence instead, reports it as fixed, and asks the model nothing about it."""
    from pipelines import run_campaign

    docs = {
        **MINI_DOCS,
        "history.md": "# Our history\nTidewater was founded in 2013 in Astoria by two friends who roasted "
        "on a 5 kg roaster in a net loft. They sold their first bags at the Astoria Sunday Market.\n\n"
        "# How we roast\nOne batch from every roast day is cupped the next morning by two roasters, and a "
        "batch that misses its profile is pulled from sale. Every bag names the farm and the roast date.\n",
    }
    brand = write_brand(tmp_path / "story", MINI_BRAND, docs)
    campaign = run_campaign(brand, channels=["blog"], llm=_AddingStoryModel(FakeConfig()))
    (piece,) = campaign.pieces
    story_calls = [t for t in campaign.trace if t.prompt == "copywriter.story@1"]
    assert story_calls, "the blog was not written as a story"
    assert "cupping classes" not in piece.fields["body"]
    assert "Astoria" in piece.fields["body"]  # the story itself stays
    added = [f for f in piece.compliance.findings if f.rule_id == "facts.story_added"]
    assert [(f.matched, f.fixed) for f in added] == [(_AddingStoryModel.ADDED, True)]  # once, however often
    asked = [request for revision in piece.revisions for request in revision.requests]
    assert not any("retells the brand's documents" in request for request in asked), asked


class _ShortStoryModel(FakeBackend):
    """The fake model, except that its story tells only the first sentence of the passages it is given,
    asked to retell a passage it returns that passage, and asked to revise the story it returns it
    unchanged."""

    def __init__(self, config: FakeConfig) -> None:
        super().__init__(config)
        self.answer: dict[str, object] = {}

    def _complete(self, messages, json_schema, params):  # type: ignore[no-untyped-def]
        prompt = messages[-1]["content"]
        if "It retells this part of" in prompt:
            told = prompt.split("It retells this part of", 1)[1].split("Write it in", 1)[0]
            prose = [line.strip(' "') for line in told.splitlines() if line.strip(' "').endswith(".")]
            self.answer = {"citations": [], "fields": {"title": "How Tidewater started", "body": prose[0]}}
        elif "Retell this passage of" in prompt:
            passage = prompt.split("Retell this passage of", 1)[1].split('"', 2)[1]
            return _completion({"text": passage}, "retell")
        elif not (self.answer and "Revise the blog piece" in prompt):
            return super()._complete(messages, json_schema, params)
        return _completion(self.answer, "story")


def test_a_story_blog_its_revisions_left_short_is_refilled_from_its_story(tmp_path: Path) -> None:
    """Stop 48 (seed 10): the revisions took three story blogs from their drafts' length to 258-291 words,
    and they were delivered on a warning; both blind reviewers rejected them for their length. An article
    under its minimum now blocks, and compliance first retells the passages of the story the text does not
    tell yet (its `retell` slot, the copywriter's prompt), after its revision round."""
    from pipelines import run_campaign

    docs = {
        **MINI_DOCS,
        "history.md": "# Our history\nTidewater was founded in 2013 in Astoria by two friends who roasted "
        "on a 5 kg roaster in a net loft. They sold their first bags at the Astoria Sunday Market.\n\n"
        "# How we roast\nOne batch from every roast day is cupped the next morning by two roasters, and a "
        "batch that misses its profile is pulled from sale. Every bag names the farm and the roast date.\n",
    }
    brand = write_brand(tmp_path / "story", MINI_BRAND, docs)
    text = (ROOT / "pipelines" / "default.yaml").read_text(encoding="utf-8")
    assert "params: {outline_first: false}" in text
    no_retell = text.replace(
        "params: {outline_first: false}", "params: {outline_first: false, retell_paragraphs: 0}"
    )
    (tmp_path / "on.yaml").write_text(no_retell)
    on = run_campaign(
        brand, channels=["blog"], llm=_ShortStoryModel(FakeConfig()), pipeline=tmp_path / "on.yaml"
    )
    calls = [(t.agent, t.prompt) for t in on.trace]
    assert ("copywriter", "copywriter.retell@1") not in calls
    assert ("compliance", "copywriter.retell@1") in calls
    assert calls.index(("compliance", "copywriter.retell@1")) > calls.index(
        ("compliance", "copywriter.revise@3")
    )
    (piece,) = on.pieces
    assert "cupped the next morning" in piece.fields["body"]  # a later passage of the story, retold
    # still under 300 words (the story has fewer): blocked, not delivered on a warning
    assert piece.compliance.verdict == "blocked"
    short = [f for f in piece.compliance.findings if f.rule_id == "quality.too_short" and not f.fixed]
    assert [f.severity for f in short] == ["block"]
    # the story itself is shorter than the minimum: the finding says so, and what the brand can do
    assert "words of story prose to retell, under the 300" in short[0].explanation
    assert short[0].suggestion and "knowledge folder" in short[0].suggestion

    off_text = no_retell.replace("judge: true}", "judge: true, refill_story: 0}")
    (tmp_path / "off.yaml").write_text(off_text)
    off = run_campaign(
        brand, channels=["blog"], llm=_ShortStoryModel(FakeConfig()), pipeline=tmp_path / "off.yaml"
    )
    assert ("compliance", "copywriter.retell@1") not in [(t.agent, t.prompt) for t in off.trace]
    assert "cupped the next morning" not in off.pieces[0].fields["body"]


class _ShortBlogModel(FakeBackend):
    """The fake model, except that it drafts a two-paragraph blog and writes each added paragraph
    about the product the prompt names, so the test can see where each one went."""

    def __init__(self, config: FakeConfig) -> None:
        super().__init__(config)
        self.added: list[str] = []  # the prompts that asked for a paragraph

    def _complete(self, messages, json_schema, params):  # type: ignore[no-untyped-def]
        prompt = messages[-1]["content"]
        answer: dict[str, object] | None = None
        if "adding one paragraph" in prompt:
            self.added.append(prompt)
            if "The piece is about " in prompt:  # a paragraph from a passage: its first sentence
                product = prompt.split("The piece is about ", 1)[1].split(".", 1)[0]
                fact = prompt.split("adds about", 1)[1].split('"', 2)[1].split("\n")[-1]
            else:
                product = prompt.split("Write the paragraph about ", 1)[1].split(".", 1)[0]
                fact = next(line[2:] for line in prompt.splitlines() if line.startswith("- "))
            # ... and copies the end of the text it was shown, as the 1.5B model did
            echo = "Tidewater roasts daily."
            answer = {"text": f"{product}: {fact.lower()} {echo}"}
        elif json_schema and "body" in json.dumps(json_schema) and "Copywriter" not in prompt[:40]:
            answer = {
                "citations": ["P1"],
                "fields": {"title": "Fresh coffee", "body": "Tidewater roasts daily.\n\nOrder today."},
            }
        if answer is None:
            return super()._complete(messages, json_schema, params)
        return _completion(answer, "short-blog")


def _brand_blog(brand: Path, features: str = "brand") -> Path:
    """``brand`` with its own blog channel, about ``features`` instead of a story (the built-in blog's)."""
    blog = (ROOT / "agents" / "channels" / "blog.yaml").read_text(encoding="utf-8")
    assert "\nfeatures: story\n" in blog
    (brand / "channels").mkdir(exist_ok=True)
    (brand / "channels" / "blog.yaml").write_text(
        blog.replace("\nfeatures: story\n", f"\nfeatures: {features}\n")
    )
    return brand


THREE_PRODUCTS = MINI_BRAND.replace(
    "  - {name: Harbor Blend",
    "  - {name: Low Tide, description: A washed Colombian single origin., facts: [Notes of red apple]}\n"
    "  - {name: Breakwater, description: An espresso blend., facts: [Notes of cocoa]}\n"
    "  - {name: Harbor Blend",
)


def test_a_blog_about_the_brand_under_its_minimum_gets_a_paragraph_per_product(tmp_path: Path) -> None:
    from pipelines import run_campaign

    brand = _brand_blog(write_brand(tmp_path / "three", THREE_PRODUCTS, MINI_DOCS))
    model = _ShortBlogModel(FakeConfig())
    campaign = run_campaign(brand, channels=["blog"], llm=model)
    prompts = [t.prompt for t in campaign.trace if t.agent == "copywriter"]
    assert prompts == ["copywriter.draft@7"] + ["copywriter.expand@2"] * 3
    (piece,) = campaign.pieces
    paragraphs = piece.drafted["body"].split("\n\n")
    assert paragraphs[0] == "Tidewater roasts daily." and paragraphs[-1] == "Order today."
    assert [p.split(":", 1)[0] for p in paragraphs[1:-1]] == ["Low Tide", "Breakwater", "Harbor Blend"]
    assert paragraphs[1] == "Low Tide: a washed colombian single origin."  # the echo of the text is dropped

    # Off, or a blog that already meets its minimum: no call is added.
    text = (ROOT / "pipelines" / "default.yaml").read_text(encoding="utf-8")
    assert "outline_first: false}" in text
    (tmp_path / "off.yaml").write_text(
        text.replace("outline_first: false}", "outline_first: false, expand_paragraphs: 0}")
    )
    off = run_campaign(
        brand, channels=["blog"], llm=_ShortBlogModel(FakeConfig()), pipeline=tmp_path / "off.yaml"
    )
    assert [t.prompt for t in off.trace if t.agent == "copywriter"] == ["copywriter.draft@7"]


class _LoopingBlogModel(_ShortBlogModel):
    """As _ShortBlogModel, except that its draft loops on a sentence until the token limit cuts it off."""

    def _complete(self, messages, json_schema, params):  # type: ignore[no-untyped-def]
        prompt = messages[-1]["content"]
        drafting = json_schema and "body" in json.dumps(json_schema) and "Copywriter" not in prompt[:40]
        if "adding one paragraph" in prompt or not drafting:
            return super()._complete(messages, json_schema, params)
        loop = "We roast daily and we ship it " * 3
        text = (
            '{"citations": ["P1"], "fields": {"title": "Fresh coffee", "body": "Tidewater roasts daily. '
            + loop
        )
        return Completion(
            text=text,
            prompt_tokens=1,
            completion_tokens=params.max_tokens,
            seconds=0.0,
            model="looping-blog",
            backend="fake",
            finish_reason="length",
        )


def test_a_blog_cut_off_by_a_loop_is_cut_back_to_its_last_sentence_and_lengthened(tmp_path: Path) -> None:
    """A Qingyu blog of stop 43 looped until the token limit: its body was cut off, so it was never
    lengthened and came out at 180 words. It is now cut back to its last finished sentence first."""
    from pipelines import run_campaign

    brand = _brand_blog(write_brand(tmp_path / "three", THREE_PRODUCTS, MINI_DOCS))
    campaign = run_campaign(brand, channels=["blog"], llm=_LoopingBlogModel(FakeConfig()))
    prompts = [t.prompt for t in campaign.trace if t.agent == "copywriter"]
    assert prompts[0] == "copywriter.draft@7" and prompts.count("copywriter.expand@2") >= 1
    (piece,) = campaign.pieces
    body = piece.drafted["body"]
    assert body.startswith("Tidewater roasts daily.\n\n") and "we ship it" not in body


def test_a_blog_about_one_product_grows_by_its_passages_then_its_sheet(tmp_path: Path) -> None:
    from agents.featured import featured_product
    from pipelines import run_campaign

    docs = {
        **MINI_DOCS,
        "low_tide.md": "# Brewing Low Tide\nLow Tide tastes best brewed at 94 C with a 1:16 ratio.\n\n"
        "# Where Low Tide comes from\nLow Tide comes from 23 families in La Plata, Huila.\n",
        "brand_guidelines.md": "# Names\nAlways write Low Tide with two capital letters in copy.\n",
    }
    # Opt-in: the brand's blog channel features one product, and the pipeline's spotlight step adds
    # passages per product.
    brand = _brand_blog(write_brand(tmp_path / "three", THREE_PRODUCTS, docs), "product")
    default = (ROOT / "pipelines" / "default.yaml").read_text(encoding="utf-8")
    step = "  - agent: spotlight\n    params: {per_product: 0}\n"
    assert default.count(step) == 1
    pipeline = tmp_path / "spotlight.yaml"
    pipeline.write_text(default.replace(step, "  - agent: spotlight\n    params: {per_product: 4}\n"))
    model = _ShortBlogModel(FakeConfig())
    campaign = run_campaign(brand, channels=["blog"], llm=model, pipeline=pipeline)
    prompts = [t.prompt for t in campaign.trace if t.agent == "copywriter"]
    assert prompts[0] == "copywriter.draft@7" and set(prompts[1:]) == {"copywriter.expand@2"}
    assert campaign.brief is not None
    from agents.channels import load_channels
    from knowledge.brand import load_brand

    product = featured_product(load_brand(brand), campaign.brief, load_channels(brand / "channels")["blog"])
    assert product is not None
    (piece,) = campaign.pieces
    paragraphs = piece.drafted["body"].split("\n\n")
    # Every added paragraph is about the blog's product, none about the others.
    assert {p.split(":", 1)[0] for p in paragraphs[1:-1]} == {product.name}
    # Each is told from one retrieved passage that names the product, the last from its sheet alone.
    assert product.name == "Low Tide"
    told = [p for p in model.added if "passage of Tidewater's documents" in p]
    assert len(told) == 2 and len(model.added) == 3
    assert "94 C" in told[0] + told[1] and "La Plata" in told[0] + told[1]
    # The brand's notes to its writers name the product too, but no paragraph retells them.
    assert any("capital letters" in p.text for p in campaign.passages)
    assert not any("capital letters" in p for p in model.added)


def test_a_revision_never_shrinks_a_long_field_below_its_minimum() -> None:
    from agents.revision import kept_long_fields

    blog = CH["blog"]
    long = " ".join(f"Sentence {n} about the roast and the farm." for n in range(60))
    before = Draft(channel="blog", fields={"title": "Old title", "body": long})
    after = Draft(channel="blog", fields={"title": "New title", "body": "A short rewrite."})
    kept = kept_long_fields(blog, before, after)
    assert kept.fields == {"title": "New title", "body": long}
    short_before = before.model_copy(update={"fields": {"title": "Old", "body": "Too short already."}})
    assert kept_long_fields(blog, short_before, after).fields["body"] == "A short rewrite."


def test_a_revision_that_runs_a_blogs_paragraphs_together_gets_them_back() -> None:
    """A Tidewater blog of stop 44 came back from a one-sentence fix as one 200-word paragraph: the
    paragraph breaks are put back after the sentences that ended a paragraph before."""
    from agents.revision import kept_long_fields

    paragraphs = [" ".join(f"Sentence {p}.{n} about the roast." for n in range(25)) for p in range(3)]
    before = Draft(channel="blog", fields={"title": "Fresh", "body": "\n\n".join(paragraphs)})
    merged = " ".join(paragraphs).replace("Sentence 1.3 about the roast.", "Sentence 1.3 about the farm.")
    after = Draft(channel="blog", fields={"title": "Fresh", "body": merged})
    body = kept_long_fields(CH["blog"], before, after).fields["body"]
    assert body.split("\n\n") == [
        paragraphs[0],
        paragraphs[1].replace("1.3 about the roast", "1.3 about the farm"),
        paragraphs[2],
    ]
    # A revision that keeps line breaks of its own is left as it is.
    lines = "\n".join(paragraphs)
    own = Draft(channel="blog", fields={"title": "Fresh", "body": lines})
    assert kept_long_fields(CH["blog"], before, own).fields["body"] == lines


def test_a_customer_answer_gives_the_policy_rows_figures(wanderly: Brand) -> None:
    ladder = (
        "退款比例按照你提出取消的时间计算：出发前 30 天及以上取消，全额退款；"
        "出发前 15–29 天取消，退还团费的 70%；出发前 8–14 天取消，退还团费的 40%。"
        "退款会在 3 个工作日内原路退回。"
    )

    def found(reply: str, policy: list[str]) -> list[str]:
        context = QualityContext.build(CH["cs_reply"], wanderly, policy=policy)
        return [f.rule_id for f in quality_findings(context, {"reply": reply})]

    improvised = "很抱歉听到这个消息，建议你联系我们的客服，我们会尽力帮你安排。"
    assert found(improvised, [ladder]) == ["facts.policy_not_used"]
    assert found("出发前 20 天取消，可以退还团费的 70%，3 个工作日内原路退回。", [ladder]) == []
    assert found("这种情况我们的文档没有说明，我会转交给团队，尽快回复你。", [ladder]) == []
    # A passage whose figures have nothing to do with the question asks for none of them.
    assert found(improvised, ["雨崩徒步 7 天，每团最多 8 人，团费 6,800元。"]) == []
    # The question gives its case (20 days): reciting other rows is no answer, the 15-29 day row's is.
    assert found("出发前 30 天及以上取消，全额退款；出发前 8–14 天取消，退还 40%。", [ladder]) == [
        "facts.policy_not_used"
    ]
    context = QualityContext.build(CH["cs_reply"], wanderly, policy=[ladder])
    (finding,) = quality_findings(context, {"reply": improvised})
    assert "出发前 15–29 天取消，退还团费的 70%" in finding.explanation and "70%" in finding.suggestion


def test_a_reply_to_a_complaint_answers_from_the_passage_that_speaks_to_it(
    wanderly: Brand, tidewater: Brand
) -> None:
    faq = (
        "退款比例按照你提出取消的时间计算：出发前 30 天及以上取消，全额退款；"
        "出发前 15–29 天取消，退还团费的 70%。"
        "退款会在 3 个工作日内原路退回。"
    )
    complaint = "周一到了，Wanderly的退款还是没到。客服说“银行处理需要时间”。这个理由我已经听了三遍了。"
    brand = wanderly.model_copy(update={"channel_inputs": {"cs_reply": {"question": complaint}}})

    def found(b: Brand, reply: str, policy: list[str]) -> list[str]:
        context = QualityContext.build(CH["cs_reply"], b, policy=policy)
        return [f.rule_id for f in quality_findings(context, {"reply": reply})]

    # No case in the complaint: the refund row's term ("3 个工作日内", however worded) is an answer.
    assert found(brand, "你可以尝试联系我们的客服团队，他们会帮你处理。", [faq]) == ["facts.policy_not_used"]
    answered = "很抱歉让你久等了。退款会在3个工作日内原路退回，超过了请拨打 400-000-0000。"
    assert found(brand, answered, [faq]) == []
    # Not a contract term: the reply must bring something of the passage the question was not told.
    shipping = "We roast on Mondays and Thursdays and ship within 24 hours of roasting, by USPS Priority."
    asked = "When do you roast and ship? My last bag took forever."
    coffee = tidewater.model_copy(update={"channel_inputs": {"cs_reply": {"question": asked}}})
    vague = "Sorry about that! Please reach out and we'll look into your order."
    assert found(coffee, vague, [shipping]) == ["facts.policy_not_used"]
    answered_en = "We roast Mondays and Thursdays and ship by USPS Priority in a day."
    assert found(coffee, answered_en, [shipping]) == []
    # A passage that does not speak to the question holds the reply to nothing.
    unrelated = "Our café on Harbor Street hosts cuppings every Saturday morning."
    assert found(coffee, vague, [unrelated]) == []


def test_the_last_resort_answers_the_customer_with_the_rows_that_answer_them(wanderly: Brand) -> None:
    from agents.quality import answer_from_policy

    faq = (
        "退款比例按照你提出取消的时间计算：出发前 30 天及以上取消，全额退款；"
        "出发前 15–29 天取消，退还团费的 70%。退款会在 3 个工作日内原路退回。"
    )
    # The configured question gives its case (20 days): that row alone, in the documents' words.
    case = answer_from_policy(QualityContext.build(CH["cs_reply"], wanderly, policy=[faq]))
    assert case == "你好，感谢你的留言。出发前 15–29 天取消，退还团费的 70%。"
    # A complaint with no case: the rows that speak to it, among them the one that answers it.
    complaint = "周一到了，Wanderly的退款还是没到。这个理由我已经听了三遍了。"
    brand = wanderly.model_copy(update={"channel_inputs": {"cs_reply": {"question": complaint}}})
    context = QualityContext.build(CH["cs_reply"], brand, policy=[faq])
    answer = answer_from_policy(context)
    assert answer is not None and "退款会在 3 个工作日内原路退回。" in answer
    assert quality_findings(context, {"reply": answer}) == []
    # Nothing in the passages speaks to it: no answer is made up.
    unrelated = QualityContext.build(CH["cs_reply"], brand, policy=["雨崩徒步 7 天，每团最多 8 人。"])
    assert answer_from_policy(unrelated) is None


def test_a_refund_of_the_whole_price_where_the_row_gives_a_share_is_found(wanderly: Brand) -> None:
    """Delivered as "pass" in the eval run of 2026-12-03: the right row (70%), then the whole price of the
    route as the amount refunded."""
    faq = "出发前 30 天及以上取消，全额退款；出发前 15–29 天取消，退还团费的 70%。"
    context = QualityContext.build(CH["cs_reply"], wanderly, policy=[faq])

    def found(reply: str) -> list[str]:
        findings = quality_findings(context, {"reply": reply})
        return [f.rule_id for f in findings if f.rule_id.startswith("facts.")]

    assert found("出发前 15–29 天取消，退还团费的 70%，你报名了雨崩徒步，因此可以退 6,980 元。") == [
        "facts.refund_amount"
    ]
    assert found("出发前 15–29 天取消，退还团费的 70%，也就是 6,980 元 × 70% = 4,886 元。") == []
    # a price stated in a sentence that refunds nothing
    assert found("你好，出发前 15–29 天取消，退还团费的 70%。雨崩徒步团费 6,980 元/人。") == []
    assert found("你好，感谢你的留言。出发前 15–29 天取消，退还团费的 70%。") == []
    # Another row's offer given to this customer (delivered as "pass" on 2026-12-04), in both languages.
    offered = "出发前 15–29 天取消，退还团费的 70%。由于您的工作原因需要取消，您可以选择全额退款或免费改期。"
    assert found(offered) == ["facts.refund_amount"]
    english = "Cancelling 15–29 days out refunds 70% of the fare. As you cancel for work, it's a full refund."
    assert found(english) == ["facts.refund_amount"]
    # A recital of the table (the full refund has its own condition) and a refusal are right.
    assert found("出发前 30 天及以上取消可全额退款；你的情况是出发前 15–29 天，退还团费的 70%。") == []
    assert found("出发前 20 天取消不能全额退款，退还团费的 70%。") == []


def test_the_last_resort_reads_table_rows_and_leaves_out_notes_to_writers(tidewater: Brand) -> None:
    """Clearleaf's reply of 2026-12-03 was the sheet's line as written: '- "Water resistant (40 minutes)."
    Never write "waterproof" or "sweatproof"…' (blocked: a note to writers read as an injected
    instruction). A table row reads as a sentence, not as "| … | … |"."""
    from agents.quality import answer_from_policy

    asked = "Is your mineral sunscreen water resistant? I swim laps most mornings."
    brand = tidewater.model_copy(update={"channel_inputs": {"cs_reply": {"question": asked}}})
    sheet = (
        '- "Water resistant (40 minutes)." Never write "waterproof" or "sweatproof"; those terms are not '
        "allowed on sunscreens."
    )
    answer = answer_from_policy(QualityContext.build(CH["cs_reply"], brand, policy=[sheet]))
    assert answer == "Hi, thanks for your message. Water resistant (40 minutes)."
    # A numbered guideline: no "6." left behind, no note to writers ("Use only…", "Always pair…").
    guideline = (
        '6. **Sunscreen language.** Use only the Drug Facts wording for benefits: "broad spectrum SPF 30". '
        'Always pair water resistance with its time: "water resistant (40 minutes)".'
    )
    answer = answer_from_policy(QualityContext.build(CH["cs_reply"], brand, policy=[guideline, sheet]))
    assert answer is not None
    assert "6." not in answer and "Always pair" not in answer and "Use only" not in answer, answer
    table = (
        "| 取消时间 | 退款 |\n| --- | --- |\n| 开营前 15 天及以上 | 全额退款 |\n"
        "| 开营前 7–14 天 | 退还营费的 80% |"
    )
    question = "现在离开营还有 10 天，家里临时有事去不了，能退多少钱？"
    camp = load_brand(ROOT / "examples/brands/qingyu")
    camp = camp.model_copy(update={"channel_inputs": {"cs_reply": {"question": question}}})
    answer = answer_from_policy(QualityContext.build(CH["cs_reply"], camp, policy=[table]))
    assert answer == "你好，感谢你的留言。开营前 7–14 天：退还营费的 80%。"


def test_a_piece_that_opens_mid_thought_is_found_and_opened_with_its_point() -> None:
    reply = CH["cs_reply"]
    draft = Draft(channel="cs_reply", fields={"reply": "不过，你可以在出发前 30 天取消，全额退款。"})
    context = QualityContext.build(reply, load_brand(ROOT / "examples/brands/wanderly"))
    assert "quality.opens_mid_thought" in [f.rule_id for f in quality_findings(context, draft.fields)]
    assert finish_fields(reply, draft).fields["reply"] == "你可以在出发前 30 天取消，全额退款。"
    english = Draft(channel="cs_reply", fields={"reply": "However, the roast ships Monday."})
    assert finish_fields(reply, english).fields["reply"] == "The roast ships Monday."
    # A connective that starts a word ("同时满足") or a headline's chosen "But" is no opening mid-thought.
    for fine in ("同时满足两个孩子的需求，这趟行程很合适。", "But first, coffee. Tidewater roasts daily."):
        kept = Draft(channel="cs_reply", fields={"reply": fine})
        assert finish_fields(reply, kept).fields["reply"] == fine
        assert "quality.opens_mid_thought" not in [f.rule_id for f in quality_findings(context, kept.fields)]


def test_the_last_resort_drops_the_offending_clause_and_keeps_the_brand_mention() -> None:
    from agents.compliance import remove_offending_sentences, without_offending_clauses
    from policy.findings import ComplianceFinding
    from policy.text import fold_str

    brand = ["Wanderly", "Tidewater"]
    best = [fold_str("最佳")]
    assert without_offending_clauses("Wanderly 带你走进雨崩，这是最佳的徒步路线！", best, brand) == (
        "Wanderly 带你走进雨崩！"
    )
    assert (
        without_offending_clauses("「Wanderly 带你走进雨崩，最佳路线！」", best, brand)
        == "「Wanderly 带你走进雨崩！」"
    )
    assert without_offending_clauses("Tidewater roasts daily, the best in town.", ["the best"], brand) == (
        "Tidewater roasts daily."
    )
    # An opening clause that does not name the brand is too often a fragment: the sentence goes.
    assert (
        without_offending_clauses("With 20 years of experience, we offer the best guides.", ["best"], brand)
        is None
    )
    # The comma of a price is no clause boundary.
    assert without_offending_clauses("Tidewater at $1,299 is the best trip.", ["best"], brand) is None
    # the first clause offends, or a whole claim spans clauses: the sentence goes
    assert without_offending_clauses("比 Trailora 更懂你，欢迎报名。", ["trailora"], brand) is None
    assert (
        without_offending_clauses(
            "Wanderly 每团最多 12 人，欢迎报名。", [fold_str("每团最多 12 人，欢迎报名")], brand
        )
        is None
    )

    def block(matched: str) -> ComplianceFinding:
        return ComplianceFinding(
            rule_id="zh.absolute", category="absolute_claim", severity="block", explanation="x",
            field="text", matched=matched,
        )  # fmt: skip

    draft = Draft(
        channel="social_post",
        fields={
            "text": "Wanderly 带你走进雨崩，这是最佳的徒步路线！比 Trailora 更懂你。每团最多 10 人。#雨崩徒步"
        },
    )
    fixed = remove_offending_sentences(draft, [block("最佳"), block("Trailora")], brand)
    assert fixed.fields["text"] == "Wanderly 带你走进雨崩！每团最多 10 人。#雨崩徒步"
    # without the brand's names the whole sentence goes, as before
    assert remove_offending_sentences(draft, [block("最佳"), block("Trailora")]).fields["text"] == (
        "每团最多 10 人。#雨崩徒步"
    )


def test_the_last_resort_drops_the_later_copy_of_a_repeated_sentence_or_positioning_line() -> None:
    from agents.quality import drop_repeats
    from policy.findings import ComplianceFinding

    def block(rule: str, field: str, matched: str) -> ComplianceFinding:
        return ComplianceFinding(
            rule_id=rule, category="quality_voice", severity="block", explanation="x", field=field,
            matched=matched,
        )  # fmt: skip

    post = Draft(
        channel="social_post",
        fields={
            "text": "探索未知，发现美丽。在梅里雪山脚下的雨崩村慢走七天。"
            "走进梅里雪山脚下，探索未知，发现美丽。#Wanderly"
        },
    )
    fixed = drop_repeats(
        post,
        [
            block("quality.repetition", "text", "梅里雪山脚下"),
            block("quality.positioning_repeated", "text", "探索未知，发现美丽"),
        ],
        ["Wanderly"],
    )
    assert fixed.fields["text"] == "探索未知，发现美丽。在梅里雪山脚下的雨崩村慢走七天。#Wanderly"
    # Across fields the later field loses its copy; both copies in one sentence: nothing changes.
    email = Draft(
        channel="email", fields={"subject": "Roasted to order", "body": "Hi. Roasted to order. We ship fast."}
    )
    assert (
        drop_repeats(email, [block("quality.positioning_repeated", "body", "Roasted to order")]).fields[
            "body"
        ]
        == "Hi. We ship fast."
    )
    once = Draft(channel="social_post", fields={"text": "Fresh beans, fresh beans, every day."})
    assert drop_repeats(once, [block("quality.repetition", "text", "fresh beans")]) == once

    # A repeated phrase inside longer sentences, and a sentence holding a figure or the brand, stay.
    promo = Draft(channel="social_post", fields={"text": "立即报名！雨崩七天。现在立即报名享早鸟价 8 折。"})
    assert drop_repeats(promo, [block("quality.repetition", "text", "立即报名")]) == promo
    named = Draft(
        channel="social_post", fields={"text": "探索未知，发现美丽。雨崩七天。Wanderly：探索未知，发现美丽。"}
    )
    positioning = [block("quality.positioning_repeated", "text", "探索未知，发现美丽")]
    assert drop_repeats(named, positioning, ["Wanderly"]) == named
    assert drop_repeats(named, positioning).fields["text"] == "探索未知，发现美丽。雨崩七天。"
    # the brand's name said elsewhere in the field may go with the repeat (a Clearleaf blog of 2026-12-05)
    blog = Draft(
        channel="blog",
        fields={
            "body": "Clearleaf stands out for its honesty. Clearleaf lists every percentage. The serum is "
            "30 mL. The sunscreen is SPF 30. Patch test first. In conclusion, Clearleaf stands out for its "
            "honesty."
        },
    )
    repeated = [block("quality.repetition", "body", "stands out for its honesty")]
    assert drop_repeats(blog, repeated, ["Clearleaf"]).fields["body"] == (
        "Clearleaf stands out for its honesty. Clearleaf lists every percentage. The serum is 30 mL. The "
        "sunscreen is SPF 30. Patch test first."
    )


def test_a_sign_off_after_the_last_sentence_must_look_like_one(wanderly: Brand) -> None:
    from agents.quality import _ends_finished

    assert _ends_finished("就来报名吧。祝好，Wanderly 团队")
    assert _ends_finished("We hope to see you soon. Warmly, the Tidewater team")
    assert not _ends_finished("就来报名吧。期待与你在雨崩相")
    assert not _ends_finished("全程约5天。团队将为您安排")
    assert not _ends_finished("See you soon. Thank you for choosing Wanderly and")


def test_the_last_resort_drops_a_sentence_holding_a_placeholder(wanderly: Brand) -> None:
    from agents.compliance import remove_offending_sentences

    reply = "您好，感谢您报名雨崩徒步。出发前 15-29 天取消，退还团费的 70%。您的订单号是：XXXXX。"
    context = QualityContext.build(CH["cs_reply"], wanderly)
    found = quality_findings(context, {"reply": reply})
    assert [f.rule_id for f in found] == ["quality.placeholder"]
    fixed = remove_offending_sentences(Draft(channel="cs_reply", fields={"reply": reply}), found)
    assert fixed.fields["reply"] == "您好，感谢您报名雨崩徒步。出发前 15-29 天取消，退还团费的 70%。"
    assert quality_findings(context, fixed.fields) == []


def test_finish_conventions_adds_what_revision_left_out(wanderly: Brand, tidewater: Brand) -> None:
    """The last resort for conventions: each fixed piece passes the check that failed it, and a piece
    that already meets them is left exactly as it was."""
    body = (
        "秋天快到了，Wanderly 的雨崩徒步还有名额：七天走约 48 公里，藏族向导带路，每天只走一段。"
        "每团最多 10 人，最高海拔约 3,700 米，出发前请评估自己的体能。\n\n"
        "雨崩村不通公路，进村要走一段山路，行李可以交给马帮。出发前一周，向导会给你发一份装备清单和行前说明。"
        "现在就去官网 wanderly.example 看看出发日期吧。"
    )
    email = {"subject": "跟着 Wanderly 慢慢走一次雨崩", "preheader": "雨崩徒步，藏族向导同行；", "body": body}
    before = rules(wanderly, "email", email)
    assert {"quality.greeting", "quality.sign_off", "quality.truncated"} <= set(before)
    fixed = finish_conventions(CH["email"], wanderly, Draft(channel="email", fields=email)).fields
    assert fixed["preheader"] == "雨崩徒步，藏族向导同行"
    assert fixed["body"] == f"你好，\n\n{body}\n\n祝好，\nWanderly 团队"
    assert rules(wanderly, "email", fixed) == []

    no_close = dict(GOOD_EMAIL_EN, body=GOOD_EMAIL_EN["body"].rsplit("\n\nWarmly", 1)[0])
    assert rules(tidewater, "email", no_close) == ["quality.sign_off"]
    fixed = finish_conventions(CH["email"], tidewater, Draft(channel="email", fields=no_close)).fields
    assert fixed["body"].endswith("order today.\n\nBest,\nThe Tidewater Coffee Roasters team")
    assert rules(tidewater, "email", fixed) == []
    kept = finish_conventions(CH["email"], tidewater, Draft(channel="email", fields=GOOD_EMAIL_EN))
    assert kept.fields == GOOD_EMAIL_EN

    post = {"text": "在雨崩村慢走七天，藏族向导带路，每天只走一段。跟 Wanderly 去看梅里雪山。"}
    assert rules(wanderly, "social_post", post) == ["quality.hashtags"]
    tagged = finish_conventions(CH["social_post"], wanderly, Draft(channel="social_post", fields=post))
    assert tagged.fields["text"] == post["text"] + "\n#Wanderly"
    assert rules(wanderly, "social_post", tagged.fields) == []


def test_finish_conventions_leaves_what_it_cannot_fix_whole(wanderly: Brand) -> None:
    """A clause mark after a dangling word, or a hashtag that would break the limit, stays a finding."""
    post = {"text": "在雨崩村慢走七天，藏族向导带路。" * 17}
    assert 270 < len(post["text"]) <= 280
    over = finish_conventions(CH["social_post"], wanderly, Draft(channel="social_post", fields=post))
    assert over.fields == post
    ad = {"headline_1": "跟着向导和，"}
    same = finish_conventions(CH["search_ad"], wanderly, Draft(channel="search_ad", fields=ad))
    assert same.fields == ad


def test_a_headline_only_a_word_cut_would_fit_gets_a_complete_phrase(
    wanderly: Brand, tidewater: Brand
) -> None:
    """ "Pick a complete alternative" (issue 15): the brand's own product names and facts stand in for a
    headline that would be cut into a fragment; each alternative fits, repeats no other field and
    passes the quality checks; with nothing that fits, there is no alternative (the cut is reported)."""
    spec = next(f for f in CH["search_ad"].fields if f.name == "headline_2")
    long_zh = "在梅里雪山脚下由藏族向导带队慢走七天的雨崩徒步小团路线全程约四十八公里"
    assert fit_with_cut(long_zh, spec)[1] == "words"
    alt = complete_alternative(spec, long_zh, wanderly, ["Wanderly 小团慢游"])
    assert alt is not None and alt.startswith("云南·雨崩徒步 7天") and len(alt) <= 30
    ad = {
        "headline_1": "Wanderly 小团慢游",
        "headline_2": alt,
        "headline_3": "现在就来报名吧",
        "description_1": "藏族向导带路，每团最多 10 人，在雨崩村慢走七天。",
        "description_2": "每天慢走四到六小时，晚上住雨崩村的家庭客栈。",
    }
    assert rules(wanderly, "search_ad", ad) == []
    # (a Kanas description under the Yubeng headline is another product's: quality.other_product)

    en = "Experience single-origin coffee roasted to order on the Oregon coast"
    others = ["Tidewater Coffee Roasters", "Harbor Light"]
    alt_en = complete_alternative(spec, en, tidewater, others)
    assert alt_en is not None and alt_en.casefold() not in [o.casefold() for o in others]
    assert len(alt_en) <= 30 and dangling_word(alt_en) is None

    tiny = spec.model_copy(update={"max_chars": 4})
    assert complete_alternative(tiny, en, tidewater, []) is None


def test_in_a_long_field_the_later_sentence_repeating_a_phrase_goes() -> None:
    from agents.quality import drop_repeats
    from policy.findings import ComplianceFinding

    repeat = ComplianceFinding(
        rule_id="quality.repetition", category="quality_voice", severity="block", explanation="x",
        field="body", matched="强调小团慢旅行的",
    )  # fmt: skip
    body = (
        "我们找到了一种新的旅行方式。藏族向导带路，我们强调小团慢旅行的理念。每团最多 10 人。"
        "我们强调小团慢旅行的理念，让旅行更加放松。雨崩徒步七天，走约 48 公里。"
    )
    blog = Draft(channel="blog", fields={"title": "慢旅行", "body": body})
    fixed = drop_repeats(blog, [repeat]).fields["body"]
    assert fixed == (
        "我们找到了一种新的旅行方式。藏族向导带路，我们强调小团慢旅行的理念。每团最多 10 人。"
        "雨崩徒步七天，走约 48 公里。"
    )
    # Fewer sentences than a long field has: the phrase is left to the finding.
    short = Draft(channel="blog", fields={"body": "我们强调小团慢旅行的理念。我们强调小团慢旅行的节奏。"})
    assert drop_repeats(short, [repeat]) == short


def test_a_phrase_said_again_with_another_person_in_it_is_a_repeat() -> None:
    """A Hearthline e-mail of stop 45 (seed 7) said "the satisfaction of knowing their food will last them
    for many years", then "…knowing your food will last you for many years"; both blind reviewers rejected
    it. The check compares phrases with every pronoun as one person, and the last resort drops the later
    sentence."""
    from agents.quality import drop_repeats

    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    first = (
        "With its 5.2 L capacity and $185.00 price, it's an excellent choice for any home cook who wants to "
        "enjoy the satisfaction of knowing their food will last them for many years."
    )
    again = (
        "Don't wait to experience the satisfaction of knowing your food will last you for many years with "
        "our enameled cast-iron Dutch oven."
    )
    body = (
        "Hi there,\n\nAre you tired of worn coated pans? Look no further than our 5.5 qt Enameled "
        "Dutch Oven. "
        f"It is cast and enameled by our partner foundry in Porto, Portugal. {first} {again}\n\n"
        "Best,\nThe Hearthline team"
    )
    email = {"subject": "The Hearthline Dutch oven", "preheader": "Cast in Porto, Portugal", "body": body}
    context = QualityContext.build(CH["email"], hearthline)
    found = [f for f in quality_findings(context, email) if f.rule_id == "quality.repetition"]
    phrase = "the satisfaction of knowing your"
    assert [(f.field, f.matched) for f in found] == [("body", phrase)]
    assert found[0].span is not None and body[found[0].span[0] :].startswith(phrase)
    fixed = drop_repeats(Draft(channel="email", fields=email), found).fields["body"]
    assert again not in fixed and first in fixed
    varied = body.replace(again, "Order yours at hearthline.example.com today.")
    assert "quality.repetition" not in rules(hearthline, "email", {**email, "body": varied})


def test_the_last_resort_lets_the_first_we_sentence_name_the_brand(wanderly: Brand, tidewater: Brand) -> None:
    from agents.quality import name_the_brand

    def fix(brand: Brand, channel: str, fields: dict[str, str]) -> dict[str, str]:
        context = QualityContext.build(CH[channel], brand)
        return name_the_brand(
            Draft(channel=channel, fields=fields), quality_findings(context, fields), brand
        ).fields

    blog = {"title": "小团慢旅行", "body": "雨崩徒步七天。我们的团队由藏族向导带领。我们相信慢一点更好。"}
    assert rules(wanderly, "blog", blog).count("quality.required_term") == 1
    fixed = fix(wanderly, "blog", blog)
    assert fixed["body"] == "雨崩徒步七天。Wanderly 的团队由藏族向导带领。我们相信慢一点更好。"
    assert "quality.required_term" not in rules(wanderly, "blog", fixed)

    en = {"title": "Fresh", "body": "Freshness matters. We roast every bag to order. We ship in 48 hours."}
    assert fix(tidewater, "blog", en)["body"] == (
        "Freshness matters. At Tidewater, we roast every bag to order. We ship in 48 hours."
    )
    ours = {"title": "Fresh", "body": "Our beans are roasted to order."}
    assert fix(tidewater, "blog", ours)["body"] == "Tidewater's beans are roasted to order."
    # No sentence opens with it: the first "我们的" / "our" anywhere speaks as the brand.
    inside = {"title": "慢旅行", "body": "在我们的博客中，我们分享了三条路线。每团最多 10 人。"}
    assert (
        fix(wanderly, "blog", inside)["body"] == "在 Wanderly 的博客中，我们分享了三条路线。每团最多 10 人。"
    )
    guide = {"title": "Fresh", "body": "Brewing tips are in our guide."}
    assert fix(tidewater, "blog", guide)["body"] == "Brewing tips are in Tidewater's guide."
    # No "we" to turn into the brand, or the brand already named: nothing changes.
    none = {"title": "Fresh", "body": "Roasted to order, shipped in 48 hours."}
    assert fix(tidewater, "blog", none) == none
    named = {"title": "Fresh", "body": "Tidewater roasts to order. We ship in 48 hours."}
    assert fix(tidewater, "blog", named) == named
    # The Wanderly blog of 2026-12-03: no "我们的" in the body, "我们" mid-sentence, "我们的" in the title.
    body = "在快节奏的城市生活中，我们发现了一种全新的旅行方式。每团最多 10 人。"
    assert fix(wanderly, "blog", {"title": "慢旅行", "body": body})["body"] == (
        "在快节奏的城市生活中，Wanderly 发现了一种全新的旅行方式。每团最多 10 人。"
    )
    titled = fix(wanderly, "blog", {"title": "我们的小团慢游之旅", "body": "雨崩徒步七天。每团最多 10 人。"})
    assert titled["title"] == "Wanderly 的小团慢游之旅"


def test_the_last_resort_drops_passage_ids_echoed_into_the_prose(wanderly: Brand) -> None:
    from agents.quality import strip_citation_ids

    body = "雨崩徒步七天（P1），每团最多 10 人 [P2]。藏族向导带路。\n\nCitations: P1, P2"
    blog = {"title": "雨崩慢走七天", "body": body}
    assert "quality.citation_id" in rules(wanderly, "blog", blog)
    fixed = strip_citation_ids(Draft(channel="blog", fields=blog)).fields
    assert fixed["body"] == "雨崩徒步七天，每团最多 10 人。藏族向导带路。"
    assert "quality.citation_id" not in rules(wanderly, "blog", fixed)
    # An id used as a word in a sentence stays for the finding (and the copywriter) to deal with.
    word = {"title": "t", "body": "P1 计划从成都出发。"}
    assert strip_citation_ids(Draft(channel="blog", fields=word)).fields == word
    # The label on a line of its own, the ids under it (a Tidewater e-mail of stop 46), or with none.
    said = "Hey there!\n\nTide Club ships every 2, 3 or 4 weeks."
    email = {"body": f"{said}\n\nCitations:\nP1, P2, P3\n\nBest,"}
    assert strip_citation_ids(Draft(channel="email", fields=email)).fields["body"] == f"{said}\n\nBest,"
    bare = {"body": f"{said}\nSources: none"}
    assert strip_citation_ids(Draft(channel="email", fields=bare)).fields["body"] == said


def test_a_piece_that_asks_nothing_of_the_reader_warns(tidewater: Brand) -> None:
    """The Tidewater search ad of 2026-12-03 was all product facts from the brand file: accurate, and no
    call to action anywhere. The check warns (nothing is added: the words would not be the brand's)."""
    ctx = QualityContext.build(CH["search_ad"], tidewater, [])
    ad = {
        "headline_1": "Harbor Light",
        "headline_2": "Low Tide: $18.00 per 340 g bag",
        "headline_3": "Tidewater Coffee Roasters",
        "description_1": "A light-roast washed Ethiopian single origin.",
        "description_2": "A flexible coffee subscription delivered every 2, 3, or 4 weeks.",
    }
    found = [f for f in quality_findings(ctx, ad) if f.rule_id == "quality.call_to_action"]
    assert [(f.severity, f.field) for f in found] == [("warn", "description_2")]
    ad["headline_3"] = "Order a fresh bag today"
    assert not [f for f in quality_findings(ctx, ad) if f.rule_id == "quality.call_to_action"]
    zh = QualityContext.build(CH["email"], load_brand(ROOT / "examples" / "brands" / "wanderly"), [])
    body = (
        "你好，\n\n雨崩的春天来了，Wanderly 的徒步团 4 月出发。名额有限，欢迎预约。\n\n祝好，\nWanderly 团队"
    )
    assert not [
        f
        for f in quality_findings(zh, {"subject": "雨崩", "preheader": "春天", "body": body})
        if f.rule_id == "quality.call_to_action"
    ]


def test_a_possessive_waits_for_its_noun() -> None:
    """ "Try Clearleaf's" was delivered as a search-ad headline on 2026-12-03."""
    assert dangling_word("Try Clearleaf's") == "Clearleaf's"
    assert dangling_word("Try Clearleaf’s") == "Clearleaf’s"
    assert dangling_word("Shop Women's") is None  # a department, not a cut
    assert dangling_word("Clearleaf Barrier Moisturizer") is None


def test_a_sentence_pointing_back_at_a_dropped_one_goes_with_it() -> None:
    from agents.compliance import remove_offending_sentences
    from policy.findings import ComplianceFinding

    study = "In addition, we ran a 4-week study, which found that 81% said skin felt smoother."
    body = (
        f"Our serum is fragrance-free. {study} These results demonstrate how well it works. "
        "This indicates a low potential for irritation. We ship from Boulder."
        "\n\nThese results are ours to share. So why choose Clearleaf?"
    )
    found = ComplianceFinding(
        rule_id="judge.guarantee",
        category="guarantee",
        severity="block",
        explanation="x",
        field="body",
        matched=study,
    )
    draft = Draft(channel="blog", fields={"title": "t", "body": body})
    assert remove_offending_sentences(draft, [found], ["Clearleaf"]).fields["body"] == (
        "Our serum is fragrance-free. We ship from Boulder.\n\n"
        "These results are ours to share. So why choose Clearleaf?"  # another paragraph: left alone
    )
    zh = "土楼的墙有一米多厚。调查显示 95% 的旅客满意。这说明我们的路线很受欢迎。孩子们可以学做擂茶。"
    found_zh = found.model_copy(update={"matched": "调查显示 95% 的旅客满意。"})
    draft_zh = Draft(channel="blog", fields={"title": "t", "body": zh})
    assert (
        remove_offending_sentences(draft_zh, [found_zh]).fields["body"]
        == "土楼的墙有一米多厚。孩子们可以学做擂茶。"
    )


def test_the_noun_insert_is_no_placeholder(tidewater: Brand) -> None:
    """ "A removable stoneware insert that…" (a Hearthline product sheet's own words) blocked a blog as
    placeholder text on 2026-12-03; "insert name here" still is one."""
    line = "Hi there, the Tidewater slow cooker has a removable stoneware insert that is oven-safe."
    body = f"{line}{FILLER}\n\nCheers,\nthe team"
    assert rules(tidewater, "email", dict(GOOD_EMAIL_EN, body=body)) == []
    body = f"Hi there, Tidewater roasts to order, insert name here.{FILLER}\n\nCheers,\nthe team"
    assert rules(tidewater, "email", dict(GOOD_EMAIL_EN, body=body)) == ["quality.placeholder"]


def test_an_alternative_never_says_the_brand_twice() -> None:
    """ "Hearthline Hearthline 5.5 qt Enameled Dutch Oven" was an e-mail subject on 2026-12-03."""
    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    subject = next(f for f in CH["email"].fields if f.name == "subject")
    long = "Hearthline's enameled Dutch oven is cast and enameled by our partner foundry in Porto, Portugal"
    alt = complete_alternative(subject, long, hearthline, [])
    assert alt is not None and "Hearthline Hearthline" not in alt


def test_a_short_field_repeating_another_gets_a_phrase_from_the_brand_file() -> None:
    """Qingyu's ad of 2026-12-03 was blocked: description 2 said description 1 word for word."""
    from agents.quality import replace_duplicate_fields

    qingyu = load_brand(ROOT / "examples" / "brands" / "qingyu")
    same = "青屿通过图形化编程启蒙班，让孩子们亲手做能运行的作品，培养他们的逻辑思维和动手能力"
    ad = {
        "headline_1": "青屿少儿编程",
        "headline_2": "图形化启蒙班：每期 24 课时",
        "headline_3": "立即预约试听",
        "description_1": same,
        "description_2": same,
    }
    ctx = QualityContext.build(CH["search_ad"], qingyu, [])
    found = quality_findings(ctx, ad)
    assert [f.field for f in found if f.rule_id == "quality.repetition"] == ["description_2"]
    fixed = replace_duplicate_fields(CH["search_ad"], Draft(channel="search_ad", fields=ad), found, qingyu)
    assert fixed.fields["description_1"] == same and fixed.fields["description_2"] != same
    assert not [f for f in quality_findings(ctx, fixed.fields) if f.rule_id == "quality.repetition"]
    own = [qingyu.positioning, *(p.name for p in qingyu.products), *(p.description for p in qingyu.products)]
    assert any(words in fixed.fields["description_2"] for words in own)  # the brand file's words
    assert not fixed.fields["description_2"].startswith("青屿：青屿")
    # a long field (a blog body) is never swapped for a phrase
    blog = {"title": "t", "body": same}
    assert (
        replace_duplicate_fields(CH["blog"], Draft(channel="blog", fields=blog), found, qingyu).fields == blog
    )


def test_a_short_field_still_blocked_after_revision_gets_a_phrase_from_the_brand_file() -> None:
    """The last resort for a headline, ad description or subject line that keeps a blocking finding of its
    own: Clearleaf's ad of 2026-12-05 (seed 8) was blocked on "See how Clearleaf's products", a cut
    headline, and Hearthline's e-mail on a preheader calling its cookware "the best". Findings about the
    piece as a whole (no brand name, no hashtags) and long fields are not answered that way."""
    from agents.quality import replace_blocked_phrases

    clearleaf = load_brand(ROOT / "examples" / "brands" / "clearleaf")
    ad = {
        "headline_1": "Clearleaf Barrier Moisturizer",
        "headline_2": "Fragrance-free, 50 mL",
        "headline_3": "See how Clearleaf's products",
        "description_1": "Clearleaf discloses ingredient percentages on every label.",
        "description_2": "Shop fragrance-free skincare at Clearleaf.",
    }
    cut = QualityContext.build(CH["search_ad"], clearleaf, [], cut_to_fit=["headline_3"])  # cut to fit
    found = quality_findings(cut, ad)
    assert [f.rule_id for f in found if f.severity == "block"] == ["quality.fragment"]
    fixed, replaced = replace_blocked_phrases(
        CH["search_ad"], Draft(channel="search_ad", fields=ad), found, clearleaf
    )
    assert replaced == {"headline_3"}
    # a call to action that shares nothing with a phrase of the brand file sends the reader to its site
    assert fixed.fields["headline_3"] == "Visit clearleaf.example"
    # any other phrase field gets a whole product name
    cut2 = QualityContext.build(CH["search_ad"], clearleaf, [], cut_to_fit=["headline_2"])
    two, _ = replace_blocked_phrases(
        CH["search_ad"], Draft(channel="search_ad", fields=ad), quality_findings(cut2, ad), clearleaf
    )
    # Not "Barrier Moisturizer" (inside "Clearleaf Barrier Moisturizer"), nor "Clearleaf" alone beside it
    # (stop 53: both blind reviewers rejected that ad), nor another product's name in this one-product ad:
    # no phrase of the moisturizer's fits 30 characters, so the field keeps its finding and the ad blocks.
    assert two.fields["headline_2"] == ad["headline_2"]
    # With room for one of its facts, the field gets it.
    roomy = dict(ad, headline_2="Fragrance-free and 50 mL of it")
    wide = CH["search_ad"].model_copy(
        update={
            "fields": [
                f.model_copy(update={"max_chars": 60}) if f.name == "headline_2" else f
                for f in CH["search_ad"].fields
            ]
        }
    )
    cut3 = QualityContext.build(wide, clearleaf, [], cut_to_fit=["headline_2"])
    three, replaced3 = replace_blocked_phrases(
        wide, Draft(channel="search_ad", fields=roomy), quality_findings(cut3, roomy), clearleaf
    )
    assert replaced3 == {"headline_2"} and three.fields["headline_2"] != "Clearleaf"
    assert "Moisturizer" in three.fields["headline_2"] or "glycerin" in three.fields["headline_2"]
    assert {k: v for k, v in fixed.fields.items() if k != "headline_3"} == {
        k: v for k, v in ad.items() if k != "headline_3"
    }
    ctx = QualityContext.build(CH["search_ad"], clearleaf, [])
    assert not [f for f in quality_findings(ctx, fixed.fields) if f.severity == "block"]
    # a finding about the piece as a whole names a field only to say where: nothing is swapped for it
    piece_wide = [f.model_copy(update={"rule_id": "quality.required_term"}) for f in found]
    _, none = replace_blocked_phrases(
        CH["search_ad"], Draft(channel="search_ad", fields=ad), piece_wide, clearleaf
    )
    assert none == frozenset()
    # a blog body keeps its finding (the sentence-level fixes are the ones for prose)
    blog = {"title": "Skincare, disclosed", "body": "Our products are the best. " * 40}
    body_found = [f.model_copy(update={"field": "body", "rule_id": "en.superlative"}) for f in found]
    _, none = replace_blocked_phrases(CH["blog"], Draft(channel="blog", fields=blog), body_found, clearleaf)
    assert none == frozenset()


def test_template_text_in_an_email_is_filled_from_the_brand_file() -> None:
    """Clearleaf's e-mail, seeds 7 to 9 (2026-12-05), was blocked on "[Email Address]" and signed twice,
    once by "[Your Name]". The last resort gives the brand's own address, greets plainly, drops lines that
    are only a placeholder and keeps the last of two sign-offs; what it cannot fill stays, and so does its
    finding."""
    from agents.quality import fill_placeholders

    clearleaf = load_brand(ROOT / "examples" / "brands" / "clearleaf")
    body = (
        "Hi [Customer Name],\n\nOur serum lists every percentage on the label.\n\n"
        "Questions? Reach out to us at [Email Address].\n\nWarm regards,\n[Your Name]\n[Your Position]\n"
        "Clearleaf\n\nBest,\nThe Clearleaf team"
    )
    fixed = fill_placeholders(clearleaf, Draft(channel="email", fields={"subject": "Labels", "body": body}))
    assert fixed.fields["body"] == (
        "Hi there,\n\nOur serum lists every percentage on the label.\n\n"
        "Questions? Reach out to us at care@clearleaf.example.\n\nBest,\nThe Clearleaf team"
    )
    ctx = QualityContext.build(CH["email"], clearleaf, [])
    assert not [f for f in quality_findings(ctx, fixed.fields) if f.rule_id == "quality.placeholder"]
    # a placeholder it has nothing for stays, and is still found
    left = fill_placeholders(
        clearleaf, Draft(channel="email", fields={"subject": "s", "body": "Use code [CODE]."})
    )
    assert left.fields["body"] == "Use code [CODE]."
    assert [f.rule_id for f in quality_findings(ctx, {"subject": "s", "body": "Use code [CODE]."})].count(
        "quality.placeholder"
    ) == 1
    # Chinese: a greeting to a bracketed name greets plainly
    qingyu = load_brand(ROOT / "examples" / "brands" / "qingyu")
    zh = fill_placeholders(
        qingyu, Draft(channel="email", fields={"body": "【家长姓名】您好，\n课程下周开班。"})
    )
    assert zh.fields["body"].startswith("您好，\n课程下周开班")


def test_writing_guidelines_restated_as_copy_are_found_and_dropped(tidewater: Brand, wanderly: Brand) -> None:
    """A Clearleaf reply and blog of 2026-12-03 told customers "We use cosmetic language like 'skin
    feels' and 'looks'": the brand's guideline, not a statement about the product."""
    from agents.compliance import remove_offending_sentences

    line = "Hi there, Tidewater roasts to order. We use words like fresh and honest in our copy."
    body = f"{line}{FILLER}\n\nCheers,\nthe team"
    email = dict(GOOD_EMAIL_EN, body=body)
    assert rules(tidewater, "email", email) == ["quality.guideline_echoed"]
    context = QualityContext.build(CH["email"], tidewater)
    found = quality_findings(context, email)
    fixed = remove_offending_sentences(Draft(channel="email", fields=email), found, ["Tidewater"]).fields
    assert "We use words like" not in fixed["body"] and "Tidewater roasts to order." in fixed["body"]
    zh = {"text": "跟 Wanderly 去雨崩慢走七天。我们使用“有机会看到”这样的用语。#Wanderly #雨崩"}
    assert "quality.guideline_echoed" in rules(wanderly, "social_post", zh)
    # a process, not a guideline
    plain = dict(GOOD_EMAIL_EN, body=f"Hi there, Tidewater uses a 15 kg drum.{FILLER}\n\nCheers,\nthe team")
    assert rules(tidewater, "email", plain) == []
    # Clearleaf's delivered blog of 2026-12-04: a guideline and the copywriter's own instruction.
    only = dict(
        GOOD_EMAIL_EN, body=f"Hi there, we use only the Drug Facts wording for benefits.{FILLER}\n\nCheers"
    )
    assert "quality.guideline_echoed" in rules(tidewater, "email", only)
    told = "We will provide examples from the brand's knowledge passages to support our claims."
    echo = dict(GOOD_EMAIL_EN, body=f"Hi there, Tidewater roasts to order. {told}{FILLER}\n\nCheers")
    assert "quality.echoed_instruction" in rules(tidewater, "email", echo)


def test_a_heading_for_the_brands_writers_does_not_lead_its_items() -> None:
    """Clearleaf's last resort answered "Approved benefit language — Water resistant (40 minutes)." """
    from agents.quality import with_heading

    assert with_heading("- Water resistant (40 minutes).", "Approved benefit language") == (
        "- Water resistant (40 minutes)."
    )
    assert with_heading("- 雨崩徒步", "文案用语") == "- 雨崩徒步"
    assert with_heading("- Dishwasher damage.", "Not covered") == "Not covered — Dishwasher damage."


def test_the_brief_talked_about_in_the_copy_is_found_and_dropped(tidewater: Brand, wanderly: Brand) -> None:
    """Strategy is for the brief: a piece that tells customers whom it targets or what it wants from them
    ("吸引年轻用户关注", "our target audience") is sent back, and the last resort drops the sentence."""
    from agents.compliance import remove_offending_sentences

    zh = {"text": "跟 Wanderly 去雨崩慢走七天。这次活动希望吸引更多年轻用户关注我们。#Wanderly #雨崩"}
    assert "quality.strategy_leaked" in rules(wanderly, "social_post", zh)
    context = QualityContext.build(CH["social_post"], wanderly)
    found = quality_findings(context, zh)
    fixed = remove_offending_sentences(Draft(channel="social_post", fields=zh), found, ["Wanderly"]).fields
    assert "吸引" not in fixed["text"] and "跟 Wanderly 去雨崩慢走七天。" in fixed["text"]
    line = "Hi there, Tidewater roasts to order. Our target audience is busy commuters who love coffee."
    email = dict(GOOD_EMAIL_EN, body=f"{line}{FILLER}\n\nCheers,\nthe team")
    assert rules(tidewater, "email", email) == ["quality.strategy_leaked"]
    # speaking to the reader is copy, not strategy
    plain = dict(
        GOOD_EMAIL_EN, body=f"Hi there, Tidewater roasts for busy commuters.{FILLER}\n\nCheers,\nthe team"
    )
    assert rules(tidewater, "email", plain) == []
    ok = {"text": "跟 Wanderly 去雨崩慢走七天，关注我们，下周见。#Wanderly #雨崩"}
    assert "quality.strategy_leaked" not in rules(wanderly, "social_post", ok)


HEARTHLINE_NOT_COVERED = (
    "- Chips caused by impact, such as knocking the pot against a sink or counter, or dropping the lid.\n"
    "- Staining and discoloration of the interior enamel, which is normal and does not affect cooking.\n"
    "- Damage from a dishwasher."
)
HEARTHLINE_COVERED = (
    "- Enamel that cracks, crazes (fine spider-web cracks) or flakes off under normal use.\n"
    "- Defects in the cast-iron body.\n"
    "- The stainless steel knob is covered for 1 year only. After that, replacement knobs cost $9.00."
)
HEARTHLINE_TERMS = (
    "- **Warranty:** 10-year limited warranty on the enamel and body; 1-year limited warranty on the knob."
)


def _reply_rules(context: QualityContext, reply: str) -> list[str]:
    """The rule ids the checks find in a customer-service reply."""
    return [f.rule_id for f in quality_findings(context, {"reply": reply})]


def _hearthline_reply_context() -> QualityContext:
    from agents.quality import with_heading

    brand = load_brand(ROOT / "examples/brands/hearthline")
    policy = [
        with_heading(HEARTHLINE_COVERED, "5.5 qt Enameled Dutch Oven: covered for 10 years"),
        with_heading(HEARTHLINE_TERMS, "5.5 qt Enameled Dutch Oven"),
        with_heading(HEARTHLINE_NOT_COVERED, "5.5 qt Enameled Dutch Oven: not covered"),
    ]
    return QualityContext.build(CH["cs_reply"], brand, policy=policy)


def test_list_items_carry_their_heading_and_the_last_resort_answers_with_the_case_row() -> None:
    """Hearthline's reply of 2026-12-04 was the warranty term's two rows for a chip after a knock: the
    rows of a "not covered" list came without their heading, and the term's rows shared more words."""
    from agents.quality import answer_from_policy, with_heading

    headed = with_heading("Intro line.\n- Damage from a dishwasher.\n1. Second item", "Not covered:")
    assert headed == "Intro line.\nNot covered — Damage from a dishwasher.\nNot covered — Second item"
    assert with_heading("- 雨崩徒步", "不含项目") == "不含项目——雨崩徒步"
    assert with_heading("- Damage.", "") == "- Damage."
    context = _hearthline_reply_context()
    answer = answer_from_policy(context)
    # The excluding row alone: with the term's row beside it, the campaign of 2026-12-04 blocked its own
    # last resort as repeating "5.5 qt Enameled" and read as two contrary answers. Written as a sentence:
    # "5.5 qt Enameled Dutch Oven: not covered — Chips caused by impact…" read as pasted policy text.
    assert answer == (
        "Hi, thanks for your message. The warranty on the 5.5 qt Enameled Dutch Oven does not cover chips "
        "caused by impact, such as knocking the pot against a sink or counter, or dropping the lid."
    ), answer
    assert quality_findings(context, {"reply": answer}) == []
    # "Not covered" with nothing of the row that says why does not answer from the documents.
    bare = {"reply": "Hi, thanks for your message. Unfortunately that is not covered. Best, Hearthline"}
    assert "facts.policy_not_used" in [f.rule_id for f in quality_findings(context, bare)]
    # A product named without the brand's name, twice, is not a repeated phrase.
    twice = (
        "Hi, thanks for your message. The 5.5 qt Enameled Dutch Oven has a 10-year limited warranty on the "
        "enamel and body. Chips caused by impact on the 5.5 qt Enameled Dutch Oven are not covered."
    )
    assert "quality.repetition" not in [f.rule_id for f in quality_findings(context, {"reply": twice})]


def test_a_reply_calling_covered_what_the_documents_exclude_is_found() -> None:
    context = _hearthline_reply_context()
    found = functools.partial(_reply_rules, context)

    wrong = (
        "Hi, thanks for asking. The enamel on your Hearthline Dutch oven is covered by the 10-year "
        "warranty, so we will replace it. Best, the Hearthline team"
    )
    assert "facts.coverage_contradicted" in found(wrong)
    # the model's own first sentence in the Hearthline campaign of 2026-12-04 (seed 7)
    run = "The enamel on your Hearthline 5.5 qt Dutch oven is covered by the 10-year warranty, as stated."
    assert "facts.coverage_contradicted" in found(run)
    right = (
        "Hi, thanks for asking. Chips caused by impact, such as knocking the pot against a sink, are not "
        "covered by the 10-year warranty on the enamel and body. Best, the Hearthline team"
    )
    assert "facts.coverage_contradicted" not in found(right)
    # the case the question gives is a covered one: no finding
    crazed = "My Hearthline Dutch oven's enamel crazes with fine spider-web cracks under normal use. Covered?"
    brand = context.brand.model_copy(update={"channel_inputs": {"cs_reply": {"question": crazed}}})
    covered = QualityContext.build(CH["cs_reply"], brand, policy=list(context.policy))
    assert "facts.coverage_contradicted" not in [
        f.rule_id for f in quality_findings(covered, {"reply": wrong})
    ]


def test_copy_that_sends_the_reader_to_a_contact_gives_it(wanderly: Brand, tidewater: Brand) -> None:
    """ "Visit our website or call our hotline" with neither is a dead end: found per kind, given by the
    last resort from brand.yaml (allowed_hosts, allowed_contacts), dropped when the brand has none."""
    from agents.compliance import remove_offending_sentences
    from agents.quality import brand_contacts, give_contacts

    qingyu = load_brand(ROOT / "examples" / "brands" / "qingyu")
    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    assert brand_contacts(qingyu) == {
        "website": "qingyu.example.com",
        "phone": "400-555-0188",
        "email": "hello@qingyu.example.com",
    }
    assert brand_contacts(tidewater) == {"website": "tidewater.example", "email": "hello@tidewater.example"}
    dead_end = "如有疑问，请访问我们的官方网站或拨打我们的客服电话。"
    body = "您好：\n\n青隅的茶园在武夷山，每一批都写明采摘日期。" * 3 + dead_end + "\n\n青隅团队敬上"
    email = {"subject": "青隅新茶到了", "preheader": "武夷山岩茶，写明采摘日期", "body": body}
    context = QualityContext.build(CH["email"], qingyu)
    found = [f for f in quality_findings(context, email) if f.rule_id == "quality.contact_missing"]
    assert [f.matched for f in found] == ["我们的官方网站", "客服电话"]
    assert found[1].suggestion == 'give it: "400-555-0188"'
    given = give_contacts(CH["email"], qingyu, Draft(channel="email", fields=email)).fields
    assert "请访问我们的官方网站（qingyu.example.com）或拨打我们的客服电话（400-555-0188）。" in given["body"]
    assert "quality.contact_missing" not in rules(qingyu, "email", given)
    # given anywhere in the piece counts, in any form
    ok = dict(email, body=body.replace(dead_end, "官网 https://qingyu.example.com/tea ，热线 400 555 0188。"))
    assert "quality.contact_missing" not in rules(qingyu, "email", ok)
    # English: a kind the brand lists is given once; every pointer to one it does not list goes
    text = (
        "Harbor Light is back on the roaster. Questions? Give us a call or write to us. Wholesale cafes can "
        "call our customer service line for pricing. Order your bag today. #Tidewater"
    )
    post = {"text": text}
    context = QualityContext.build(CH["social_post"], tidewater)
    found = [f for f in quality_findings(context, post) if f.rule_id == "quality.contact_missing"]
    assert [f.matched for f in found] == ["Give us a call", "call our customer service line", "write to us"]
    assert found[2].suggestion == 'give it: "hello@tidewater.example"'
    assert found[0].suggestion.startswith("point to tidewater.example or hello@tidewater.example instead")
    given = give_contacts(CH["social_post"], tidewater, Draft(channel="social_post", fields=post))
    assert "Give us a call or write to us at hello@tidewater.example." in given.fields["text"]
    standing = quality_findings(context, given.fields)
    assert [f.matched for f in standing if f.rule_id == "quality.contact_missing"] == [
        "Give us a call",
        "call our customer service line",
    ]
    dropped = remove_offending_sentences(given, standing, ["Tidewater"]).fields["text"]
    assert "call" not in dropped.lower() and dropped.startswith("Harbor Light is back on the roaster.")
    assert "quality.contact_missing" not in rules(tidewater, "social_post", {"text": dropped})
    # written in only where the field keeps its limits
    ad = {
        "headline_1": "Cast iron that lasts",
        "headline_2": "Enameled Dutch ovens",
        "headline_3": "Call us today",
        "description_1": "Hearthline makes cast-iron cookware in Ohio.",
        "description_2": "Enameled Dutch ovens with a 10-year limited warranty. Order on our website.",
    }
    assert [f for f in rules(hearthline, "search_ad", ad) if f == "quality.contact_missing"] == [
        "quality.contact_missing"
    ]  # the phone; the ad itself links to the site
    fixed = give_contacts(CH["search_ad"], hearthline, Draft(channel="search_ad", fields=ad)).fields
    assert fixed == ad  # "Call us today at (513) 555-0142" is over 30 characters
    # not pointers: someone else's site, a figure of speech, a reply; an e-mail can be answered
    for line in (
        "火车票请在12306官网购买，门票价格以景区官网公布为准。",
        "这次的价格比官网还低？认准#官网同款。",
    ):
        assert "quality.contact_missing" not in rules(
            wanderly, "social_post", {"text": f"跟 Wanderly 去雨崩。{line}"}
        )
    for line in (
        "The official website of the Smithsonian lists the exhibit. Check the website for a roast date.",
        "Call us old-fashioned, but we still roast by hand. We like to call our team the roasting crew.",
        "Just reply to this post, or send a message.",
    ):
        assert "quality.contact_missing" not in rules(tidewater, "social_post", {"text": line})
    body = GOOD_EMAIL_EN["body"].replace("order today.", "order today. Email us with any question.")
    reply = dict(GOOD_EMAIL_EN, body=body)
    assert rules(tidewater, "email", reply) == []
    go = {"text": "跟 Wanderly 去雨崩，去官网预约吧。#Wanderly"}
    assert "quality.contact_missing" in rules(wanderly, "social_post", go)
    go = give_contacts(CH["social_post"], wanderly, Draft(channel="social_post", fields=go)).fields
    assert go["text"] == "跟 Wanderly 去雨崩，去官网（wanderly.example）预约吧。#Wanderly"


def test_the_reader_is_addressed_one_way(wanderly: Brand, tidewater: Brand) -> None:
    """The demo's social post of stop 34 said "让您的旅程充满惊喜" and then "跟你一起"; a copy editor
    reads 您 and 你 in one piece as two voices."""
    mixed = {"text": "在雨崩村慢走七天，让您的旅程慢下来。Wanderly 的领队陪你走完全程。#Wanderly"}
    context = QualityContext.build(CH["social_post"], wanderly)
    (found,) = [f for f in quality_findings(context, mixed) if f.rule_id == "quality.register_mixed"]
    # a tie: the form used first (您) stays, the first 你 is the finding's span
    assert (found.severity, found.field, found.matched) == ("block", "text", "你")
    assert mixed["text"][found.span[0]] == "你" and found.suggestion == "address the reader as 您 throughout"
    # one form, the plural, the idiom, "mini", a quotation: all fine
    for text in (
        "在雨崩村慢走七天，让你的旅程慢下来。#Wanderly",
        "在雨崩村慢走七天，让您的旅程慢下来。欢迎你们一家人同行。#Wanderly",
        "属于你我的秋天：您可以选喀纳斯秋季 8天。#Wanderly",
        "您的迷你旅行包已备好。#Wanderly",
        "您会听到向导说：“你一定要看一次日照金山。”#Wanderly",
    ):
        assert "quality.register_mixed" not in rules(wanderly, "social_post", {"text": text}), text
    # across fields: the subject says 你, the body 您 twice
    email = {
        "subject": "你的秋天，去喀纳斯",
        "preheader": "Wanderly 小团慢游",
        "body": "您好，\n\n喀纳斯秋季 8天为您留了位置。\n\n祝好，\nWanderly 团队",
    }
    found_all = quality_findings(QualityContext.build(CH["email"], wanderly), email)
    (found,) = [f for f in found_all if f.rule_id == "quality.register_mixed"]
    assert (found.field, found.matched) == ("subject", "你")
    assert found.suggestion == "address the reader as 您 throughout"
    # English copy has no such check
    english = {"text": "You and you. #Tidewater"}
    assert "quality.register_mixed" not in rules(tidewater, "social_post", english)


def test_the_last_resort_keeps_the_register_the_piece_uses_most(wanderly: Brand) -> None:
    email = {
        "subject": "你的秋天，去喀纳斯",
        "preheader": "Wanderly 小团慢游",
        "body": "喀纳斯秋季 8天为您留了位置，您可以选 9 月出发。向导说：“你一定要来。”",
    }
    fixed = one_register(wanderly, Draft(channel="email", fields=email)).fields
    assert fixed["subject"] == "您的秋天，去喀纳斯"
    assert fixed["body"] == email["body"]  # the quotation keeps its 你
    # the plain greeting the last resort adds speaks the piece's register
    body = {**email, "subject": "您的秋天", "body": "喀纳斯秋季 8天为您留了位置。\n\n祝好，\nWanderly 团队"}
    done = finish_conventions(CH["email"], wanderly, Draft(channel="email", fields=body)).fields
    assert done["body"].startswith("您好，")
    casual = {**body, "subject": "你的秋天", "body": "喀纳斯秋季 8天为你留了位置。\n\n祝好，\nWanderly 团队"}
    assert (
        finish_conventions(CH["email"], wanderly, Draft(channel="email", fields=casual))
        .fields["body"]
        .startswith("你好，")
    )


def test_a_stock_sentence_that_names_nothing_of_the_brands_own(wanderly: Brand, tidewater: Brand) -> None:
    """From the eval suite's recorded blogs: "我们致力于为旅行者提供一个安全、有趣且有意义的旅行体验" and
    "Join us today and experience the difference." say nothing any brand could not."""
    blog = {
        "title": "雨崩徒步 7天：慢慢走进梅里雪山",
        "body": "在快节奏的城市生活中，我们希望提供一种不同的旅行方式。雨崩徒步 7天由藏族向导带路。"
        "我们致力于为旅行者提供一个安全、有趣且有意义的旅行体验。",
    }
    found = [
        f
        for f in quality_findings(QualityContext.build(CH["blog"], wanderly), blog)
        if f.rule_id == "quality.filler"
    ]
    assert [(f.field, f.severity, f.matched) for f in found] == [
        ("body", "block", "在快节奏的城市生活中，我们希望提供一种不同的旅行方式。"),
        ("body", "block", "我们致力于为旅行者提供一个安全、有趣且有意义的旅行体验。"),
    ]
    # a stock phrase with something of the brand's own: a product, a place of its sheets, a figure
    for text in (
        "雨崩徒步 7天，带来一段难忘的旅程。",
        "在梅里雪山脚下，开启一段慢下来的旅程。",
        "每团最多 10 人，我们致力于让每个人都被照顾到。",
        "我们相信，慢下来才能看见一个地方。",  # no stock phrase: the brand's voice
    ):
        assert "quality.filler" not in rules(wanderly, "blog", {"title": blog["title"], "body": text}), text
    english = {"title": "Harbor Light is back", "body": "Join us today and experience the difference."}
    found = [
        f
        for f in quality_findings(QualityContext.build(CH["blog"], tidewater), english)
        if f.rule_id == "quality.filler"
    ]
    assert [f.matched for f in found] == ["Join us today and experience the difference."]
    for stock in (
        "Don't miss out on this delicious coffee!",
        "Don’t miss out on this opportunity.",
        "I hope this message finds you well.",  # a Clearleaf e-mail of 2026-12-05
        "I wanted to take a moment to share some information with you about our brand, Tidewater.",
        "We are thrilled that you have chosen us as your trusted partner.",  # a Clearleaf e-mail, seed 7
        "If you have any questions, please don't hesitate to reach out to us.",
        "Thank you for considering Tidewater Coffee Roasters as your roaster.",  # a Clearleaf e-mail, seed 7
        "We are here to help.",
        "Tidewater Coffee Roasters: Your Trusted Small-Batch Partner",  # a Hearthline subject, seed 7
        "We're proud of our commitment to transparency and disclosure in our products.",  # stop 40
        "We look forward to hearing from you soon.",
        "So why settle for less?",
        "We are the perfect solution for you.",
    ):
        body = {"title": "Harbor Light is back", "body": stock}
        assert rules(tidewater, "blog", body).count("quality.filler") == 1, stock
    body = {"title": "Harbor Light", "body": "Don't miss Harbor Light before the harvest runs out."}
    assert "quality.filler" not in rules(tidewater, "blog", body)
    named = "Experience the difference of a washed Ethiopian from Yirgacheffe."  # proper names
    assert "quality.filler" not in rules(tidewater, "blog", {"title": "Harbor Light", "body": named})
    # a headline of stock words blocks too (its last resort is a phrase from the brand file)
    ad_rules = [
        (f.field, f.severity)
        for f in quality_findings(
            QualityContext.build(CH["search_ad"], tidewater),
            {
                "headline_1": "Experience the difference",
                "headline_2": "Harbor Light, roasted to order",
                "headline_3": "Order a bag today",
                "description_1": "A washed Ethiopian single origin with jasmine and bergamot notes.",
                "description_2": "Tidewater roasts every bag to order. Order today.",
            },
        )
        if f.rule_id == "quality.filler"
    ]
    assert ad_rules == [("headline_1", "block")]


def test_a_product_fact_with_a_label_of_its_own_reads_as_one_phrase(tidewater: Brand) -> None:
    """The Tidewater ad of 2026-12-04 (seed 7) got "Low Tide: Tasting notes: red apple, panela, milk
    chocolate" from the brand file: a field label showing in the copy."""
    from agents.quality import _named_fact

    assert (
        _named_fact("Low Tide", "Tasting notes: red apple", ": ", "en") == "Low Tide tasting notes: red apple"
    )
    assert _named_fact("Low Tide", "$18.00 per 340 g bag", ": ", "en") == "Low Tide: $18.00 per 340 g bag"
    cut = "Skip before 11:59 pm"  # a time is no label
    assert _named_fact("Tide Club subscription", cut, ": ", "en") == f"Tide Club subscription: {cut}"
    spec = CH["search_ad"].fields[3]  # description_1, 90 characters
    alternative = complete_alternative(spec, "Low Tide tasting notes", tidewater, [])
    assert alternative is not None and ": Tasting notes" not in alternative


def test_the_brand_speaks_as_itself_not_of_the_brand(tidewater: Brand, wanderly: Brand) -> None:
    """ "The brand offers a wide range of kitchen appliances" (a Hearthline ad of 2026-12-05) and "The
    company also offers…" (a Hearthline e-mail) read as a press release about the brand."""
    from agents.quality import speak_as_the_brand

    body = GOOD_EMAIL_EN["body"].replace("Tidewater roasts every bag", "The company roasts every bag")
    assert rules(tidewater, "email", dict(GOOD_EMAIL_EN, body=body)) == ["quality.third_person"]
    fixed = speak_as_the_brand(tidewater, Draft(channel="email", fields=dict(GOOD_EMAIL_EN, body=body)))
    assert "Tidewater Coffee Roasters roasts every bag" in fixed.fields["body"]
    assert rules(tidewater, "email", fixed.fields) == []
    said = Draft(channel="x", fields={"t": "The brand's roaster is in Astoria; a brand new grinder waits."})
    assert speak_as_the_brand(tidewater, said).fields["t"] == (
        "Tidewater Coffee Roasters' roaster is in Astoria; a brand new grinder waits."
    )
    post = {"text": "该品牌带你在雨崩村慢走七天，藏族向导带路。跟 Wanderly 去看梅里雪山。#Wanderly"}
    assert rules(wanderly, "social_post", post) == ["quality.third_person"]
    zh = speak_as_the_brand(wanderly, Draft(channel="social_post", fields=post)).fields["text"]
    assert zh.startswith("Wanderly 带你在雨崩村")
    # an apposition (a Hearthline blog of 2026-12-05, seed 7, came out "Welcome to Hearthline, Hearthline
    # that offers…")
    welcome = Draft(
        channel="x", fields={"t": "Welcome to Tidewater Coffee Roasters, the company that roasts."}
    )
    assert speak_as_the_brand(tidewater, welcome).fields["t"] == (
        "Welcome to Tidewater Coffee Roasters, which roasts."
    )
    short = Draft(
        channel="x", fields={"t": "Tidewater, the company that roasts. Tidewater is the brand that ships."}
    )
    assert speak_as_the_brand(tidewater, short).fields["t"] == "Tidewater, which roasts. Tidewater ships."


def test_hashtags_where_the_channel_has_none_are_found_and_made_words(tidewater: Brand) -> None:
    """An e-mail of 2026-12-05 ended "#Tidewater #HarborLight": hashtags belong to posts."""
    from agents.quality import drop_stray_hashtags

    body = GOOD_EMAIL_EN["body"].replace("Pick your grind", "Try #HarborLight and pick your grind")
    body = body.replace("order today.", "order today.\n\n#Tidewater #HarborLight")
    assert rules(tidewater, "email", dict(GOOD_EMAIL_EN, body=body)) == ["quality.stray_hashtags"]
    fixed = drop_stray_hashtags(CH["email"], Draft(channel="email", fields=dict(GOOD_EMAIL_EN, body=body)))
    assert "#" not in fixed.fields["body"]
    assert "Try Harbor Light and pick your grind" in fixed.fields["body"]
    assert rules(tidewater, "email", fixed.fields) == []
    # A link's fragment is no hashtag, and a post keeps its own.
    linked = GOOD_EMAIL_EN["body"].replace("order today.", "order at tidewater.example/shop#beans today.")
    assert rules(tidewater, "email", dict(GOOD_EMAIL_EN, body=linked)) == []
    zh = Draft(channel="email", fields={"body": "雨崩徒步 7 天，藏族向导带路。#Wanderly #慢旅行"})
    assert drop_stray_hashtags(CH["email"], zh).fields["body"] == "雨崩徒步 7 天，藏族向导带路。"
    post = Draft(channel="social_post", fields={"text": "Harbor Light is back. #Tidewater"})
    assert drop_stray_hashtags(CH["social_post"], post) == post


@pytest.mark.parametrize(
    ("headline", "dangling"),
    [
        ("order now for fresh", "fresh"),
        ("Tidewater Coffee Roasters: Fresh", "Fresh"),
        ("Shop the latest", "latest"),
        ("Always fresh", None),
        ("Made for the bold", None),
        ("Discover Our Traceable", "Traceable"),  # a Tidewater subject of 2026-12-05 (this stop's run)
        ("Discover Tidewater's traceable", "traceable"),
        ("Clearleaf Barrier Moisturizer is a lightweight", "lightweight"),
        ("Built for the curious", None),
        ("Roasted fresh in Astoria", None),
        ("Tidewater roasts traceable", "traceable"),  # a headline of 2026-12-05 (stop 37's seed 7)
        ("Tidewater roasts fresh", None),
        ("The Dutch oven is a versatile", "versatile"),
        ("A Comprehensive Guide to Traceable", "Traceable"),  # stop 44's Tidewater blog title, cut
        ("Clearleaf makes skincare products that are not only effective but also", "but also"),
        ("Tidewater Coffee Roasters: A Small-Batch Specialty Coffee Roaster Based", "Based"),
        ("Roasted and shipped from Astoria", None),
        ("Available in blue and green also", None),
        ("Coffee for the Curious", None),
        ("Built to Last", None),
        ("Skincare Without the Guesswork", None),
    ],
)
def test_an_adjective_waiting_for_its_noun_ends_no_headline(headline: str, dangling: str | None) -> None:
    """Two Tidewater headlines of 2026-12-05 ("order now for fresh", "Tidewater Coffee Roasters: Fresh")
    stopped before their noun."""
    assert dangling_word(headline) == dangling


@pytest.mark.parametrize(
    ("headline", "dangling"),
    [
        ("让你在探索未知的同时", "的同时"),
        ("在雪山脚下的时候", "的时候"),
        ("出发之前", None),
        ("雨崩徒步 7 天", None),
    ],
)
def test_a_chinese_while_clause_without_its_main_clause_ends_no_headline(
    headline: str, dangling: str | None
) -> None:
    """A Wanderly headline of 2026-12-05 (seed 8) stopped at "让你在探索未知的同时"."""
    assert dangling_word(headline) == dangling


def test_a_style_guideline_about_description_is_no_copy(tidewater: Brand) -> None:
    """ "We use concrete foods to describe the flavor profile" reached a Tidewater blog (2026-12-05)."""
    body = "We use concrete foods to describe the flavor profile. Harbor Light tastes of jasmine and peach."
    assert "quality.guideline_echoed" in rules(tidewater, "blog", {"title": "Harbor Light", "body": body})


def test_a_product_fact_pasted_in_as_a_sentence_is_written_out() -> None:
    """Hearthline's post, e-mail and blog of 2026-12-05 said "Limited lifetime warranty." and "$48.00."
    as sentences of their own: "a jumble of spec fragments", the blind reviewer wrote."""
    from agents.quality import write_bare_facts

    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    text = (
        "The 10-inch skillet is cast in Hamilton, Ohio, and pre-seasoned with 3 coats of canola oil. "
        "Limited lifetime warranty. $48.00. #Hearthline"
    )
    found = [f for f in quality_findings(QualityContext.build(CH["social_post"], hearthline), {"text": text})]
    assert [(f.rule_id, f.matched) for f in found if f.rule_id == "quality.bare_fact"] == [
        ("quality.bare_fact", "Limited lifetime warranty."),
        ("quality.bare_fact", "$48.00."),
    ]
    fixed = write_bare_facts(hearthline, Draft(channel="social_post", fields={"text": text})).fields["text"]
    assert fixed.endswith(
        "canola oil. It comes with a limited lifetime warranty. It costs $48.00. #Hearthline"
    ), fixed
    assert "quality.bare_fact" not in rules(hearthline, "social_post", {"text": fixed})
    said = "The 10-inch skillet costs $48.00 and carries a limited lifetime warranty. #Hearthline"
    assert "quality.bare_fact" not in rules(hearthline, "social_post", {"text": said})


HEARTHLINE_REMEDY = (
    "If the damage isn't covered (a chipped Dutch oven after a knock, a dropped skillet), our customer care "
    "team can offer 20% off one replacement of the same item, once per original item. Ask by email; there is "
    "no code."
)


def test_asked_what_they_can_do_a_customer_with_an_uncovered_case_gets_the_documents_offer() -> None:
    """Hearthline's customer asked "Is that covered…, and what are my options?"; the replies of 2026-12-05
    said "not covered" and stopped, though the warranty page offers 20% off a replacement."""
    from agents.quality import answer_from_policy

    base = _hearthline_reply_context()
    context = QualityContext.build(CH["cs_reply"], base.brand, policy=[*base.policy, HEARTHLINE_REMEDY])
    found = functools.partial(_reply_rules, context)

    half = (
        "Hi, thanks for your message. Chips caused by impact, such as knocking the pot against a sink, are "
        "not covered by the warranty."
    )
    assert "facts.policy_not_used" in found(half)
    whole = half + " Our customer care team can offer 20% off one replacement of the same item."
    assert found(whole) == []
    answer = answer_from_policy(context)
    assert answer is not None and "does not cover chips caused by impact" in answer
    assert "20% off one replacement" in answer
    assert found(answer) == []
    # Not asked what they can do: the exclusion alone answers.
    only = base.brand.model_copy(
        update={"channel_inputs": {"cs_reply": {"question": "My Dutch oven chipped after a knock. Covered?"}}}
    )
    plain = QualityContext.build(CH["cs_reply"], only, policy=list(context.policy))
    assert "facts.policy_not_used" not in [f.rule_id for f in quality_findings(plain, {"reply": half})]


def test_the_offer_for_an_uncovered_case_joins_the_exclusion_it_follows(tmp_path: Path) -> None:
    """Real index: Hearthline's question ("…and what are my options?") retrieves the impact exclusion but
    not the warranty page's offer for uncovered damage, which ranks lower; the checks and the last resort
    read both, so the answer gives the 20% replacement offer."""
    from agents.channels import load_channels
    from agents.quality import answer_from_policy, policy_passages
    from tests.conftest import retrieve

    state, ctx = retrieve(ROOT / "examples" / "brands" / "hearthline", tmp_path, ["cs_reply"])
    # The retriever brings it in, so the copywriter sees it and the claim check finds its 20% stated.
    assert any("20% off one replacement" in p.text for p in state.passages)
    policy = policy_passages(ctx, state, load_channels()["cs_reply"])
    assert any("Chips caused by impact" in p for p in policy)
    assert any("20% off one replacement" in p for p in policy)
    context = QualityContext.build(CH["cs_reply"], state.brand, policy=policy)
    answer = answer_from_policy(context)
    assert answer is not None and "does not cover" in answer and "20% off one replacement" in answer
    # The eval suite's reply of 2026-12-05 (seed 7), delivered as pass before: the term, no options.
    seen = (
        "The enamel chipped on the rim of your Hearthline 5.5 qt Dutch oven is not covered by its 10-year "
        "warranty, but it will need to be replaced with a new one after that period."
    )
    assert "facts.policy_not_used" in [f.rule_id for f in quality_findings(context, {"reply": seen})]


def test_a_post_that_names_no_product_and_no_figure_says_nothing(wanderly: Brand) -> None:
    """Clearleaf's posts of 2026-12-05 ("Discover the truth about skincare ingredients with Clearleaf. Make
    informed choices with Clearleaf's fragrance-free skincare.") named no product and no fact: "pure
    filler" to the blind reviewer. A field marked ``specifics`` (a post's text, an e-mail's body) must
    name a product or give a figure; the last resort adds a sentence naming one."""
    clearleaf = load_brand(ROOT / "examples" / "brands" / "clearleaf")
    post = CH["social_post"]
    unmarked = post.model_copy(
        update={"fields": [post.fields[0].model_copy(update={"specifics": False}), *post.fields[1:]]}
    )

    def found(brand: Brand, text: str, channel: object = post) -> list[str]:
        context = QualityContext.build(channel, brand)  # type: ignore[arg-type]
        return [f.rule_id for f in quality_findings(context, {"text": text})]

    empty = (
        "Discover the truth about skincare ingredients with Clearleaf. Make informed choices with "
        "Clearleaf's fragrance-free skincare. #Clearleaf #Skincare"
    )
    assert "quality.no_specifics" in found(clearleaf, empty)
    assert "quality.no_specifics" not in found(clearleaf, empty, unmarked)  # a channel file's choice
    named = "Clearleaf's Barrier Moisturizer is fragrance-free, and its label lists all. #Clearleaf"
    assert "quality.no_specifics" not in found(clearleaf, named)
    figure = "Clearleaf lists the percentage of every active, down to 1% zinc PCA. #Clearleaf"
    assert "quality.no_specifics" not in found(clearleaf, figure)
    zh = "探索未知，发现美丽：我们致力于提供独特的旅行体验。#Wanderly #雨崩徒步"  # a hashtag is no mention
    assert "quality.no_specifics" in found(wanderly, zh)
    assert "quality.no_specifics" not in found(wanderly, GOOD_SOCIAL_ZH["text"])
    assert "quality.no_specifics" not in found(wanderly, "#Wanderly #慢旅行")  # too short says it
    # The last resort names the product the post speaks of most, before its hashtags, within the limit.
    findings = quality_findings(QualityContext.build(post, clearleaf), {"text": empty})
    fixed = name_a_product(post, clearleaf, Draft(channel="social_post", fields={"text": empty}), findings)
    assert (
        "skincare. Clearleaf Niacinamide 10% Serum is a lightweight, fragrance-free serum"
        in fixed.fields["text"]
    )
    assert fixed.fields["text"].endswith("zinc PCA. #Clearleaf #Skincare")
    assert "quality.no_specifics" not in found(clearleaf, fixed.fields["text"])


@pytest.mark.parametrize(
    ("row", "sentence"),
    [
        (
            "Cast-iron skillets: not covered — Damage from dropping the pan.",
            "The warranty on the cast-iron skillets does not cover damage from dropping the pan.",
        ),
        (
            "Ember Induction Burner: covered for 2 years — Electrical and mechanical defects.",
            "For 2 years, the warranty on the Ember Induction Burner covers electrical and mechanical "
            "defects.",
        ),
        (  # an item that is a sentence already stands alone
            "5.5 qt Enameled Dutch Oven: covered for 10 years — The stainless steel knob is covered for 1 "
            "year only.",
            "The stainless steel knob is covered for 1 year only.",
        ),
        ("Shelf life — Unopened: 24 months", "Shelf life — Unopened: 24 months"),  # no cover heading
    ],
)
def test_a_covered_or_not_covered_item_is_given_to_a_customer_as_a_sentence(row: str, sentence: str) -> None:
    from agents.quality import _warranty_sentence

    assert _warranty_sentence(row) == sentence


def test_each_part_of_a_two_part_question_is_answered_or_the_documents_answer_it(tidewater: Brand) -> None:
    """Tidewater's reply of 2026-12-05 gave the deadline alone to "Can I skip a delivery without
    cancelling, and what's the deadline?": half an answer, delivered as pass."""
    from agents.quality import answer_from_policy, question_parts, with_heading

    question = tidewater.channel_inputs["cs_reply"]["question"]
    assert question_parts(question) == ["Can I skip a delivery without cancelling", "what's the deadline?"]
    policy = [
        with_heading(
            "- You can skip a single delivery, pause for up to 3 months, change coffees, or cancel from your "
            "account page at any time.\n- Changes must be made **before 11:59 pm Pacific on the day before "
            "your roast date**. After that cutoff, the batch has been scheduled and that delivery will go "
            "out as planned.",
            "Skip, pause, or cancel",
        ),
        "Tide Club orders ship via USPS Ground Advantage and usually arrive in 2-5 business days.",
    ]
    context = QualityContext.build(CH["cs_reply"], tidewater, policy=policy)
    half = {"reply": "Changes must be made before 11:59 pm Pacific on the day before your roast date."}
    found = [f for f in quality_findings(context, half) if f.rule_id == "facts.policy_not_used"]
    assert found and "Can I skip a delivery without cancelling" in found[0].explanation
    whole = {
        "reply": "Yes: you can skip a single delivery from your account page without cancelling. Changes "
        "must be made before 11:59 pm Pacific on the day before your roast date."
    }
    assert "facts.policy_not_used" not in [f.rule_id for f in quality_findings(context, whole)]
    # The last resort answers each part from its own line, as sentences (no "Skip, pause, or cancel —").
    answer = answer_from_policy(context)
    assert answer is not None and answer.startswith("Hi, thanks for your message. You can skip a single")
    assert "before 11:59 pm Pacific on the day before your roast date" in answer and " — " not in answer
    assert "facts.policy_not_used" not in [f.rule_id for f in quality_findings(context, {"reply": answer})]


def test_a_part_no_passage_answers_is_answered_from_the_product_facts() -> None:
    """Clearleaf's question: water resistant? how often to reapply? The retrieved directions answer the
    second part; the product's own fact ("Water resistant (40 minutes)") the first."""
    from agents.quality import answer_from_policy

    clearleaf = load_brand(ROOT / "examples" / "brands" / "clearleaf")
    policy = [
        "In the morning: Niacinamide 10% Serum, then Barrier Moisturizer, then Mineral Sunscreen SPF 30 as "
        "the last step. In the evening: serum, then moisturizer.",
        "- **Directions:** Apply liberally 15 minutes before sun exposure. Reapply after 40 minutes of "
        "swimming or sweating, immediately after towel drying, and at least every 2 hours.",
    ]
    context = QualityContext.build(CH["cs_reply"], clearleaf, policy=policy)
    routine = {
        "reply": "Our Mineral Sunscreen SPF 30 is water resistant (40 minutes). Use it as the last step."
    }
    assert "facts.policy_not_used" in [f.rule_id for f in quality_findings(context, routine)]
    echo = {  # the eval suite's reply of 2026-12-05: the question's "swimming laps" back, no "reapply"
        "reply": "Yes, our mineral sunscreen SPF 30 is water resistant. Water-resistant means it's effective "
        "for swimming laps most mornings and won't dry out your skin as quickly."
    }
    assert "facts.policy_not_used" in [f.rule_id for f in quality_findings(context, echo)]
    answered = {
        "reply": "Yes, it is water resistant (40 minutes). Reapply after 40 minutes of swimming, right after "
        "towel drying, and at least every 2 hours."
    }
    assert "facts.policy_not_used" not in [f.rule_id for f in quality_findings(context, answered)]
    answer = answer_from_policy(context)
    assert answer is not None and "Reapply after 40 minutes of swimming" in answer
    # the product's fact as a sentence, not pasted after its name and a colon
    assert "Clearleaf Mineral Sunscreen SPF 30 is water resistant (40 minutes)." in answer
    assert "In the morning" not in answer


@pytest.mark.parametrize(
    ("doc", "section", "answers"),
    [
        ("knowledge/faq.html", "What is your return policy?", True),
        ("knowledge/sunscreen_spf30.md", "Drug Facts summary", True),
        ("knowledge/tide_club.md", "Skip, pause, or cancel", True),
        ("knowledge/sunscreen_spf30.md", "Approved benefit language", False),
        ("knowledge/sunscreen_spf30.md", "Not allowed", False),
        ("knowledge/approved_copy.md", "Search ad: serum (approved March 2024)", False),
        ("knowledge/brand_guidelines.md", "Voice", False),
        ("knowledge/reviews.json", "", False),
        ("knowledge/company.txt", "写作要做的事（Do）", False),
    ],
)
def test_a_customer_is_answered_from_documents_for_customers(doc: str, section: str, answers: bool) -> None:
    from agents.retriever import answers_customers

    assert answers_customers(doc, section) is answers


def test_stock_words_in_an_ad_block_in_its_descriptions_and_its_headlines() -> None:
    # A Qingyu ad of 2026-12-05: "内容丰富多样", "注重个性化需求" — filler, the blind reviewer wrote.
    qingyu = load_brand(ROOT / "examples" / "brands" / "qingyu")
    ad = {
        "headline_1": "内容丰富多样",
        "headline_2": "图形化编程启蒙班",
        "headline_3": "立即预约试听",  # a call to action is no filler
        "description_1": "内容丰富多样。",
        "description_2": "注重个性化需求，欢迎预约。",
    }
    found = quality_findings(QualityContext.build(CH["search_ad"], qingyu), ad)
    assert [(f.field, f.severity) for f in found if f.rule_id == "quality.filler"] == [
        ("headline_1", "block"),
        ("description_1", "block"),
        ("description_2", "block"),
    ]
    # "Don't wait" as a Tidewater headline of 2026-12-05 (seed 7): "empty urgency", the blind reviewer wrote
    tidewater = load_brand(ROOT / "examples" / "brands" / "tidewater")
    ad = {
        "headline_1": "Tidewater Coffee Roasters",
        "headline_2": "Harbor Light, roasted to order",
        "headline_3": "Don't wait",
        "description_1": "A washed Ethiopian single origin with jasmine and bergamot notes.",
        "description_2": "We ship every bag within 48 hours of roasting. Order today.",
    }
    found = quality_findings(QualityContext.build(CH["search_ad"], tidewater), ad)
    assert [(f.field, f.severity) for f in found if f.rule_id == "quality.filler"] == [
        ("headline_3", "block")
    ]
    for title in ("Don't Wait For Better Coffee", "Act Now And Save"):  # Title Case names nothing
        found = quality_findings(
            QualityContext.build(CH["search_ad"], tidewater), {**ad, "headline_3": title}
        )
        assert [f.field for f in found if f.rule_id == "quality.filler"] == ["headline_3"], title


def test_the_writer_talking_about_the_writing_is_filler() -> None:
    """ "First off, let's talk about the facts." (a Hearthline e-mail of stop 43, seed 7: "mostly filler",
    its blind reviewer wrote) says nothing of the skillet; a sentence with the skillet's facts stays."""
    body = (
        "Hi there!\n\nFirst off, let's talk about the facts. The 10-inch Cast-Iron Skillet is pre-seasoned "
        "with 3 coats of canola oil. Now let's dive into the details. It works on gas, electric, induction, "
        "grill and campfire, and it's a great choice for anyone who cooks over a fire.\n\nBest,\nThe "
        "Hearthline team"
    )
    fields = {
        "subject": "The 10-inch Cast-Iron Skillet",
        "preheader": "Pre-seasoned, ready for any stove",
        "body": body,
    }
    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    found = quality_findings(QualityContext.build(CH["email"], hearthline), fields)
    assert [f.matched for f in found if f.rule_id == "quality.filler"] == [
        "First off, let's talk about the facts.",
        "Now let's dive into the details.",
    ]


def test_an_ad_description_or_a_preheader_of_names_only_is_replaced(tidewater: Brand) -> None:
    """ "Tidewater Coffee Roasters Harbor Light" as an ad's description (stop 42: "repeating the
    headlines without saying anything", the blind reviewer wrote) and a preheader that is the product's
    name: a field with a sentence's room that only names the brand or its products is found, and the
    last resort gives it a phrase of the brand file that says more than a name. A headline or a subject
    may be a name."""
    from agents.quality import replace_blocked_phrases

    ad = {
        "headline_1": "Tidewater Coffee Roasters",
        "headline_2": "Harbor Light",
        "headline_3": "Order today",
        "description_1": "Tidewater Coffee Roasters Harbor Light",
        "description_2": "We ship every bag within 48 hours of roasting. Order today.",
    }
    found = quality_findings(QualityContext.build(CH["search_ad"], tidewater), ad)
    names_only = [f for f in found if f.rule_id == "quality.names_only"]
    assert [(f.field, f.severity) for f in names_only] == [("description_1", "block")]
    fixed, replaced = replace_blocked_phrases(
        CH["search_ad"], Draft(channel="search_ad", fields=ad), names_only, tidewater
    )
    assert replaced == {"description_1"}
    new = fixed.fields["description_1"]
    assert new != ad["description_1"] and len(new) <= 90
    assert not [
        f
        for f in quality_findings(QualityContext.build(CH["search_ad"], tidewater), fixed.fields)
        if f.rule_id == "quality.names_only"
    ]
    email = {
        "subject": "Harbor Light",
        "preheader": "Tidewater's Harbor Light",
        "body": "Hi there,\n\nHarbor Light is a washed Ethiopian coffee with jasmine and bergamot notes, "
        "roasted to order in Astoria and shipped within 48 hours of roasting. Order a bag on our site "
        "today and taste it at its freshest.\n\nBest,\nThe Tidewater team",
    }
    found = quality_findings(QualityContext.build(CH["email"], tidewater), email)
    assert [f.field for f in found if f.rule_id == "quality.names_only"] == ["preheader"]


def test_a_value_pasted_as_a_label_before_a_sentence_is_found_and_dropped(
    wanderly: Brand, tidewater: Brand
) -> None:
    """A Wanderly post and ad of 2026-12-05 (seed 7) opened sentences with the strategist's key-message
    headings: "慢行探索：我们采用小团、慢节奏的方式进行旅行" ("pasted value labels", the blind reviewer)."""
    from agents.quality import drop_pasted_labels

    post = {
        "text": "慢行探索：我们采用小团、慢节奏的方式进行旅行。真实体验：我们鼓励游客参与在地活动。"
        "雨崩徒步 7天，每团最多 10 人。#Wanderly"
    }
    found = [
        f
        for f in quality_findings(QualityContext.build(CH["social_post"], wanderly), post)
        if f.rule_id == "quality.pasted_label"
    ]
    assert [(f.field, f.severity, f.span) for f in found] == [
        ("text", "block", (0, 5)),
        ("text", "block", (23, 28)),
    ]
    fixed = drop_pasted_labels(wanderly, Draft(channel="social_post", fields=post)).fields["text"]
    assert fixed == (
        "我们采用小团、慢节奏的方式进行旅行。我们鼓励游客参与在地活动。"
        "雨崩徒步 7天，每团最多 10 人。#Wanderly"
    )
    assert "quality.pasted_label" not in rules(wanderly, "social_post", {"text": fixed})
    # the positioning line as a label; an English value
    headline = "探索未知，发现美丽：我们致力于提供独特的旅行体验"
    assert drop_pasted_labels(wanderly, Draft(channel="search_ad", fields={"h": headline})).fields["h"] == (
        "我们致力于提供独特的旅行体验"
    )
    said = "Transparency: we print the roast date on every bag."
    assert rules(tidewater, "social_post", {"text": said}).count("quality.pasted_label") == 1
    unlabelled = drop_pasted_labels(tidewater, Draft(channel="social_post", fields={"text": said}))
    assert unlabelled.fields["text"] == "We print the roast date on every bag."
    # a label with its fact, a product's or the brand's name, a note: no pasted value
    for text in (
        "费用：6,980元/人，每团最多 10 人。#Wanderly",
        "云南·雨崩徒步 7天：我们在雨崩村慢走七天。#Wanderly",
        "Wanderly：我们在雨崩村慢走七天，每团最多 10 人。#Wanderly",
        "温馨提示：我们建议出发前每周快走三次，雨崩徒步全程约 48 公里。#Wanderly",
        "适合人群：想慢下来的城市上班族，雨崩徒步 7天。#Wanderly",
        "好消息：我们的秋季线路开放报名了。#Wanderly",  # devices of copy's own: news, a note, a greeting
        "特别说明：我们不接受临时改期。#Wanderly",
        "亲爱的朋友们：我们想和你分享雨崩的秋天。#Wanderly",
    ):
        assert "quality.pasted_label" not in rules(wanderly, "social_post", {"text": text}), text
    for text in (
        "Harbor Light: our lightest roast, jasmine and bergamot.",
        "Roast date: printed on every bag.",
        "Good news: we've restocked Harbor Light.",
        "The secret: our beans rest for a week.",
        "Our promise: we roast every bag by hand.",
        "Here's the deal: we never sell stale beans.",
    ):
        assert "quality.pasted_label" not in rules(tidewater, "social_post", {"text": text}), text


def test_a_product_goes_before_the_sign_off_of_an_e_mail_written_line_by_line() -> None:
    # A Clearleaf e-mail of 2026-12-05 (seed 7) had its paragraphs apart by single line breaks; the
    # product's sentence went after "Best regards,\nClearleaf", on the signature's line.
    from agents.quality import name_a_product

    clearleaf = load_brand(ROOT / "examples" / "brands" / "clearleaf")
    body = (
        "Hi there,\nThank you for considering Clearleaf as your skincare provider.\nOur approach to skincare "
        "is transparent and honest, so you can understand every ingredient in what you put on your skin, "
        "every single day of the week.\nIf you have any questions, please reach out to us.\nBest regards,\n"
        "Clearleaf"
    )
    fields = {"subject": "Hello from Clearleaf", "preheader": "What we make", "body": body}
    found = quality_findings(QualityContext.build(CH["email"], clearleaf), fields)
    assert "quality.no_specifics" in [f.rule_id for f in found]
    named = name_a_product(CH["email"], clearleaf, Draft(channel="email", fields=fields), found)
    assert named.fields["body"].endswith("1% zinc PCA.\nBest regards,\nClearleaf")


def test_two_phrase_fields_sharing_a_long_clause_repeat_each_other(wanderly: Brand) -> None:
    """A Wanderly ad of 2026-12-05 (seed 7) had "在梅里雪山脚下的雨崩村慢走七天" in its second headline (a
    phrase from the brand file, put there by the last resort) and its second description ("repeated
    verbatim", the blind reviewer wrote)."""
    from agents.quality import replace_duplicate_fields

    ad = {
        "headline_1": "Wanderly 小团慢旅行",
        "headline_2": "云南·雨崩徒步 7天：在梅里雪山脚下的雨崩村慢走七天",
        "headline_3": "详情请访问 wanderly.example",
        "description_1": "福建·土楼文化 5天：住进百年土楼，跟客家人学做擂茶。",
        "description_2": "在梅里雪山脚下的雨崩村慢走七天，由领队与当地藏族向导共同带队的小团徒步路线。",
    }
    found = quality_findings(QualityContext.build(CH["search_ad"], wanderly), ad)
    repeats = [f for f in found if f.rule_id == "quality.repetition"]
    assert [(f.field, f.severity) for f in repeats] == [("description_2", "block")]
    fixed = replace_duplicate_fields(
        CH["search_ad"], Draft(channel="search_ad", fields=ad), repeats, wanderly
    )
    assert fixed.fields["description_2"] != ad["description_2"]
    assert "在梅里雪山脚下的雨崩村慢走七天" not in fixed.fields["description_2"]
    assert "quality.repetition" not in rules(wanderly, "search_ad", fixed.fields)
    # a product's name in two headlines, a clause said in a post and in its own e-mail body: no repeat
    ad["description_2"] = "云南·雨崩徒步 7天，每团最多 10 人，6,980元/人。"
    assert "quality.repetition" not in rules(wanderly, "search_ad", ad)


def test_the_revision_requests_words_as_a_label_are_an_echo(tidewater: Brand) -> None:
    """A Clearleaf ad of 2026-12-05 (seed 7, after a revision asked for "another fact, benefit or call to
    action") came back with "Another fact: all Clearleaf products' ingredient percentages are listed." """
    for text in ("Another fact: every bag is roasted to order.", "Call to action: order Harbor Light today."):
        assert "quality.echoed_instruction" in rules(tidewater, "social_post", {"text": text}), text
    said = "Every bag is roasted to order, another fact our regulars like: the date is on the bag."
    assert "quality.echoed_instruction" not in rules(tidewater, "social_post", {"text": said})


def test_the_brands_files_named_or_their_source_markers_pasted_are_an_echo(tidewater: Brand) -> None:
    """Two e-mails of d12d1ee (seed 7), both delivered: Hearthline's said "Please refer to the product
    sheets for details."; Qingyu's pasted a post from its approved-copy archive under the archive's own
    marker line "—— 微信朋友圈（2024年9月）——". A dash between words is no marker."""
    qingyu = load_brand(ROOT / "examples" / "brands" / "qingyu")
    pasted = "家长您好！\n\n—— 微信朋友圈（2024年9月）——\n自动浇花器做好了。\n\n青屿少儿编程"
    assert "quality.echoed_instruction" in rules(qingyu, "email", {"body": pasted})
    sheet = {"text": "Harbor Light is back. Please refer to the product sheets for details."}
    assert "quality.echoed_instruction" in rules(tidewater, "social_post", sheet)
    for said in ("Harbor Light — washed, bright — is back.", "Roasted to order -- shipped in 48 hours."):
        assert "quality.echoed_instruction" not in rules(tidewater, "social_post", {"text": said}), said


def test_a_phrase_from_the_brand_file_does_not_repeat_the_positioning_however_punctuated() -> None:
    """A Qingyu e-mail of 2026-12-05 (seed 7) had the positioning line as its subject, with a colon
    ("青屿少儿编程：为 6 至 14 岁的孩子开设小班编程课"), and again as its preheader; the last resort put the
    positioning line back in the preheader and the e-mail stayed blocked."""
    from agents.quality import replace_blocked_phrases

    qingyu = load_brand(ROOT / "examples" / "brands" / "qingyu")
    email = {
        "subject": "青屿少儿编程：为 6 至 14 岁的孩子开设小班编程课",
        "preheader": qingyu.positioning,
        "body": "家长您好！\n\n图形化编程启蒙班每期 12 课时，每班最多 8 人。欢迎预约试听。"
        "\n\n祝好，\n青屿 团队",
    }
    found = quality_findings(QualityContext.build(CH["email"], qingyu), email)
    assert ("quality.positioning_repeated", "preheader") in [(f.rule_id, f.field) for f in found]
    fixed, replaced = replace_blocked_phrases(
        CH["email"], Draft(channel="email", fields=email), found, qingyu
    )
    assert replaced == {"preheader"}
    assert "为 6 至 14 岁的孩子开设小班编程课" not in fixed.fields["preheader"]
    assert "quality.positioning_repeated" not in rules(qingyu, "email", fixed.fields)


def test_function_words_of_the_product_sheets_make_no_sentence_concrete() -> None:
    """A Qingyu ad of 2026-12-05 (seed 7): "注重学生的个性化需求，提供适合不同年龄段孩子的课程选择" passed as
    concrete because "孩子的" is in its product sheets; the blind reviewer called it generic filler."""
    qingyu = load_brand(ROOT / "examples" / "brands" / "qingyu")
    stock = "青屿少儿编程注重学生的个性化需求，提供适合不同年龄段孩子的课程选择，并且强调课程的实用性。"
    assert "quality.filler" in rules(qingyu, "blog", {"title": "青屿少儿编程", "body": stock})
    named = "图形化编程启蒙班内容丰富多样，每期 12 课时。"  # a course and a figure
    assert "quality.filler" not in rules(qingyu, "blog", {"title": "青屿少儿编程", "body": named})


def test_a_headline_that_ends_on_the_brand_and_its_verb_is_cut_short(tidewater: Brand) -> None:
    """A Tidewater headline of 2026-12-05 (seed 7): "Tidewater roasts" (a cut took its object)."""
    ad = {
        "headline_1": "Tidewater Coffee Roasters",
        "headline_2": "Tidewater roasts",
        "headline_3": "Order Harbor Light today",
        "description_1": "A washed Ethiopian single origin with jasmine and bergamot notes.",
        "description_2": "We ship every bag within 48 hours of roasting. Order today.",
    }
    found = quality_findings(QualityContext.build(CH["search_ad"], tidewater), ad)
    assert [(f.field, f.rule_id) for f in found if f.rule_id == "quality.truncated"] == [
        ("headline_2", "quality.truncated")
    ]
    whole = {**ad, "headline_2": "Tidewater roasts to order"}
    assert "quality.truncated" not in rules(tidewater, "search_ad", whole)


def test_a_chinese_post_that_names_no_route_has_no_specifics(wanderly: Brand) -> None:
    """A Wanderly post of 2026-12-05 (seed 7), once its pasted labels were dropped, named no route:
    "……感受当地的文化和自然环境". "的文化" of "适合亲子家庭的文化慢游路线" had counted as naming one."""
    post = {
        "text": "我们采用小团、慢节奏的方式进行旅行，让游客能够更好地感受当地的文化和自然环境。"
        "我们鼓励游客参与真实的旅行活动。#Wanderly #旅行体验"
    }
    assert "quality.no_specifics" in rules(wanderly, "social_post", post)
    named = {"text": "在梅里雪山脚下的雨崩村慢走，藏族向导带路。#Wanderly"}
    assert "quality.no_specifics" not in rules(wanderly, "social_post", named)


def test_a_signature_run_into_the_last_sentence_is_not_signed_twice(wanderly: Brand) -> None:
    """A Wanderly e-mail of 2026-12-05 (seed 7) ended "…请随时联系我们。Wanderly团队" and then signed off
    "祝好，\nWanderly 团队": blocked for the repeat."""
    from agents.quality import finish_conventions

    trip = (
        "雨崩徒步 7天，每团最多 10 人，由领队与当地藏族向导共同带队。全程徒步约 48 公里，"
        "最高海拔约 3,700 米，我们建议你从现在开始每周练习快走或慢跑。秋天的雨崩村安静，适合慢慢走、慢慢看。"
    )
    body = f"你好，\n\n{trip}请随时联系我们。Wanderly团队\n\n祝好，\nWanderly 团队"
    email = {"subject": "雨崩徒步 7天", "preheader": "每团最多 10 人", "body": body}
    fixed = finish_conventions(CH["email"], wanderly, Draft(channel="email", fields=email)).fields["body"]
    assert fixed.endswith("请随时联系我们。\n\n祝好，\nWanderly 团队"), fixed
    assert fixed.count("团队") == 1
    signed = f"你好，\n\n{trip}请随时联系我们。\n\n祝好，\nWanderly 团队"  # one signature: unchanged
    assert finish_conventions(
        CH["email"], wanderly, Draft(channel="email", fields={**email, "body": signed})
    ) == (Draft(channel="email", fields={**email, "body": signed}))
    # "… Best regards, Hearthline." closing the last paragraph before "Best,\nThe Hearthline team" (stop 40)
    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    closing = "It has 10 power levels and a timer up to 170 minutes."
    body = f"Hi there!\n\n{closing} Best regards, Hearthline.\n\nBest,\nThe Hearthline team"
    en = {"subject": "Ember Induction Burner, 1,800 W", "preheader": "10 power levels", "body": body}
    fixed = finish_conventions(CH["email"], hearthline, Draft(channel="email", fields=en)).fields["body"]
    assert fixed == f"Hi there!\n\n{closing}\n\nBest,\nThe Hearthline team"
    cheers = Draft(channel="email", fields={**en, "body": body.replace("Best regards,", "Cheers!")})
    assert finish_conventions(CH["email"], hearthline, cheers).fields["body"] == fixed
    # at the very end, before any sign-off (a Wanderly e-mail of stop 40 was then signed a second time)
    ending = {**email, "body": f"你好，\n\n{trip}感谢您的支持！Wanderly 团队"}
    signed_once = finish_conventions(CH["email"], wanderly, Draft(channel="email", fields=ending)).fields[
        "body"
    ]
    assert signed_once == f"你好，\n\n{trip}感谢您的支持！\n\n祝好，\nWanderly 团队"
    kept = f"Hi there!\n\n{closing} Cooking with Hearthline.\n\nBest,\nThe Hearthline team"
    assert (
        finish_conventions(
            CH["email"], hearthline, Draft(channel="email", fields={**en, "body": kept})
        ).fields["body"]
        == kept
    )


def test_a_subject_on_a_product_the_body_only_mentions_in_passing() -> None:
    """Two e-mails of 41ea6ea (seed 7) named in their subjects a product the body only listed: Hearthline's
    Dutch oven, Qingyu's Scratch class (the blind reviewer rejected both). A body that gives the product's
    facts backs the subject; the last resort picks a subject on a product the body tells."""
    from agents.quality import back_the_subject, told_products

    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    listed = (
        "Hi there,\n\nOur range includes the 10-inch skillet, the Dutch oven and the Ember Induction Burner. "
        "The Hearthline 12-inch Cast-Iron Skillet has a helper handle opposite the main handle and costs "
        "$62.00. Visit hearthline.example.com today.\n\nBest,\nThe Hearthline team"
    )
    email = {
        "subject": "Meet the 5.5 qt Enameled Dutch Oven",
        "preheader": "Cast iron for every night",
        "body": listed,
    }
    assert told_products(hearthline, listed) == {"Hearthline 12-inch Cast-Iron Skillet"}
    found = [f for f in quality_findings(QualityContext.build(CH["email"], hearthline), email)]
    (unbacked,) = [f for f in found if f.rule_id == "quality.subject_unbacked"]
    assert unbacked.field == "subject" and "only mentions in passing" in unbacked.explanation
    fixed = back_the_subject(CH["email"], hearthline, Draft(channel="email", fields=email)).fields
    assert "Dutch" not in fixed["subject"] and "quality.subject_unbacked" not in rules(
        hearthline, "email", fixed
    )
    told = listed.replace(
        "Our range includes the 10-inch skillet, the Dutch oven and the Ember Induction Burner.",
        "The 5.5 qt Enameled Dutch Oven is oven-safe to 500°F with its stainless steel knob.",
    )
    assert "quality.subject_unbacked" not in rules(hearthline, "email", {**email, "body": told})
    # a body about one product tells it in any sentence (a Clearleaf e-mail of this stop: "This serum …
    # contains 10% niacinamide", the name only in its last line; its subject had been replaced for it)
    clearleaf = load_brand(ROOT / "examples" / "brands" / "clearleaf")
    serum = (
        "Hi there,\n\nThis serum is a lightweight, fragrance-free formula with 10% niacinamide and 1% zinc "
        "PCA.\n\nWe recommend trying Clearleaf Niacinamide 10% Serum.\n\nBest,\nThe Clearleaf team"
    )
    assert told_products(clearleaf, serum) == {"Clearleaf Niacinamide 10% Serum"}

    qingyu = load_brand(ROOT / "examples" / "brands" / "qingyu")
    passing = (
        "家长您好：\n\n青屿少儿编程开设图形化编程启蒙班（Scratch）、Python 少年进阶班等课程，"
        "欢迎了解。\n\n青屿少儿编程"
    )
    scratch = (
        "家长您好：\n\n图形化编程启蒙班（Scratch）适合 6–8 岁，线下班每班最多 6 人，"
        "用 Scratch 做动画和小游戏。\n\n青屿少儿编程"
    )
    assert told_products(qingyu, passing) == set()
    assert told_products(qingyu, scratch) == {"图形化编程启蒙班（Scratch）"}
    cn = {"subject": "Scratch 启蒙班开课啦", "preheader": "", "body": passing}
    assert "quality.subject_unbacked" in rules(qingyu, "email", cn)
    assert "quality.subject_unbacked" not in rules(qingyu, "email", {**cn, "body": scratch})


def test_a_label_before_every_headline_is_said_once() -> None:
    """A Qingyu ad of 41ea6ea (seed 7) opened each headline with "青屿少儿编程：" ("the brand name before
    every headline", the blind reviewer wrote): a repetition; the last resort keeps it on the first."""
    from agents.quality import drop_shared_labels

    qingyu = load_brand(ROOT / "examples" / "brands" / "qingyu")
    ad = {
        "headline_1": "青屿少儿编程：小班编程课",
        "headline_2": "青屿少儿编程：每班最多 6 人",
        "headline_3": "青屿少儿编程：免费入学测评",
        "description_1": "图形化编程启蒙班（Scratch）适合 6–8 岁，线下班每班最多 6 人。",
        "description_2": "Python 少年进阶班 3,840元/期，预约 20 分钟免费入学测评。",
    }
    found = [f for f in quality_findings(QualityContext.build(CH["search_ad"], qingyu), ad)]
    (label,) = [f for f in found if f.rule_id == "quality.repetition"]
    assert label.field == "headline_2" and "青屿少儿编程" in label.explanation
    fixed = drop_shared_labels(CH["search_ad"], Draft(channel="search_ad", fields=ad)).fields
    assert [fixed[k] for k in ("headline_1", "headline_2", "headline_3")] == [
        "青屿少儿编程：小班编程课",
        "每班最多 6 人",
        "免费入学测评",
    ]
    assert "quality.repetition" not in rules(qingyu, "search_ad", fixed)
    # one label, or labels that differ, are no repetition
    assert drop_shared_labels(CH["search_ad"], Draft(channel="search_ad", fields=fixed)).fields == fixed
    varied = {**ad, "headline_2": "费用：3,600元/期", "headline_3": "时长：每课时 45 分钟"}
    assert "quality.repetition" not in rules(qingyu, "search_ad", {**varied, "headline_1": "小班编程课"})


def test_a_channel_that_features_a_product_gets_the_one_its_brief_names() -> None:
    """The e-mail is about one product (channel ``features: product``): the one the angle names, else the
    one the key messages name most, else the one whose sheet is closest to the angle; the draft prompt
    gives its sheet and asks for it in the subject and its facts in the body."""
    from agents.featured import featured_product
    from agents.state import CreativeBrief, KeyMessage
    from prompts.registry import default_registry

    get_prompt = default_registry().get

    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    names = [p.name for p in hearthline.products]

    def brief(angle: str, *messages: str) -> CreativeBrief:
        return CreativeBrief(
            audience_insight="Home cooks want one pan that lasts.",
            key_messages=[KeyMessage(text=m, citations=["d1"]) for m in messages or ("Cast in Ohio.",)],
            tone="plain",
            channel_angles={"email": angle},
        )

    assert CH["email"].features == "product" and CH["blog"].features == "story"
    assert (
        featured_product(hearthline, brief("Show the Ember Induction Burner's ten levels."), CH["email"]).name
        == names[3]
    )
    by_messages = brief(
        "Cook more at home.", "The Dutch oven is oven-safe to 500°F.", "The 5.5 qt Dutch oven comes in Oat."
    )
    assert featured_product(hearthline, by_messages, CH["email"]).name == names[2]
    assert (
        featured_product(hearthline, brief("Dinner waits on a programmable timer."), CH["email"]).name
        == names[4]
    )
    assert featured_product(hearthline, brief("Cast iron care."), CH["blog"]) is None

    product = hearthline.products[2]
    text = get_prompt("copywriter.draft@7").render(
        brand=hearthline,
        channel=CH["email"],
        brief=brief("x"),
        brief_shown=True,
        angle="x",
        channel_inputs={},
        focus=[],
        case_rows=[],
        featured=product,
        answer_shape="{}",
    )
    assert f"This piece is about one product, {product.name}." in text
    assert (
        f'Name {product.name} in "subject" and in "body"' in text and '"preheader" gives one of them' in text
    )
    assert all(f"  - {fact}\n" in text for fact in product.facts)
    plain = {
        **dict(brand=hearthline, channel=CH["email"], brief=brief("x")),
        "brief_shown": True,
        "angle": "x",
        "channel_inputs": {},
        "focus": [],
        "case_rows": [],
        "answer_shape": "{}",
    }
    # Without a featured product, v7 is v6 word for word (the eval suite's recorded answers still apply).
    assert get_prompt("copywriter.draft@7").render(**plain, featured=None) == get_prompt(
        "copywriter.draft@6"
    ).render(**plain)


def test_a_paragraph_from_a_passage_shows_the_passage_not_the_sheet() -> None:
    from prompts.registry import default_registry

    get_prompt = default_registry().get
    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    product = hearthline.products[3]
    inputs = dict(
        brand=hearthline,
        channel=CH["blog"],
        long_field=CH["blog"].field("body"),
        previous="…the burner.",
        product=product,
        words=100,
        language_name="English",
    )
    passage = "Covered: electrical and mechanical defects, including the controls, fan and display."
    text = get_prompt("copywriter.expand@2").render(**inputs, passage=passage)
    assert passage in text and f"The piece is about {product.name}." in text
    # Given the sheet as well, the 1.5B model restated it in every paragraph and left the passage out.
    assert not any(fact in text for fact in product.facts)
    # Without a passage, v2 is v1 word for word.
    v1 = get_prompt("copywriter.expand@1").render(**inputs)
    assert get_prompt("copywriter.expand@2").render(**inputs, passage="") == v1
    assert all(fact in v1 for fact in product.facts)


def test_a_subject_that_names_a_product_the_body_never_mentions(tidewater: Brand) -> None:
    """Two e-mails of 2026-12-05 (seed 7): "Tidewater Coffee Roasters Breakwater Blend" over a body about the
    roaster, a Clearleaf subject on the moisturizer over a body about the serum ("promise the Barrier
    Moisturizer but the body never mentions it", the blind reviewer wrote)."""
    from agents.quality import back_the_subject

    email = {
        "subject": "Tidewater Coffee Roasters Breakwater Blend",
        "preheader": "Harbor Light is back on the roaster",
        "body": "Hi there,\n\nHarbor Light is back: a washed Ethiopian from Yirgacheffe, roasted to order "
        "and shipped within 48 hours. Order a bag at tidewater.example today.\n\nBest,\nThe Tidewater team",
    }
    found = [f for f in quality_findings(QualityContext.build(CH["email"], tidewater), email)]
    assert [(f.rule_id, f.field) for f in found if f.rule_id == "quality.subject_unbacked"] == [
        ("quality.subject_unbacked", "subject")
    ]
    fixed = back_the_subject(CH["email"], tidewater, Draft(channel="email", fields=email)).fields
    assert "Breakwater" not in fixed["subject"] and fixed["preheader"] == email["preheader"]
    assert "quality.subject_unbacked" not in rules(tidewater, "email", fixed)
    backed = {**email, "subject": "Harbor Light is back"}
    assert "quality.subject_unbacked" not in rules(tidewater, "email", backed)
    # the brand's name as the subject and as the body's signature is no repetition (41ea6ea's e-mail)
    signed = {
        **email,
        "subject": "Tidewater Coffee Roasters",
        "body": email["body"] + "\nTidewater Coffee Roasters",
    }
    assert "quality.repetition" not in rules(tidewater, "email", signed)


def test_a_phrase_from_the_brand_file_is_not_inside_another_headline() -> None:
    """Clearleaf's ad of 2026-12-05 (seed 7, 41ea6ea) was blocked: its second headline "Barrier
    Moisturizer" repeats the first, "Clearleaf Barrier Moisturizer", and the last resort chose the same
    product name again."""
    from agents.quality import replace_blocked_phrases

    clearleaf = load_brand(ROOT / "examples" / "brands" / "clearleaf")
    ad = {
        "headline_1": "Clearleaf Barrier Moisturizer",
        "headline_2": "Barrier Moisturizer",
        "headline_3": "Visit clearleaf.example",
        "description_1": "Clearleaf discloses ingredient percentages on every label.",
        "description_2": "A fragrance-free moisturizer with glycerin, squalane, and a ceramide complex.",
    }
    found = quality_findings(QualityContext.build(CH["search_ad"], clearleaf), ad)
    assert [(f.rule_id, f.field) for f in found if f.severity == "block"] == [
        ("quality.repetition", "headline_2")
    ]
    fixed, replaced = replace_blocked_phrases(
        CH["search_ad"], Draft(channel="search_ad", fields=ad), found, clearleaf
    )
    # The product's name again is no stand-in, and neither is "Clearleaf" alone beside "Clearleaf Barrier
    # Moisturizer" (what stop 53's ad got here, rejected by both blind reviewers): nothing fits 30
    # characters, and the ad stays blocked rather than delivered with a headline that says nothing.
    assert replaced == frozenset() and fixed.fields["headline_2"] == ad["headline_2"]
    assert "quality.repetition" in rules(clearleaf, "search_ad", fixed.fields)


def test_a_preheader_the_body_quotes_is_a_repetition_and_the_last_resort_picks_another(
    tidewater: Brand, wanderly: Brand
) -> None:
    """Four e-mails of stop 40 were rejected for "the preheader sentence is repeated verbatim in the body"
    (a Tidewater e-mail of seed 7 here). The last resort gives the preheader a phrase of the brand file the
    body does not quote; a title or a product's name said in both is no repeat."""
    from agents.quality import replace_duplicate_fields, shared_run

    email = {
        "subject": "Breakwater Blend is built for milk drinks",
        "preheader": "A medium-dark espresso blend of Brazilian and Guatemalan coffees built for milk "
        "drinks.",
        "body": "Hi there,\n\nTidewater Coffee Roasters is proud to offer you a medium-dark espresso "
        "blend of Brazilian and Guatemalan coffees built for milk drinks. This blend is 60% Brazil "
        "Cerrado Mineiro natural and 40% Guatemala Huehuetenango washed, and every order ships within 48 "
        "hours of roasting."
        "\n\nOrder a bag today.\n\nBest,\nThe Tidewater Coffee Roasters team",
    }
    ctx = QualityContext.build(CH["email"], tidewater)
    found = [f for f in quality_findings(ctx, email) if f.rule_id == "quality.repetition"]
    assert [(f.field, f.severity) for f in found] == [("preheader", "block")]
    assert "built for milk drinks" in (found[0].matched or "")
    fixed = replace_duplicate_fields(CH["email"], Draft(channel="email", fields=email), found, tidewater)
    assert fixed.fields["preheader"] != email["preheader"]
    assert shared_run(fixed.fields["preheader"], email["body"]) is None
    assert "quality.repetition" not in rules(tidewater, "email", fixed.fields)
    # Chinese: a clause of twelve characters or more; a product's name alone in both is none
    zh = {
        "subject": "Wanderly 云南·雨崩徒步 7天",
        "preheader": "在梅里雪山脚下的雨崩村慢走七天，由藏族向导带队。",
        "body": "您好，\n\n云南·雨崩徒步 7天：在梅里雪山脚下的雨崩村慢走七天，由领队与当地藏族向导共同带队。"
        "每团最多 10 人。\n\n欢迎回复预约。\n\n祝好，\nWanderly 团队",
    }
    assert "quality.repetition" in rules(wanderly, "email", zh)
    zh["preheader"] = "云南·雨崩徒步 7天，每团最多 10 人"
    assert shared_run(zh["preheader"], zh["body"], ["云南·雨崩徒步 7天"]) is None
    # a blog's title restated in its opening is not a repeat
    blog = {
        "title": "How we roast Harbor Light in small batches each morning",
        "body": "How we roast Harbor Light in small batches each morning is simple." + FILLER,
    }
    assert "quality.repetition" not in rules(tidewater, "blog", blog)


def test_the_brands_own_writing_rules_quoted_in_the_copy_are_an_echo() -> None:
    """A Hearthline blog of stop 40 said "We don't make health claims about cooking in cast iron (iron
    intake, toxins, anemia), and we don't invent discounts" (its voice.dont, word for word)."""
    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    leaked = {
        "text": "Hearthline skillets are cast in Ohio. We don't make health claims about cooking in cast "
        "iron (iron intake, toxins, anemia)."
    }
    found = [f for f in quality_findings(QualityContext.build(CH["social_post"], hearthline), leaked)]
    echoed = [f for f in found if f.rule_id == "quality.guideline_echoed"]
    assert echoed and "health claims about cooking in cast iron" in (echoed[0].matched or "")
    plain = {"text": "Hearthline skillets are cast in Hamilton, Ohio, and weigh 5.3 lb. #Hearthline"}
    assert "quality.guideline_echoed" not in rules(hearthline, "social_post", plain)


def test_an_ad_description_from_the_brand_file_says_more_than_a_name() -> None:
    """Stop 40: the last resort gave a Tidewater ad the description "Tidewater Coffee Roasters Harbor Light"
    and a Clearleaf ad the headline "Clearleaf" ("repeat the names without saying anything"). A field with
    a sentence's room gets a phrase with a fact; the brand's name alone comes last in any field."""
    tidewater = load_brand(ROOT / "examples" / "brands" / "tidewater")
    description = next(f for f in CH["search_ad"].fields if f.name == "description_1")
    headline = next(f for f in CH["search_ad"].fields if f.name == "headline_2")
    alt = complete_alternative(description, "Tidewater Coffee Roasters Harbor Light", tidewater, [])
    names = {p.name.casefold() for p in tidewater.products} | {tidewater.name.casefold()}
    names |= {f"{tidewater.name} {p.name}".casefold() for p in tidewater.products}
    assert alt is not None and alt.casefold() not in names, alt
    short = complete_alternative(headline, "Tidewater Coffee Roasters", tidewater, [])
    assert short is not None and short.casefold() != tidewater.name.casefold(), short


def test_a_phrase_in_place_of_the_only_headline_naming_the_brand_names_it() -> None:
    """Stop 49's Tidewater ad (seed 10): "Low Tide" replaced the one headline that said "Tidewater", and
    the ad was blocked on the required term. Where no other field names the brand (an address does not),
    the phrase that does wins over the closer one."""
    tidewater = load_brand(ROOT / "examples" / "brands" / "tidewater")
    headline = next(f for f in CH["search_ad"].fields if f.name == "headline_1")
    text = "Tidewater Low Tide is $18.00 per 340 g bag, roasted to order"
    unnamed = ["Order now", "Roasted the day before it ships. Visit tidewater.example"]
    alt = complete_alternative(headline, text, tidewater, unnamed)
    assert alt is not None and "tidewater" in alt.casefold() and not headline.violations(alt), alt
    named = complete_alternative(headline, text, tidewater, ["Order now", "Tidewater roasts to order."])
    assert named is not None and "tidewater" not in named.casefold(), named  # what the model meant


def test_a_sentence_about_a_figure_the_piece_never_gave_is_found_and_replaced() -> None:
    """Stop 49's Clearleaf ad (seed 10): its second description said "The 38% figure is an average
    measured increase in surface moisture", and no field before it gave 38%. A figure or study the piece
    has given before is a reference kept."""
    from agents.quality import replace_blocked_phrases

    clearleaf = load_brand(ROOT / "examples" / "brands" / "clearleaf")
    ad = {
        "headline_1": "Clearleaf",
        "headline_2": "Niacinamide 10% Serum",
        "headline_3": "Visit clearleaf.example",
        "description_1": "Clearleaf Niacinamide 10% Serum: 10% niacinamide, 1% zinc PCA.",
        "description_2": "The 38% figure is an average measured increase in surface moisture.",
    }
    ctx = QualityContext.build(CH["search_ad"], clearleaf)
    found = [f for f in quality_findings(ctx, ad) if f.rule_id == "quality.opens_mid_thought"]
    assert [(f.field, f.severity) for f in found] == [("description_2", "block")], found
    draft = Draft(channel="search_ad", fields=ad)
    fixed, replaced = replace_blocked_phrases(CH["search_ad"], draft, found, clearleaf)
    assert replaced == {"description_2"} and "38%" not in fixed.fields["description_2"], fixed.fields
    assert "quality.opens_mid_thought" not in rules(clearleaf, "search_ad", fixed.fields)
    # given before, or not a back-reference at all
    given = dict(ad, description_1="Skin moisture rose 38% in 8 hours in a 30-person study.")
    assert "quality.opens_mid_thought" not in rules(clearleaf, "search_ad", given)
    study = dict(given, description_2="The study measured surface moisture over 8 hours.")
    assert "quality.opens_mid_thought" not in rules(clearleaf, "search_ad", study)
    counted = dict(ad, description_2="The number of participants was 30, over 8 hours.")
    assert "quality.opens_mid_thought" not in rules(clearleaf, "search_ad", counted)
    wanderly = load_brand(ROOT / "examples" / "brands" / "wanderly")
    post = {"text": "该研究显示，慢旅行让人更放松。#Wanderly"}
    assert "quality.opens_mid_thought" in rules(wanderly, "social_post", post)


def test_the_brand_speaking_as_a_customer_is_a_testimonial_it_wrote_itself(wanderly: Brand) -> None:
    """A Clearleaf e-mail of stop 41 (seed 7) was delivered saying "As a customer, I am excited to share my
    experience with this product. I started using this serum in the morning…"."""
    clearleaf = load_brand(ROOT / "examples" / "brands" / "clearleaf")
    for text in (
        "As a customer, I am excited to share my experience with this product. #Clearleaf",
        "I started using the Niacinamide 10% Serum in the morning after cleansing. #Clearleaf",
        "Clearleaf's serum is gentle: my skin feels calm. #Clearleaf",
        "The serum is fragrance-free. I will be using it again soon. #Clearleaf",  # stop 42
    ):
        assert "quality.posing_as_customer" in rules(clearleaf, "social_post", {"text": text}), text
    for text in ("作为一名家长，我很喜欢 Wanderly 的行程。#Wanderly", "我用了两周，皮肤好多了。#Wanderly"):
        assert "quality.posing_as_customer" in rules(wanderly, "social_post", {"text": text}), text
    for text in (
        "Clearleaf lists every percentage on the label, so you can see what you use. #Clearleaf",
        "Tried our serum? Tell us how it went. #Clearleaf",
        "I'll be at the Boulder store on Saturday to answer your questions. #Clearleaf",
    ):
        assert "quality.posing_as_customer" not in rules(clearleaf, "social_post", {"text": text}), text


def test_a_phrase_field_naming_the_brand_twice_is_a_repetition() -> None:
    """ "Clearleaf: Clearleaf That Makes You Know What's on Your Skin" was a blog title of stop 41 (seed 7):
    the last resort had put the name where the draft said "The Brand". Now the label keeps it once."""
    from agents.quality import speak_as_the_brand

    clearleaf = load_brand(ROOT / "examples" / "brands" / "clearleaf")
    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    body = "Clearleaf lists every percentage on the label." + FILLER
    title = "Clearleaf: Clearleaf That Makes You Know What's on Your Skin"
    assert "quality.repetition" in rules(clearleaf, "blog", {"title": title, "body": body})
    drafted = "Clearleaf: The Brand That Makes You Know What's on Your Skin"
    fixed = speak_as_the_brand(clearleaf, Draft(channel="blog", fields={"title": drafted, "body": body}))
    assert fixed.fields["title"] == "Clearleaf Makes You Know What's on Your Skin"
    # a product whose name holds the brand's is one mention
    subject = {"subject": "Hearthline Ember Induction Burner: 1,800 W on a 120 V outlet"}
    assert "quality.repetition" not in rules(hearthline, "email", subject)


def test_a_body_opening_on_it_before_naming_anything_is_revised_and_named() -> None:
    """ "Hey there, fellow cooks! It's pre-seasoned with 3 coats of canola oil…" (a Hearthline e-mail of
    stop 41, seed 7, delivered): the body never said what "it" was. The last resort names the product
    the piece speaks of most."""
    from agents.quality import name_the_pronoun

    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    email = {
        "subject": "Cast in Hamilton, Ohio",
        "preheader": "A 12-inch pre-seasoned cast-iron skillet with a helper handle, cast in Hamilton, Ohio.",
        "body": "Hey there, fellow cooks! It's pre-seasoned with 3 coats of canola oil and works on gas, "
        "electric, induction, grill and campfire. Order yours today.\n\nBest,\nThe Hearthline team",
    }
    ctx = QualityContext.build(CH["email"], hearthline)
    found = [f for f in quality_findings(ctx, email) if f.rule_id == "quality.opens_mid_thought"]
    assert found and found[0].matched == "It's"
    fixed = name_the_pronoun(ctx, Draft(channel="email", fields=email))
    # the body's facts (3 coats, gas to campfire) are the 10-inch skillet's sheet
    assert (
        "Hey there, fellow cooks! Hearthline 10-inch Cast-Iron Skillet is pre-seasoned"
        in fixed.fields["body"]
    )
    assert "quality.opens_mid_thought" not in rules(hearthline, "email", fixed.fields)
    named = dict(
        email, body="Hi there, the Hearthline 10-inch skillet is back. It's pre-seasoned. Order today."
    )
    assert "quality.opens_mid_thought" not in rules(hearthline, "email", named)


def test_a_body_that_reaches_its_pronoun_through_a_preamble_is_named_too() -> None:
    """Stop 48's Clearleaf e-mail (seed 10) opened "Firstly, let me tell you that it is a lightweight,
    fragrance-free serum…", the serum named only in the subject. The preamble goes with the pronoun."""
    from agents.quality import name_the_pronoun

    clearleaf = load_brand(ROOT / "examples" / "brands" / "clearleaf")
    body = (
        "Hi there,\n\nFirstly, let me tell you that it is a lightweight, fragrance-free serum that contains "
        "10% niacinamide and 1% zinc PCA.\n\nOrder yours at clearleaf.example.\n\nBest,\nThe Clearleaf team"
    )
    email = {"subject": "Niacinamide 10% Serum", "preheader": "10% niacinamide, 1% zinc PCA", "body": body}
    ctx = QualityContext.build(CH["email"], clearleaf)
    found = [f for f in quality_findings(ctx, email) if f.rule_id == "quality.opens_mid_thought"]
    assert [f.matched for f in found] == ["Firstly, let me tell you that it is"]
    fixed = name_the_pronoun(ctx, Draft(channel="email", fields=email)).fields["body"]
    assert fixed.startswith(
        "Hi there,\n\nClearleaf Niacinamide 10% Serum is a lightweight, fragrance-free serum"
    )
    # a sentence that opens on a lower-case "it" is no opening of this kind, nor is one naming something
    lower = dict(email, body=body.replace("Firstly, let me tell you that it is", "it is"))
    assert "quality.opens_mid_thought" not in rules(clearleaf, "email", lower)
    named = dict(email, body=body.replace("it is a", "the Clearleaf Niacinamide 10% Serum is a"))
    assert "quality.opens_mid_thought" not in rules(clearleaf, "email", named)
    this = dict(email, body=body.replace("Firstly, let me tell you that it is", "This is"))
    assert (
        name_the_pronoun(ctx, Draft(channel="email", fields=this))
        .fields["body"]
        .startswith("Hi there,\n\nClearleaf Niacinamide 10% Serum is a lightweight")
    )


def test_a_body_that_opens_on_the_tail_of_the_preheaders_sentence_loses_the_tail() -> None:
    """Stop 49's Hearthline e-mail (seed 10): a revision split "…works on gas, electric, induction, grill,
    and campfire." over the preheader and the body, which opened "and campfire. The canola oil…"."""
    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    body = (
        "Hi there,\n\nand campfire. The 10-inch skillet's canola oil seasoning is baked on at 450°F. "
        "Order yours at hearthline.example.com.\n\nBest,\nThe Hearthline team"
    )
    email = {"subject": "10-inch Cast-Iron Skillet", "preheader": "Cast in Hamilton, Ohio", "body": body}
    found = [f for f in quality_findings(QualityContext.build(CH["email"], hearthline), email)]
    assert [(f.rule_id, f.matched) for f in found if f.rule_id == "quality.opens_mid_thought"] == [
        ("quality.opens_mid_thought", "and campfire.")
    ]
    fixed = finish_fields(CH["email"], Draft(channel="email", fields=email)).fields["body"]
    assert fixed.startswith("Hi there,\n\nThe 10-inch skillet's canola oil seasoning")
    assert "quality.opens_mid_thought" not in rules(hearthline, "email", {**email, "body": fixed})
    # a body that opens on a whole sentence, or a field of one sentence, is left alone
    whole = {**email, "body": body.replace("and campfire. ", "")}
    assert "quality.opens_mid_thought" not in rules(hearthline, "email", whole)


def test_an_ad_description_repeating_a_headline_gets_a_phrase_on_the_ads_own_product(wanderly: Brand) -> None:
    """Stop 49's Wanderly ad (seed 10): its second description repeated its Yubeng headline and got, from
    the last resort, a Kanas phrase, which blocked as another product's. It keeps to the ad's product."""
    from agents.quality import replace_duplicate_fields

    ad = {
        "headline_1": "Wanderly：探索未知，发现美丽",
        "headline_2": "云南·雨崩徒步 7天：从梅里雪山脚下的雨崩村出发，慢走七天",
        "headline_3": "详情请访问 wanderly.example",
        "description_1": "在梅里雪山脚下的雨崩村慢走七天，由领队与当地藏族向导共同带队的小团徒步路线。",
        "description_2": "云南·雨崩徒步 7天，从梅里雪山脚下的雨崩村出发，慢走七天，"
        "体验小团、慢节奏和真实的在地体验",
    }
    found = quality_findings(QualityContext.build(CH["search_ad"], wanderly), ad)
    # (since stop 51 description 1 is found first: it says headline 2's clause again in other words)
    (repeat,) = [f.field for f in found if f.rule_id == "quality.repetition"]
    assert repeat in ("description_1", "description_2")
    fixed = replace_duplicate_fields(CH["search_ad"], Draft(channel="search_ad", fields=ad), found, wanderly)
    new = fixed.fields[repeat]
    assert new != ad[repeat] and "喀纳斯" not in new and "土楼" not in new
    assert not [f for f in rules(wanderly, "search_ad", fixed.fields) if f in ("quality.other_product",)]


def test_a_preheader_stand_in_is_about_a_product_the_body_tells(tidewater: Brand) -> None:
    """Stop 41 (seed 7): a Tidewater e-mail about the Tide Club got, as its preheader's stand-in, Breakwater
    Blend's description. A phrase field's stand-in now comes from the products the body tells about (or
    the brand itself)."""
    from agents.quality import body_products, replace_duplicate_fields

    body = (
        "Hi there! Welcome to Tide Club. At Tidewater, we offer a flexible coffee subscription that "
        "delivers every 2, 3, or 4 weeks for only $17.00 per bag. Every order ships within 48 hours of "
        "roasting.\n\nSign up today.\n\nBest,\nThe Tidewater Coffee Roasters team"
    )
    email = {"subject": "Tide Club", "preheader": "Tide Club", "body": body}
    found = [f for f in quality_findings(QualityContext.build(CH["email"], tidewater), email)]
    repeats = [f for f in found if f.rule_id == "quality.repetition" and f.field == "preheader"]
    assert repeats
    about = body_products(CH["email"], tidewater, email)
    assert about and all("Tide Club" in name for name in about), about
    fixed = replace_duplicate_fields(CH["email"], Draft(channel="email", fields=email), repeats, tidewater)
    assert fixed.fields["preheader"] != "Tide Club"
    others = [p for p in tidewater.products if p.name not in about]
    for product in others:
        assert product.name not in fixed.fields["preheader"]
        assert (product.description or "\x00") not in fixed.fields["preheader"]


def test_a_post_that_is_only_the_positioning_line_names_nothing(tidewater: Brand) -> None:
    """Stop 41 (seed 7): a Qingyu post was its positioning line (figures and all) and "快来报名吧！", a
    Tidewater post its positioning line and "Join us in tasting the authenticity of our coffee!"; the
    blind reviewer rejected both. The positioning line's figures are no product's specifics."""
    qingyu = load_brand(ROOT / "examples" / "brands" / "qingyu")
    only = (
        "青屿少儿编程为6至14岁的孩子开设小班编程课，每班最多4到8人，每一期都亲手做出几件能运行的作品，"
        "让孩子学会把一个想法拆成一步一步能实现的小问题。快来报名吧！#青屿 #编程"
    )
    assert "quality.no_specifics" in rules(qingyu, "social_post", {"text": only})
    told = "青屿少儿编程为6至14岁的孩子开设小班编程课。图形化编程启蒙班每期 24 课时，快来报名吧！#青屿"
    assert "quality.no_specifics" not in rules(qingyu, "social_post", {"text": told})
    line = (
        "Tidewater Coffee Roasters roasts traceable, small-batch coffee on the Oregon coast and ships every "
        "bag within 48 hours of roasting. Join us in tasting our coffee! #Tidewater"
    )
    assert "quality.no_specifics" in rules(tidewater, "social_post", {"text": line})


def test_a_heading_the_body_does_not_bear_out(tidewater: Brand) -> None:
    """Stop 41's blind reviewer rejected a Tidewater e-mail whose preheader was Breakwater Blend's
    description over a body welcoming the reader to Tide Club, a Hearthline e-mail whose subject was
    the brand's name alone, and a Hearthline blog titled with the slow cooker's 1-year warranty, which
    the body never gives. Each is found, and the last resort puts a phrase the body bears out."""
    from agents.quality import back_the_subject

    tide_club = (
        "Hi there! Welcome to Tide Club. At Tidewater, we offer a flexible coffee subscription that "
        "delivers every 2, 3, or 4 weeks for $17.00 per bag.\n\nBest,\nThe Tidewater Coffee Roasters team"
    )
    email = {
        "subject": "Tide Club: coffee every 2, 3 or 4 weeks",
        "preheader": "A medium-dark espresso blend of Brazilian and Guatemalan coffees for milk drinks.",
        "body": tide_club,
    }
    found = quality_findings(QualityContext.build(CH["email"], tidewater), email)
    (unbacked,) = [f for f in found if f.rule_id == "quality.subject_unbacked"]
    assert unbacked.field == "preheader" and "describes Breakwater Blend" in unbacked.explanation
    fixed = back_the_subject(CH["email"], tidewater, Draft(channel="email", fields=email)).fields
    assert "Breakwater" not in fixed["preheader"] and "espresso" not in fixed["preheader"]
    assert "quality.subject_unbacked" not in rules(tidewater, "email", fixed)
    # the same description over a body that names no product describes nothing to contradict
    plain = {
        **email,
        "subject": "Roasted in Astoria",
        "body": "Hi there! We roast in Astoria.\n\nBest,\nThe Tidewater Coffee Roasters team",
    }
    assert "quality.subject_unbacked" not in rules(tidewater, "email", plain)

    # the brand's name alone as the subject
    bare = {**email, "subject": "Tidewater Coffee Roasters", "preheader": "Coffee every 2, 3 or 4 weeks"}
    (name_only,) = [
        f
        for f in quality_findings(QualityContext.build(CH["email"], tidewater), bare)
        if f.rule_id == "quality.subject_unbacked"
    ]
    assert name_only.field == "subject" and "name alone" in name_only.explanation
    fixed = back_the_subject(CH["email"], tidewater, Draft(channel="email", fields=bare)).fields
    assert fixed["subject"] != bare["subject"] and "quality.subject_unbacked" not in rules(
        tidewater, "email", fixed
    )

    # a title's figure the body never gives; the positioning line's and a name's figures are the brand's
    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    body = (
        "The Hearthline Steadyheat 6 qt Slow Cooker is a programmable slow cooker with a removable "
        "stoneware insert and Low, High and Warm settings. " * 3
    ).strip()
    blog = {"title": "Hearthline Steadyheat 6 qt Slow Cooker: 1-year limited warranty", "body": body}
    (figure,) = [
        f
        for f in quality_findings(QualityContext.build(CH["blog"], hearthline), blog)
        if f.rule_id == "quality.subject_unbacked"
    ]
    assert figure.field == "title" and "gives 1," in figure.explanation
    fixed = back_the_subject(CH["blog"], hearthline, Draft(channel="blog", fields=blog)).fields
    assert "1-year" not in fixed["title"] and "quality.subject_unbacked" not in rules(
        hearthline, "blog", fixed
    )
    said = {**blog, "body": body + " It comes with a 1-year limited warranty."}
    assert "quality.subject_unbacked" not in rules(hearthline, "blog", said)
    named = {**blog, "title": "The Hearthline Steadyheat 6 qt Slow Cooker"}
    assert "quality.subject_unbacked" not in rules(hearthline, "blog", named)


def test_compliance_refills_a_long_field_its_cuts_left_too_short(
    mini_brand: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stop 41 blocked three blogs at 145-230 words that had been drafted at 307-438: the compliance
    editor's cuts made them short. With `refill_paragraphs` (off by default since stop 42's run, where
    the blogs it delivered were judged unpublishable), a blog that is too short when nothing else blocks
    gets paragraphs on the brand's products from compliance (its `expand` slot, the copywriter's prompt),
    after its revision round; by default it gets none."""
    from pipelines import run_campaign

    # The fake model's words retell no story: that check is off here, so that only the length blocks.
    monkeypatch.setattr("agents.quality.STORY_COVERAGE", 0.0)
    text = (ROOT / "pipelines" / "default.yaml").read_text(encoding="utf-8")
    assert "judge: true}" in text
    # refill_story 0: this test is about the product paragraphs (a story piece first retells its story)
    on_text = text.replace("judge: true}", "judge: true, refill_paragraphs: 2, refill_story: 0}")
    (tmp_path / "on.yaml").write_text(on_text)
    on = run_campaign(mini_brand, channels=["blog"], backend={"kind": "fake"}, pipeline=tmp_path / "on.yaml")
    calls = [(t.agent, t.prompt) for t in on.trace if t.agent == "compliance"]
    assert ("compliance", "copywriter.expand@2") in calls
    assert calls.index(("compliance", "copywriter.expand@2")) > calls.index(
        ("compliance", "copywriter.revise@3")
    )
    (piece,) = on.pieces
    assert [f.rule_id for f in piece.compliance.findings if f.severity == "block" and not f.fixed] == [
        "quality.too_short"
    ]

    off = run_campaign(mini_brand, channels=["blog"], backend={"kind": "fake"})
    assert ("compliance", "copywriter.expand@2") not in [(t.agent, t.prompt) for t in off.trace]


def test_dropping_a_repeat_that_opens_a_paragraph_leaves_no_leading_space() -> None:
    """A Clearleaf blog of stop 42 kept " The product is available…" after the repeated sentence that
    opened its paragraph was dropped."""
    from agents.quality import drop_repeats
    from policy.findings import ComplianceFinding

    body = (
        "Intro sentence here.\n\nIt provides water resistance for up to 40 minutes and more. Other text.\n\n"
        "It provides water resistance for up to 40 minutes, ideal. The product is sold here.\n\nBye now."
    )
    repeat = ComplianceFinding(
        rule_id="quality.repetition",
        category="quality_repetition",
        severity="block",
        explanation="x",
        field="body",
        matched="it provides water resistance for up",
    )
    kept = drop_repeats(Draft(channel="blog", fields={"body": body}), [repeat]).fields["body"]
    assert "\n\nThe product is sold here.\n\n" in kept and "ideal" not in kept


def test_the_heading_last_resort_does_not_put_one_name_in_both_headings() -> None:
    """Stop 42's Hearthline e-mail came out with the subject "Hearthline 10-inch Cast-Iron Skillet" and the
    preheader "10-inch Cast-Iron Skillet", both put by `back_the_subject`."""
    from agents.quality import back_the_subject

    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    email = {
        "subject": "Hearthline",
        "preheader": "A 12-inch pre-seasoned cast-iron skillet with a helper handle, cast in Hamilton, Ohio.",
        "body": "Hey there! Hearthline 10-inch Cast-Iron Skillet is pre-seasoned with 3 coats of canola oil "
        "and works on gas, electric, induction, grill, and campfire.\n\nBest,\nThe Hearthline team",
    }
    fixed = back_the_subject(CH["email"], hearthline, Draft(channel="email", fields=email)).fields
    assert fixed["subject"] != "Hearthline" and "12-inch" not in fixed["preheader"]
    short, long = sorted((fixed["subject"], fixed["preheader"]), key=len)
    assert not (short.casefold() in long.casefold() and len(long) <= 2 * len(short)), fixed
    assert "quality.subject_unbacked" not in rules(hearthline, "email", fixed)


def test_a_product_names_compound_word_is_put_back_by_the_last_resort() -> None:
    """A Qingyu blog of stop 42 wrote "微:bit" for "micro:bit 创客硬件班" (the blind reviewer: "'micro:bit'
    mangled to '微:bit'"): the last resort's spelling fix puts the brand's word back."""
    from agents.quality import restore_product_names

    qingyu = load_brand(ROOT / "examples" / "brands" / "qingyu")
    assert (
        restore_product_names(qingyu, "青屿少儿编程的微:bit 创客硬件班")
        == "青屿少儿编程的micro:bit 创客硬件班"
    )
    assert restore_product_names(qingyu, "Micro:bit 课，9–12 岁") == "micro:bit 课，9–12 岁"
    for kept in (
        "用 micro:bit 做小车",
        "编程班micro:bit",
        "详见 qingyu.example.com/a:bit",
        "以及 bit 和 ：bit",
    ):
        assert restore_product_names(qingyu, kept) == kept
    # A hyphenated word of a name is ordinary English ("Cast-Iron"): "wrought-Iron" stays.
    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    assert restore_product_names(hearthline, "Not wrought-Iron, a:bit.") == "Not wrought-Iron, a:bit."


def test_a_blog_that_ends_on_a_pasted_title_line_is_unfinished_and_cut_back() -> None:
    """A Wanderly story blog of stop 44 (seed 7) ended on its title, pasted after the last paragraph by a
    revision ("…背下山。", then "Wanderly小团慢旅行的旅程"): a short last line passes as an e-mail's
    sign-off, but a blog has none, so the line is found and the last resort cuts the body back to its
    last sentence."""
    from agents.quality import finish_fields

    wanderly = load_brand(ROOT / "examples" / "brands" / "wanderly")
    body = (
        "Wanderly 是一家专注小团慢旅行的旅行品牌，总部位于四川成都。\n\n"
        "雨崩路线每个团固定向村里的垃圾清运项目支付 300 元，用于把徒步道上的垃圾背下山。"
        "\n\nWanderly小团慢旅行的旅程"
    )
    fields = {"title": "Wanderly小团慢旅行的旅程", "body": body}
    found = quality_findings(QualityContext.build(CH["blog"], wanderly), fields)
    assert [f.field for f in found if f.rule_id == "quality.truncated"] == ["body"]
    fixed = finish_fields(CH["blog"], Draft(channel="blog", fields=fields))
    assert fixed.fields["body"] == body.rsplit("\n\n", 1)[0]
    # An e-mail may end on a short sign-off line; a blog ending on a sentence is finished.
    ended = {"title": fields["title"], "body": body.rsplit("\n\n", 1)[0]}
    assert "quality.truncated" not in rules(wanderly, "blog", ended)


def test_the_brand_name_is_respelled_in_prose_but_not_inside_an_address() -> None:
    """A Hearthline story blog of stop 44 was blocked for "classes@Hearthline.com": the required term's
    spelling fix capitalised the address, and the repetition fix cut "example." out of it as a sentence
    said twice ("hearthline.example.com" split at its dots). Addresses are left as written."""
    from agents.compliance import Compliance
    from policy.claims import sentence_spans

    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    text = "Book at hearthline.example.com/classes or email classes@hearthline.example.com. hearthline casts."
    fixed = Compliance._fix_spelling(hearthline, Draft(channel="blog", fields={"body": text}))
    assert fixed.fields["body"] == text.replace("hearthline casts", "Hearthline casts")
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Book at hearthline.example.com/classes or email classes@hearthline.example.com.",
        "hearthline casts.",
    ]
    assert len(sentence_spans("It weighs 2.5 kg. It ships today.")) == 2


def test_a_long_title_is_cut_before_its_modifying_tail_not_into_a_fragment() -> None:
    """A Clearleaf story blog of stop 44 had a 118-character title; cut at a word, it was a fragment, and
    the last resort put a product's name in its place ("Clearleaf Mineral Sunscreen SPF 30" over an
    article about the company). A title is cut before a modifying tail or at its last clause instead; a
    headline is still cut at a word, and reported."""
    title = CH["blog"].field("title")
    assert fit_with_cut(
        "Clearleaf: A Skincare Company That Makes Fragrance-Free Products with Disclosed Ingredient "
        "Percentages and Test Results",
        title,
    ) == ("Clearleaf: A Skincare Company That Makes Fragrance-Free Products", "clauses")
    assert fit_with_cut(
        "Tidewater Coffee Roasters: Freshly Roasted, Home-Compostable Bags within 48 Hours of Roasting", title
    ) == ("Tidewater Coffee Roasters: Freshly Roasted, Home-Compostable Bags", "clauses")
    # the same blog's title at seed 7 of the final run: 84 characters, cut before its last "and …"
    assert fit_with_cut(
        "Clearleaf: A Skincare Company that Discloses Ingredient Percentages and Test Results", title
    ) == ("Clearleaf: A Skincare Company that Discloses Ingredient Percentages", "clauses")
    # a participle of place goes with its place (stop 45's Tidewater title was cut to "…Roaster Based")
    assert fit_with_cut(
        "Tidewater Coffee Roasters: A Small-Batch Specialty Coffee Roaster Based on the Columbia River "
        "Waterfront in Astoria, Oregon",
        title,
    ) == ("Tidewater Coffee Roasters: A Small-Batch Specialty Coffee Roaster", "clauses")
    headline = CH["search_ad"].field("headline_1")
    assert fit_with_cut("Experience the durability and the heat of Hearthline", headline)[1] == "words"


def test_a_story_written_as_one_block_gets_the_storys_paragraphs() -> None:
    """Qingyu's story blog of stop 44 came back as one 600-character paragraph: it is broken where the
    story's own lines end."""
    from agents.copywriter import Copywriter
    from knowledge.chunking import Passage

    lines = [
        "青屿少儿编程是一家总部在山东青岛的少儿编程培训机构，为 6 至 14 岁的孩子开设小班编程课。",
        "现有全职老师 38 名、教研人员 6 名，入职前完成 60 学时的教学培训。",
        "每期开课前有一次免费的家长说明会。",
    ]
    story = [Passage(id="company.txt#0", doc="company.txt", chunk=0, text="\n".join(lines))]
    draft = Draft(channel="blog", fields={"title": "青屿的故事", "body": "".join(lines)})
    body = Copywriter._story_paragraphs(CH["blog"], draft, story).fields["body"]
    assert body.split("\n\n") == lines


def test_a_story_blogs_title_the_last_resort_replaces_names_the_story_not_a_product() -> None:
    """Stop 44: a story blog about Clearleaf's founding whose title was a fragment got "Clearleaf Mineral
    Sunscreen SPF 30" from the last resort, over an article about the company; both blind reviewers
    rejected it. With the story's titles it gets one that names the part of the story the body retells."""
    from agents.quality import replace_blocked_phrases
    from agents.story import story_headings, story_titles
    from knowledge.chunking import Passage

    clearleaf = load_brand(ROOT / "examples" / "brands" / "clearleaf")
    story = [
        Passage(
            id="company_facts.txt#0",
            doc="knowledge/company_facts.txt",
            chunk=0,
            text="CLEARLEAF - COMPANY FACTS AND HISTORY\n\nOverview\nClearleaf is an independent skincare "
            "company based in Boulder, Colorado.\n\nFounders",
        ),
        Passage(
            id="company_facts.txt#1",
            doc="knowledge/company_facts.txt",
            chunk=1,
            text="Clearleaf was founded in 2018 by Dr. Priya Raman and Jonah Adler.\n\nTimeline\n"
            "2018 - Founded in Boulder.\nWebsite: clearleaf.example",
        ),
    ]
    # The document's title, a heading whose rows the story leaves out and a labelled value are none.
    assert story_headings(story) == ["Overview", "Founders"]
    titles = story_titles(clearleaf.name, "en", story)
    assert titles == ["The Clearleaf Story: Overview", "The Clearleaf Story: Founders", "The Clearleaf Story"]
    blog = {
        "title": "Discover how Clearleaf's founders and",
        "body": "Clearleaf was founded in 2018 by Dr. Priya Raman and Jonah Adler. " * 3,
    }
    found = quality_findings(QualityContext.build(CH["blog"], clearleaf), blog)
    assert any(f.field == "title" and f.severity == "block" for f in found)
    fixed, replaced = replace_blocked_phrases(
        CH["blog"], Draft(channel="blog", fields=blog), found, clearleaf, titles
    )
    assert replaced == {"title"} and fixed.fields["title"] == "The Clearleaf Story: Founders"
    # Without a story (another channel, or no story found) it is a phrase of the brand file, as before.
    plain, _ = replace_blocked_phrases(CH["blog"], Draft(channel="blog", fields=blog), found, clearleaf)
    assert plain.fields["title"] not in titles


def test_an_articles_title_that_is_the_positioning_line_gets_the_storys_title() -> None:
    """Stop 48's Qingyu story blog (seed 10) was titled with most of the positioning line; both blind
    reviewers rejected it for that. A title that says what the article tells passes, and an ad's headline
    may still be the positioning line alone (the specifics check allows it there)."""
    from agents.quality import replace_blocked_phrases

    qingyu = load_brand(ROOT / "examples" / "brands" / "qingyu")
    title = (
        "青屿少儿编程：为 6 至 14 岁的孩子开设小班编程课，亲手做能运行的作品，"
        "让孩子学会把一个想法拆成一步一步能实现的小问题"
    )
    body = "青屿少儿编程是一家总部在山东青岛的少儿编程培训机构。" * 12
    found = quality_findings(QualityContext.build(CH["blog"], qingyu), {"title": title[:80], "body": body})
    slogan = [f for f in found if f.rule_id == "quality.title_slogan"]
    assert [(f.field, f.severity) for f in slogan] == [("title", "block")]
    fixed, replaced = replace_blocked_phrases(
        CH["blog"], Draft(channel="blog", fields={"title": title[:80], "body": body}), found, qingyu,
        ["青屿少儿编程的故事：名字的由来", "青屿少儿编程的故事"],
    )  # fmt: skip
    assert replaced == {"title"} and fixed.fields["title"] == "青屿少儿编程的故事：名字的由来"
    assert "quality.title_slogan" not in rules(
        qingyu, "blog", {"title": "青屿少儿编程的故事：名字的由来", "body": body}
    )
    wanderly = load_brand(ROOT / "examples" / "brands" / "wanderly")
    assert "quality.title_slogan" in rules(
        wanderly, "blog", {"title": "探索未知，发现美丽：雨崩七天", "body": body}
    )
    ad = {"headline_1": "探索未知，发现美丽", "headline_2": "Wanderly 雨崩徒步 7天"}
    assert "quality.title_slogan" not in rules(wanderly, "search_ad", ad)


def test_an_articles_paragraph_left_on_a_dangling_clause_loses_it() -> None:
    """A Wanderly story blog of the eval suite (seed 9) read "……总部位于四川成都。品牌口号是⏎⏎自 2020 年起……":
    the model broke the line inside a sentence, and the quoted line after it was dropped as a repeat. The
    last resort drops the dangling clause; a heading paragraph and a finished one stay."""
    body = (
        "二、发展历程\n\nWanderly 是一家专注小团慢旅行的旅行品牌，总部位于四川成都。品牌口号是\n\n"
        "自 2020 年起，Wanderly 为每一位旅客的行程进行碳补偿。"
    )
    draft = Draft(channel="blog", fields={"title": "Wanderly 的故事", "body": body})
    fixed = finish_fields(CH["blog"], draft).fields["body"]
    assert fixed == (
        "二、发展历程\n\nWanderly 是一家专注小团慢旅行的旅行品牌，总部位于四川成都。\n\n"
        "自 2020 年起，Wanderly 为每一位旅客的行程进行碳补偿。"
    )
    assert (
        finish_fields(CH["blog"], Draft(channel="blog", fields={"title": "t", "body": fixed})).fields["body"]
        == fixed
    )


def test_a_chinese_storys_titles_drop_the_numbering_of_its_headings() -> None:
    from agents.story import story_titles
    from knowledge.chunking import Passage

    story = [
        Passage(
            id="company.txt#0",
            doc="knowledge/company.txt",
            chunk=0,
            text="Wanderly 公司简介与发展历程\n\n一、我们是谁\n\n"
            "Wanderly 是一家专注小团慢旅行的旅行品牌，总部位于四川成都。\n\n二、发展历程\n\n"
            "2015 年：创始人林澄在成都创立 Wanderly。",
        )
    ]
    # the timeline's rows are sentences of the story (since stop 50), so its heading is a part told
    assert story_titles("Wanderly", "zh", story) == [
        "Wanderly 的故事：我们是谁",
        "Wanderly 的故事：发展历程",
        "Wanderly 的故事",
    ]
    assert story_titles("青屿", "zh", []) == []


def test_a_revision_keeps_the_figures_of_the_sentences_it_was_not_asked_about() -> None:
    """Asked to fix "the best coffee in every bag" in a Tidewater story blog of stop 44, the model also
    turned "between 4 days and 6 weeks" into "between 6 weeks": the reworded sentence that lost a figure
    comes back as it was; a sentence a request was about may change its figures."""
    from agents.revision import figures_kept

    old = (
        "Our mission is to offer you the best coffee in every bag we ship. Whole beans taste their best "
        "between 4 days and 6 weeks after the roast date. Refunds are 70% up to 15 days before."
    )
    new = (
        "Our mission is to offer you fresh coffee in every bag we ship. Whole beans taste their best "
        "between 6 weeks after the roast date. Refunds are 40% up to 15 days before."
    )
    requests = ['body: "Refunds are 70%" does not match the refund table; give the row\'s figure']
    assert figures_kept(old, new, requests) == (
        "Our mission is to offer you fresh coffee in every bag we ship. Whole beans taste their best "
        "between 4 days and 6 weeks after the roast date. Refunds are 40% up to 15 days before."
    )
    # A sentence said anew (few words in common) is the model's to say; nothing changed, nothing to do.
    assert figures_kept(old, "Fresh beans, roasted on Monday.", []) == "Fresh beans, roasted on Monday."
    assert figures_kept(old, old, []) == old


def test_a_sentence_the_model_added_to_a_retold_story_is_a_finding_and_goes() -> None:
    """Stop 44's blind reviewers rejected story blogs for sentences the model added to the passages it
    retold, which no check caught: "…which means we don't add anything that could cause an allergic
    reaction" (Clearleaf), "We offer a wide range of classes for all ages and skill levels" (Hearthline).
    The sentences it retells pass; so does a call to action that gives the brand's address."""
    from agents.compliance import remove_offending_sentences

    clearleaf = load_brand(ROOT / "examples" / "brands" / "clearleaf")
    documents = [
        "Clearleaf is an independent skincare company based in Boulder, Colorado. We make three "
        "fragrance-free products.",
        "Clearleaf was founded in 2018 by Dr. Priya Raman and Jonah Adler. Jonah ran operations for a "
        "natural foods cooperative.",
    ]
    retold = (
        "Clearleaf is an independent skincare company based in Boulder, Colorado. Clearleaf was founded in "
        "2018 by Dr. Priya Raman and Jonah Adler."
    )
    added = (
        "We use fragrance-free ingredients, which means we don't add anything that could cause an allergic "
        "reaction."
    )
    body = (
        f"{retold} {added}\n\nThank you for reading. Read more at clearleaf.example and write to "
        "care@clearleaf.example."
    )
    blog = {"title": "The Clearleaf Story: Founders", "body": body}
    context = QualityContext.build(CH["blog"], clearleaf, documents, story=True)
    found = [f for f in quality_findings(context, blog) if f.rule_id == "facts.story_added"]
    assert [(f.field, f.matched, f.severity) for f in found] == [("body", added, "block")]
    kept = remove_offending_sentences(Draft(channel="blog", fields=blog), found).fields["body"]
    assert added not in kept and retold in kept and "clearleaf.example" in kept
    # Only a piece that retells a story: a post may say more than the documents, and other checks read it.
    assert "facts.story_added" not in rules(
        clearleaf, "social_post", {"text": added + " #Clearleaf"}, documents=documents
    )
    # Without documents (brandforge check, no campaign) there is nothing to hold the story to; nor is
    # there in a blog the campaign had no story for (written from product facts, it is not a retelling).
    assert "facts.story_added" not in rules(clearleaf, "blog", blog)
    assert "facts.story_added" not in rules(clearleaf, "blog", blog, documents=documents)


def test_a_conclusion_a_retold_story_draws_that_its_documents_do_not_is_cut_from_its_sentence() -> None:
    """Stop 48's Hearthline story blog (seed 10) retold "Skillets used in restaurants are covered for 5
    years instead of life" and went on ", which means they'll last longer than a lifetime warranty": every
    word the documents', so the sentence's share passed, and both blind reviewers rejected the blog for
    it. The clause is a finding and goes; the retold part stays. A conclusion the documents draw
    themselves ("…which means neither we nor our suppliers test on animals") is no finding."""
    from agents.compliance import Compliance
    from agents.quality import cut_inferences

    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    documents = [
        "Every Hearthline product has a written limited warranty. Skillets used in restaurants are covered "
        "for 5 years instead of life. The lifetime warranty covers cracks and warping.",
        "We have been Leaping Bunny certified since 2019, which means neither we nor our suppliers test on "
        "animals.",
    ]
    retold = "Skillets used in restaurants are covered for 5 years instead of life"
    clause = ", which means they'll last longer than a lifetime warranty"
    own = (
        "We have been Leaping Bunny certified since 2019, which means neither we nor our suppliers test on "
        "animals."
    )
    body = f"Every Hearthline product has a written limited warranty. {retold}{clause}. {own}"
    blog = {"title": "The Hearthline Story: Our Warranty", "body": body}
    context = QualityContext.build(CH["blog"], hearthline, documents, story=True)
    found = [f for f in quality_findings(context, blog) if f.rule_id == "facts.story_added"]
    assert [(f.matched, f.severity) for f in found] == [(clause, "block")]
    cut, done = cut_inferences(Draft(channel="blog", fields=blog), found)
    assert done == found
    assert cut.fields["body"] == f"Every Hearthline product has a written limited warranty. {retold}. {own}"
    assert [
        f.rule_id for f in quality_findings(context, cut.fields) if f.rule_id == "facts.story_added"
    ] == []
    # the compliance agent cuts it before anything else, and reports it as fixed
    kept, gone = Compliance._untold(Draft(channel="blog", fields=blog), context, ["Hearthline"])
    assert kept.fields["body"] == cut.fields["body"] and [g.fixed for g in gone] == [True]
    # a sentence that is all conclusion goes whole (Chinese)
    wanderly = load_brand(ROOT / "examples" / "brands" / "wanderly")
    docs_zh = ["所有路线均为小团出发，最少 4 人成团。团费包含全程住宿和户外意外险。"]
    zh = {
        "title": "Wanderly 的故事",
        "body": "所有路线均为小团出发，最少 4 人成团。"
        "这意味着团费包含全程住宿和户外意外险。团费包含全程住宿。",
    }
    zctx = QualityContext.build(CH["blog"], wanderly, docs_zh, story=True)
    zfound = [f for f in quality_findings(zctx, zh) if f.rule_id == "facts.story_added"]
    assert [f.matched for f in zfound] == ["这意味着团费包含全程住宿和户外意外险"]
    assert cut_inferences(Draft(channel="blog", fields=zh), zfound)[0].fields["body"] == (
        "所有路线均为小团出发，最少 4 人成团。团费包含全程住宿。"
    )


def test_a_headline_that_opens_in_lower_case_carries_on_another_fields_sentence(
    tidewater: Brand,
) -> None:
    """Clearleaf's ad of stop 45 (seed 7) split one sentence over two headlines: "…with disclosed and,"
    over "exact ingredient percentages."; the second opens in lower case. A name spelled in lower case
    (a glossary term) opens as it is spelled."""
    clearleaf = load_brand(ROOT / "examples" / "brands" / "clearleaf")
    ad = {
        "headline_1": "Fragrance-free skincare",
        "headline_2": "exact ingredient percentages.",
        "headline_3": "Visit clearleaf.example",
        "description_1": "We print the percentage of each key ingredient on the box.",
        "description_2": "Shop the Barrier Moisturizer at clearleaf.example today.",
    }
    found = quality_findings(QualityContext.build(CH["search_ad"], clearleaf), ad)
    assert [(f.rule_id, f.field, f.matched) for f in found if f.rule_id == "quality.opens_mid_thought"] == [
        ("quality.opens_mid_thought", "headline_2", "exact")
    ]
    glossed = clearleaf.model_copy(update={"glossary": ["exact ingredient"]})
    assert "quality.opens_mid_thought" not in rules(glossed, "search_ad", ad)
    assert "quality.opens_mid_thought" not in rules(
        clearleaf, "search_ad", {**ad, "headline_2": "Exact percentages"}
    )


def test_a_subject_of_one_word_that_names_nothing_is_no_phrase() -> None:
    """A Hearthline e-mail of stop 45 (seed 7) was delivered with the subject "Looking"."""
    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    email = {
        "subject": "Looking",
        "preheader": "Pre-seasoned with 3 coats of canola oil, cast in Hamilton, Ohio",
        "body": "Hi there,\n\nThe Hearthline 10-inch Cast-Iron Skillet is pre-seasoned with 3 coats of "
        "canola oil and works on gas, electric, induction, grill and campfire. Order yours at "
        "hearthline.example.com.\n\nBest,\nThe Hearthline team",
    }
    assert "quality.truncated" in rules(hearthline, "email", email)
    assert "quality.truncated" not in rules(hearthline, "email", {**email, "subject": "Hearthline"})
    assert "quality.truncated" not in rules(hearthline, "email", {**email, "subject": "Cast in Hamilton"})


def test_a_chinese_story_holds_its_sentences_to_half_of_the_documents_character_pairs(
    wanderly: Brand,
) -> None:
    """Chinese is compared by character pairs: a true sentence in other words shares fewer of them
    (0.58 for the rewording below), an added one far fewer (0.37, stop 44's Wanderly story blog)."""
    documents = [
        "云南·雨崩徒步 7天：在梅里雪山脚下的雨崩村慢走七天，藏族向导带路，"
        "每天只走一段路，留出时间和村里人一起生活。",
        "自 2020 年起，Wanderly 为每一位旅客的行程进行碳补偿，补偿费用由 Wanderly 承担。",
    ]
    reworded = (
        "Wanderly 的云南·雨崩徒步为期 7 天，从梅里雪山脚下的雨崩村出发，由藏族向导带路，每天只走一段路。"
    )
    added = "我们将通过提供小团慢旅行的住宿优先选择和碳补偿，帮助旅行者在享受美好旅行的同时，也能保护环境。"
    blog = {"title": "Wanderly 的故事", "body": f"{reworded}{added}"}
    found = quality_findings(QualityContext.build(CH["blog"], wanderly, documents, story=True), blog)
    assert [f.matched for f in found if f.rule_id == "facts.story_added"] == [added]


def test_a_hashtag_made_of_no_words_goes_and_the_brands_own_stay() -> None:
    """A Clearleaf post of stops 45 and 46 (seed 7) ended "#Clearleaf #francifrezecosmetics"; a blind
    reviewer called the second garbled. The last resort drops a Latin hashtag that cannot be split into
    words of the brand's documents, its file or everyday tags, and keeps the rest."""
    from agents.quality import drop_foreign_hashtags, unreadable_hashtag

    clearleaf = load_brand(ROOT / "examples" / "brands" / "clearleaf")
    documents = ["Every Clearleaf product is fragrance-free and made for sensitive skin."]
    context = QualityContext.build(CH["social_post"], clearleaf, documents)
    text = (
        "Clearleaf Niacinamide 10% Serum is a lightweight, fragrance-free serum with 10% niacinamide. "
        "#Clearleaf #FragranceFree #SkincareRoutine #francifrezecosmetics"
    )
    post = drop_foreign_hashtags(context, Draft(channel="social_post", fields={"text": text})).fields["text"]
    assert post.endswith("#Clearleaf #FragranceFree #SkincareRoutine"), post
    assert unreadable_hashtag("xqztvb", frozenset({"skin"}))
    assert not unreadable_hashtag("SkinLovers2026", frozenset({"skin", "lover"}))


def test_a_phrase_from_the_brand_file_does_not_open_with_another_fields_label(wanderly: Brand) -> None:
    """A Wanderly e-mail and ad of stop 46 (seed 7) were blocked for "opens with the label '云南·雨崩徒步
    7天' as 'subject' does": the last resort had replaced the preheader with another of the route's facts
    under the same label. A phrase another short field's label opens is no candidate."""
    from agents.quality import complete_alternative, shared_label_of

    preheader = next(f for f in CH["email"].fields if f.name == "preheader")
    subject = "云南·雨崩徒步 7天：梅里雪山脚下的慢走七天，带你探索未知，发现美丽。"
    body = "亲爱的客户，我们很高兴能为你提供云南·雨崩徒步 7天的旅行服务。每团最多10人。"
    old = "云南·雨崩徒步 7天：最高海拔约 3,700 米"
    chosen = complete_alternative(preheader, old, wanderly, [subject, body])
    assert chosen and shared_label_of(chosen) != shared_label_of(subject), chosen
    assert "雨崩" in chosen  # still the route the piece is about


class _ShortEmailModel(FakeBackend):
    """The fake model, except that every e-mail it writes (draft or revision) has a body of one sentence,
    as the 1.5B model's did in stop 46 (22 and 47 words, returned unchanged when asked to expand), and
    that asked for a paragraph it writes one about the product the prompt names."""

    def __init__(self, config: FakeConfig) -> None:
        super().__init__(config)
        self.asked: list[str] = []

    def _complete(self, messages, json_schema, params):  # type: ignore[no-untyped-def]
        prompt = messages[-1]["content"]
        answer: dict[str, object] | None = None
        if "adding one paragraph" in prompt:
            self.asked.append(prompt)
            product = prompt.split("The piece is about ", 1)[-1].split(".", 1)[0].strip()
            if "The piece is about " not in prompt:
                product = prompt.split("Write the paragraph about ", 1)[1].split(".", 1)[0]
            answer = {
                "text": f"{product} is roasted on our 15 kg roaster in small batches and ships within 48 "
                "hours of roasting. Every bag names the farm, the altitude and the day it was roasted, so "
                "you know exactly what you are brewing. Order a bag and brew it the way you like best at "
                "home, from a pour-over on a quiet morning to a French press for the whole table."
            }
        elif json_schema and "preheader" in json.dumps(json_schema):
            body = "Hi there,\n\nTidewater Harbor Blend is back on the roaster.\n\nBest,\nThe Tidewater team"
            fields = {
                "subject": "Harbor Blend is back",
                "preheader": "Roasted this week in Astoria",
                "body": body,
            }
            answer = {"citations": ["P1"], "fields": fields}
        if answer is None:
            return super()._complete(messages, json_schema, params)
        return _completion(answer, "email")


def test_an_email_still_too_short_after_revision_gets_a_paragraph_on_its_product(mini_brand: Path) -> None:
    """Stop 46: four of five e-mails were blocked, two of them too short (22 and 47 words) after the
    revision that asked for more came back unchanged. Compliance now adds one paragraph on the piece's
    product (`refill_short_prose`, the copywriter's `expand` prompt) before the sign-off, checked like the
    rest, when nothing but the length blocks."""
    from pipelines import run_campaign

    model = _ShortEmailModel(FakeConfig())
    campaign = run_campaign(mini_brand, channels=["email"], llm=model)
    calls = [(t.agent, t.prompt) for t in campaign.trace if t.agent == "compliance"]
    assert ("compliance", "copywriter.expand@2") in calls, calls
    (piece,) = campaign.pieces
    body = piece.fields["body"]
    assert "15 kg roaster" in body and body.rstrip().endswith("The Tidewater team"), body
    assert body.index("15 kg roaster") < body.index("Best,")
    assert "quality.too_short" not in [f.rule_id for f in piece.compliance.findings if not f.fixed]


# --- Stop 47: one product per e-mail and ad; a "not just X" with no second half ---------------------


def test_an_email_that_wanders_to_another_product_is_a_finding_and_loses_those_sentences(
    tidewater: Brand,
) -> None:
    from agents.compliance import remove_offending_sentences
    from agents.quality import main_product

    wandering = {
        **GOOD_EMAIL_EN,
        "body": GOOD_EMAIL_EN["body"].replace(
            "\n\nPick your grind",
            "\n\nLow Tide is a medium roast from Huila. It tastes of caramel and red apple."
            "\n\nPick your grind",
        ),
    }
    context = QualityContext.build(CH["email"], tidewater)
    assert main_product(CH["email"], tidewater, wandering) == "Harbor Light"  # the subject's product
    found = [f for f in quality_findings(context, wandering) if f.rule_id == "quality.other_product"]
    # the sentence naming Low Tide and the one after it that goes on about it; nothing else
    assert [f.matched for f in found] == [
        "Low Tide is a medium roast from Huila.",
        "It tastes of caramel and red apple.",
    ]
    fixed = remove_offending_sentences(Draft(channel="email", fields=wandering), found)
    assert "Low Tide" not in fixed.fields["body"] and "caramel" not in fixed.fields["body"]
    assert "Pick your grind" in fixed.fields["body"] and "Harbor Light is back" in fixed.fields["body"]
    assert "quality.other_product" not in rules(tidewater, "email", GOOD_EMAIL_EN)


def test_an_ad_headline_about_another_product_is_replaced_by_one_on_the_ads_product() -> None:
    from agents.quality import replace_blocked_phrases

    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    ad = {
        "headline_1": "10-inch Cast-Iron Skillet",
        "headline_2": "Hearth Kitchen cooking class",
        "headline_3": "Order yours today",
        "description_1": "The 10-inch skillet comes pre-seasoned and ready to cook on any stove.",
        "description_2": "A cast-iron skillet with a limited lifetime warranty. Order yours today.",
    }
    found = quality_findings(QualityContext.build(CH["search_ad"], hearthline), ad)
    assert [(f.rule_id, f.field) for f in found if f.rule_id == "quality.other_product"] == [
        ("quality.other_product", "headline_2")
    ]
    fixed, replaced = replace_blocked_phrases(
        CH["search_ad"], Draft(channel="search_ad", fields=ad), found, hearthline
    )
    assert replaced == {"headline_2"}
    again = quality_findings(QualityContext.build(CH["search_ad"], hearthline), fixed.fields)
    assert "quality.other_product" not in {f.rule_id for f in again}, fixed.fields["headline_2"]
    # an ad on one product, or a channel that allows several (a social post), has no such finding
    same = {**ad, "headline_2": "Pre-seasoned and oven-safe"}
    assert "quality.other_product" not in rules(hearthline, "search_ad", same)


def test_an_ad_description_that_is_another_products_sheet_is_replaced(tidewater: Brand) -> None:
    """Stop 50's Tidewater ad: a Breakwater Blend headline over Harbor Light's description and a sentence on
    Low Tide, none of them naming a product. Each description describes another coffee by its sheet, is a
    finding, and gets a phrase on the ad's own product."""
    from agents.quality import replace_blocked_phrases

    ad = {
        "headline_1": "Tidewater Breakwater Blend",
        "headline_2": "$17.00 per 340 g bag",
        "headline_3": "Visit tidewater.example",
        "description_1": "A light-roast washed Ethiopian single origin from the Kochere area of Yirgacheffe.",
        "description_2": "It's a medium-roast washed Colombian single origin from La Plata, Huila.",
    }
    found = quality_findings(QualityContext.build(CH["search_ad"], tidewater), ad)
    assert [f.field for f in found if f.rule_id == "quality.other_product"] == [
        "description_1",
        "description_2",
    ]
    fixed, replaced = replace_blocked_phrases(
        CH["search_ad"], Draft(channel="search_ad", fields=ad), found, tidewater
    )
    assert replaced == {"description_1", "description_2"}
    again = quality_findings(QualityContext.build(CH["search_ad"], tidewater), fixed.fields)
    assert "quality.other_product" not in {f.rule_id for f in again}, fixed.fields
    assert "Ethiopian" not in str(fixed.fields) and "Colombian" not in str(fixed.fields)
    # the ad's own description, unnamed, is no finding
    own = {
        **ad,
        "description_1": "A medium-dark espresso blend of Brazilian and Guatemalan coffees built for milk "
        "drinks.",
    }
    assert [
        f.field
        for f in quality_findings(QualityContext.build(CH["search_ad"], tidewater), own)
        if f.rule_id == "quality.other_product"
    ] == ["description_2"]


def test_a_cut_headline_in_a_one_product_ad_gets_a_stand_in_on_that_product(tidewater: Brand) -> None:
    """The stand-in for a field too long to keep (``_fit_limits``) keeps to the product the rest of the ad is
    about, not the phrase nearest the model's words."""
    from agents.compliance import Compliance

    ad = {
        "headline_1": "Breakwater Blend",
        "headline_2": "$17.00 per 340 g bag",
        "headline_3": "Order today",
        "description_1": "A light-roast washed Ethiopian single origin from the Kochere area of Yirgacheffe "
        "that we roast in small batches on the Astoria waterfront every single morning of the week.",
        "description_2": "A medium-dark espresso blend of Brazilian and Guatemalan coffees built for milk "
        "drinks.",
    }
    fitted, cut = Compliance._fit_limits(CH["search_ad"], tidewater, Draft(channel="search_ad", fields=ad))
    assert "description_1" not in cut
    assert "Ethiopian" not in fitted.fields["description_1"], fitted.fields["description_1"]
    assert fitted.fields["description_1"] != ad["description_2"]


@pytest.mark.parametrize(
    ("text", "dangling"),
    [
        ("Our products are not just fragrance-free", "not just"),
        ("Tidewater is not only a roaster.", "not only"),
        ("Not just coffee, but a ritual.", None),
        ("Not only fresh but also traceable.", None),
        # a compound adjective waiting for its noun (stop 50's Hearthline ad description)
        ("Pre-seasoned with 3 coats of oil for long-lasting", "long-lasting"),
        ("Our hard-wearing", "hard-wearing"),
        ("Tough and long-lasting", None),
        ("The seasoning is long-lasting.", None),
        ("Built for slow-cooking", None),
    ],
)
def test_a_not_just_with_no_second_half_dangles(text: str, dangling: str | None) -> None:
    assert dangling_word(text) == dangling


def test_an_email_that_names_its_product_and_tells_nothing_of_it_gains_its_facts(tidewater: Brand) -> None:
    vague = {
        "subject": "Harbor Light is back",
        "preheader": "Fresh from our roaster",
        "body": "Hi there,\n\nHarbor Light is back in our shop, and we think you will love it. It is the "
        "coffee for slow mornings and good company, and every cup is a small celebration of the craft we "
        "care about. Try it this week and tell us what you think of it.\n\nOrder yours today.\n\nBest,\n"
        "The Tidewater team",
    }
    context = QualityContext.build(CH["email"], tidewater)
    found = quality_findings(context, vague)
    untold = [f for f in found if f.rule_id == "quality.no_specifics"]
    assert untold and "names Harbor Light but gives none of its facts" in untold[0].explanation
    fixed = name_a_product(CH["email"], tidewater, Draft(channel="email", fields=vague), found)
    assert "Kochere area of Yirgacheffe" in fixed.fields["body"]  # Harbor Light's own sheet, no other's
    assert "Low Tide" not in fixed.fields["body"]
    assert quality_findings(context, fixed.fields) == []
    assert "quality.no_specifics" not in rules(tidewater, "email", GOOD_EMAIL_EN)  # it tells its facts


def test_an_email_still_short_after_the_refill_lists_its_products_facts() -> None:
    from agents.quality import facts_at_a_glance

    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    short = {
        "subject": "12-inch Cast-Iron Skillet",
        "preheader": "Hearthline 12-inch Cast-Iron Skillet: Helper handle opposite the main handle",
        "body": "Hi there,\n\nMeet our 12-inch Cast-Iron Skillet. Its helper handle makes a full pan of "
        "cornbread easy to lift.\n\nBest,\nThe Hearthline team",
    }
    context = QualityContext.build(CH["email"], hearthline)
    assert "quality.too_short" in {f.rule_id for f in quality_findings(context, short)}
    listed = facts_at_a_glance(CH["email"], hearthline, Draft(channel="email", fields=short)).fields["body"]
    assert listed.endswith("- Limited lifetime warranty\n\nBest,\nThe Hearthline team")  # before the sign-off
    assert "Hearthline 12-inch Cast-Iron Skillet at a glance:\n- A 12-inch pre-seasoned" in listed
    assert "- $62.00" in listed and "10-inch" not in listed  # its own sheet only
    assert "- Helper handle" not in listed  # the preheader gives it already
    assert quality_findings(context, {**short, "body": listed}) == []
    # a body that meets its minimum is left as it is
    assert facts_at_a_glance(
        CH["email"], hearthline, Draft(channel="email", fields=GOOD_EMAIL_EN)
    ).fields == (GOOD_EMAIL_EN)


def test_an_ad_description_said_whole_inside_the_other_is_a_repeat() -> None:
    qingyu = load_brand(ROOT / "examples" / "brands" / "qingyu")
    ad = {
        "headline_1": "青屿少儿编程：小班编程课",
        "headline_2": "图形化编程启蒙班",
        "headline_3": "现在预约试听课",
        "description_1": "每期 24 课时，每课时 45 分钟，每周 2 次，共 12 周",
        "description_2": "图形化编程启蒙班（Scratch）：每期 24 课时，每课时 45 分钟，每周 2 次，共 12 周",
    }
    found = [f for f in quality_findings(QualityContext.build(CH["search_ad"], qingyu), ad)]
    assert [(f.rule_id, f.field) for f in found if f.rule_id == "quality.repetition"] == [
        ("quality.repetition", "description_2")
    ]
    other = {**ad, "description_2": "6 至 8 岁的孩子用 Scratch 做出自己的第一个小游戏，现在预约试听课。"}
    assert "quality.repetition" not in rules(qingyu, "search_ad", other)


def test_a_note_to_the_brands_writers_copied_into_an_email_is_found_every_time(wanderly: Brand) -> None:
    body = (
        "你好，\n\n每团最多 10 人，藏族向导同行。雨崩路线需要连续多日徒步，写文案时必须提示体能要求；"
        "Wanderly 是我们的品牌名称，始终用拉丁字母书写。\n\n祝好，\nWanderly 团队"
    )
    email = {"subject": "云南·雨崩徒步 7天", "preheader": "每团最多 10 人，藏族向导同行", "body": body}
    found = [f.matched for f in quality_findings(QualityContext.build(CH["email"], wanderly), email)
             if f.rule_id == "quality.guideline_echoed"]  # fmt: skip
    assert found == ["写文案", "品牌名称", "始终用拉丁字母"]
    plain = {**email, "body": body.replace("写文案时必须提示体能要求", "出发前请评估自己的体能")}
    assert "quality.guideline_echoed" in rules(wanderly, "email", plain)  # the name note is still there
    told = {**email, "body": "你好，\n\n每团最多 10 人，藏族向导同行，请评估自己的体能。\n\n祝好，\nWanderly"}
    assert "quality.guideline_echoed" not in rules(wanderly, "email", told)


def test_a_cut_never_falls_on_the_comma_inside_a_number() -> None:
    spec = next(f for f in CH["search_ad"].fields if f.name == "description_1")
    text = "Our coffee is made with beans grown at altitudes from 1,950 to 2,200 m in the Kochere area."
    cut, _ = fit_with_cut(text, spec)
    assert not cut.endswith("to 2") and "2,200" in cut, cut


# --- Stop 48: the same campaign in every process --------------------------------------------------


def test_a_sentence_naming_every_product_gives_the_piece_to_the_brands_first_product(
    wanderly: Brand,
) -> None:
    """A tie within one sentence went to the first product a set gave back, which changes from one
    process to the next (PYTHONHASHSEED): the same e-mail was about Yubeng in one run, Tulou in the next,
    and the eval suite's replay missed its cache in 2 of 6 runs."""
    from agents.quality import main_product

    fields = {
        "subject": "秋天，跟 Wanderly 慢慢走",
        "preheader": "三条小团路线还有名额",
        "body": "你好，\n\n秋天到了，云南·雨崩徒步 7天、新疆·喀纳斯秋季 8天、福建·土楼文化 5天都还有名额。"
        "\n\n祝好，\nWanderly 团队",
    }
    names = [p.name for p in wanderly.products]
    assert main_product(CH["email"], wanderly, fields) == names[0]
    reordered = wanderly.model_copy(update={"products": list(reversed(wanderly.products))})
    assert main_product(CH["email"], reordered, fields) == names[-1]
    # one sentence that names a product before the others still decides by counts, then position
    fields["body"] += "\n\n新疆·喀纳斯秋季 8天，一团最多 8 人。"
    assert main_product(CH["email"], reordered, fields) == next(n for n in names if "喀纳斯" in n)


def test_a_passage_under_another_products_heading_is_not_about_this_one(wanderly: Brand) -> None:
    """ "徒步" is a pair of characters only "云南·雨崩徒步 7天" has among Wanderly's names, and also in
    "南靖土楼群徒步" under the Tulou heading: that sheet was given to a Yubeng e-mail to grow by."""
    from agents.retriever import chinese_short_names, names_product

    sheets = {p.name: list(p.facts) for p in wanderly.products}
    short = chinese_short_names(list(sheets))
    yubeng = next(n for n in sheets if "雨崩" in n)
    tulou = next(n for n in sheets if "土楼" in n)
    text = "- **体验**：客家擂茶手作课（约 2 小时）、南靖土楼群徒步、与土楼住户共进晚餐。"
    assert not names_product(text, "三、福建·土楼文化 5天", yubeng, sheets, short)
    assert names_product(text, "三、福建·土楼文化 5天", tulou, sheets, short)
    # a heading that names no product leaves it to the passage
    assert names_product("雨崩村的客栈老板扎西发来照片", "往期文案", yubeng, sheets, short)
    assert names_product("雨崩村的客栈老板扎西发来照片", None, yubeng, sheets, short)


def test_a_brand_named_only_inside_a_web_address_is_not_named(tidewater: Brand) -> None:
    """A Tidewater ad of stop 47 said "Visit tidewater.example" and nowhere else who it was from."""
    ad = {
        "headline_1": "Freshness at your fingertips",
        "headline_2": "Try our fresh coffee today!",
        "headline_3": "Visit tidewater.example",
        "description_1": "Our beans are roasted every 48 hours in small batches.",
        "description_2": "Write to hello@tidewater.example with any question about your order.",
    }
    assert "quality.required_term" in rules(tidewater, "search_ad", ad)
    named = {**ad, "headline_1": "Tidewater Harbor Light Coffee"}
    assert "quality.required_term" not in rules(tidewater, "search_ad", named)


def test_an_ad_headline_that_names_no_product_and_gives_no_figure_is_filler(
    wanderly: Brand, tidewater: Brand
) -> None:
    """Stop 47's blind reviewers rejected "Freshness at your fingertips" and "我们致力于提供小团慢旅行的体验"
    as filler, "that name neither the brand nor a product": the first two headlines of an ad name the
    brand or a product, give a figure or a fact of a sheet."""
    ad = {
        "headline_1": "Freshness at your fingertips",
        "headline_2": "Harbor Light, light and floral",
        "headline_3": "Order yours today",
        "description_1": "Harbor Light is a washed Ethiopian from Yirgacheffe.",
        "description_2": "Tidewater Harbor Light: $21.50 per 340 g bag. Order today.",
    }
    found = [f.field for f in quality_findings(QualityContext.build(CH["search_ad"], tidewater), ad)
             if f.rule_id == "quality.no_specifics"]  # fmt: skip
    assert found == ["headline_1"]  # the call to action (headline_3) may be generic
    for fine in ("USDA Organic certified", "Grown at 1,950-2,200 m", "Harbor Light Ethiopian", "Tidewater"):
        assert "quality.no_specifics" not in rules(tidewater, "search_ad", {**ad, "headline_1": fine})
    zh = {
        "headline_1": "我们致力于提供小团慢旅行的体验",
        "headline_2": "雨崩徒步，每团最多 10 人",
        "headline_3": "立即预订行程",
        "description_1": "云南·雨崩徒步 7天，在梅里雪山脚下的雨崩村慢走七天。",
        "description_2": "每团最多 10 人，查看行程并预约。",
    }
    found = [f.field for f in quality_findings(QualityContext.build(CH["search_ad"], wanderly), zh)
             if f.rule_id == "quality.no_specifics"]  # fmt: skip
    assert found == ["headline_1"]  # "慢旅行" is in a description: what the brand does, not what it sells


def test_a_filler_headline_gets_a_fact_of_the_ads_own_product(hearthline: Brand, tidewater: Brand) -> None:
    from agents.quality import replace_blocked_phrases

    ad = {
        "headline_1": "10-inch Cast-Iron Skillet",
        "headline_2": "Cook like never before",
        "headline_3": "Get your own cast-iron skillet",
        "description_1": "Hearthline casts iron cookware in Hamilton.",
        "description_2": "Visit hearthline.example.com to order yours.",
    }
    context = QualityContext.build(CH["search_ad"], hearthline)
    found = quality_findings(context, ad)
    assert [(f.rule_id, f.field) for f in found] == [("quality.no_specifics", "headline_2")]
    fixed, replaced = replace_blocked_phrases(
        CH["search_ad"], Draft(channel="search_ad", fields=ad), found, hearthline
    )
    skillet = next(p for p in hearthline.products if p.name.endswith("10-inch Cast-Iron Skillet"))
    assert replaced == {"headline_2"} and fixed.fields["headline_2"] in skillet.facts  # a fact in words
    assert fixed.fields["headline_2"] != "$48.00"
    assert quality_findings(context, fixed.fields) == []
    # Two filler headlines over a description of no named product: the second phrase keeps to the first's
    filler = {
        "headline_1": "Freshness at your fingertips",
        "headline_2": "Try our fresh coffee today!",
        "headline_3": "Visit our site",
        "description_1": "Roasted every 48 hours in Astoria.",
        "description_2": "A medium-dark espresso blend built for milk drinks. Order today.",
    }
    context = QualityContext.build(CH["search_ad"], tidewater)
    found = quality_findings(context, filler)
    fixed, replaced = replace_blocked_phrases(
        CH["search_ad"], Draft(channel="search_ad", fields=filler), found, tidewater
    )
    assert replaced == {"headline_1", "headline_2"}
    assert not [
        f
        for f in quality_findings(context, fixed.fields)
        if f.rule_id in {"quality.other_product", "quality.no_specifics"}
    ]


def test_a_products_line_goes_in_before_the_closing_thanks_and_reads_as_a_sentence() -> None:
    """Stop 47's Qingyu e-mail had "图形化编程启蒙班（Scratch）：面向……" after "感谢您的支持！":
    "a catalogue-style 'name: description' line pasted in after the closing thanks" (both blind
    reviewers). The line now reads "X是……" and goes in before the thanks."""
    from agents.quality import name_a_product

    qingyu = load_brand(ROOT / "examples" / "brands" / "qingyu")
    email = {
        "subject": "图形化编程启蒙班（Scratch）：适合 6–8 岁",
        "preheader": "小班编程课，孩子亲手做出能运行的作品",
        "body": "亲爱的家长朋友，您好！我们青屿少儿编程很高兴为您介绍图形化编程启蒙班的课程。"
        "如果您感兴趣，欢迎访问我们的网站报名。感谢您的支持！\n\n祝好，\n青屿 团队",
    }
    context = QualityContext.build(CH["email"], qingyu)
    found = [f for f in quality_findings(context, email) if f.rule_id == "quality.no_specifics"]
    assert found
    body = name_a_product(CH["email"], qingyu, Draft(channel="email", fields=email), found).fields["body"]
    added = "图形化编程启蒙班（Scratch）是面向 6 至 8 岁孩子的图形化编程入门课"
    assert added in body and "（Scratch）：面向" not in body
    assert body.index(added) < body.index("感谢您的支持！") < body.index("祝好")
    # a body that is only its thanks keeps it where it is (nothing to move it after)
    alone = {**email, "body": "感谢您的支持！\n\n祝好，\n青屿 团队"}
    fixed = name_a_product(CH["email"], qingyu, Draft(channel="email", fields=alone), found).fields["body"]
    assert fixed.startswith("感谢您的支持！")


def test_a_support_replys_closing_in_a_marketing_email_is_filler(tidewater: Brand, wanderly: Brand) -> None:
    """Stop 47's Clearleaf e-mail ended "We hope this information was helpful.": "ends like a support
    reply" (both blind reviewers)."""
    body = GOOD_EMAIL_EN["body"].replace("\n\nWarmly", " We hope this information was helpful.\n\nWarmly")
    assert body != GOOD_EMAIL_EN["body"]
    assert "quality.filler" in rules(tidewater, "email", {**GOOD_EMAIL_EN, "body": body})
    assert "quality.filler" not in rules(tidewater, "email", GOOD_EMAIL_EN)
    assert _stock_matches("希望以上信息对您有所帮助。") and not _stock_matches("希望你在雨崩玩得开心。")
    # "Hey there! I'm excited to tell you about my new product" (stop 49's Hearthline preheader)
    assert _stock_matches("I'm excited to tell you about my new product") and _stock_matches(
        "We’re so excited to share our new roast"
    )
    assert not _stock_matches("Kids get excited to see their code run.")


def _stock_matches(text: str) -> bool:
    from agents.quality import _STOCK

    return _STOCK.search(text) is not None


def test_a_post_restating_what_the_whole_brand_does_names_no_product() -> None:
    """A Qingyu post of stop 48 (seed 10) was "青屿少儿编程致力于为孩子们提供小班编程课。快来报名吧！":
    "编程课" is in a course's sheet, but also in the positioning line: it says what the brand does, not
    which course."""
    qingyu = load_brand(ROOT / "examples" / "brands" / "qingyu")
    post = {"text": "青屿少儿编程致力于为孩子们提供小班编程课。快来报名吧！#青屿少儿编程 #编程启蒙"}
    found = rules(qingyu, "social_post", post)
    assert "quality.no_specifics" in found and "quality.filler" in found
    named = {"text": "Python 少年进阶班带 10 到 14 岁的孩子用 Python 写小游戏。快来报名吧！#青屿少儿编程"}
    assert "quality.no_specifics" not in rules(qingyu, "social_post", named)
    by_sheet = {"text": "孩子们用传感器做小夜灯和自动浇花器，每班最多 6 人。快来报名吧！#青屿少儿编程"}
    assert "quality.no_specifics" not in rules(qingyu, "social_post", by_sheet)


def test_an_ad_naming_its_brand_only_in_its_address_gets_the_name_on_a_headline(wanderly: Brand) -> None:
    """Stop 48's Wanderly ad (seed 10) named the brand only in "详情请访问 wanderly.example" and had no
    "我们" to name: the first headline that still fits with the name before it gets it."""
    from agents.quality import name_the_brand

    ad = {
        "headline_1": "探索未知，发现美丽",
        "headline_2": "云南·雨崩徒步 7天：在梅里雪山脚下的雨崩村慢走七天",
        "headline_3": "详情请访问 wanderly.example",
        "description_1": "徒步总里程约 48 公里",
        "description_2": "云南·雨崩徒步 7天，由领队与当地藏族向导共同带队的小团徒步路线",
    }
    context = QualityContext.build(CH["search_ad"], wanderly)
    found = quality_findings(context, ad)
    assert [f.rule_id for f in found] == ["quality.required_term"]
    draft = Draft(channel="search_ad", fields=ad)
    assert name_the_brand(draft, found, wanderly) == draft  # without the channel: no phrase field is known
    fixed = name_the_brand(draft, found, wanderly, CH["search_ad"]).fields
    assert fixed["headline_1"] == "Wanderly：探索未知，发现美丽"  # headline_2 would be over 30 characters
    assert quality_findings(context, fixed) == []


@pytest.mark.parametrize(
    ("text", "typo"),
    [
        ("真实实体验：讲在地人的故事", True),  # stop 50's Wanderly headline
        ("慢慢走，看看雨崩的山", False),
        ("扎扎实实学编程，实实在在的作品", False),
        ("培养孩子的学习习惯", False),  # 学习 + 习惯: two words, no typo
        ("谢谢你一步步走到这里", False),
    ],
)
def test_a_chinese_character_typed_twice_is_a_finding_and_the_last_resort_writes_it_once(
    wanderly: Brand, text: str, typo: bool
) -> None:
    from agents.quality import undouble_characters

    fields = {"headline_1": "Wanderly 云南·雨崩徒步 7天", "headline_3": text}
    context = QualityContext.build(CH["search_ad"], wanderly)
    found = [f for f in quality_findings(context, fields) if f.rule_id == "quality.doubled_character"]
    assert bool(found) is typo, found
    fixed = undouble_characters(Draft(channel="search_ad", fields=fields)).fields["headline_3"]
    assert fixed == (text.replace("实实体", "实体") if typo else text)


def test_a_clause_said_again_in_other_words_in_another_phrase_field_is_a_repeat() -> None:
    """Stop 50's Qingyu ad: "亲手做能运行的作品" in headline 1 and "亲手制作能运行的作品" in description 1
    (both blind reviewers: "restates headline 1 almost word for word"). A product named in a headline and a
    description is no repeat."""
    qingyu = load_brand(ROOT / "examples" / "brands" / "qingyu")
    wanderly = load_brand(ROOT / "examples" / "brands" / "wanderly")
    ad = {
        "headline_1": "青屿少儿编程：6-14 岁的孩子，亲手做能运行的作品！",
        "headline_2": "每期最多 8 人，老师看得见每个孩子",
        "headline_3": "预约一节免费试听课",
        "description_1": "青屿少儿编程为 6 至 14 岁的孩子开设小班编程课，让孩子们亲手制作能运行的作品。",
        "description_2": "Python 少年进阶班：面向 10 至 14 岁孩子的文本编程课，用 Python 写小游戏。",
    }
    context = QualityContext.build(CH["search_ad"], qingyu)
    found = [f for f in quality_findings(context, ad) if f.rule_id == "quality.repetition"]
    assert [f.field for f in found] == ["description_1"]
    other = {**ad, "description_1": "每周两次课，每次 90 分钟，在成都和重庆的校区上课。"}
    assert "quality.repetition" not in rules(qingyu, "search_ad", other)
    named_twice = {
        "headline_1": "Wanderly 云南·雨崩徒步 7天",
        "headline_2": "梅里雪山脚下慢走七天",
        "headline_3": "立即预订，跟 Wanderly 慢慢走",  # (a third naming would be a repeat of its own)
        "description_1": "云南·雨崩徒步 7天，全程徒步约 48 公里，藏族向导同行。",
        "description_2": "每团最多 10 人，晚上住雨崩村的家庭客栈。",
    }
    assert "quality.repetition" not in rules(wanderly, "search_ad", named_twice)


@pytest.mark.parametrize(
    ("headline", "unspecific_"),
    [
        ("Clearleaf's products", True),  # stop 50's ad: "filler rather than a headline"
        ("The Clearleaf range", True),
        ("Clearleaf", False),  # the name alone is the names-only check's
        ("Shop Clearleaf online", False),
        ("Clearleaf skincare, made in Boulder", False),
    ],
)
def test_a_headline_of_the_brands_name_and_a_word_for_anything_it_sells_says_nothing(
    headline: str, unspecific_: bool
) -> None:
    from agents.quality import unspecific

    clearleaf = load_brand(ROOT / "examples" / "brands" / "clearleaf")
    assert unspecific(clearleaf, headline, phrase=True) is unspecific_


def test_a_description_made_of_the_headlines_is_a_repeat_and_one_that_adds_to_them_is_not(
    tidewater: Brand,
) -> None:
    """Stop 51's Tidewater ad: "Breakwater Blend: $17.00 per 340 g bag" under the headlines "Tidewater
    Breakwater Blend" and "$17.00 per 340 g bag" ("just repeats headlines 1 and 2 word for word", both
    blind reviewers)."""
    ad = {
        "headline_1": "Tidewater Breakwater Blend",
        "headline_2": "$17.00 per 340 g bag",
        "headline_3": "Visit tidewater.example",
        "description_1": "Breakwater Blend: $17.00 per 340 g bag",
        "description_2": "60% Brazil Cerrado Mineiro natural, 40% Guatemala Huehuetenango washed",
    }
    context = QualityContext.build(CH["search_ad"], tidewater)
    found = [f for f in quality_findings(context, ad) if f.rule_id == "quality.repetition"]
    assert [f.field for f in found] == ["description_1"]
    more = {
        **ad,
        "description_1": "Breakwater Blend: $17.00 per 340 g bag, shipped within 48 hours of roasting.",
    }
    assert "quality.repetition" not in rules(tidewater, "search_ad", more)


@pytest.mark.parametrize(
    ("sentence", "leaked"),
    [
        ("品牌口号是'探索未知，发现美丽'。", True),  # stop 51's Wanderly story blog
        ("Our slogan is simple: roast it fresh.", True),
        ("口号喊得再响，也不如把路走实。", False),
        ("The slogan printed on the bag is new this year.", False),
    ],
)
def test_the_slogan_introduced_as_one_is_brief_material(sentence: str, leaked: bool) -> None:
    from agents.quality import _STRATEGY

    assert bool(_STRATEGY.search(sentence)) is leaked


def test_a_boastful_title_or_headline_is_sent_back_and_replaced() -> None:
    """Both blind reviewers of stop 51 rejected a Wanderly story blog titled "…Wanderly小团慢旅行的辉煌历程"
    as boastful. A phrase field with a word of self-praise is ``quality.boastful``; its last resort is the
    story's own title. Prose may use such a word for a place ("the legendary Route 66")."""
    from agents.quality import replace_blocked_phrases

    wanderly = load_brand(ROOT / "examples" / "brands" / "wanderly")
    body = "Wanderly 是一家专注小团慢旅行的旅行品牌，总部位于四川成都。" * 12
    title = "Wanderly小团慢旅行的辉煌历程"
    found = quality_findings(QualityContext.build(CH["blog"], wanderly), {"title": title, "body": body})
    boast = [f for f in found if f.rule_id == "quality.boastful"]
    assert [(f.field, f.severity, f.matched) for f in boast] == [("title", "block", "辉煌")]
    fixed, replaced = replace_blocked_phrases(
        CH["blog"], Draft(channel="blog", fields={"title": title, "body": body}), found, wanderly,
        ["Wanderly 的故事：从成都出发"],
    )  # fmt: skip
    assert replaced == {"title"} and fixed.fields["title"] == "Wanderly 的故事：从成都出发"
    story_title = {"title": "Wanderly 的故事：从成都出发", "body": body}
    assert "quality.boastful" not in rules(wanderly, "blog", story_title)
    assert "quality.boastful" not in rules(
        wanderly, "blog", {"title": "Wanderly 的故事", "body": body + "沿途有一段传奇的茶马古道。"}
    )
    tidewater = load_brand(ROOT / "examples" / "brands" / "tidewater")
    ad = {"headline_1": "Tidewater's Legendary Roasts", "headline_2": "Breakwater Blend $17.00"}
    assert "quality.boastful" in rules(tidewater, "search_ad", ad)
    ad["headline_1"] = "Tidewater Breakwater Blend"
    assert "quality.boastful" not in rules(tidewater, "search_ad", ad)


def test_a_headline_written_as_a_sentence_is_sent_back() -> None:
    """Stop 52's Wanderly ad had "住进百年土楼，跟客家人学做擂茶，适合亲子家庭的文化慢游路线。" as a headline:
    "a whole sentence, far too long for a headline", both blind reviewers wrote. A phrase, or a call to
    action that ends on "！", is a headline."""
    wanderly = load_brand(ROOT / "examples" / "brands" / "wanderly")
    ad = {
        "headline_1": "Wanderly 雨崩徒步 7天",
        "headline_2": "住进百年土楼，跟客家人学做擂茶，适合亲子家庭的文化慢游路线。",
        "headline_3": "立即预订！",
    }
    assert "quality.headline_sentence" in rules(wanderly, "search_ad", ad)
    ad["headline_2"] = "福建·土楼文化5天：住进百年土楼"
    assert "quality.headline_sentence" not in rules(wanderly, "search_ad", ad)
    tidewater = load_brand(ROOT / "examples" / "brands" / "tidewater")
    en = {"headline_1": "Harbor Light, roasted to order, shipped in 48 hours.", "headline_2": "Order today!"}
    assert "quality.headline_sentence" in rules(tidewater, "search_ad", en)
    en["headline_1"] = "Harbor Light, roasted to order"
    assert "quality.headline_sentence" not in rules(tidewater, "search_ad", en)
    en["headline_1"] = "Order today, roasted Monday!"
    assert "quality.headline_sentence" not in rules(tidewater, "search_ad", en)


def test_a_stand_in_is_not_made_of_the_other_fields() -> None:
    """Stop 52's Hearthline ad had a description repeating another, and the stand-in from the brand file,
    "Hearthline 10-inch Cast-Iron Skillet: Limited lifetime warranty", was its two headlines again, so
    the ad blocked as a repeat. A candidate made of other phrase fields and names is not taken."""
    from agents.quality import complete_alternative

    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    fields = {
        "headline_1": "10-inch Cast-Iron Skillet",
        "headline_2": "Limited lifetime warranty",
        "headline_3": "Hearthline",
        "description_1": "Hearthline offers cast-iron cookware that is built to last",
    }
    spec = next(s for s in CH["search_ad"].fields if s.name == "description_2")
    alternative = complete_alternative(
        spec, "Hearthline 10-inch Cast-Iron Skillet: Limited lifetime warranty", hearthline,
        list(fields.values()),
        products={"Hearthline 10-inch Cast-Iron Skillet"},
    )  # fmt: skip
    assert alternative and alternative != "Hearthline 10-inch Cast-Iron Skillet: Limited lifetime warranty"
    assert "quality.repetition" not in rules(
        hearthline, "search_ad", {**fields, "description_2": alternative}
    )


def test_two_descriptions_stating_the_same_facts_and_a_word_twice_in_a_headline() -> None:
    """Stop 52's blind reviewers rejected a Clearleaf ad whose descriptions both said "10% niacinamide …
    1% zinc PCA" in other words, and a Wanderly ad whose third headline said 慢节奏 twice."""
    clearleaf = load_brand(ROOT / "examples" / "brands" / "clearleaf")
    ad = {
        "headline_1": "Clearleaf Niacinamide 10% Serum",
        "headline_2": "Fragrance-free, made in the USA",
        "headline_3": "Visit clearleaf.example",
        "description_1": "Niacinamide 10% Serum: 10% niacinamide, 1% zinc PCA, 0.2% sodium hyaluronate",
        "description_2": "A lightweight, fragrance-free serum with 10% niacinamide and 1% zinc PCA.",
    }
    assert "quality.repetition" in rules(clearleaf, "search_ad", ad)
    ad["description_2"] = "A lightweight serum in an airless pump of 30% recycled plastic."
    assert "quality.repetition" not in rules(clearleaf, "search_ad", ad)
    # The same ingredients without their figures (stop 53's Clearleaf ad, seed 10); two shared words are not
    moisturizer = {
        "headline_1": "Clearleaf Barrier Moisturizer",
        "headline_2": "Fragrance-free, made in the USA",
        "headline_3": "Visit clearleaf.example",
        "description_1": "Clearleaf Barrier Moisturizer: 5% glycerin, 3% squalane, 1% ceramide complex",
        "description_2": "A fragrance-free moisturizer with glycerin, squalane, and a ceramide complex.",
    }
    assert "quality.repetition" in rules(clearleaf, "search_ad", moisturizer)
    moisturizer["description_2"] = "A fragrance-free moisturizer with glycerin, for dry and sensitive skin."
    assert "quality.repetition" not in rules(clearleaf, "search_ad", moisturizer)
    wanderly = load_brand(ROOT / "examples" / "brands" / "wanderly")
    zh = {
        "headline_1": "云南·雨崩徒步 7天",
        "headline_2": "梅里雪山脚下的雨崩村",
        "headline_3": "慢节奏旅行：行程设计注重小团和慢节奏",
    }
    assert "quality.repetition" in rules(wanderly, "search_ad", zh)
    zh["headline_3"] = "小团慢旅行，立即预订"
    assert "quality.repetition" not in rules(wanderly, "search_ad", zh)


def test_an_ad_that_names_its_product_in_a_third_field_repeats_it(wanderly: Brand) -> None:
    """Wanderly's ad of stop 52 (seed 10) named "福建·土楼文化 5天" in three of its five fields; both
    blind reviewers called it repetitive. Two namings are the limit; the third field is the finding."""
    tulou = "福建·土楼文化 5天"
    ad = {
        "headline_1": "福建·土楼文化 5天",
        "headline_2": "住进百年土楼学做擂茶",
        "headline_3": "立即预订 Wanderly",
        "description_1": "福建·土楼文化 5天：每团最多 12 人，入住土楼民宿 2 晚。",
        "description_2": "福建·土楼文化 5天适合 6 岁以上儿童，跟 Wanderly 慢慢走，立即预订。",
    }
    context = QualityContext.build(CH["search_ad"], wanderly)
    found = [f for f in quality_findings(context, ad) if f.rule_id == "quality.repetition"]
    assert [(f.field, tulou in f.explanation) for f in found] == [("description_2", True)]
    twice = dict(ad, description_2="适合 6 岁以上儿童，跟 Wanderly 慢慢走，立即预订。")
    assert not [f for f in quality_findings(context, twice) if "a third time" in f.explanation]
    # The last resort puts a phrase in the third field that does not name the route again: stop 53's
    # Wanderly ad (seed 10) had only phrases naming the Yubeng trek to choose from, and stayed blocked.
    from agents.quality import replace_blocked_phrases

    yubeng = {
        "headline_1": "梅里雪山下的云南·雨崩徒步 7天",
        "headline_2": "雨崩徒步7天：在梅里雪山脚下慢走",
        "headline_3": "云南·雨崩徒步 7天：6,980元/人",
        "description_1": "Wanderly 小团慢游，藏族向导同行。",
        "description_2": "徒步总里程约 48 公里，立即预订。",
    }
    found = quality_findings(context, yubeng)
    assert [f.field for f in found if "a third time" in f.explanation] == ["headline_3"]
    fixed, replaced = replace_blocked_phrases(
        CH["search_ad"], Draft(channel="search_ad", fields=yubeng), found, wanderly
    )
    # (headline_2 names it beside headline_1 too: headlines are read side by side, stop 54)
    assert replaced == {"headline_2", "headline_3"}
    assert "雨崩" not in fixed.fields["headline_3"], fixed.fields["headline_3"]
    assert "雨崩" not in fixed.fields["headline_2"], fixed.fields["headline_2"]
    assert not [f for f in quality_findings(context, fixed.fields) if "a third time" in f.explanation]
    # A blog (prose) names its product as often as it needs.
    assert "a third time" not in " ".join(
        f.explanation
        for f in quality_findings(
            QualityContext.build(CH["blog"], wanderly),
            {"title": tulou, "body": f"{tulou}。{tulou}。{tulou}。"},
        )
    )


def test_a_headline_that_is_the_brands_name_beside_one_naming_it_repeats_it() -> None:
    """Clearleaf's ad of stop 53 (seed 10): "Clearleaf Barrier Moisturizer", then "Clearleaf" alone as
    the second headline ("just the brand name, which headline_1 already gives", both blind reviewers)."""
    clearleaf = load_brand(ROOT / "examples" / "brands" / "clearleaf")
    ad = {
        "headline_1": "Clearleaf Barrier Moisturizer",
        "headline_2": "Clearleaf",
        "headline_3": "Fragrance-free, made in the USA",
        "description_1": "Barrier Moisturizer: 5% glycerin, 3% squalane, 1% ceramide complex",
        "description_2": "Made for dry, sensitive skin. Shop at clearleaf.example.",
    }
    context = QualityContext.build(CH["search_ad"], clearleaf)
    found = [f for f in quality_findings(context, ad) if "brand's name alone" in f.explanation]
    assert [(f.rule_id, f.field, f.severity) for f in found] == [
        ("quality.repetition", "headline_2", "block")
    ]
    # The brand's name alone is a fine headline when no other headline gives it (a description may).
    alone = dict(ad, headline_1="Barrier Moisturizer, 50 mL")
    assert not [f for f in quality_findings(context, alone) if "brand's name alone" in f.explanation]


def test_an_ad_field_listing_other_products_beside_the_ads_wanders(wanderly: Brand) -> None:
    """The demo's ad of stop 52 had a Yubeng headline over a description listing all three routes."""
    ad = {
        "headline_1": "云南·雨崩徒步 7天",
        "headline_2": "每团最多 10 人",
        "headline_3": "立即预订 Wanderly",
        "description_1": "云南·雨崩徒步 7天、新疆·喀纳斯秋季 8天和福建·土楼文化 5天，三条线路任你选。",
        "description_2": "由领队与当地藏族向导共同带队，跟 Wanderly 慢慢走，立即预订。",
    }
    context = QualityContext.build(CH["search_ad"], wanderly)
    found = [f for f in quality_findings(context, ad) if f.rule_id == "quality.other_product"]
    assert [f.field for f in found] == ["description_1"]
    one = dict(ad, description_1="在梅里雪山脚下的雨崩村慢走七天，最高海拔约 3,700 米。")
    assert "quality.other_product" not in rules(wanderly, "search_ad", one)


def test_a_course_the_documents_do_not_offer_is_an_invented_offering() -> None:
    """Qingyu's ad of stop 52 (seed 10) headlined "微积分入门班": Qingyu teaches coding, not calculus."""
    qingyu = load_brand(ROOT / "examples" / "brands" / "qingyu")
    context = QualityContext.build(CH["search_ad"], qingyu)
    ad = {
        "headline_1": "青屿微积分入门班",
        "headline_2": "每班最多 6 人",
        "headline_3": "立即预约试听",
        "description_1": "图形化编程启蒙班（Scratch）：适合 6–8 岁，每期 24 课时。",
        "description_2": "用 Scratch 做动画和小游戏，立即预约青屿的试听课。",
    }
    found = [f for f in quality_findings(context, ad) if f.rule_id == "facts.invented_offering"]
    assert [(f.field, f.matched, f.severity) for f in found] == [("headline_1", "微积分入门班", "block")]
    assert "图形化编程启蒙班（Scratch）" in found[0].suggestion
    # The brand's own courses, however they are cut into words, are no finding; nor are 航班 or 上课.
    mine = ("快来报名编程启蒙班", "Python 少年进阶班", "暑期编程日营7月开营", "每个班最多6人", "上课在周六")
    for headline in mine:
        fields = dict(ad, headline_1=headline)
        assert not [f for f in quality_findings(context, fields) if f.rule_id == "facts.invented_offering"]
    # English: a capitalised name before "Class", "Workshop"…, each word checked against the documents.
    hearthline = load_brand(ROOT / "examples" / "brands" / "hearthline")
    english = {
        "headline_1": "Hearthline Pottery Workshop",
        "headline_2": "Pre-seasoned cast iron",
        "headline_3": "Shop Hearthline today",
        "description_1": "The Hearthline 10-inch Cast-Iron Skillet is pre-seasoned and ready to cook.",
        "description_2": "Cast in Ohio and built to last. Shop Hearthline today.",
    }
    found = quality_findings(QualityContext.build(CH["search_ad"], hearthline), english)
    invented = [f.matched for f in found if f.rule_id == "facts.invented_offering"]
    assert invented == ["Hearthline Pottery Workshop"]
    english["headline_1"] = "Cast-Iron Cooking Class"  # a hyphenated word is its parts
    found = quality_findings(QualityContext.build(CH["search_ad"], hearthline), english)
    assert not [f for f in found if f.rule_id == "facts.invented_offering"]
    english["headline_1"] = "Join our new Skillet Class"  # a stop word before: only "Skillet" is the name
    found = quality_findings(QualityContext.build(CH["search_ad"], hearthline), english)
    assert not [f for f in found if f.rule_id == "facts.invented_offering"]


def test_a_phrase_ending_on_an_open_comparison_is_unfinished(hearthline: Brand) -> None:
    """Stop 53's Hearthline ad (seed 10): "Hearthline's cast-iron cookware is built to the same high
    standard" as a description; "the same as what?", both blind reviewers asked."""
    ad = {
        "headline_1": "Hearthline 10-inch Skillet",
        "headline_2": "Limited lifetime warranty",
        "headline_3": "Shop Hearthline today",
        "description_1": "Hearthline's cast-iron cookware is built to the same high standard",
        "description_2": "Pre-seasoned with 3 coats of canola oil. Order yours today.",
    }
    found = [f for f in quality_findings(QualityContext.build(CH["search_ad"], hearthline), ad)]
    assert [(f.rule_id, f.field) for f in found if f.rule_id == "quality.truncated"] == [
        ("quality.truncated", "description_1")
    ]
    ad["description_1"] = "Cast to the same high standard as our first skillet in 1962"
    assert "quality.truncated" not in rules(hearthline, "search_ad", ad)
    ad["description_1"] = "Every skillet is cast and checked the same way, by hand"
    assert "quality.truncated" not in rules(hearthline, "search_ad", ad)
