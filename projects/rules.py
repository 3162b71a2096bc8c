"""The notice's rules on entry, as plain checks. Services call these; forms show their messages.

Each check returns a Chinese reason ("" when allowed) or raises ValidationError keyed by field.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from projects import workflow
from projects.codes import SCOPE_ORG_KIND, Scope
from projects.models import (
    Completion,
    ConstructionPermit,
    Origin,
    Project,
    ProjectParty,
    RecordKind,
    ReviewableRecord,
    SpecialtyProjectInfo,
    State,
    TenderContract,
)
from yunjian.core.models import Organization, Role


def is_enterprise_user(user) -> bool:
    return user.is_authenticated and user.has_role(Role.ENTERPRISE) and user.organization_id is not None


def org_has_kind(user, kind: str) -> bool:
    return is_enterprise_user(user) and user.organization.has_kind(kind)


def entry_refusal(user, kind: str, org_kind: str | None = None) -> str:
    """Why `user` may not enter records of `kind` ("" when allowed): the kind's enterers
    (projects.workflow.KINDS) and, where the project decides it, the one organization kind it needs."""
    spec = workflow.KINDS[kind]
    if org_kind is not None and org_kind not in spec.enterers:
        org_kind = None
    if (
        is_enterprise_user(user)
        and workflow.may_enter(user.organization, kind)
        and (org_kind is None or user.organization.has_kind(org_kind))
    ):
        return ""
    who = "或".join(str(Organization.Kind(k).label) for k in ((org_kind,) if org_kind else spec.enterers))
    return f"{spec.label}由{who}录入。"


def specialty_info_state(project: Project) -> str | None:
    if project.kind != Project.Kind.DIRECT_SPECIALTY:
        return None
    # A list that loaded it with select_related("specialty_info") asks no further query per row.
    if Project.specialty_info.related.is_cached(project):
        try:
            return project.specialty_info.state
        except SpecialtyProjectInfo.DoesNotExist:
            return None
    info = SpecialtyProjectInfo.objects.filter(project=project).values_list("state", flat=True).first()
    return info


def project_info_locked(project: Project) -> bool:
    """Whether the project's basic info is settled and no form may change it any more: approved with
    a permit (notice 一(一)3), handled on the platform (三), or a direct specialty project whose basic
    info is approved (二(二))."""
    if project.permit_approved_at is not None or project.origin == Origin.PLATFORM:
        return True
    return project.kind == Project.Kind.DIRECT_SPECIALTY and specialty_info_state(project) == State.APPROVED


def direct_specialty_problem(user, project: Project) -> str:
    """Notice 二(二): the records of a project the owner contracted directly to a specialty
    contractor are entered by that contractor, the one that entered its basic info ("" when allowed)."""
    if project.kind != Project.Kind.DIRECT_SPECIALTY:
        return ""
    if Project.specialty_info.related.is_cached(project):  # loaded with select_related: no query
        try:
            mine = project.specialty_info.owner_org_id == user.organization_id
        except SpecialtyProjectInfo.DoesNotExist:
            mine = False
    else:
        mine = SpecialtyProjectInfo.objects.filter(
            project=project, owner_org_id=user.organization_id
        ).exists()
    if user.organization_id is None or not mine:
        return "该项目是建设单位直接发包的专业承包项目，由录入其基本信息的专业承包单位录入其他信息。"
    return ""


def platform_entry_closed(project: Project) -> str:
    """Why tender+contract and completion cannot be entered for `project` yet ("" when they can).

    Notice 一(二): they are entered on the platform, in projects already synced there; 三: records
    that came from the platform are there already; 二(二): a direct specialty project's basic info first.
    """
    if project.origin == Origin.PLATFORM:
        return ""
    if project.kind == Project.Kind.DIRECT_SPECIALTY:
        if specialty_info_state(project) != State.APPROVED:
            return "该专业承包项目的基本信息尚未审核认定，暂不能录入其他信息。"
        return ""
    if project.permit_approved_at is None:
        return "该项目的施工图审查信息和施工许可信息尚未全部审核认定，暂不能录入招投标、合同及竣工验收信息。"
    if project.platform_synced_at is None:
        return "该项目的施工图审查和施工许可信息已审核认定，正在同步至省一体化平台，同步完成后即可录入。"
    return ""


def tender_scope_problem(user, scope: str) -> str:
    """Notice 一(二)1: each unit enters the tender and contract of the scope it won (the kind the
    scope needs, if the registry lists it among the tender's enterers)."""
    needed = SCOPE_ORG_KIND.get(scope)
    if needed is None:
        return "请选择招标类型。"
    if entry_refusal(user, RecordKind.TENDER_CONTRACT, needed):
        label = dict(Organization.Kind.choices)[needed]
        return f"“{Scope(scope).label}”招投标及合同信息应由{label}录入。"
    return ""


def is_general_contractor(org_id: int | None, project: Project) -> bool:
    """Whether the organization is "the project's general contractor" (notice 一(二)2): it entered an
    approved permit of the project, or the project's approved construction tender and contract.
    Saving a draft makes nobody the general contractor."""
    if org_id is None or project.pk is None:
        return False
    mine = {"project": project, "owner_org_id": org_id, "state": State.APPROVED}
    return (
        ConstructionPermit.objects.filter(**mine).exists()
        or TenderContract.objects.filter(scope=Scope.CONSTRUCTION, **mine).exists()
    )


# The parties that enter records carrying the project's basic info (notice 一(一)3).
PROJECT_INFO_ROLES = (
    ProjectParty.Role.DESIGN,
    ProjectParty.Role.GENERAL_CONTRACTOR,
    ProjectParty.Role.SPECIALTY_CONTRACTOR,
)


def may_edit_project_info(org_id: int | None, project: Project | None) -> bool:
    """Whether a record's form of this organization may change the project's basic info.

    Only while it is not settled (`project_info_locked`), and only for an organization that is
    already a party of the project in a role that enters such records. Parties come from the
    records approved for the project (or from PMS and the platform), never from a draft; so a
    contractor that starts a permit on another organisation's project cannot rewrite it.
    """
    if project is None or project.pk is None:
        return True  # the record creates its project (a direct specialty project)
    if org_id is None or project_info_locked(project):
        return False
    return ProjectParty.objects.filter(
        project=project, organization_id=org_id, role__in=PROJECT_INFO_ROLES
    ).exists()


def completion_entry_problem(user, project: Project, specialty_contract: TenderContract | None) -> str:
    """Notice 一(二)2 and 二(一): completion by the general contractor, or a specialty contractor for its scope."""
    if specialty_contract is not None:
        if specialty_contract.project_id != project.pk or specialty_contract.scope != Scope.SPECIALTY:
            return "所选专业承包合同不属于该项目。"
        if specialty_contract.owner_org_id != user.organization_id:
            return "只能录入本单位专业承包范围的竣工验收信息。"
        return ""
    if project.kind == Project.Kind.DIRECT_SPECIALTY:
        if not org_has_kind(user, Organization.Kind.SPECIALTY_CONTRACTOR):
            return "建设单位直接发包的专业承包项目由专业承包单位录入竣工验收信息。"
        return direct_specialty_problem(user, project)
    if not is_general_contractor(user.organization_id, project):
        return "竣工验收信息及竣工验收备案信息统一由该项目的施工总承包单位录入，其他单位不用录入。"
    return ""


# Numbers that identify one document: a second record of the same kind may not carry the same one,
# whatever its origin (entered here, from PMS, or from the platform). The drawing-review
# certificate is unique in the table itself; the permit number by a conditional constraint.
UNIQUE_NUMBERS = {
    TenderContract: ("tender_num", "contract_num"),
    Completion: ("filing_num",),
}


def duplicate_number_message(model, name: str, number: str, holder: ReviewableRecord) -> str:
    """The refusal of a document number `holder` (loaded with its project and owner) already holds;
    bulk entry (bulk.plan) says the same for a whole workbook from one query."""
    label = model._meta.get_field(name).verbose_name
    where = f"{holder.project.name}（项目编号 {holder.project.prj_num}）" if holder.project_id else ""
    return (
        f"{label} {number} 已由{where}的{workflow.kind_of(holder).label}（{holder.owner_org.name}"
        f"{'，省一体化平台办理' if holder.origin == Origin.PLATFORM else '录入'}，"
        f"{holder.get_state_display()}）使用，同一编号只能录入一次；如为同一份文件，请在原记录上完善。"
    )


def duplicate_number_problems(record: ReviewableRecord) -> dict[str, str]:
    """{field: message} for each document number of `record` that another record of its kind
    already holds, saying which record holds it."""
    problems = {}
    model = type(record)
    for name in UNIQUE_NUMBERS.get(model, ()):
        number = getattr(record, name)
        if not number:
            continue
        holder = (
            model.objects.filter(**{name: number})
            .exclude(pk=record.pk)
            .select_related("project", "owner_org")
            .order_by("id")
            .first()
        )
        if holder is not None:
            problems[name] = duplicate_number_message(model, name, number, holder)
    return problems


def _require(record, names, errors, obj=None, prefix=""):
    obj = obj or record
    for name in names:
        value = getattr(obj, f"{name}_id" if obj._meta.get_field(name).is_relation else name)
        if value in (None, ""):
            errors[f"{prefix}{name}"] = f"请填写“{obj._meta.get_field(name).verbose_name}”。"


def check_ready_to_submit(record: ReviewableRecord) -> None:
    """Raise ValidationError naming every field still missing or out of order before submission.

    What is required is declared once per kind (projects.workflow.KINDS); forms mark the same fields.
    """
    spec = workflow.kind_of(record)
    errors: dict[str, str] = {}
    project = record.project if record.project_id else None
    if project is not None:
        _require(record, spec.project_required, errors, obj=project, prefix="project.")
    _require(record, workflow.required_for(record), errors)
    for name, message in record.submit_problems().items():
        errors.setdefault(name, message)
    for name, message in duplicate_number_problems(record).items():
        errors.setdefault(name, message)
    if spec.needs_platform_entry and project is not None:
        closed = platform_entry_closed(project)
        if closed:
            errors["__all__"] = closed
    if errors:
        raise ValidationError(errors)
