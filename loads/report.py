"""The result report of a load as .xlsx: the counts, every refused or conflicting row, new organisations."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from loads.engine import STATUS_LABELS, STATUSES
from loads.models import LoadIssue, LoadJob

BOLD = Font(bold=True)


def report_workbook(job: LoadJob) -> bytes:
    workbook = Workbook(write_only=True)
    summary = workbook.create_sheet("汇总")
    summary.append([f"存量数据导入#{job.pk}", job.get_status_display()])
    summary.append(["文件", "数据表", "行数", "SHA-256"])
    for load_file in job.files.order_by("position"):
        summary.append([load_file.name, load_file.table, load_file.rows, load_file.sha256])
    summary.append([])
    counts = job.apply_counts if job.status == LoadJob.Status.DONE else job.check_counts
    summary.append(["结果", "行数"])
    for status in STATUSES:
        summary.append([STATUS_LABELS[status], counts.get(status, 0)])
    phase = LoadIssue.Phase.APPLY if job.status == LoadJob.Status.DONE else LoadIssue.Phase.CHECK
    issues = workbook.create_sheet("错误与冲突")
    issues.append(["文件", "行号", "数据表", "编号", "结果", "列", "错误说明", "系统中的值", "文件中的值"])
    rows = (
        LoadIssue.objects.filter(job=job, phase__in=[LoadIssue.Phase.CHECK, phase])
        .select_related("file")
        .order_by("file__position", "row", "id")
    )
    seen: set[tuple[int, int]] = set()
    for issue in rows.iterator(chunk_size=2000):
        key = (issue.file_id, issue.row)
        if key in seen:
            continue
        seen.add(key)
        base = [
            issue.file.name,
            issue.row,
            issue.table,
            issue.number,
            STATUS_LABELS.get(issue.status, issue.status),
        ]
        for error in issue.errors:
            issues.append([*base, error["column"], error["message"], "", ""])
        for difference in issue.differences:
            issues.append(
                [
                    *base,
                    difference["column"],
                    "与系统中的值不同，未覆盖",
                    difference["ours"],
                    difference["theirs"],
                ]
            )
    orgs = workbook.create_sheet("新建单位（未核实）")
    orgs.append(["统一社会信用代码", "单位名称", "单位类型"])
    for org in job.new_orgs:
        orgs.append([org["credit_code"], org["name"], org.get("kind", "")])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
