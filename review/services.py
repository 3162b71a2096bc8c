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

from projects import attachments, snapshots, workflow
from projects.access import load_record
from projects.models import ReviewableRecord, Revocation, State
from projects.services import Conflict, lock_record
from review import jurisdiction, routing
from review.access import can_view_record
from review.hooks import level_raised, record_approved, record_decided, record_revoked
from review.models import LevelRequest, LevelRequestItem, StageDeadline, Task
from review.workdays import add_working_days, deadline
from yunjian.core import audit
from yunjian.core.models import AuditEntry

__all__ = [
    "Conflict",
    "add_working_days",
    "bulk_approve",
    "level_request_decide",
    "level_request_submit",
    "open_task",
    "record_decide",
    "record_revoke",
    "record_withdraw",
]

DEFAULT_WORKING_DAYS = 5


def _deadline_days(key: str) -> int:
    row = StageDeadline.objects.filter(key=key).values_list("working_days", flat=True).first()
    return row if row is not None else DEFAULT_WORKING_DAYS


def open_task(record: ReviewableRecord, step=None, correction=None) -> Task:
    """Open the inbox row for the record's current step, filed under its post (review.jurisdiction);
    for a correction (更正, review.corrections), the row of the correction's `step`, marked with it."""
    step = step or workflow.current_step(record)
    post = jurisdiction.post_of(record, step)
    now = timezone.now()
    due = deadline(now, _deadline_days(step.stage or step.performer))
    project = record.project if record.project_id else None
    task = Task.objects.create(
        kind=record.KIND,
        record_id=record.pk,
        revision=correction.revision if correction is not None else record.revision,
        correction_id=correction.pk if correction is not None else None,
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
    # 无人审核: flagged at once, in this transaction, when nobody performs the step (review.routing).
    routing.flag_if_unroutable(task)
    return task


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
                next_key = workflow.next_step_key(record)
                if not next_key:  # the final approval: who approves sets the data level (§2.11)
                    record.data_level = jurisdiction.approval_level(
                        actor, record, workflow.current_step(record)
                    )
                record.approve(next_step=next_key)
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
            task.data_level = record.data_level if record.state == State.APPROVED else ""
            task.save(update_fields=["status", "decided_by", "decided_at", "outcome", "reason", "data_level"])
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
            data=_decision_data(record, fields),
            ip=ip,
        )
        record_decided.send(sender=type(record), record=record, actor=actor, approved=approve, reason=reason)
        return record


def record_withdraw(
    *, actor, kind: str, record_id: int, lock_version: int | None = None, ip: str | None = None
):
    """撤回: the enterer of the owning organisation takes back a submitted record before any step of the
    current round is decided. Row lock → permission (the kind's enterers of the owning organisation:
    workflow.is_enterer) → nothing decided in this round → fsm transition (in review → draft) → the
    open step closes as withdrawn (cancelled; the round and its snapshot stay in history) → audit
    entry. Raises PermissionDenied or Conflict (a Chinese message); changes nothing then."""
    with transaction.atomic():
        record = lock_record(kind, record_id)
        if not workflow.is_enterer(actor, record):
            raise PermissionDenied("只有录入单位的填报人员可以撤回该记录。")
        if record.state != State.IN_REVIEW:
            raise Conflict("该记录不在审核中，无需撤回。")
        if lock_version is not None and record.lock_version != lock_version:
            raise Conflict()
        decided = Task.objects.filter(
            kind=kind, record_id=record.pk, revision=record.revision, status=Task.Status.DONE
        ).exists()
        if decided:
            raise Conflict("该记录本轮已有审核环节办理完毕，不能撤回；如需修改，请联系审核人员退回。")
        task = (
            Task.objects.select_for_update()
            .filter(kind=kind, record_id=record.pk, status=Task.Status.OPEN)
            .first()
        )
        old_state, old_step = record.state, record.step
        try:
            record.withdraw()
            record.save()
        except ConcurrentTransition as exc:  # backstop behind the row lock
            raise Conflict() from exc
        if task is not None:
            task.status = Task.Status.CANCELLED
            task.outcome = Task.Outcome.WITHDRAWN
            task.decided_by = actor
            task.decided_at = timezone.now()
            task.unroutable_since = None
            task.save(update_fields=["status", "outcome", "decided_by", "decided_at", "unroutable_since"])
        audit.record(
            action=AuditEntry.Action.WITHDRAW,
            actor=actor,
            obj=record,
            from_state=old_state,
            to_state=record.state,
            step=old_step,
            reason="企业撤回已提交的记录",
            data={"revision": record.revision},
            ip=ip,
        )
        return record


