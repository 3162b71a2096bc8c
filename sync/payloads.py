"""Payloads in the national data standard's tables and field names (docs/data-standard.md §1).

Every value is a scalar (text or number): the exchange validator refuses lists and objects, so
staff and buildings travel as rows of their own tables (TBProjectDesignEconUserInfo,
TBProjectBuilderUserInfo; the buildings' 单体 indicators as TBProjectUnitInfo, the province's name for
the standard's 单体 list, whose national table name was not found). Every code column carries its
code (§2), never a name; where the national code list is unknown (结构体系) a 3-character provincial
code goes in the code column and the name in its name column. Fields the standard does not name are
kept to a few documented extensions: IssueOrgName/IssueOrgCode (发证机关), TenderNum on a contract
(links it to its tender), CompletionCheckNum and FilingDate on a completion, PrjStructureTypeName.

Which tables each record kind feeds is its builder below, named by KINDS[kind].outbound.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import timezone
from django.utils.module_loading import import_string

from projects import codes, workflow
from projects.models import (
    DATA_SOURCE_CAMPAIGN,
    Completion,
    ConstructionPermit,
    DrawingReview,
    Origin,
    Project,
    ReviewableRecord,
    State,
    TenderContract,
    data_source_of,
)
from review.models import Task
from sync import protocol
from yunjian.core.models import prefecture_code

# Chinese names of the standard's fields, for the operators' pages and error messages.
FIELD_LABELS = {
    "PrjNum": "项目编号",
    "PrjInnerNum": "原业务系统内部编号",
    "PrjName": "项目名称",
    "PrjTypeNum": "项目分类",
    "BuildCorpName": "建设单位名称",
    "BuildCorpCode": "建设单位统一社会信用代码",
    "ProvinceNum": "项目所在省",
    "CityNum": "项目所在地市",
    "CountyNum": "项目所在区县",
    "PrjApprovalNum": "立项文号",
    "PrjApprovalLevelNum": "立项级别",
    "BuldPlanNum": "建设用地规划许可证编号",
    "ProjectPlanNum": "建设工程规划许可证编号",
    "AllInvest": "总投资（万元）",
    "AllArea": "总面积（平方米）",
    "PrjSize": "建设规模",
    "PrjPropertyNum": "建设性质",
    "PrjFunctionNum": "工程用途",
    "BDate": "实际开工日期",
    "EDate": "实际竣工（验收）日期",
    "ADDRESS": "具体地点",
    "BEGINDATE": "计划开工日期",
    "ENDDATE": "计划竣工日期",
    "DataSource": "数据来源",
    "DataLevel": "数据等级",
    "CensorNum": "施工图审查合格书编号",
    "CensorInnerNum": "合格书内部编号",
    "CensorCorpName": "施工图审查机构名称",
    "CensorCorpCode": "施工图审查机构统一社会信用代码",
    "CensorEDate": "审查完成日期",
    "EconCorpName": "勘察单位名称",
    "EconCorpCode": "勘察单位统一社会信用代码",
    "DesignCorpName": "设计单位名称",
    "DesignCorpCode": "设计单位统一社会信用代码",
    "OneCensorIsPass": "一次审查是否通过",
    "OneCensorWfqtCount": "一次审查时违反强条数",
    "OneCensorWfqtContent": "一次审查时违反的强条条目",
    "XFCensorNo": "消防审查合格书编号",
    "RFCensorNo": "人防审查合格书编号",
    "BuilderLicenceNum": "施工许可证编号",
    "BuilderLicenceInnerNum": "施工许可内部编号",
    "ProjectName": "工程名称",
    "SectionName": "标段名称",
    "ContractMoney": "合同金额（万元）",
    "Area": "面积（平方米）",
    "Length": "长度（米）",
    "Span": "跨度（米）",
    "ReleaseDate": "发证日期",
    "IssueCertDate": "发证日期（证书）",
    "IssueOrgName": "发证机关名称",
    "IssueOrgCode": "发证机关统一社会信用代码",
    "ConsCorpName": "施工单位名称",
    "ConsCorpCode": "施工单位统一社会信用代码",
    "SuperCorpName": "监理单位名称",
    "SuperCorpCode": "监理单位统一社会信用代码",
    "SafetyCerID": "施工单位安全生产许可证编号",
    "ConstructorName": "项目负责人（项目经理/总监理工程师）",
    "SupervisionName": "总监理工程师",
    "TenderNum": "中标通知书编号",
    "TenderInnerNum": "招投标内部编号",
    "TenderClassNum": "招标类型",
    "TenderTypeNum": "招标方式",
    "TenderResultDate": "中标日期",
    "TenderMoney": "中标金额（万元）",
    "AgencyCorpName": "招标代理单位名称",
    "AgencyCorpCode": "招标代理单位统一社会信用代码",
    "TenderCorpName": "中标单位名称",
    "TenderCorpCode": "中标单位统一社会信用代码",
    "RecordNum": "合同备案（登记）编号",
    "RecordInnerNum": "合同内部编号",
    "RecordName": "合同备案名称",
    "ContractNum": "合同编号",
    "ContractTypeNum": "合同类别",
    "ContractDate": "合同签订日期",
    "PropietorCorpName": "发包单位名称",
    "PropietorCorpCode": "发包单位统一社会信用代码",
    "ContractorCorpName": "承包单位名称",
    "ContractorCorpCode": "承包单位统一社会信用代码",
    "UnionCorpName": "联合体承包单位名称",
    "UnionCorpCode": "联合体承包单位统一社会信用代码",
    "PrjHead": "项目负责人",
    "PrjFinishNum": "竣工备案编号",
    "PrjFinishInnerNum": "竣工备案内部编号",
    "CompletionCheckNum": "竣工验收编号",
    "QCCorpName": "质量检测机构名称",
    "FactCost": "实际造价（万元）",
    "FactArea": "实际面积（平方米）",
    "FactSize": "实际建设规模",
    "PrjStructureTypeNum": "结构体系",
    "FilingDate": "备案日期",
    "BuilderLicenceName": "施工许可名称",
    "CIDCardTypeNum": "项目经理证件类型",
    "ConstructorIDCard": "项目经理身份证号码",
    "SIDCardTypeNum": "总监理工程师证件类型",
    "SupervisionIDCard": "总监理工程师身份证号码",
    "IDCardTypeNum": "证件类型",
    "IDCard": "身份证号码",
    "UserName": "姓名",
    "UserType": "人员类型",
    "CertID": "注册证书编号",
    "SpecialtyTypNum": "注册类型及等级",
    "PrjDuty": "承担角色",
    "TenderName": "招标项目名称",
    "PrjFinishName": "备案项目名称",
    "PrjStructureTypeName": "结构体系名称",
    "CheckDepartName": "信息审核部门",
    "CheckPersonName": "信息审核人",
    "UnitNum": "单体编码",
    "UnitName": "单体名称",
    "Mark": "备注",
}


def field_label(name: str) -> str:
    """The Chinese name of a standard field (the field name itself when unknown)."""
    from sync.receiver.validation import label

    return FIELD_LABELS.get(name) or label(name)


DATA_SOURCE = DATA_SOURCE_CAMPAIGN  # every record of this campaign (docs/data-standard.md §2.11)
ID_CARD = codes.IDCardType.ID_CARD.value


def _d(value: date | None) -> str:
    return value.isoformat() if value else ""


def _n(value: Decimal | None) -> str:
    return format(value.normalize(), "f") if value is not None else ""


def _org(org) -> tuple[str, str]:
    return (org.name, org.credit_code) if org is not None else ("", "")


def _checker(record: ReviewableRecord) -> dict:
    """Who approved the record (CheckDepartName / CheckPersonName): the last approving decision."""
    task = (
        Task.objects.filter(
            kind=record.KIND, record_id=record.pk, status=Task.Status.DONE, outcome=Task.Outcome.APPROVED
        )
        .select_related("decided_by__organization")
        .order_by("-decided_at", "-id")
        .first()
    )
    if task is None or task.decided_by is None:
        return {"CheckDepartName": "", "CheckPersonName": ""}
    user = task.decided_by
    org = user.organization.name if user.organization_id else ""
    return {"CheckDepartName": org, "CheckPersonName": user.full_name or user.username}


def _common(record: ReviewableRecord) -> dict:
    """What every record's row carries (§2.11): its data source and level, and who approved it."""
    return {"DataSource": record.data_source, "DataLevel": record.data_level, **_checker(record)}


