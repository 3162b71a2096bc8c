"""更正 (issue 18), the reviewers' side: a correction of an approved record reviewed by the record's own
chain (projects.workflow.correction_chain) and, once its last step approves it, applied to the record
as its next version. The enterer's side is projects.corrections.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition

from projects import corrections, workflow
from projects.models import Correction, ReviewableRecord, State
from projects.services import Conflict, lock_record
from review import jurisdiction
from review.hooks import correction_decided, record_corrected
from review.models import Task
from review.services import open_task
from yunjian.core import audit
from yunjian.core.models import AuditEntry

__all__ = ["can_decide_correction", "correction_decide", "end_open_correction", "open_correction_task"]


def correction_step(record: ReviewableRecord, correction: Correction):
    return next((s for s in workflow.correction_chain(record) if s.key == correction.step), None)


def open_correction_task(sender, *, correction: Correction, record: ReviewableRecord, **kwargs) -> Task:
    """Receiver of projects.hooks.correction_submitted (connected in review.apps)."""
    return open_task(record, step=correction_step(record, correction), correction=correction)


def can_decide_correction(user, record: ReviewableRecord, correction: Correction) -> bool:
    """Whether `user` approves or returns the correction now: in review, at a step of the record's chain
    they perform (the same rule as the record's own rounds), the record still approved."""
    if correction.status != Correction.Status.IN_REVIEW or record.state != State.APPROVED:
        return False
    step = correction_step(record, correction)
    return step is not None and jurisdiction.performs(user, record, step)


def correction_decide(
    *,
    actor,
    correction_id: int,
    approve: bool,
    lock_version: int | None,
    reason: str = "",
    ip: str | None = None,
) -> Correction:
    """Approve or return the current step of a correction.

    Row locks (the record, then the correction) → the correction in review, not changed since it was
    shown, the record still approved → permission (the step's performer) → a return needs a reason →
    fsm transition → the inbox row closed (the next step's opened) → on the final approval: the new
    values on the record (the values replaced kept in `before`), its `version` the correction's, its
    数据等级 from who approved (review.jurisdiction.approval_level), the record's audit entry and
    `record_corrected`, on which sync queues the next version in this transaction → the correction's
    audit entry. Raises PermissionDenied, ValidationError or Conflict; changes nothing when it raises.
    """
    reason = (reason or "").strip()
    with transaction.atomic():
        head = Correction.objects.filter(pk=correction_id).values("kind", "record_id").first()
        if head is None:
            raise Correction.DoesNotExist
        record = lock_record(head["kind"], head["record_id"])
        correction = Correction.objects.select_for_update().get(pk=correction_id)
        if correction.status != Correction.Status.IN_REVIEW or (
            lock_version is not None and correction.lock_version != lock_version
        ):
            raise Conflict()
        if record.state != State.APPROVED:
            raise Conflict("该记录已撤销认定，更正申请已终止。")
        step = correction_step(record, correction)
        if step is None or not jurisdiction.performs(actor, record, step):
            raise PermissionDenied("您不是该更正申请当前审核环节的审核人员。")
        if not approve and not reason:
            raise ValidationError({"reason": "退回时必须填写退回原因。"})
        task = (
            Task.objects.select_for_update()
            .filter(
                kind=record.KIND, record_id=record.pk, status=Task.Status.OPEN, correction_id=correction.pk
            )
            .first()
        )
        old_status, old_step = correction.status, correction.step
        try:
            if approve:
                next_key = workflow.correction_next_step_key(record, correction.step)
                correction.approve(next_step=next_key)
            else:
                correction.send_back(reason=reason)
        except ConcurrentTransition as exc:  # backstop behind the row lock
            raise Conflict() from exc
        now = timezone.now()
        applied = correction.status == Correction.Status.APPROVED
        if applied:
            correction.data_level = jurisdiction.approval_level(actor, record, step)
            correction.decided_by = actor
            correction.decided_at = now
        elif not approve:
            correction.decided_by = actor
            correction.decided_at = now
        correction.save()
        if task is not None:
            task.status = Task.Status.DONE
            task.decided_by = actor
            task.decided_at = now
            task.outcome = Task.Outcome.APPROVED if approve else Task.Outcome.RETURNED
            task.reason = reason
            task.data_level = correction.data_level if applied else ""
            task.save(update_fields=["status", "decided_by", "decided_at", "outcome", "reason", "data_level"])
        if correction.status == Correction.Status.IN_REVIEW:
            open_task(record, step=correction_step(record, correction), correction=correction)
        if applied:
            _apply(record, correction, actor, ip)
        audit.record(
            action=AuditEntry.Action.APPROVE if approve else AuditEntry.Action.RETURN,
            actor=actor,
            object_type="correction",
            object_id=correction.pk,
            from_state=old_status,
            to_state=correction.status,
            step=old_step,
            reason=reason,
            data={
                "kind": record.KIND,
                "record": record.pk,
                "revision": correction.revision,
                **({"version": correction.version, "data_level": correction.data_level} if applied else {}),
            },
            ip=ip,
        )
        if applied or not approve:
            correction_decided.send(
                sender=type(record),
                record=record,
                correction=correction,
                actor=actor,
                approved=approve,
                reason=reason,
            )
        return correction


def _apply(record: ReviewableRecord, correction: Correction, actor, ip) -> None:
    """The approved correction becomes the record's version in force (inside correction_decide)."""
    fields = list(correction.changes)
    correction.before = {
        name: corrections.dump_value(record, name, corrections.current_value(record, name)) for name in fields
    }
    correction.save(update_fields=["before"])
    old_version, old_level = record.version, record.data_level
    corrections.apply_changes(record, correction.changes)
    record.version = correction.version
    record.data_level = correction.data_level
    record.save()
    audit.record(
        action=AuditEntry.Action.UPDATE,
        actor=actor,
        obj=record,
        to_state=record.state,
        reason=f"更正生效：第{old_version}版 → 第{record.version}版。{correction.reason}",
        data={
            "correction": correction.pk,
            "from_version": old_version,
            "version": record.version,
            "fields": fields,
            "data_level": {"from": old_level, "to": record.data_level},
        },
        ip=ip,
    )
    record_corrected.send(sender=type(record), record=record, correction=correction, actor=actor)


def end_open_correction(record: ReviewableRecord, *, actor, ip=None) -> Correction | None:
    """A revocation (撤销认定) ends the record's open correction: withdrawn, its inbox row cancelled
    (inside review.services.record_revoke, which holds the record's row lock)."""
    correction = (
        Correction.objects.select_for_update()
        .filter(kind=record.KIND, record_id=record.pk, status__in=Correction.OPEN)
        .first()
    )
    if correction is None:
        return None
    Task.objects.filter(
        kind=record.KIND, record_id=record.pk, status=Task.Status.OPEN, correction_id=correction.pk
    ).update(status=Task.Status.CANCELLED)
    return corrections.end(correction, actor=actor, reason="记录被撤销认定，更正申请终止", ip=ip)
