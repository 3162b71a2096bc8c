"""What the workspace shows per project: each record's state, and what the organization still owes.

Plain data built from rows the selectors already loaded: no queries here, so a page of the
workspace costs the same whatever the number of projects or records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import reverse

from projects import rules, workflow
from projects.codes import Scope
from projects.models import (
    Origin,
    Project,
    ProjectParty,
    RecordKind,
    ReviewableRecord,
    State,
)
from yunjian.core.models import Organization

Role = ProjectParty.Role


@dataclass(frozen=True)
class Owed:
    """One thing the organization still has to do on a project, with the page where it does it."""

    text: str
    url: str = ""
    action: str = ""


@dataclass
class RecordLine:
    record: ReviewableRecord
    label: str
    number: str
    status: str
    detail: str  # next to the state badge: the review step, or the reason of a return
    mine: bool
    url: str


@dataclass
class ProjectRow:
    project: Project
    roles: list[str]
    records: list[RecordLine] = field(default_factory=list)
    owed: list[Owed] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    is_party: bool = True  # else listed for its own records only: no link to the project page

    @property
    def summary(self) -> str:
        if self.owed:
            return "；".join(o.text for o in self.owed)
        if self.notes:
            return "；".join(self.notes)
        return "本单位暂无待录入的信息"


def record_label(record: ReviewableRecord) -> str:
    return workflow.kind_of(record).short_label + record.label_detail()


def status_text(record: ReviewableRecord) -> str:
    """The state in words: 草稿, 待审核 at which step, 已退回 with the reason, 已审核认定."""
    if record.state == State.IN_REVIEW:
        return f"待审核 · {workflow.current_step(record).label}"
    if record.state == State.RETURNED:
        return f"已退回：{record.return_reason}" if record.return_reason else "已退回"
    return str(State(record.state).label)


def status_detail(record: ReviewableRecord) -> str:
    if record.state == State.IN_REVIEW:
        return workflow.current_step(record).label
    if record.state == State.RETURNED:
        return f"退回原因：{record.return_reason}" if record.return_reason else ""
    return ""


def record_url(record: ReviewableRecord) -> str:
    return reverse("projects:record", args=[record.KIND, record.pk])


def edit_url(record: ReviewableRecord) -> str:
    return reverse("projects:record-edit", args=[record.KIND, record.pk])


def _with_query(url: str, **params) -> str:
    params = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{url}?{urlencode(params)}" if params else url


def tender_url(project: Project, scope: str) -> str:
    return _with_query(reverse("projects:tender-new", args=[project.pk]), scope=scope)


def completion_url(project: Project, contract_id: int | None = None) -> str:
    return _with_query(reverse("projects:completion-new", args=[project.pk]), contract=contract_id)


def permit_url(project: Project) -> str:
    return _with_query(reverse("projects:permit-new"), q=project.prj_num)


def review_new_url(project: Project) -> str:
    return reverse("projects:review-new", args=[project.pk])


def owed_items(
    project: Project, roles: set[str], records: list[ReviewableRecord], org_id: int
) -> tuple[list[Owed], list[str]]:
    """Return (what the organization owes on `project`, notes on what it waits for).

    Per role on the project (notice 一, 二): design → its drawing reviews (and, once the project is on
    the platform, the design tender); general contractor → the permit, then tender+contract of the
    construction scope and completion; survey and supervision → their tender+contract; specialty →
    its scope's tender+contract and completion, or in a direct specialty project, everything after
    its basic info.
    """
    mine = [r for r in records if r.owner_org_id == org_id]
    owed: list[Owed] = []
    notes: list[str] = []
    for record in mine:
        name = f"{record_label(record)}{(' ' + record.number) if record.number else ''}"
        if record.state == State.DRAFT:
            owed.append(Owed(f"{name}尚未提交，请补全后提交审核", edit_url(record), "继续填写"))
        elif record.state == State.RETURNED:
            owed.append(Owed(f"{name}已退回，请按退回原因修改后重新提交", edit_url(record), "修改"))

    def has(kind: str, **match) -> bool:
        return any(kind == r.KIND and all(getattr(r, k) == v for k, v in match.items()) for r in mine)

    def approved(kind: str) -> bool:
        return any(kind == r.KIND and r.state == State.APPROVED for r in records)

    closed = rules.platform_entry_closed(project)
    if project.kind == Project.Kind.DIRECT_SPECIALTY:
        if Role.SPECIALTY_CONTRACTOR in roles:
            info = rules.specialty_info_state(project)
            if info == State.IN_REVIEW:
                notes.append("基本信息待住房城乡建设部门审核，认定后再录入其他信息")
            elif info == State.APPROVED:
                _owed_direct_specialty(project, owed, notes, has, approved)
        return owed, notes

    if Role.DESIGN in roles:
        if project.origin == Origin.PLATFORM and not has(RecordKind.DRAWING_REVIEW):
            owed.append(Owed("补充录入施工图审查信息", review_new_url(project), "录入图审信息"))
        if not closed and not has(RecordKind.TENDER_CONTRACT, scope=Scope.DESIGN):
            owed.append(Owed("待录入设计招投标及合同信息", tender_url(project, Scope.DESIGN), "录入"))
    if Role.GENERAL_CONTRACTOR in roles:
        permit_done = any(
            r.KIND == RecordKind.PERMIT and r.state == State.APPROVED and r.owner_org_id == org_id
            for r in records
        )
        if not has(RecordKind.PERMIT) and project.origin != Origin.PLATFORM:
            if approved(RecordKind.DRAWING_REVIEW):
                owed.append(Owed("待录入施工许可信息", permit_url(project), "录入施工许可"))
            else:
                notes.append("施工图审查信息审核认定后，再录入施工许可信息")
        prefix = "施工许可已认定，" if permit_done else ""
        if closed:
            if has(RecordKind.PERMIT):
                notes.append(closed)
        else:
            if not has(RecordKind.TENDER_CONTRACT, scope=Scope.CONSTRUCTION):
                owed.append(
                    Owed(
                        f"{prefix}待录入施工总包招投标及合同信息",
                        tender_url(project, Scope.CONSTRUCTION),
                        "录入",
                    )
                )
            if not has(RecordKind.COMPLETION, specialty_contract_id=None):
                owed.append(Owed(f"{prefix}待录入竣工验收信息", completion_url(project), "录入"))
    for role, scope in ((Role.SURVEY, Scope.SURVEY), (Role.SUPERVISION, Scope.SUPERVISION)):
        if role in roles and not closed and not has(RecordKind.TENDER_CONTRACT, scope=scope):
            label = Scope(scope).label
            owed.append(Owed(f"待录入{label}招投标及合同信息", tender_url(project, scope), "录入"))
    contracts = [r for r in mine if r.KIND == RecordKind.TENDER_CONTRACT and r.scope == Scope.SPECIALTY]
    # A subcontractor owes its scope's completion from its own contract on (notice 二(一)), a party or not yet.
    if (Role.SPECIALTY_CONTRACTOR in roles or contracts) and not closed:
        if not contracts:
            owed.append(Owed("待录入专业承包招投标及合同信息", tender_url(project, Scope.SPECIALTY), "录入"))
        for contract in contracts:
            if not has(RecordKind.COMPLETION, specialty_contract_id=contract.pk):
                owed.append(
                    Owed(
                        f"待录入专业承包范围（合同 {contract.number or contract.pk}）的竣工验收信息",
                        completion_url(project, contract.pk),
                        "录入",
                    )
                )
    if (
        closed
        and not owed
        and roles & {Role.SURVEY, Role.SUPERVISION, Role.SPECIALTY_CONTRACTOR, Role.DESIGN}
    ):
        notes.append(closed)
    return owed, notes


def _owed_direct_specialty(project, owed, notes, has, approved) -> None:
    """Notice 二(二): once its basic info is approved, the specialty contractor enters the rest."""
    if not has(RecordKind.DRAWING_REVIEW):
        owed.append(Owed("待录入施工图审查信息", review_new_url(project), "录入图审信息"))
    if not has(RecordKind.TENDER_CONTRACT):
        owed.append(Owed("待录入招投标及合同信息", tender_url(project, Scope.SPECIALTY), "录入招投标及合同"))
    if not has(RecordKind.PERMIT):
        if approved(RecordKind.DRAWING_REVIEW):
            owed.append(Owed("待录入施工许可信息", permit_url(project), "录入施工许可"))
        else:
            notes.append("施工图审查信息审核认定后，再录入施工许可信息")
    if not has(RecordKind.COMPLETION):
        owed.append(Owed("待录入竣工验收信息", completion_url(project), "录入竣工验收"))


def project_actions(
    project: Project, roles: set[str], records: list[ReviewableRecord], org, closed: str
) -> dict[str, bool]:
    """Which "new record" buttons the project page offers the organization (the services decide)."""
    direct = project.kind == Project.Kind.DIRECT_SPECIALTY
    specialty = Role.SPECIALTY_CONTRACTOR in roles
    info_approved = direct and rules.specialty_info_state(project) == State.APPROVED
    own_specialty_contract = any(
        r.KIND == RecordKind.TENDER_CONTRACT and r.owner_org_id == org.pk and r.scope == Scope.SPECIALTY
        for r in records
    )
    return {
        "permit": (Role.GENERAL_CONTRACTOR in roles and not direct and project.origin != Origin.PLATFORM)
        or (info_approved and specialty),
        "tender": not closed and (not direct or specialty),
        "completion": not closed
        and (Role.GENERAL_CONTRACTOR in roles or (specialty and (direct or own_specialty_contract))),
        "review": (project.origin == Origin.PLATFORM and org.has_kind(Organization.Kind.DESIGN))
        or (info_approved and specialty),
    }


def project_rows(
    projects: list[Project],
    records: dict[int, list[ReviewableRecord]],
    roles: dict[int, set[str]],
    org_id: int,
) -> list[ProjectRow]:
    role_labels = dict(ProjectParty.Role.choices)
    rows = []
    for project in projects:
        project_roles = roles.get(project.pk, set())
        project_records = records.get(project.pk, [])
        if not project_roles:
            # Not a party (yet): a project listed for the organization's own drafts or records in
            # review; a draft grants no view of the project or of others' records.
            project_records = [r for r in project_records if r.owner_org_id == org_id]
        owed, notes = owed_items(project, project_roles, project_records, org_id)
        if not project_roles:
            notes.append("本单位录入的信息审核认定后，即成为该项目的参建单位，可查看项目全部信息")
        rows.append(
            ProjectRow(
                project=project,
                roles=[str(role_labels[r]) for r in ProjectParty.Role.values if r in project_roles],
                records=[record_line(r, org_id) for r in project_records],
                owed=owed,
                notes=notes,
                is_party=bool(project_roles),
            )
        )
    return rows


def record_line(record: ReviewableRecord, org_id: int) -> RecordLine:
    return RecordLine(
        record=record,
        label=record_label(record),
        number=record.number or "",
        status=status_text(record),
        detail=status_detail(record),
        mine=record.owner_org_id == org_id,
        url=record_url(record),
    )