def _decision_data(record: ReviewableRecord, fields: list[str]) -> dict:
    data: dict = {"revision": record.revision}
    if fields:
        data["fields"] = fields
    if record.state == State.APPROVED:
        data["data_level"] = record.data_level
    return data


def _on_approved(record: ReviewableRecord, actor) -> None:
    """What the final approval sets off, inside the same transaction: the kind's own effect in the
    records layer (KINDS[kind].on_approved), then `record_approved`, which the sync layer subscribes
    to (it writes the outbox rows the approval makes due)."""
    spec = workflow.kind_of(record)
    if spec.on_approved:
        import_string(spec.on_approved)(record=record, actor=actor)
    record_approved.send(sender=type(record), record=record, actor=actor)


def record_revoke(
    *,
    actor,
    kind: str,
    record_id: int,
    reason: str,
    evidence,
    lock_version: int | None = None,
    ip: str | None = None,
) -> Revocation:
    """撤销认定: withdraw the approval of a record found false, with a reason and evidence (a scan).

    Row lock → permission (review.jurisdiction.can_revoke) → reason and evidence → fsm transition
    (approved → revoked) → the Revocation row and the evidence → audit entry → `record_revoked`, on
    which sync queues the platform's revocation in this transaction. The enterprise sees it on its
    home page and the record page. Raises PermissionDenied, ValidationError or Conflict; changes
    nothing (and leaves no file) when it raises.
    """
    reason = (reason or "").strip()
    stored = None
    try:
        with transaction.atomic():
            record = lock_record(kind, record_id)
            if record.state == State.REVOKED:
                raise Conflict("该记录已撤销认定。")
            if record.state != State.APPROVED:
                raise Conflict("该记录未处于“已审核认定”状态，不能撤销认定。")
            if not jurisdiction.can_revoke(actor, record):
                raise PermissionDenied("您无权撤销该记录的审核认定。")
            if lock_version is not None and record.lock_version != lock_version:
                raise Conflict()
            problems = {}
            if not reason:
                problems["reason"] = "请填写撤销认定的原因（如查实的虚假情况）。"
            if not evidence:
                problems["evidence"] = "请上传撤销认定的证据材料（PDF、JPG 或 PNG 扫描件）。"
            if problems:
                raise ValidationError(problems)
            attachment = attachments.evidence_save(
                actor=actor, record=record, upload=evidence, description="撤销认定证据材料"
            )
            stored = (attachment.file.storage, attachment.file.name)
            old_state, level = record.state, record.data_level
            try:
                record.revoke()
                record.save()
            except ConcurrentTransition as exc:  # backstop behind the row lock
                raise Conflict() from exc
            revocation = Revocation.objects.create(
                kind=kind,
                record_id=record.pk,
                revision=record.revision,
                number=(record.number or "")[:60],
                project_id=record.project_id,
                owner_org_id=record.owner_org_id,
                data_level=level,
                reason=reason,
                evidence=attachment,
                revoked_by=actor,
                revoked_org_id=actor.organization_id,
            )
            audit.record(
                action=AuditEntry.Action.REVOKE,
                actor=actor,
                obj=record,
                from_state=old_state,
                to_state=record.state,
                reason=reason,
                data={
                    "revision": record.revision,
                    "data_level": level,
                    "revocation": revocation.pk,
                    "evidence": attachment.pk,
                    "sha256": attachment.sha256,
                },
                ip=ip,
            )
            from review.corrections import end_open_correction  # 更正 in flight ends with the approval

            end_open_correction(record, actor=actor, ip=ip)
            record_revoked.send(sender=type(record), record=record, revocation=revocation, actor=actor)
            return revocation
    except BaseException:
        if stored is not None:
            storage, name = stored
            storage.delete(name)
        raise


