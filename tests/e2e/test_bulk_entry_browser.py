"""Bulk entry from Excel in Chromium, as the demo's general contractor (builder1) would use it:
download the template, fill it, upload, read the preview, download the error report, fix the
refused row from it, upload again, import the drafts and submit every valid row."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.conftest import login
from yunjian.core.validators import complete_credit_code, complete_id_number

pytestmark = pytest.mark.browser

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROJECT = "5303021903080008"  # the demo's project open on the platform (yunjian/core/demo.py, 8.)


def _download(page, link_name: str, within: str = "body") -> bytes:
    with page.expect_download() as info:
        page.locator(within).get_by_role("link", name=link_name).first.click()
    with open(info.value.path(), "rb") as handle:
        return handle.read()


def _fill(content: bytes, rows: list[dict]) -> bytes:
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook["录入"]
    headers = {str(c.value).rstrip("*"): c.column for c in sheet[1]}
    for index, row in enumerate(rows, start=2):
        for header, value in row.items():
            sheet.cell(row=index, column=headers[header], value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _upload(page, kind: str, name: str, content: bytes) -> None:
    page.set_input_files(f"#id_{kind}_file", files=[{"name": name, "mimeType": XLSX, "buffer": content}])
    page.locator(f"#kind-{kind}").get_by_role("button", name="上传并检查").click()


def test_contractor_enters_tenders_and_a_completion_from_workbooks(page, demo_site):
    login(page, demo_site.url, "builder1")
    page.goto(f"{demo_site.url}/projects/")
    page.get_by_role("link", name="从Excel批量录入").click()
    expect(page.locator("h1")).to_have_text("从Excel批量录入")

    # Tenders and contracts: one good row, one with an impossible date.
    template = _download(page, "下载模板", "#kind-tender_contract")
    row = {
        "项目编号": PROJECT,
        "招标类型（承包范围）": "施工总包",
        "招标方式": "公开招标",
        "中标通知书编号": f"{PROJECT}-BD-002",
        "中标日期": "2019-03-01",
        "中标金额（万元）": 1200,
        "面积（平方米）": 3000,
        "招标代理单位名称": "云南招标代理有限公司",
        "招标代理单位统一社会信用代码": complete_credit_code("9153010021669310"),
        "项目负责人（项目经理/总监理工程师）": "张建国",
        "项目负责人身份证号码": complete_id_number("53030219750608003"),
        "合同编号": f"{PROJECT}-HT-002",
        "合同类别": "施工总包",
        "合同金额（万元）": 1200,
        "合同签订日期": "2019-03-20",
        "发包单位名称": "曲靖市第二人民医院",
    }
    bad = {
        **row,
        "中标通知书编号": f"{PROJECT}-BD-003",
        "合同编号": f"{PROJECT}-HT-003",
        "中标日期": "2019-02-30",
    }
    _upload(page, "tender_contract", "招投标.xlsx", _fill(template, [row, bad]))
    expect(page.locator('tr[data-row="2"]')).to_contain_text("将新建")
    expect(page.locator('tr[data-row="3"]')).to_contain_text("错误")
    expect(page.locator('tr[data-row="3"]')).to_contain_text("第3行 · 中标日期：“中标日期”应为有效日期")

    # The error report, fixed and uploaded again: both rows pass.
    report = load_workbook(io.BytesIO(_download(page, "下载错误报告")))
    sheet = report["录入"]
    headers = [str(c.value) for c in sheet[1]]
    assert "应为有效日期" in sheet.cell(row=3, column=len(headers)).value
    sheet.cell(row=3, column=headers.index("中标日期*") + 1, value="2019-03-02")
    buffer = io.BytesIO()
    report.save(buffer)
    page.get_by_role("link", name="重新上传").click()
    _upload(page, "tender_contract", "招投标-改.xlsx", buffer.getvalue())
    expect(page.locator("#bulk-rows tbody tr[data-status=create]")).to_have_count(2)
    page.get_by_role("button", name="导入为草稿（2 条有效行）").click()
    expect(page.locator("ul.messages")).to_contain_text("已导入 2 条草稿")
    page.get_by_role("button", name="提交所有有效行").click()
    expect(page.locator("ul.messages")).to_contain_text("已提交审核 2 条")
    expect(page.locator('tr[data-row="3"]')).to_contain_text("已提交审核")

    # The completion: the demo's draft (by its acceptance number) is completed and submitted.
    page.goto(f"{demo_site.url}/bulk/")
    template = _download(page, "下载模板", "#kind-completion")
    completion = {
        "项目编号": PROJECT,
        "竣工验收编号": f"{PROJECT}-JX-001",
        "实际开工日期": "2019-05-20",
        "竣工验收日期": "2021-06-30",
        "实际造价（万元）": 10120,
        "实际面积（平方米）": 36800,
        "结构体系": "框架结构",
        "竣工验收备案编号": f"{PROJECT}-BA-001",
        "备案日期": "2021-07-15",
        "备案机关（名称或统一社会信用代码）": "曲靖市麒麟区住房和城乡建设局",
    }
    _upload(page, "completion", "竣工.xlsx", _fill(template, [completion]))
    expect(page.locator('tr[data-row="2"]')).to_contain_text("将更新草稿")
    page.get_by_role("button", name="导入为草稿（1 条有效行）").click()
    page.get_by_role("button", name="提交所有有效行").click()
    expect(page.locator("ul.messages")).to_contain_text("已提交审核 1 条")
    page.locator('tr[data-row="2"]').get_by_role("link", name="查看").click()
    expect(page.locator("#record-state")).to_have_text("待审核")
