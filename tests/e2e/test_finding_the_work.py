"""Issue 19: the work first — drafts and returned records at the top, the home page linking straight
to them, names found by any part, no box scrolling inside the page, columns that sort the whole list (on the
server, across pages)."""

from __future__ import annotations

import re

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


def _column_across_pages(page, table: str, column: int) -> list[str]:
    """The texts of one column on every page, following 下一页 from the page shown."""
    texts = []
    while True:
        texts += [
            t.strip() for t in page.locator(f"#{table} tbody tr td:nth-child({column})").all_inner_texts()
        ]
        following = page.get_by_role("link", name="下一页 »")
        if following.count() == 0:
            return texts
        following.click()
        page.wait_for_load_state()


def _sorts_across_pages(page, table: str, label: str, column: int, total: int) -> None:
    header = page.locator(f"#{table} thead th", has_text=label)
    header.get_by_role("link", name=label).click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(header).to_contain_text("▲")
    ascending = _column_across_pages(page, table, column)
    assert len(ascending) == total
    assert ascending == sorted(ascending)
    # Back on the first page of the same order, the header reverses it for the whole list.
    page.get_by_role("link", name="« 回到第一页").click()
    header = page.locator(f"#{table} thead th", has_text=label)
    expect(header).to_have_attribute("aria-sort", "ascending")
    header.get_by_role("link", name=label).click()
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(header).to_contain_text("▼")
    descending = _column_across_pages(page, table, column)
    assert descending == sorted(ascending, reverse=True)
    assert ascending != descending


def test_a_column_header_sorts_the_whole_inbox_across_pages(page, demo_site, monkeypatch):
    from review import selectors, views
    from yunjian.core.models import User

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    total = selectors.inbox_for(User.objects.get(username="reviewer_qj")).count()
    assert total >= 3  # more than one page
    login(page, demo_site.url, "reviewer_qj")
    page.goto(f"{demo_site.url}/review/inbox/")
    default = page.locator("#inbox-table thead th", has_text="提交时间")
    expect(default).to_have_attribute("aria-sort", "ascending")
    _sorts_across_pages(page, "inbox-table", "项目编号", 3, total)
    assert "sort=-prj_num" in page.url


def test_a_column_header_sorts_an_enterprise_list_across_pages(page, demo_site, monkeypatch):
    from projects import views
    from projects.models import DrawingReview
    from yunjian.core.models import User

    monkeypatch.setattr(views, "RECORD_LIST_PAGE_SIZE", 2)
    org = User.objects.get(username="design1").organization
    total = DrawingReview.objects.filter(owner_org=org).count()
    assert total >= 3
    login(page, demo_site.url, "design1")
    page.goto(f"{demo_site.url}/projects/drawing-reviews/")
    # By default the work comes first: 状态 is the sorted column, a returned or draft record on top.
    state = page.locator("#my-reviews thead th", has_text="状态")
    expect(state).to_have_attribute("aria-sort", "ascending")
    expect(page.locator("#my-reviews tbody tr").first).to_have_class(re.compile(r"state-(returned|draft)"))
    _sorts_across_pages(page, "my-reviews", "合格书编号", 1, total)


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
