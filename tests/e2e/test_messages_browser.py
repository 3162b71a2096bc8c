"""The message centre in Chromium: a return reaches the enterer (the demo accounts and projects)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from notices.models import Kind, Message
from tests.conftest import login

pytestmark = pytest.mark.browser

HOUSING_PERMIT = "5303021903050005-SX-001"  # demo project 5: at 麒麟区's permit reviewers


def test_a_return_reaches_the_enterers_message_centre(demo_site, page):
    base = demo_site.url
    login(page, base, "reviewer_qlq")
    page.goto(f"{base}/review/inbox/")
    row = page.locator("#inbox-table tbody tr", has_text=HOUSING_PERMIT)
    row.get_by_role("link", name="审核").click()
    page.get_by_label("退回原因（补充说明）").fill("请按施工许可证原件填写发证日期。")
    page.get_by_role("button", name="退回录入单位").click()
    expect(page.locator("ul.messages li.success")).to_contain_text("已退回")
    page.get_by_role("button", name="退出").click()

    # The demo's own approvals told builder1 too: the return is one more unread message.
    unread = Message.objects.filter(recipient__username="builder1", read_at__isnull=True).count()
    reason = "请按施工许可证原件填写发证日期。"
    assert (
        Message.objects.filter(
            recipient__username="builder1", kind=Kind.RETURNED, body__contains=reason
        ).count()
        == 1
    )
    login(page, base, "builder1")
    link = page.locator("#message-link")
    expect(link.locator(".unread-count")).to_have_text(str(unread))
    link.click()
    expect(page.locator("h1")).to_have_text("消息中心")
    row = page.locator("#message-table tbody tr.message-unread", has_text=reason)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("被退回")
    row.get_by_role("button", name="查看").click()
    expect(page).to_have_url(re.compile(r"/projects/records/permit/\d+/$"))
    expect(page.locator("#message-link .unread-count")).to_have_text(str(unread - 1))
