"""The inbox (待办): who sees what, filters, keyset pages, constant query count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from review import views
from review.models import Task
from tests import factories as f

INBOX = reverse("review:inbox")


def inbox_records(client, user, **params) -> list[tuple[str, int]]:
    client.force_login(user)
    response = client.get(INBOX, params)
    assert response.status_code == 200
    return [(t.kind, t.record_id) for t in response.context["page"].rows]


# --- scoping ------------------------------------------------------------------------------------


def test_qujing_reviewer_sees_qujing_counties_permits_and_nothing_of_honghe(
    client, reviewer, permit_in_review, xuanwei_permit, honghe_permit
):
    seen = inbox_records(client, reviewer)

    assert ("permit", permit_in_review.pk) in seen
    assert ("permit", xuanwei_permit.pk) in seen
    assert ("permit", honghe_permit.pk) not in seen


def test_honghe_reviewer_sees_only_honghe(client, honghe_reviewer, permit_in_review, honghe_permit):
    assert inbox_records(client, honghe_reviewer) == [("permit", honghe_permit.pk)]


def test_county_permit_reviewer_sees_own_county_only(
    client, county_permit_reviewer, permit_in_review, xuanwei_permit
):
    assert inbox_records(client, county_permit_reviewer) == [("permit", permit_in_review.pk)]


def test_completion_reviewer_sees_no_permits(
    client, completion_reviewer, completion_in_review, xuanwei_permit
):
    seen = inbox_records(client, completion_reviewer)

    assert seen == [("completion", completion_in_review.pk)]


def test_institution_sees_drawing_reviews_at_its_step_only(
    client, institution_staff, other_institution_staff, review_at_institution, permit_in_review
):
    assert inbox_records(client, institution_staff) == [("drawing_review", review_at_institution.pk)]
    assert inbox_records(client, other_institution_staff) == []


def test_design_division_sees_verifications_and_addition_requests_in_tabs(
    client, division_staff, institution_staff, review_at_institution, addition_request
):
    f.approve(review_at_institution, institution_staff)  # now at step 2: the division verifies

    client.force_login(division_staff)
    response = client.get(INBOX)
    tabs = {t["label"]: t["count"] for t in response.context["tabs"]}
    assert tabs == {"全部": "2", "施工图审查信息": "1", "图审信息新增申请": "1"}

    assert inbox_records(client, division_staff, kind="addition_request") == [
        ("addition_request", addition_request.pk)
    ]
    page = client.get(INBOX, {"kind": "drawing_review"}).content.decode()
    assert "省厅勘察设计处复核" in page


@pytest.mark.parametrize("persona", ["contractor", "outsider", "designer"])
def test_enterprise_users_get_403(client, request, persona):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(INBOX)

    assert response.status_code == 403
    assert "无权" in response.content.decode()


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(INBOX)

    assert response.status_code == 302
    assert reverse("core:login") in response["Location"]


def test_reviewer_without_roster_line_is_told_so(client, world):
    from yunjian.core.models import Role

    nobody = f.make_user("nina_unassigned", world["bureau_qlq"], Role.REVIEWER)
    client.force_login(nobody)

    page = client.get(INBOX).content.decode()

    assert "尚未分配审核环节" in page


def test_own_organizations_records_never_in_inbox(client, world, permit_in_review):
    # A reviewer employed by the enterer's organization would review their own records: excluded.
    from review.models import ReviewerAssignment
    from yunjian.core.models import Role

    insider = f.make_user("ian_insider", world["builder"], Role.REVIEWER)
    ReviewerAssignment.objects.create(user=insider, stage="permit", division_id="530300", roster_key="530300")

    assert inbox_records(client, insider) == []


# --- order, filters, search ---------------------------------------------------------------------


def test_oldest_first(client, reviewer, permit_in_review, xuanwei_permit):
    Task.objects.filter(record_id=xuanwei_permit.pk, kind="permit").update(
        submitted_at=timezone.now() - timedelta(days=3)
    )

    assert inbox_records(client, reviewer, kind="permit") == [
        ("permit", xuanwei_permit.pk),
        ("permit", permit_in_review.pk),
    ]


def test_filter_by_kind_and_counts_per_kind(client, reviewer, permit_in_review, specialty_in_review):
    assert inbox_records(client, reviewer, kind="specialty_info") == [
        ("specialty_info", specialty_in_review.pk)
    ]

    response = client.get(INBOX, {"kind": "permit"})
    tabs = {t["label"]: (t["count"], t["active"]) for t in response.context["tabs"]}
    assert tabs["全部"] == ("2", False)
    assert tabs["施工许可信息"] == ("1", True)
    assert tabs["专业承包项目基本信息"] == ("1", False)


def test_filter_by_county_and_by_prefecture_range(client, reviewer, permit_in_review, xuanwei_permit):
    assert inbox_records(client, reviewer, division="530381") == [("permit", xuanwei_permit.pk)]
    assert set(inbox_records(client, reviewer, division="530300")) == {
        ("permit", permit_in_review.pk),
        ("permit", xuanwei_permit.pk),
    }


def test_division_filter_uses_a_code_range_not_like(client, reviewer, permit_in_review):
    client.force_login(reviewer)
    with CaptureQueriesContext(connection) as queries:
        client.get(INBOX, {"division": "530300"})

    inbox_sql = [
        q["sql"] for q in queries if '"review_task"."submitted_at"' in q["sql"] and "LIMIT" in q["sql"]
    ]
    assert inbox_sql
    assert all("LIKE" not in sql for sql in inbox_sql)
    assert any(""""division_code" >= '5303'""" in sql for sql in inbox_sql)


def test_division_outside_jurisdiction_is_ignored(client, reviewer, permit_in_review):
    client.force_login(reviewer)

    response = client.get(INBOX, {"division": "532500"})

    assert response.status_code == 200
    assert [t.record_id for t in response.context["page"].rows] == [permit_in_review.pk]
    assert response.context["form"].errors


def test_filter_by_enterprise_credit_code_and_name(
    client, reviewer, world, permit_in_review, specialty_in_review
):
    builder = world["builder"]

    assert inbox_records(client, reviewer, org=builder.credit_code) == [("permit", permit_in_review.pk)]
    assert inbox_records(client, reviewer, org="专业承包") == [("specialty_info", specialty_in_review.pk)]


def test_search_by_number_prefix_project_number_prefix_and_name(
    client, reviewer, permit_in_review, xuanwei_permit
):
    assert inbox_records(client, reviewer, q="5303812001010001-SX") == [("permit", xuanwei_permit.pk)]
    assert inbox_records(client, reviewer, q=permit_in_review.project.prj_num[:10]) == [
        ("permit", permit_in_review.pk)
    ]
    assert inbox_records(client, reviewer, q="体育馆") == [("permit", xuanwei_permit.pk)]
    # Prefix, not substring, for numbers: the middle of a permit number matches nothing.
    assert inbox_records(client, reviewer, q="2001010001-SX") == []


def test_filter_by_submission_date(client, reviewer, permit_in_review, xuanwei_permit):
    ten_days_ago = timezone.now() - timedelta(days=10)
    Task.objects.filter(kind="permit", record_id=xuanwei_permit.pk).update(submitted_at=ten_days_ago)
    today = timezone.localdate()

    assert inbox_records(client, reviewer, submitted_from=today.isoformat()) == [
        ("permit", permit_in_review.pk)
    ]
    assert inbox_records(client, reviewer, submitted_to=(today - timedelta(days=5)).isoformat()) == [
        ("permit", xuanwei_permit.pk)
    ]


def test_overdue_rows_are_marked_and_filterable(client, reviewer, permit_in_review, xuanwei_permit):
    Task.objects.filter(kind="permit", record_id=xuanwei_permit.pk).update(
        due_at=timezone.now() - timedelta(days=2, hours=1)
    )

    assert inbox_records(client, reviewer, overdue="on") == [("permit", xuanwei_permit.pk)]

    page = client.get(INBOX).content.decode()
    assert page.count('class="state-in_review is-overdue"') == 1
    assert '<span class="badge overdue">超期 3 天</span>' in page


def test_rows_carry_lock_version_for_bulk_selection(client, reviewer, permit_in_review):
    client.force_login(reviewer)

    page = client.get(INBOX).content.decode()

    assert f'value="permit:{permit_in_review.pk}:{permit_in_review.lock_version}"' in page


# --- keyset pages and query counts -------------------------------------------------------------


def test_keyset_pages_walk_the_whole_list_without_offset(client, reviewer, many_permits, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    permits = many_permits(5)
    client.force_login(reviewer)

    seen, url, pages = [], INBOX, 0
    with CaptureQueriesContext(connection) as queries:
        while url:
            response = client.get(url)
            page = response.context["page"]
            seen += [t.record_id for t in page.rows]
            url = f"{INBOX}?{page.next_query}" if page.next_cursor else None
            pages += 1

    assert seen == [p.pk for p in permits]
    assert pages == 3
    assert not any("OFFSET" in q["sql"] for q in queries)
    assert not any("COUNT(*)" in q["sql"] and "LIMIT" not in q["sql"] for q in queries)


def test_inbox_query_count_is_constant(client, reviewer, many_permits, django_assert_num_queries):
    # session, user, the session's second-factor device, roster lines, divisions of the filter,
    # per-type counts (bounded), the page (the enterprise's name and the record's lock_version are
    # looked up inside that one query).
    many_permits(2)
    client.force_login(reviewer)
    client.get(INBOX)  # the first request writes the session's activity stamp
    # + 1 on every page below: the header's unread messages (notices.context_processors).
    with django_assert_num_queries(7 + 1):
        response = client.get(INBOX, {"overdue": ""})
    assert len(response.context["page"].rows) == 2

    many_permits(48)
    with django_assert_num_queries(7 + 1):
        response = client.get(INBOX, {"overdue": ""})
    assert len(response.context["page"].rows) == 50


def test_done_list_query_count_is_constant(client, reviewer, many_permits, django_assert_num_queries):
    for permit in many_permits(2):
        f.approve(permit, reviewer)
    client.force_login(reviewer)
    client.get(reverse("review:done"))
    # session, user, the session's second-factor device, and the same queries as before
    with django_assert_num_queries(6 + 1):
        response = client.get(reverse("review:done"))
    assert len(response.context["page"].rows) == 2

    for permit in many_permits(30):
        f.approve(permit, reviewer)
    with django_assert_num_queries(6 + 1):
        response = client.get(reverse("review:done"))
    assert len(response.context["page"].rows) == 32


def test_counts_stop_at_the_cap(client, reviewer, many_permits, monkeypatch):
    from review import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    many_permits(3)
    client.force_login(reviewer)

    response = client.get(INBOX)

    tabs = {t["label"]: t["count"] for t in response.context["tabs"]}
    assert tabs == {"全部": "2+", "施工许可信息": "2+"}
    assert len(response.context["page"].rows) == 3  # the list itself is not capped
    home = client.get(reverse("core:home-role", args=["reviewer"])).content.decode()
    assert '<span class="stat-num">2+</span><span class="stat-label">待审核</span>' in home


def test_design_division_and_institution_filter_by_division(
    client, division_staff, institution_staff, review_at_institution, addition_request
):
    # Non-roster steps are filed under the record's county too, so these province-wide inboxes filter.
    assert inbox_records(client, institution_staff, division="530300") == [
        ("drawing_review", review_at_institution.pk)
    ]
    assert inbox_records(client, institution_staff, division="532500") == []
    assert inbox_records(client, division_staff, division="530302") == [
        ("addition_request", addition_request.pk)
    ]
    assert inbox_records(client, division_staff, division="530100") == []


# --- a user of several roles, a reviewer of a zone ----------------------------------------------


def test_a_user_of_the_institution_who_also_verifies_for_the_division_sees_both_steps(
    client, world, review_at_institution, addition_request, permit_in_review
):
    from yunjian.core.models import Role

    both = f.make_user("ida_both", world["institution"], Role.INSTITUTION, Role.DESIGN_DIVISION)
    assert set(inbox_records(client, both)) == {
        ("drawing_review", review_at_institution.pk),
        ("addition_request", addition_request.pk),
    }


@pytest.fixture
def anning_permit(world, designer, institution_staff, division_staff, contractor):
    """A permit of a project in 滇中新区 (in 安宁市, 530181, one of its host counties), issued by the new
    area's bureau."""
    from tests.review.conftest import approved_review_in, submit_permit
    from yunjian.core.models import Organization, Zone

    bureau = f.make_org("滇中新区规划建设管理部", Organization.Kind.HOUSING_BUREAU, division="530181")
    bureau.zone = Zone.objects.get(slug="dianzhong")
    bureau.save()
    review = approved_review_in(
        "530181", world, designer, institution_staff, division_staff, name="安宁市学校"
    )
    # The project lies in the new area: its records go to the new area's roster (issue 11).
    type(review.project).objects.filter(pk=review.project_id).update(in_new_area=True)
    return submit_permit(contractor, review, bureau, permit_num="5301812001010001-SX-001")


