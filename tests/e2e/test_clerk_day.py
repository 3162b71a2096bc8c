"""Issue 19: a clerk's day in Chromium — no typed work lost, scans with the record, one submission
per form, errors found at once, the session kept while working (demo accounts, yunjian.core.demo)."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from projects.models import Attachment, ConstructionPermit, Project, State, TenderContract
from tests.conftest import login
from yunjian.core.validators import complete_credit_code, complete_id_number

pytestmark = pytest.mark.browser

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
DOCX_BYTES = b"PK\x03\x04" + b"\x00" * 64
PLATFORM_PROJECT = "5303021903080008"  # demo project 8: open on the platform


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def pdf(name: str, content: bytes = PDF_BYTES) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": content}


def _permit_form(page, base: str) -> None:
    login(page, base, "builder1")
    page.goto(f"{base}/projects/permits/new/")
    # Not yet a party of the project: the picker offers a review by its exact certificate number.
    page.fill("#q", "5303021903040004-TX-001")
    boxes = page.locator("#picker-table input[name=review]")
    expect(boxes).to_have_count(1)
    boxes.nth(0).check()
    page.get_by_role("button", name="下一步：录入施工许可信息").click()
    expect(page.locator("h1")).to_have_text("录入施工许可信息")


def _fill_permit(page) -> None:
    page.fill("#id_permit_num", "5303021903040004-SX-001")
    page.select_option("#id_issuing_org", label="曲靖市麒麟区住房和城乡建设局")
    page.fill("#id_issue_date", "2019-05-08")
    page.fill("#id_contract_amount", "8800")
    page.fill("#id_contract_num", "QJ-SG-2019-040")
    page.fill("#id_project_manager", "张建国")
    page.fill("#id_project_manager_id", complete_id_number("53030219750608003"))
    page.fill("#id_supervision_org", complete_credit_code("9153010021658307"))  # the demo's 监理单位
    page.fill("#id_chief_supervisor", "李监理")
    page.fill("#id_chief_supervisor_id", complete_id_number("53010219700915002"))


def test_a_permit_is_entered_with_its_scans_in_one_pass(page, demo_site):
    """The blocker: the scans are chosen inside the form, and the first submission carries them."""
    _permit_form(page, demo_site.url)
    _fill_permit(page)
    page.set_input_files("#id_att-files", files=[pdf("施工许可证.pdf"), pdf("合同.pdf", PDF_BYTES + b"2")])
    page.fill("#id_att-file_description", "施工许可证及合同扫描件")
    page.get_by_role("button", name="完成录入并提交发证机关审核").click()
    expect(page.locator("#record-state")).to_have_text("待审核")
    expect(page.locator("ul.messages")).to_contain_text("已随施工许可信息保存 2 个附件（第1轮）")
    expect(page.locator("#attachments")).to_contain_text("施工许可证.pdf")
    permit = ConstructionPermit.objects.get(permit_num="5303021903040004-SX-001")
    assert permit.state == State.IN_REVIEW
    assert permit.project_manager == "张建国"
    files = Attachment.objects.filter(kind="permit", record_id=permit.pk)
    assert sorted(a.original_name for a in files) == ["合同.pdf", "施工许可证.pdf"]
    assert {a.revision for a in files} == {permit.revision} == {1}


def test_a_bad_scan_keeps_every_typed_field_and_the_first_error_gets_the_focus(page, demo_site):
    _permit_form(page, demo_site.url)
    _fill_permit(page)
    page.fill("#id_issue_date", "")  # and one field left out
    page.set_input_files("#id_att-files", files=[pdf("许可证.pdf", DOCX_BYTES)])
    page.get_by_role("button", name="保存草稿", exact=True).last.click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("扩展名是 .pdf，但文件内容不是 PDF 格式")
    expect(summary).to_contain_text("有附件不符合要求，未保存")
    expect(page.locator("#id_att-files")).to_be_focused()
    # Nothing typed is lost, and nothing was saved.
    expect(page.locator("#id_permit_num")).to_have_value("5303021903040004-SX-001")
    expect(page.locator("#id_project_manager")).to_have_value("张建国")
    assert not ConstructionPermit.objects.filter(permit_num="5303021903040004-SX-001").exists()
    assert not Attachment.objects.filter(kind="permit").exists()  # (the demo's revocation has evidence)


def test_a_good_scan_is_kept_while_another_field_is_corrected(page, demo_site):
    _permit_form(page, demo_site.url)
    _fill_permit(page)
    page.fill("#id_issue_date", "2030-01-01")  # in the future: refused
    page.set_input_files("#id_att-files", files=[pdf("施工许可证.pdf")])
    page.get_by_role("button", name="完成录入并提交发证机关审核").click()
    expect(page.locator("#error-summary")).to_contain_text("所选的附件已暂存")
    expect(page.locator("#id_issue_date")).to_be_focused()
    expect(page.locator("#pending-files")).to_contain_text("施工许可证.pdf")
    assert not Attachment.objects.filter(kind="permit").exists()  # (the demo's revocation has evidence)
    page.fill("#id_issue_date", "2019-05-08")
    page.get_by_role("button", name="完成录入并提交发证机关审核").click()
    expect(page.locator("#record-state")).to_have_text("待审核")
    expect(page.locator("#attachments")).to_contain_text("施工许可证.pdf")
    permit = ConstructionPermit.objects.get(permit_num="5303021903040004-SX-001")
    assert list(Attachment.objects.filter(record_id=permit.pk).values_list("original_name", "revision")) == [
        ("施工许可证.pdf", 1)
    ]


def test_a_returned_record_gets_its_scan_with_the_corrections_without_losing_them(page, demo_site):
    login(page, demo_site.url, "builder1")
    page.goto(f"{demo_site.url}/")
    page.get_by_role("link", name="查看被退回的信息").click()
    page.get_by_role("link", name="修改").first.click()
    page.fill("#id_issue_date", "2019-05-18")
    page.fill("#id_project_manager", "李四")
    page.set_input_files("#id_att-files", files=[pdf("施工许可证正本.pdf")])
    page.get_by_role("button", name="保存草稿", exact=True).last.click()
    expect(page.locator("ul.messages")).to_contain_text("已随施工许可信息保存 1 个附件（第2轮）")
    expect(page.locator("#attachments")).to_contain_text("施工许可证正本.pdf")
    expect(page.locator("dl, table").filter(has_text="李四").first).to_be_visible()
    # The wrong scan is removed on the form, with the other changes.
    page.get_by_role("link", name="按退回意见修改").click()
    page.get_by_label("施工许可证正本.pdf").check()
    page.get_by_role("button", name="保存草稿", exact=True).last.click()
    expect(page.locator("#attachments .empty")).to_have_text("暂无附件")


def _fill_tender(page) -> None:
    page.select_option("#id_scope", "supervision")
    page.select_option("#id_tender_method", index=1)
    page.fill("#id_tender_num", "5303021903080008-BD-009")
    page.fill("#id_tender_date", "2019-02-12")
    page.fill("#id_tender_amount", "320")
    page.fill("#id_area", "36800")
    page.fill("#id_agency_name", "云南招标代理有限公司")
    page.fill("#id_agency_code", complete_credit_code("9153010021669310"))
    page.fill("#id_project_leader", "吴总监")
    page.fill("#id_leader_id", complete_id_number("53010219700915002"))
    page.fill("#id_contract_num", "QJ-JL-2019-009")
    page.fill("#id_contract_amount", "320")
    page.fill("#id_contract_date", "2019-02-26")
    page.fill("#id_client_name", "曲靖市城市投资开发有限公司")


def test_back_then_submit_again_does_not_create_a_second_contract(page, demo_site):
    project = Project.objects.get(prj_num=PLATFORM_PROJECT)
    login(page, demo_site.url, "supervisor1")
    page.goto(f"{demo_site.url}/projects/{project.pk}/tender-contracts/new/")
    _fill_tender(page)
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#record-state")).to_have_text("待审核")
    page.go_back()
    expect(page.locator("h1")).to_have_text("录入招投标信息及合同登记信息")
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("ul.messages")).to_contain_text("这份表单已经保存过")
    expect(page.locator("#record-state")).to_have_text("待审核")
    assert TenderContract.objects.filter(contract_num="QJ-JL-2019-009").count() == 1
    # A new form with the same contract number is refused by name.
    page.goto(f"{demo_site.url}/projects/{project.pk}/tender-contracts/new/")
    _fill_tender(page)
    page.fill("#id_tender_num", "5303021903080008-BD-010")
    page.get_by_role("button", name="保存草稿", exact=True).last.click()
    expect(page.locator("#error-summary")).to_contain_text("合同编号 QJ-JL-2019-009 已由")
    expect(page.locator("#id_contract_num")).to_be_focused()
    assert TenderContract.objects.filter(contract_num="QJ-JL-2019-009").count() == 1


def test_back_after_submitting_shows_the_record_not_a_refusal(page, demo_site):
    login(page, demo_site.url, "builder1")
    page.goto(f"{demo_site.url}/")
    page.get_by_role("link", name="查看被退回的信息").click()
    page.get_by_role("link", name="修改").first.click()
    page.fill("#id_issue_date", "2019-05-18")
    page.get_by_role("button", name="重新提交发证机关审核").click()
    expect(page.locator("#record-state")).to_have_text("待审核")
    page.go_back()
    expect(page.locator("#record-state")).to_have_text("待审核")
    expect(page.locator("ul.messages")).to_contain_text("不能再修改")
    expect(page.locator("h1")).not_to_contain_text("无权访问")


def test_leaving_a_changed_form_asks_first(page, demo_site):
    _permit_form(page, demo_site.url)
    page.fill("#id_project_manager", "张建国")
    asked = []

    def on_dialog(dialog):
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.get_by_role("link", name="我的项目").click()
    page.wait_for_timeout(500)
    assert asked == ["beforeunload"]
    expect(page.locator("h1")).to_have_text("录入施工许可信息")
    expect(page.locator("#id_project_manager")).to_have_value("张建国")


def test_the_timeout_warning_keeps_the_session_and_a_lapsed_one_keeps_a_draft(page, demo_site, settings):
    settings.IDLE_TIMEOUT_SECONDS = 10
    _permit_form(page, demo_site.url)
    page.fill("#id_project_manager", "王五")
    page.wait_for_timeout(3000)  # typed, then idle
    warning = page.locator("#session-warning")
    expect(warning).to_contain_text("秒后自动退出", timeout=15000)
    page.get_by_role("button", name="继续").click()
    expect(warning).to_be_hidden()
    # The session was kept: a page loads without signing in again.
    page.fill("#id_contract_amount", "8800")
    page.wait_for_timeout(1000)
    # Now idle past the timeout: the page says so and the draft waits in the browser.
    expect(warning).to_contain_text("已超时退出", timeout=25000)
    time.sleep(2)
    page.get_by_role("link", name="重新登录").click()
    page.fill("input[name=username]", "builder1")
    from yunjian.core.demo import DEMO_PASSWORD

    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    # Signed in again: from here on a slow machine must not time the new session out as well.
    settings.IDLE_TIMEOUT_SECONDS = 600
    # Back where the session lapsed, and the page (with its search script) fully loaded before typing.
    page.wait_for_url(f"{demo_site.url}/projects/permits/new/", wait_until="load")
    # The picker starts again; with the same review the page is the same form: the draft is offered.
    page.fill("#q", "5303021903040004-TX-001")
    boxes = page.locator("#picker-table input[name=review]")
    expect(boxes).to_have_count(1)
    boxes.nth(0).check()
    page.get_by_role("button", name="下一步：录入施工许可信息").click()
    expect(page.locator("#draft-banner")).to_contain_text("未保存的填写内容")
    page.get_by_role("button", name="恢复未保存的内容").click()
    expect(page.locator("#id_project_manager")).to_have_value("王五")
    expect(page.locator("#id_contract_amount")).to_have_value("8800")


def test_keepalive_needs_a_session(client, db):
    response = client.post("/session/keepalive/")
    assert response.status_code == 401
    assert client.get("/session/keepalive/").status_code == 405


def test_mouse_wheel_leaves_numbers_alone_and_basics(page, demo_site):
    login(page, demo_site.url, "design1")
    page.goto(f"{demo_site.url}/projects/drawing-reviews/")
    expect(page.locator("nav.mainnav a.active")).to_have_count(1)
    expect(page.locator("nav.mainnav a.active")).to_have_text("我的图审信息")
    assert page.locator('meta[name="renderer"]').get_attribute("content") == "webkit"
    page.locator('tr[data-censor-num="5303021903010001-TX-001"]').get_by_role("link", name="完善").click()
    field = page.locator("#id_violations_count")
    # No number input anywhere on the form: the wheel cannot change what was typed.
    expect(page.locator("#entry-form input[type=number]")).to_have_count(0)
    expect(field).to_have_attribute("inputmode", "numeric")
    field.fill("3")
    field.hover()
    page.mouse.wheel(0, 300)
    page.mouse.wheel(0, -300)
    expect(field).to_have_value("3")
    response = page.request.get(f"{demo_site.url}/favicon.ico")
    assert response.status == 200
    assert response.body()[:4] == b"\x00\x00\x01\x00"


def test_an_addition_request_is_saved_printed_and_submitted_with_its_stamped_scan(page, demo_site):
    """The help describes the order that works, and the app follows it."""
    login(page, demo_site.url, "design1")
    page.goto(f"{demo_site.url}/projects/additions/new/")
    steps = page.locator(".next-step")
    expect(steps).to_contain_text("① 如实填写后点击“保存草稿”")
    expect(steps).to_contain_text("③ 点击“继续填写”，在本表“附件”中选择盖章的扫描件")
    page.fill("#id_prj_num", "5301021903110011")
    page.fill("#id_project_name", "昆明市五华区社区服务中心")
    page.select_option("#id_county", "530102")
    page.fill("#id_owner_name", "昆明市五华区红十字会")
    page.fill("#id_censor_num", "5301021903110011-TX-001")
    page.select_option("#id_censor_org", label="云南省建设工程施工图审查中心")
    page.fill("#id_censor_date", "2019-01-15")
    page.fill("#id_reason", "2019年系统切换前办理，原系统数据未迁移。")
    page.fill("#id_contact_phone", "0871-64138888")
    page.get_by_role("button", name="保存草稿", exact=True).last.click()
    page.get_by_role("link", name="打印申请表").click()
    expect(page.locator(".print-title")).to_contain_text("施工图审查信息新增申请表")
    page.go_back()
    page.get_by_role("link", name="继续填写").click()
    page.set_input_files("#id_att-files", files=[pdf("申请表（盖章）.pdf")])
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#record-state")).to_have_text("待审核")
    expect(page.locator("#attachments")).to_contain_text("申请表（盖章）.pdf")
