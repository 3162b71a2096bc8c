"""我的项目: the organization's projects, each record's state, what the organization still owes,
search, filters and keyset pagination."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects import services as ps
from tests import factories as f
from tests.synchelpers import acknowledge_project_offline

pytestmark = pytest.mark.django_db
URL = reverse("projects:workspace")


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-project="(\d+)"', html)


def test_it_lists_the_projects_of_the_organization_with_each_state(
    as_user, contractor, permit_in_review, county_permit_reviewer
):
    f.approve(permit_in_review, county_permit_reviewer)
    html = as_user(contractor).get(URL).content.decode()
    assert rows(html) == [permit_in_review.project.prj_num]
    assert "施工总承包单位" in html
    assert "badge state-approved" in html  # the permit, and the design unit's approved drawing review
    assert reverse("projects:project", args=[permit_in_review.project_id]) in html
    assert 'class="next-step"' in html


def test_a_permit_in_review_lists_its_project_with_only_the_contractors_own_record(
    as_user, contractor, permit_in_review, approved_review
):
    """Issue 11: a draft or a record in review makes nobody a party of the project."""
    html = as_user(contractor).get(URL).content.decode()
    assert rows(html) == [permit_in_review.project.prj_num]
    assert "badge state-in_review" in html
    assert "发证机关审核（施工许可信息）" in html  # 待审核 at which step
    assert approved_review.censor_num not in html  # the design unit's record is not shown
    assert "待审核认定" in html
    assert reverse("projects:project", args=[permit_in_review.project_id]) not in html


def test_the_design_unit_owes_its_draft_drawing_review(as_user, designer, review):
    html = as_user(designer).get(URL).content.decode()
    assert f"图审信息 {review.censor_num}尚未提交" in html
    assert reverse("projects:record-edit", args=["drawing_review", review.pk]) in html


def test_a_returned_record_shows_its_reason_and_a_fix_link(as_user, contractor, returned_permit):
    html = as_user(contractor).get(URL, {"state": "returned"}).content.decode()
    assert "退回原因：发证日期与原件不一致" in html
    assert "已退回，请按退回原因修改后重新提交" in html
    assert reverse("projects:record-edit", args=["permit", returned_permit.pk]) in html


def test_contractor_waits_for_the_platform_then_owes_tender_and_completion(
    as_user, contractor, permit_in_review, county_permit_reviewer, project
):
    f.approve(permit_in_review, county_permit_reviewer)
    html = as_user(contractor).get(URL).content.decode()
    assert "正在同步至省一体化平台" in html

    acknowledge_project_offline(project)
    html = as_user(contractor).get(URL).content.decode()
    assert "施工许可已认定，待录入竣工验收信息" in html
    assert "施工许可已认定，待录入施工总包招投标及合同信息" in html
    assert reverse("projects:completion-new", args=[project.pk]) in html


def test_contractor_is_told_to_enter_a_permit_when_reviews_are_approved(
    as_user, contractor, world, project, approved_review
):
    # The contractor is already a party (e.g. from an earlier permit of another section) but has no permit here.
    ps.ensure_party(project, world["builder"], "general_contractor")
    html = as_user(contractor).get(URL).content.decode()
    assert "待录入施工许可信息" in html
    assert f"{reverse('projects:permit-new')}?q={project.prj_num}" in html


def test_supervision_and_survey_owe_their_own_tender(as_user, supervisor, open_project, world):
    ps.ensure_party(open_project, world["supervision"], "supervision")  # as a permit naming it does
    html = as_user(supervisor).get(URL).content.decode()
    assert "待录入监理招投标及合同信息" in html
    assert f"{reverse('projects:tender-new', args=[open_project.pk])}?scope=supervision" in html


def test_specialty_contractor_owes_completion_of_its_own_scope(as_user, specialist, open_project):
    contract = ps.tender_contract_save(
        actor=specialist, project_id=open_project.pk, data=f.tender_data("specialty", contract_type="302")
    )
    html = as_user(specialist).get(URL).content.decode()
    assert "竣工验收信息" in html
    assert f"{reverse('projects:completion-new', args=[open_project.pk])}?contract={contract.pk}" in html


def test_other_organizations_projects_are_not_listed(as_user, outsider, other_contractor, permit_in_review):
    for user in (outsider, other_contractor):
        html = as_user(user).get(URL).content.decode()
        assert rows(html) == []
        assert "还没有本单位参与的项目" in html


@pytest.mark.parametrize("field", ["prj_num", "censor_num", "permit_num", "name"])
def test_search_by_number_prefix_or_name(
    as_user, contractor, permit_in_review, approved_review, world, field
):
    other = f.make_project("530302", owner=world["owner"], name="另一个项目")
    ps.ensure_party(other, world["builder"], "general_contractor")
    term = {
        "prj_num": permit_in_review.project.prj_num[:14],
        "censor_num": approved_review.censor_num,
        "permit_num": permit_in_review.permit_num[:20],
        "name": "测试",
    }[field]
    html = as_user(contractor).get(URL, {"q": term}).content.decode()
    assert rows(html) == [permit_in_review.project.prj_num]
    html = as_user(contractor).get(URL).content.decode()
    assert len(rows(html)) == 2


def test_filter_by_state_and_kind(as_user, contractor, returned_permit, world):
    html = as_user(contractor).get(URL, {"state": "approved", "kind": "permit"}).content.decode()
    assert rows(html) == []
    html = as_user(contractor).get(URL, {"state": "returned", "kind": "permit"}).content.decode()
    assert rows(html) == [returned_permit.project.prj_num]
    # nonsense filter values are ignored, not errors
    assert as_user(contractor).get(URL, {"state": "x", "kind": "y", "after": "!!"}).status_code == 200


def test_keyset_pagination_without_offset_or_count(as_user, contractor, world):
    projects = [f.make_project("530302", owner=world["owner"], name=f"项目{i:02d}") for i in range(23)]
    for p in projects:
        ps.ensure_party(p, world["builder"], "general_contractor")
    client = as_user(contractor)
    with CaptureQueriesContext(connection) as queries:
        first = client.get(URL).content.decode()
    sql = " ".join(q["sql"].upper() for q in queries.captured_queries)
    assert "OFFSET" not in sql
    assert "COUNT(" not in sql
    first_rows = rows(first)
    assert first_rows == [p.prj_num for p in reversed(projects)][:20]
    after = re.search(r'href="\?([^"]*after=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(f"{URL}?{after}").content.decode()
    assert rows(second) == [p.prj_num for p in reversed(projects)][20:]
    assert "已是最后一页" in second


def test_wrong_roles_get_403(as_user, reviewer, institution_staff, division_staff):
    for user in (reviewer, institution_staff, division_staff):
        assert as_user(user).get(URL).status_code == 403


def test_home_page_links_into_the_workspace_and_returned_records(as_user, contractor, returned_permit):
    html = as_user(contractor).get(reverse("core:home-role", args=["enterprise"])).content.decode()
    assert f'href="{URL}"' in html
    assert f'href="{URL}?state=returned"' in html
