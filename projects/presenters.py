"""Plain data for the record pages: fields with labels, the timeline, the attachments.

Views pass these to templates, which then need no queries and no permission checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from projects.models import Attachment, Project, ReviewableRecord
from projects.snapshots import carries_project, display_value
from yunjian.core.models import AuditEntry


@dataclass(frozen=True)
class FieldRow:
    key: str
    label: str
    value: str
    flagged: bool = False


def record_fields(record: ReviewableRecord) -> list[FieldRow]:
    flagged = set(record.return_fields or [])
    rows = [
        FieldRow(
            name, str(record._meta.get_field(name).verbose_name), display_value(record, name), name in flagged
        )
        for name in record.SNAPSHOT_FIELDS
    ]
    return rows


def project_fields(record: ReviewableRecord) -> list[FieldRow]:
    if not carries_project(record) or not record.project_id:
        return []
    flagged = set(record.return_fields or [])
    project = record.project
    return [
        FieldRow(
            f"project.{name}",
            str(Project._meta.get_field(name).verbose_name),
            display_value(project, name),
            f"project.{name}" in flagged,
        )
        for name in ("prj_num", *Project.BASIC_INFO_FIELDS)
    ]


TIMELINE_ACTIONS = (
    AuditEntry.Action.CREATE,
    AuditEntry.Action.UPDATE,
    AuditEntry.Action.SUBMIT,
    AuditEntry.Action.APPROVE,
    AuditEntry.Action.RETURN,
    AuditEntry.Action.REVOKE,
    AuditEntry.Action.SYNC,
)


def timeline(record: ReviewableRecord) -> list[AuditEntry]:
    """Every submission, decision and reason on the record, oldest first, with who and when."""
    return list(
        AuditEntry.objects.filter(
            object_type=record.AUDIT_TYPE, object_id=str(record.pk), action__in=TIMELINE_ACTIONS
        )
        .select_related("actor", "actor_org")
        .order_by("at", "id")
    )


def attachments(record: ReviewableRecord) -> list[Attachment]:
    return list(
        Attachment.objects.filter(kind=record.KIND, record_id=record.pk)
        .select_related("uploaded_by")
        .order_by("-revision", "id")
    )
