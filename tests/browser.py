"""A real headless Chromium for the report and studio tests, and where their screenshots go.

The system's Chromium (installed by ``make setup`` as root: tools/install_system.py) driven through
Playwright; Playwright's own browser download is never used. Without a Chromium the tests fail saying what
to install: a browser test that skips would prove nothing. Screenshots are test artifacts, written to
``$BRANDFORGE_ARTIFACTS`` (default ``test-artifacts/`` at the repository root, ignored by git).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

ROOT = Path(__file__).resolve().parent.parent


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "the browser tests need Chromium: run `make setup` as root, or `sudo apt-get install -y chromium "
        "fonts-noto-cjk`",
        pytrace=False,
    )


def artifacts(*parts: str) -> Path:
    """A folder for screenshots, created: ``$BRANDFORGE_ARTIFACTS/parts...``."""
    folder = Path(os.environ.get("BRANDFORGE_ARTIFACTS", ROOT / "test-artifacts")).joinpath(*parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def screenshot_between_refreshes(page: Page, path: Path, tries: int = 3) -> None:
    """Screenshot a page that reloads itself (a meta refresh): a capture that a reload interrupts is taken
    again once the new page has loaded."""
    for attempt in range(tries):
        try:
            page.screenshot(path=str(path))
            return
        except PlaywrightError:
            if attempt == tries - 1:
                raise
            page.wait_for_load_state("load")


def overflowing(page: Page, selector: str) -> list[str]:
    """Elements under each ``selector`` match whose content is wider than their box (text that a reader
    would see cut off or spilling out), as short descriptions; tooltips are excluded."""
    result: list[str] = page.evaluate(
        """(selector) => {
            const out = [];
            for (const root of document.querySelectorAll(selector)) {
                for (const el of [root, ...root.querySelectorAll('*')]) {
                    if (el.closest('.tip')) continue;
                    const style = getComputedStyle(el);
                    if (style.display === 'none' || style.display === 'inline') continue;
                    if (style.textOverflow === 'ellipsis') continue;  // cut on purpose, like an inbox row
                    if (el.scrollWidth > el.clientWidth + 1) {
                        const name = `${el.tagName.toLowerCase()}.${el.className}`;
                        out.push(`${name}: ${el.scrollWidth}>${el.clientWidth}`);
                    }
                }
            }
            return out;
        }""",
        selector,
    )
    return result