@pytest.fixture
def zone_reviewer(world):
    """Zoe reviews permits for 滇中新区 (a zone, no division of its own)."""
    from projects.stages import Stage
    from review.models import ReviewerAssignment
    from yunjian.core.models import Organization, Role, Zone

    bureau = f.make_org("滇中新区住房和城乡建设局", Organization.Kind.HOUSING_BUREAU, division="530100")
    user = f.make_user("zoe_dianzhong", bureau, Role.REVIEWER)
    ReviewerAssignment.objects.create(
        user=user, stage=Stage.PERMIT, zone=Zone.objects.get(slug="dianzhong"), roster_key="530100"
    )
    return user


def test_a_zone_reviewer_sees_the_zones_counties_only(
    client, zone_reviewer, anning_permit, permit_in_review, django_assert_num_queries
):
    client.force_login(zone_reviewer)
    client.get(INBOX)  # the first request writes the session's activity stamp
    # session, user, the session's second-factor device, roster lines with their zone, the zone's
    # counties (one prefetch), divisions of the filter, per-type counts, the page: whatever the zone holds.
    with django_assert_num_queries(8 + 1):
        response = client.get(INBOX)
    assert [(t.kind, t.record_id) for t in response.context["page"].rows] == [("permit", anning_permit.pk)]