def _id_type(number: str) -> str:
    return ID_CARD if number else ""


def project_info(project: Project) -> dict:
    build_name, build_code = _org(project.owner_org)
    county = project.county_id
    return {
        "PrjNum": project.prj_num,
        "PrjInnerNum": str(project.pk),
        "PrjName": project.name,
        "PrjTypeNum": project.prj_type,
        "BuildCorpName": build_name,
        "BuildCorpCode": build_code,
        "ProvinceNum": county[:2] + "0000",
        "CityNum": prefecture_code(county),
        "CountyNum": county,
        "PrjApprovalNum": project.approval_num,
        "PrjApprovalLevelNum": project.approval_level,
        "BuldPlanNum": project.land_plan_num,
        "ProjectPlanNum": project.project_plan_num,
        "AllInvest": _n(project.total_investment),
        "AllArea": _n(project.total_area),
        "PrjSize": project.scale,
        "PrjPropertyNum": project.prj_property,
        "PrjFunctionNum": project.prj_function,
        "BDate": _d(project.actual_start),
        "EDate": _d(project.actual_end),
        "ADDRESS": project.address,
        "BEGINDATE": _d(project.planned_start),
        "ENDDATE": _d(project.planned_end),
        "DataSource": data_source_of(project.origin),
    }


def unit_info(project: Project, index: int, building) -> dict:
    """One building's technical indicators (单体), numbered within the project."""
    return {
        "PrjNum": project.prj_num,
        "UnitNum": f"{project.prj_num}-{index:03d}",
        "UnitName": building.name,
        "PrjStructureTypeNum": codes.STRUCTURE_TYPE_CODE.get(building.structure_type, ""),
        "PrjStructureTypeName": building.get_structure_type_display() if building.structure_type else "",
        "OverGroundFloors": building.floors_above if building.floors_above is not None else "",
        "UnderGroundFloors": building.floors_below if building.floors_below is not None else "",
        "Height": _n(building.height),
        "Span": _n(building.span),
        "Length": _n(building.length),
        "OverGroundArea": _n(building.area_above),
        "UnderGroundArea": _n(building.area_below),
        "SeismicIntensity": building.seismic_intensity,
        "IsPrefabricated": int(building.prefabricated),
        "IsGreenBuilding": int(building.green_building),
        "IsOverLimit": int(building.over_limit),
    }


