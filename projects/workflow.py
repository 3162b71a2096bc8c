"""The whole workflow of the notice at a glance: who enters each kind of record, who reviews it,
in which order, and everything else that differs from one record kind to the next.

This module is declarations only (no queries). Everything that branches on a record's kind reads
`KINDS`; everything that decides who reviews reads `CHAINS`. See docs/architecture.md for how a
request flows through it and for the walkthroughs "add a record kind" and "add a step".

| record (chain key)                 | entered by                              | review chain (step keys)                                   |
|------------------------------------|-----------------------------------------|------------------------------------------------------------|
| drawing_review:pms       (一(一)1) | design unit, completing an existing one | institution_confirm 审图机构确认 → division_verify 省厅复核 |
| addition_request         (一(一)1) | design unit                             | division_approve 省厅勘察设计处审批                         |
| permit                   (一(一)2) | general contractor; submitted on entry  | issuing_review 施工许可信息 reviewers of the issuing authority |
| tender_contract          (一(二)1) | the unit that won that scope            | tender_review 招标投标信息、合同登记信息 reviewers where it is |
| completion               (一(二)2) | general contractor only (+ specialty)   | completion_review 竣工验收… reviewers where it is           |
| specialty_info           (二(二))  | specialty contractor                    | specialty_review 工程项目基本信息 reviewers where it is      |
| drawing_review:platform  (三, 二(二))| design unit (specialty contractor)    | local_drawing_review 施工图审查信息 reviewers where it is    |
| level_raise (提级, issue 18)        | an approved record's enterer            | level_verify: reviewers of the records' stage one level up |
| 更正 correction (issue 18)          | the approved record's enterer           | the record's own chain again, as a new round (correction_chain) |

A step is named by its key, and records, inbox rows and audit entries store that key: a step
inserted into a chain never shifts a record that is already in flight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce, NullIf

from projects.models import (
    EDITABLE_STATES,
    Completion,
    ConstructionPermit,
    DrawingReview,
    DrawingReviewAdditionRequest,
    RecordKind,
    ReviewableRecord,
    SpecialtyProjectInfo,
    State,
    TenderContract,
)
from projects.stages import REVIEW_STAGES, Performer, Stage
from yunjian.core.models import Organization, Role

__all__ = ["CHAINS", "KINDS", "REVIEW_STAGES", "Kind", "Performer", "Stage", "Step"]

# --- who reviews: stages (附件2), performers, steps, chains -------------------------------------


@dataclass(frozen=True)
class Step:
    key: str  # stable name, stored on records, tasks and audit entries
    performer: str
    label: str
    stage: str = ""  # roster stage for Performer.ROSTER
    where: str = ""  # "project" (the project's county) or "issuing" (the permit's issuing authority)
    # The decision buttons' texts at this step (approve, return).
    buttons: tuple[str, str] = ("审核通过（认定）", "退回录入单位")


CHAINS: dict[str, tuple[Step, ...]] = {
    "drawing_review:pms": (
        Step(
            "institution_confirm",
            Performer.INSTITUTION,
            "审图机构确认",
            buttons=("确认无误，提交省厅勘察设计处复核", "退回设计单位"),
        ),
        Step(
            "division_verify",
            Performer.DESIGN_DIVISION,
            "省厅勘察设计处复核",
            buttons=("复核通过（审核认定）", "退回设计单位"),
        ),
    ),
    "drawing_review:platform": (
        Step(
            "local_drawing_review",
            Performer.ROSTER,
            "住建部门审核（施工图审查信息）",
            Stage.DRAWING_REVIEW,
            "project",
        ),
    ),
    "addition_request": (
        Step(
            "division_approve",
            Performer.DESIGN_DIVISION,
            "省厅勘察设计处审批",
            buttons=("批准新增（生成图审信息）", "不予批准，退回申请单位"),
        ),
    ),
    "permit": (
        Step("issuing_review", Performer.ROSTER, "发证机关审核（施工许可信息）", Stage.PERMIT, "issuing"),
    ),
    "tender_contract": (
        Step(
            "tender_review",
            Performer.ROSTER,
            "住建部门审核（招标投标信息、合同登记信息）",
            Stage.TENDER_CONTRACT,
            "project",
        ),
    ),
    "completion": (
        Step(
            "completion_review",
            Performer.ROSTER,
            "住建部门审核（竣工验收及备案信息）",
            Stage.COMPLETION,
            "project",
        ),
    ),
    "specialty_info": (
        Step(
            "specialty_review",
            Performer.ROSTER,
            "住建部门审核（专业承包项目基本信息）",
            Stage.SPECIALTY_BASIC,
            "project",
        ),
    ),
    # 提级 (issue 18): the authority one level up above the record's approval verifies and raises its
    # 数据等级 — the prefecture for C → B, the province for B → A — through the reviewers of the
    # records' own stage there (review.jurisdiction.performs_level; stage "" = the records' stage).
    "level_raise": (
        Step(
            "level_verify",
            Performer.ROSTER,
            "上级住房城乡建设部门核实（提级）",
            where="level",
            buttons=("核实无误，提级", "不予提级"),
        ),
    ),
}

# What a level request asks for: the level one up (A is the top; D is not yet approved).
RAISE_TO = {"C": "B", "B": "A"}


def chain_for(record: ReviewableRecord) -> tuple[Step, ...]:
    return CHAINS[record.chain_key]


# 更正 (issue 18): the enterer's correction of an approved record (projects.models.Correction) is
# reviewed by the record's OWN chain, step by step, as a new round: the same people who approved the
# record approve its correction, and the last of them sets its 数据等级 again. Every kind that is a
# performance record can be corrected; an addition request's approval created a drawing review,
# which is what would be corrected.
CORRECTABLE: tuple[str, ...] = (
    RecordKind.DRAWING_REVIEW,
    RecordKind.PERMIT,
    RecordKind.TENDER_CONTRACT,
    RecordKind.COMPLETION,
    RecordKind.SPECIALTY_INFO,
)
CORRECTION_BUTTONS = ("同意更正（新版本生效）", "退回更正申请")


def correction_chain(record: ReviewableRecord) -> tuple[Step, ...]:
    """The chain a correction of `record` goes through: the record's own."""
    return chain_for(record)


