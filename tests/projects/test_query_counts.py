"""The workspace, my-reviews and record pages ask the same number of queries with 2 projects as
with 40: one page of rows, then one query per record kind, never one per row."""

from __future__ import annotations

import pytest
from django.urls import reverse

from projects import services as ps
from projects.codes import Scope
from tests import factories as f
from tests.synchelpers import acknowledge_project_offline

pytestmark = pytest.mark.django_db


@pytest.fixture
def build(world, designer, contractor, institution_staff, division_staff, county_permit_reviewer):
    """Add projects, each with an approved drawing review and a permit in review (every few also
    a returned one, an open project with tender and completion), up to `total` in all."""
    made = []

    def grow(total: int):
        while len(made) < total:
            i = len(made)
            project = f.make_project("530302", owner=world["owner"], name=f"项目{i:03d}")
            review = f.register_review(project, world["design"], world["institution"])
            f.complete_and_submit_review(review, designer)
            f.approve(review, institution_staff)
            f.approve(review, division_staff)
            permit = ps.permit_save(
                actor=contractor,
                drawing_review_ids=[review.pk],
                data=f.permit_data(world["bureau_qlq"], issue_date=review.censor_date),
                submit=True,
            )
            if i % 2 == 1:
                f.approve(permit, county_permit_reviewer)

                project.refresh_from_db()
                acknowledge_project_offline(project)
                ps.tender_contract_save(
                    actor=contractor, project_id=project.pk, data=f.tender_data(Scope.CONSTRUCTION)
                )
                ps.completion_save(actor=contractor, project_id=project.pk, data=f.completion_data())
            made.append((project, review, permit))
        return made

    return grow


def count(client, url, django_assert_num_queries, expected):
    # The first request of a session writes its last-activity time (idle timeout); count a later one.
    client.get(url)
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert response.status_code == 200
    return response


# Every page also counts the header's unread messages (notices.context_processors.unread): the + 1.
# session, user, page of projects (keyset, county + specialty info joined), the org's roles on the
# page, then one query per record kind (specialty info, drawing review, permit, tender, completion)
# ; on the first page, the 待完成 list: one bounded query per record kind (six: addition requests too)
WORKSPACE_QUERIES = 9 + 6 + 1


@pytest.mark.parametrize("total", [2, 40])
def test_workspace_queries_do_not_grow(as_user, contractor, build, django_assert_num_queries, total):
    build(total)
    client = as_user(contractor)
    response = count(client, reverse("projects:workspace"), django_assert_num_queries, WORKSPACE_QUERIES)
    assert response.content.decode().count("<tr data-project=") == min(total, 20)
    # A filtered, searched page costs the same.
    count(
        client,
        reverse("projects:workspace") + "?state=in_review&kind=permit&q=5303",
        django_assert_num_queries,
        WORKSPACE_QUERIES,
    )
    # Sorted by name or number, the same.
    for sort in ("name", "-prj_num"):
        response = count(
            client,
            reverse("projects:workspace") + f"?sort={sort}",
            django_assert_num_queries,
            WORKSPACE_QUERIES,
        )
        assert response.content.decode().count("<tr data-project=") == min(total, 20)


# session, user, the page of drawing reviews with project, county and institution joined
MY_REVIEWS_QUERIES = 3 + 1


@pytest.mark.parametrize("total", [2, 40])
def test_my_reviews_queries_do_not_grow(as_user, designer, build, django_assert_num_queries, total):
    build(total)
    response = count(
        as_user(designer), reverse("projects:my-reviews"), django_assert_num_queries, MY_REVIEWS_QUERIES
    )
    assert response.content.decode().count("data-censor-num=") == total
    # Sorted by any column (project and institution are joined already), the same.
    for sort in ("-project", "censor_org", "-censor_date", "censor_num", "-state"):
        response = count(
            as_user(designer),
            reverse("projects:my-reviews") + f"?sort={sort}",
            django_assert_num_queries,
            MY_REVIEWS_QUERIES,
        )
        assert response.content.decode().count("data-censor-num=") == total