def censor_info(review: DrawingReview) -> dict:
    censor_name, censor_code = _org(review.censor_org)
    design_name, design_code = _org(review.owner_org)
    survey_name, survey_code = _org(review.survey_org)
    return {
        "CensorNum": review.censor_num,
        "CensorInnerNum": str(review.pk),
        "PrjNum": review.project.prj_num,
        "CensorCorpName": censor_name,
        "CensorCorpCode": censor_code,
        "CensorEDate": _d(review.censor_date),
        "PrjSize": review.scale,
        "EconCorpName": survey_name,
        "EconCorpCode": survey_code,
        "DesignCorpName": design_name,
        "DesignCorpCode": design_code,
        "OneCensorIsPass": "" if review.one_pass is None else int(review.one_pass),
        "OneCensorWfqtCount": review.violations_count if review.violations_count is not None else "",
        "OneCensorWfqtContent": review.violations_content,
        "XFCensorNo": review.fire_censor_num,
        "RFCensorNo": review.civil_defense_censor_num,
        **_common(review),
    }


def design_staff(review: DrawingReview) -> dict:
    """勘察设计人员 (TBProjectDesignEconUserInfo): the design lead of the drawing review."""
    corp_name, corp_code = _org(review.owner_org)
    return {
        "CensorNum": review.censor_num,
        "PrjNum": review.project.prj_num,
        "CorpName": corp_name,
        "CorpCode": corp_code,
        "UserName": review.design_lead,
        "IDCardTypeNum": _id_type(review.design_lead_id),
        "IDCard": review.design_lead_id,
        "SpecialtyTypNum": review.design_lead_cert,
        "PrjDuty": "设计项目负责人",
    }


