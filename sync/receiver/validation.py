"""Field checks of the reference receiver, modelled on a provincial data-exchange validator.

Rules follow docs/data-standard.md §1 (the "W" columns), the code lists in `projects.codes` and
the number formats in `yunjian.core.validators`. Values are checked as sent: the platform
does not normalize what it receives.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from projects.codes import ContractType, PrjFunction, PrjType, Scope, TenderMethod
from sync.protocol import (
    TB_CENSOR,
    TB_CONTRACT,
    TB_FINISH,
    TB_PERMIT,
    TB_PROJECT,
    TB_TENDER,
    FieldError,
)
from yunjian.core.validators import credit_code_problem, prj_num_problem

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
}

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
    child: bool = True


RULES: dict[str, TableRules] = {
    TB_PROJECT: TableRules(
        required=("PrjNum", "PrjName", "PrjTypeNum", "BuildCorpName", "BuildCorpCode")
        + ("ProvinceNum", "CityNum", "CountyNum"),
        codes={
            "PrjTypeNum": tuple(PrjType.values),
            "PrjFunctionNum": tuple(PrjFunction.values),
        },
        child=False,
    ),
    TB_CENSOR: TableRules(
        required=("CensorNum", "CensorCorpName", "CensorCorpCode", "CensorEDate"),
        dates=("CensorEDate",),
    ),
    TB_PERMIT: TableRules(
        required=("BuilderLicenceNum", "ReleaseDate", "ConsCorpName", "ConsCorpCode"),
        dates=("ReleaseDate",),
    ),
    TB_TENDER: TableRules(
        required=("TenderClassNum", "TenderTypeNum", "TenderResultDate", "TenderMoney")
        + ("TenderCorpName", "TenderCorpCode"),
        dates=("TenderResultDate",),
        positive=("TenderMoney",),
        codes={
            "TenderClassNum": tuple(Scope.values),
            "TenderTypeNum": tuple(TenderMethod.values),
        },
    ),
    TB_CONTRACT: TableRules(
        required=("ContractNum", "ContractTypeNum", "ContractMoney", "ContractDate")
        + ("PropietorCorpName", "ContractorCorpName", "ContractorCorpCode"),
        dates=("ContractDate",),
        positive=("ContractMoney",),
        codes={"ContractTypeNum": tuple(ContractType.values)},
    ),
    TB_FINISH: TableRules(required=("PrjFinishNum", "BDate", "EDate"), dates=("BDate", "EDate")),
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


def validate(table: str, data: dict[str, Any], project_known: Callable[[str], bool]) -> list[FieldError]:
    """Return the field errors of one record; [] when the platform accepts it.

    `project_known(prj_num)` tells whether a TBProjectInfo with that PrjNum is already accepted.
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

    for name in rules.required:
        if not values.get(name) and name not in errors:
            errors.add(name, f"{label(name)}不能为空")
    for name, limit in MAX_LENGTHS.items():
        if len(values.get(name, "")) > limit:
            errors.add(name, f"{label(name)}不能超过{limit}个字符")
    for name, text in values.items():
        # Every unit code the platform receives is format-checked, required or not.
        if name.endswith("CorpCode") and text and (problem := credit_code_problem(text)):
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

    if table == TB_PROJECT:
        _check_regions(values, errors)
    elif table == TB_TENDER:
        if values.get("TenderTypeNum") != DIRECT_AWARD and not values.get("AgencyCorpName"):
            errors.add("AgencyCorpName", "招标代理单位名称不能为空（直接发包除外）")
    elif table == TB_FINISH:
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
