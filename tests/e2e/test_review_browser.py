"""Review in Chromium, with the demo accounts and projects (yunjian.core.demo).

The enterprise pages are another engineer's, built in parallel: where the contractor resubmits and
where the design unit looks for its new drawing review, the test uses those pages once they exist
and otherwise the service the page calls (projects.services.permit_save) or the database.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from projects import services as ps
from projects.models import ConstructionPermit, DrawingReview, DrawingReviewAdditionRequest, State
from review import services as rs
from tests.conftest import login
from yunjian.core.models import User

pytestmark = pytest.mark.browser

HOSPITAL_REVIEW = "5303021903020002-TX-001"  # demo project 2: at the institution
HOUSING_PERMIT = "5303021903050005-SX-001"  # demo project 5: at 麒麟区's permit reviewers
ADDITION_CENSOR_NUM = "5301021903090009-TX-001"  # demo project 9: an addition request at the division


def enterprise_page(url_name: str, template: str, args: tuple = ()) -> str | None:
    """The URL of an enterprise page of the projects app, or None while it is not built yet."""
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template
    from django.urls import NoReverseMatch, reverse

    try:
        url = reverse(url_name, args=args)
        get_template(template)
    except (NoReverseMatch, TemplateDoesNotExist):
        return None
    return url


def logout(page) -> None:
    page.get_by_role("button", name="退出").click()
    expect(page.locator("input[name=username]")).to_be_visible()


def open_inbox_row(page, base_url: str, text: str, kind: str = "") -> None:
    page.goto(f"{base_url}/review/inbox/" + (f"?kind={kind}" if kind else ""))
    row = page.locator("#inbox-table tbody tr", has_text=text)
    expect(row).to_have_count(1)
    row.get_by_role("link", name="审核").click()


def test_institution_confirms_then_division_verifies(demo_site, page):
    base = demo_site.url
    login(page, base, "institution1")
    expect(page.locator("h1")).to_have_text("审核工作台")
    open_inbox_row(page, base, "曲靖市麒麟区人民医院住院楼")
    expect(page.locator("#step-info")).to_contain_text("第1步（共2步）")
    page.get_by_role("button", name="确认无误，提交省厅勘察设计处复核").click()
    expect(page.locator("ul.messages li.success")).to_contain_text("已转省厅勘察设计处复核")
    expect(page.locator("#inbox-table tbody tr", has_text="曲靖市麒麟区人民医院住院楼")).to_have_count(0)
    logout(page)

    login(page, base, "division1")
    open_inbox_row(page, base, HOSPITAL_REVIEW, kind="drawing_review")
    expect(page.locator("#step-info")).to_contain_text("第2步（共2步）")
    expect(page.locator("#step-info .badge.state-approved")).to_have_text("已完成")
    page.get_by_role("button", name="复核通过（审核认定）").click()
    expect(page.locator("ul.messages li.success")).to_contain_text("已审核认定")

    review = DrawingReview.objects.get(censor_num=HOSPITAL_REVIEW)
    assert (review.state, review.step) == (State.APPROVED, "")


def test_county_reviewer_returns_contractor_resubmits_reviewer_sees_difference_and_approves(demo_site, page):
    base = demo_site.url
    login(page, base, "reviewer_qlq")
    open_inbox_row(page, base, HOUSING_PERMIT)
    expect(page.locator("h1")).to_have_text("施工许可信息审核")

    # A return without a reason is refused, in Chinese, and changes nothing.
    page.get_by_role("button", name="退回录入单位").click()
    expect(page.locator("#decision-form .errorlist")).to_contain_text("退回时必须填写退回原因。")
    assert ConstructionPermit.objects.get(permit_num=HOUSING_PERMIT).state == State.IN_REVIEW

    page.get_by_label("发证日期有误").check()
    page.get_by_label("退回原因（补充说明）").fill("请按施工许可证原件填写发证日期。")
    page.locator("#field-fields").get_by_label("发证日期", exact=True).check()
    page.get_by_role("button", name="退回录入单位").click()
    expect(page.locator("ul.messages li.success")).to_contain_text("已退回")

    permit = ConstructionPermit.objects.get(permit_num=HOUSING_PERMIT)
    assert permit.state == State.RETURNED
    assert permit.return_reason == "发证日期有误；请按施工许可证原件填写发证日期。"
    assert permit.return_fields == ["issue_date"]

    # The general contractor corrects the date and resubmits: on its edit page where that page is
    # built already, else through the service the page calls.
    edit = enterprise_page("projects:record-edit", "projects/entry_form.html", ("permit", permit.pk))
    if edit is not None:
        logout(page)
        login(page, base, "builder1")
        page.goto(f"{base}{edit}")
        page.fill("#id_issue_date", "2019-05-18")
        page.get_by_role("button", name="重新提交发证机关审核").click()
        expect(page.locator("#record-state")).to_have_text("待审核")
        logout(page)
        login(page, base, "reviewer_qlq")
    else:
        ps.permit_save(
            actor=User.objects.get(username="builder1"),
            permit_id=permit.pk,
            drawing_review_ids=list(permit.drawing_reviews.values_list("pk", flat=True)),
            data={"issue_date": date(2019, 5, 18)},
            submit=True,
        )
    assert ConstructionPermit.objects.get(pk=permit.pk).revision == 2

    open_inbox_row(page, base, HOUSING_PERMIT)
    diff = page.locator("#round-diff table.diff")
    expect(diff).to_be_visible()
    row = diff.locator("tr.changed", has_text="发证日期")
    expect(row.locator("td.old")).to_have_text("2019-05-08")
    expect(row.locator("td.new")).to_have_text("2019-05-18")
    expect(page.locator("#round-diff")).to_contain_text("上一轮退回原因")
    page.get_by_role("button", name="审核通过（认定）").click()
    expect(page.locator("ul.messages li.success")).to_contain_text("已审核认定")
    assert ConstructionPermit.objects.get(pk=permit.pk).state == State.APPROVED


def test_bulk_approval_reports_the_record_changed_underneath(demo_site, page):
    base = demo_site.url
    login(page, base, "reviewer_qj")
    page.goto(f"{base}/review/inbox/")
    rows = page.locator("#inbox-table tbody tr")
    expect(rows).to_have_count(3)  # demo: a permit, a tender+contract, a specialty project's basic info
    page.locator("#select-all").check()
    expect(page.locator("#inbox-table tbody tr.is-selected")).to_have_count(3)

    # Meanwhile 麒麟区's permit reviewer returns the permit: it changes underneath the open page.
    permit = ConstructionPermit.objects.get(permit_num=HOUSING_PERMIT)
    rs.record_decide(
        actor=User.objects.get(username="reviewer_qlq"),
        kind="permit",
        record_id=permit.pk,
        approve=False,
        lock_version=None,
        reason="合同金额与原件不一致。",
    )

    page.once("dialog", lambda dialog: dialog.accept())  # 确定将所选的 3 条记录全部审核通过吗？
    page.get_by_role("button", name="批量审核通过所选记录").click()
    expect(page.locator("h1")).to_have_text("批量审核结果")
    expect(page.locator(".page-sub")).to_have_text("共 3 条：通过 2 条，未通过 1 条")
    failed = page.locator("#bulk-result tbody tr", has_text=HOUSING_PERMIT)
    expect(failed).to_contain_text("未通过")
    expect(failed).to_contain_text("已由他人处理")
    expect(page.locator("#bulk-result tbody tr", has_text="已通过")).to_have_count(2)

    permit.refresh_from_db()
    assert (permit.state, permit.return_reason) == (State.RETURNED, "合同金额与原件不一致。")


def test_division_approves_addition_request_and_the_design_unit_gets_the_review(demo_site, page):
    base = demo_site.url
    login(page, base, "division1")
    page.goto(f"{base}/review/inbox/")
    page.locator(".tabs a", has_text="图审信息新增申请").click()
    expect(page.locator(".tabs a.active")).to_have_text(re.compile("图审信息新增申请（1）"))
    open_inbox_row(page, base, "昆明市五华区红十字会备灾中心", kind="addition_request")
    expect(page.locator("#step-info")).to_contain_text("省厅勘察设计处审批")
    page.get_by_role("button", name="批准新增（生成图审信息）").click()
    expect(page.locator("ul.messages li.success")).to_contain_text(
        f"生成施工图审查信息“{ADDITION_CENSOR_NUM}”"
    )

    request = DrawingReviewAdditionRequest.objects.get(censor_num=ADDITION_CENSOR_NUM)
    review = DrawingReview.objects.get(censor_num=ADDITION_CENSOR_NUM)
    design1 = User.objects.get(username="design1")
    assert (request.state, request.created_review_id) == (State.APPROVED, review.pk)
    assert review.owner_org_id == design1.organization_id
    assert design1.has_perm("projects.change_drawingreview", review)

    # The design unit's own page, once it exists (another engineer is building it in parallel).
    my_reviews = enterprise_page("projects:my-reviews", "projects/my_reviews.html")
    if my_reviews is None:
        return
    logout(page)
    login(page, base, "design1")
    page.goto(f"{base}{my_reviews}")
    expect(page.get_by_text(ADDITION_CENSOR_NUM)).to_be_visible()
