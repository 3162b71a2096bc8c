"""The enterprise's lists sort by column on the server, across pages (issue 19, 'sortable columns'):
我的图审信息 and 图审信息新增申请 put the work first by default (returned, then drafts), and every
sortable header continues its order on the next page; 我的项目 sorts by name or number."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from projects import services as ps
from projects import views
from projects.models import DrawingReview, State
from tests import factories as f
from yunjian.core.models import Division

pytestmark = pytest.mark.django_db


def walk(client, url: str, params: dict | None = None) -> list[int]:
    """Every row of the list, following the pages' own next links."""
    seen, query = [], params or {}
    for _ in range(50):
        response = client.get(url, query)
        assert response.status_code == 200
        page = response.context["page"]
        seen += [r.pk for r in page.rows]
        if not page.next_cursor:
            return seen
        query = {**page.params, "after": page.next_cursor}
    raise AssertionError("the pages never ended")


@pytest.fixture
def reviews(world, designer, institution_staff, division_staff, monkeypatch):
    """Six drawing reviews of the design unit: two drafts (one without a 审查完成日期), one in review,
    one returned, one approved, one more draft; project names in no particular order."""
    monkeypatch.setattr(views, "RECORD_LIST_PAGE_SIZE", 2)
    names = ["丙楼", "甲楼", "戊楼", "乙楼", "丁楼", "己楼"]
    dates = [date(2020, 3, 1), date(2019, 5, 1), date(2021, 1, 1), date(2018, 7, 1), date(2020, 3, 1), None]
    made = []
    for name, day in zip(names, dates, strict=True):
        project = f.make_project("530302", owner=world["owner"], name=name)
        made.append(
            f.register_review(
                project, world["design"], world["institution"], censor_date=day or date(2020, 1, 1)
            )
        )
    # A record loaded without its date (older systems' exports): shown as "—", sorted last.
    DrawingReview.objects.filter(pk=made[5].pk).update(censor_date=None)
    f.complete_and_submit_review(made[1], designer)  # in review
    f.complete_and_submit_review(made[2], designer)
    f.send_back(made[2], institution_staff, reason="日期有误")  # returned
    f.complete_and_submit_review(made[3], designer)
    f.approve(made[3], institution_staff)
    f.approve(made[3], division_staff)  # approved
    for review in made:
        review.refresh_from_db()
    assert [r.state for r in made] == [
        State.DRAFT,
        State.IN_REVIEW,
        State.RETURNED,
        State.APPROVED,
        State.DRAFT,
        State.DRAFT,
    ]
    return made


MY_REVIEWS = reverse("projects:my-reviews")


def test_my_reviews_put_the_work_first_across_pages(as_user, designer, reviews):
    client = as_user(designer)
    r = [x.pk for x in reviews]
    # Returned, then drafts (newest first), then in review, then approved.
    assert walk(client, MY_REVIEWS) == [r[2], r[5], r[4], r[0], r[1], r[3]]
    assert walk(client, MY_REVIEWS, {"sort": "-state"}) == [r[3], r[1], r[0], r[4], r[5], r[2]]


def test_my_reviews_sort_by_a_column_across_pages(as_user, designer, reviews):
    client = as_user(designer)
    by_pk = {x.pk: x for x in reviews}
    r = [x.pk for x in reviews]

    # 审查完成日期: a tie (r0, r4) broken by id, the review without a date last in both directions.
    assert walk(client, MY_REVIEWS, {"sort": "censor_date"}) == [r[3], r[1], r[0], r[4], r[2], r[5]]
    assert walk(client, MY_REVIEWS, {"sort": "-censor_date"}) == [r[2], r[4], r[0], r[1], r[3], r[5]]
    names = walk(client, MY_REVIEWS, {"sort": "project"})
    assert [by_pk[pk].project.name for pk in names] == sorted(x.project.name for x in reviews)
    numbers = walk(client, MY_REVIEWS, {"sort": "-censor_num"})
    assert [by_pk[pk].censor_num for pk in numbers] == sorted((x.censor_num for x in reviews), reverse=True)
    # With a filter: drafts only, by date, the filter kept on every page.
    assert walk(client, MY_REVIEWS, {"sort": "censor_date", "state": "draft"}) == [r[0], r[4], r[5]]


