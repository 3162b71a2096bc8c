"""The progress boards in Chromium: 省厅业务处室 drills down from the province to a county's records
(the demo accounts and projects), and sees the trend drawn as SVG."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import login

pytestmark = pytest.mark.browser


def test_the_office_drills_down_to_the_records(demo_site, page):
    from yunjian.core import demo

    demo.load_board_history()
    base = demo_site.url
    login(page, base, "office1")
    # Their home is the province's board.
    expect(page.locator(".page-head h1")).to_have_text("进度看板 · 云南省")
    page.locator("#board-table").get_by_role("link", name="曲靖市").click()
    expect(page.locator(".page-head h1")).to_have_text("进度看板 · 曲靖市")
    page.locator("#board-table").get_by_role("link", name="麒麟区").click()
    expect(page.locator(".page-head h1")).to_have_text("进度看板 · 麒麟区")
    expect(page.locator("#board-crumbs")).to_contain_text("云南省 › 曲靖市 › 麒麟区")
    # A county's rows are its stages; a count opens the records behind it.
    permits = page.locator("#board-table tbody tr", has_text="施工许可")
    permits.locator("td a").first.click()
    expect(page).to_have_url(re.compile(r"/boards/records/\?division=530302&stage=permit&state=\w+"))
    expect(page.locator("#board-records tbody tr").first).not_to_have_class("empty")
    assert page.locator("#board-records tbody tr td.empty").count() == 0
    # The trend: a chart per prefecture, drawn on the server.
    page.goto(f"{base}/boards/trend/")
    expect(page.locator("#trend-charts svg.board-chart").first).to_be_visible()
    expect(page.locator("#trend-charts")).to_contain_text("曲靖市")
    # Printing hides the page's buttons and shows the print title (static/css/print.css).
    page.emulate_media(media="print")
    expect(page.locator("h1.print-title")).to_be_visible()
    expect(page.get_by_role("button", name="打印")).to_be_hidden()
