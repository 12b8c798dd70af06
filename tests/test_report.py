"""The campaign report (pipelines/report.py, ``brandforge report``): what a reviewer sees in the page.

The pages are parsed with the standard library's HTML parser, so the assertions are about elements and
their text, not substrings of markup. The browser tests (test_report_browser.py) look at the same pages
in Chromium.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from agents.state import Campaign
from backends.fake import FakeBackend, FakeConfig
from pipelines import cli, run_campaign
from pipelines.report import campaign_html, diff_html, load_campaign
from tests.conftest import MINI_BRAND, MINI_DOCS, write_brand
from tests.report_samples import en_campaign, zh_campaign

pytestmark = pytest.mark.unit


class Page(HTMLParser):
    """Elements of a page: (tag, attributes, text inside) for every element, in document order."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str], list[str]]] = []
        self._open: list[int] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}, []))
        if tag not in {"meta", "br", "img", "input", "link", "hr"}:
            self._open.append(len(self.elements) - 1)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            index = self._open.pop()
            if self.elements[index][0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for index in self._open:
            self.elements[index][2].append(data)

    def find(self, tag: str | None = None, **attrs: str) -> list[tuple[str, dict[str, str], str]]:
        """Elements with ``tag`` whose attributes contain ``attrs`` (class_: one of its classes)."""
        found = []
        for name, attributes, text in self.elements:
            if tag and name != tag:
                continue
            want_class = attrs.get("class_")
            if want_class and want_class not in attributes.get("class", "").split():
                continue
            if any(attributes.get(k) != v for k, v in attrs.items() if k != "class_"):
                continue
            found.append((name, attributes, "".join(text)))
        return found

    def text_of(self, element_id: str) -> str:
        return next(text for _, attrs, text in self.find(id=element_id) for _ in [attrs])


def piece_text(page: Page, index: int) -> str:
    return page.find("article", id=f"piece{index}")[0][2]


def test_the_page_is_self_contained_and_in_the_brands_language() -> None:
    html = campaign_html(en_campaign())
    page = Page(html)
    assert page.find("html")[0][1]["lang"] == "en"
    # no scripts, no external resources: nothing but in-page links
    assert not page.find("script") and not page.find("link") and not page.find("img")
    assert all(attrs["href"].startswith("#") for _, attrs, _ in page.find("a"))
    assert "http://" not in html and "https://" not in html
    assert (
        "default-src 'none'"
        in page.find("meta", **{"http-equiv": "Content-Security-Policy"})[0][1]["content"]
    )
    zh = Page(campaign_html(zh_campaign()))
    assert zh.find("html")[0][1]["lang"] == "zh-CN"
    assert "营销活动报告" in zh.find("title")[0][2]
    assert Page(campaign_html(zh_campaign(), lang="en")).find("html")[0][1]["lang"] == "en"


def test_each_channel_gets_its_preview() -> None:
    page = Page(campaign_html(en_campaign(failed=True)))
    ad = page.find("div", class_="serp")[0][2]
    assert "Roasted to Order" in ad and "Shipped Within 48 Hours" in ad and "Order yours now." in ad
    assert "Sponsored" in page.find("span", class_="serp-badge")[0][2]
    feed = page.find("div", class_="feed")[0][2]
    assert "#FreshCoffee" in feed
    assert [t for _, _, t in page.find("span", class_="tag")] == ["#FreshCoffee", "#Tidewater"]
    inbox = page.find("div", class_="inbox-row")[0][2]
    assert "Tidewater" in inbox and "Fresh Coffee, Roasted For You" in inbox and "Roasted to order" in inbox
    assert "The Tidewater team" in page.find("div", class_="mail-body")[0][2]
    chat = page.find("div", class_="chat")[0][2]
    assert "How fresh is the coffee when it arrives?" in chat  # the customer's question is shown
    assert "(empty)" in chat  # the reply was never written
    zh = Page(campaign_html(zh_campaign()))
    assert "让孩子把想法变成作品" in zh.find("h4", class_="blog-title")[0][2]
    assert "可以退费吗" in zh.find("div", class_="bubble")[0][2]


def test_a_sentence_backed_by_a_cited_passage_shows_it_and_others_do_not() -> None:
    page = Page(campaign_html(en_campaign()))
    sentences = page.find("span", class_="sent")
    backed = [text for _, _, text in sentences]
    assert "Every bag is roasted to order and shipped within 48 hours of roasting." in backed
    assert "Unopened bags can be returned within 30 days." in backed
    assert not any("Order yours now" in t for t in backed)  # a call to action has no source
    assert not any(t.strip().startswith("#") for t in backed)
    # the sentence is described by a tooltip holding the passage and its document
    _, attrs, _ = next(s for s in sentences if s[2].startswith("Every bag"))
    assert attrs["tabindex"] == "0"
    tip = page.text_of(attrs["aria-describedby"])
    assert "knowledge/beans.md" in tip and "shipped within 48 hours of roasting" in tip
    # and a footnote number links to the passage in the sources list
    numbers = {a["href"] for _, a, _ in page.find("a") if a["href"].startswith("#source-")}
    for href in numbers:
        assert page.find("li", id=href[1:]), href
    zh = Page(campaign_html(zh_campaign()))
    zh_backed = [t for _, _, t in zh.find("span", class_="sent")]
    assert any("每班最多 8 人" in t for t in zh_backed)
    assert not any("保证孩子一定考上重点中学" in t for t in zh_backed)


def test_a_finding_is_marked_where_it_is_with_rule_fix_and_law() -> None:
    page = Page(campaign_html(en_campaign()))
    marks = page.find("mark", class_="sev-block")
    body_mark = next(m for m in marks if m[2].startswith("cures headaches"))
    tip = page.text_of(body_mark[1]["aria-describedby"])
    assert "health.medical_claim" in tip and "a food may not claim to treat or cure a disease" in tip
    assert "remove the health claim" in tip and "Food Safety Law Art. 73" in tip
    assert body_mark[1]["tabindex"] == "0"
    # listed under the piece with a link back to the highlight; a finding without a span is listed only
    items = {attrs["id"]: text for _, attrs, text in page.find("li", class_="finding-item")}
    anchor = body_mark[1]["id"].removesuffix("-at")
    assert "cures headaches" in items[anchor] and "Food Safety Law" in items[anchor]
    assert any("quality.too_short" in text for text in items.values())
    # a fixed finding is listed as fixed and not highlighted in the delivered text
    post = piece_text(page, 1)
    assert "ad_law.absolute_terms" in post and "fixed" in post
    assert not any("the best" in text for _, _, text in marks)
    zh = Page(campaign_html(zh_campaign()))
    mark = next(m for m in zh.find("mark") if m[2].startswith("保证孩子一定考上重点中学"))
    assert "第二十四条" in zh.text_of(mark[1]["aria-describedby"])


def test_lengths_are_shown_against_the_channels_limits() -> None:
    campaign = en_campaign()
    campaign.pieces[0].fields["headline_1"] = "Roasted to Order, Shipped Fresh Daily"  # 37 > 30
    page = Page(campaign_html(campaign))
    rows = {attrs.get("class", ""): text for _, attrs, text in page.find("tr") if "headline_1" in text}
    assert rows == {"m-over": rows.get("m-over", "")} and "37 characters" in rows["m-over"]
    assert "over the limit" in rows["m-over"] and "≤ 30 characters" in rows["m-over"]
    post_row = next(t for _, _, t in page.find("tr") if t.startswith("text"))
    assert "2 hashtags" in post_row and "1–3 hashtags" in post_row
    zh = Page(campaign_html(zh_campaign()))
    blog_row = next(t for _, a, t in zh.find("tr") if t.startswith("body"))
    # 180 CJK characters count as 120 words, and the six "8"s as 6; the minimum is 300 words (450 characters)
    assert (
        "126 词（中文按每词 1.5 个字计）" in blog_row
        and "不足下限" in blog_row
        and "450–900 字符" in blog_row
    )
    assert "7 字符" in next(t for _, _, t in zh.find("tr") if t.startswith("headline_1"))


def test_revisions_show_what_changed_and_the_brief_and_run_are_summarised() -> None:
    page = Page(campaign_html(en_campaign()))
    post = piece_text(page, 1)
    assert "Round 1: sent back by compliance" in post
    assert [t for _, _, t in page.find("del")][:1] == ["The best"]
    assert "Our" in [t for _, _, t in page.find("ins")]
    email = piece_text(page, 2)
    assert "sent back by the reviewer" in email and ", Roasted For You" in email
    assert "Delivered as first drafted." in piece_text(page, 0)
    assert "Coffee drinkers who want beans that are actually fresh" in page.find("section")[0][2]
    run = page.find("section")[-1][2]
    for shown in (
        "qwen2.5-1.5b",
        "strategist.brief@3",
        "copywriter.draft@5",
        "3 (1 failed)",
        "1200 / 340",
        "42.5",
    ):
        assert shown in run, shown


def test_the_status_says_blocked_and_incomplete_runs_say_why() -> None:
    page = Page(campaign_html(en_campaign()))
    assert page.find("span", class_="status")[0][2] == "Some pieces are blocked"
    assert not page.find("div", class_="failure")
    failed = Page(campaign_html(en_campaign(failed=True)))
    assert failed.find("span", class_="status")[0][2] == "Incomplete run"
    alert = failed.find("div", class_="failure")[0]
    assert alert[1]["role"] == "alert" and "the server closed the connection" in alert[2]
    verdicts = [t for _, _, t in failed.find("span", class_="verdict")]
    assert verdicts == ["Passed", "Passed after fixes", "Blocked", "Blocked"]


def test_supplied_text_cannot_add_markup() -> None:
    campaign = en_campaign()
    evil = '<img src=x onerror=alert(1)><script>alert(2)</script><a href="http://evil.example">x</a>'
    campaign.pieces[0].fields["description_2"] = evil
    campaign.brief.audience_insight = evil  # type: ignore[union-attr]
    campaign.passages[0].text += evil
    campaign.pieces[2].compliance.findings[0].explanation = evil
    page = Page(campaign_html(campaign))
    assert not page.find("img") and not page.find("script")
    assert not [a for _, a, _ in page.find("a") if not a["href"].startswith("#")]
    assert not [attrs for _, attrs, _ in page.elements if any(k.startswith("on") for k in attrs)]
    assert evil in page.find("div", class_="serp")[0][2]  # shown as the words it is


def test_diff_marks_words_and_chinese_characters() -> None:
    assert str(diff_html("The best beans", "Our beans")) == "<del>The best</del><ins>Our</ins> beans"
    assert str(diff_html("最好的课", "小班的课")) == "<del>最好</del><ins>小班</ins>的课"
    assert str(diff_html("a <b>", "a <i>")) == "a &lt;<del>b</del><ins>i</ins>&gt;"


def test_the_pipeline_records_what_each_revision_changed(tmp_path: Path) -> None:
    """A real (fake-model) campaign: revisions carry their before and after, pieces their first draft and
    channel inputs, and the report of it renders every piece."""
    brand = write_brand(tmp_path / "b", MINI_BRAND, MINI_DOCS)
    campaign = run_campaign(brand, llm=FakeBackend(FakeConfig()), index_dir=tmp_path / "idx")
    revised = [r for p in campaign.pieces for r in p.revisions]
    assert revised and all(r.before and r.after for r in revised)
    assert all(p.drafted for p in campaign.pieces if p.compliance.verdict != "blocked" or p.fields)
    reply = next(p for p in campaign.pieces if p.channel == "cs_reply")
    assert reply.inputs == {"question": "How fresh is the coffee when it arrives?"}
    page = Page(campaign_html(campaign))
    assert len(page.find("article", class_="piece")) == len(campaign.pieces)
    assert Campaign.model_validate_json(campaign.model_dump_json()) == campaign


def test_cli_writes_the_report_and_refuses_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "c.json"
    source.write_text(zh_campaign().model_dump_json(), encoding="utf-8")
    out = tmp_path / "r.html"
    assert cli.main(["report", str(source), "--html", str(out)]) == 0
    assert "青屿" in out.read_text(encoding="utf-8") and load_campaign(source) == zh_campaign()
    capsys.readouterr()
    bad = tmp_path / "bad.json"
    for content, expected in (
        ("{", "not valid JSON (line 1, column 2"),
        (json.dumps({"brand": {}}), "not a campaign"),
        ("[]", "not a campaign"),
    ):
        bad.write_text(content, encoding="utf-8")
        assert cli.main(["report", str(bad), "--html", str(tmp_path / "x.html")]) == 2
        err = capsys.readouterr().err
        assert expected in err and str(bad) in err and "Traceback" not in err
    assert not (tmp_path / "x.html").exists()
    assert cli.main(["report", str(tmp_path / "missing.json"), "--html", str(out)]) == 2
    assert "file not found" in capsys.readouterr().err
    assert cli.main(["report", str(source), "--html", "/dev/null/r.html"]) == 2
    assert "cannot write here" in capsys.readouterr().err