def builder_licence(permit: ConstructionPermit) -> dict:
    project = permit.project
    cons_name, cons_code = _org(permit.owner_org)
    super_name, super_code = _org(permit.supervision_org)
    issue_name, issue_code = _org(permit.issuing_org)
    reviews = sorted(permit.drawing_reviews.all(), key=lambda r: r.censor_num)
    # CensorNum is one varchar(50) in the standard: the first certificate; the others reach the
    # platform as TBProjectCensorInfo records of the same PrjNum.
    first = reviews[0] if reviews else None
    design_name, design_code = _org(first.owner_org if first else None)
    survey_name, survey_code = _org(next((r.survey_org for r in reviews if r.survey_org_id), None))
    return {
        "BuilderLicenceNum": permit.permit_num,
        "BuilderLicenceInnerNum": str(permit.pk),
        "BuilderLicenceName": f"{project.name}{permit.section_name}"[:200],
        "RecordInnerNum": permit.contract_num,
        "PrjNum": project.prj_num,
        "ProjectName": project.name,
        "SectionName": permit.section_name,
        "BuldPlanNum": project.land_plan_num,
        "ProjectPlanNum": project.project_plan_num,
        "CensorNum": first.censor_num if first else "",
        "ContractMoney": _n(permit.contract_amount),
        "Area": _n(permit.area),
        "Length": _n(permit.length),
        "Span": _n(permit.span),
        "PrjSize": project.scale,
        "ReleaseDate": _d(permit.issue_date),
        "IssueCertDate": _d(permit.issue_date),
        "IssueOrgName": issue_name,
        "IssueOrgCode": issue_code,
        "EconCorpName": survey_name,
        "EconCorpCode": survey_code,
        "DesignCorpName": design_name,
        "DesignCorpCode": design_code,
        "ConsCorpName": cons_name,
        "ConsCorpCode": cons_code,
        "SuperCorpName": super_name,
        "SuperCorpCode": super_code,
        "SafetyCerID": permit.safety_cert_num,
        "ConstructorName": permit.project_manager,
        "CIDCardTypeNum": _id_type(permit.project_manager_id),
        "ConstructorIDCard": permit.project_manager_id,
        "SupervisionName": permit.chief_supervisor,
        "SIDCardTypeNum": _id_type(permit.chief_supervisor_id),
        "SupervisionIDCard": permit.chief_supervisor_id,
        **_common(permit),
    }


def builder_staff(permit: ConstructionPermit) -> dict:
    """施工单位人员 (TBProjectBuilderUserInfo): the project manager, UserType 2 = 项目负责人."""
    corp_name, corp_code = _org(permit.owner_org)
    return {
        "BuilderLicenceNum": permit.permit_num,
        "PrjNum": permit.project.prj_num,
        "CorpName": corp_name,
        "CorpCode": corp_code,
        "SafetyCerID": permit.safety_cert_num,
        "UserName": permit.project_manager,
        "IDCardTypeNum": _id_type(permit.project_manager_id),
        "IDCard": permit.project_manager_id,
        "CertID": permit.project_manager_cert,
        "UserType": "2",
    }


