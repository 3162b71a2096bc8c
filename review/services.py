"""The workflow's write services: approve and return (submission is projects.services.record_submit).
Each one, in one transaction: row lock → permission check (review.jurisdiction) → fsm transition →
audit entry → side effects (hooks whose receivers write in the same transaction; anything slow on commit).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_fsm import ConcurrentTransition

from projects import snapshots, workflow
from projects.access import load_record
from projects.models import ReviewableRecord, State
from projects.services import Conflict, lock_record
from review import jurisdiction
from review.access import can_view_record
from review.hooks import record_approved, record_decided
from review.models import StageDeadline, Task
from review.workdays import add_working_days, deadline
from yunjian.core import audit
from yunjian.core.models import AuditEntry

__all__ = ["Conflict", "add_working_days", "bulk_approve", "open_task", "record_decide"]

DEFAULT_WORKING_DAYS = 5


def _deadline_days(key: str) -> int:
    row = StageDeadline.objects.filter(key=key).values_list("working_days", flat=True).first()
    return row if row is not None else DEFAULT_WORKING_DAYS


def open_task(record: ReviewableRecord) -> Task:
    """Open the inbox row for the record's current step, filed under its post (review.jurisdiction)."""
    step = workflow.current_step(record)
    post = jurisdiction.post_of(record, step)
    now = timezone.now()
    due = deadline(now, _deadline_days(step.stage or step.performer))
    project = record.project if record.project_id else None
    return Task.objects.create(
        kind=record.KIND,
        record_id=record.pk,
        revision=record.revision,
        step=step.key,
        step_label=step.label,
        performer=post.performer,
        stage=post.stage,
        division_code=post.division_code,
        zone=post.zone,
        assignee_org_id=post.assignee_org_id,
        project=project,
        owner_org_id=record.owner_org_id,
        title=project.name if project else getattr(record, "project_name", ""),
        prj_num=project.prj_num if project else getattr(record, "prj_num", ""),
        number=record.number or "",
        submitted_at=now,
        due_at=due.due_at,
        due_note=due.note,
    )


def open_first_task(sender, *, record: ReviewableRecord, **kwargs) -> None:
    """Receiver of projects.hooks.record_submitted (connected in review.apps)."""
    open_task(record)


def record_decide(
    *,
    actor,
    kind: str,
    record_id: int,
    approve: bool,
    lock_version: int | None,
    reason: str = "",
    fields: list[str] | tuple[str, ...] = (),
    ip: str | None = None,
) -> ReviewableRecord:
    """Approve (认定) or return (退回) the current step of a record.

    `lock_version` is the version the reviewer saw; if the record changed since, Conflict.
    A return needs a reason. Raises PermissionDenied, ValidationError or Conflict; changes
    nothing when it raises.
    """
    with transaction.atomic():
        record = lock_record(kind, record_id)
        if record.state != State.IN_REVIEW or (
            lock_version is not None and record.lock_version != lock_version
        ):
            raise Conflict()
        if not jurisdiction.can_decide(actor, record):
            raise PermissionDenied("您不是该记录当前审核环节的审核人员。")
        reason = (reason or "").strip()
        if not approve and not reason:
            raise ValidationError({"reason": "退回时必须填写退回原因。"})
        if approve:
            problems = record.approval_problems()
            if problems:
                raise ValidationError(problems)
        known = set(snapshots.field_labels(record))
        fields = [f for f in fields if f in known]
        task = (
            Task.objects.select_for_update()
            .filter(kind=kind, record_id=record.pk, status=Task.Status.OPEN)
            .first()
        )
        old_state, old_step = record.state, record.step
        try:
            if approve:
                record.approve(next_step=workflow.next_step_key(record))
            else:
                record.send_back(reason=reason, fields=fields)
            record.save()
        except ConcurrentTransition as exc:  # backstop behind the row lock
            raise Conflict() from exc
        now = timezone.now()
        if task is not None:
            task.status = Task.Status.DONE
            task.decided_by = actor
            task.decided_at = now
            task.outcome = Task.Outcome.APPROVED if approve else Task.Outcome.RETURNED
            task.reason = reason
            task.save(update_fields=["status", "decided_by", "decided_at", "outcome", "reason"])
        if record.state == State.IN_REVIEW:
            open_task(record)
        elif record.state == State.APPROVED:
            _on_approved(record, actor)
        audit.record(
            action=AuditEntry.Action.APPROVE if approve else AuditEntry.Action.RETURN,
            actor=actor,
            obj=record,
            from_state=old_state,
            to_state=record.state,
            step=old_step,
            reason=reason,
            data={"revision": record.revision, "fields": fields} if fields else {"revision": record.revision},
            ip=ip,
        )
        record_decided.send(sender=type(record), record=record, actor=actor, approved=approve, reason=reason)
        return record


def _on_approved(record: ReviewableRecord, actor) -> None:
    """What the final approval sets off, inside the same transaction: the kind's own effect in the
    records layer (KINDS[kind].on_approved), then `record_approved`, which the sync layer subscribes
    to (it writes the outbox rows the approval makes due)."""
    spec = workflow.kind_of(record)
    if spec.on_approved:
        import_string(spec.on_approved)(record=record, actor=actor)
    record_approved.send(sender=type(record), record=record, actor=actor)


@dataclass
class BulkResult:
    record_id: int
    ok: bool
    message: str
    # Whether the actor may see the record (review.access): the result page names only those.
    visible: bool = True


OUT_OF_REACH = "该记录不存在或不在您的审核范围内。"


def bulk_approve(
    *, actor, kind: str, items: list[tuple[int, int | None]], ip: str | None = None
) -> list[BulkResult]:
    """Approve several records, each in its own transaction; report each one's outcome.

    A record the actor may not see gets one answer, whether it exists or not and whatever its
    state: the result says nothing about records outside the actor's jurisdiction.
    """
    results = []
    for record_id, lock_version in items:
        try:
            record_decide(
                actor=actor, kind=kind, record_id=record_id, approve=True, lock_version=lock_version, ip=ip
            )
        except (Conflict, PermissionDenied, ValidationError, workflow.KINDS[kind].model.DoesNotExist) as exc:
            if not _visible(actor, kind, record_id):
                results.append(BulkResult(record_id, False, OUT_OF_REACH, visible=False))
            elif isinstance(exc, Conflict):
                results.append(BulkResult(record_id, False, exc.message))
            elif isinstance(exc, ValidationError):
                results.append(BulkResult(record_id, False, "；".join(exc.messages)))
            else:
                results.append(BulkResult(record_id, False, str(exc) or "无权审核该记录。"))
        else:
            results.append(BulkResult(record_id, True, "审核通过"))
    return results


def _visible(actor, kind: str, record_id: int) -> bool:
    record = load_record(kind, record_id)
    return record is not None and can_view_record(actor, record)
