"""更正 (issue 18), the enterer's side: asking to correct an approved record (projects.models.Correction).

The proposed values are entered in the record's own entry form and kept on the Correction as JSON
(`changes`): the approved record is not touched, so its pages, lists, exports, 业绩 and the platform
keep showing the approved version until a reviewer approves the correction
(review.corrections.correction_decide applies it). Submitting opens a new round of the record's own
chain (projects.workflow.correction_chain) through `projects.hooks.correction_submitted`.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model

from projects import rules, snapshots, workflow
from projects.hooks import correction_submitted
from projects.models import Correction, ReviewableRecord, State
from projects.services import Conflict, lock_record
from yunjian.core import audit, crypto, organizations
from yunjian.core.fields import EncryptedIDNumberField
from yunjian.core.models import AuditEntry

__all__ = [
    "apply_changes",
    "changes_from_form",
    "correctable_fields",
    "correction_diff",
    "correction_save",
    "correction_withdraw",
    "open_correction",
]

NOTHING_CHANGED = "更正内容与已认定的版本相同，没有需要更正的字段。"


def correctable_fields(record: ReviewableRecord) -> tuple[str, ...]:
    """The record's own fields a correction may change: those its rounds snapshot (SNAPSHOT_FIELDS)."""
    return tuple(record.SNAPSHOT_FIELDS)


def _json(value):
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Model):
        return value.pk
    return value


def dump_value(record: ReviewableRecord, name: str, value) -> object:
    """A field's value as kept in `changes` / `before`: JSON-safe; an ID number encrypted."""
    field = record._meta.get_field(name)
    if isinstance(field, EncryptedIDNumberField):
        return crypto.encrypt(value) if value else ""
    return _json(value)


def _load(record: ReviewableRecord, name: str, stored) -> object:
    field = record._meta.get_field(name)
    if isinstance(field, EncryptedIDNumberField):
        return crypto.decrypt(stored) if stored else ""
    return field.to_python(stored)


def current_value(record: ReviewableRecord, name: str):
    return getattr(record, record._meta.get_field(name).attname)


def _same(record: ReviewableRecord, name: str, value) -> bool:
    field = record._meta.get_field(name)
    old = current_value(record, name)
    if field.is_relation:
        return (value.pk if isinstance(value, Model) else value) == old
    return field.to_python(value) == old or (value in (None, "") and old in (None, ""))


def changes_from_form(record: ReviewableRecord, cleaned: dict) -> dict:
    """{field: new value} of the correctable fields whose cleaned value differs from the approved one,
    JSON-safe. A unit named but not registered cannot be corrected to (ValidationError)."""
    changes = {}
    for name in correctable_fields(record):
        if name not in cleaned:
            continue
        value = cleaned[name]
        if isinstance(value, organizations.NewOrganization):
            raise ValidationError({name: "更正时请填写已登记单位的统一社会信用代码或名称。"})
        if not _same(record, name, value):
            changes[name] = dump_value(record, name, value)
    return changes


def apply_changes(record: ReviewableRecord, changes: dict) -> ReviewableRecord:
    """Set `changes` on `record` (in memory; the caller saves or only shows it)."""
    for name, stored in changes.items():
        setattr(record, record._meta.get_field(name).attname, _load(record, name, stored))
    return record


def proposed(record: ReviewableRecord, correction: Correction | None) -> ReviewableRecord:
    """A copy of the record with the correction's values on it (the form's and the diff's picture)."""
    twin = copy.copy(record)
    twin._state = copy.copy(record._state)
    twin._state.fields_cache = {}
    return apply_changes(twin, correction.changes) if correction is not None else twin


def correction_diff(
    record: ReviewableRecord, correction: Correction, *, before: dict | None = None
) -> list[dict]:
    """[{key, label, old, new}] of the correction against the approved version (or, once approved,
    against the values it replaced, `before`): display values, ID numbers masked."""
    old = proposed(record, None)
    if before is not None:
        apply_changes(old, before)
    new = proposed(record, correction)
    rows = []
    for name in correction.changes:
        rows.append(
            {
                "key": name,
                "label": str(record._meta.get_field(name).verbose_name),
                "old": snapshots.display_value(old, name),
                "new": snapshots.display_value(new, name),
            }
        )
    return rows


def open_correction(kind: str, record_id: int) -> Correction | None:
    return (
        Correction.objects.filter(kind=kind, record_id=record_id, status__in=Correction.OPEN)
        .select_related("created_by")
        .first()
    )


def refusal(user, record: ReviewableRecord) -> str:
    """Why `user` may not ask to correct `record` ("" when they may): its enterer (the owning
    organisation, an enterer of the kind by the entry rule), an approved record entered here."""
    if not workflow.is_enterer(user, record):
        return "只有录入单位的填报人员可以申请更正该记录。"
    problem = rules.entry_refusal(user, record.KIND)
    if problem:
        return problem
    return ""


def _check_record(record: ReviewableRecord) -> None:
    if record.KIND not in workflow.CORRECTABLE:
        raise Conflict("该类记录不能申请更正。")
    if record.state == State.REVOKED:
        raise Conflict("该记录已撤销认定，不能申请更正；请修改后重新提交审核。")
    if record.state != State.APPROVED:
        raise Conflict("只有已审核认定的记录可以申请更正；未认定的记录请直接修改。")


