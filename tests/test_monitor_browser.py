"""The monitoring report in a real headless Chromium, for both example months: the charts are drawn
(bars per day, an alert day marked), nothing spills out of its box on a desktop or a phone, Chinese renders
in a CJK font, and full-page screenshots are saved (test artifacts: tests/browser.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from monitor.run import run_monitor
from tests.browser import artifacts, browser, overflowing

pytestmark = [pytest.mark.browser]
__all__ = ["browser"]  # the fixture
ROOT = Path(__file__).resolve().parent.parent
MONTHS = {
    "wanderly": (ROOT / "examples/monitor/wanderly_mentions.jsonl", "2026-11-18", "负面激增"),
    "clearleaf": (ROOT / "examples/monitor/clearleaf_reviews.csv", "2026-11-21", "Negative spike"),
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for name, (mentions, _, _) in MONTHS.items():
        folder = tmp_path_factory.mktemp(name)
        run_monitor(mentions, ROOT / "examples/brands" / name, folder)
        out[name] = folder / "report.html"
    return out


@pytest.mark.parametrize("name", list(MONTHS))
@pytest.mark.parametrize("width", [1280, 390])
def test_the_report_draws_its_charts_and_fits(
    browser: Browser, reports: dict[str, Path], name: str, width: int
) -> None:
    _, spike_day, spike_label = MONTHS[name]
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(reports[name].as_uri())
    assert page.locator("svg rect").count() >= 30 * 2  # bars for the days, stacked
    alert = page.locator(".alert").first
    assert spike_label in alert.inner_text() and spike_day in alert.inner_text()
    assert page.locator("svg g title", has_text=spike_day).count() == 1
    assert overflowing(page, "main") == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    assert page.locator("#h-topics + table tbody tr").count() >= 4
    if name == "wanderly":
        assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"', '退款')")
    shot = artifacts("monitor") / f"{name}-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    page.close()
