"""业绩 in Chromium: an enterprise sees its verified count on its home, the list of the projects
blocked at a step, the verified list, and downloads the export (read back with the project's reader)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from projects import services as ps
from projects.codes import Scope
from projects.models import ProjectParty
from tests import factories as f
from tests.conftest import login
from tests.synchelpers import acknowledge_project_offline
from yunjian.core import spreadsheets

pytestmark = pytest.mark.browser


@pytest.fixture
def verified_and_blocked(
    live_server,
    transactional_db,
    world,
    project,
    approved_review,
    contractor,
    county_permit_reviewer,
    reviewer,
):
    """The contractor's first project is verified; on a second one it has no permit yet."""
    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
    )
    f.approve(permit, county_permit_reviewer)
    acknowledge_project_offline(project)
    contract = ps.tender_contract_save(
        actor=contractor, project_id=project.pk, data=f.tender_data(Scope.CONSTRUCTION), submit=True
    )
    f.approve(contract, reviewer)
    completion = ps.completion_save(
        actor=contractor, project_id=project.pk, data=f.completion_data(), submit=True
    )
    f.approve(completion, reviewer)
    acknowledge_project_offline(project)
    second = f.make_project("530302", owner=world["owner"], name="第二个项目")
    ProjectParty.objects.create(
        project=second, organization=world["builder"], role=ProjectParty.Role.GENERAL_CONTRACTOR
    )
    return project, second


def test_enterprise_sees_its_verified_projects_and_downloads_the_list(
    page, live_server, verified_and_blocked, contractor
):
    verified, blocked = verified_and_blocked
    login(page, live_server.url, contractor.username, f.PASSWORD)
    page.goto(f"{live_server.url}/home/enterprise/")
    card = page.locator("#home-performance")
    expect(card.locator("#home-verified")).to_have_text("1")
    expect(card.locator("#home-near")).to_have_text("0")
    card.locator('a[data-step="permit"]').click()  # the projects blocked on the permit
    rows = page.locator("#performance tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-project", blocked.prj_num)
    expect(rows.first).to_contain_text("待录入施工许可信息")

    page.locator("#performance-summary a.stat.state-synced").click()  # 已认定业绩
    rows = page.locator("#performance tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-project", verified.prj_num)
    expect(rows.first).to_contain_text("平台已接收")

    with page.expect_download() as info:
        page.locator("#performance-export").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    content = open(download.path(), "rb").read()  # noqa: SIM115
    table = spreadsheets.read_rows(content, download.suggested_filename)
    header, line = table[1][1], table[2][1]
    values = dict(zip(header, line, strict=True))
    assert values["项目编号"] == verified.prj_num
    assert values["本单位角色"] == "施工总承包单位"
    assert len(table) == 3

    page.goto(f"{live_server.url}/projects/performance/print/")
    expect(page.locator("#performance-print tbody tr")).to_have_count(1)
    expect(page.locator("#performance-print")).to_contain_text(verified.prj_num)
    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.locator(".sign-area")).to_contain_text("单位（盖章）")