def correction_save(
    *,
    actor,
    kind: str,
    record_id: int,
    changes: dict,
    reason: str,
    submit: bool,
    lock_version: int | None = None,
    ip: str | None = None,
) -> Correction:
    """Keep the enterer's correction of an approved record as a draft, and submit it if asked.

    Row lock on the record (so two corrections asked at once queue here, and the second finds the
    first) → permission (refusal) → the record approved and correctable → what and why → the
    proposed values valid together (the model's submit_problems on the corrected copy) → the one
    open correction of the record created or updated (a DB constraint backs the lock) → audit entry
    → on submit, the fsm transition and `correction_submitted` (review opens the inbox row in this
    transaction). Raises PermissionDenied, ValidationError or Conflict; changes nothing when it raises.
    """
    reason = (reason or "").strip()
    try:
        with transaction.atomic():
            record = lock_record(kind, record_id)
            problem = refusal(actor, record)
            if problem:
                raise PermissionDenied(problem)
            _check_record(record)
            correction = (
                Correction.objects.select_for_update()
                .filter(kind=kind, record_id=record.pk, status__in=Correction.OPEN)
                .first()
            )
            if correction is not None:
                if correction.status == Correction.Status.IN_REVIEW:
                    raise Conflict("该记录的更正申请正在审核中，不能修改。")
                if lock_version is not None and correction.lock_version != lock_version:
                    raise Conflict()
            elif lock_version is not None:
                raise Conflict()
            allowed = set(correctable_fields(record))
            problems = {}
            if not reason:
                problems["reason"] = "请填写更正事项及原因（哪些内容有误、依据什么更正）。"
            unknown = [name for name in changes if name not in allowed]
            if not unknown:  # a value equal to the approved one is no change
                changes = {
                    k: v for k, v in changes.items() if _load(record, k, v) != current_value(record, k)
                }
            if unknown:
                problems["__all__"] = f"不能更正的字段：{'、'.join(unknown)}。"
            elif not changes:
                problems["__all__"] = NOTHING_CHANGED
            if problems:
                raise ValidationError(problems)
            twin = proposed(record, None)
            apply_changes(twin, changes)
            problems = {k: v for k, v in twin.submit_problems().items() if k in changes or k == "__all__"}
            if problems:
                raise ValidationError(problems)
            created = correction is None
            if created:
                correction = Correction(
                    kind=kind,
                    record_id=record.pk,
                    owner_org_id=record.owner_org_id,
                    version=record.version + 1,
                    created_by=actor,
                )
            correction.reason = reason
            correction.changes = changes
            correction.save()
            audit.record(
                action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
                actor=actor,
                object_type="correction",
                object_id=correction.pk,
                to_state=correction.status,
                reason=reason,
                data={
                    "kind": kind,
                    "record": record.pk,
                    "version": correction.version,
                    "fields": sorted(changes),
                },
                ip=ip,
            )
            if submit:
                old = correction.status
                correction.submit(first_step=workflow.correction_chain(record)[0].key)
                correction.save()
                audit.record(
                    action=AuditEntry.Action.SUBMIT,
                    actor=actor,
                    object_type="correction",
                    object_id=correction.pk,
                    from_state=old,
                    to_state=correction.status,
                    step=correction.step,
                    reason=reason,
                    data={"kind": kind, "record": record.pk, "revision": correction.revision},
                    ip=ip,
                )
                correction_submitted.send(
                    sender=Correction, correction=correction, record=record, actor=actor
                )
            return correction
    except IntegrityError as exc:  # the constraint behind the row lock: another correction won
        if "correction_one_open_per_record" in str(exc):
            raise Conflict("该记录已有一份未办结的更正申请。") from exc
        raise


def correction_withdraw(*, actor, correction_id: int, lock_version: int | None = None, ip=None) -> Correction:
    """The enterer withdraws a correction not in review (a draft or a returned one): the approved
    version simply stays in force. Raises PermissionDenied or Conflict."""
    with transaction.atomic():
        head = Correction.objects.filter(pk=correction_id).values("kind", "record_id").first()
        if head is None:
            raise Correction.DoesNotExist
        record = lock_record(head["kind"], head["record_id"])
        correction = Correction.objects.select_for_update().get(pk=correction_id)
        problem = refusal(actor, record)
        if problem:
            raise PermissionDenied(problem)
        if not correction.is_editable or (
            lock_version is not None and correction.lock_version != lock_version
        ):
            raise Conflict("该更正申请正在审核或已办结，不能撤回。")
        return end(correction, actor=actor, reason="撤回更正申请", ip=ip)


def end(correction: Correction, *, actor, reason: str, ip=None) -> Correction:
    """Withdraw an open correction (its enterer's withdrawal, or a revocation of the record) and
    audit it; the caller holds the record's and the correction's row locks."""
    old = correction.status
    correction.withdraw()
    correction.save()
    audit.record(
        action=AuditEntry.Action.UPDATE,
        actor=actor,
        object_type="correction",
        object_id=correction.pk,
        from_state=old,
        to_state=correction.status,
        reason=reason,
        data={"kind": correction.kind, "record": correction.record_id},
        ip=ip,
    )
    return correction


def history(record: ReviewableRecord) -> list[dict]:
    """The record's corrections, newest first, each with its diff (one query; a changed related
    record's name is read when shown): for the record page's 版本历史."""
    rows = []
    for c in (
        Correction.objects.filter(kind=record.KIND, record_id=record.pk)
        .select_related("created_by", "decided_by")
        .order_by("-id")
    ):
        if c.status == Correction.Status.WITHDRAWN and not c.submitted_at:
            continue
        applied = c.status == Correction.Status.APPROVED
        rows.append({"c": c, "diff": correction_diff(record, c, before=c.before if applied else None)})
    return rows
