"""The workflow's write services: submit, approve, return. Each one, in one transaction:
row lock → permission check → fsm transition → audit entry → side effects (outbox rows in the
same transaction; anything slow on commit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition, has_transition_perm

from projects import rules, snapshots
from projects.models import (
    RECORD_MODELS,
    ConstructionPermit,
    DrawingReview,
    DrawingReviewAdditionRequest,
    ReviewableRecord,
    Round,
    State,
)
from review import workflow
from review.models import StageDeadline, Task
from yunjian.core import audit
from yunjian.core.models import AuditEntry

DEFAULT_WORKING_DAYS = 5


class Conflict(Exception):
    """The record changed or was decided since the actor looked at it; nothing was changed."""

    def __init__(
        self, message: str = "该记录在您打开页面后已被修改或已由他人处理，请刷新页面查看最新内容后再操作。"
    ):
        super().__init__(message)
        self.message = message


def lock_record(kind: str, record_id: int) -> ReviewableRecord:
    """Return the record with a row lock held until the end of the transaction (404-free: raises DoesNotExist)."""
    model = RECORD_MODELS[kind]
    return model.objects.select_for_update(of=("self",)).select_related("project").get(pk=record_id)


def add_working_days(start: datetime, days: int) -> datetime:
    """Return the end of the `days`-th working day (Mon-Fri) after `start`, in local time."""
    local = timezone.localtime(start).date()
    remaining = days
    while remaining > 0:
        local += timedelta(days=1)
        if local.weekday() < 5:
            remaining -= 1
    return timezone.make_aware(datetime.combine(local, time(23, 59, 59)))


def _deadline_days(key: str) -> int:
    row = StageDeadline.objects.filter(key=key).values_list("working_days", flat=True).first()
    return row if row is not None else DEFAULT_WORKING_DAYS


def _record_county(record: ReviewableRecord) -> str:
    """The county a non-roster step is filed under, so every inbox can filter by division."""
    if record.project_id:
        return record.project.county_id
    return getattr(record, "county_id", None) or ""


def open_task(record: ReviewableRecord) -> Task:
    """Open the inbox row for the record's current step."""
    step = workflow.current_step(record)
    now = timezone.now()
    project = record.project if record.project_id else None
    return Task.objects.create(
        kind=record.KIND,
        record_id=record.pk,
        revision=record.revision,
        step=record.step,
        step_label=step.label,
        performer=step.performer,
        stage=step.stage,
        division_code=workflow.jurisdiction_code(record, step) or _record_county(record),
        assignee_org_id=workflow.step_assignee_org_id(record, step),
        project=project,
        owner_org_id=record.owner_org_id,
        title=project.name if project else getattr(record, "project_name", ""),
        prj_num=project.prj_num if project else getattr(record, "prj_num", ""),
        number=record.number or "",
        submitted_at=now,
        due_at=add_working_days(now, _deadline_days(step.stage or step.performer)),
    )


@transaction.atomic
def record_submit(*, actor, kind: str, record_id: int, ip: str | None = None) -> ReviewableRecord:
    """Submit a draft or returned record for review. Enterer's organization only.

    Raises PermissionDenied, ValidationError (incomplete record) or Conflict.
    """
    record = lock_record(kind, record_id)
    if record.state not in (State.DRAFT, State.RETURNED):
        raise Conflict("该记录已提交审核，不能重复提交。")
    if not has_transition_perm(record.submit, actor):
        raise PermissionDenied("只有录入单位的填报人员可以提交该记录。")
    rules.check_ready_to_submit(record)
    old_state = record.state
    record.submit()
    record.entered_by_id = record.entered_by_id or actor.pk
    record.save()
    data = snapshots.snapshot(record)
    Round.objects.create(
        kind=kind, record_id=record.pk, revision=record.revision, data=data, submitted_by=actor
    )
    open_task(record)
    audit.record(
        action=AuditEntry.Action.SUBMIT,
        actor=actor,
        obj=record,
        from_state=old_state,
        to_state=record.state,
        step=record.step,
        data={"revision": record.revision, "snapshot": data},
        ip=ip,
    )
    return record


@transaction.atomic
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
    record = lock_record(kind, record_id)
    if record.state != State.IN_REVIEW or (lock_version is not None and record.lock_version != lock_version):
        raise Conflict()
    if not has_transition_perm(record.approve, actor):
        raise PermissionDenied("您不是该记录当前审核环节的审核人员。")
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ValidationError({"reason": "退回时必须填写退回原因。"})
    if approve and isinstance(record, DrawingReviewAdditionRequest):
        _check_addition_request(record)
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
            record.approve()
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
    return record


def _check_addition_request(request: DrawingReviewAdditionRequest) -> None:
    """Approving creates the drawing review: say so in Chinese, rather than fail on the unique number,
    when one with that certificate number has appeared since the request was filed."""
    if DrawingReview.objects.filter(censor_num=request.censor_num).exists():
        raise ValidationError(
            {
                "__all__": f"系统中已有合格书编号为“{request.censor_num}”的施工图审查信息，不能重复新增，"
                "请退回该申请并说明原因。"
            }
        )


def _on_approved(record: ReviewableRecord, actor) -> None:
    """What the final approval of each kind of record sets off, inside the same transaction."""
    from projects import services as project_services
    from sync import services as sync_services

    if isinstance(record, DrawingReviewAdditionRequest):
        project_services.create_review_from_request(request=record, actor=actor)
        return
    if isinstance(record, ConstructionPermit):
        project = record.project
        if project.permit_approved_at is None:
            project.permit_approved_at = timezone.now()
            project.save(update_fields=["permit_approved_at", "updated_at"])
    sync_services.enqueue_for_approval(record)


@dataclass
class BulkResult:
    record_id: int
    ok: bool
    message: str


def bulk_approve(
    *, actor, kind: str, items: list[tuple[int, int | None]], ip: str | None = None
) -> list[BulkResult]:
    """Approve several records, each in its own transaction; report each one's outcome."""
    results = []
    for record_id, lock_version in items:
        try:
            record_decide(
                actor=actor, kind=kind, record_id=record_id, approve=True, lock_version=lock_version, ip=ip
            )
        except Conflict as exc:
            results.append(BulkResult(record_id, False, exc.message))
        except PermissionDenied as exc:
            results.append(BulkResult(record_id, False, str(exc) or "无权审核该记录。"))
        except ValidationError as exc:
            results.append(BulkResult(record_id, False, "；".join(exc.messages)))
        except RECORD_MODELS[kind].DoesNotExist:
            results.append(BulkResult(record_id, False, "记录不存在。"))
        else:
            results.append(BulkResult(record_id, True, "审核通过"))
    return results
