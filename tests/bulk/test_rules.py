"""Every rule the entry forms and services enforce, refused row by row in the preview with its
message in Chinese (sheet row and column); rows that would attach the enterprise to a project the
forms refuse; nothing written for a refused row."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from bulk.models import BulkUpload
from projects import services as ps
from projects.models import Completion, TenderContract
from tests import factories as f
from tests.bulk.conftest import completion_row, tender_row

pytestmark = pytest.mark.django_db


def plan_of(response) -> dict[int, dict]:
    assert response.status_code == 302, response.content.decode()
    upload = BulkUpload.objects.order_by("-id").first()
    return {row["row"]: row for row in upload.plan}


def messages(row: dict) -> str:
    return " ".join(f"{where}：{message}" for where, message in row["errors"])


def test_tender_rows_refused_with_the_forms_messages(
    as_user, contractor, other_contractor, open_project, bulk_upload, world
):
    held = ps.tender_contract_save(
        actor=other_contractor,
        project_id=open_project.pk,
        data=f.tender_data("construction", tender_num="ZB-HELD-1", contract_num="HT-HELD-1"),
    )
    p = open_project.prj_num
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    cases = [
        (tender_row("5303029999999999", 1), "项目编号：系统中没有项目编号为 5303029999999999 的工程项目"),
        (tender_row("", 2), "项目编号：请填写“项目编号”"),
        (tender_row(p, 3, 中标通知书编号="", 合同编号=""), "批量录入以编号识别同一条记录"),
        (tender_row(p, 4, **{"招标类型（承包范围）": "监理"}), "请从列表中选择“招标类型（承包范围）”"),
        (tender_row(p, 5, 中标日期="2020-13-45"), "中标日期：“中标日期”应为有效日期"),
        (tender_row(p, 6, 合同签订日期=tomorrow, 中标日期="2020-01-01"), "不能晚于今天"),
        (
            tender_row(p, 7, 中标日期="2020-03-01", 合同签订日期="2020-02-01"),
            "“合同签订日期”不能早于“中标日期”",
        ),
        (tender_row(p, 8, **{"中标金额（万元）": "一千"}), "“中标金额（万元）”应为数字"),
        (
            tender_row(p, 9, 招标代理单位统一社会信用代码="915303022166000100"),
            "招标代理单位统一社会信用代码：",
        ),
        (tender_row(p, 10, 项目负责人身份证号码="530302198202020000"), "项目负责人身份证号码："),
        (tender_row(p, 11, 招标方式="乱填"), "请从列表中选择“招标方式”"),
        (tender_row(p, 12, 中标通知书编号="ZB-HELD-1"), "中标通知书编号 ZB-HELD-1 已由"),
        (tender_row(p, 13, 合同编号="HT-2020-0004"), "合同编号：与第5行的“合同编号”相同"),
        (tender_row(p, 14), None),
    ]
    response = bulk_upload(as_user(contractor), "tender_contract", [row for row, _ in cases])
    plan = plan_of(response)
    for number, (_, expected) in enumerate(cases, start=2):
        row = plan[number]
        if expected is None:
            assert row["status"] == "create", row
        else:
            assert row["status"] == "error", (number, row)
            assert expected in messages(row), (number, expected, messages(row))
    assert "同一编号只能录入一次" in messages(plan[13])
    # The page says each one by sheet row and column.
    page = (
        as_user(contractor).get(reverse("bulk:preview", args=[BulkUpload.objects.get().pk])).content.decode()
    )
    assert "第5行 · 招标类型（承包范围）：请从列表中选择" in page
    # Applying writes the one valid row only.
    as_user(contractor).post(reverse("bulk:apply", args=[BulkUpload.objects.get().pk]))
    assert list(TenderContract.objects.exclude(pk=held.pk).values_list("tender_num", flat=True)) == [
        "ZB-2020-0014"
    ]


def test_completion_rows_refused_with_the_forms_messages(as_user, contractor, open_project, bulk_upload):
    p = open_project.prj_num
    cases = [
        (
            completion_row(p, 1, **{"备案机关（名称或统一社会信用代码）": "某设计院"}),
            "不是系统中的住房城乡建设部门",
        ),
        (
            completion_row(p, 2, **{"所属施工许可（施工许可证编号）": "NO-SUCH-PERMIT"}),
            "没有已审核认定的施工许可证 NO-SUCH-PERMIT",
        ),
        (completion_row(p, 3, 实际开工日期="2021-07-01"), "“竣工验收日期”不能早于“实际开工日期”"),
        (completion_row(p, 4, 竣工验收备案编号="", 竣工验收编号=""), "批量录入以编号识别同一条记录"),
        (completion_row(p, 5, **{"实际面积（平方米）": "-5"}), "实际面积（平方米）："),
        (completion_row(p, 6, 结构体系="木结构"), "请从列表中选择“结构体系”"),
        (
            completion_row(p, 7, **{"专业承包合同编号（专业分包单位填写）": "FB-1"}),
            "没有合同编号（或中标通知书编号）为 FB-1 的专业承包合同",
        ),
        (completion_row(p, 8), None),
    ]
    plan = plan_of(bulk_upload(as_user(contractor), "completion", [row for row, _ in cases]))
    for number, (_, expected) in enumerate(cases, start=2):
        row = plan[number]
        if expected is None:
            assert row["status"] == "create", row
        else:
            assert row["status"] == "error", (number, row)
            assert expected in messages(row), (number, expected, messages(row))


def test_a_workbook_cannot_attach_the_enterprise_to_another_organisations_project(
    as_user, contractor, other_contractor, specialist, open_project, permit_in_review, bulk_upload, world
):
    """Completions are the general contractor's (notice 一(二)2): another contractor, or a specialty
    contractor without a subcontract there, is refused; so is a tender on a project not yet open."""
    closed = f.make_project("530302", owner=world["owner"], name="未开放项目")
    plan = plan_of(
        bulk_upload(as_user(other_contractor), "completion", [completion_row(open_project.prj_num, 1)])
    )
    assert plan[2]["status"] == "error"
    assert "本单位不是该项目的参建单位" in messages(plan[2])
    plan = plan_of(bulk_upload(as_user(specialist), "completion", [completion_row(open_project.prj_num, 2)]))
    assert "本单位不是该项目的参建单位" in messages(plan[2])
    plan = plan_of(bulk_upload(as_user(other_contractor), "tender_contract", [tender_row(closed.prj_num, 3)]))
    assert "尚未在省一体化平台开放录入" in messages(plan[2])
    # Nothing is written when such a workbook is applied.
    for upload in BulkUpload.objects.all():
        client = as_user(upload.uploaded_by)
        client.post(reverse("bulk:apply", args=[upload.pk]))
    assert not Completion.objects.exists()
    assert not TenderContract.objects.exists()


def test_re_upload_creates_nothing_twice(as_user, contractor, open_project, bulk_upload):
    client = as_user(contractor)
    rows = [tender_row(open_project.prj_num, n) for n in (1, 2, 3)]
    first = plan_of(bulk_upload(client, "tender_contract", rows))
    assert {r["status"] for r in first.values()} == {"create"}
    client.post(reverse("bulk:apply", args=[BulkUpload.objects.get().pk]))
    assert TenderContract.objects.count() == 3
    # The same workbook again: each row updates its draft; one changed amount is written.
    rows[0]["中标金额（万元）"] = 999
    second = plan_of(bulk_upload(client, "tender_contract", rows))
    assert {r["status"] for r in second.values()} == {"update"}
    client.post(reverse("bulk:apply", args=[BulkUpload.objects.order_by("-id").first().pk]))
    assert TenderContract.objects.count() == 3
    assert TenderContract.objects.get(tender_num="ZB-2020-0001").tender_amount == 999
    # Applying an upload twice is refused.
    again = client.post(
        reverse("bulk:apply", args=[BulkUpload.objects.order_by("-id").first().pk]), follow=True
    )
    assert "该文件已导入，不能重复导入" in again.content.decode()
    # Submitted: a third upload skips the records, still nothing twice.
    client.post(reverse("bulk:submit", args=[BulkUpload.objects.order_by("-id").first().pk]))
    third = plan_of(bulk_upload(client, "tender_contract", rows))
    assert {r["status"] for r in third.values()} == {"skip"}
    client.post(reverse("bulk:apply", args=[BulkUpload.objects.order_by("-id").first().pk]))
    assert TenderContract.objects.count() == 3


def test_error_report_round_trip(as_user, contractor, open_project, bulk_upload):
    """The error report has the errors in a column; fixed and uploaded again, the rows pass."""
    import io

    from openpyxl import load_workbook

    from tests.projects.conftest import upload as file

    client = as_user(contractor)
    rows = [tender_row(open_project.prj_num, 1, 中标日期="2020-13-45"), tender_row(open_project.prj_num, 2)]
    plan_of(bulk_upload(client, "tender_contract", rows))
    report = client.get(reverse("bulk:errors", args=[BulkUpload.objects.get().pk]))
    assert report.status_code == 200
    workbook = load_workbook(io.BytesIO(report.content))
    sheet = workbook["录入"]
    headers = [c.value for c in sheet[1]]
    assert headers[-1].startswith("错误")
    assert "“中标日期”应为有效日期" in sheet.cell(row=2, column=len(headers)).value
    assert sheet.cell(row=3, column=len(headers)).value in (None, "")
    assert (
        sheet.cell(row=2, column=headers.index("招标类型（承包范围）*") + 1).value == "施工总包"
    )  # labels, not codes
    sheet.cell(row=2, column=headers.index("中标日期*") + 1, value="2020-02-01")
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = client.post(
        reverse("bulk:upload", args=["tender_contract"]), {"file": file("检查结果.xlsx", buffer.getvalue())}
    )
    assert {r["status"] for r in plan_of(response).values()} == {"create"}


def test_a_row_refused_in_the_preview_is_not_written_even_if_it_became_valid(
    as_user, contractor, project, permit_in_review, county_permit_reviewer, bulk_upload
):
    """The enterprise imports what it saw: a row shown as an error stays one when applied, even if
    the project opened for entry in between (it uploads the file again to enter it)."""
    from tests.synchelpers import acknowledge_project_offline

    client = as_user(contractor)
    plan = plan_of(bulk_upload(client, "tender_contract", [tender_row(project.prj_num, 1)]))
    assert plan[2]["status"] == "error"
    f.approve(permit_in_review, county_permit_reviewer)
    project.refresh_from_db()
    acknowledge_project_offline(project)
    client.post(reverse("bulk:apply", args=[BulkUpload.objects.get().pk]))
    assert not TenderContract.objects.exists()
    assert BulkUpload.objects.get().plan[0]["status"] == "error"
    again = plan_of(bulk_upload(client, "tender_contract", [tender_row(project.prj_num, 1)]))
    assert again[2]["status"] == "create"
