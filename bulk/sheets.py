"""The workbooks of bulk entry: the template of each kind, reading an upload, the error report.

The columns are the entry form's own (its SECTIONS, labels and choices, projects.forms), plus the
project's number in front; the records a form picks from a list (the permit a completion belongs to,
the filing authority, a specialty contract) are named by their number or name. Files are read with
the project's one spreadsheet reader (yunjian.core.spreadsheets) and written with its writer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django import forms
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from projects import workflow
from projects.forms import CompletionForm, PermitForm, ProjectInfoForm, SpecialtyInfoForm, TenderContractForm
from projects.models import (
    Completion,
    ConstructionPermit,
    Project,
    RecordKind,
    SpecialtyProjectInfo,
    TenderContract,
)
from yunjian.core import spreadsheets
from yunjian.core.models import Organization

DATA_SHEET = "录入"
EXAMPLE_SHEET = "示例"
NOTES_SHEET = "填报说明"
TEMPLATE_ROWS = 5000  # the drop-downs cover this many rows
MAX_ROWS = 10_000
ERROR_HEADER = "错误（请修改后重新上传，本列导入时忽略）"
STATUS_HEADER = "检查结果"


@dataclass(frozen=True)
class Column:
    name: str  # the form field, or a reference ("prj_num", "permit", "filing_org", "specialty_contract")
    header: str
    required: bool = (
        False  # required (by the form, or on submission: KINDS[kind].required): a * in the header
    )
    choices: dict[str, str] = field(default_factory=dict)  # label → code of a coded column
    help: str = ""
    draft_required: bool = False  # the form refuses even a draft without it

    @property
    def title(self) -> str:
        return f"{self.header}*" if self.required else self.header


# The records a form picks from a list, named in the workbook instead by what is printed on them.
REFERENCES = {
    "permit": ("所属施工许可（施工许可证编号）", "项目有多个施工许可时必填；只有一个的可不填"),
    "filing_org": ("备案机关（名称或统一社会信用代码）", "住房城乡建设部门的全称或统一社会信用代码"),
    "specialty_contract": (
        "专业承包合同编号（专业分包单位填写）",
        "专业承包单位录入本单位分包范围的竣工验收时填写，总承包单位不填",
    ),
    "review_ids": (
        "施工图审查合格书编号（多个用分号分隔）",
        "所依据的已审核认定的施工图审查信息，须属于同一个项目",
    ),
    "issuing_org": (
        "发证机关（名称或统一社会信用代码）",
        "项目所在县（市、区）、州（市）或省住房城乡建设部门",
    ),
    "supervision_org": ("监理单位（名称或统一社会信用代码）", "须是系统中已有的监理单位"),
}
PROJECT_COLUMN = Column(
    "prj_num", "项目编号", True, help="16位全国统一项目编号，该项目须已在系统中", draft_required=True
)

# What identifies a row's record (bulk entry keys rows by it, so a workbook uploaded twice creates
# nothing twice): the first of these numbers the row carries.
KEY_NUMBERS = {
    RecordKind.TENDER_CONTRACT: ("tender_num", "contract_num"),
    RecordKind.COMPLETION: ("filing_num", "acceptance_num"),
    # A direct specialty project by its 项目编号; one without (a provisional number is given) by its
    # name and county (bulk.plan).
    RecordKind.SPECIALTY_INFO: ("prj_num",),
    RecordKind.PERMIT: ("permit_num",),
}
# The project's basic info a row carries, as the project sub-form's fields ("project.<field>").
PROJECT_PREFIX = "project."

EXAMPLES = {
    RecordKind.TENDER_CONTRACT: {
        "prj_num": "5303022001010001",
        "scope": "施工总包",
        "tender_method": "公开招标",
        "tender_num": "5303022001010001-BD-001",
        "tender_date": "2020-02-01",
        "tender_amount": "1000",
        "area": "12000",
        "agency_name": "某招标代理有限公司",
        "agency_code": "91530302216600014X",
        "project_leader": "王某某",
        "leader_id": "530302198202020017",
        "contract_num": "QJ-SG-2020-018",
        "contract_type": "施工总包",
        "contract_amount": "1000",
        "contract_date": "2020-02-20",
        "client_name": "某建设单位",
        "client_code": "",
        "union_name": "",
        "union_code": "",
        "scale": "建筑面积12000平方米",
    },
    RecordKind.SPECIALTY_INFO: {
        "prj_num": "",
        "specialty_scope": "消防设施工程",
        "project.name": "曲靖市会展中心消防工程",
        "project.prj_type": "房屋建筑工程",
        "project.prj_property": "新建",
        "project.prj_function": "公共建筑",
        "project.county": "曲靖市 · 麒麟区",
        "project.in_new_area": "否",
        "project.address": "麒麟区会展路1号",
        "project.owner_org": "曲靖市会展中心管理有限公司",
        "project.total_investment": "1200",
        "project.actual_start": "2020-03-01",
        "project.actual_end": "2020-11-30",
        "project.scale": "消防设施改造",
    },
    RecordKind.PERMIT: {
        "prj_num": "5303022001010001",
        "review_ids": "5303022001010001-TX-001",
        "permit_num": "5303022001010001-SX-001",
        "section_name": "",
        "issuing_org": "麒麟区住房和城乡建设局",
        "issue_date": "2020-05-01",
        "contract_amount": "1000",
        "area": "12000",
        "contract_num": "QJ-SG-2020-018",
        "project_manager": "张某某",
        "project_manager_id": "530302198202020017",
        "supervision_org": "某监理有限公司",
        "chief_supervisor": "李某某",
        "chief_supervisor_id": "530302197505050018",
    },
    RecordKind.COMPLETION: {
        "prj_num": "5303022001010001",
        "specialty_contract": "",
        "permit": "530302202001010101",
        "acceptance_num": "YS-2021-001",
        "actual_start": "2020-05-10",
        "acceptance_date": "2021-06-01",
        "actual_cost": "1050",
        "actual_area": "12000",
        "structure_type": "框架结构",
        "qc_org_name": "某质量检测有限公司",
        "actual_scale": "建筑面积12000平方米",
        "filing_num": "BA-2021-001",
        "filing_date": "2021-06-20",
        "filing_org": "麒麟区住房和城乡建设局",
        "remark": "",
    },
}


def blank_form(kind: str, org: Organization) -> forms.ModelForm:
    """The kind's entry form as a new record's page builds it (its fields, labels, choices)."""
    if kind == RecordKind.TENDER_CONTRACT:
        return TenderContractForm(instance=TenderContract(), org=org)
    if kind == RecordKind.COMPLETION:
        return CompletionForm(instance=Completion(), specialty_contracts=TenderContract.objects.none())
    if kind == RecordKind.SPECIALTY_INFO:
        return SpecialtyInfoForm(instance=SpecialtyProjectInfo(), new=True)
    if kind == RecordKind.PERMIT:
        # No project yet: the issuing authorities' list (never evaluated here) is the row's project's.
        return PermitForm(instance=ConstructionPermit(project=Project(county_id="")), candidates=[])
    raise KeyError(kind)


def columns(kind: str, org: Organization) -> list[Column]:
    spec = workflow.KINDS[kind]
    form = blank_form(kind, org)
    if kind == RecordKind.SPECIALTY_INFO:  # the record creates its project: the 项目编号 is the form's
        project_form = ProjectInfoForm(instance=Project())
        return _form_columns(form, set(spec.required)) + _form_columns(
            project_form, set(spec.project_required), PROJECT_PREFIX
        )
    if kind == RecordKind.PERMIT:  # the drawing reviews it is based on come first, as on the page
        reviews = Column(
            "review_ids",
            REFERENCES["review_ids"][0],
            True,
            help=REFERENCES["review_ids"][1],
            draft_required=True,
        )
        return [PROJECT_COLUMN, reviews, *_form_columns(form, set(spec.required))]
    return [PROJECT_COLUMN, *_form_columns(form, set(spec.required))]


def _choices(form_field) -> dict[str, str]:
    """label → value of a coded column: a code list's choices, the counties, yes or no."""
    if isinstance(form_field, forms.ModelChoiceField):
        return {str(form_field.label_from_instance(o)): str(o.pk) for o in form_field.queryset}
    if isinstance(form_field, forms.ChoiceField):
        return {str(label): str(code) for code, label in form_field.choices if code != ""}
    if isinstance(form_field, forms.BooleanField):
        return {"是": "True", "否": "False"}
    return {}