def correction_next_step_key(record: ReviewableRecord, key: str) -> str:
    """The key of the step after `key` in the correction's chain, or "" when `key` is the last."""
    keys = [s.key for s in correction_chain(record)]
    index = keys.index(key)
    return keys[index + 1] if index + 1 < len(keys) else ""


def step_of(record: ReviewableRecord, key: str | None = None) -> Step | None:
    """Return the step named `key` (default: the record's current step) in the record's chain."""
    key = record.step if key is None else key
    return next((s for s in chain_for(record) if s.key == key), None)


def current_step(record: ReviewableRecord) -> Step:
    step = step_of(record)
    if step is None:
        raise LookupError(f"{record.chain_key}: no step {record.step!r}")
    return step


def step_position(record: ReviewableRecord) -> int:
    """Index of the current step in the chain (for "step 2 of 2" and the done/pending marks)."""
    keys = [s.key for s in chain_for(record)]
    if record.state == State.APPROVED:
        return len(keys)
    return keys.index(record.step) if record.step in keys else 0


def next_step_key(record: ReviewableRecord) -> str:
    """The key of the step after the current one, or "" when the current step is the last."""
    keys = [s.key for s in chain_for(record)]
    index = keys.index(record.step)
    return keys[index + 1] if index + 1 < len(keys) else ""


# --- who enters -----------------------------------------------------------------------------


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
    return is_enterer(user, record) and record.state in EDITABLE_STATES


# --- the record kinds -----------------------------------------------------------------------

GENERAL_REASONS = (
    "填报信息与证书（文件）原件不一致，请核对后修改",
    "附件缺失或无法辨认，请补充上传清晰的扫描件",
)
PROJECT_REASONS = ("项目基本信息（名称、地点、建设单位、投资或面积）有误",)
# Basic info of a project required before a record that carries it is submitted (notice 一(一)3).
PROJECT_REQUIRED = ("name", "prj_type", "prj_function", "county", "owner_org")
# ... and before one that sends the project to the platform (TBProjectInfo, docs/data-standard.md §2.10).
PROJECT_EXCHANGE_REQUIRED = (*PROJECT_REQUIRED, "prj_property", "actual_start", "actual_end")