def test_my_reviews_headers_are_links_that_show_the_order(as_user, designer, reviews):
    client = as_user(designer)
    html = client.get(MY_REVIEWS, {"sort": "-censor_date", "state": "draft", "q": "楼"}).content.decode()
    assert (
        '<th aria-sort="descending"><a class="sort-link" href="?sort=censor_date&amp;state=draft&amp;q=%E6%A5%BC"'
        in html
    )
    assert '<span aria-hidden="true">▼</span>' in html
    assert 'href="?sort=project&amp;state=draft&amp;q=%E6%A5%BC"' in html
    assert '<input type="hidden" name="sort" value="-censor_date">' in html
    # The default order marks 状态 as the sorted column.
    html = client.get(MY_REVIEWS).content.decode()
    assert '<th aria-sort="ascending"><a class="sort-link" href="?sort=-state"' in html


@pytest.mark.parametrize(
    "params",
    [{"sort": "owner_org__credit_code"}, {"sort": "state", "after": "not-a-cursor"}, {"sort": "x" * 3000}],
)
def test_a_tampered_sort_gives_the_work_first(as_user, designer, reviews, params):
    client = as_user(designer)
    response = client.get(MY_REVIEWS, params)
    assert response.status_code == 200
    assert response.context["page"].is_first
    assert response.context["page"].rows[0].pk == reviews[2].pk  # the returned one


def test_additions_put_the_work_first_and_sort_by_project(as_user, designer, world, monkeypatch):
    monkeypatch.setattr(views, "RECORD_LIST_PAGE_SIZE", 2)
    county = Division.objects.get(pk="530302")
    made, names = [], ["乙项目", "甲项目", "丙项目", "丁项目"]
    for i, name in enumerate(names):
        made.append(
            ps.addition_request_save(
                actor=designer,
                data={
                    "prj_num": f.prj_num("530302"),
                    "project_name": name,
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
            ).pk
        )
    client = as_user(designer)
    url = reverse("projects:additions")
    # Drafts (newest first) before those in review (newest first).
    assert walk(client, url) == [made[3], made[1], made[2], made[0]]
    by_name = sorted(zip(names, made, strict=True))  # the database's collation: code points
    assert walk(client, url, {"sort": "project"}) == [pk for _name, pk in by_name]
    assert walk(client, url, {"sort": "-censor_num"}) == made[::-1]


def test_workspace_sorts_projects_by_name_and_number_across_pages(as_user, designer, world, monkeypatch):
    monkeypatch.setattr(views, "WORKSPACE_PAGE_SIZE", 2)
    projects = []
    for name in ["乙楼", "甲楼", "丙楼", "甲楼"]:  # a tie on the name
        project = f.make_project("530302", owner=world["owner"], name=name)
        f.register_review(project, world["design"], world["institution"])
        projects.append(project)
    client = as_user(designer)
    url = reverse("projects:workspace")
    p = [x.pk for x in projects]

    assert walk(client, url)[:4] == p[::-1]  # newest first by default
    by_name = sorted(projects, key=lambda x: (x.name, x.pk))
    assert walk(client, url, {"sort": "name"}) == [x.pk for x in by_name]
    by_number = sorted(projects, key=lambda x: x.prj_num, reverse=True)
    assert walk(client, url, {"sort": "-prj_num"}) == [x.pk for x in by_number]
    html = client.get(url, {"sort": "name"}).content.decode()
    assert "恢复默认排序" in html
    assert '<th aria-sort="ascending"><a class="sort-link" href="?sort=-name"' in html
