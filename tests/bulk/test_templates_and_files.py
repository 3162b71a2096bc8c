"""The templates (the entry forms' columns, drop-down lists of the code lists, an example, notes),
bad files refused in Chinese with nothing kept, who may use bulk entry, and the preview's queries."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from bulk import plan as planning
from bulk import sheets
from bulk.models import BulkUpload
from projects.codes import ContractType, StructureType, TenderMethod
from projects.forms import TenderContractForm
from tests.bulk.conftest import completion_row, fill, tender_row
from tests.projects.conftest import DOCX_BYTES, upload

pytestmark = pytest.mark.django_db


def _lists(workbook, sheet) -> dict[str, list[str]]:
    """Header of each validated column → the texts of its drop-down list."""
    holder = workbook[sheets.spreadsheets.LISTS_SHEET]
    headers = {c.column_letter: c.value for c in sheet[1]}
    found = {}
    for validation in sheet.data_validations.dataValidation:
        column = str(validation.sqref).split(":")[0].rstrip("0123456789")
        letter = validation.formula1.split("!")[1].split(":")[0].strip("$").rstrip("0123456789").strip("$")
        found[headers[column]] = [c.value for c in holder[letter][1:] if c.value]
    return found


def test_tender_template_has_the_forms_columns_lists_example_and_notes(as_user, contractor):
    response = as_user(contractor).get(reverse("bulk:template", args=["tender_contract"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames[:3] == ["录入", "示例", "填报说明"]
    assert workbook[sheets.spreadsheets.LISTS_SHEET].sheet_state == "hidden"
    sheet = workbook["录入"]
    headers = [c.value.rstrip("*") for c in sheet[1]]
    # The form's own fields, in its sections' order, after the project's number.
    form = TenderContractForm(instance=None, org=contractor.organization)
    expected = ["项目编号"] + [str(form.fields[n].label) for _, names in form.SECTIONS for n in names]
    assert headers == expected
    lists = _lists(workbook, sheet)
    assert lists["招标方式*"] == [str(label) for label in TenderMethod.labels]
    assert lists["合同类别*"] == [str(label) for label in ContractType.labels]
    assert lists["招标类型（承包范围）*"] == ["施工总包"]  # only the scopes a general contractor wins
    example = workbook["示例"]
    assert example.cell(row=2, column=1).value == "5303022001010001"
    notes = " ".join(str(c.value) for row in workbook["填报说明"].iter_rows() for c in row if c.value)
    assert "同一文件重复上传不会重复录入" in notes
    assert "招标方式*" in notes


def test_completion_template_lists_and_references(as_user, contractor):
    workbook = load_workbook(
        io.BytesIO(as_user(contractor).get(reverse("bulk:template", args=["completion"])).content)
    )
    sheet = workbook["录入"]
    headers = [c.value for c in sheet[1]]
    assert "所属施工许可（施工许可证编号）*" in headers
    assert "备案机关（名称或统一社会信用代码）" in headers
    assert _lists(workbook, sheet)["结构体系"] == [str(label) for label in StructureType.labels]


def test_specialty_template_carries_the_project_form(as_user, specialist):
    workbook = load_workbook(
        io.BytesIO(as_user(specialist).get(reverse("bulk:template", args=["specialty_info"])).content)
    )
    sheet = workbook["录入"]
    headers = [c.value for c in sheet[1]]
    assert headers[:2] == ["项目编号", "专业承包内容*"]
    assert "建设单位（名称或统一社会信用代码）*" in headers
    lists = _lists(workbook, sheet)
    assert "曲靖市 · 麒麟区" in lists["项目所在县（市、区）*"]
    assert lists["位于滇中新区"] == ["是", "否"]
    assert "建设性质*" in lists


def test_permit_template_names_the_drawing_reviews_first(as_user, contractor):
    workbook = load_workbook(
        io.BytesIO(as_user(contractor).get(reverse("bulk:template", args=["permit"])).content)
    )
    headers = [c.value for c in workbook["录入"][1]]
    assert headers[:3] == ["项目编号*", "施工图审查合格书编号（多个用分号分隔）*", "施工许可证编号*"]
    assert "发证机关（名称或统一社会信用代码）*" in headers
    assert "监理单位（名称或统一社会信用代码）*" in headers


def test_who_may_use_bulk_entry(
    as_user, contractor, supervisor, reviewer, outsider, open_project, bulk_upload
):
    """Enterprise users for the kinds their organisation enters; reviewers not at all; nobody sees
    another organisation's upload."""
    assert as_user(reviewer).get(reverse("bulk:index")).status_code == 403
    assert as_user(reviewer).get(reverse("bulk:template", args=["tender_contract"])).status_code == 403
    page = as_user(supervisor).get(reverse("bulk:index")).content.decode()
    assert "招投标信息及合同登记信息" in page
    assert "竣工验收信息及竣工验收备案信息" not in page
    assert as_user(supervisor).get(reverse("bulk:template", args=["completion"])).status_code == 403
    assert as_user(supervisor).get(reverse("bulk:template", args=["no-such-kind"])).status_code == 404
    bulk_upload(as_user(contractor), "tender_contract", [tender_row(open_project.prj_num, 1)])
    mine = BulkUpload.objects.get()
    for stranger in (outsider, supervisor):
        client = as_user(stranger)
        assert client.get(reverse("bulk:preview", args=[mine.pk])).status_code == 404
        assert client.get(reverse("bulk:errors", args=[mine.pk])).status_code == 404
        assert client.post(reverse("bulk:apply", args=[mine.pk])).status_code == 404
        assert client.post(reverse("bulk:submit", args=[mine.pk])).status_code == 404
    mine.refresh_from_db()
    assert mine.status == BulkUpload.Status.CHECKED


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("空.xlsx", b"", "文件是空的"),
        ("记录.csv", "项目编号,中标通知书编号\n1,2\n".encode(), "该文件是文本（CSV）文件"),
        ("记录.xlsx", b"<html><body>not a workbook</body></html>", "网页或XML格式"),
        ("记录.xlsx", DOCX_BYTES, "文件已损坏"),
        ("记录.xlsx", _zip({"word/document.xml": b"<w/>"}), "可能是Word等其他Office文档"),
        (
            "炸弹.xlsx",
            _zip({"xl/workbook.xml": b"<w/>", "xl/worksheets/sheet1.xml": b"0" * (3 * 1024 * 1024)}),
            "解压后的内容异常庞大",
        ),
        (
            "记录.xlsb",
            _zip({"xl/workbook.bin": b"x", "[Content_Types].xml": b"<x/>"}),
            "不支持Excel二进制工作簿",
        ),
    ],
)
def test_bad_files_refused_in_chinese_and_nothing_kept(as_user, contractor, name, content, message):
    response = as_user(contractor).post(
        reverse("bulk:upload", args=["tender_contract"]), {"file": upload(name, content)}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "系统中的数据没有任何变化" in response.content.decode() or message == "文件是空的"
    assert not BulkUpload.objects.exists()


def test_wrong_workbook_and_empty_template_refused(as_user, contractor, open_project):
    client = as_user(contractor)
    other = client.get(reverse("bulk:template", args=["completion"])).content
    response = client.post(
        reverse("bulk:upload", args=["tender_contract"]),
        {"file": upload("竣工.xlsx", fill(other, [completion_row(open_project.prj_num)]))},
    )
    assert response.status_code == 400
    assert "不是招投标信息及合同登记信息模板的列名" in response.content.decode()
    empty = client.get(reverse("bulk:template", args=["tender_contract"])).content
    response = client.post(
        reverse("bulk:upload", args=["tender_contract"]), {"file": upload("空模板.xlsx", empty)}
    )
    assert "表格中没有数据行" in response.content.decode()
    assert not BulkUpload.objects.exists()


def test_formulas_are_read_as_their_values_never_kept_as_formulas(as_user, contractor, open_project):
    """A live formula counts as the value Excel saved for it (none here: an empty cell); text that
    looks like a formula comes back in the error report as text, never as a formula."""
    client = as_user(contractor)
    template = load_workbook(
        io.BytesIO(client.get(reverse("bulk:template", args=["tender_contract"])).content)
    )
    sheet = template["录入"]
    headers = {str(c.value).rstrip("*"): c.column for c in sheet[1]}
    for header, value in tender_row(open_project.prj_num, 1).items():
        sheet.cell(row=2, column=headers[header], value=value)
    sheet.cell(row=2, column=headers["发包单位名称"], value="=1+1")  # a live formula, no saved value
    text = sheet.cell(row=2, column=headers["合同编号"], value='=HYPERLINK("http://x")')
    text.data_type = "s"  # typed as text
    buffer = io.BytesIO()
    template.save(buffer)
    client.post(
        reverse("bulk:upload", args=["tender_contract"]), {"file": upload("公式.xlsx", buffer.getvalue())}
    )
    upload_row = BulkUpload.objects.get().rows[0]["cells"]
    assert upload_row["client_name"] == ""
    assert upload_row["contract_num"] == '=HYPERLINK("http://x")'
    report = load_workbook(
        io.BytesIO(client.get(reverse("bulk:errors", args=[BulkUpload.objects.get().pk])).content)
    )
    cell = report["录入"].cell(row=2, column=headers["合同编号"])
    assert cell.data_type != "f"  # text, not a formula
    assert cell.value == '=HYPERLINK("http://x")'


def test_queries_do_not_grow_with_rows(as_user, contractor, open_project, bulk_upload):
    """Checking a workbook asks one query per kind of lookup, and its preview page a constant number."""

    def plan_queries(count: int) -> int:
        rows = sheets.read_workbook(
            fill(
                sheets.template_workbook("tender_contract", contractor.organization),
                [tender_row(open_project.prj_num, n) for n in range(1, count + 1)],
            ),
            "x.xlsx",
            "tender_contract",
            contractor.organization,
        )
        with CaptureQueriesContext(connection) as captured:
            planned = planning.plan_rows(contractor, "tender_contract", rows)
        assert {r.status for r in planned} == {"create"}
        return len(captured)

    assert plan_queries(2) == plan_queries(40)

    def completion_queries(count: int) -> int:
        rows = sheets.read_workbook(
            fill(
                sheets.template_workbook("completion", contractor.organization),
                [completion_row(open_project.prj_num, n) for n in range(1, count + 1)],
            ),
            "x.xlsx",
            "completion",
            contractor.organization,
        )
        with CaptureQueriesContext(connection) as captured:
            planning.plan_rows(contractor, "completion", rows)
        return len(captured)

    assert completion_queries(2) == completion_queries(40)

    client = as_user(contractor)

    def page_queries(count: int) -> int:
        bulk_upload(
            client, "tender_contract", [tender_row(open_project.prj_num, n) for n in range(1, count + 1)]
        )
        url = reverse("bulk:preview", args=[BulkUpload.objects.order_by("-id").first().pk])
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    assert page_queries(2) == page_queries(30)


def test_a_large_workbook_is_checked_in_forked_processes_with_the_same_result(
    contractor, other_contractor, open_project
):
    """The rows of a large workbook are checked in as many processes as there are cores: the same
    statuses and messages as one process, in sheet order, duplicates across the halves included."""
    from projects import services as ps
    from tests import factories as f

    ps.tender_contract_save(
        actor=other_contractor,
        project_id=open_project.pk,
        data=f.tender_data("construction", tender_num="ZB-HELD-9"),
    )
    rows = [tender_row(open_project.prj_num, n) for n in range(1, 41)]
    rows[5]["中标日期"] = "2020-13-45"
    rows[30]["中标通知书编号"] = "ZB-2020-0002"  # the same as row 3, in the other half
    rows[33]["中标通知书编号"] = "ZB-HELD-9"
    rows[35]["项目编号"] = "5303029999999999"
    content = fill(sheets.template_workbook("tender_contract", contractor.organization), rows)
    data = sheets.read_workbook(content, "x.xlsx", "tender_contract", contractor.organization)
    import threading

    assert threading.active_count() == 1  # so plan_rows forks (it checks serially in a threaded process)
    one = planning.plan_rows(contractor, "tender_contract", data, workers=1)
    two = planning.plan_rows(contractor, "tender_contract", data, workers=2)
    assert [r.as_json() for r in two] == [r.as_json() for r in one]
    assert [r.row for r in two] == list(range(2, 42))
    assert {r.row for r in two if r.status == "error"} == {7, 32, 35, 37}
    assert "与第3行的“中标通知书编号”相同" in " ".join(m for _, m in two[30].errors)
    assert two[0].data == one[0].data


def test_forked_checkers_ask_no_query_for_a_direct_specialty_project(specialist, specialty_info, reviewer):
    """The rules about a directly contracted specialty project read what the lookups loaded (a query
    in a forked checker would fail loudly): its contractor's tenders are checked the same in both."""
    from projects import services as ps
    from tests import factories as f

    ps.record_submit(actor=specialist, kind=specialty_info.KIND, record_id=specialty_info.pk)
    f.approve(specialty_info, reviewer)
    project = specialty_info.project
    rows = [
        tender_row(project.prj_num, n, **{"招标类型（承包范围）": "专业承包", "合同类别": "施工总包"})
        for n in (1, 2, 3)
    ]
    content = fill(sheets.template_workbook("tender_contract", specialist.organization), rows)
    data = sheets.read_workbook(content, "x.xlsx", "tender_contract", specialist.organization)
    one = planning.plan_rows(specialist, "tender_contract", data, workers=1)
    two = planning.plan_rows(specialist, "tender_contract", data, workers=2)
    assert [r.status for r in two] == ["create"] * 3, [r.as_json() for r in two]
    assert [r.as_json() for r in two] == [r.as_json() for r in one]
