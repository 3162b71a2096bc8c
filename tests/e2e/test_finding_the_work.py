"""Issue 19: the work first — drafts and returned records at the top, the home page linking straight
to them, names found by any part, no box scrolling inside the page, sortable columns."""

from __future__ import annotations

import pytest
from django.db import connection
from playwright.sync_api import expect

from tests.conftest import login

pytestmark = pytest.mark.browser

SIZES = [(1366, 768), (1280, 720), (1920, 1080)]


def test_the_home_page_links_straight_to_the_unfinished_record(page, demo_site):
    login(page, demo_site.url, "design1")
    link = page.locator("#unfinished-link")
    expect(link).to_contain_text("条记录尚未提交")
    link.click()
    first = page.locator("#unfinished-table tbody tr").first
    expect(first).to_contain_text("5303021903010001-TX-001")
    expect(first).to_be_in_viewport()
    first.get_by_role("link", name="继续填写").click()
    expect(page.locator("h1")).to_have_text("完善施工图审查信息")


def test_returned_records_come_before_drafts(page, demo_site):
    login(page, demo_site.url, "builder1")
    page.goto(f"{demo_site.url}/projects/")
    rows = page.locator("#unfinished-table tbody tr")
    expect(rows.first).to_contain_text("已退回")
    expect(rows.first.get_by_role("link", name="按退回意见修改")).to_be_visible()


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_no_box_scrolls_inside_the_page(page, demo_site, width, height):
    page.set_viewport_size({"width": width, "height": height})
    login(page, demo_site.url, "reviewer_qj")
    for path in ("/review/inbox/", "/review/done/"):
        page.goto(f"{demo_site.url}{path}")
        nested = page.evaluate(
            """() => Array.from(document.querySelectorAll('.table-wrap, .card, main *'))
                 .filter(el => { const s = getComputedStyle(el);
                   return (s.overflowY === 'auto' || s.overflowY === 'scroll') && el.scrollHeight > el.clientHeight + 1; })
                 .map(el => el.className)"""
        )
        assert nested == [], (path, nested)


def test_the_permit_picker_finds_a_name_by_any_part(page, demo_site):
    login(page, demo_site.url, "builder1")
    page.goto(f"{demo_site.url}/projects/permits/new/")
    # In a project builder1 is a party of (its permit there is approved): a part of the name, not its start.
    page.fill("#q", "人民医院")
    expect(page.locator("#picker-table tbody tr", has_text="曲靖市第二人民医院门诊楼").first).to_be_visible()


def test_columns_sort_by_a_click(page, demo_site):
    login(page, demo_site.url, "reviewer_qj")
    page.goto(f"{demo_site.url}/review/inbox/")
    header = page.locator("#inbox-table thead th", has_text="项目编号")
    header.get_by_role("button", name="项目编号").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    numbers = page.locator("#inbox-table tbody tr td:nth-child(3)").all_inner_texts()
    assert numbers == sorted(numbers)
    header.get_by_role("button", name="项目编号").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    numbers = page.locator("#inbox-table tbody tr td:nth-child(3)").all_inner_texts()
    assert numbers == sorted(numbers, reverse=True)


@pytest.mark.django_db
def test_names_are_searched_through_trigram_indexes():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() is not None
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%gin_trgm_ops%' ORDER BY indexname"
        )
        assert [r[0] for r in cursor.fetchall()] == ["org_name_trgm_idx", "project_name_trgm_idx"]
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN SELECT id FROM projects_project WHERE name LIKE '%标准厂房%'")
        plan = " ".join(r[0] for r in cursor.fetchall())
        assert "project_name_trgm_idx" in plan
