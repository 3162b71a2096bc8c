"""A person logs in with a demo account in Chromium and lands on their role's home page."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import login

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("username", "heading"),
    [("builder1", "云南建投第一建设有限公司"), ("reviewer_qj", "审核工作台"), ("auditor", "安全审计")],
)
def test_demo_user_logs_in_and_sees_their_home(page, demo_site, username, heading):
    login(page, demo_site.url, username)
    expect(page.locator("h1")).to_contain_text(heading)
    expect(page.locator(".next-step")).to_contain_text("下一步")
    expect(page.locator(".userbox")).to_be_visible()


def test_wrong_password_shows_chinese_error(page, demo_site):
    login(page, demo_site.url, "builder1", "not-the-password")
    expect(page.locator(".callout.error")).to_contain_text("用户名或密码不正确")
    expect(page).to_have_url(re.compile(r"/login/"))
