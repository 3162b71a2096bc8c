"""Issue 11: a general contractor tries to take over another organisation's project in Chromium,
the way it was done before the fix (permits/new/?review=…, a draft permit), and is stopped."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import login

pytestmark = pytest.mark.browser

PROJECT_NUM = "5303021903040004"  # 曲靖经开区标准厂房二期: two approved drawing reviews (demo data)
CERTIFICATE = "5303021903040004-TX-001"


def test_a_general_contractor_cannot_take_over_another_organisations_project(page, demo_site):
    from projects.models import DrawingReview, Project, ProjectParty

    base = demo_site.url
    review = DrawingReview.objects.select_related("project").get(censor_num=CERTIFICATE)
    project = review.project
    before = (project.name, project.total_investment)
    login(page, base, "builder2")  # 红河建工: no role on this 曲靖 project

    # 1. The picker lists nothing of the project by its number, its name or a prefix.
    page.goto(f"{base}/projects/permits/new/")
    for term in (PROJECT_NUM, "曲靖经开区", "5303021903"):
        page.fill("#q", term)
        page.get_by_role("button", name="查找").click()
        expect(page.locator("#picker-table input[name=review]")).to_have_count(0)
        expect(page.locator("#picker-table")).not_to_contain_text(CERTIFICATE)

    # 2. The old way in, the review's id in the address, opens nothing.
    page.goto(f"{base}/projects/permits/new/?review={review.pk}&next=1")
    expect(page.locator("#pick-problem")).to_contain_text("只能选择查找结果中已审核认定的施工图审查信息")
    expect(page.locator("body")).not_to_contain_text(project.name)

    # 3. Knowing the exact certificate number, it may start a permit, but the project's basic info
    #    is read-only, and the issuing authority can only be one competent for 曲靖市麒麟区.
    page.goto(f"{base}/projects/permits/new/")
    page.fill("#q", CERTIFICATE)
    page.get_by_role("button", name="查找").click()
    page.locator("#picker-table input[name=review]").first.check()
    page.get_by_role("button", name="下一步：录入施工许可信息").click()
    expect(page.locator("h1")).to_have_text("录入施工许可信息")
    expect(page.locator("input[name='project-name']")).to_have_count(0)
    expect(page.locator("input[name='project-total_investment']")).to_have_count(0)
    expect(page.locator("#id_issuing_org")).not_to_contain_text("红河哈尼族彝族自治州住房和城乡建设局")
    expect(page.locator("#id_issuing_org")).to_contain_text("曲靖市麒麟区住房和城乡建设局")
    page.fill("#id_permit_num", "5303021903040004-SX-009")
    page.select_option("#id_issuing_org", label="曲靖市麒麟区住房和城乡建设局")
    page.get_by_role("button", name="保存草稿").last.click()
    expect(page.locator("#record-state")).to_have_text("草稿")

    # 4. The draft rewrote nothing and opened nothing.
    project.refresh_from_db()
    assert (project.name, project.total_investment) == before
    assert not ProjectParty.objects.filter(
        project=project, organization__name="红河建工集团有限公司"
    ).exists()
    page.goto(f"{base}/projects/")
    row = page.locator(f'tr[data-project="{PROJECT_NUM}"]')
    expect(row).to_contain_text("待审核认定")
    expect(row.get_by_role("link", name=project.name)).to_have_count(0)
    expect(row).not_to_contain_text(CERTIFICATE)  # the design unit's reviews stay hidden
    for path in (f"/projects/{project.pk}/", f"/projects/records/drawing_review/{review.pk}/"):
        response = page.goto(f"{base}{path}")
        assert response.status == 404
    assert Project.objects.get(pk=project.pk).name == before[0]