def _form_columns(form, required: set[str], prefix: str = "") -> list[Column]:
    result = []
    for _legend, names in form.SECTIONS:
        for name in names:
            if name not in form.fields:
                continue
            form_field = form.fields[name]
            if name in REFERENCES and not prefix:
                header, help_text = REFERENCES[name]
                result.append(Column(name, header, name in required, help=help_text))
                continue
            if prefix and name == "owner_org":
                result.append(
                    Column(
                        prefix + name,
                        "建设单位（名称或统一社会信用代码）",
                        name in required,
                        help="单位全称或18位统一社会信用代码，须是系统中已有的单位",
                    )
                )
                continue
            help_text = str(form_field.help_text or "")
            if isinstance(form_field, forms.DateField):
                help_text = "日期，如 2020-02-01"
            needed = name in required or form_field.required  # on submission, or even for a draft
            result.append(
                Column(
                    prefix + name,
                    str(form_field.label),
                    needed,
                    _choices(form_field),
                    help_text,
                    draft_required=form_field.required,
                )
            )
    return result


def _header_key(text: str) -> str:
    return "".join(str(text).split()).rstrip("*＊")


# --- the template ------------------------------------------------------------------------------

HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")


def _header_row(sheet, cols: list[Column]) -> None:
    sheet.append([c.title for c in cols])
    for index, col in enumerate(cols, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, color="C00000" if col.required else "000000")
        cell.fill = HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[cell.column_letter].width = max(12, min(40, len(col.title) * 2 + 2))
    sheet.freeze_panes = "B2"


