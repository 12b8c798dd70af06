"""The campaign report in a real headless Chromium: previews fit, hover and keyboard focus show the
passage and the finding, Chinese renders in a CJK font, and every preview is saved as a screenshot
(test artifacts: tests/browser.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from pipelines.report import campaign_html
from tests.browser import artifacts, browser, overflowing
from tests.report_samples import en_campaign, zh_campaign

pytestmark = [pytest.mark.browser]
__all__ = ["browser"]  # the fixture

CAMPAIGNS = {"en": lambda: en_campaign(failed=True), "zh": zh_campaign}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("width", [1280, 390])
def test_previews_fit_and_are_saved(browser: Browser, tmp_path: Path, lang: str, width: int) -> None:
    path = tmp_path / "report.html"
    path.write_text(campaign_html(CAMPAIGNS[lang]()), encoding="utf-8")
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(path.as_uri())
    assert overflowing(page, ".preview") == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    out = artifacts("report")
    previews = page.locator(".preview")
    assert previews.count() == len(CAMPAIGNS[lang]().pieces)
    for i in range(previews.count()):
        shot = out / f"{lang}-{width}-{i}.png"
        previews.nth(i).screenshot(path=str(shot))
        assert shot.stat().st_size > 2000  # an image with something in it, not a blank box
    page.screenshot(path=str(out / f"{lang}-{width}-page.png"), full_page=True)
    if lang == "zh":
        assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"', '青屿')")
    page.close()


def test_hover_and_focus_show_the_passage_and_the_finding(browser: Browser, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(campaign_html(en_campaign()), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(path.as_uri())
    sentence = page.locator(".serp .sent", has_text="Every bag is roasted")
    tip = page.locator(f"#{sentence.get_attribute('aria-describedby')}")
    assert not tip.is_visible()
    sentence.hover()
    assert tip.is_visible() and "knowledge/beans.md" in tip.inner_text()
    page.mouse.move(0, 0)
    assert not tip.is_visible()
    sentence.focus()  # keyboard users get the same
    assert tip.is_visible()
    box, view = tip.bounding_box(), page.viewport_size
    assert box and view and box["x"] >= 0 and box["x"] + box["width"] <= view["width"]
    page.screenshot(path=str(artifacts("report") / "en-source-tip.png"))
    mark = page.locator("mark.sev-block", has_text="cures headaches")
    finding_tip = page.locator(f"#{mark.get_attribute('aria-describedby')}")
    mark.focus()
    assert finding_tip.is_visible() and "Food Safety Law Art. 73" in finding_tip.inner_text()
    page.screenshot(path=str(artifacts("report") / "en-finding-tip.png"))
    # Tab reaches the sentences and findings in reading order
    page.locator("body").focus()
    reached = []
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.className"))
    assert "sent" in reached and "finding sev-block" in reached
    page.close()


def test_print_shows_footnotes_not_tooltips(browser: Browser, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(campaign_html(zh_campaign()), encoding="utf-8")
    page = browser.new_page()
    page.goto(path.as_uri())
    page.emulate_media(media="print")
    page.locator(".sent").first.focus()
    assert page.locator(".tip:visible").count() == 0
    assert page.locator("sup.cite a").first.is_visible()
    pdf = page.pdf()
    (artifacts("report") / "zh-print.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    page.close()
