"""提级 in Chromium (issue 18): the general contractor asks, from its approved permit's page, for a
higher 数据等级; 曲靖市's reviewer verifies it (the checklist, a scan) and raises it from C to B; the
contractor sees the new level on the record. Demo accounts and projects (yunjian.core.demo)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from projects.models import ConstructionPermit, DataLevel
from review import services as rs
from review.models import LevelRequest
from tests.conftest import login
from tests.projects.conftest import PDF_BYTES
from yunjian.core.models import User

pytestmark = pytest.mark.browser

HOUSING_PERMIT = "5303021903050005-SX-001"  # demo project 5: at 麒麟区's permit reviewers


def logout(page) -> None:
    page.get_by_role("button", name="退出").click()
    expect(page.locator("input[name=username]")).to_be_visible()


def test_a_contractor_asks_and_the_prefecture_raises_the_level(demo_site, page, tmp_path):
    base = demo_site.url
    permit = ConstructionPermit.objects.get(permit_num=HOUSING_PERMIT)
    # 麒麟区 (the county) approves it: level C.
    rs.record_decide(
        actor=User.objects.get(username="reviewer_qlq"),
        kind="permit",
        record_id=permit.pk,
        approve=True,
        lock_version=None,
    )
    assert ConstructionPermit.objects.get(pk=permit.pk).data_level == DataLevel.C

    login(page, base, "builder1")
    page.goto(f"{base}/projects/records/permit/{permit.pk}/")
    expect(page.locator("#record-level")).to_have_text("数据等级 C")
    page.locator("#level-request-link").click()
    expect(page.locator("h1")).to_contain_text("申请提级")
    # Submitted without a purpose: refused in Chinese, nothing asked.
    page.get_by_role("button", name="提交提级申请").click()
    expect(page.locator("#error-summary")).to_contain_text("请填写申请用途")
    assert not LevelRequest.objects.exists()
    expect(page.get_by_label(HOUSING_PERMIT, exact=False)).to_be_checked()
    page.get_by_label("申请用途").fill("申请建筑工程施工总承包一级资质")
    page.get_by_role("button", name="提交提级申请").click()
    expect(page.locator("ul.messages li.success")).to_contain_text("提级申请已提交")
    expect(page.locator("#level-mine")).to_contain_text("待核实")
    logout(page)

    login(page, base, "reviewer_qj")
    page.goto(f"{base}/review/level-requests/")
    page.locator("#level-requests tbody tr").first.get_by_role("link", name="核实").click()
    expect(page.locator("#level-records")).to_contain_text(HOUSING_PERMIT)
    page.get_by_label("施工许可证原件").check()
    page.get_by_label("合同原件（含备案合同）").check()
    scan = tmp_path / "核实报告.pdf"
    scan.write_bytes(PDF_BYTES)
    page.locator("input[name=files]").set_input_files(str(scan))
    page.get_by_role("button", name="核实无误，提级").click()
    expect(page.locator("ul.messages li.success")).to_contain_text("已办理该提级申请")
    expect(page.locator("#level-status")).to_have_text("已提级")
    assert ConstructionPermit.objects.get(pk=permit.pk).data_level == DataLevel.B
    logout(page)

    login(page, base, "builder1")
    page.goto(f"{base}/projects/records/permit/{permit.pk}/")
    expect(page.locator("#record-level")).to_have_text("数据等级 B")
    expect(page.locator("#attachments")).to_contain_text("核实报告.pdf")
