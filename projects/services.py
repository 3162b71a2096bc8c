"""Entry services: enterprises create, complete and submit records. Every write takes the acting
user, locks the row, checks the notice's rules (projects.rules), validates, writes, and audits.
Decisions on submitted records are in review.services; what differs per record kind is in
projects.workflow.KINDS.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from projects import rules, selectors, snapshots, workflow
from projects.codes import CONTRACT_RECORD_LETTERS, Scope
from projects.hooks import record_submitted, submission_check
from projects.models import (
    EDITABLE_STATES,
    Building,
    Completion,
    ConstructionPermit,
    DrawingReview,
    DrawingReviewAdditionRequest,
    Origin,
    Project,
    ProjectNumberSequence,
    ProjectParty,
    ReviewableRecord,
    Round,
    SpecialtyProjectInfo,
    State,
    TenderContract,
)
from yunjian.core import audit
from yunjian.core.models import AuditEntry, Organization

SCOPE_PARTY_ROLE = {
    Scope.SURVEY: ProjectParty.Role.SURVEY,
    Scope.DESIGN: ProjectParty.Role.DESIGN,
    Scope.CONSTRUCTION: ProjectParty.Role.GENERAL_CONTRACTOR,
    Scope.SUPERVISION: ProjectParty.Role.SUPERVISION,
    Scope.SPECIALTY: ProjectParty.Role.SPECIALTY_CONTRACTOR,
}
GUARDED = {
    DrawingReview: "projects.change_drawingreview",
    ConstructionPermit: "projects.change_constructionpermit",
}


class Conflict(Exception):
    """The record changed or was decided since the actor looked at it; nothing was changed."""

    def __init__(
        self, message: str = "该记录在您打开页面后已被修改或已由他人处理，请刷新页面查看最新内容后再操作。"
    ):
        super().__init__(message)
        self.message = message


def lock_record(kind: str, record_id: int) -> ReviewableRecord:
    """Return the record with a row lock held until the end of the transaction (raises DoesNotExist)."""
    model = workflow.KINDS[kind].model
    return model.objects.select_for_update(of=("self",)).select_related("project").get(pk=record_id)


def record_submit(*, actor, kind: str, record_id: int, ip: str | None = None) -> ReviewableRecord:
    """Submit a draft or returned record for review. Enterer's organization only.

    Row lock → permission → completeness (projects.rules) → `submission_check` (the sync layer's
    pre-flight against the exchange's rules) → transition → the round's snapshot → audit entry →
    `record_submitted`, on which the review layer opens the first step's inbox row in this same
    transaction. Raises PermissionDenied, ValidationError (incomplete) or Conflict.
    """
    with transaction.atomic():
        record = lock_record(kind, record_id)
        if record.state not in EDITABLE_STATES:
            raise Conflict("该记录已提交审核，不能重复提交。")
        if not workflow.can_submit(actor, record):
            raise PermissionDenied("只有录入单位的填报人员可以提交该记录。")
        rules.check_ready_to_submit(record)
        submission_check.send(sender=type(record), record=record)
        old_state = record.state
        record.submit(first_step=workflow.chain_for(record)[0].key)
        record.entered_by_id = record.entered_by_id or actor.pk
        record.save()
        data = snapshots.snapshot(record)
        Round.objects.create(
            kind=kind, record_id=record.pk, revision=record.revision, data=data, submitted_by=actor
        )
        record_submitted.send(sender=type(record), record=record, actor=actor)
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


PROVISIONAL_MAX = 9999


def provisional_prj_num(county_code: str) -> str:
    """Assign a 16-digit 项目编号 by the national numbering rule (docs/data-standard.md §3.4):
    county code (6) + the assignment date YYMMDD + a 4-digit sequence for that county and day.

    For historical projects that never had one (direct specialty projects, addition requests).
    Call inside the transaction that creates the project: the day's counter row stays locked
    until it commits, so concurrent assignments take turns and never give the same number; a
    number some project already holds (e.g. entered by hand) is skipped.
    """
    prefix = f"{county_code}{timezone.localdate():%y%m%d}"
    with transaction.atomic():
        try:
            with transaction.atomic():
                ProjectNumberSequence.objects.create(prefix=prefix)
        except IntegrityError:
            pass  # another transaction created the day's counter first
        counter = ProjectNumberSequence.objects.select_for_update().get(prefix=prefix)
        number = counter.last
        while True:
            number += 1
            if number > PROVISIONAL_MAX:
                raise ValidationError(
                    {"prj_num": "该县（市、区）今日可分配的临时项目编号已用完，请明日再试或填写项目编号。"}
                )
            candidate = f"{prefix}{number:04d}"
            if not Project.objects.filter(prj_num=candidate).exists():
                break
        counter.last = number
        counter.save(update_fields=["last"])
    return candidate


def ensure_party(project: Project, org: Organization | None, role: str) -> None:
    if org is not None:
        ProjectParty.objects.get_or_create(project=project, organization=org, role=role)


def grant_to_org(record: ReviewableRecord, org: Organization) -> None:
    """Record the explicit per-object grant that makes `org` the owner of a pre-existing record."""
    perm = GUARDED.get(type(record))
    if perm:
        assign_perm(perm, org.group, record)


def _apply(instance, data: dict, allowed: tuple[str, ...]) -> list[str]:
    changed = []
    for name, value in data.items():
        if name not in allowed:
            continue
        field = instance._meta.get_field(name)
        current = getattr(instance, field.attname)
        new = value.pk if field.is_relation and isinstance(value, models.Model) else value
        if current != new:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def _clean(instance, prefix: str = "") -> None:
    try:
        instance.full_clean(exclude=["state", "owner_org", "entered_by", "project", "group"])
    except ValidationError as exc:
        if prefix and hasattr(exc, "error_dict"):
            raise ValidationError({f"{prefix}{k}": v for k, v in exc.error_dict.items()}) from exc
        raise


def _replace_buildings(project: Project, buildings: list[dict] | None) -> bool:
    if buildings is None:
        return False
    rows = []
    for index, row in enumerate(buildings, start=1):
        building = Building(
            project=project, **{k: v for k, v in row.items() if k in Building.SNAPSHOT_FIELDS}
        )
        try:
            building.full_clean(exclude=["project"])
        except ValidationError as exc:
            raise ValidationError({"buildings": [f"第{index}个单体：" + "；".join(exc.messages)]}) from exc
        rows.append(building)
    project.buildings.all().delete()
    Building.objects.bulk_create(rows)
    return True


def project_fix_requested(record: ReviewableRecord) -> bool:
    """Whether a reviewer returned `record` naming project fields (or buildings) to correct."""
    return record.state == State.RETURNED and any(
        f.startswith("project.") or f == "buildings" for f in record.return_fields or ()
    )


def _update_project(
    actor,
    project: Project,
    project_data: dict | None,
    buildings: list[dict] | None,
    *,
    requested: bool = False,
) -> list[str]:
    """Update the basic-info fields a drawing-review, permit or specialty form carries: only an
    existing party of the project with a right to it (projects.rules.may_edit_project_info), or
    the enterer of a record a reviewer returned asking for the project's info to be corrected
    (`requested`; the correction is reviewed again when the record is resubmitted)."""
    if project_data is None and buildings is None:
        return []
    if rules.project_info_locked(project):
        if project_data or buildings is not None:
            raise ValidationError({"__all__": "该项目基本信息已审核认定（或来自省一体化平台），不能再修改。"})
        return []
    if not requested and not rules.may_edit_project_info(actor.organization_id, project):
        if project_data or buildings is not None:
            raise PermissionDenied(
                "本单位尚不是该项目的参建单位，不能修改工程项目基本信息；基本信息由项目的设计单位随图审信息录入，"
                "本单位的施工许可信息审核认定后即成为该项目的施工总承包单位。"
            )
        return []
    changed = _apply(project, project_data or {}, Project.BASIC_INFO_FIELDS)
    if changed:
        _clean(project, prefix="project.")
        project.save()
        if project.owner_org_id:
            ensure_party(project, project.owner_org, ProjectParty.Role.OWNER)
    if _replace_buildings(project, buildings):
        changed.append("buildings")
    return [f"project.{name}" for name in changed]


def can_edit(user, record: ReviewableRecord) -> bool:
    """The enterer's organization, while the record is a draft or returned; for pre-existing
    drawing reviews and permits, only the organization holding the explicit grant."""
    if not (workflow.is_enterer(user, record) and record.is_editable):
        return False
    perm = GUARDED.get(type(record))
    if perm and record.origin == Origin.PMS:
        return user.has_perm(perm, record)
    return True


def _lock_for_edit(model, pk: int, actor) -> ReviewableRecord:
    record = model.objects.select_for_update(of=("self",)).select_related("project").get(pk=pk)
    if not can_edit(actor, record):
        if workflow.is_enterer(actor, record) and not record.is_editable:
            raise PermissionDenied("该记录正在审核或已审核认定，不能修改。")
        raise PermissionDenied("只有录入单位可以修改该记录。")
    return record


def _audit_change(actor, record, action, changed, ip):
    audit.record(
        action=action, actor=actor, obj=record, to_state=record.state, data={"fields": changed}, ip=ip
    )


def _maybe_submit(actor, record, submit: bool, ip):
    if submit:
        return record_submit(actor=actor, kind=record.KIND, record_id=record.pk, ip=ip)
    return record


def _check_numbers(record: ReviewableRecord) -> None:
    """Refuse a document number another record of the kind holds (projects.rules.UNIQUE_NUMBERS).

    On PostgreSQL a transaction-level advisory lock per number makes two enterers of the same
    number, at the same moment, take turns: the second sees the first's row and is refused.
    """
    names = rules.UNIQUE_NUMBERS.get(type(record), ())
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for name in names:
                if getattr(record, name):
                    cursor.execute(
                        "SELECT pg_advisory_xact_lock(hashtext(%s))",
                        [f"{record.KIND}:{name}:{getattr(record, name)}"],
                    )
    problems = rules.duplicate_number_problems(record)
    if problems:
        raise ValidationError(problems)


def _check_enterer(actor, kind: str, org_kind: str | None = None) -> None:
    problem = rules.entry_refusal(actor, kind, org_kind)
    if problem:
        raise PermissionDenied(problem)


# --- 施工图审查信息 -------------------------------------------------------------------------


def drawing_review_register(
    *,
    project: Project,
    censor_num: str,
    censor_org: Organization,
    design_org: Organization,
    origin: str = Origin.PMS,
    path: str = DrawingReview.Path.PMS,
    **fields,
) -> DrawingReview:
    """Register a drawing review that already exists in PMS (or arrives by sync) for its design unit.

    System use only (demo data, PMS import, inbound sync): enterprises cannot create one (notice 一(一)1).
    """
    with transaction.atomic():
        review = DrawingReview.objects.create(
            project=project,
            censor_num=censor_num,
            censor_org=censor_org,
            owner_org=design_org,
            origin=origin,
            path=path,
            **fields,
        )
        grant_to_org(review, design_org)
        ensure_party(project, design_org, ProjectParty.Role.DESIGN)
        ensure_party(project, censor_org, ProjectParty.Role.REVIEW_INSTITUTION)
        audit.record(
            action=AuditEntry.Action.CREATE, obj=review, to_state=review.state, data={"origin": origin}
        )
        return review


def drawing_review_create(
    *, actor, project_id: int, data: dict, submit: bool = False, ip: str | None = None
) -> DrawingReview:
    """Create a drawing review on the platform path: a platform-originated project (notice 三) or
    a direct specialty project (二(二)); optionally submit it. On the PMS path a design unit cannot
    create one."""
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project_id)
        direct = project.kind == Project.Kind.DIRECT_SPECIALTY
        if project.origin != Origin.PLATFORM and not direct:
            raise PermissionDenied(
                "设计单位不能自行增加图审信息；系统中没有的，请向省住房城乡建设厅勘察设计处申请新增。"
            )
        needed = Organization.Kind.SPECIALTY_CONTRACTOR if direct else Organization.Kind.DESIGN
        _check_enterer(actor, DrawingReview.KIND, needed)
        if direct and rules.direct_specialty_problem(actor, project):
            raise PermissionDenied(rules.direct_specialty_problem(actor, project))
        if direct and rules.specialty_info_state(project) != State.APPROVED:
            raise PermissionDenied("该专业承包项目的基本信息尚未审核认定，暂不能录入其他信息。")
        review = DrawingReview(
            project=project, owner_org=actor.organization, entered_by=actor, path=DrawingReview.Path.PLATFORM
        )
        _apply(review, data, DrawingReview.SNAPSHOT_FIELDS)
        _clean(review)
        review.save()  # a design unit joining a platform project becomes a party on approval
        audit.record(action=AuditEntry.Action.CREATE, actor=actor, obj=review, to_state=review.state, ip=ip)
        return _maybe_submit(actor, review, submit, ip)


def drawing_review_update(
    *,
    actor,
    review_id: int,
    data: dict,
    project_data: dict | None = None,
    buildings: list[dict] | None = None,
    submit: bool = False,
    ip: str | None = None,
) -> DrawingReview:
    """Complete a drawing review the actor's design unit owns; optionally submit it to the institution."""
    with transaction.atomic():
        review = _lock_for_edit(DrawingReview, review_id, actor)
        editable = DrawingReview.SNAPSHOT_FIELDS
        if review.censor_num_locked():
            if "censor_num" in data and data["censor_num"] != review.censor_num:
                raise ValidationError(
                    {
                        "censor_num": "施工图审查合格书编号来自省工程项目管理系统或经省厅勘察设计处批准新增，"
                        "不能修改；编号确有错误的，请联系省厅勘察设计处。"
                    }
                )
            editable = tuple(f for f in editable if f != "censor_num")
        changed = _apply(review, data, editable)
        changed += _update_project(actor, review.project, project_data, buildings)
        _clean(review)
        review.save()
        _audit_change(actor, review, AuditEntry.Action.UPDATE, changed, ip)
        return _maybe_submit(actor, review, submit, ip)


# --- 图审信息新增申请 ---------------------------------------------------------------------


def addition_request_save(
    *, actor, data: dict, request_id: int | None = None, submit: bool = False, ip: str | None = None
) -> DrawingReviewAdditionRequest:
    """A design unit files (or corrects) a request to create a missing drawing review (附件1)."""
    with transaction.atomic():
        if request_id is None:
            _check_enterer(actor, DrawingReviewAdditionRequest.KIND)
            request = DrawingReviewAdditionRequest(owner_org=actor.organization, entered_by=actor)
            action = AuditEntry.Action.CREATE
        else:
            request = _lock_for_edit(DrawingReviewAdditionRequest, request_id, actor)
            action = AuditEntry.Action.UPDATE
        changed = _apply(request, data, DrawingReviewAdditionRequest.SNAPSHOT_FIELDS)
        _clean(request)
        if DrawingReview.objects.filter(censor_num=request.censor_num).exists():
            raise ValidationError(
                {"censor_num": "系统中已有该合格书编号的图审信息，无需申请新增，请在“我的图审信息”中完善。"}
            )
        request.project = Project.objects.filter(prj_num=request.prj_num).first() if request.prj_num else None
        request.save()
        _audit_change(actor, request, action, changed, ip)
        return _maybe_submit(actor, request, submit, ip)


def create_review_from_request(*, record: DrawingReviewAdditionRequest, actor) -> DrawingReview:
    """On approval of an addition request (KINDS["addition_request"].on_approved): create the project
    if needed and the drawing review, owned by the requesting design unit, which then completes and
    submits it. Runs inside the approval's transaction."""
    request = record
    project = request.project or (
        Project.objects.filter(prj_num=request.prj_num).first() if request.prj_num else None
    )
    if project is None:
        provisional = not request.prj_num
        if provisional:
            request.prj_num = provisional_prj_num(request.county_id)
        project = Project.objects.create(
            prj_num=request.prj_num,
            prj_num_provisional=provisional,
            name=request.project_name,
            county=request.county,
        )
    review = drawing_review_register(
        project=project,
        censor_num=request.censor_num,
        censor_org=request.censor_org,
        design_org=request.owner_org,
        origin=Origin.ENTERED,
        censor_date=request.censor_date,
    )
    request.project = project
    request.created_review = review
    request.save(update_fields=["project", "prj_num", "created_review", "lock_version", "updated_at"])
    return review


# --- 施工许可信息 ---------------------------------------------------------------------------


def permit_save(
    *,
    actor,
    drawing_review_ids: list[int],
    data: dict,
    permit_id: int | None = None,
    project_data: dict | None = None,
    buildings: list[dict] | None = None,
    submit: bool = True,
    ip: str | None = None,
) -> ConstructionPermit:
    """Enter a new permit or complete an existing one, on one or more approved drawing reviews.

    Notice 一(一)2: the general contractor first selects approved drawing reviews (several allowed),
    then enters the permit; finishing entry submits it to the issuing authority (`submit=True`).
    """
    with transaction.atomic():
        reviews = list(DrawingReview.objects.filter(pk__in=drawing_review_ids).select_related("project"))
        if not reviews or len(reviews) != len(set(drawing_review_ids)):
            raise ValidationError({"drawing_reviews": "请至少选择一条已审核认定的施工图审查信息。"})
        if any(r.state != State.APPROVED for r in reviews):
            raise ValidationError({"drawing_reviews": "只能选择已审核认定的施工图审查信息。"})
        if len({r.project_id for r in reviews}) != 1:
            raise ValidationError({"drawing_reviews": "所选施工图审查信息须属于同一个工程项目。"})
        project = reviews[0].project
        direct = project.kind == Project.Kind.DIRECT_SPECIALTY
        needed = Organization.Kind.SPECIALTY_CONTRACTOR if direct else Organization.Kind.GENERAL_CONTRACTOR
        if permit_id is None:
            _check_enterer(actor, ConstructionPermit.KIND, needed)
            if rules.direct_specialty_problem(actor, project):
                raise PermissionDenied(rules.direct_specialty_problem(actor, project))
            permit = ConstructionPermit(project=project, owner_org=actor.organization, entered_by=actor)
            action = AuditEntry.Action.CREATE
        else:
            permit = _lock_for_edit(ConstructionPermit, permit_id, actor)
            if permit.project_id != project.pk:
                raise ValidationError({"drawing_reviews": "所选施工图审查信息与该施工许可不属于同一项目。"})
            action = AuditEntry.Action.UPDATE
        changed = _apply(permit, data, ConstructionPermit.SNAPSHOT_FIELDS)
        if permit.issuing_org_id:
            if not permit.issuing_org.has_kind(Organization.Kind.HOUSING_BUREAU):
                raise ValidationError({"issuing_org": "发证机关应为住房城乡建设部门。"})
            if not selectors.competent_bureaus(project).filter(pk=permit.issuing_org_id).exists():
                raise ValidationError(
                    {
                        "issuing_org": f"“{permit.issuing_org.name}”不是该项目所在地的住房城乡建设部门。发证机关应为项目所在县（市、区）、"
                        "州（市）或省住房城乡建设部门；位于滇中新区的项目，也可以是滇中新区规划建设管理部。"
                    }
                )
            permit.issuing_division_id = permit.issuing_org.division_id
        else:
            raise ValidationError({"issuing_org": "请选择发证机关。"})
        _clean(permit)
        changed += _update_project(
            actor, project, project_data, buildings, requested=project_fix_requested(permit)
        )
        permit.save()
        permit.drawing_reviews.set(reviews)
        # No party role from a draft: the contractor (and the supervision unit it names) become
        # parties of the project when the issuing authority approves the permit (mark_permit_approved).
        _audit_change(actor, permit, action, changed + ["drawing_reviews"], ip)
        return _maybe_submit(actor, permit, submit, ip)


# --- 招投标信息及合同登记信息 ----------------------------------------------------------------


def tender_contract_save(
    *,
    actor,
    project_id: int,
    data: dict,
    contract_id: int | None = None,
    submit: bool = False,
    ip: str | None = None,
) -> TenderContract:
    """Enter the tender and contract of the scope the actor's organization won (notice 一(二)1, 二(一))."""
    with transaction.atomic():
        project = Project.objects.get(pk=project_id)
        closed = rules.platform_entry_closed(project) or rules.direct_specialty_problem(actor, project)
        if closed:
            raise PermissionDenied(closed)
        if contract_id is None:
            contract = TenderContract(project=project, owner_org=actor.organization, entered_by=actor)
            action = AuditEntry.Action.CREATE
        else:
            contract = _lock_for_edit(TenderContract, contract_id, actor)
            action = AuditEntry.Action.UPDATE
        changed = _apply(contract, data, TenderContract.SNAPSHOT_FIELDS)
        problem = rules.tender_scope_problem(actor, contract.scope)
        if problem:
            raise PermissionDenied(problem)
        _check_enterer(actor, TenderContract.KIND)
        _clean(contract)
        _check_numbers(contract)
        contract.save()  # the unit becomes a party of the project on approval (tender_contract_approved)
        _audit_change(actor, contract, action, changed, ip)
        return _maybe_submit(actor, contract, submit, ip)


# --- 竣工验收信息及竣工验收备案信息 ----------------------------------------------------------


def completion_save(
    *,
    actor,
    project_id: int,
    data: dict,
    completion_id: int | None = None,
    submit: bool = False,
    ip: str | None = None,
) -> Completion:
    """Enter completion acceptance and filing: the general contractor only (notice 一(二)2), or a
    specialty contractor for its own subcontracted scope (二(一))."""
    with transaction.atomic():
        project = Project.objects.get(pk=project_id)
        closed = rules.platform_entry_closed(project)
        if closed:
            raise PermissionDenied(closed)
        if completion_id is None:
            completion = Completion(project=project, owner_org=actor.organization, entered_by=actor)
            action = AuditEntry.Action.CREATE
        else:
            completion = _lock_for_edit(Completion, completion_id, actor)
            action = AuditEntry.Action.UPDATE
        changed = _apply(completion, data, Completion.SNAPSHOT_FIELDS)
        if completion.permit_id is None:
            # A project with one approved permit: the completion belongs to it. With several, the
            # enterer names its own (KINDS["completion"].required).
            permits = list(
                ConstructionPermit.objects.filter(project=project, state=State.APPROVED).values_list(
                    "pk", flat=True
                )[:2]
            )
            if len(permits) == 1:
                completion.permit_id = permits[0]
                changed.append("permit")
        problem = rules.completion_entry_problem(actor, project, completion.specialty_contract)
        if problem:
            raise PermissionDenied(problem)
        _check_enterer(actor, Completion.KIND)
        if completion.filing_org_id and not completion.filing_org.has_kind(Organization.Kind.HOUSING_BUREAU):
            raise ValidationError({"filing_org": "备案机关应为住房城乡建设部门。"})
        _clean(completion)
        _check_numbers(completion)
        completion.save()
        _audit_change(actor, completion, action, changed, ip)
        return _maybe_submit(actor, completion, submit, ip)


# --- 建设单位直接发包的专业承包项目 ---------------------------------------------------------


def specialty_info_save(
    *,
    actor,
    project_data: dict,
    data: dict,
    prj_num: str = "",
    info_id: int | None = None,
    buildings: list[dict] | None = None,
    submit: bool = False,
    ip: str | None = None,
) -> SpecialtyProjectInfo:
    """A specialty contractor enters the basic info of a project the owner contracted to it directly
    (notice 二(二)); it is reviewed before anything else can be entered for the project."""
    with transaction.atomic():
        if info_id is None:
            _check_enterer(actor, SpecialtyProjectInfo.KIND)
            project = Project(prj_num=prj_num, kind=Project.Kind.DIRECT_SPECIALTY, origin=Origin.ENTERED)
            _apply(project, project_data, Project.BASIC_INFO_FIELDS)
            if not prj_num and project.county_id:
                # No national number (a historical project): one by the numbering rule, provisional.
                project.prj_num = provisional_prj_num(project.county_id)
                project.prj_num_provisional = True
            try:
                project.full_clean()
            except ValidationError as exc:
                raise ValidationError({f"project.{k}": v for k, v in exc.error_dict.items()}) from exc
            project.save()
            _replace_buildings(project, buildings)
            info = SpecialtyProjectInfo(project=project, owner_org=actor.organization, entered_by=actor)
            changed = ["project"]
            action = AuditEntry.Action.CREATE
        else:
            info = _lock_for_edit(SpecialtyProjectInfo, info_id, actor)
            project = info.project
            changed = _update_project(actor, project, project_data, buildings)
            action = AuditEntry.Action.UPDATE
        changed += _apply(info, data, SpecialtyProjectInfo.SNAPSHOT_FIELDS)
        _clean(info)
        info.save()
        ensure_party(project, actor.organization, ProjectParty.Role.SPECIALTY_CONTRACTOR)
        if project.owner_org_id:
            ensure_party(project, project.owner_org, ProjectParty.Role.OWNER)
        _audit_change(actor, info, action, changed, ip)
        return _maybe_submit(actor, info, submit, ip)


def mark_permit_approved(*, record: ConstructionPermit, actor) -> None:
    """On a permit's final approval (KINDS["permit"].on_approved): the project's basic info is
    settled from now on (notice 一(一)3), and its contractor, with the supervision unit it names,
    is a party of the project (the general contractor of notice 一(二)2)."""
    project = record.project
    if project.permit_approved_at is None:
        project.permit_approved_at = timezone.now()
        project.save(update_fields=["permit_approved_at", "updated_at"])
    direct = project.kind == Project.Kind.DIRECT_SPECIALTY
    ensure_party(
        project,
        record.owner_org,
        ProjectParty.Role.SPECIALTY_CONTRACTOR if direct else ProjectParty.Role.GENERAL_CONTRACTOR,
    )
    if record.supervision_org_id:
        ensure_party(project, record.supervision_org, ProjectParty.Role.SUPERVISION)


def tender_contract_approved(*, record: TenderContract, actor) -> None:
    """On approval of a tender and contract (KINDS["tender_contract"].on_approved): the unit that
    won the scope is a party of the project from now on, and the contract record gets its number."""
    ensure_party(record.project, record.owner_org, SCOPE_PARTY_ROLE[record.scope])
    give_contract_record_number(record=record, actor=actor)


def drawing_review_approved(*, record: DrawingReview, actor) -> None:
    """On approval of a drawing review (KINDS["drawing_review"].on_approved): its enterer (a design
    unit that joined a platform project, or the specialty contractor of a direct project) is a party."""
    direct = record.project.kind == Project.Kind.DIRECT_SPECIALTY
    ensure_party(
        record.project,
        record.owner_org,
        ProjectParty.Role.SPECIALTY_CONTRACTOR if direct else ProjectParty.Role.DESIGN,
    )


def give_contract_record_number(*, record: TenderContract, actor) -> None:
    """On a tender+contract's final approval (KINDS["tender_contract"].on_approved): its 合同备案编号,
    PrjNum-XX-nnn with the contract type's letters (docs/data-standard.md §2.7, §3.6), numbered under
    the project's row lock so that two approvals at once never take the same number. A correction
    keeps the number it was given."""
    if record.record_num:
        return
    project = Project.objects.select_for_update().get(pk=record.project_id)
    letters = CONTRACT_RECORD_LETTERS.get(record.contract_type, "HO")
    prefix = f"{project.prj_num}-{letters}-"
    taken = TenderContract.objects.filter(project=project, record_num__startswith=prefix).count()
    record.record_num = f"{prefix}{taken + 1:03d}"
    record.save(update_fields=["record_num", "lock_version", "updated_at"])
