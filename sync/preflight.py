"""The pre-flight check at submission: the record as the platform will receive it, checked by the
exchange's own rules (sync.receiver.validation, docs/data-standard.md §2.10) before any reviewer
sees it. What fails is put back on the form field it comes from, in Chinese.

Subscribed to projects.hooks.submission_check in sync.apps.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string

from projects import workflow
from projects.models import Origin, ReviewableRecord
from sync import protocol
from sync.payloads import field_label
from sync.receiver.validation import validate

# Where each field the exchange checks comes from on the entry forms (record field, "project.<field>",
# "buildings", "drawing_reviews"); a field not named here is reported for the whole record.
SOURCES: dict[str, dict[str, str]] = {
    protocol.TB_PROJECT: {
        "PrjName": "project.name",
        "PrjTypeNum": "project.prj_type",
        "PrjFunctionNum": "project.prj_function",
        "PrjPropertyNum": "project.prj_property",
        "PrjApprovalLevelNum": "project.approval_level",
        "BuildCorpName": "project.owner_org",
        "BuildCorpCode": "project.owner_org",
        "ProvinceNum": "project.county",
        "CityNum": "project.county",
        "CountyNum": "project.county",
        "BDate": "project.actual_start",
        "EDate": "project.actual_end",
        "BEGINDATE": "project.planned_start",
        "ENDDATE": "project.planned_end",
        "PrjSize": "project.scale",
    },
    protocol.TB_UNIT: {},
    protocol.TB_CENSOR: {
        "CensorNum": "censor_num",
        "CensorCorpName": "censor_org",
        "CensorCorpCode": "censor_org",
        "CensorEDate": "censor_date",
        "EconCorpName": "survey_org",
        "EconCorpCode": "survey_org",
        "OneCensorIsPass": "one_pass",
        "PrjSize": "scale",
    },
    protocol.TB_DESIGN_STAFF: {"UserName": "design_lead", "IDCard": "design_lead_id"},
    protocol.TB_PERMIT: {
        "BuilderLicenceNum": "permit_num",
        "RecordInnerNum": "contract_num",
        "ReleaseDate": "issue_date",
        "IssueCertDate": "issue_date",
        "EconCorpName": "drawing_reviews",
        "EconCorpCode": "drawing_reviews",
        "DesignCorpName": "drawing_reviews",
        "DesignCorpCode": "drawing_reviews",
        "SuperCorpName": "supervision_org",
        "SuperCorpCode": "supervision_org",
        "ConstructorName": "project_manager",
        "ConstructorIDCard": "project_manager_id",
        "SupervisionName": "chief_supervisor",
        "SupervisionIDCard": "chief_supervisor_id",
        "ContractMoney": "contract_amount",
        "SafetyCerID": "safety_cert_num",
    },
    protocol.TB_BUILDER_STAFF: {"UserName": "project_manager", "IDCard": "project_manager_id"},
    protocol.TB_TENDER: {
        "TenderNum": "tender_num",
        "TenderClassNum": "scope",
        "TenderTypeNum": "tender_method",
        "TenderResultDate": "tender_date",
        "TenderMoney": "tender_amount",
        "Area": "area",
        "AgencyCorpName": "agency_name",
        "AgencyCorpCode": "agency_code",
        "ConstructorName": "project_leader",
        "ConstructorIDCard": "leader_id",
    },
    protocol.TB_CONTRACT: {
        "ContractNum": "contract_num",
        "ContractTypeNum": "contract_type",
        "ContractMoney": "contract_amount",
        "ContractDate": "contract_date",
        "PropietorCorpName": "client_name",
        "PropietorCorpCode": "client_code",
        "UnionCorpCode": "union_code",
        "PrjHead": "project_leader",
    },
    protocol.TB_FINISH: {
        "PrjFinishNum": "filing_num",
        "BuilderLicenceNum": "permit",
        "FactCost": "actual_cost",
        "FactArea": "actual_area",
        "BDate": "actual_start",
        "EDate": "acceptance_date",
        "PrjStructureTypeNum": "structure_type",
        "QCCorpCode": "qc_org_name",
    },
}


def preflight_errors(record: ReviewableRecord) -> dict[str, list[str]]:
    """{form field: [Chinese messages]} for every exchange rule the record would fail."""
    if record.origin == Origin.PLATFORM or not record.project_id:
        return {}
    build = import_string(workflow.kind_of(record).outbound)
    errors: dict[str, list[str]] = {}
    for item in build(record, record.project, preflight=True):
        # The project is registered by the bundle before its children; the permit a completion names
        # was approved, hence sent (a completion may only name an approved permit).
        for error in validate(item.table, item.payload, lambda prj_num: True, lambda number: True):
            source = item.source or SOURCES.get(item.table, {}).get(error["field"], "__all__")
            table = protocol.TABLE_LABELS.get(item.table, item.table)
            message = error["message"]
            if source in ("__all__", "buildings", "drawing_reviews"):
                message = (
                    f"报送省一体化平台的“{table}”不符合数据标准：{field_label(error['field'])}：{message}"
                )
            else:
                message = f"{message}（报送省一体化平台时必填或须符合数据标准）"
            errors.setdefault(source, []).append(message)
    return errors


def check_submission(sender, *, record: ReviewableRecord, **kwargs) -> None:
    """Receiver of projects.hooks.submission_check (connected in sync.apps)."""
    errors = preflight_errors(record)
    if errors:
        raise ValidationError(errors)
