"""Issue 13 in Chromium: the system administrator loads a PMS export (upload → preview → apply →
report), then the general contractor finds the loaded permit in its workspace, completes it and
submits it (notice 一(一)2: "在原有施工许可数据项上进行完善")."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from projects import services as ps
from projects.models import ConstructionPermit, DrawingReview, State
from tests import factories as f
from tests.conftest import login
from tests.loads import exports as x
from yunjian.core.models import Organization, User
from yunjian.core.validators import complete_credit_code, complete_id_number

pytestmark = pytest.mark.browser

PRJ = "5303022001200001"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def work():
    call_command("load_worker", "--once", stdout=io.StringIO())


def export_files(directory):
    org = {o.name: o for o in Organization.objects.all()}
    owner, design = org["曲靖市城市投资开发有限公司"], org["云南省城乡规划设计研究院有限公司"]
    institution, builder = org["云南省建设工程施工图审查中心"], org["云南建投第一建设有限公司"]
    projects = x.write(
        directory / "工程项目.xlsx",
        [
            "项目编号",
            "项目名称",
            "项目分类",
            "工程用途",
            "建设单位名称",
            "建设单位统一社会信用代码",
            "项目所在区县",
        ],
        [[PRJ, "曲靖市第一中学扩建工程", "01", "304", owner.name, owner.credit_code, "530302"]],
        fmt="xlsx",
    )
    censors = x.write(
        directory / "censors.csv",
        x.CENSOR_HEADER,
        [
            [
                f"{PRJ}-TX-001",
                PRJ,
                institution.name,
                institution.credit_code,
                "2020-01-10",
                design.name,
                design.credit_code,
                "1",
            ]
        ],
    )
    permits = x.write(
        directory / "permits.csv",
        x.PERMIT_HEADER,
        [
            [
                f"{PRJ}-SX-001",
                PRJ,
                f"{PRJ}-TX-001",
                builder.name,
                builder.credit_code,
                "2020-03-01",
                "5000",
                "李经理",
            ]
        ],
    )
    return [projects, censors, permits]


def test_admin_loads_an_export_and_the_contractor_completes_the_loaded_permit(page, demo_site, tmp_path):
    files = export_files(tmp_path)
    login(page, demo_site.url, "admin")
    page.goto(f"{demo_site.url}/loads/")
    page.set_input_files("#id_files", [str(p) for p in files])
    page.get_by_role("button", name="上传并检查").click()
    expect(page.locator("#load-progress")).to_contain_text("等待检查")
    work()
    page.reload()
    expect(page.locator('#load-counts [data-status="new"] .stat-num')).to_have_text("3")
    expect(page.locator('#load-counts [data-status="error"] .stat-num')).to_have_text("0")
    page.get_by_role("button", name="确认导入").click()
    expect(page.locator("#load-progress")).to_contain_text("等待导入")
    work()
    page.reload()
    expect(page.locator("#load-done")).to_contain_text("导入完成")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载结果报告（.xlsx）").click()
    assert download.value.suggested_filename.endswith("结果.xlsx")

    # The design unit completes the loaded drawing review and it is approved (not the subject here).
    review = DrawingReview.objects.get(censor_num=f"{PRJ}-TX-001")
    design1, institution1, division1 = (
        User.objects.get(username=u) for u in ("design1", "institution1", "division1")
    )
    review = ps.drawing_review_update(
        actor=design1, review_id=review.pk, data=f.review_completion(), submit=True
    )
    f.approve(review, institution1)
    f.approve(review, division1)

    page.context.clear_cookies()
    login(page, demo_site.url, "builder1")
    permit = ConstructionPermit.objects.get(permit_num=f"{PRJ}-SX-001")
    page.goto(f"{demo_site.url}/projects/")
    page.locator(f'a[href="/projects/records/permit/{permit.pk}/edit/"]').first.click()
    expect(page.locator("#id_permit_num")).to_have_value(f"{PRJ}-SX-001")
    expect(page.locator("input[name=review_ids]:checked")).to_have_count(1)
    page.fill("#id_project_manager", "李建国")
    # What PMS did not hold and the platform needs (docs/data-standard.md §2.10).
    page.fill("#id_contract_num", f"{PRJ}-HT-001")
    page.fill("#id_project_manager_id", complete_id_number("53030219750608003"))
    page.fill("#id_supervision_org", complete_credit_code("9153010021658307"))  # the demo's 监理单位
    page.fill("#id_chief_supervisor", "李监理")
    page.fill("#id_chief_supervisor_id", complete_id_number("53010219700915002"))
    page.select_option("#id_project-prj_property", "001")
    page.fill("#id_project-actual_start", "2020-05-10")
    page.fill("#id_project-actual_end", "2021-06-30")
    page.get_by_role("button", name="完成录入并提交发证机关审核").click()
    expect(page.locator("#record-state")).to_have_text("待审核")
    permit.refresh_from_db()
    assert (permit.state, permit.project_manager) == (State.IN_REVIEW, "李建国")