# --- sorting by column (server-side, across pages) ---------------------------------------------


def walk_pages(client, url: str, params: dict) -> tuple[list[int], int]:
    """Follow the pages' own next links from the first page; (record ids, pages)."""
    seen, pages, query = [], 0, params
    while True:
        response = client.get(url, query)
        assert response.status_code == 200
        page = response.context["page"]
        seen += [t.record_id for t in page.rows]
        pages += 1
        if not page.next_cursor:
            return seen, pages
        query = {**page.params, "after": page.next_cursor}


def test_page_two_continues_in_the_chosen_order(client, reviewer, many_permits, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    permits = many_permits(5)  # permit numbers rise with creation; one project: titles all tie
    Task.objects.filter(record_id=permits[1].pk).update(due_at=timezone.now() - timedelta(days=9))
    client.force_login(reviewer)
    ids = [p.pk for p in permits]

    assert walk_pages(client, INBOX, {"sort": "-number"}) == (ids[::-1], 3)
    assert walk_pages(client, INBOX, {"sort": "number"}) == (ids, 3)
    # Ties are broken by id, in the column's direction.
    assert walk_pages(client, INBOX, {"sort": "title"})[0] == ids
    assert walk_pages(client, INBOX, {"sort": "-title"})[0] == ids[::-1]
    # The oldest due first: the one made overdue leads, the rest by their own due dates.
    by_due = walk_pages(client, INBOX, {"sort": "due_at"})[0]
    assert by_due[0] == permits[1].pk
    assert sorted(by_due) == sorted(ids)


def test_sorting_keeps_the_filters_and_filtering_keeps_the_sort(client, reviewer, many_permits, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    permits = many_permits(4)
    client.force_login(reviewer)

    response = client.get(INBOX, {"sort": "-number", "kind": "permit", "q": "5303022001010001"})
    html = response.content.decode()

    assert [t.record_id for t in response.context["page"].rows] == [permits[3].pk, permits[2].pk]
    headers = response.context["order"].headers
    assert 'aria-sort="descending"' in html
    assert '<span aria-hidden="true">▼</span>' in html
    # The active header reverses the order; every header keeps the type tab and the search.
    assert "sort=number" in headers["number"]["query"]
    for header in headers.values():
        assert "kind=permit" in header["query"]
        assert "q=5303022001010001" in header["query"]
        assert f'href="?{header["query"].replace("&", "&amp;")}"' in html
    # The filter form and the next page keep the order.
    assert '<input type="hidden" name="sort" value="-number">' in html
    assert "sort=-number" in response.context["page"].next_query
    assert "恢复按提交时间排列" in html


def test_the_default_order_is_marked_on_its_header(client, reviewer, permit_in_review):
    client.force_login(reviewer)
    html = client.get(INBOX).content.decode()
    assert '<th aria-sort="ascending"><a class="sort-link" href="?sort=-submitted_at"' in html
    assert "按提交时间先后排列" in html


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "owner_org__password"},
        {"sort": "-"},
        {"sort": "number", "after": "eyJhIjoxfQ"},
        {"sort": "number", "after": "WyJ0aXRsZSIsICJ4IiwgMV0"},  # a cursor of another order
        {"sort": "number; DROP TABLE review_task", "after": "%%%"},
    ],
)
def test_a_tampered_sort_or_cursor_gives_the_first_page(client, reviewer, many_permits, params):
    permits = many_permits(2)
    client.force_login(reviewer)
    response = client.get(INBOX, params)
    assert response.status_code == 200
    assert response.context["page"].is_first
    assert {t.record_id for t in response.context["page"].rows} == {p.pk for p in permits}


