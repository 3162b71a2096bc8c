"""Issue 19: units found by name or code; an unregistered unit named on the form, created unverified;
what was typed before carried over; 发包单位 prefilled from the project."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from projects.models import DrawingReview, DrawingReviewAdditionRequest, Project
from review import services as rs
from tests.conftest import login
from yunjian.core.models import AuditEntry, Organization, User
from yunjian.core.validators import complete_credit_code

pytestmark = pytest.mark.browser

PMS_REVIEW = "5303021903010001-TX-001"  # demo project 1: a drawing review for design1 to complete


def _complete_review_page(page, base: str) -> None:
    login(page, base, "design1")
    page.goto(f"{base}/projects/drawing-reviews/")
    page.locator(f'tr[data-censor-num="{PMS_REVIEW}"]').get_by_role("link", name="完善").click()
    expect(page.locator("h1")).to_have_text("完善施工图审查信息")


def test_units_are_suggested_by_part_of_their_name_and_chosen(page, demo_site):
    _complete_review_page(page, demo_site.url)
    owner = page.locator("#id_project-owner_org")
    owner.fill("")
    owner.press_sequentially("城市投资", delay=30)
    options = page.locator("#id_project-owner_org-options option")
    expect(options).to_have_count(1)
    value = options.first.get_attribute("value")
    assert value.startswith("曲靖市城市投资开发有限公司（")
    owner.fill(value)  # what choosing the suggestion puts in the box
    page.get_by_role("button", name="保存草稿", exact=True).last.click()
    expect(page.locator("ul.messages li.success")).to_be_visible()
    project = DrawingReview.objects.select_related("project__owner_org").get(censor_num=PMS_REVIEW).project
    assert project.owner_org.name == "曲靖市城市投资开发有限公司"
    # The exact name alone is understood too (no JavaScript needed).
    page.get_by_role("link", name="继续填写").click()
    page.fill("#id_project-owner_org", "曲靖市城市投资开发有限公司")
    page.get_by_role("button", name="保存草稿", exact=True).last.click()
    expect(page.locator("ul.messages li.success")).to_be_visible()


def test_an_unregistered_owner_is_named_and_created_unverified(page, demo_site):
    _complete_review_page(page, demo_site.url)
    page.fill("#id_project-owner_org", "")
    page.get_by_text("系统中没有这个单位？登记新单位").first.click()
    page.fill("#id_project-owner_org-new-name", "曲靖市麒麟区教育体育局")
    good = complete_credit_code("1153030201520000")
    bad = good[:17] + ("1" if good[17] != "1" else "2")
    page.fill("#id_project-owner_org-new-code", bad)
    page.get_by_role("button", name="保存草稿", exact=True).last.click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("校验位不正确")
    expect(summary).to_contain_text("逐位核对")  # how to fix it
    expect(page.locator("#id_project-owner_org-new-name")).to_have_value("曲靖市麒麟区教育体育局")
    assert not Organization.objects.filter(name="曲靖市麒麟区教育体育局").exists()
    page.fill("#id_project-owner_org-new-code", good)
    page.get_by_role("button", name="保存草稿", exact=True).last.click()
    expect(page.locator("ul.messages li.success")).to_be_visible()
    org = Organization.objects.get(credit_code=good)
    assert org.name == "曲靖市麒麟区教育体育局"
    assert org.is_verified is False
    assert org.has_kind(Organization.Kind.OWNER)
    assert DrawingReview.objects.get(censor_num=PMS_REVIEW).project.owner_org_id == org.pk
    assert AuditEntry.objects.filter(object_id=str(org.pk), reason__contains="待系统管理员核实").exists()


def test_the_owner_typed_in_an_addition_request_is_carried_over(page, demo_site):
    request = DrawingReviewAdditionRequest.objects.get(censor_num="5301021903090009-TX-001")
    rs.record_decide(
        actor=User.objects.get(username="division1"),
        kind="addition_request",
        record_id=request.pk,
        approve=True,
        lock_version=None,
    )
    review = DrawingReview.objects.get(censor_num="5301021903090009-TX-001")
    assert review.project.owner_org_id is None
    owner = Organization.objects.get(name=request.owner_name)
    login(page, demo_site.url, "design1")
    page.goto(f"{demo_site.url}/projects/records/drawing_review/{review.pk}/edit/")
    expect(page.locator("#id_project-owner_org")).to_have_value(owner.credit_code)


def test_the_tender_form_prefills_the_client_from_the_project(page, demo_site):
    project = Project.objects.select_related("owner_org").get(prj_num="5303021903080008")
    login(page, demo_site.url, "supervisor1")
    page.goto(f"{demo_site.url}/projects/{project.pk}/tender-contracts/new/")
    expect(page.locator("#id_client_name")).to_have_value(project.owner_org.name)
    expect(page.locator("#id_client_code")).to_have_value(project.owner_org.credit_code)


def test_the_lookup_answers_enterprise_users_only(client, contractor, reviewer, world):
    url = "/orgs/lookup/"
    assert client.get(url, {"q": "建设"}).status_code == 302  # signed out: to the login page
    client.force_login(reviewer)
    assert client.get(url, {"q": "建设"}).status_code == 403
    client.force_login(contractor)
    results = client.get(url, {"q": "建设单位"}).json()["results"]
    assert [r["name"] for r in results] == [world["owner"].name]
    assert results[0]["value"] == f"{world['owner'].name}（{world['owner'].credit_code}）"
    by_code = client.get(url, {"q": world["owner"].credit_code[:10]}).json()["results"]
    assert world["owner"].credit_code in [r["code"] for r in by_code]