# session, user, the record (project, county, its organizations joined), the project's owner (basic
# info), buildings, the permit's drawing reviews, attachments, timeline (actors joined), and whether
# the organization is a party of the project (a link to the project page only then, issue 11), the
# record's revocations (撤销认定, issue 18), its corrections (更正, issue 18); and the header's
# unread-message count
RECORD_QUERIES = 11 + 1


@pytest.mark.parametrize("total", [2, 40])
def test_record_page_queries_do_not_grow(as_user, contractor, build, django_assert_num_queries, total):
    rows = build(total)
    _, _, permit = rows[0]
    count(
        as_user(contractor),
        reverse("projects:record", args=["permit", permit.pk]),
        django_assert_num_queries,
        RECORD_QUERIES,
    )


@pytest.mark.parametrize("total", [2, 40])
def test_project_page_queries_do_not_grow(as_user, contractor, build, django_assert_num_queries, total):
    rows = build(total)
    project, _, _ = rows[-1]
    # session, user, project, party check, five record kinds, roles, buildings, sync status
    count(
        as_user(contractor), reverse("projects:project", args=[project.pk]), django_assert_num_queries, 12 + 1
    )


@pytest.mark.parametrize("total", [2, 40])
def test_addition_requests_list_queries_do_not_grow(
    as_user, designer, world, django_assert_num_queries, total
):
    from yunjian.core.models import Division

    county = Division.objects.get(pk="530302")
    for i in range(total):
        request = ps.addition_request_save(
            actor=designer,
            data={
                "prj_num": f.prj_num("530302"),
                "project_name": f"历史项目{i}",
                "county": county,
                "owner_name": "某建设单位",
                "censor_num": f"5303022001019999-TX-{i:03d}",
                "censor_org": world["institution"],
                "censor_date": "2019-01-15",
                "reason": "系统切换前办理",
                "contact_name": "张三",
                "contact_phone": "13800000000",
            },
            submit=i % 2 == 0,
        )
        assert request.pk
    # session, user, one page of requests (county, institution and created review joined)
    response = count(
        as_user(designer), reverse("projects:additions"), django_assert_num_queries, ADDITIONS_QUERIES
    )
    assert "历史项目" in response.content.decode()
    # Sorted by a column (the institution's name is joined already), the same.
    for sort in ("-censor_org", "project", "-state"):
        count(
            as_user(designer),
            reverse("projects:additions") + f"?sort={sort}",
            django_assert_num_queries,
            ADDITIONS_QUERIES,
        )


ADDITIONS_QUERIES = 3 + 1  # + the header's unread-message count


def test_performance_list_export_and_print_ask_as_many_queries_for_2_projects_as_for_6(
    client, build, contractor, reviewer, django_assert_num_queries
):
    """The 业绩 pages: the page's rows, one query for their states, one for the figures; the export
    and the print page one query for the rows and one per record kind."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from projects.models import Completion, ProjectParty, State, TenderContract

    def verify_open_projects():
        # The open projects' tender and completion drafts: submitted, approved, acknowledged.
        for model in (TenderContract, Completion):
            for record in model.objects.filter(owner_org=contractor.organization, state=State.DRAFT):
                f.approve(ps.record_submit(actor=contractor, kind=record.KIND, record_id=record.pk), reviewer)
                acknowledge_project_offline(record.project)

    client.force_login(contractor)
    urls = [
        reverse("projects:performance"),
        reverse("projects:performance") + "?step=permit",
        reverse("projects:performance") + "?show=verified",
        reverse("projects:performance-export"),
        reverse("projects:performance-print"),
        reverse("core:home-role", args=["enterprise"]),
    ]
    build(2)
    verify_open_projects()
    small = {}
    for url in urls:
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        small[url] = len(captured)
    build(6)
    verify_open_projects()
    assert ProjectParty.objects.filter(organization=contractor.organization).count() == 3
    response = client.get(urls[2])
    assert len(response.context["rows"]) == 3  # every open project is verified now
    for url in urls:
        count(client, url, django_assert_num_queries, small[url])