def template_workbook(kind: str, org: Organization) -> bytes:
    cols = columns(kind, org)
    workbook = Workbook()
    data = workbook.active
    data.title = DATA_SHEET
    _header_row(data, cols)
    for index, col in enumerate(cols, start=1):
        if not col.choices:
            data.cell(row=2, column=index).number_format = "@"  # numbers stay text (编号, 身份证号码)
    example = workbook.create_sheet(EXAMPLE_SHEET)
    _header_row(example, cols)
    sample = EXAMPLES[kind]
    example.append(
        [sample.get(c.name, "") if not c.choices or sample.get(c.name) in c.choices else "" for c in cols]
    )
    notes = workbook.create_sheet(NOTES_SHEET)
    notes.column_dimensions["A"].width = 36
    notes.column_dimensions["B"].width = 90
    spec = workflow.KINDS[kind]
    for line in _notes(kind, spec.label):
        notes.append(line)
    notes.append([])
    notes.append(["列", "填写要求"])
    for col in cols:
        rule = ("必填" if col.draft_required else "提交审核时必填") if col.required else "选填"
        if col.choices:
            rule += "；从下拉列表选择：" + "、".join(col.choices)
        if col.help:
            rule += "；" + col.help
        notes.append([col.title, rule])
    lists = {i: list(c.choices) for i, c in enumerate(cols, start=1) if c.choices}
    spreadsheets.add_choice_lists(workbook, data, lists, first_row=2, last_row=TEMPLATE_ROWS + 1)
    spreadsheets.add_choice_lists(workbook, example, lists, first_row=2, last_row=2)
    return spreadsheets.save(workbook)


def _notes(kind: str, label: str) -> list[list[str]]:
    if kind == RecordKind.SPECIALTY_INFO:
        key = (
            "3. 有项目编号的填写项目编号，没有的留空，由系统按编号规则生成临时项目编号；系统以项目编号（没有的以项目名称和所在县）"
            "识别同一个项目：同一文件重复上传不会重复录入，已有草稿的将更新草稿。"
        )
        rule = (
            "7. 只录入建设单位直接发包给本单位的专业承包项目；基本信息审核认定后，再录入招投标及合同、施工图审查、施工许可和竣工验收信息。"
            "单体（建筑物）信息请在网页上逐个项目补充。"
        )
    else:
        model = workflow.KINDS[kind].model
        number = "、".join(str(model._meta.get_field(n).verbose_name) for n in KEY_NUMBERS[kind])
        key = f"3. 每行须填写{number}（至少一个），系统以此识别同一条记录：同一文件重复上传不会重复录入，已有草稿的将更新草稿。"
        if kind == RecordKind.PERMIT:
            rule = (
                "7. 施工许可信息由施工总承包单位录入（建设单位直接发包的专业承包项目由其专业承包单位录入），依据已审核认定的施工图审查信息："
                "按合格书编号填写，多个用分号分隔。导入为草稿后，“提交所有有效行”即提交发证机关审核；单体信息请在网页上补充。"
            )
        elif kind == RecordKind.TENDER_CONTRACT:
            rule = "7. 每个承包范围一行：本单位中标的每个范围（施工总包、监理等）各填一行，只能填写本单位资质对应的范围。"
        else:
            rule = (
                "7. 竣工验收及备案信息由项目的施工总承包单位录入；专业承包单位只录入本单位专业分包范围的竣工验收信息，"
                "须填写专业承包合同编号。"
            )
    return [
        [f"{label}批量录入模板"],
        [
            "1. 在“录入”工作表中每行填写一条记录，第一行为列名，请勿修改或删除；“示例”工作表是一行填写示例，导入时不读取。"
        ],
        [
            "2. 列名带 * 的必填：有的导入草稿时即须填写，其余提交审核时必填（见下表）。带下拉箭头的列请从列表中选择。"
        ],
        [key],
        [
            "4. 上传后先显示检查结果（将新建、将更新草稿、错误），确认后才导入为草稿；有错误的行可下载“错误报告”，按错误列修改后重新上传。"
        ],
        [
            "5. 导入的草稿可在“提交所有有效行”一次提交审核，每条记录分别提交、分别显示结果；也可以在工作台逐条完善后提交。"
        ],
        [
            "6. 日期写成 2020-02-01；金额单位为万元，面积单位为平方米；编号、身份证号码请设为文本格式，避免被Excel改成科学计数法。"
        ],
        [rule],
    ]


