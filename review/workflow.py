"""The whole workflow of the notice at a glance: who enters each record, who reviews it, in which order.

Compare line by line with the table "Who enters what, who reviews it" in DESIGN.md:

| record (chain key)                 | entered by                              | review chain                                       |
|------------------------------------|-----------------------------------------|----------------------------------------------------|
| drawing_review:pms       (一(一)1) | design unit, completing an existing one | 审图机构确认 → 省厅勘察设计处复核                   |
| addition_request         (一(一)1) | design unit                             | 省厅勘察设计处                                       |
| permit                   (一(一)2) | general contractor; submitted on entry  | 施工许可信息 reviewers of the issuing authority     |
| tender_contract          (一(二)1) | the unit that won that scope            | 招标投标信息、合同登记信息 reviewers where it is    |
| completion               (一(二)2) | general contractor only (+ specialty)   | 竣工验收信息及竣工验收备案信息 reviewers where it is|
| specialty_info           (二(二))  | specialty contractor                    | 工程项目基本信息 reviewers where it is              |
| drawing_review:platform  (三, 二(二))| design unit                            | 施工图审查信息 reviewers where it is                |

`CHAINS` below is that table as data; `ENTERERS` the second column. Everything that
decides who may act reads these two, so changing the workflow is changing them.
"""

from __future__ import annotations

from dataclasses import dataclass

from projects.models import RecordKind, ReviewableRecord, State
from review.models import Performer, ReviewerAssignment
from review.stages import Stage
from yunjian.core.models import Organization, Role


@dataclass(frozen=True)
class Step:
    performer: str
    label: str
    stage: str = ""  # roster stage for Performer.ROSTER
    where: str = ""  # "project" (project's county) or "issuing" (permit's issuing authority)


INSTITUTION_CONFIRM = Step(Performer.INSTITUTION, "审图机构确认")
DIVISION_VERIFY = Step(Performer.DESIGN_DIVISION, "省厅勘察设计处复核")

CHAINS: dict[str, tuple[Step, ...]] = {
    "drawing_review:pms": (INSTITUTION_CONFIRM, DIVISION_VERIFY),
    "drawing_review:platform": (
        Step(Performer.ROSTER, "住建部门审核（施工图审查信息）", Stage.DRAWING_REVIEW, "project"),
    ),
    RecordKind.ADDITION_REQUEST: (Step(Performer.DESIGN_DIVISION, "省厅勘察设计处审批"),),
    RecordKind.PERMIT: (Step(Performer.ROSTER, "发证机关审核（施工许可信息）", Stage.PERMIT, "issuing"),),
    RecordKind.TENDER_CONTRACT: (
        Step(
            Performer.ROSTER, "住建部门审核（招标投标信息、合同登记信息）", Stage.TENDER_CONTRACT, "project"
        ),
    ),
    RecordKind.COMPLETION: (
        Step(Performer.ROSTER, "住建部门审核（竣工验收及备案信息）", Stage.COMPLETION, "project"),
    ),
    RecordKind.SPECIALTY_INFO: (
        Step(Performer.ROSTER, "住建部门审核（专业承包项目基本信息）", Stage.SPECIALTY_BASIC, "project"),
    ),
}

# Which organization kind enters each record. Tender+contract depends on the scope won
# (projects.codes.SCOPE_ORG_KIND); completion also admits the specialty contractor for its own scope.
ENTERERS: dict[str, tuple[str, ...]] = {
    RecordKind.DRAWING_REVIEW: (Organization.Kind.DESIGN,),
    RecordKind.ADDITION_REQUEST: (Organization.Kind.DESIGN,),
    RecordKind.PERMIT: (Organization.Kind.GENERAL_CONTRACTOR,),
    RecordKind.TENDER_CONTRACT: (
        Organization.Kind.SURVEY,
        Organization.Kind.DESIGN,
        Organization.Kind.GENERAL_CONTRACTOR,
        Organization.Kind.SUPERVISION,
        Organization.Kind.SPECIALTY_CONTRACTOR,
    ),
    RecordKind.COMPLETION: (Organization.Kind.GENERAL_CONTRACTOR, Organization.Kind.SPECIALTY_CONTRACTOR),
    RecordKind.SPECIALTY_INFO: (Organization.Kind.SPECIALTY_CONTRACTOR,),
}


def chain_for(record: ReviewableRecord) -> tuple[Step, ...]:
    return CHAINS[record.chain_key]


def current_step(record: ReviewableRecord) -> Step:
    return chain_for(record)[record.step]


def jurisdiction_code(record: ReviewableRecord, step: Step) -> str:
    """Return the county or division code whose reviewers perform `step` for `record`."""
    if step.where == "issuing":
        return record.issuing_division_id
    if step.where == "project":
        return record.project.county_id if record.project_id else ""
    return ""


def step_assignee_org_id(record: ReviewableRecord, step: Step) -> int | None:
    if step.performer == Performer.INSTITUTION:
        return record.censor_org_id
    return None


def covering_q(code: str, prefix: str = ""):
    """Return a Q matching assignments (by `prefix` path) whose division or zone covers county `code`."""
    from django.db.models import Q

    prefecture = code[:4] + "00"
    province = code[:2] + "0000"
    return Q(**{f"{prefix}division_id__in": [code, prefecture, province]}) | Q(
        **{f"{prefix}zone__counties": code}
    )


def is_enterer(user, record: ReviewableRecord) -> bool:
    """The enterer side: an enterprise user of the organization that owns the record."""
    return (
        user.is_authenticated
        and user.is_active
        and user.has_role(Role.ENTERPRISE)
        and user.organization_id is not None
        and user.organization_id == record.owner_org_id
    )


def can_submit(user, record: ReviewableRecord) -> bool:
    return is_enterer(user, record) and record.state in (State.DRAFT, State.RETURNED)


def can_perform(user, record: ReviewableRecord, step: Step) -> bool:
    """Whether `user` performs `step` of `record`. Nobody reviews a record their own organization entered."""
    if not (user.is_authenticated and user.is_active) or user.organization_id is None:
        return False
    if user.organization_id == record.owner_org_id:
        return False
    if step.performer == Performer.INSTITUTION:
        return user.has_role(Role.INSTITUTION) and user.organization_id == step_assignee_org_id(record, step)
    if step.performer == Performer.DESIGN_DIVISION:
        return user.has_role(Role.DESIGN_DIVISION)
    if not user.has_role(Role.REVIEWER):
        return False
    code = jurisdiction_code(record, step)
    return ReviewerAssignment.objects.filter(covering_q(code), user=user, stage=step.stage).exists()


def can_decide(user, record: ReviewableRecord) -> bool:
    return record.state == State.IN_REVIEW and can_perform(user, record, current_step(record))
