"""Enterprise entry in Chromium with the demo accounts and projects (yunjian/core/demo.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import login
from yunjian.core.validators import complete_credit_code, complete_id_number

pytestmark = pytest.mark.browser

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DOCX_BYTES = b"PK\x03\x04" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_design_unit_completes_and_submits_a_drawing_review(page, demo_site):
    login(page, demo_site.url, "design1")
    page.goto(f"{demo_site.url}/projects/drawing-reviews/")
    expect(page.locator(".next-step")).to_contain_text("不能自行新增图审信息")
    page.locator('tr[data-censor-num="5303021903010001-TX-001"]').get_by_role("link", name="完善").click()
    expect(page.locator("h1")).to_have_text("完善施工图审查信息")
    page.select_option("#id_one_pass", "true")
    page.fill("#id_violations_count", "0")
    page.fill("#id_survey_org", complete_credit_code("9153010021654303"))  # the demo's 勘察单位
    page.fill("#id_b-0-name", "1号教学楼")
    page.select_option("#id_b-0-structure_type", "frame")
    page.fill("#id_b-0-floors_above", "5")
    page.get_by_role("button", name="＋ 增加一个单体").click()  # htmx adds the row in place
    expect(page.locator("#id_b-1-name")).to_be_visible()
    page.fill("#id_b-1-name", "2号实验楼")
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#record-state")).to_have_text("待审核")
    expect(page.locator("#record-status")).to_contain_text("审图机构确认")
    expect(page.locator("ul.messages")).to_contain_text("已提交")
    expect(page.get_by_role("cell", name="2号实验楼")).to_be_visible()


def test_design_unit_files_an_addition_request_and_prints_it(page, demo_site):
    login(page, demo_site.url, "design1")
    page.goto(f"{demo_site.url}/projects/additions/")
    page.get_by_role("link", name="填写新增申请").click()
    page.fill("#id_prj_num", "5301021903110011")
    page.fill("#id_project_name", "昆明市五华区社区服务中心")
    page.select_option("#id_county", "530102")
    page.fill("#id_owner_name", "昆明市五华区红十字会")
    page.fill("#id_censor_num", "5301021903110011-TX-001")
    page.select_option("#id_censor_org", label="云南省建设工程施工图审查中心")
    page.fill("#id_censor_date", "2019-01-15")
    page.fill("#id_reason", "2019年系统切换前办理，原系统数据未迁移。")
    page.fill("#id_contact_phone", "0871-64138888")
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("#record-state")).to_have_text("待审核")
    expect(page.locator("#record-status")).to_contain_text("省厅勘察设计处审批")
    page.get_by_role("link", name="打印申请表").click()
    expect(page.locator(".print-title")).to_contain_text("施工图审查信息新增申请表")
    expect(page.locator("table.form-table")).to_contain_text("5301021903110011-TX-001")
    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.locator(".sign-area")).to_contain_text("申请单位（盖章）")
    expect(page.locator(".sign-area")).to_contain_text("经办人签字")


def test_contractor_enters_a_permit_on_two_approved_reviews(page, demo_site):
    login(page, demo_site.url, "builder1")
    page.goto(f"{demo_site.url}/projects/permits/new/")
    # Not yet a party of the project: the picker offers a review by its exact certificate number.
    page.fill("#q", "5303021903040004-TX-001")  # htmx searches as the user types
    boxes = page.locator("#picker-table input[name=review]")
    expect(boxes).to_have_count(1)
    boxes.nth(0).check()
    page.get_by_role("button", name="下一步：录入施工许可信息").click()
    expect(page.locator("h1")).to_have_text("录入施工许可信息")
    expect(page.locator("input[name=review_ids]:checked")).to_have_count(1)
    page.locator("input[name=review_ids]").nth(1).check()  # the project's other approved review
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
    page.get_by_role("button", name="完成录入并提交发证机关审核").click()
    expect(page.locator("#record-state")).to_have_text("待审核")
    expect(page.locator("#record-status")).to_contain_text("发证机关审核（施工许可信息）")
    expect(page.locator("section", has_text="所依据的施工图审查信息").locator("tbody tr")).to_have_count(2)


def test_returned_permit_is_corrected_and_resubmitted(page, demo_site):
    login(page, demo_site.url, "builder1")
    page.goto(f"{demo_site.url}/")
    page.get_by_role("link", name="查看被退回的信息").click()
    page.get_by_role("link", name="修改").first.click()
    expect(page.locator("#return-notice")).to_contain_text("发证日期与施工许可证原件不一致")
    expect(page.locator('.field.flagged[data-field="issue_date"]')).to_be_visible()
    page.fill("#id_issue_date", "2019-05-18")
    page.get_by_role("button", name="重新提交发证机关审核").click()
    expect(page.locator("#record-state")).to_have_text("待审核")
    expect(page.locator(".page-sub")).to_contain_text("第2轮")
    expect(page.locator("ol.timeline li.return")).to_contain_text("发证日期与施工许可证原件不一致")


def _completion_page(page, demo_site):
    from projects.models import Completion

    completion = Completion.objects.get(acceptance_num="5303021903080008-JX-001")
    login(page, demo_site.url, "builder1")
    page.goto(f"{demo_site.url}/projects/records/completion/{completion.pk}/")


def test_attachment_is_uploaded_and_downloaded(page, demo_site):
    _completion_page(page, demo_site)
    page.set_input_files(
        "#id_file", files=[{"name": "竣工验收备案表.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}]
    )
    page.fill("#id_description", "备案表扫描件")
    page.get_by_role("button", name="上传附件").click()
    expect(page.locator("ul.messages")).to_contain_text("已上传附件“竣工验收备案表.pdf”")
    with page.expect_download() as info:
        page.get_by_role("link", name="竣工验收备案表.pdf").click()
    download = info.value
    assert download.suggested_filename == "竣工验收备案表.pdf"
    with open(download.path(), "rb") as fh:
        assert fh.read() == PDF_BYTES


def test_a_renamed_non_pdf_is_refused_with_a_clear_message(page, demo_site):
    _completion_page(page, demo_site)
    page.set_input_files(
        "#id_file", files=[{"name": "施工许可证.pdf", "mimeType": "application/pdf", "buffer": DOCX_BYTES}]
    )
    page.get_by_role("button", name="上传附件").click()
    error = page.locator(".field.has-error ul.errorlist")
    expect(error).to_contain_text(re.compile(r"扩展名是 \.pdf，但文件内容不是 PDF 格式"))
    expect(page.locator("#attachments .empty")).to_have_text("暂无附件")
