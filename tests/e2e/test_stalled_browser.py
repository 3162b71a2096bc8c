"""Issue 16 §2 in Chromium, with the demo accounts and projects: the contractor withdraws a permit it
submitted by mistake; the province reassigns a county reviewer's open steps to the prefecture's reviewer,
and the step leaves the first inbox for the second."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from projects.models import ConstructionPermit, State
from review.models import Task
from tests.conftest import login
from yunjian.core.models import User

pytestmark = pytest.mark.browser

HOUSING_PERMIT = "5303021903050005-SX-001"  # demo project 5: at 麒麟区's permit reviewers


def logout(page) -> None:
    page.get_by_role("button", name="退出").click()
    expect(page.locator("input[name=username]")).to_be_visible()


def test_the_contractor_withdraws_a_submitted_permit(demo_site, page):
    base = demo_site.url
    permit = ConstructionPermit.objects.get(permit_num=HOUSING_PERMIT)
    assert permit.state == State.IN_REVIEW
    login(page, base, "builder1")
    page.goto(f"{base}/projects/records/permit/{permit.pk}/")
    expect(page.locator("#record-state")).to_have_text("待审核")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="撤回").click()

    expect(page.locator("ul.messages li.success")).to_contain_text("已撤回该记录")
    expect(page.locator("#record-state")).to_have_text("草稿")
    expect(page.get_by_role("button", name="撤回")).to_have_count(0)
    permit.refresh_from_db()
    assert permit.state == State.DRAFT
    task = Task.objects.get(kind="permit", record_id=permit.pk, revision=permit.revision)
    assert (task.status, task.outcome) == (Task.Status.CANCELLED, Task.Outcome.WITHDRAWN)


def test_the_province_reassigns_a_reviewers_open_steps(demo_site, page):
    base = demo_site.url
    login(page, base, "admin")
    page.goto(f"{base}/review/stalled/")
    expect(page.locator("h1")).to_have_text("无人审核的记录")
    page.goto(f"{base}/roster/p/530300/")
    page.locator("#roster-lines tbody tr", has_text="马审核").get_by_role("link", name="待审核任务").click()
    expect(page.locator("h1")).to_have_text("马审核的待审核任务")
    expect(page.locator("#person-tasks tbody tr", has_text=HOUSING_PERMIT)).to_have_count(1)
    page.select_option(
        "#id_to_user", label=page.locator("#id_to_user option", has_text="郑审核").inner_text()
    )
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="转交").click()
    expect(page.locator("ul.messages li.success")).to_contain_text("件待审核任务转交")
    logout(page)

    permit = ConstructionPermit.objects.get(permit_num=HOUSING_PERMIT)
    task = Task.objects.get(kind="permit", record_id=permit.pk, status=Task.Status.OPEN)
    assert task.assignee == User.objects.get(username="reviewer_qj")
    login(page, base, "reviewer_qlq")
    page.goto(f"{base}/review/inbox/")
    expect(page.locator("#inbox-table tbody tr", has_text=HOUSING_PERMIT)).to_have_count(0)
    logout(page)
    login(page, base, "reviewer_qj")
    page.goto(f"{base}/review/inbox/?kind=permit")
    expect(page.locator("#inbox-table tbody tr", has_text=HOUSING_PERMIT)).to_have_count(1)
