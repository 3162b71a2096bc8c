"""The national tables a load reads (DATA-STANDARD §1), their columns and how each value is checked.

Files carry either the standard's English column names or their Chinese names as the header row;
the table is recognised from the header. Each checked row becomes plain values keyed by the
standard's column names, with one Chinese error per column that is wrong. No database here.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from projects import codes
from yunjian.core.validators import credit_code_problem, normalize_code, normalize_text, prj_num_problem

PROJECT = "TBProjectInfo"
CENSOR = "TBProjectCensorInfo"
CENSOR_STAFF = "TBProjectDesignEconUserInfo"
PERMIT = "TBBuilderLicenceManage"
PERMIT_STAFF = "TBProjectBuilderUserInfo"
TENDER = "TBTenderInfo"
CONTRACT = "TBContractRecordManage"
FINISH = "TBProjectFinishManage"

TABLE_LABELS = {
    PROJECT: "工程项目基本信息",
    CENSOR: "施工图审查信息",
    CENSOR_STAFF: "施工图审查勘察设计人员",
    PERMIT: "施工许可信息",
    PERMIT_STAFF: "施工许可人员",
    TENDER: "招标投标信息",
    CONTRACT: "合同登记信息",
    FINISH: "竣工验收备案信息",
}
# Applied in this order, so that a file's rows find the projects (and drawing reviews) of the same load.
TABLE_ORDER = (PROJECT, CENSOR, CENSOR_STAFF, PERMIT, PERMIT_STAFF, TENDER, CONTRACT, FINISH)
PLATFORM_ONLY = frozenset({TENDER, CONTRACT, FINISH})


@dataclass(frozen=True)
class Column:
    name: str  # the standard's column name
    label: str  # its Chinese name (header text and messages)
    kind: str = (
        "text"  # text | number | prjnum | credit | date | decimal | int | flag | code | county | ignore
    )
    required: bool = False
    max_length: int = 200
    choices: tuple[str, ...] = ()
    places: int = 4


def _codes(choices) -> tuple[str, ...]:
    return tuple(str(value) for value in choices.values)


IGNORED = ("PKID", "FID", "CreateDate", "DataSource", "DataLevel", "CheckDepartName", "CheckPersonName")
COMMON_IGNORED = tuple(Column(name, name, "ignore") for name in IGNORED)

TABLES: dict[str, tuple[Column, ...]] = {
    PROJECT: (
        Column("PrjNum", "项目编号", "prjnum", True),
        Column("PrjInnerNum", "原业务系统内部编号", "ignore"),
        Column("PrjName", "项目名称", required=True),
        Column("PrjTypeNum", "项目分类", "code", choices=_codes(codes.PrjType)),
        Column("BuildCorpName", "建设单位名称"),
        Column("BuildCorpCode", "建设单位统一社会信用代码", "credit"),
        Column("ProvinceNum", "项目所在省", "division"),
        Column("CityNum", "项目所在地市", "division"),
        Column("CountyNum", "项目所在区县", "county", True),
        Column("PrjApprovalNum", "立项文号"),
        Column("PrjApprovalLevelNum", "立项级别", "code", choices=_codes(codes.ApprovalLevel)),
        Column("BuldPlanNum", "建设用地规划许可证编号", max_length=100),
        Column("ProjectPlanNum", "建设工程规划许可证编号", max_length=100),
        Column("AllInvest", "总投资（万元）", "decimal"),
        Column("AllArea", "总面积（平方米）", "decimal"),
        Column("PrjSize", "建设规模", max_length=500),
        Column("PrjPropertyNum", "建设性质", "code", choices=_codes(codes.PrjProperty)),
        Column("PrjFunctionNum", "工程用途", "code", choices=_codes(codes.PrjFunction)),
        Column("BDate", "实际开工日期", "date"),
        Column("EDate", "实际竣工日期", "date"),
        Column("ADDRESS", "具体地点"),
        Column("BEGINDATE", "计划开工日期", "date"),
        Column("ENDDATE", "计划竣工日期", "date"),
        Column("PROVINCEPRJNUM", "省级项目编号", "ignore"),
        Column("PRJCODE", "项目代码", "ignore"),
    ),
    CENSOR: (
        Column("CensorNum", "施工图审查合格书编号", "number", True, 50),
        Column("CensorInnerNum", "合格书内部编号", "ignore"),
        Column("PrjNum", "项目编号", "prjnum", True),
        Column("CensorCorpName", "施工图审查机构名称"),
        Column("CensorCorpCode", "施工图审查机构统一社会信用代码", "credit", True),
        Column("CensorEDate", "审查完成日期", "date"),
        Column("PrjSize", "建设规模", max_length=500),
        Column("EconCorpName", "勘察单位名称"),
        Column("EconCorpCode", "勘察单位统一社会信用代码", "credit"),
        Column("DesignCorpName", "设计单位名称"),
        Column("DesignCorpCode", "设计单位统一社会信用代码", "credit", True),
        Column("EconCorpNum", "勘察合同编码", "ignore"),
        Column("DesignCorpNum", "设计合同编码", "ignore"),
        Column("OneCensorIsPass", "一次审查是否通过", "flag"),
        Column("OneCensorWfqtCount", "一次审查时违反强条数", "int"),
        Column("OneCensorWfqtContent", "一次审查时违反的强条条目", max_length=500),
        Column("ProvinceCensorNo", "省级合格书编号", "ignore"),
        Column("IsUnion", "是否联合审查", "ignore"),
        Column("XFCensorNo", "消防审查合格书编号", "number", max_length=50),
        Column("RFCensorNo", "人防审查合格书编号", "number", max_length=50),
    ),
    PERMIT: (
        Column("BuilderLicenceNum", "施工许可证编号", "number", True, 50),
        Column("BuilderLicenceInnerNum", "施工许可内部编号", "ignore"),
        Column("PrjNum", "项目编号", "prjnum", True),
        Column("ProjectName", "工程名称", "ignore"),
        Column("SectionName", "标段名称"),
        Column("BuldPlanNum", "建设用地规划许可证编号", "ignore"),
        Column("ProjectPlanNum", "建设工程规划许可证编号", "ignore"),
        Column("CensorNum", "施工图审查合格书编号", "text", max_length=500),
        Column("TenderNum", "中标通知书编号", "ignore"),
        Column("ContractMoney", "合同金额（万元）", "decimal"),
        Column("Area", "面积（平方米）", "decimal", places=2),
        Column("Length", "长度（米）", "decimal", places=2),
        Column("Span", "跨度（米）", "decimal", places=2),
        Column("PrjSize", "建设规模", "ignore"),
        Column("IssueCertDate", "发证日期", "date"),
        Column("ReleaseDate", "发证日期（发布）", "date"),
        Column("IssueOrgName", "发证机关名称"),
        Column("IssueOrgCode", "发证机关统一社会信用代码", "credit"),
        Column("EconCorpName", "勘察单位名称", "ignore"),
        Column("EconCorpCode", "勘察单位统一社会信用代码", "ignore"),
        Column("DesignCorpName", "设计单位名称", "ignore"),
        Column("DesignCorpCode", "设计单位统一社会信用代码", "ignore"),
        Column("ConsCorpName", "施工单位名称"),
        Column("ConsCorpCode", "施工单位统一社会信用代码", "credit", True),
        Column("SuperCorpName", "监理单位名称"),
        Column("SuperCorpCode", "监理单位统一社会信用代码", "credit"),
        Column("SafetyCerID", "施工单位安全生产许可证编号", max_length=30),
        Column("ConstructorName", "项目经理姓名", max_length=50),
        Column("CIDCardTypeNum", "项目经理证件类型", "ignore"),
        Column("ConstructorIDCard", "项目经理证件号码", "ignore"),
        Column("SupervisionName", "总监理工程师姓名", max_length=50),
        Column("SIDCardTypeNum", "总监理工程师证件类型", "ignore"),
        Column("SupervisionIDCard", "总监理工程师证件号码", "ignore"),
        Column("ProvinceBuilderLicenceNum", "省级施工许可证编号", "ignore"),
    ),
    TENDER: (
        Column("TenderNum", "中标通知书编号", "number", True, 50),
        Column("TenderInnerNum", "中标通知书内部编号", "ignore"),
        Column("TenderName", "招标项目名称", "ignore"),
        Column("PrjNum", "项目编号", "prjnum", True),
        Column("TenderClassNum", "招标类型", "code", True, choices=("001", "002", "003", "004", "006")),
        Column("TenderTypeNum", "招标方式", "code", True, choices=_codes(codes.TenderMethod)),
        Column("TenderResultDate", "中标日期", "date"),
        Column("TenderMoney", "中标金额（万元）", "decimal"),
        Column("PrjSize", "建设规模", max_length=500),
        Column("Area", "面积（平方米）", "decimal", places=2),
        Column("AgencyCorpName", "招标代理单位名称"),
        Column("AgencyCorpCode", "招标代理单位统一社会信用代码", "credit"),
        Column("TenderCorpName", "中标单位名称"),
        Column("TenderCorpCode", "中标单位统一社会信用代码", "credit", True),
        Column("ConstructorName", "项目负责人姓名", max_length=50),
        Column("IDCardTypeNum", "项目负责人证件类型", "ignore"),
        Column("ConstructorIDCard", "项目负责人证件号码", "ignore"),
        Column("ProvinceTenderNum", "省级中标通知书编号", "ignore"),
    ),
    CONTRACT: (
        Column("RecordNum", "合同备案编号", "number", True, 50),
        Column("RecordInnerNum", "合同备案内部编号", "ignore"),
        Column("RecordName", "合同备案名称", "ignore"),
        Column("PrjNum", "项目编号", "prjnum", True),
        Column("ContractNum", "合同编号", "number", True, 50),
        Column("ContractTypeNum", "合同类别", "code", True, choices=_codes(codes.ContractType)),
        Column("ContractMoney", "合同金额（万元）", "decimal"),
        Column("PrjSize", "建设规模", max_length=500),
        Column("ContractDate", "合同签订日期", "date"),
        Column("PropietorCorpName", "发包单位名称"),
        Column("PropietorCorpCode", "发包单位统一社会信用代码", "credit"),
        Column("ContractorCorpName", "承包单位名称"),
        Column("ContractorCorpCode", "承包单位统一社会信用代码", "credit", True),
        Column("UnionCorpName", "联合体承包单位名称"),
        Column("UnionCorpCode", "联合体承包单位统一社会信用代码", "credit"),
        Column("PrjHead", "项目负责人", max_length=50),
        Column("TenderNum", "中标通知书编号", "ignore"),
        Column("ProvinceRecordNum", "省级合同备案编号", "ignore"),
    ),
    FINISH: (
        Column("PrjFinishNum", "竣工备案编号", "number", True, 50),
        Column("PrjFinishInnerNum", "竣工备案内部编号", "ignore"),
        Column("PrjFinishName", "备案项目名称", "ignore"),
        Column("PrjNum", "项目编号", "prjnum", True),
        Column("BuilderLicenceNum", "施工许可证编号", "number", max_length=50),
        Column("ConsCorpName", "施工单位名称"),
        Column("ConsCorpCode", "施工单位统一社会信用代码", "credit", True),
        Column("QCCorpName", "质量检测机构名称"),
        Column("QCCorpCode", "质量检测机构统一社会信用代码", "ignore"),
        Column("FactCost", "实际造价（万元）", "decimal"),
        Column("FactArea", "实际面积（平方米）", "decimal", places=2),
        Column("FactSize", "实际建设规模", max_length=500),
        Column("PrjStructureTypeNum", "结构体系", "ignore"),
        Column("BDate", "实际开工日期", "date"),
        Column("EDate", "竣工验收日期", "date"),
        Column("Mark", "备注", max_length=500),
        Column("ProvincePrjFinishNum", "省级竣工备案编号", "ignore"),
        Column("Length", "长度（米）", "ignore"),
        Column("Span", "跨度（米）", "ignore"),
    ),
    PERMIT_STAFF: (
        Column("BuilderLicenceNum", "施工许可证编号", "number", True, 50),
        Column("CorpName", "单位名称"),
        Column("CorpCode", "单位统一社会信用代码", "credit"),
        Column("SafetyCerID", "安全生产考核合格证书编号", "ignore"),
        Column("UserName", "人员姓名", required=True, max_length=50),
        Column("IDCardTypeNum", "证件类型", "ignore"),
        Column("IDCard", "证件号码", "ignore"),
        Column("CertID", "注册证书编号", max_length=50),
        Column("UserType", "人员类型", "code", True, choices=("1", "2", "3")),
    ),
    CENSOR_STAFF: (
        Column("CensorNum", "施工图审查合格书编号", "number", True, 50),
        Column("PrjNum", "项目编号", "prjnum"),
        Column("CorpName", "单位名称"),
        Column("CorpCode", "单位统一社会信用代码", "credit"),
        Column("UserName", "人员姓名", required=True, max_length=50),
        Column("IDCardTypeNum", "证件类型", "ignore"),
        Column("IDCard", "证件号码", "ignore"),
        Column("SpecialtyTypNum", "注册类型及等级", "ignore"),
        Column("PrjDuty", "承担角色", "ignore"),
    ),
}
KEY = {
    PROJECT: "PrjNum",
    CENSOR: "CensorNum",
    PERMIT: "BuilderLicenceNum",
    TENDER: "TenderNum",
    CONTRACT: "RecordNum",
    FINISH: "PrjFinishNum",
    PERMIT_STAFF: "BuilderLicenceNum",
    CENSOR_STAFF: "CensorNum",
}
# What tells one table from another in a header (checked in this order).
SIGNATURES: tuple[tuple[str, frozenset[str]], ...] = (
    (FINISH, frozenset({"PrjFinishNum"})),
    (TENDER, frozenset({"TenderNum", "TenderClassNum"})),
    (CONTRACT, frozenset({"RecordNum"})),
    (CONTRACT, frozenset({"ContractTypeNum"})),
    (PERMIT_STAFF, frozenset({"BuilderLicenceNum", "UserName"})),
    (CENSOR_STAFF, frozenset({"CensorNum", "UserName"})),
    (PERMIT, frozenset({"BuilderLicenceNum"})),
    (CENSOR, frozenset({"CensorNum"})),
    (PROJECT, frozenset({"PrjName"})),
)
COLUMNS = {table: {column.name: column for column in columns} for table, columns in TABLES.items()}


def _squash(text: str) -> str:
    return re.sub(r"[\s()（）:：*＊]", "", normalize_text(text)).upper()


# Header text → standard name: the English names (any case) and the Chinese labels of every table.
HEADER_NAMES: dict[str, str] = {}
for _columns in TABLES.values():
    for _column in _columns:
        HEADER_NAMES.setdefault(_squash(_column.name), _column.name)
        HEADER_NAMES.setdefault(_squash(_column.label), _column.name)
for _name in IGNORED:
    HEADER_NAMES.setdefault(_squash(_name), _name)
HEADER_NAMES.update({_squash("记录登记日期"): "CreateDate", _squash("数据来源"): "DataSource"})
HEADER_NAMES.update({_squash("数据等级"): "DataLevel"})


def header_name(text: str) -> str | None:
    return HEADER_NAMES.get(_squash(text))


def looks_like_header(cells: list[str]) -> bool:
    return sum(1 for cell in cells if cell and header_name(cell)) >= 2


def detect_table(names: set[str]) -> str | None:
    for table, needed in SIGNATURES:
        if needed <= names:
            return table
    return None


# --------------------------------------------------------------------------- values

DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
DECIMAL_RE = re.compile(r"^\d+(\.\d+)?$|^\d{1,3}(,\d{3})+(\.\d+)?$")
INT_RE = re.compile(r"^\d+(\.0+)?$")
YES = frozenset({"1", "是", "Y", "TRUE"})
NO = frozenset({"0", "否", "N", "FALSE"})


def parse_date(text: str) -> dt.date | None:
    match = DATE_RE.match(text) or COMPACT_DATE_RE.match(text)
    if not match:
        return None
    try:
        value = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
    return value if 1949 <= value.year <= 2100 else None


PLAIN_RE = re.compile(r"[!-~]+(?: [!-~]+)*\Z")  # printable ASCII, single spaces: normalize_text keeps it


@lru_cache(maxsize=65_536)
def _normalized(raw: str) -> str:
    return normalize_text(raw)


@lru_cache(maxsize=200_000)
def _credit_problem(code: str) -> str:
    return credit_code_problem(code)


def _code(text: str) -> str:
    return text.upper() if " " not in text else normalize_code(text)


def check_value(column: Column, raw: str, counties: dict[str, str]) -> tuple[object, str]:
    """(value, "") or (None, a Chinese error) for one cell; `counties` maps Yunnan county codes to names."""
    text = raw if PLAIN_RE.match(raw) else _normalized(raw)
    if not text:
        return (None if column.kind in ("date", "decimal", "int", "flag") else ""), (
            f"{column.label}不能为空" if column.required else ""
        )
    kind = column.kind
    if kind == "text":
        if len(text) > column.max_length:
            return None, f"{column.label}不能超过{column.max_length}个字符（当前{len(text)}个）"
        return text, ""
    if kind == "number":
        code = _code(text)
        if len(code) > column.max_length:
            return None, f"{column.label}不能超过{column.max_length}个字符"
        return code, ""
    if kind == "prjnum":
        code = _code(text)
        problem = prj_num_problem(code)
        return (None, f"{column.label}“{text}”有误：{problem}") if problem else (code, "")
    if kind == "credit":
        code = _code(text)
        problem = _credit_problem(code)
        return (None, f"{column.label}“{text}”有误：{problem}") if problem else (code, "")
    if kind == "date":
        value = parse_date(text)
        if value is None:
            return None, f"{column.label}“{text}”不是有效日期，应为 YYYY-MM-DD 格式（如 2019-10-24）"
        return value, ""
    if kind == "decimal":
        if not DECIMAL_RE.match(text):
            return (
                None,
                f"{column.label}“{text}”不是数字：只能填写阿拉伯数字和小数点（如 1234.56），不要带单位或文字",
            )
        try:
            value = Decimal(text.replace(",", ""))
        except InvalidOperation:
            return None, f"{column.label}“{text}”不是数字"
        if value <= 0:
            return None, f"{column.label}应大于0"
        value = value.quantize(Decimal(1).scaleb(-column.places))
        if len(value.as_tuple().digits) > 15:
            return None, f"{column.label}“{text}”数值过大"
        return value, ""
    if kind == "int":
        if not INT_RE.match(text) or int(float(text)) > 32767:
            return None, f"{column.label}“{text}”应为不大于32767的整数"
        return int(float(text)), ""
    if kind == "flag":
        key = normalize_code(text)
        if key in YES:
            return True, ""
        if key in NO:
            return False, ""
        return None, f"{column.label}应为1（是）或0（否），当前为“{text}”"
    if kind == "code":
        code = normalize_code(text)
        if code.isdigit() and column.choices and len(code) < len(column.choices[0]):
            code = code.zfill(len(column.choices[0]))  # 1 → 001: Excel drops leading zeros
        if code not in column.choices:
            return (
                None,
                f"{column.label}“{text}”不在代码表中（应为{'、'.join(column.choices)}之一，填写代码而不是名称）",
            )
        return code, ""
    if kind in ("county", "division"):
        code = normalize_code(text)
        if INT_RE.match(code):
            code = str(int(float(code)))
        if not re.fullmatch(r"\d{6}", code):
            return None, f"{column.label}“{text}”应为6位行政区划代码"
        if not code.startswith("53"):
            return None, f"{column.label}“{text}”不在云南省：本系统只接收云南省内的项目"
        if kind == "county" and code not in counties:
            return None, f"{column.label}“{text}”不是云南省的县（市、区）行政区划代码"
        return code, ""
    return text, ""


@dataclass
class CheckedRow:
    row: int
    values: dict[str, object]
    errors: list[tuple[str, str]]  # (column label, message)

    @property
    def error_text(self) -> str:
        return "；".join(f"{column}：{message}" for column, message in self.errors)


def check_row(table: str, row: int, raw: dict[str, str], counties: dict[str, str]) -> CheckedRow:
    """Check every known column of one row; cross-column rules of the table too."""
    values: dict[str, object] = {}
    errors: list[tuple[str, str]] = []
    for column in TABLES[table]:
        if column.kind == "ignore":
            continue
        value, problem = check_value(column, raw.get(column.name, ""), counties)
        if problem:
            errors.append((column.label, problem))
        values[column.name] = value
    if table == PROJECT:
        county = values.get("CountyNum")
        if county:
            city, province = values.get("CityNum"), values.get("ProvinceNum")
            if city and city != county[:4] + "00":
                errors.append(("项目所在地市", f"地市代码{city}与区县代码{county}不一致"))
            if province and province != "530000":
                errors.append(("项目所在省", f"省代码应为530000（云南省），当前为{province}"))
        if values.get("BuildCorpCode") and not values.get("BuildCorpName"):
            pass  # the name is needed only for an organisation not yet in the system (checked on apply)
        start, end = values.get("BDate"), values.get("EDate")
        if start and end and end < start:
            errors.append(("实际竣工日期", "实际竣工日期不能早于实际开工日期"))
    return CheckedRow(row=row, values=values, errors=errors)