# --- reading an upload ---------------------------------------------------------------------------


class BulkFileError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _cell_text(value: object) -> str:
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    return spreadsheets.cell_text(value).strip()


def read_workbook(content: bytes, filename: str, kind: str, org: Organization) -> list[dict]:
    """The data rows of an upload as [{"row": sheet row, "cells": {column: text}}]; coded columns
    are stored as their codes when the text is one of the list's (else as typed, for the form to
    refuse). Raises BulkFileError with the reason in Chinese."""
    cols = columns(kind, org)
    by_header = {_header_key(c.header): c for c in cols}

    def has_header(rows) -> bool:
        return sum(_header_key(_cell_text(v)) in by_header for v in rows[0][1]) >= 2

    try:
        rows = spreadsheets.read_values(content, filename, max_rows=MAX_ROWS + 1, wanted=has_header)
    except spreadsheets.SpreadsheetError as exc:
        raise BulkFileError(exc.message) from exc
    header_number, header = rows[0]
    positions: dict[int, Column] = {}
    for index, value in enumerate(header):
        col = by_header.get(_header_key(_cell_text(value)))
        if col is not None and col not in positions.values():
            positions[index] = col
    missing = [c.header for c in cols if c not in positions.values()]
    if len(positions) < 2:
        raise BulkFileError(
            f"第{header_number}行不是{workflow.KINDS[kind].label}模板的列名：请下载本页的模板，按模板的列填写后上传。"
        )
    if PROJECT_COLUMN in cols and PROJECT_COLUMN not in positions.values():
        raise BulkFileError("表格缺少“项目编号”列：请下载本页的模板，按模板的列填写后上传。")
    if missing and len(missing) == len(cols) - len(positions) and not positions:
        raise BulkFileError("表格的列与模板不一致，请使用本页下载的模板。")
    data = []
    for number, values in rows[1:]:
        cells = {}
        for index, col in positions.items():
            text = _cell_text(values[index]) if index < len(values) else ""
            if col.choices:
                text = col.choices.get(text, text)
            cells[col.name] = text
        if any(cells.values()):
            data.append({"row": number, "cells": cells})
    if not data:
        raise BulkFileError("表格中没有数据行：请在“录入”工作表第一行列名下面逐行填写后上传。")
    if len(data) > MAX_ROWS:
        raise BulkFileError(f"一个文件最多{MAX_ROWS}行记录，请分成多个文件上传。")
    return data


# --- the error report ----------------------------------------------------------------------------


def error_report(
    kind: str, org: Organization, rows: list[dict], plan: list[dict], labels: dict[str, str]
) -> bytes:
    """The uploaded rows as the template's columns with the check's result and the errors in two
    more columns: fix the cells, delete nothing, upload the file again."""
    cols = columns(kind, org)
    codes_to_labels = {c.name: {code: label for label, code in c.choices.items()} for c in cols if c.choices}
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = DATA_SHEET
    _header_row(sheet, cols)
    sheet.cell(row=1, column=len(cols) + 1, value=STATUS_HEADER).font = Font(bold=True)
    sheet.cell(row=1, column=len(cols) + 2, value=ERROR_HEADER).font = Font(bold=True, color="C00000")
    sheet.column_dimensions[sheet.cell(row=1, column=len(cols) + 2).column_letter].width = 80
    by_row = {p["row"]: p for p in plan}
    for row in rows:
        result = by_row.get(row["row"], {})
        values = [
            codes_to_labels.get(c.name, {}).get(row["cells"].get(c.name, ""), row["cells"].get(c.name, ""))
            for c in cols
        ]
        errors = "；".join(
            f"{where}：{message}" if where else message for where, message in result.get("errors", [])
        )
        sheet.append([*values, labels.get(result.get("status", ""), ""), errors])
    lists = {i: list(c.choices) for i, c in enumerate(cols, start=1) if c.choices}
    spreadsheets.add_choice_lists(workbook, sheet, lists, first_row=2, last_row=max(len(rows) + 1, 2))
    return spreadsheets.save(workbook)
