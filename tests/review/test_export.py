"""Excel exports of the inbox and the done list: contents, filters, the cap, the audit entry."""

from __future__ import annotations

from io import BytesIO

from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from review import exports
from tests import factories as f
from yunjian.core.models import AuditEntry


def sheet_rows(response) -> list[tuple]:
    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]
    workbook = load_workbook(BytesIO(response.content), read_only=True)
    return [tuple(row) for row in workbook.active.iter_rows(values_only=True)]


def test_inbox_export_lists_the_filtered_inbox(
    client, reviewer, world, permit_in_review, specialty_in_review
):
    client.force_login(reviewer)

    rows = sheet_rows(client.get(reverse("review:inbox-export"), {"kind": "permit"}))

    assert rows[0] == exports.INBOX_COLUMNS
    assert len(rows) == 2
    line = dict(zip(exports.INBOX_COLUMNS, rows[1], strict=True))
    assert line["信息类型"] == "施工许可信息"
    assert line["项目编号"] == permit_in_review.project.prj_num
    assert line["项目名称"] == "麒麟区测试项目"
    assert line["证书/许可/合同编号"] == permit_in_review.permit_num
    assert line["录入单位"] == world["builder"].name
    assert line["统一社会信用代码"] == world["builder"].credit_code
    assert line["行政区划"] == "麒麟区"
    assert line["审核环节"] == "发证机关审核（施工许可信息）"
    assert line["提交轮次"] == 1
    assert line["提交时间"].date() == timezone.localdate()
    assert line["是否超期"] == "否"


def test_inbox_export_is_audited_with_filters_and_row_count(client, reviewer, permit_in_review):
    client.force_login(reviewer)

    client.get(reverse("review:inbox-export"), {"kind": "permit", "q": "5303"})

    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert (entry.actor, entry.object_type) == (reviewer, "review_inbox")
    assert entry.data == {"filters": {"kind": "permit", "q": "5303"}, "rows": 1, "truncated": False}


def test_export_shows_only_what_the_user_may_see(client, honghe_reviewer, permit_in_review, honghe_permit):
    client.force_login(honghe_reviewer)

    rows = sheet_rows(client.get(reverse("review:inbox-export")))

    assert [r[3] for r in rows[1:]] == [honghe_permit.permit_num]


def test_long_export_is_cut_with_a_note(client, reviewer, many_permits, monkeypatch):
    monkeypatch.setattr(exports, "EXPORT_LIMIT", 2)
    many_permits(3)
    client.force_login(reviewer)

    rows = sheet_rows(client.get(reverse("review:inbox-export")))

    assert len([r for r in rows[1:] if r and r[0] == "施工许可信息"]) == 2
    assert "仅导出前 2 条" in rows[-1][0]
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert (entry.data["rows"], entry.data["truncated"]) == (2, True)


def test_done_export_has_outcome_and_reason(client, reviewer, many_permits):
    approved, returned = many_permits(2)
    f.approve(approved, reviewer)
    f.send_back(returned, reviewer, reason="发证日期有误")
    client.force_login(reviewer)

    rows = sheet_rows(client.get(reverse("review:done-export")))

    assert rows[0] == exports.DONE_COLUMNS
    by_number = {r[3]: dict(zip(exports.DONE_COLUMNS, r, strict=True)) for r in rows[1:]}
    assert by_number[approved.permit_num]["处理结果"] == "通过"
    assert by_number[returned.permit_num]["处理结果"] == "退回"
    assert by_number[returned.permit_num]["审核意见"] == "发证日期有误"
    # newest first
    assert [r[3] for r in rows[1:]] == [returned.permit_num, approved.permit_num]
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert (entry.object_type, entry.data["rows"]) == ("review_done", 2)


def test_done_export_filters_by_outcome(client, reviewer, many_permits):
    approved, returned = many_permits(2)
    f.approve(approved, reviewer)
    f.send_back(returned, reviewer, reason="发证日期有误")
    client.force_login(reviewer)

    rows = sheet_rows(client.get(reverse("review:done-export"), {"outcome": "returned"}))

    assert [r[3] for r in rows[1:]] == [returned.permit_num]


def test_enterprise_user_cannot_export(client, contractor, permit_in_review):
    client.force_login(contractor)

    assert client.get(reverse("review:inbox-export")).status_code == 403
    assert client.get(reverse("review:done-export")).status_code == 403
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).exists()
