"""Bulk entry: fill the downloaded template as an enterprise would, and upload it."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.projects.conftest import (  # noqa: F401 - the entry fixtures, shared
    as_user,
    open_project,
    permit_in_review,
    specialty_info,
    upload,
)
from yunjian.core.validators import complete_credit_code, complete_id_number

AGENCY_CODE = complete_credit_code("9153030221660001")
LEADER_ID = complete_id_number("53030219820202001")


def tender_row(prj_num: str, n: int = 1, **overrides) -> dict:
    """A row of the tender template by its column headers (what a clerk types)."""
    row = {
        "项目编号": prj_num,
        "招标类型（承包范围）": "施工总包",
        "招标方式": "公开招标",
        "中标通知书编号": f"ZB-2020-{n:04d}",
        "中标日期": "2020-02-01",
        "中标金额（万元）": 1000,
        "面积（平方米）": 12000,
        "招标代理单位名称": "某招标代理公司",
        "招标代理单位统一社会信用代码": AGENCY_CODE,
        "项目负责人（项目经理/总监理工程师）": "王负责人",
        "项目负责人身份证号码": LEADER_ID,
        "合同编号": f"HT-2020-{n:04d}",
        "合同类别": "施工总包",
        "合同金额（万元）": 1000,
        "合同签订日期": "2020-02-20",
        "发包单位名称": "某建设单位",
    }
    row.update(overrides)
    return row


def completion_row(prj_num: str, n: int = 1, **overrides) -> dict:
    row = {
        "项目编号": prj_num,
        "实际开工日期": "2020-05-10",
        "竣工验收日期": "2021-06-01",
        "实际造价（万元）": 1050,
        "实际面积（平方米）": 12000,
        "结构体系": "框架结构",
        "竣工验收备案编号": f"BA-2021-{n:04d}",
        "备案日期": "2021-06-20",
        "备案机关（名称或统一社会信用代码）": "麒麟区住房和城乡建设局",
    }
    row.update(overrides)
    return row


def fill(template: bytes, rows: list[dict]) -> bytes:
    """The template with `rows` typed into its 录入 sheet under the headers (a * marks required)."""
    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook["录入"]
    headers = {str(c.value).rstrip("*"): c.column for c in sheet[1]}
    for index, row in enumerate(rows, start=2):
        for header, value in row.items():
            sheet.cell(row=index, column=headers[header], value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def bulk_upload():
    """Download the kind's template as `client`'s user, fill `rows`, upload it; the response."""

    def go(client, kind: str, rows: list[dict], name: str = "历史记录.xlsx"):
        template = client.get(reverse("bulk:template", args=[kind]))
        assert template.status_code == 200
        content = fill(template.content, rows)
        return client.post(reverse("bulk:upload", args=[kind]), {"file": upload(name, content)})

    return go


def specialty_row(n: int = 1, **overrides) -> dict:
    """A directly contracted specialty project's basic info (notice 二(二)); no 项目编号: provisional."""
    row = {
        "项目编号": "",
        "专业承包内容": f"消防设施工程{n}",
        "项目名称": f"曲靖市会展中心消防工程{n}",
        "项目分类": "房屋建筑工程",
        "建设性质": "新建",
        "工程用途": "公共建筑",
        "项目所在县（市、区）": "曲靖市 · 麒麟区",
        "建设单位（名称或统一社会信用代码）": "建设单位",
        "实际开工日期": "2020-03-01",
        "实际竣工日期": "2020-11-30",
    }
    row.update(overrides)
    return row


def permit_row(prj_num: str, censor_nums: str, n: int = 1, **overrides) -> dict:
    row = {
        "项目编号": prj_num,
        "施工图审查合格书编号（多个用分号分隔）": censor_nums,
        "施工许可证编号": f"{prj_num}-SX-{n:03d}",
        "发证机关（名称或统一社会信用代码）": "麒麟区住房和城乡建设局",
        "发证日期": "2020-05-01",
        "合同金额（万元）": 1000,
        "施工合同编号": f"SG-2020-{n:04d}",
        "项目经理": "张经理",
        "项目经理身份证号码": LEADER_ID,
        "监理单位（名称或统一社会信用代码）": "监理公司",
        "总监理工程师": "李总监",
        "总监理工程师身份证号码": complete_id_number("53030219750505001"),
    }
    row.update(overrides)
    return row