def tender_info(contract: TenderContract) -> dict:
    winner_name, winner_code = _org(contract.owner_org)
    return {
        "TenderNum": contract.tender_num,
        "TenderInnerNum": str(contract.pk),
        "TenderName": f"{contract.project.name}{codes.Scope(contract.scope).label}"[:200],
        "PrjNum": contract.project.prj_num,
        "TenderClassNum": codes.SCOPE_TENDER_CLASS[contract.scope].value,
        "TenderTypeNum": contract.tender_method,
        "TenderResultDate": _d(contract.tender_date),
        "TenderMoney": _n(contract.tender_amount),
        "PrjSize": contract.scale,
        "Area": _n(contract.area),
        "AgencyCorpName": contract.agency_name,
        "AgencyCorpCode": contract.agency_code,
        "TenderCorpName": winner_name,
        "TenderCorpCode": winner_code,
        "ConstructorName": contract.project_leader,
        "IDCardTypeNum": _id_type(contract.leader_id),
        "ConstructorIDCard": contract.leader_id,
        **_common(contract),
    }


def contract_record_number(contract: TenderContract) -> str:
    """The 合同备案编号 given on approval; before that (the pre-flight check) its shape."""
    if contract.record_num:
        return contract.record_num
    letters = codes.CONTRACT_RECORD_LETTERS.get(contract.contract_type, "HO")
    return f"{contract.project.prj_num}-{letters}-001"


def contract_record(contract: TenderContract) -> dict:
    winner_name, winner_code = _org(contract.owner_org)
    return {
        "RecordNum": contract_record_number(contract),
        # The permit names its construction contract by this number (its RecordInnerNum).
        "RecordInnerNum": contract.contract_num,
        "TenderNum": contract.tender_num,
        "RecordName": f"{contract.project.name}{contract.get_contract_type_display()}合同"[:200],
        "PrjNum": contract.project.prj_num,
        "ContractNum": contract.contract_num,
        "ContractTypeNum": contract.contract_type,
        "ContractMoney": _n(contract.contract_amount),
        "PrjSize": contract.scale,
        "ContractDate": _d(contract.contract_date),
        "PropietorCorpName": contract.client_name,
        "PropietorCorpCode": contract.client_code,
        "ContractorCorpName": winner_name,
        "ContractorCorpCode": winner_code,
        "UnionCorpName": contract.union_name,
        "UnionCorpCode": contract.union_code,
        "PrjHead": contract.project_leader,
        **_common(contract),
    }


def finish_manage(completion: Completion) -> dict:
    # The standard links a completion filing to its permit (BuilderLicenceNum): the one it names.
    permit = completion.permit if completion.permit_id else None
    return {
        "PrjFinishNum": completion.filing_num,
        "PrjFinishInnerNum": str(completion.pk),
        "PrjFinishName": completion.project.name,
        "PrjNum": completion.project.prj_num,
        "BuilderLicenceNum": permit.permit_num if permit else "",
        "CompletionCheckNum": completion.acceptance_num,
        "QCCorpName": completion.qc_org_name,
        "FactCost": _n(completion.actual_cost),
        "FactArea": _n(completion.actual_area),
        "FactSize": completion.actual_scale,
        "PrjStructureTypeNum": codes.STRUCTURE_TYPE_CODE.get(completion.structure_type, ""),
        "PrjStructureTypeName": completion.get_structure_type_display() if completion.structure_type else "",
        "BDate": _d(completion.actual_start),
        "EDate": _d(completion.acceptance_date),
        "FilingDate": _d(completion.filing_date),
        "Mark": completion.remark,
        **_common(completion),
    }


# --- what each record kind sends (KINDS[kind].outbound) ------------------------------------------


@dataclass(frozen=True)
class Item:
    """One outbox row to write: `once` rows are skipped when that record version was queued before.

    `source` names the record's form field behind the item (so a refusal lands on that field).
    """

    table: str
    record_key: str
    payload: dict
    version: int | None = None
    once: bool = False
    source: str = ""


def _project_items(project: Project) -> list[Item]:
    """The project's basic info and its buildings' indicators (they travel with the project)."""
    if project.origin == Origin.PLATFORM:
        return []
    items = [Item(protocol.TB_PROJECT, f"project:{project.prj_num}", project_info(project), source="project")]
    for index, building in enumerate(project.buildings.all().order_by("id"), start=1):
        items.append(
            Item(
                protocol.TB_UNIT,
                f"unit:{project.prj_num}:{index:03d}",
                unit_info(project, index, building),
                source="buildings",
            )
        )
    return items