@dataclass(frozen=True)
class Kind:
    """Everything about one kind of reviewable record, in one place.

    Dotted paths name things in modules that import this one (forms, services, the sync layer's
    payload builders); `tests/workflow/test_registry.py` resolves every one of them.
    """

    key: str
    model: type[ReviewableRecord]
    short_label: str  # the workspace's and lists' name of the record
    enterers: tuple[str, ...]  # organization kinds that may enter it
    chains: tuple[str, ...]  # chain keys (a drawing review takes one of two, by its path)
    required: tuple[str, ...]  # fields required on submission (forms mark them, submission checks them)
    reasons: tuple[str, ...]  # common reasons for returning it, offered as checkboxes
    related: tuple[str, ...]  # select_related of a record page
    form: str  # the entry form (projects.forms); it carries the per-kind entry page differences
    outbound: str  # the sync layer's builder of its exchange items (tables below)
    tables: tuple[str, ...]  # the national exchange tables it feeds (docs/data-standard.md §1)
    number: Callable[[], models.Expression]  # its number as an SQL expression (lists, search)
    carries_project: bool = False  # its form carries the project's basic info and buildings
    in_project: bool = True  # it belongs to a project from the start (an addition request may not)
    needs_platform_entry: bool = False  # entered only once the project is open on the platform (一(二))
    on_approved: str = ""  # a records-layer effect of its final approval (projects.services)
    project_required: tuple[str, ...] = field(default=())
    approved_text: str = "已审核认定，无需再操作。"  # the enterer's next step once it is approved

    @property
    def label(self) -> str:
        return str(RecordKind(self.key).label)

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(s for chain in self.chains for s in CHAINS[chain])


