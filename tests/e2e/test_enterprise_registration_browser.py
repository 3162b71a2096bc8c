"""Issue 17, done when: an enterprise registers, is approved, and its administrator creates a colleague
who enters a record — in the browser, against the live server with the demo data."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from enterprises.models import Registration
from projects.models import DrawingReviewAdditionRequest
from tests.conftest import login
from tests.projects.conftest import PDF_BYTES
from yunjian.core.models import AuditEntry, Organization, Role, User
from yunjian.core.validators import complete_credit_code

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "Dy@Design-2026ab"
COLLEAGUE_PASSWORD = "Cl@Colleague-2026"


def test_register_approve_add_a_colleague_who_enters_a_record(page, demo_site):
    base = demo_site.url
    code = complete_credit_code("9153030288880001")
    # 1. The enterprise registers (no account yet).
    page.goto(f"{base}/login/")
    page.get_by_role("link", name="企业注册").click()
    page.fill("#id_credit_code", code)
    page.fill("#id_name", "曲靖市新设计院有限公司")
    page.check("input[name=kinds][value=design]")
    page.select_option("#id_division", "530302")
    page.fill("#id_contact_name", "赵联系")
    page.fill("#id_contact_mobile", "13987654321")
    page.fill("#id_contact_email", "zhao@example.com")
    page.fill("#id_username", "qj_newdesign")
    page.fill("#id_password", ADMIN_PASSWORD)
    page.fill("#id_password2", ADMIN_PASSWORD)
    page.set_input_files(
        "#id_licence", files=[{"name": "营业执照.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}]
    )
    page.get_by_role("button", name="提交注册申请").click()
    expect(page.locator("#registration-state")).to_contain_text("待审核")
    status_url = page.url

    # 2. The province's system administrator approves it.
    page.context.clear_cookies()
    login(page, base, "admin")
    page.get_by_role("link", name="企业注册审核").click()
    page.locator("tr", has_text=code).get_by_role("link", name="审核").click()
    expect(page.locator("h1")).to_have_text("曲靖市新设计院有限公司")
    page.get_by_role("button", name="通过", exact=True).click()
    expect(page.locator("ul.messages li.success")).to_contain_text("企业管理员账号 qj_newdesign 已开通")

    # The applicant's status page says so.
    page.context.clear_cookies()
    page.goto(status_url)
    expect(page.locator("#registration-state")).to_contain_text("已通过")

    # 3. The enterprise administrator signs in and adds a colleague.
    login(page, base, "qj_newdesign", ADMIN_PASSWORD)
    page.get_by_role("link", name="本单位账号").click()
    page.get_by_role("link", name="新增账号").click()
    page.fill("#id_username", "qj_newdesign_li")
    page.fill("#id_full_name", "李录入")
    page.get_by_role("button", name="保存").click()
    link = page.locator("#one-time-link").inner_text().strip()
    assert "/enterprises/set-password/" in link

    # 4. The colleague sets a password through the one-time link and enters a record.
    page.context.clear_cookies()
    page.goto(link)
    page.fill("#id_new_password1", COLLEAGUE_PASSWORD)
    page.fill("#id_new_password2", COLLEAGUE_PASSWORD)
    page.get_by_role("button", name="设置密码").click()
    expect(page.locator("ul.messages li.success")).to_contain_text("qj_newdesign_li")
    login(page, base, "qj_newdesign_li", COLLEAGUE_PASSWORD)
    page.goto(f"{base}/projects/additions/")
    page.get_by_role("link", name="填写新增申请").click()
    page.fill("#id_prj_num", "5303021903110099")
    page.fill("#id_project_name", "麒麟区新设计院的历史项目")
    page.select_option("#id_county", "530302")
    page.fill("#id_owner_name", "曲靖市麒麟区某建设单位")
    page.fill("#id_censor_num", "5303021903110099-TX-001")
    page.select_option("#id_censor_org", label="云南省建设工程施工图审查中心")
    page.fill("#id_censor_date", "2019-01-15")
    page.fill("#id_reason", "2019年系统切换前办理，原系统数据未迁移。")
    page.fill("#id_contact_phone", "0874-3120000")
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#record-state")).to_have_text("待审核")

    org = Organization.objects.get(credit_code=code)
    assert Registration.objects.get(credit_code=code).organization == org
    assert User.objects.get(username="qj_newdesign").has_role(Role.ENTERPRISE_ADMIN)
    colleague = User.objects.get(username="qj_newdesign_li")
    assert colleague.organization == org
    assert not colleague.has_role(Role.ENTERPRISE_ADMIN)
    request = DrawingReviewAdditionRequest.objects.get(censor_num="5303021903110099-TX-001")
    assert request.owner_org == org

    # 5. The administrator sees who entered what.
    page.context.clear_cookies()
    login(page, base, "qj_newdesign", ADMIN_PASSWORD)
    page.goto(f"{base}/enterprises/staff/audit/")
    expect(page.locator("table.table")).to_contain_text("李录入")
    assert AuditEntry.objects.filter(actor=colleague, actor_org=org, action="submit").exists()
