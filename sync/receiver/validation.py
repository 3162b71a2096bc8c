"""Field checks of the reference receiver, modelled on a provincial data-exchange validator.

Rules follow docs/data-standard.md §2.10 (what a provincial exchange validator refuses), the code
lists of §2 and the number formats of §3 (`yunjian.core.validators`). They are written in the
standard's field names and codes only, never in yunjian's own forms or slugs: the same rules run
as the pre-flight check when an enterprise submits a record (sync.preflight). Values are checked as
sent: the platform does not normalize what it receives.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from projects.codes import (
    ApprovalLevel,
    ContractType,
    IDCardType,
    PrjFunction,
    PrjProperty,
    PrjType,
    TenderClass,
    TenderMethod,
)
from sync.protocol import (
    TB_BUILDER_STAFF,
    TB_CENSOR,
    TB_CONTRACT,
    TB_DESIGN_STAFF,
    TB_FINISH,
    TB_PERMIT,
    TB_PROJECT,
    TB_TENDER,
    TB_UNIT,
    FieldError,
)
from yunjian.core.validators import credit_code_problem, id_number_problem, prj_num_problem

# Before 统一社会信用代码, units were identified by a 9-character 组织机构代码 written XXXXXXXX-X;
# the exchange still accepts it in a contractor's code (§2.10).
OLD_ORG_CODE_RE = re.compile(r"^[0-9A-Z]{8}-[0-9X]$")

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DIRECT_AWARD = TenderMethod.DIRECT.value

LABELS = {
    "PrjNum": "项目编号",
    "PrjName": "项目名称",
    "PrjTypeNum": "项目分类",
    "BuildCorpName": "建设单位名称",
    "BuildCorpCode": "建设单位统一社会信用代码",
    "ProvinceNum": "项目所在省",
    "CityNum": "项目所在地市",
    "CountyNum": "项目所在区县",
    "PrjFunctionNum": "工程用途",
    "CensorNum": "施工图审查合格书编号",
    "CensorCorpName": "施工图审查机构名称",
    "CensorCorpCode": "施工图审查机构统一社会信用代码",
    "CensorEDate": "审查完成日期",
    "BuilderLicenceNum": "施工许可证编号",
    "ReleaseDate": "发证日期",
    "ConsCorpName": "施工单位名称",
    "ConsCorpCode": "施工单位统一社会信用代码",
    "TenderClassNum": "招标类型",
    "TenderTypeNum": "招标方式",
    "TenderResultDate": "中标日期",
    "TenderMoney": "中标金额",
    "TenderCorpName": "中标单位名称",
    "TenderCorpCode": "中标单位统一社会信用代码",
    "AgencyCorpName": "招标代理单位名称",
    "ContractNum": "合同编号",
    "ContractTypeNum": "合同类别",
    "ContractMoney": "合同金额",
    "ContractDate": "合同签订日期",
    "PropietorCorpName": "发包单位名称",
    "ContractorCorpName": "承包单位名称",
    "ContractorCorpCode": "承包单位统一社会信用代码",
    "PrjFinishNum": "竣工备案编号",
    "BDate": "实际开工日期",
    "EDate": "实际竣工验收日期",
    "PrjInnerNum": "原业务系统内部编号",
    "PrjPropertyNum": "建设性质",
    "PrjApprovalLevelNum": "立项级别",
    "CensorInnerNum": "合格书内部编号",
    "EconCorpName": "勘察单位名称",
    "EconCorpCode": "勘察单位统一社会信用代码",
    "DesignCorpName": "设计单位名称",
    "DesignCorpCode": "设计单位统一社会信用代码",
    "OneCensorIsPass": "一次审查是否通过",
    "BuilderLicenceName": "施工许可名称",
    "RecordInnerNum": "合同登记内部编号",
    "SuperCorpName": "监理单位名称",
    "SuperCorpCode": "监理单位统一社会信用代码",
    "ConstructorName": "项目经理（项目负责人）姓名",
    "CIDCardTypeNum": "项目经理证件类型",
    "ConstructorIDCard": "项目负责人身份证号码",
    "SupervisionName": "总监理工程师姓名",
    "SIDCardTypeNum": "总监理工程师证件类型",
    "SupervisionIDCard": "总监理工程师身份证号码",
    "TenderNum": "中标通知书编号",
    "TenderName": "招标项目名称",
    "TenderInnerNum": "中标内部编号",
    "Area": "面积",
    "AgencyCorpCode": "招标代理单位统一社会信用代码",
    "IDCardTypeNum": "证件类型",
    "IDCard": "身份证号码",
    "RecordNum": "合同备案编号",
    "RecordName": "合同登记名称",
    "PrjHead": "项目负责人",
    "PrjFinishName": "备案项目名称",
    "PrjFinishInnerNum": "竣工备案内部编号",
    "FactCost": "实际造价",
    "FactArea": "实际面积",
    "PrjStructureTypeNum": "结构体系代码",
    "CorpName": "单位名称",
    "CorpCode": "单位统一社会信用代码",
    "UserName": "姓名",
    "UserType": "人员类型",
    "UnitNum": "单体编码",
    "UnitName": "单体名称",
    "DataLevel": "数据等级",
    "DataSource": "数据来源",
}

# docs/data-standard.md §2.11: the grades, and the sources as the platform's public data writes them.
DATA_LEVELS = ("A", "B", "C", "D")
DATA_SOURCES = ("业务办理", "信息登记", "历史业绩补录", "共享交换")

# Column widths of the standard's DDL.
MAX_LENGTHS = {
    "PrjName": 200,
    "PrjSize": 500,
    "CensorNum": 50,
    "BuilderLicenceNum": 50,
    "TenderNum": 50,
    "ContractNum": 50,
    "RecordNum": 50,
    "PrjFinishNum": 50,
}


@dataclass(frozen=True)
class TableRules:
    required: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    positive: tuple[str, ...] = ()
    codes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # (type field, number field): an ID number, valid per GB 11643 when the type is 身份证.
    id_numbers: tuple[tuple[str, str], ...] = ()
    child: bool = True


ID_TYPES = tuple(IDCardType.values)

RULES: dict[str, TableRules] = {
    TB_PROJECT: TableRules(
        required=("PrjNum", "PrjInnerNum", "PrjName", "PrjTypeNum", "PrjFunctionNum", "PrjPropertyNum")
        + ("BuildCorpName", "BuildCorpCode", "ProvinceNum", "CityNum", "CountyNum", "BDate", "EDate"),
        dates=("BDate", "EDate", "BEGINDATE", "ENDDATE"),
        codes={
            "PrjTypeNum": tuple(PrjType.values),
            "PrjFunctionNum": tuple(PrjFunction.values),
            "PrjPropertyNum": tuple(PrjProperty.values),
            "PrjApprovalLevelNum": tuple(ApprovalLevel.values),
        },
        child=False,
    ),
    TB_UNIT: TableRules(required=("PrjNum", "UnitNum", "UnitName")),
    TB_CENSOR: TableRules(
        required=("CensorNum", "CensorInnerNum", "CensorCorpName", "CensorCorpCode", "CensorEDate")
        + ("EconCorpName", "EconCorpCode", "DesignCorpName", "DesignCorpCode", "OneCensorIsPass"),
        dates=("CensorEDate",),
        codes={"OneCensorIsPass": ("1", "0")},
    ),
    TB_DESIGN_STAFF: TableRules(
        required=("CensorNum", "CorpName", "CorpCode", "UserName", "IDCardTypeNum", "IDCard"),
        codes={"IDCardTypeNum": ID_TYPES},
        id_numbers=(("IDCardTypeNum", "IDCard"),),
    ),
    TB_PERMIT: TableRules(
        required=("BuilderLicenceNum", "BuilderLicenceName", "RecordInnerNum", "ReleaseDate")
        + ("EconCorpName", "EconCorpCode", "DesignCorpName", "DesignCorpCode")
        + ("ConsCorpName", "ConsCorpCode", "SuperCorpName", "SuperCorpCode")
        + ("ConstructorName", "CIDCardTypeNum", "ConstructorIDCard")
        + ("SupervisionName", "SIDCardTypeNum", "SupervisionIDCard"),
        dates=("ReleaseDate", "IssueCertDate"),
        codes={"CIDCardTypeNum": ID_TYPES, "SIDCardTypeNum": ID_TYPES},
        id_numbers=(("CIDCardTypeNum", "ConstructorIDCard"), ("SIDCardTypeNum", "SupervisionIDCard")),
    ),
    TB_BUILDER_STAFF: TableRules(
        required=(
            "BuilderLicenceNum",
            "CorpName",
            "CorpCode",
            "UserName",
            "IDCardTypeNum",
            "IDCard",
            "UserType",
        ),
        codes={"IDCardTypeNum": ID_TYPES, "UserType": ("1", "2", "3")},
        id_numbers=(("IDCardTypeNum", "IDCard"),),
    ),
    TB_TENDER: TableRules(
        required=("TenderNum", "TenderName", "TenderInnerNum", "TenderClassNum", "TenderTypeNum")
        + ("TenderResultDate", "TenderMoney", "Area", "TenderCorpName", "TenderCorpCode")
        + ("IDCardTypeNum", "ConstructorIDCard"),
        dates=("TenderResultDate",),
        positive=("TenderMoney", "Area"),
        codes={
            "TenderClassNum": tuple(TenderClass.values),
            "TenderTypeNum": tuple(TenderMethod.values),
            "IDCardTypeNum": ID_TYPES,
        },
        id_numbers=(("IDCardTypeNum", "ConstructorIDCard"),),
    ),
    TB_CONTRACT: TableRules(
        required=("RecordNum", "RecordName", "RecordInnerNum", "ContractNum", "ContractTypeNum")
        + ("ContractMoney", "ContractDate", "PropietorCorpName", "ContractorCorpName")
        + ("ContractorCorpCode", "PrjHead"),
        dates=("ContractDate",),
        positive=("ContractMoney",),
        codes={"ContractTypeNum": tuple(ContractType.values)},
    ),
    TB_FINISH: TableRules(
        required=("PrjFinishNum", "PrjFinishName", "PrjFinishInnerNum", "BuilderLicenceNum")
        + ("FactCost", "FactArea", "BDate", "EDate"),
        dates=("BDate", "EDate"),
        positive=("FactCost", "FactArea"),
    ),
}

# What yunjian needs to store a record that the platform sends it (sync.inbound): the platform's
# records were checked by its own validator already, and old ones may predate some columns.
INBOUND_REQUIRED: dict[str, tuple[str, ...]] = {
    TB_PROJECT: ("PrjNum", "PrjName", "PrjTypeNum", "BuildCorpName", "BuildCorpCode")
    + ("ProvinceNum", "CityNum", "CountyNum"),
    TB_PERMIT: ("BuilderLicenceNum", "ReleaseDate", "ConsCorpName", "ConsCorpCode"),
    TB_TENDER: ("TenderClassNum", "TenderTypeNum", "TenderResultDate", "TenderMoney")
    + ("TenderCorpName", "TenderCorpCode"),
    TB_CONTRACT: ("ContractNum", "ContractTypeNum", "ContractMoney", "ContractDate")
    + ("PropietorCorpName", "ContractorCorpName", "ContractorCorpCode"),
}

REGION_RULES = (
    ("ProvinceNum", re.compile(r"^\d{2}0000$"), "6位省级行政区划代码（如 530000）"),
    ("CityNum", re.compile(r"^\d{4}00$"), "6位地市级行政区划代码（如 530300）"),
    ("CountyNum", re.compile(r"^\d{6}$"), "6位区县级行政区划代码（如 530302）"),
)


def label(name: str) -> str:
    return LABELS.get(name, name)


def _text(value: Any) -> str | None:
    """The value as text, or None when it is not a scalar (a list or an object)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    return None


