"""Excel exports of the inbox and the done list: openpyxl write-only, built in memory, bounded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from projects.models import DATA_SOURCE_CAMPAIGN, RecordKind
from review.models import Task
from yunjian.core import spreadsheets
from yunjian.core.models import Division

EXPORT_LIMIT = 50_000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

INBOX_COLUMNS = (
    "信息类型",
    "项目编号",
    "项目名称",
    "证书/许可/合同编号",
    "录入单位",
    "统一社会信用代码",
    "行政区划",
    "审核环节",
    "提交轮次",
    "提交时间",
    "办理期限",
    "是否超期",
    "是否更正",
)
DONE_COLUMNS = (
    "信息类型",
    "项目编号",
    "项目名称",
    "证书/许可/合同编号",
    "录入单位",
    "统一社会信用代码",
    "行政区划",
    "审核环节",
    "提交轮次",
    "提交时间",
    "处理时间",
    "处理结果",
    "审核意见",
    "认定数据等级",
    "数据来源",
    "是否更正",
)
_FIELDS = (
    "kind",
    "prj_num",
    "title",
    "number",
    "owner_org__name",
    "owner_org__credit_code",
    "division_code",
    "step_label",
    "revision",
    "submitted_at",
    "due_at",
    "decided_at",
    "outcome",
    "reason",
    "data_level",
    # 更正 rows (the inbox page's 更正 badge): the step reviews a correction of an approved record.
    "correction_id",
)


@dataclass
class Export:
    content: bytes
    rows: int
    truncated: bool


def _local(value: datetime | None):
    # Excel has no time zones: write the local (Asia/Shanghai) wall time.
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def _header(ws, columns: tuple[str, ...]) -> None:
    bold = Font(bold=True)
    cells = []
    for title in columns:
        cell = WriteOnlyCell(ws, value=title)
        cell.font = bold
        cells.append(cell)
    ws.append(cells)


def _workbook(title: str, columns: tuple[str, ...]):
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title)
    ws.freeze_panes = "A2"
    for index, width in enumerate((16, 18, 36, 26, 30, 22, 14, 30, 8, 18, 18, 10, 40)[: len(columns)]):
        ws.column_dimensions[chr(ord("A") + index)].width = width
    _header(ws, columns)
    return wb, ws


def export_tasks(queryset: QuerySet[Task], *, done: bool, ordering: tuple[str, ...]) -> Export:
    """Write up to EXPORT_LIMIT rows of `queryset` (in `ordering`) to an .xlsx file in memory.

    When the list is longer, the file ends with a line saying it was cut, and `truncated` is set.
    """
    labels = dict(RecordKind.choices)
    outcomes = dict(Task.Outcome.choices)
    divisions = dict(Division.objects.values_list("code", "name"))
    now = timezone.now()
    columns = DONE_COLUMNS if done else INBOX_COLUMNS
    wb, ws = _workbook("已办审核" if done else "待办审核", columns)
    rows = queryset.order_by(*ordering).values_list(*_FIELDS)[: EXPORT_LIMIT + 1]
    count, truncated = 0, False
    for row in rows.iterator(chunk_size=2000):
        if count == EXPORT_LIMIT:
            truncated = True
            break
        (kind, prj_num, title, number, org, credit, division, step, revision, submitted, due, decided) = row[
            :12
        ]
        outcome, reason, level, correction_id = row[12:]
        line = [
            str(labels.get(kind, kind)),
            prj_num,
            title,
            number,
            org,
            credit,
            divisions.get(division, division),
            step,
            revision,
            _local(submitted),
        ]
        if done:
            # Reviewed records are all entered in this campaign: 历史业绩补录 (§2.11).
            line += [
                _local(decided),
                str(outcomes.get(outcome, outcome)),
                reason,
                level,
                DATA_SOURCE_CAMPAIGN,
            ]
        else:
            line += [_local(due), "是" if due and due < now else "否"]
        line.append("是" if correction_id else "否")
        ws.append(spreadsheets.text_cells(ws, line))
        count += 1
    if truncated:
        ws.append([])
        ws.append(
            [
                f"注：符合条件的记录超过 {EXPORT_LIMIT} 条，仅导出前 {EXPORT_LIMIT} 条，请缩小筛选范围后分批导出。"
            ]
        )
    buffer = BytesIO()
    wb.save(buffer)
    return Export(content=buffer.getvalue(), rows=count, truncated=truncated)