KINDS: dict[str, Kind] = {
    RecordKind.DRAWING_REVIEW: Kind(
        key=RecordKind.DRAWING_REVIEW,
        model=DrawingReview,
        short_label="图审信息",
        enterers=(Organization.Kind.DESIGN, Organization.Kind.SPECIALTY_CONTRACTOR),
        chains=("drawing_review:pms", "drawing_review:platform"),
        required=("censor_org", "censor_date", "one_pass", "survey_org"),
        project_required=PROJECT_REQUIRED,
        carries_project=True,
        reasons=(
            "施工图审查合格书编号与原件不一致",
            "审查完成日期有误",
            "一次审查是否通过或违反强条情况填写有误",
            "单体及技术指标与审查图纸不符",
            *PROJECT_REASONS,
            *GENERAL_REASONS,
        ),
        related=("project", "project__county", "owner_org", "censor_org", "survey_org", "entered_by"),
        form="projects.forms.DrawingReviewForm",
        outbound="sync.payloads.drawing_review_items",
        on_approved="projects.services.drawing_review_approved",
        approved_text="已审核认定。施工总承包单位录入施工许可时可以选择此图审信息。",
        tables=("TBProjectCensorInfo",),
        number=lambda: F("censor_num"),
    ),
    RecordKind.ADDITION_REQUEST: Kind(
        key=RecordKind.ADDITION_REQUEST,
        model=DrawingReviewAdditionRequest,
        short_label="图审信息新增申请",
        enterers=(Organization.Kind.DESIGN,),
        chains=("addition_request",),
        required=(),  # every field of the request is required by the model itself
        in_project=False,
        reasons=(
            "系统中已有该图审信息，无需申请新增",
            "未说明系统中无图审信息的历史原因",
            "施工图审查合格书编号或审查机构无法核实",
            "申请表信息不完整或经办人联系方式有误",
            *GENERAL_REASONS,
        ),
        related=("project", "county", "owner_org", "censor_org", "entered_by", "created_review"),
        form="projects.forms.AdditionRequestForm",
        outbound="sync.payloads.no_items",  # approval creates a drawing review; nothing is sent itself
        tables=(),
        number=lambda: F("censor_num"),
        on_approved="projects.services.create_review_from_request",
        approved_text="省厅勘察设计处已同意新增，系统已生成图审信息，请到“我的图审信息”中完善后提交审核。",
    ),
    RecordKind.PERMIT: Kind(
        key=RecordKind.PERMIT,
        model=ConstructionPermit,
        short_label="施工许可信息",
        enterers=(Organization.Kind.GENERAL_CONTRACTOR, Organization.Kind.SPECIALTY_CONTRACTOR),
        chains=("permit",),
        required=(
            "permit_num",
            "issuing_org",
            "issue_date",
            "contract_amount",
            "contract_num",
            "project_manager",
            "project_manager_id",
            "supervision_org",
            "chief_supervisor",
            "chief_supervisor_id",
        ),
        project_required=PROJECT_EXCHANGE_REQUIRED,
        carries_project=True,
        reasons=(
            "施工许可证编号与原件不一致",
            "发证日期有误",
            "合同金额、面积等与施工许可证不一致",
            "项目经理或总监理工程师信息有误",
            "所选施工图审查信息与本施工许可不对应",
            *PROJECT_REASONS,
            *GENERAL_REASONS,
        ),
        related=("project", "project__county", "owner_org", "issuing_org", "supervision_org", "entered_by"),
        form="projects.forms.PermitForm",
        outbound="sync.payloads.permit_items",
        tables=("TBProjectInfo", "TBProjectCensorInfo", "TBBuilderLicenceManage"),
        number=lambda: F("permit_num"),
        on_approved="projects.services.mark_permit_approved",
        approved_text="已审核认定。项目数据将同步至省一体化平台，同步完成后可录入招投标、合同及竣工验收信息。",
    ),
    RecordKind.TENDER_CONTRACT: Kind(
        key=RecordKind.TENDER_CONTRACT,
        model=TenderContract,
        short_label="招投标及合同信息",
        enterers=(
            Organization.Kind.SURVEY,
            Organization.Kind.DESIGN,
            Organization.Kind.GENERAL_CONTRACTOR,
            Organization.Kind.SUPERVISION,
            Organization.Kind.SPECIALTY_CONTRACTOR,
        ),
        chains=("tender_contract",),
        required=(
            "tender_num",
            "tender_date",
            "tender_amount",
            "area",
            "project_leader",
            "leader_id",
            "contract_num",
            "contract_amount",
            "contract_date",
            "client_name",
        ),
        needs_platform_entry=True,
        reasons=(
            "中标通知书编号或中标日期有误",
            "中标金额与合同金额不一致且未说明",
            "合同编号或合同签订日期有误",
            "招标方式或招标代理单位信息有误",
            "发包单位或联合体信息有误",
            *GENERAL_REASONS,
        ),
        related=("project", "project__county", "owner_org", "entered_by"),
        form="projects.forms.TenderContractForm",
        outbound="sync.payloads.tender_contract_items",
        on_approved="projects.services.tender_contract_approved",
        tables=("TBTenderInfo", "TBContractRecordManage"),
        number=lambda: Coalesce(NullIf(F("contract_num"), Value("")), F("tender_num")),
    ),
    RecordKind.COMPLETION: Kind(
        key=RecordKind.COMPLETION,
        model=Completion,
        short_label="竣工验收及备案信息",
        enterers=(Organization.Kind.GENERAL_CONTRACTOR, Organization.Kind.SPECIALTY_CONTRACTOR),
        chains=("completion",),
        required=(
            "permit",
            "acceptance_date",
            "actual_start",
            "actual_cost",
            "actual_area",
            "filing_num",
            "filing_date",
        ),
        needs_platform_entry=True,
        reasons=(
            "竣工验收日期或备案日期有误",
            "竣工验收备案编号与备案证明不一致",
            "实际造价、实际面积或建设规模有误",
            "备案机关信息有误",
            *GENERAL_REASONS,
        ),
        related=("project", "project__county", "owner_org", "filing_org", "specialty_contract", "entered_by"),
        form="projects.forms.CompletionForm",
        outbound="sync.payloads.completion_items",
        tables=("TBProjectFinishManage",),
        number=lambda: Coalesce(NullIf(F("filing_num"), Value("")), F("acceptance_num")),
    ),
    RecordKind.SPECIALTY_INFO: Kind(
        key=RecordKind.SPECIALTY_INFO,
        model=SpecialtyProjectInfo,
        short_label="专业承包项目基本信息",
        enterers=(Organization.Kind.SPECIALTY_CONTRACTOR,),
        chains=("specialty_info",),
        required=("specialty_scope",),
        project_required=PROJECT_EXCHANGE_REQUIRED,
        carries_project=True,
        reasons=(
            "不属于建设单位直接发包的专业承包项目",
            "专业承包内容填写不清",
            *PROJECT_REASONS,
            *GENERAL_REASONS,
        ),
        related=("project", "project__county", "project__owner_org", "owner_org", "entered_by"),
        form="projects.forms.SpecialtyInfoForm",
        outbound="sync.payloads.specialty_info_items",
        approved_text="基本信息已审核认定，请在项目页录入招投标及合同、施工图审查、施工许可和竣工验收信息。",
        tables=("TBProjectInfo",),
        number=lambda: F("project__prj_num"),
    ),
}

