"""Issue 19: for the clerk with 200 records — 保存并录入下一条, copying an earlier record, pasting a
building table from Excel — and the entry page's layout at the common screen sizes."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from projects.models import Building, DrawingReview, Project, TenderContract
from tests.conftest import login

pytestmark = pytest.mark.browser

PMS_REVIEW = "5303021903010001-TX-001"
PLATFORM_PROJECT = "5303021903080008"


def _tender_page(page, base: str) -> Project:
    project = Project.objects.get(prj_num=PLATFORM_PROJECT)
    login(page, base, "supervisor1")
    page.goto(f"{base}/projects/{project.pk}/tender-contracts/new/")
    expect(page.locator("h1")).to_have_text("录入招投标信息及合同登记信息")
    return project


def _fill(page, contract_num: str) -> None:
    page.select_option("#id_scope", "supervision")
    page.select_option("#id_tender_method", "001")
    page.fill("#id_tender_num", contract_num + "-BD")
    page.fill("#id_tender_date", "2019-02-12")
    page.fill("#id_tender_amount", "320")
    page.fill("#id_agency_name", "云南招标代理有限公司")
    page.fill("#id_contract_num", contract_num)
    page.fill("#id_contract_amount", "320")
    page.fill("#id_contract_date", "2019-02-26")


def test_save_and_enter_the_next_one_then_copy_the_previous(page, demo_site):
    project = _tender_page(page, demo_site.url)
    _fill(page, "QJ-JL-2019-101")
    page.get_by_role("button", name="保存并录入下一条").click()
    expect(page.locator("ul.messages li.success")).to_contain_text("已保存为草稿")
    expect(page.locator("h1")).to_have_text("录入招投标信息及合同登记信息")  # a new, empty form
    assert page.url.endswith(f"/projects/{project.pk}/records/tender_contract/new/")
    expect(page.locator("#id_contract_num")).to_have_value("")
    first = TenderContract.objects.get(contract_num="QJ-JL-2019-101")
    # Copy it: everything but its numbers and dates.
    page.select_option("#copy", str(first.pk))
    page.get_by_role("button", name="复制填入").click()
    expect(page.locator("#id_agency_name")).to_have_value("云南招标代理有限公司")
    expect(page.locator("#id_tender_amount")).to_have_value("320")
    expect(page.locator("#id_contract_num")).to_have_value("")
    expect(page.locator("#id_contract_date")).to_have_value("")


def test_the_agency_is_marked_required_unless_direct(page, demo_site):
    _tender_page(page, demo_site.url)
    field = page.locator('.field[data-field="agency_name"]')
    page.select_option("#id_tender_method", "001")
    expect(field).to_have_class("field required")
    page.select_option("#id_tender_method", "003")  # 直接发包
    expect(field).not_to_have_class("field required")


def _review_page(page, base: str) -> None:
    login(page, base, "design1")
    page.goto(f"{base}/projects/drawing-reviews/")
    page.locator(f'tr[data-censor-num="{PMS_REVIEW}"]').get_by_role("link", name="完善").click()
    expect(page.locator("h1")).to_have_text("完善施工图审查信息")


def test_one_label_says_建设规模_once(page, demo_site):
    _review_page(page, demo_site.url)
    labels = page.locator("#entry-form label").all_inner_texts()
    scale = [t for t in labels if "建设规模" in t]
    assert len(scale) == len(set(scale)) == 2


def test_a_building_table_pasted_from_excel_fills_the_rows(page, demo_site):
    _review_page(page, demo_site.url)
    table = "名称\t结构类型\t地上层数\n1号教学楼\t框架结构\t5\n2号实验楼\t框架结构\t4\n3号食堂\t砖混结构\t2\n"
    page.locator("#id_b-0-name").focus()
    page.evaluate(
        """text => { const dt = new DataTransfer(); dt.setData('text/plain', text);
             document.querySelector('#id_b-0-name').dispatchEvent(
               new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true})); }""",
        table,
    )
    expect(page.locator("#id_b-2-name")).to_have_value("3号食堂")
    expect(page.locator("#id_b-TOTAL_FORMS")).to_have_value("3")
    expect(page.locator("#id_b-1-floors_above")).to_have_value("4")
    page.select_option("#id_one_pass", "true")
    page.fill("#id_violations_count", "0")
    page.get_by_role("button", name="保存草稿", exact=True).last.click()
    expect(page.locator("ul.messages li.success")).to_be_visible()
    project = DrawingReview.objects.get(censor_num=PMS_REVIEW).project
    names = list(Building.objects.filter(project=project).order_by("pk").values_list("name", flat=True))
    assert names == ["1号教学楼", "2号实验楼", "3号食堂"]


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1280, 720), (1920, 1080)])
def test_the_action_bar_never_covers_the_field_being_typed_into(page, demo_site, width, height):
    page.set_viewport_size({"width": width, "height": height})
    _review_page(page, demo_site.url)
    page.locator("#id_censor_date").focus()
    covered = []
    for _ in range(45):
        page.keyboard.press("Tab")
        box = page.evaluate(
            """() => { const el = document.activeElement; const bar = document.querySelector('#entry-form .form-actions');
                 if (!el || !bar || bar.contains(el) || el === document.body) return null;
                 const r = el.getBoundingClientRect(), b = bar.getBoundingClientRect();
                 return {name: el.name || el.id, bottom: r.bottom, barTop: b.top, barBottom: b.bottom}; }"""
        )
        if box and box["bottom"] > box["barTop"] + 1 and box["barTop"] < height:
            covered.append(box["name"])
    assert covered == []