# --- 提级 (issue 18; CHAINS["level_raise"]) -----------------------------------------------------------

LEVEL_REQUEST_MAX = 50  # records in one request


def level_request_submit(
    *, actor, kind: str, record_ids: list[int], purpose: str, ip: str | None = None
) -> LevelRequest:
    """An enterprise asks for a higher 数据等级 for approved records of its own (one kind, one authority).

    Row locks on the records → permission (their enterer) → each can be raised (review.jurisdiction
    .level_target: approved here, at C or B, by a roster step) and all go to the same authority → none
    already in an open request → the request and its items → audit entry. Raises PermissionDenied or
    ValidationError; changes nothing when it raises.
    """
    purpose = (purpose or "").strip()
    ids = sorted(set(record_ids))
    with transaction.atomic():
        problems = {}
        if not purpose:
            problems["purpose"] = "请填写申请用途（如：申请施工总承包一级资质）。"
        if not ids:
            problems["records"] = "请至少选择一条记录。"
        elif len(ids) > LEVEL_REQUEST_MAX:
            problems["records"] = f"一次最多申请 {LEVEL_REQUEST_MAX} 条记录，请分批申请。"
        if problems:
            raise ValidationError(problems)
        model = workflow.KINDS[kind].model
        records = list(
            model.objects.select_for_update(of=("self",))
            .select_related("project")
            .filter(pk__in=ids)
            .order_by("pk")
        )
        if len(records) != len(ids) or not all(workflow.is_enterer(actor, r) for r in records):
            raise PermissionDenied("只能为本单位录入的记录申请提级。")
        targets = {}
        for record in records:
            target = jurisdiction.level_target(record)
            if target is None:
                raise ValidationError(
                    {
                        "records": f"{record.number or record.pk}：只有已审核认定、数据等级为 C 级或 B 级的记录可以申请提级。"
                    }
                )
            targets[record.pk] = (record.data_level, target)
        if len(set(targets.values())) > 1:
            raise ValidationError(
                {"records": "所选记录的数据等级或核实部门不同，请按等级和所在州（市）分开申请。"}
            )
        pending = (
            LevelRequestItem.objects.filter(
                record_id__in=ids, request__kind=kind, request__status=LevelRequest.Status.SUBMITTED
            )
            .values_list("number", flat=True)
            .first()
        )
        if pending is not None:
            raise ValidationError(
                {"records": f"{pending or '所选记录'} 已有待核实的提级申请，请等待核实结果。"}
            )
        from_level, target = next(iter(targets.values()))
        request = LevelRequest.objects.create(
            kind=kind,
            owner_org_id=actor.organization_id,
            requested_by=actor,
            purpose=purpose[:200],
            from_level=from_level,
            to_level=target.to_level,
            stage=target.stage,
            division_code=target.division_code,
        )
        LevelRequestItem.objects.bulk_create(
            LevelRequestItem(
                request=request,
                record_id=r.pk,
                number=(r.number or "")[:60],
                title=(r.project.name if r.project_id else "")[:200],
            )
            for r in records
        )
        audit.record(
            action=AuditEntry.Action.SUBMIT,
            actor=actor,
            object_type="level_request",
            object_id=request.pk,
            to_state=request.status,
            reason=purpose,
            data={"kind": kind, "records": ids, "from": from_level, "to": target.to_level},
            ip=ip,
        )
        return request


