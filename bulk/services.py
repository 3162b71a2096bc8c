"""Bulk entry's writes: keep a checked workbook, apply it as drafts, submit its valid rows.

Applying checks every row again as the entry services do (the rules of projects.rules and the
entry form's validation, bulk.plan) under the same number locks, then writes the drafts in bulk, each
audited. Submission is projects.services.record_submit, one transaction per record (the
completeness check and the exchange's pre-flight included), each reported.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from bulk import plan as planning
from bulk import sheets
from bulk.models import BulkUpload
from projects import rules, services, workflow
from projects.models import RecordKind
from yunjian.core import audit
from yunjian.core.models import AuditEntry
from yunjian.core.validators import normalize_text

KINDS = (RecordKind.TENDER_CONTRACT, RecordKind.COMPLETION, RecordKind.SPECIALTY_INFO, RecordKind.PERMIT)
# Written in bulk (thousands of rows a workbook); the others through their entry service row by row.
BULK_WRITTEN = (RecordKind.TENDER_CONTRACT, RecordKind.COMPLETION)


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


def _lock_numbers(kind: str, rows: list[dict]) -> None:
    """The advisory locks projects.services._check_numbers takes for one record, for every document
    number of the workbook in one statement (sorted: two workbooks take them in the same order). A
    form saving the same number at the same moment waits, then sees the rows written here."""
    model = workflow.KINDS[kind].model
    keys = sorted(
        {
            f"{kind}:{name}:{normalize_text(row['cells'][name])}"
            for row in rows
            for name in rules.UNIQUE_NUMBERS.get(model, ())
            if row["cells"].get(name)
        }
    )
    if keys and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_advisory_xact_lock(hashtext(k))) FROM unnest(%s::text[]) AS k", [keys]
            )


def _assign(record, data: dict) -> list[str]:
    """Set the row's values on the record (as projects.services does); the names that changed."""
    changed = []
    for name, value in data.items():
        field = record._meta.get_field(name)
        current = getattr(record, field.attname)
        new = value.pk if field.is_relation and value is not None else value
        if current != new:
            setattr(record, name, value)
            changed.append(name)
    return changed


def apply_upload(*, actor, upload_id: int, ip: str | None = None) -> BulkUpload:
    """Create a draft for every valid row, or update the enterprise's draft of it, checked again
    under the number locks against today's records.

    The checks are the entry services' (projects.services.tender_contract_save, completion_save):
    the same rule functions (projects.rules) and the entry form's validation, run by bulk.plan for
    all rows from one query per kind of lookup; the writes are one INSERT and one UPDATE for all
    rows, with one audit entry per record (a record per service call would take 10 queries a row,
    a minute for 5,000 rows). Drafts make nobody a party of a project: that comes on approval.
    """
    with transaction.atomic():
        upload = _lock(actor, upload_id)
        if upload.status != BulkUpload.Status.CHECKED:
            raise Conflict("该文件已导入，不能重复导入；如需修改请重新上传。")
        model = workflow.KINDS[upload.kind].model
        _lock_numbers(upload.kind, upload.rows)
        rows = planning.plan_rows(actor, upload.kind, upload.rows)
        # Only rows the enterprise saw as valid are written: one refused in the preview stays
        # refused (with the reasons it was shown), even if the records changed since.
        previewed = {r["row"]: r for r in upload.plan}
        for row in rows:
            shown = previewed.get(row.row)
            if shown is not None and shown["status"] == planning.ERROR and row.status != planning.ERROR:
                row.status, row.errors = planning.ERROR, [tuple(e) for e in shown["errors"]]
        if upload.kind not in BULK_WRITTEN:
            return _apply_each(actor, upload, rows, ip)
        updates = {r.record_id: r for r in rows if r.status == planning.UPDATE}
        locked = (
            model.objects.select_for_update(of=("self",)).select_related("project").in_bulk(list(updates))
        )
        now = timezone.now()
        entries, changed_records = [], []
        for record_id, row in updates.items():
            record = locked.get(record_id)
            if record is None or not services.can_edit(actor, record):
                row.refuse("", "该记录已提交审核或已由他人处理，不能再更新；请刷新后查看。")
                continue
            changed = _assign(record, row.data)
            if not changed:
                continue  # the same row uploaded again: nothing to write
            record.lock_version += 1
            record.updated_at = now
            changed_records.append(record)
            entries.append((AuditEntry.Action.UPDATE, record, changed))
        if changed_records:
            fields = {name for _, _, changed in entries for name in changed}
            model.objects.bulk_update(
                changed_records, [*sorted(fields), "lock_version", "updated_at"], batch_size=100
            )
        created = []
        for row in rows:
            if row.status != planning.CREATE:
                continue
            record = model(
                project_id=row.project_id, owner_org=actor.organization, entered_by=actor, lock_version=1
            )
            created.append((row, record, _assign(record, row.data)))
        model.objects.bulk_create([record for _, record, _ in created], batch_size=1000)
        for row, record, changed in created:
            row.record_id = record.pk
            entries.append((AuditEntry.Action.CREATE, record, changed))
        audit.record_many(
            [
                audit.entry_for(
                    action=action,
                    actor=actor,
                    obj=record,
                    to_state=record.state,
                    data={"fields": changed, "bulk_upload": upload.pk},
                    ip=ip,
                )
                for action, record, changed in entries
            ]
        )
        upload.plan = [r.as_json() for r in rows]
        upload.status = BulkUpload.Status.APPLIED
        upload.applied_at = now
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


def _apply_each(actor, upload: BulkUpload, rows: list, ip: str | None) -> BulkUpload:
    """Each valid row through its kind's entry service, in its own savepoint: a direct specialty
    project's basic info creates its project (projects.services.specialty_info_save), a permit is
    saved on its drawing reviews (projects.services.permit_save)."""
    cols = {c.name: c for c in sheets.columns(upload.kind, actor.organization)}
    for row in rows:
        if row.status not in (planning.CREATE, planning.UPDATE):
            continue
        try:
            with transaction.atomic():
                record = _save_one(actor, upload.kind, row, ip)
        except (ValidationError, PermissionDenied, services.Conflict) as exc:
            if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
                for name, messages in exc.message_dict.items():
                    for message in messages:
                        row.refuse(planning.where(cols, name), message)
            else:
                for message in _messages(exc):
                    row.refuse("", message)
            continue
        row.record_id, row.project_id = record.pk, record.project_id
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


def _save_one(actor, kind: str, row, ip: str | None):
    if kind == RecordKind.PERMIT:
        # A draft (the page submits a finished permit on entry; here "submit every valid row" does).
        return services.permit_save(
            actor=actor,
            drawing_review_ids=row.data["review_ids"],
            data=row.data["data"],
            permit_id=row.record_id,
            submit=False,
            ip=ip,
        )
    return services.specialty_info_save(
        actor=actor,
        prj_num=row.data["prj_num"],
        info_id=row.record_id,
        project_data=row.data["project_data"],
        data=row.data["data"],
        submit=False,
        ip=ip,
    )


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