PROJECT_KINDS = tuple(k for k, spec in KINDS.items() if spec.in_project)


def kind_of(record_or_key) -> Kind:
    key = record_or_key if isinstance(record_or_key, str) else record_or_key.KIND
    return KINDS[key]


def required_for(record: ReviewableRecord) -> tuple[str, ...]:
    """The fields `record` needs to be submitted: its kind's `required`, as its model applies them
    (e.g. a subcontracted specialty completion needs no filing, notice 二(一))."""
    return record.required_fields(kind_of(record).required)


def model_for(key: str) -> type[ReviewableRecord] | None:
    spec = KINDS.get(key)
    return spec.model if spec else None


def reasons_for(key: str) -> tuple[str, ...]:
    spec = KINDS.get(key)
    return spec.reasons if spec else GENERAL_REASONS


def may_enter(organization: Organization | None, key: str) -> bool:
    """Whether an organization of its kinds may enter records of kind `key` at all (its enterers)."""
    return organization is not None and any(organization.has_kind(k) for k in KINDS[key].enterers)


def registry_problems(kinds: dict[str, Kind] | None = None) -> list[str]:
    """What is missing or wrong in the registry: a half-registered kind is named here, and
    `manage.py check` (projects.apps) refuses to start with one."""
    from django.core.exceptions import FieldDoesNotExist
    from django.utils.module_loading import import_string

    kinds = KINDS if kinds is None else kinds
    problems = []
    if set(kinds) != set(RecordKind.values):
        problems.append(f"KINDS 与 RecordKind 不一致：{sorted(set(RecordKind.values) ^ set(kinds))}")
    for key, spec in kinds.items():
        where = f"KINDS[{str(key)!r}]"
        if spec.key != key or getattr(spec.model, "KIND", None) != key:
            problems.append(f"{where}: key, model.KIND and the dict key differ")
        if not spec.chains or any(chain not in CHAINS or not CHAINS[chain] for chain in spec.chains):
            problems.append(f"{where}: no review chain")
        if not spec.enterers:
            problems.append(f"{where}: no enterers")
        if not spec.reasons:
            problems.append(f"{where}: no return reasons")
        if not spec.required and spec.model is not DrawingReviewAdditionRequest:
            problems.append(f"{where}: no fields required on submission")
        for name in spec.required:
            try:
                spec.model._meta.get_field(name)
            except FieldDoesNotExist:
                problems.append(f"{where}: required field {name!r} does not exist")
        for dotted in (spec.form, spec.outbound, *([spec.on_approved] if spec.on_approved else [])):
            try:
                target = import_string(dotted)
            except ImportError:
                problems.append(f"{where}: {dotted} cannot be imported")
                continue
            if dotted == spec.form and getattr(target, "KIND", None) != key:
                problems.append(f"{where}: {dotted}.KIND is not {key!r}")
    for chain_key, chain in CHAINS.items():
        if len({s.key for s in chain}) != len(chain):
            problems.append(f"CHAINS[{chain_key!r}]: a step key repeats")
    return problems