def level_request_decide(
    *,
    actor,
    request_id: int,
    raise_level: bool,
    checklist: list[str],
    onsite_date=None,
    onsite_findings: str = "",
    files=(),
    reason: str = "",
    lock_version: int | None = None,
    ip: str | None = None,
) -> LevelRequest:
    """The authority one level up verifies (a checklist of the documents seen, an optional on-site
    check with its date and findings, scans) and raises the records' level or refuses with a reason.

    Row lock → permission (review.jurisdiction.performs_level) → the verification's rules → the
    records (still approved at the level asked from, for a raise) → fsm transition → each record's new
    level, its audit entry and `level_raised` (sync sends its next version) → the request's audit
    entry. Raises PermissionDenied, ValidationError or Conflict; changes nothing (and leaves no file)
    when it raises.
    """
    reason = (reason or "").strip()
    onsite_findings = (onsite_findings or "").strip()
    stored: list[tuple] = []
    try:
        with transaction.atomic():
            request = LevelRequest.objects.select_for_update().get(pk=request_id)
            if request.status != LevelRequest.Status.SUBMITTED:
                raise Conflict("该提级申请已办理。")
            if not jurisdiction.performs_level(actor, request):
                raise PermissionDenied("该提级申请不由您核实。")
            if lock_version is not None and request.lock_version != lock_version:
                raise Conflict()
            problems = {}
            if raise_level and not checklist:
                problems["checklist"] = "提级前请勾选已核验的材料。"
            if not raise_level and not reason:
                problems["reason"] = "不予提级时必须填写理由。"
            if onsite_date and not onsite_findings:
                problems["onsite_findings"] = "填写了现场核查日期时，请填写现场核查情况。"
            if onsite_findings and not onsite_date:
                problems["onsite_date"] = "请填写现场核查日期。"
            if onsite_date and onsite_date > timezone.localdate():
                problems["onsite_date"] = "现场核查日期不能晚于今天。"
            if problems:
                raise ValidationError(problems)
            model = workflow.KINDS[request.kind].model
            ids = list(request.items.values_list("record_id", flat=True))
            records = list(
                model.objects.select_for_update(of=("self",))
                .select_related("project")
                .filter(pk__in=ids)
                .order_by("pk")
            )
            if raise_level:
                changed = [
                    r for r in records if r.state != State.APPROVED or r.data_level != request.from_level
                ]
                if changed or len(records) != len(ids):
                    number = changed[0].number if changed else ""
                    raise ValidationError(
                        {
                            "__all__": f"记录{number}已撤销认定或等级已变化，不能按本申请提级，请不予提级并说明。"
                        }
                    )
            for upload in files:
                for record in records:
                    attachment = attachments.evidence_save(
                        actor=actor, record=record, upload=upload, description="提级核实材料", field="files"
                    )
                    stored.append((attachment.file.storage, attachment.file.name))
            if raise_level:
                request.raise_level()
            else:
                request.refuse()
            request.decided_by = actor
            request.decided_at = timezone.now()
            request.checklist = list(checklist)
            request.onsite_date = onsite_date
            request.onsite_findings = onsite_findings
            request.reason = reason
            request.save()
            if raise_level:
                for record in records:
                    old = record.data_level
                    record.data_level = request.to_level
                    record.save()
                    audit.record(
                        action=AuditEntry.Action.UPDATE,
                        actor=actor,
                        obj=record,
                        to_state=record.state,
                        reason=f"提级：{old}级 → {record.data_level}级（经核实）",
                        data={"level_request": request.pk, "from": old, "to": record.data_level},
                        ip=ip,
                    )
                    level_raised.send(sender=type(record), record=record, actor=actor)
            audit.record(
                action=AuditEntry.Action.APPROVE if raise_level else AuditEntry.Action.RETURN,
                actor=actor,
                object_type="level_request",
                object_id=request.pk,
                from_state=LevelRequest.Status.SUBMITTED,
                to_state=request.status,
                reason=reason,
                data={
                    "checklist": list(checklist),
                    "onsite_date": onsite_date.isoformat() if onsite_date else "",
                    "onsite_findings": onsite_findings,
                    "records": ids,
                },
                ip=ip,
            )
            return request
    except BaseException:
        for storage, name in stored:
            storage.delete(name)
        raise


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
