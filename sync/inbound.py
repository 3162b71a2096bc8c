"""Records handled on the platform arriving at yunjian (notice 三): verify, de-duplicate, validate, store.

"在省一体化平台中通过系统办理招标监管、合同信息登记和建筑施工许可证后，…工程项目基础信息、招投标信息、
合同登记信息、施工许可信息将同步至工程项目数据库，不需要重复录入". So the endpoint accepts
TBProjectInfo, TBTenderInfo, TBContractRecordManage and TBBuilderLicenceManage, and stores them as
verified, platform-originated records (state approved, no enterer, never reviewed or re-entered).
Enterprises then add the drawing review, completion and filing to those projects.

A platform record whose number matches a record entered here but whose facts differ is never
applied silently: it becomes a `SyncConflict` for the province admin.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from projects import codes
from projects.codes import SCOPE_CONTRACT_TYPE, SCOPE_ORG_KIND, Scope, TenderMethod
from projects.models import (
    ConstructionPermit,
    DataLevel,
    DrawingReview,
    Origin,
    Project,
    ProjectParty,
    State,
    TenderContract,
)
from projects.services import SCOPE_PARTY_ROLE, ensure_party
from sync import payloads, protocol, signing
from sync.models import InboundItem, InboundRecord, InboundRequest, SyncConflict
from sync.payloads import field_label as label
from sync.receiver.validation import validate
from yunjian.core import audit
from yunjian.core.models import AuditEntry, Division, Organization, prefecture_code
from yunjian.core.validators import credit_code_problem, normalize_code

INBOUND_TABLES = (protocol.TB_PROJECT, protocol.TB_PERMIT, protocol.TB_TENDER, protocol.TB_CONTRACT)
K = Organization.Kind

# Model field → standard field, per record. Values are converted by the model field's type.
PROJECT_FIELDS = {
    "name": "PrjName",
    "prj_type": "PrjTypeNum",
    "prj_property": "PrjPropertyNum",
    "prj_function": "PrjFunctionNum",
    "approval_level": "PrjApprovalLevelNum",
    "approval_num": "PrjApprovalNum",
    "address": "ADDRESS",
    "land_plan_num": "BuldPlanNum",
    "project_plan_num": "ProjectPlanNum",
    "total_investment": "AllInvest",
    "total_area": "AllArea",
    "scale": "PrjSize",
    "planned_start": "BEGINDATE",
    "planned_end": "ENDDATE",
    "actual_start": "BDate",
    "actual_end": "EDate",
}
PERMIT_FIELDS = {
    "permit_num": "BuilderLicenceNum",
    "section_name": "SectionName",
    "contract_amount": "ContractMoney",
    "area": "Area",
    "length": "Length",
    "span": "Span",
    "safety_cert_num": "SafetyCerID",
    "project_manager": "ConstructorName",
    "chief_supervisor": "SupervisionName",
}
TENDER_FIELDS = {
    "tender_num": "TenderNum",
    "tender_method": "TenderTypeNum",
    "tender_date": "TenderResultDate",
    "tender_amount": "TenderMoney",
    "area": "Area",
    "agency_name": "AgencyCorpName",
    "agency_code": "AgencyCorpCode",
    "project_leader": "ConstructorName",
    "scale": "PrjSize",
}
CONTRACT_FIELDS = {
    "contract_num": "ContractNum",
    "contract_type": "ContractTypeNum",
    "contract_amount": "ContractMoney",
    "contract_date": "ContractDate",
    "client_name": "PropietorCorpName",
    "client_code": "PropietorCorpCode",
    "union_name": "UnionCorpName",
    "union_code": "UnionCorpCode",
    "project_leader": "PrjHead",
    "scale": "PrjSize",
}
# The facts compared when a platform record carries the number of one entered here.
COMPARED = {
    protocol.TB_PROJECT: ("PrjName", "BuildCorpCode", "CountyNum", "PrjTypeNum", "AllInvest", "AllArea"),
    protocol.TB_PERMIT: ("PrjNum", "ReleaseDate", "ConsCorpCode", "ContractMoney", "Area", "SuperCorpCode"),
    protocol.TB_TENDER: ("PrjNum", "TenderClassNum", "TenderCorpCode", "TenderResultDate", "TenderMoney"),
    protocol.TB_CONTRACT: (
        "PrjNum",
        "ContractTypeNum",
        "ContractorCorpCode",
        "ContractDate",
        "ContractMoney",
    ),
}
# 合同类别 → the contracted scope (docs/data-standard.md §2.7; 302/303 are subcontracts: specialty;
# design-build and EPC contracts are won by a construction unit, project management by a consultancy
# of the supervision kind).
CONTRACT_SCOPE = {
    codes.ContractType.SURVEY: Scope.SURVEY,
    codes.ContractType.DESIGN: Scope.DESIGN,
    codes.ContractType.GENERAL: Scope.CONSTRUCTION,
    codes.ContractType.SUBCONTRACT: Scope.SPECIALTY,
    codes.ContractType.LABOUR: Scope.SPECIALTY,
    codes.ContractType.SUPERVISION: Scope.SUPERVISION,
    codes.ContractType.DESIGN_BUILD: Scope.CONSTRUCTION,
    codes.ContractType.EPC: Scope.CONSTRUCTION,
    codes.ContractType.PROJECT_MANAGEMENT: Scope.SUPERVISION,
    codes.ContractType.CONSULTING: Scope.SUPERVISION,
}
# 招标类型 → the contracted scope (§2.5).
TENDER_CLASS_SCOPE = {
    codes.TenderClass.SURVEY: Scope.SURVEY,
    codes.TenderClass.DESIGN: Scope.DESIGN,
    codes.TenderClass.CONSTRUCTION: Scope.CONSTRUCTION,
    codes.TenderClass.SUPERVISION: Scope.SUPERVISION,
    codes.TenderClass.DESIGN_BUILD: Scope.CONSTRUCTION,
    codes.TenderClass.GENERAL_CONSTRUCTION: Scope.CONSTRUCTION,
    codes.TenderClass.PROJECT_MANAGEMENT: Scope.SUPERVISION,
}
CONFLICT_NOTE = "与本系统已录入的记录不一致，未覆盖，已转省住房城乡建设厅核对"


class Rejected(Exception):
    def __init__(self, errors: list[protocol.FieldError]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass
class Outcome:
    status: str  # InboundItem.Status.ACCEPTED or CONFLICT
    local_kind: str = ""
    local: models.Model | None = None
    project: Project | None = None
    notes: list[protocol.FieldError] = field(default_factory=list)


# --- The request ------------------------------------------------------------------------------


def receive(*, body: bytes, timestamp: str | None, signature: str | None) -> tuple[int, dict[str, Any]]:
    """Handle one signed inbound request; return (HTTP status, JSON body). Changes nothing unless 200."""
    error = signing.verify(
        settings.SYNC_INBOUND_SECRET, timestamp, signature, body, max_skew=settings.SYNC_MAX_SKEW_SECONDS
    )
    if error:
        return 401, {"error": error}
    assert timestamp is not None
    assert signature is not None
    problem = json_problem(body)
    if problem:
        return 400, {"error": problem}
    request_id = _request_id(body)
    if not _first_use(signature.strip(), int(timestamp.strip()), request_id):
        return 401, {"error": "重复的请求（签名或请求编号已使用过，可能是重放攻击），未处理"}
    items, problem = protocol.parse_envelope(body, settings.SYNC_INBOUND_MAX_ITEMS)
    if problem:
        return 400, {"error": problem}
    sender = json.loads(body)["sender"]
    if sender != protocol.SENDER_PLATFORM:
        return 400, {
            "error": f'发送方应为省一体化平台（sender 应为 "{protocol.SENDER_PLATFORM}"），当前为 {sender!r}'
        }
    with transaction.atomic():
        receipts = [_receive_item(item, request_id or "") for item in items]
    return 200, {"receipts": receipts}


MAX_JSON_DEPTH = 20


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"数值超出范围：{text[:40]}")
    return value


def _refuse_constant(name: str) -> float:
    raise ValueError(f"不支持的数值：{name}")


def json_problem(body: bytes) -> str:
    """Why `body` is not JSON this endpoint can store ("" when it is): nesting deeper than any record,
    NUL characters (PostgreSQL cannot store them), numbers beyond a double (1e400), NaN or Infinity."""
    try:
        envelope = json.loads(
            body.decode("utf-8"), parse_float=_finite_float, parse_constant=_refuse_constant
        )
    except UnicodeDecodeError:
        return "请求体不是 UTF-8 编码"
    except RecursionError:
        return f"JSON 嵌套层数过多（最多 {MAX_JSON_DEPTH} 层）"
    except ValueError as exc:
        message = str(exc)
        return message if message.startswith(("数值", "不支持")) else "请求体不是有效的 JSON"
    stack: list[tuple[Any, int]] = [(envelope, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"JSON 嵌套层数过多（最多 {MAX_JSON_DEPTH} 层）"
        if isinstance(value, dict):
            if any("\x00" in key for key in value):
                return "请求体含有 NUL 控制字符，无法保存"
            stack.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, list):
            stack.extend((child, depth + 1) for child in value)
        elif isinstance(value, str) and "\x00" in value:
            return "请求体含有 NUL 控制字符，无法保存"
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**18:
            return f"数值超出范围：{str(value)[:40]}"
    return ""


def _request_id(body: bytes) -> str | None:
    try:
        envelope = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    value = envelope.get("request_id") if isinstance(envelope, dict) else None
    return value[:64] if isinstance(value, str) and value.strip() else None


def _first_use(signature: str, timestamp: int, request_id: str | None) -> bool:
    """Record the signature (and request id) in the database; False when either was seen before.

    Committed on its own, before the items are processed: a signature is single-use even if the
    processing then fails, and every app server process shares the one table.
    """
    expires = max(time.time(), timestamp) + settings.SYNC_MAX_SKEW_SECONDS
    try:
        with transaction.atomic():
            InboundRequest.objects.create(
                signature=signature[:100],
                request_id=request_id,
                expires_at=dt.datetime.fromtimestamp(expires, tz=dt.UTC),
            )
    except IntegrityError:
        return False
    return True


def _now_iso() -> str:
    return timezone.localtime().isoformat(timespec="milliseconds")


def _receive_item(item: protocol.Item, request_id: str) -> protocol.Receipt:
    """One item: idempotent per key, stale when an equal or newer version is held, else applied."""
    key, table, record_key, version = (
        item["idempotency_key"],
        item["table"],
        item["record_key"],
        item["version"],
    )
    row, created = InboundItem.objects.select_for_update().get_or_create(
        idempotency_key=key,
        defaults={
            "table": table,
            "record_key": record_key,
            "version": version,
            "status": InboundItem.Status.REJECTED,
            "data": item["data"],
            "request_id": request_id,
        },
    )
    if not created and row.status != InboundItem.Status.REJECTED:
        return protocol.make_receipt(item, protocol.DUPLICATE, _now_iso(), row.errors)
    row.data, row.request_id, row.received_at = item["data"], request_id, timezone.now()
    mapping = InboundRecord.objects.select_for_update().filter(table=table, record_key=record_key).first()
    if mapping is not None and mapping.version >= version:
        row.status, row.errors = InboundItem.Status.STALE, []
        row.save()
        return protocol.make_receipt(item, protocol.STALE, _now_iso())
    try:
        with transaction.atomic():
            outcome = apply_item(item, mapping)
    except Rejected as exc:
        row.status, row.errors = InboundItem.Status.REJECTED, exc.errors
        row.save()
        return protocol.make_receipt(item, protocol.REJECTED, _now_iso(), exc.errors)
    except IntegrityError:
        errors = [{"field": "", "message": "与本系统已有数据的唯一性约束冲突，请稍后重新推送"}]
        row.status, row.errors = InboundItem.Status.REJECTED, errors
        row.save()
        return protocol.make_receipt(item, protocol.REJECTED, _now_iso(), errors)
    row.status, row.errors = outcome.status, outcome.notes
    row.save()
    return protocol.make_receipt(item, protocol.ACCEPTED, _now_iso(), outcome.notes)


# --- Applying one record ----------------------------------------------------------------------


def apply_item(item: protocol.Item, mapping: InboundRecord | None, overwrite: bool = False) -> Outcome:
    """Validate and store one platform record. Raises Rejected with field errors (Chinese).

    `overwrite` (accepting the platform's version of a conflict) writes the platform's facts over
    the record entered here instead of comparing them.
    """
    table, data = item["table"], item["data"]
    if table not in INBOUND_TABLES:
        raise Rejected(
            [
                {
                    "field": "table",
                    "message": f"本系统不接收平台推送的{table}：施工图审查信息、竣工验收及备案信息由企业在本系统补充录入后审核（通知三）",
                }
            ]
        )
    # The platform's own records passed its validator; here only what yunjian needs to store them
    # is required (inbound=True), and every code and format is still checked.
    errors = validate(
        table, data, lambda prj_num: Project.objects.filter(prj_num=prj_num).exists(), inbound=True
    )
    if errors:
        raise Rejected(errors)
    apply = {
        protocol.TB_PROJECT: _apply_project,
        protocol.TB_PERMIT: _apply_permit,
        protocol.TB_TENDER: _apply_tender,
        protocol.TB_CONTRACT: _apply_contract,
    }[table]
    outcome = apply(item, _Reader(data), mapping, overwrite)
    if outcome.status == InboundItem.Status.ACCEPTED and outcome.local is not None:
        InboundRecord.objects.update_or_create(
            table=table,
            record_key=item["record_key"],
            defaults={
                "version": item["version"],
                "idempotency_key": item["idempotency_key"],
                "local_kind": outcome.local_kind,
                "local_id": outcome.local.pk,
                "project": outcome.project,
                "updated_at": timezone.now(),
            },
        )
    return outcome


class _Reader:
    """Reads standard fields into model values, collecting one Chinese error per field."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}

    def raw(self, name: str) -> str:
        value = self.data.get(name)
        return "" if value is None else str(value).strip()

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def check(self) -> None:
        if self.errors:
            raise Rejected([{"field": k, "message": v} for k, v in self.errors.items()])

    def fields(self, model: type[models.Model], mapping: dict[str, str]) -> dict[str, Any]:
        """Values for `model`'s fields from the standard fields present in the record."""
        values: dict[str, Any] = {}
        for name, std in mapping.items():
            if std not in self.data:
                continue
            model_field = model._meta.get_field(name)
            text = self.raw(std)
            if isinstance(model_field, models.DecimalField):
                values[name] = self._decimal(std, text, model_field)
            elif isinstance(model_field, models.DateField):
                values[name] = self._date(std, text)
            else:
                if model_field.choices and text and text not in {str(c[0]) for c in model_field.choices}:
                    allowed = "、".join(str(c[0]) for c in model_field.choices)
                    self.error(std, f"{label(std)}“{text}”不在代码表中（可选：{allowed}）")
                elif model_field.max_length and len(text) > model_field.max_length:
                    self.error(std, f"{label(std)}不能超过{model_field.max_length}个字符")
                values[name] = text
        return values

    def _decimal(self, std: str, text: str, model_field: models.DecimalField) -> Decimal | None:
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            self.error(std, f"{label(std)}应为数字")
            return None
        if not number.is_finite() or number <= 0:
            self.error(std, f"{label(std)}应为大于0的数字")
            return None
        quantized = number.quantize(Decimal(1).scaleb(-model_field.decimal_places))
        if len(quantized.as_tuple().digits) > model_field.max_digits:
            self.error(std, f"{label(std)}数值过大")
            return None
        return quantized

    def _date(self, std: str, text: str) -> dt.date | None:
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            self.error(std, f"{label(std)}应为 YYYY-MM-DD 格式的有效日期")
            return None

    def org(
        self, code_field: str, name_field: str, kind: str, fallback: Division | None, required: bool = True
    ) -> Organization | None:
        """The organization with this credit code; created (with `kind`) when unknown."""
        code = normalize_code(self.raw(code_field))
        name = self.raw(name_field)
        if not code:
            if required:
                self.error(code_field, f"{label(code_field)}不能为空")
            return None
        if problem := credit_code_problem(code):
            self.error(code_field, problem)
            return None
        org = Organization.objects.filter(credit_code=code).first()
        if org is not None:
            if kind and not org.has_kind(kind):
                org.kinds = Organization.encode_kinds([*org.kind_list, kind])
                org.save(update_fields=["kinds"])
                audit.record(
                    action=AuditEntry.Action.UPDATE,
                    obj=org,
                    reason="依据省一体化平台推送的数据补充单位类型",
                    data={"direction": "inbound", "kind": kind},
                )
            return org
        if not name:
            self.error(name_field, f"{label(name_field)}不能为空（单位 {code} 尚未在本系统登记）")
            return None
        if len(name) > 200:
            self.error(name_field, f"{label(name_field)}不能超过200个字符")
            return None
        division = Division.objects.filter(code=code[2:8]).first() or fallback
        if division is None:
            self.error(code_field, f"无法确定单位 {code} 的所在行政区划")
            return None
        org, created = Organization.objects.get_or_create(
            credit_code=code,
            defaults={
                "name": name,
                "kinds": Organization.encode_kinds([kind] if kind else []),
                "division": division,
            },
        )
        if created:
            audit.record(
                action=AuditEntry.Action.CREATE,
                obj=org,
                reason="依据省一体化平台推送的数据新增单位",
                data={"direction": "inbound", "kind": kind},
            )
        return org


def _errors_of(exc: ValidationError, mapping: dict[str, str]) -> list[protocol.FieldError]:
    if not hasattr(exc, "error_dict"):
        return [{"field": "", "message": "；".join(exc.messages)}]
    return [
        {
            "field": mapping.get(name, name),
            "message": f"{label(mapping.get(name, name))}：" + "；".join(e.messages),
        }
        for name, e in exc.error_dict.items()
    ]


def _clean(instance: models.Model, mapping: dict[str, str], exclude: list[str]) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise Rejected(_errors_of(exc, mapping)) from exc


def _same(ours: Any, theirs: Any) -> bool:
    a, b = str(ours if ours is not None else "").strip(), str(theirs if theirs is not None else "").strip()
    try:
        return Decimal(a) == Decimal(b)
    except InvalidOperation:
        return a.upper() == b.upper()


def _data_level(item: protocol.Item, record) -> str:
    """The platform's 数据等级 of a record it handled (§2.11), when it sends one of A–D."""
    level = str(item["data"].get("DataLevel") or "").strip().upper()
    return level if level in DataLevel.values else record.data_level


def _differences(table: str, ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """Compared facts present on both sides that disagree (a fact missing on one side is no conflict)."""
    return [
        name
        for name in COMPARED[table]
        if str(ours.get(name) or "").strip()
        and str(theirs.get(name) or "").strip()
        and not _same(ours.get(name), theirs.get(name))
    ]


def _conflict(
    item: protocol.Item,
    project: Project,
    number: str,
    local: models.Model,
    local_kind: str,
    ours: dict,
    fields: list[str],
) -> Outcome:
    """Keep the platform's version aside for the province admin; nothing is overwritten."""
    values = {
        "idempotency_key": item["idempotency_key"],
        "version": item["version"],
        "project": project,
        "number": number,
        "local_kind": local_kind,
        "local_id": local.pk,
        "fields": fields,
        "ours": ours,
        "theirs": item["data"],
        "created_at": timezone.now(),
    }
    conflict = SyncConflict.objects.filter(
        table=item["table"], record_key=item["record_key"], status=SyncConflict.Status.OPEN
    ).first()
    if conflict is None:
        conflict = SyncConflict.objects.create(table=item["table"], record_key=item["record_key"], **values)
    else:  # one open conflict per platform record: a newer version replaces the one waiting
        for name, value in values.items():
            setattr(conflict, name, value)
        conflict.save()
    audit.record(
        action=AuditEntry.Action.SYNC,
        obj=conflict,
        to_state=SyncConflict.Status.OPEN,
        reason="省一体化平台推送的记录与本系统记录不一致，待省级管理员处理",
        data={"direction": "inbound", "table": item["table"], "number": number, "fields": fields},
    )
    notes = [
        {
            "field": name,
            "message": f"{label(name)}{CONFLICT_NOTE}（本系统：{ours.get(name)}；平台：{item['data'].get(name)}）",
        }
        for name in fields
    ]
    return Outcome(InboundItem.Status.CONFLICT, local_kind, local, project, notes)


def _audit_stored(item: protocol.Item, record: models.Model, created: bool) -> None:
    audit.record(
        action=AuditEntry.Action.SYNC,
        obj=record,
        to_state=getattr(record, "state", "") or "",
        reason="省一体化平台推送（通知三）：" + ("新增" if created else "更新"),
        data={
            "direction": "inbound",
            "table": item["table"],
            "record_key": item["record_key"],
            "version": item["version"],
            "idempotency_key": item["idempotency_key"],
        },
    )


def _set(instance: models.Model, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(instance, name, value)


def _local(mapping: InboundRecord | None, model: type[models.Model]) -> Any:
    if mapping is None:
        return None
    return model.objects.select_for_update().filter(pk=mapping.local_id).first()


def _project_of(reader: _Reader) -> Project:
    return Project.objects.select_for_update().get(prj_num=reader.raw("PrjNum"))


# 工程项目基本信息


def _apply_project(
    item: protocol.Item, reader: _Reader, mapping: InboundRecord | None, overwrite: bool
) -> Outcome:
    values = reader.fields(Project, PROJECT_FIELDS)
    county = Division.objects.filter(code=reader.raw("CountyNum")).first()
    if county is None:
        reader.error("CountyNum", f"项目所在区县 {reader.raw('CountyNum')} 不在本系统的行政区划中")
    owner = reader.org("BuildCorpCode", "BuildCorpName", K.OWNER, county)
    reader.check()
    prj_num = reader.raw("PrjNum")
    project = Project.objects.select_for_update().filter(prj_num=prj_num).first()
    values.update(county=county, owner_org=owner)
    if project is None:
        project = Project(
            prj_num=prj_num, origin=Origin.PLATFORM, platform_synced_at=timezone.now(), **values
        )
        _clean(project, PROJECT_FIELDS, exclude=["county", "owner_org"])
        project.save()
        created = True
    elif project.origin != Origin.PLATFORM and not overwrite:
        ours = payloads.project_info(project)
        if fields := _differences(item["table"], ours, item["data"]):
            return _conflict(item, project, prj_num, project, "project", ours, fields)
        return Outcome(InboundItem.Status.ACCEPTED, "project", project, project)  # the same facts: linked
    else:
        _set(project, values)
        _clean(project, PROJECT_FIELDS, exclude=["county", "owner_org"])
        project.save()
        created = False
    ensure_party(project, owner, ProjectParty.Role.OWNER)
    _audit_stored(item, project, created)
    return Outcome(InboundItem.Status.ACCEPTED, "project", project, project)


# 施工许可信息


def _issuing_org(reader: _Reader, project: Project) -> Organization | None:
    """The issuing authority: by credit code when sent (IssueOrgCode), else the project's housing bureau."""
    if reader.raw("IssueOrgCode"):
        return reader.org("IssueOrgCode", "IssueOrgName", K.HOUSING_BUREAU, project.county)
    county = project.county_id
    candidates = Organization.objects.filter(kinds__contains=f"|{K.HOUSING_BUREAU}|")
    for code in (county, prefecture_code(county)):
        org = candidates.filter(division_id=code).order_by("id").first()
        if org is not None:
            return org
    reader.error("IssueOrgCode", "无法确定发证机关：请提供发证机关统一社会信用代码（IssueOrgCode）")
    return None


def _apply_permit(
    item: protocol.Item, reader: _Reader, mapping: InboundRecord | None, overwrite: bool
) -> Outcome:
    project = _project_of(reader)
    values = reader.fields(ConstructionPermit, PERMIT_FIELDS)
    issue_date = reader._date("ReleaseDate", reader.raw("ReleaseDate") or reader.raw("IssueCertDate"))
    builder = reader.org("ConsCorpCode", "ConsCorpName", K.GENERAL_CONTRACTOR, project.county)
    supervision = reader.org("SuperCorpCode", "SuperCorpName", K.SUPERVISION, project.county, required=False)
    issuing = _issuing_org(reader, project)
    reader.check()
    values.update(
        project=project,
        owner_org=builder,
        supervision_org=supervision,
        issuing_org=issuing,
        issuing_division_id=issuing.division_id,
        issue_date=issue_date,
    )
    permit = _local(mapping, ConstructionPermit) or (
        ConstructionPermit.objects.select_for_update().filter(permit_num=values["permit_num"]).first()
    )
    if permit is not None and permit.origin != Origin.PLATFORM and not overwrite:
        ours = payloads.builder_licence(permit)
        if fields := _differences(item["table"], ours, item["data"]):
            return _conflict(item, permit.project, permit.permit_num, permit, "permit", ours, fields)
        return Outcome(InboundItem.Status.ACCEPTED, "permit", permit, permit.project)
    created = permit is None
    if created:
        permit = ConstructionPermit(
            state=State.APPROVED, origin=Origin.PLATFORM, approved_at=timezone.now(), revision=item["version"]
        )
    _set(permit, values)
    permit.data_level = _data_level(item, permit)
    _clean(
        permit, PERMIT_FIELDS, exclude=["state", "project", "owner_org", "issuing_org", "issuing_division"]
    )
    permit.save()
    reviews = DrawingReview.objects.filter(project=project, censor_num=reader.raw("CensorNum"))
    if reader.raw("CensorNum") and reviews.exists():
        permit.drawing_reviews.add(*reviews)
    ensure_party(project, builder, ProjectParty.Role.GENERAL_CONTRACTOR)
    ensure_party(project, supervision, ProjectParty.Role.SUPERVISION)
    _audit_stored(item, permit, created)
    return Outcome(InboundItem.Status.ACCEPTED, "permit", permit, project)


# 招投标信息、合同登记信息 (one TenderContract holds both)


def _save_tender_contract(
    item: protocol.Item, contract: TenderContract | None, values: dict, project: Project, org: Organization
) -> Outcome:
    created = contract is None
    if created:
        contract = TenderContract(
            state=State.APPROVED, origin=Origin.PLATFORM, approved_at=timezone.now(), revision=item["version"]
        )
    _set(contract, values)
    contract.data_level = _data_level(item, contract)
    mapping = TENDER_FIELDS if item["table"] == protocol.TB_TENDER else CONTRACT_FIELDS
    _clean(contract, mapping, exclude=["state", "project", "owner_org"])
    contract.save()
    ensure_party(project, org, SCOPE_PARTY_ROLE[contract.scope])
    _audit_stored(item, contract, created)
    return Outcome(InboundItem.Status.ACCEPTED, "tender_contract", contract, project)


def _ours_or_conflict(item: protocol.Item, contract: TenderContract, number: str) -> Outcome:
    ours = (payloads.tender_info if item["table"] == protocol.TB_TENDER else payloads.contract_record)(
        contract
    )
    if fields := _differences(item["table"], ours, item["data"]):
        return _conflict(item, contract.project, number, contract, "tender_contract", ours, fields)
    return Outcome(InboundItem.Status.ACCEPTED, "tender_contract", contract, contract.project)


def _apply_tender(
    item: protocol.Item, reader: _Reader, mapping: InboundRecord | None, overwrite: bool
) -> Outcome:
    project = _project_of(reader)
    values = reader.fields(TenderContract, TENDER_FIELDS)
    # The validator has checked the code against §2.5.
    scope = TENDER_CLASS_SCOPE.get(reader.raw("TenderClassNum"), Scope.CONSTRUCTION)
    values["scope"] = scope
    winner = reader.org("TenderCorpCode", "TenderCorpName", SCOPE_ORG_KIND[scope], project.county)
    reader.check()
    values.update(project=project, owner_org=winner)
    number = values.get("tender_num", "")
    in_project = TenderContract.objects.select_for_update().filter(project=project)
    contract = _local(mapping, TenderContract)
    if contract is None and number:
        contract = in_project.filter(tender_num=number).first()
    if contract is not None and contract.origin != Origin.PLATFORM and not overwrite:
        return _ours_or_conflict(item, contract, number)
    if contract is None:  # the contract registration may have arrived first
        contract = in_project.filter(
            origin=Origin.PLATFORM, owner_org=winner, scope=scope, tender_num=""
        ).first()
    if contract is None:
        values.setdefault("contract_type", SCOPE_CONTRACT_TYPE[scope])
    return _save_tender_contract(item, contract, values, project, winner)


def _apply_contract(
    item: protocol.Item, reader: _Reader, mapping: InboundRecord | None, overwrite: bool
) -> Outcome:
    project = _project_of(reader)
    values = reader.fields(TenderContract, CONTRACT_FIELDS)
    scope = CONTRACT_SCOPE.get(values["contract_type"], Scope.SPECIALTY)
    contractor = reader.org("ContractorCorpCode", "ContractorCorpName", SCOPE_ORG_KIND[scope], project.county)
    reader.check()
    values.update(project=project, owner_org=contractor)
    number = values["contract_num"]
    in_project = TenderContract.objects.select_for_update().filter(project=project)
    contract = _local(mapping, TenderContract) or in_project.filter(contract_num=number).first()
    if contract is not None and contract.origin != Origin.PLATFORM and not overwrite:
        return _ours_or_conflict(item, contract, number)
    if contract is None and reader.raw("TenderNum"):
        contract = in_project.filter(origin=Origin.PLATFORM, tender_num=reader.raw("TenderNum")).first()
    if contract is None:  # the tender of the same unit and scope may have arrived first
        contract = in_project.filter(
            origin=Origin.PLATFORM, owner_org=contractor, scope=scope, contract_num=""
        ).first()
    if contract is None:
        values.update(scope=scope, tender_method=TenderMethod.OTHER)
    return _save_tender_contract(item, contract, values, project, contractor)
