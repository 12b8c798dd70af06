"""The review studio as a person uses it: a real server (uvicorn, the fake model, SQLite) and a real headless
Chromium, in Chinese and English — sign in, approve, edit and see the edit checked again (an edit adding a
banned term cannot be approved), reject with a reason. Every preview is saved as a screenshot."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page

from service.app import create_app
from service.auth import create_key
from service.config import ServiceConfig
from service.review import Reviews
from service.store import Store
from service.users import Users
from tests.browser import artifacts, browser, overflowing, screenshot_between_refreshes
from tests.conftest import copy_brand

pytestmark = [pytest.mark.browser]
__all__ = ["browser"]
PASSWORD = "correct horse battery"


class Server:
    def __init__(self, url: str, store: Store, key: str) -> None:
        self.url, self.store, self.key = url, store, key

    def campaign(self, channels: list[str]) -> str:
        """Run a campaign job to the end; its id."""
        headers = {"Authorization": f"Bearer {self.key}"}
        job = httpx.post(
            f"{self.url}/v1/campaigns", json={"brand": "wanderly", "channels": channels}, headers=headers
        )
        job_id = job.json()["id"]
        deadline = time.monotonic() + 120
        while httpx.get(f"{self.url}/v1/jobs/{job_id}", headers=headers).json()["state"] != "done":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        return str(job_id)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("studio-browser")
    (root / "brands").mkdir()
    copy_brand("wanderly", root / "brands")
    config = ServiceConfig(
        database=f"sqlite:///{root / 'service.db'}",
        brands_dir=root / "brands",
        backend={"kind": "fake"},
        warm_up=False,
        data_dir=root / "data",
    )
    store = Store(config.database)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    running = uvicorn.Server(
        uvicorn.Config(create_app(config, store=store), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/readyz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline
        time.sleep(0.1)
    Users(store).create("mia", "marketer", PASSWORD)
    key = create_key(store, "k", ["campaign:run"], rate_per_minute=10_000, max_active_jobs=20).token
    yield Server(url, store, key)
    running.should_exit = True
    thread.join(timeout=30)
    store.close()


def signed_in(browser: Browser, server: Server, locale: str) -> Page:
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server.url}/studio")
    assert "/studio/login" in page.url  # sent to sign in first
    page.get_by_label("用户名" if locale.startswith("zh") else "User name").fill("mia")
    page.get_by_label("密码" if locale.startswith("zh") else "Password").fill(PASSWORD)
    page.get_by_role("button", name="登录" if locale.startswith("zh") else "Sign in").click()
    page.wait_for_url(f"{server.url}/studio")
    return page


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_review_flows_in_the_browser(browser: Browser, server: Server, locale: str) -> None:
    zh = locale.startswith("zh")
    job_id = server.campaign(["search_ad", "social_post", "email", "blog", "cs_reply"])
    page = signed_in(browser, server, locale)
    page.locator(f'a[href="/studio/jobs/{job_id}"]').click()
    assert page.locator("html").get_attribute("lang") == ("zh-CN" if zh else "en")
    out = artifacts("studio")
    assert overflowing(page, ".preview") == []
    for i in range(page.locator(".preview").count()):
        page.locator(".preview").nth(i).screenshot(path=str(out / f"{locale}-preview-{i}.png"))
    pieces = {r.channel: r.id for r in Reviews(server.store).for_job(job_id)}

    # edit the social post: a banned term is found again and the piece cannot be approved
    post = page.locator(f"#r-{pieces['social_post']}")
    post.get_by_role("link", name="修改" if zh else "Edit").click()
    page.locator("textarea[name='field:text']").fill("漫游者的第一选择，探索未知。#Wanderly")
    page.get_by_role("button", name="检查并保存" if zh else "Check and save").click()
    post = page.locator(f"#r-{pieces['social_post']}")
    approve = post.get_by_role("button", name="通过" if zh else "Approve", exact=True)
    assert approve.is_disabled()
    assert "brand.banned_term" in post.locator(".blockers").inner_text()
    assert post.locator("mark.sev-block").count() >= 2  # both terms highlighted in the preview
    post.screenshot(path=str(out / f"{locale}-edit-blocked.png"))

    # fix it and approve
    post.get_by_role("link", name="修改" if zh else "Edit").click()
    page.locator("textarea[name='field:text']").fill(
        "探索未知，发现美丽：和 Wanderly 在雨崩村慢走七天。#Wanderly"
    )
    page.get_by_role("button", name="检查并保存" if zh else "Check and save").click()
    post = page.locator(f"#r-{pieces['social_post']}")
    post.get_by_role("button", name="通过" if zh else "Approve", exact=True).click()
    post = page.locator(f"#r-{pieces['social_post']}")
    assert post.locator(".review-state").inner_text() == ("已通过" if zh else "Approved")
    post.locator("details.history summary", has_text="审批记录" if zh else "Decisions").click()
    assert post.locator(".history-table tbody tr").count() == 3  # edit, edit, approve
    post.screenshot(path=str(out / f"{locale}-approved.png"))

    # reject the e-mail with a reason
    email = page.locator(f"#r-{pieces['email']}")
    email.locator("textarea[name='reason']").fill("优惠不是我们的" if zh else "That offer is not ours")
    email.get_by_role("button", name="驳回" if zh else "Reject").click()
    email = page.locator(f"#r-{pieces['email']}")
    assert email.locator(".review-state").inner_text() == ("已驳回" if zh else "Rejected")
    # send the blog back with a note: the copywriter revises it once, the checks run again, it is back
    blog = page.locator(f"#r-{pieces['blog']}")
    blog.locator("textarea[name='note']").fill(
        "第二段写得更具体" if zh else "Make the second paragraph concrete"
    )
    blog.get_by_role("button", name="退回修改" if zh else "Send back").click()
    deadline = time.monotonic() + 60
    while Reviews(server.store).get(pieces["blog"]).state != "pending_review":  # type: ignore[union-attr]
        assert time.monotonic() < deadline
        time.sleep(0.1)
    page.reload()
    blog = page.locator(f"#r-{pieces['blog']}")
    blog.locator("details.history summary", has_text="审批记录" if zh else "Decisions").click()
    actions = blog.locator(".history-table tbody tr td:nth-child(4)").all_inner_texts()
    assert actions == ["send_back", "revised"]
    assert blog.get_by_role("button", name="退回修改" if zh else "Send back").is_visible()  # decide again
    states = {r.channel: r.state for r in Reviews(server.store).for_job(job_id)}
    assert states["social_post"] == "approved" and states["email"] == "rejected"
    page.screenshot(path=str(out / f"{locale}-job.png"), full_page=True)
    page.context.close()


def test_keyboard_only_reviewer_can_see_sources_and_approve(browser: Browser, server: Server) -> None:
    job_id = server.campaign(["search_ad"])
    page = signed_in(browser, server, "en-US")
    page.goto(f"{server.url}/studio/jobs/{job_id}")
    reached = []
    for _ in range(80):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate("document.activeElement.tagName + '.' + document.activeElement.className")
        )
    assert any(r.startswith("BUTTON") for r in reached) and any(r.startswith("A.") for r in reached)
    tips = page.locator(".tip:visible")
    assert tips.count() <= 1  # never a pile of tooltips
    page.context.close()


def test_export_links_download_the_approved_copy(browser: Browser, server: Server, tmp_path: Path) -> None:
    page = signed_in(browser, server, "en-US")
    with page.expect_download() as download:
        page.get_by_role("link", name="Approved-copy set (JSONL)").click()
    saved = tmp_path / "approved.jsonl"
    download.value.save_as(saved)
    approved = Reviews(server.store).approved()
    assert len(saved.read_text(encoding="utf-8").splitlines()) == len(approved)
    page.context.close()


def test_a_campaign_started_in_the_studio_is_watched_until_it_opens(browser: Browser, server: Server) -> None:
    page = signed_in(browser, server, "zh-CN")
    page.get_by_role("link", name="发起营销活动").click()
    page.get_by_label("搜索广告").check()
    page.get_by_label("社交媒体帖子").uncheck()
    page.get_by_role("button", name="开始").click()
    assert "/studio/progress/" in page.url
    screenshot_between_refreshes(page, artifacts("studio") / "zh-CN-progress.png")
    page.wait_for_url(f"{server.url}/studio/jobs/*", timeout=90_000)  # the page refreshes itself until done
    assert page.locator("article.piece").count() == 1
    assert page.locator(".review-state").first.inner_text() == "待审"
    page.context.close()
