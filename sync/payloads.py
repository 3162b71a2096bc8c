"""Payloads in the national data standard's tables and field names (DATA-STANDARD.md §1)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from projects.models import Completion, ConstructionPermit, DrawingReview, Project, TenderContract


def _d(value: date | None) -> str:
    return value.isoformat() if value else ""


def _n(value: Decimal | None) -> str:
    return format(value.normalize(), "f") if value is not None else ""


def _org(org) -> tuple[str, str]:
    return (org.name, org.credit_code) if org is not None else ("", "")


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
        "CityNum": county[:4] + "00",
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
        "DataSource": "历史业绩补录",
        "Buildings": [
            {
                "Name": b.name,
                "StructureType": b.get_structure_type_display() if b.structure_type else "",
                "FloorsAbove": b.floors_above,
                "FloorsBelow": b.floors_below,
                "Height": _n(b.height),
                "Span": _n(b.span),
                "Length": _n(b.length),
                "AreaAbove": _n(b.area_above),
                "AreaBelow": _n(b.area_below),
                "SeismicIntensity": b.seismic_intensity,
                "Prefabricated": int(b.prefabricated),
                "GreenBuilding": int(b.green_building),
                "OverLimit": int(b.over_limit),
            }
            for b in project.buildings.all()
        ],
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
    }


def builder_licence(permit: ConstructionPermit) -> dict:
    cons_name, cons_code = _org(permit.owner_org)
    super_name, super_code = _org(permit.supervision_org)
    return {
        "BuilderLicenceNum": permit.permit_num,
        "BuilderLicenceInnerNum": str(permit.pk),
        "PrjNum": permit.project.prj_num,
        "ProjectName": permit.project.name,
        "SectionName": permit.section_name,
        "CensorNum": ",".join(sorted(r.censor_num for r in permit.drawing_reviews.all())),
        "ContractMoney": _n(permit.contract_amount),
        "Area": _n(permit.area),
        "Length": _n(permit.length),
        "Span": _n(permit.span),
        "ReleaseDate": _d(permit.issue_date),
        "IssueCertDate": _d(permit.issue_date),
        "IssueOrgName": permit.issuing_org.name,
        "ConsCorpName": cons_name,
        "ConsCorpCode": cons_code,
        "SuperCorpName": super_name,
        "SuperCorpCode": super_code,
        "SafetyCerID": permit.safety_cert_num,
        "ConstructorName": permit.project_manager,
        "SupervisionName": permit.chief_supervisor,
    }


def tender_info(contract: TenderContract) -> dict:
    winner_name, winner_code = _org(contract.owner_org)
    return {
        "TenderNum": contract.tender_num,
        "TenderInnerNum": str(contract.pk),
        "TenderName": contract.project.name,
        "PrjNum": contract.project.prj_num,
        "TenderClassNum": contract.scope,
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
    }


def contract_record(contract: TenderContract) -> dict:
    winner_name, winner_code = _org(contract.owner_org)
    return {
        "RecordNum": "",
        "RecordInnerNum": str(contract.pk),
        "RecordName": contract.project.name,
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
    }


def finish_manage(completion: Completion) -> dict:
    return {
        "PrjFinishNum": completion.filing_num,
        "PrjFinishInnerNum": str(completion.pk),
        "PrjFinishName": completion.project.name,
        "PrjNum": completion.project.prj_num,
        "CompletionCheckNum": completion.acceptance_num,
        "QCCorpName": completion.qc_org_name,
        "FactCost": _n(completion.actual_cost),
        "FactArea": _n(completion.actual_area),
        "FactSize": completion.actual_scale,
        "PrjStructureTypeNum": completion.get_structure_type_display() if completion.structure_type else "",
        "BDate": _d(completion.actual_start),
        "EDate": _d(completion.acceptance_date),
        "FilingDate": _d(completion.filing_date),
        "Mark": completion.remark,
    }
