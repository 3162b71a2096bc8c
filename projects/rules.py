"""The notice's rules on entry, as plain checks. Services call these; forms show their messages.

Each check returns a Chinese reason ("" when allowed) or raises ValidationError keyed by field.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from projects.codes import SCOPE_ORG_KIND, Scope, TenderMethod
from projects.models import (
    Completion,
    ConstructionPermit,
    DrawingReview,
    Origin,
    Project,
    ProjectParty,
    ReviewableRecord,
    SpecialtyProjectInfo,
    State,
    TenderContract,
)
from yunjian.core.models import Organization, Role

PROJECT_REQUIRED = ("name", "prj_type", "prj_function", "county", "owner_org")


def is_enterprise_user(user) -> bool:
    return user.is_authenticated and user.has_role(Role.ENTERPRISE) and user.organization_id is not None


def org_has_kind(user, kind: str) -> bool:
    return is_enterprise_user(user) and user.organization.has_kind(kind)


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
    """Notice 一(二)1: each unit enters the tender and contract of the scope it won."""
    needed = SCOPE_ORG_KIND.get(scope)
    if needed is None:
        return "请选择招标类型。"
    if not org_has_kind(user, needed):
        label = dict(Organization.Kind.choices)[needed]
        return f"“{Scope(scope).label}”招投标及合同信息应由{label}录入。"
    return ""


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
        return ""
    is_gc = ProjectParty.objects.filter(
        project=project, organization_id=user.organization_id, role=ProjectParty.Role.GENERAL_CONTRACTOR
    ).exists()
    if not is_gc:
        return "竣工验收信息及竣工验收备案信息统一由该项目的施工总承包单位录入，其他单位不用录入。"
    return ""


def _require(record, names, errors, obj=None, prefix=""):
    obj = obj or record
    for name in names:
        value = getattr(obj, f"{name}_id" if obj._meta.get_field(name).is_relation else name)
        if value in (None, ""):
            errors[f"{prefix}{name}"] = f"请填写“{obj._meta.get_field(name).verbose_name}”。"


def check_ready_to_submit(record: ReviewableRecord) -> None:
    """Raise ValidationError naming every field still missing or out of order before submission."""
    errors: dict[str, str] = {}
    project = record.project if record.project_id else None
    if isinstance(record, DrawingReview | ConstructionPermit | SpecialtyProjectInfo) and project is not None:
        _require(record, PROJECT_REQUIRED, errors, obj=project, prefix="project.")
    if isinstance(record, DrawingReview):
        _require(record, ("censor_org", "censor_date", "one_pass"), errors)
    elif isinstance(record, ConstructionPermit):
        _require(
            record, ("permit_num", "issuing_org", "issue_date", "contract_amount", "project_manager"), errors
        )
        reviews = list(record.drawing_reviews.all())
        if not reviews:
            errors["drawing_reviews"] = "请至少选择一条已审核认定的施工图审查信息。"
        elif any(r.state != State.APPROVED or r.project_id != record.project_id for r in reviews):
            errors["drawing_reviews"] = "所选施工图审查信息须均已审核认定，且属于同一项目。"
        else:
            latest = max((r.censor_date for r in reviews if r.censor_date), default=None)
            if latest and record.issue_date and record.issue_date < latest:
                errors["issue_date"] = f"发证日期不能早于施工图审查完成日期（{latest:%Y-%m-%d}）。"
    elif isinstance(record, TenderContract):
        _require(
            record,
            (
                "tender_date",
                "tender_amount",
                "contract_num",
                "contract_amount",
                "contract_date",
                "client_name",
            ),
            errors,
        )
        if record.tender_method != TenderMethod.DIRECT and not record.agency_name:
            errors["agency_name"] = "非直接发包的项目须填写招标代理单位名称。"
        if record.tender_date and record.contract_date and record.contract_date < record.tender_date:
            errors["contract_date"] = "合同签订日期不能早于中标日期。"
    elif isinstance(record, Completion):
        _require(
            record, ("acceptance_date", "actual_start", "actual_cost", "filing_num", "filing_date"), errors
        )
        if record.actual_start and record.acceptance_date and record.acceptance_date < record.actual_start:
            errors["acceptance_date"] = "竣工验收日期不能早于实际开工日期。"
        if record.filing_date and record.acceptance_date and record.filing_date < record.acceptance_date:
            errors["filing_date"] = "备案日期不能早于竣工验收日期。"
        latest_permit = (
            ConstructionPermit.objects.filter(project_id=record.project_id, state=State.APPROVED)
            .exclude(issue_date=None)
            .order_by("-issue_date")
            .values_list("issue_date", flat=True)
            .first()
        )
        if latest_permit and record.acceptance_date and record.acceptance_date < latest_permit:
            errors["acceptance_date"] = f"竣工验收日期不能早于施工许可发证日期（{latest_permit:%Y-%m-%d}）。"
    elif isinstance(record, SpecialtyProjectInfo):
        _require(record, ("specialty_scope",), errors)
    if isinstance(record, TenderContract | Completion) and project is not None:
        closed = platform_entry_closed(project)
        if closed:
            errors["__all__"] = closed
    if errors:
        raise ValidationError(errors)
