"""更正 in Chromium (issue 18): the general contractor asks, from its approved permit's page, to correct
the contract amount in the permit's own form; until 麒麟区's reviewer approves it (inbox marked 更正,
the field-level diff on the correction's page) the record shows version 1; then it shows version 2,
and its history keeps both. Demo accounts and projects (yunjian.core.demo)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from projects.models import ConstructionPermit, Correction
from review import services as rs
from tests.conftest import login
from yunjian.core.models import User

pytestmark = pytest.mark.browser

HOUSING_PERMIT = "5303021903050005-SX-001"  # demo project 5: at 麒麟区's permit reviewers


def logout(page) -> None:
    page.get_by_role("button", name="退出").click()
    expect(page.locator("input[name=username]")).to_be_visible()


def test_enterer_asks_reviewer_approves_record_shows_version_2(demo_site, page):
    base = demo_site.url
    permit = ConstructionPermit.objects.get(permit_num=HOUSING_PERMIT)
    rs.record_decide(
        actor=User.objects.get(username="reviewer_qlq"),
        kind="permit",
        record_id=permit.pk,
        approve=True,
        lock_version=None,
    )
    old_amount = ConstructionPermit.objects.get(pk=permit.pk).contract_amount
    new_amount = (old_amount or Decimal("0")) + Decimal("100.5")

    login(page, base, "builder1")
    page.goto(f"{base}/projects/records/permit/{permit.pk}/")
    page.locator("#correction-link").click()
    expect(page.locator("h1")).to_contain_text("申请更正")
    # Nothing changed and no reason: refused in Chinese, nothing asked.
    page.get_by_role("button", name="提交更正审核").click()
    expect(page.locator("#error-summary")).to_contain_text("请填写更正事项及原因")
    assert not Correction.objects.exists()
    page.get_by_label("更正事项及原因").fill("合同金额录入有误，以合同原件为准")
    page.get_by_role("button", name="提交更正审核").click()
    expect(page.locator("#error-summary")).to_contain_text("没有需要更正的字段")
    page.locator("[name=contract_amount]").fill(format(new_amount, "f"))
    page.get_by_role("button", name="提交更正审核").click()
    expect(page.locator("ul.messages li.success")).to_contain_text("更正申请已提交审核")
    expect(page.locator("#correction-open")).to_contain_text("更正审核中")
    assert ConstructionPermit.objects.get(pk=permit.pk).contract_amount == old_amount
    logout(page)

    login(page, base, "reviewer_qlq")
    page.goto(f"{base}/review/inbox/")
    row = page.locator("tbody tr", has=page.locator(".correction-mark"))
    expect(row).to_have_count(1)
    row.get_by_role("link", name="审核").click()
    expect(page.locator("#correction-diff")).to_contain_text(format(new_amount.normalize(), "f"))
    expect(page.locator("#correction-reason")).to_contain_text("合同金额录入有误")
    page.get_by_role("button", name="同意更正（新版本生效）").click()
    expect(page.locator("ul.messages li.success")).to_contain_text("第2版生效")
    logout(page)

    login(page, base, "builder1")
    page.goto(f"{base}/projects/records/permit/{permit.pk}/")
    expect(page.locator("#record-version")).to_have_text("第2版")
    expect(page.locator("#versions")).to_contain_text("更正已生效")
    expect(page.locator("#versions")).to_contain_text("合同金额录入有误")
    assert ConstructionPermit.objects.get(pk=permit.pk).contract_amount == new_amount
