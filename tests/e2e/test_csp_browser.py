"""Under the Content-Security-Policy the pages still work in Chromium and report no violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import login

pytestmark = pytest.mark.browser


def test_pages_work_under_the_policy_without_violations(demo_site, page):
    base = demo_site.url
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    login(page, base, "reviewer_qj")
    page.goto(f"{base}/review/inbox/")
    select_all = page.locator("#select-all")
    expect(select_all).to_be_visible()
    select_all.check()
    boxes = page.locator("#inbox-table input[name=items]")
    assert boxes.count() > 0
    for index in range(boxes.count()):
        expect(boxes.nth(index)).to_be_checked()
    expect(page.locator("#inbox-table tbody tr.is-selected").first).to_be_visible()
    page.get_by_role("button", name="退出").click()
    login(page, base, "builder1")
    page.goto(f"{base}/projects/permits/new/")
    expect(page.locator("h1")).to_be_visible()
    page.goto(f"{base}/projects/")
    expect(page.locator("h1")).to_be_visible()
    assert violations == []


def test_the_admin_site_works_under_the_policy(demo_site, page):
    base = demo_site.url
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    # The admin site's own login page sends people to the app's sign-in (password, then second factor).
    page.goto(f"{base}/admin/login/")
    expect(page).to_have_url(f"{base}/login/?next=%2Fadmin%2F")
    login(page, base, "admin")
    page.goto(f"{base}/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    assert violations == []