def test_inbox_query_count_is_constant_when_sorted(client, reviewer, many_permits, django_assert_num_queries):
    many_permits(2)
    client.force_login(reviewer)
    client.get(INBOX)
    # + 1: the header's unread messages (notices.context_processors).
    with django_assert_num_queries(7 + 1):
        response = client.get(INBOX, {"sort": "-due_at"})
    assert len(response.context["page"].rows) == 2

    many_permits(60)
    with django_assert_num_queries(7 + 1):
        response = client.get(INBOX, {"sort": "-due_at"})
    assert len(response.context["page"].rows) == 50
    with django_assert_num_queries(7 + 1):
        response = client.get(INBOX, {"sort": "-due_at", "after": response.context["page"].next_cursor})
    assert len(response.context["page"].rows) == 12


def test_the_export_follows_the_chosen_order(client, reviewer, many_permits):
    from io import BytesIO

    from openpyxl import load_workbook

    permits = many_permits(3)
    client.force_login(reviewer)
    response = client.get(reverse("review:inbox-export"), {"sort": "-number"})
    sheet = load_workbook(
        BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    ).active
    numbers = [row[3] for row in sheet.iter_rows(min_row=2, values_only=True) if row[3]]
    assert numbers == [p.permit_num for p in reversed(permits)]
