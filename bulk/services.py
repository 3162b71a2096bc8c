"""Bulk entry's writes: keep a checked workbook, apply it as drafts, submit its valid rows.

Every record is created or updated by the kind's own entry service (projects.services), which locks,
checks the notice's rules again, validates and audits it, exactly as when the form is saved; each
row in its own savepoint, so one refused row leaves the others. Submission is projects.services.
record_submit, one transaction per record (the exchange's pre-flight included), each reported.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from bulk import plan as planning
from bulk import sheets
from bulk.models import BulkUpload
from projects import rules, services, workflow
from projects.models import RecordKind
from yunjian.core import audit
from yunjian.core.models import AuditEntry

KINDS = (RecordKind.TENDER_CONTRACT, RecordKind.COMPLETION)


class Conflict(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def refusal(user, kind: str) -> str:
    """Why `user` may not enter records of `kind` in bulk ("" when allowed): the kind's enterers."""
    if kind not in KINDS:
        return "该类信息暂不支持批量录入。"
    return rules.entry_refusal(user, kind)


def upload_check(*, actor, kind: str, content: bytes, filename: str, ip: str | None = None) -> BulkUpload:
    """Read and check a workbook (raises sheets.BulkFileError for an unreadable one, nothing kept)
    and keep its rows with their plan for the preview."""
    problem = refusal(actor, kind)
    if problem:
        raise PermissionDenied(problem)
    rows = sheets.read_workbook(content, filename, kind, actor.organization)
    plan = planning.plan_rows(actor, kind, rows)
    with transaction.atomic():
        upload = BulkUpload.objects.create(
            kind=kind,
            owner_org=actor.organization,
            uploaded_by=actor,
            filename=filename[:200],
            sha256=hashlib.sha256(content).hexdigest(),
            rows=rows,
            plan=[r.as_json() for r in plan],
        )
        audit.record(
            action=AuditEntry.Action.IMPORT,
            actor=actor,
            obj=upload,
            to_state=upload.status,
            data={
                "kind": kind,
                "file": upload.filename,
                "sha256": upload.sha256,
                "rows": len(rows),
                "counts": upload.counts(),
            },
            ip=ip,
        )
    return upload


def _lock(actor, upload_id: int) -> BulkUpload:
    upload = BulkUpload.objects.select_for_update().get(pk=upload_id)
    if upload.owner_org_id != actor.organization_id or refusal(actor, upload.kind):
        raise PermissionDenied("只有上传该文件的单位的填报人员可以导入该文件。")
    return upload


def _messages(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return [str(m) for messages in exc.message_dict.values() for m in messages]
        return [str(m) for m in exc.messages]
    return [str(getattr(exc, "message", "") or exc)]


def apply_upload(*, actor, upload_id: int, ip: str | None = None) -> BulkUpload:
    """Create (or update) a draft for every valid row, checked again against today's records."""
    with transaction.atomic():
        upload = _lock(actor, upload_id)
        if upload.status != BulkUpload.Status.CHECKED:
            raise Conflict("该文件已导入，不能重复导入；如需修改请重新上传。")
        cols = {c.name: c for c in sheets.columns(upload.kind, actor.organization)}
        rows = planning.plan_rows(actor, upload.kind, upload.rows)
        save = (
            services.tender_contract_save
            if upload.kind == RecordKind.TENDER_CONTRACT
            else services.completion_save
        )
        key = "contract_id" if upload.kind == RecordKind.TENDER_CONTRACT else "completion_id"
        for row in rows:
            if row.status not in (planning.CREATE, planning.UPDATE):
                continue
            try:
                with transaction.atomic():
                    record = save(
                        actor=actor,
                        project_id=row.project_id,
                        data=row.data,
                        submit=False,
                        ip=ip,
                        **{key: row.record_id},
                    )
            except (ValidationError, PermissionDenied, services.Conflict) as exc:
                if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
                    for name, messages in exc.message_dict.items():
                        for message in messages:
                            row.refuse(planning._where(cols, name), message)
                else:
                    for message in _messages(exc):
                        row.refuse("", message)
                continue
            row.record_id = record.pk
        upload.plan = [r.as_json() for r in rows]
        upload.status = BulkUpload.Status.APPLIED
        upload.applied_at = timezone.now()
        upload.save(update_fields=["plan", "status", "applied_at"])
        audit.record(
            action=AuditEntry.Action.IMPORT,
            actor=actor,
            obj=upload,
            from_state=BulkUpload.Status.CHECKED,
            to_state=upload.status,
            data={"counts": upload.counts()},
            ip=ip,
        )
        return upload


def submit_upload(*, actor, upload_id: int, ip: str | None = None) -> BulkUpload:
    """Submit every draft the workbook created or updated, each in its own transaction
    (projects.services.record_submit: completeness, the exchange's pre-flight, the reviewers' inbox),
    and note each one's result on its row."""
    with transaction.atomic():
        upload = _lock(actor, upload_id)
        if upload.status != BulkUpload.Status.APPLIED:
            raise Conflict("请先导入为草稿，再提交审核；已提交的文件不能重复提交。")
        todo = [
            (index, row["record_id"])
            for index, row in enumerate(upload.plan)
            if row["status"] in (planning.CREATE, planning.UPDATE) and row.get("record_id")
        ]
        # Claimed before the submissions start: a second click finds it submitted.
        upload.status = BulkUpload.Status.SUBMITTED
        upload.submitted_at = timezone.now()
        upload.save(update_fields=["status", "submitted_at"])
    results: dict[int, tuple[bool, list[str]]] = {}
    for index, record_id in todo:
        try:
            services.record_submit(actor=actor, kind=upload.kind, record_id=record_id, ip=ip)
        except (ValidationError, PermissionDenied, services.Conflict) as exc:
            results[index] = (False, _messages(exc))
        else:
            results[index] = (True, [])
    with transaction.atomic():
        upload = _lock(actor, upload_id)
        for index, (ok, messages) in results.items():
            upload.plan[index]["submitted"] = ok
            upload.plan[index]["submit_errors"] = messages
        upload.save(update_fields=["plan"])
        audit.record(
            action=AuditEntry.Action.SUBMIT,
            actor=actor,
            obj=upload,
            from_state=BulkUpload.Status.APPLIED,
            to_state=upload.status,
            data={
                "submitted": sum(ok for ok, _ in results.values()),
                "refused": sum(not ok for ok, _ in results.values()),
            },
            ip=ip,
        )
        return upload


def label(kind: str) -> str:
    return workflow.KINDS[kind].label