def _date(text: str) -> dt.date | None:
    if not DATE_RE.match(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _positive(text: str) -> bool:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return False
    return number.is_finite() and number > 0


class _Errors:
    """At most one error per field, in the order found."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []
        self._fields: set[str] = set()

    def add(self, name: str, message: str) -> None:
        if name not in self._fields:
            self._fields.add(name)
            self.items.append({"field": name, "message": message})

    def __contains__(self, name: str) -> bool:
        return name in self._fields


def validate(
    table: str,
    data: dict[str, Any],
    project_known: Callable[[str], bool],
    permit_known: Callable[[str], bool] = lambda number: True,
    *,
    inbound: bool = False,
) -> list[FieldError]:
    """Return the field errors of one record; [] when the platform accepts it.

    `project_known(prj_num)` tells whether a TBProjectInfo with that PrjNum is already accepted,
    `permit_known(number)` whether a TBBuilderLicenceManage with that number is.
    """
    rules = RULES[table]
    errors = _Errors()
    values: dict[str, str] = {}
    for name, raw in data.items():
        text = _text(raw)
        if text is None:
            errors.add(name, f"{label(name)}格式不正确（应为文本或数字）")
        else:
            values[name] = text

    prj_num = values.get("PrjNum", "")
    if "PrjNum" not in errors:
        if not prj_num:
            errors.add("PrjNum", "项目编号不能为空")
        elif problem := prj_num_problem(prj_num):
            errors.add("PrjNum", problem)
        elif rules.child and not project_known(prj_num):
            errors.add("PrjNum", f"项目编号未在平台登记：{prj_num}")

    required = INBOUND_REQUIRED.get(table, rules.required) if inbound else rules.required
    for name in required:
        if not values.get(name) and name not in errors:
            errors.add(name, f"{label(name)}不能为空")
    for name, limit in MAX_LENGTHS.items():
        if len(values.get(name, "")) > limit:
            errors.add(name, f"{label(name)}不能超过{limit}个字符")
    for name, text in values.items():
        # Every unit code the platform receives is format-checked, required or not.
        if not (name.endswith("CorpCode") or name == "CorpCode") or not text:
            continue
        if name == "ContractorCorpCode" and OLD_ORG_CODE_RE.match(text):
            continue
        if problem := credit_code_problem(text):
            corp = label(name).removesuffix("统一社会信用代码")
            errors.add(name, f"{corp}的{problem}" if corp != name else problem)
    for name in rules.dates:
        if values.get(name) and _date(values[name]) is None:
            errors.add(name, f"{label(name)}应为 YYYY-MM-DD 格式的有效日期")
    for name in rules.positive:
        if values.get(name) and not _positive(values[name]):
            errors.add(name, f"{label(name)}应为大于0的数字")
    for name, allowed in rules.codes.items():
        value = values.get(name)
        if value and value not in allowed:
            errors.add(
                name,
                f"{label(name)}“{value}”不在代码表中（可选：{'、'.join(allowed)}）",
            )

    for name, allowed in (("DataLevel", DATA_LEVELS), ("DataSource", DATA_SOURCES)):
        value = values.get(name)
        if value and value not in allowed:
            errors.add(name, f"{label(name)}“{value}”不在代码表中（可选：{'、'.join(allowed)}）")

    for type_name, number_name in rules.id_numbers:
        number = values.get(number_name, "")
        is_id_card = values.get(type_name) == IDCardType.ID_CARD
        if number and is_id_card and number_name not in errors and (problem := id_number_problem(number)):
            errors.add(number_name, f"{label(number_name)}：{problem}")
    structure = values.get("PrjStructureTypeNum", "")
    if len(structure) > 3:
        errors.add("PrjStructureTypeNum", f"结构体系应填代码（不超过3个字符），不能填名称：“{structure}”")

    if table == TB_PROJECT:
        _check_regions(values, errors)
        begin, end = _date(values.get("BDate", "")), _date(values.get("EDate", ""))
        if begin and end and begin > end:
            errors.add("EDate", "实际竣工日期不能早于实际开工日期")
    elif table == TB_TENDER:
        if values.get("TenderTypeNum") != DIRECT_AWARD:
            if not values.get("AgencyCorpName"):
                errors.add("AgencyCorpName", "招标代理单位名称不能为空（直接发包除外）")
            if not values.get("AgencyCorpCode") and not inbound:
                errors.add("AgencyCorpCode", "招标代理单位统一社会信用代码不能为空（直接发包除外）")
    elif table == TB_FINISH:
        number = values.get("BuilderLicenceNum", "")
        if number and "BuilderLicenceNum" not in errors and not permit_known(number):
            errors.add("BuilderLicenceNum", f"施工许可证编号未在平台登记：{number}")
        begin, end = _date(values.get("BDate", "")), _date(values.get("EDate", ""))
        if begin and end and begin > end:
            errors.add("EDate", "实际竣工验收日期不能早于实际开工日期")
    return errors.items


def _check_regions(values: dict[str, str], errors: _Errors) -> None:
    for name, pattern, expected in REGION_RULES:
        if values.get(name) and not pattern.match(values[name]):
            errors.add(name, f"{label(name)}应为{expected}")
    province, city, county = (values.get(name, "") for name in ("ProvinceNum", "CityNum", "CountyNum"))
    if "ProvinceNum" not in errors and "CityNum" not in errors and province and city[:2] != province[:2]:
        errors.add("CityNum", f"项目所在地市 {city} 不属于所在省 {province}")
    if "CityNum" not in errors and "CountyNum" not in errors and county and county[:4] != city[:4]:
        errors.add("CountyNum", f"项目所在区县 {county} 不属于所在地市 {city}")