def _censor_items(review: DrawingReview, *, once: bool = False, source: str = "") -> list[Item]:
    items = [
        Item(
            protocol.TB_CENSOR,
            f"drawing_review:{review.pk}",
            censor_info(review),
            review.revision,
            once,
            source,
        )
    ]
    if review.design_lead:
        items.append(
            Item(
                protocol.TB_DESIGN_STAFF,
                f"design_staff:{review.pk}",
                design_staff(review),
                review.revision,
                once,
                source,
            )
        )
    return items


def no_items(record, project: Project, *, preflight: bool = False) -> list[Item]:
    return []


def permit_items(permit: ConstructionPermit, project: Project, *, preflight: bool = False) -> list[Item]:
    """The first bundle (notice 一(一)3): the project's basic info and buildings, its approved drawing
    reviews, the permit and its project manager."""
    reviews = permit.drawing_reviews.filter(state=State.APPROVED).select_related(
        "censor_org", "owner_org", "survey_org", "project"
    )
    return [
        *_project_items(project),
        *(item for review in reviews for item in _censor_items(review, once=True, source="drawing_reviews")),
        Item(protocol.TB_PERMIT, f"permit:{permit.pk}", builder_licence(permit), permit.revision),
        Item(protocol.TB_BUILDER_STAFF, f"builder_staff:{permit.pk}", builder_staff(permit), permit.revision),
    ]


def specialty_info_items(info, project: Project, *, preflight: bool = False) -> list[Item]:
    """A direct specialty project's basic info (notice 二(二))."""
    return _project_items(project)


def drawing_review_items(review: DrawingReview, project: Project, *, preflight: bool = False) -> list[Item]:
    """On the PMS path a drawing review goes with its permit's bundle; later ones go on their own.
    The pre-flight check at submission checks it either way."""
    if not preflight and project.permit_approved_at is None and project.origin != Origin.PLATFORM:
        return []
    return _censor_items(review)


def tender_contract_items(
    contract: TenderContract, project: Project, *, preflight: bool = False
) -> list[Item]:
    return [
        Item(protocol.TB_TENDER, f"tender:{contract.pk}", tender_info(contract), contract.revision),
        Item(protocol.TB_CONTRACT, f"contract:{contract.pk}", contract_record(contract), contract.revision),
    ]


def completion_items(completion: Completion, project: Project, *, preflight: bool = False) -> list[Item]:
    """A completion filing (TBProjectFinishManage). A subcontracted specialty scope's completion is
    竣工验收信息 only (notice 二(一)): without a filing it is no 竣工验收备案 record and is not sent; the
    general contractor's filing covers the project."""
    if completion.specialty_contract_id and not completion.filing_num:
        return []
    return [
        Item(
            protocol.TB_FINISH, f"completion:{completion.pk}", finish_manage(completion), completion.revision
        )
    ]


# --- what a revocation (撤销认定) withdraws ----------------------------------------------------------


def own_items(record: ReviewableRecord, project: Project) -> list[Item]:
    """The rows the record itself feeds: its own tables, not the project or the drawing reviews a
    permit's bundle carries — except a direct specialty project's basic info, which is the project
    (and its buildings). Built whether or not its bundle is due (a revocation or a new level needs
    them then)."""
    build = import_string(workflow.kind_of(record).outbound)
    own = ("project", "buildings") if record.KIND == "specialty_info" else ("",)
    return [item for item in build(record, project, preflight=True) if item.source in own]


def own_keys(record: ReviewableRecord, project: Project) -> list[tuple[str, str]]:
    """(table, record_key) of `own_items`."""
    return [(item.table, item.record_key) for item in own_items(record, project)]


def revocation(revocation) -> dict:
    """The data of a "revoke" row: why, when and by whom the approval was withdrawn."""
    org = revocation.revoked_org.name if revocation.revoked_org_id else ""
    return {
        "RevokeReason": revocation.reason,
        "RevokeDate": _d(timezone.localdate(revocation.revoked_at)),
        "RevokeDepartName": org,
        "DataLevel": revocation.data_level,
    }
