"""The reviewer's home (counts that link into the filtered inbox) and the done list (已办)."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from review import views
from review.models import Task
from tests import factories as f

HOME = reverse("core:home-role", args=["reviewer"])


def test_home_counts_link_into_the_filtered_inbox(client, reviewer, many_permits, specialty_in_review):
    permits = many_permits(3)
    Task.objects.filter(kind="permit", record_id=permits[0].pk).update(
        due_at=timezone.now() - timedelta(days=1)
    )
    f.approve(permits[2], reviewer)
    client.force_login(reviewer)

    response = client.get(HOME)

    assert response.status_code == 200
    assert (
        response.context["waiting"],
        response.context["overdue"],
        response.context["decided_this_week"],
    ) == (
        3,
        1,
        1,
    )
    page = response.content.decode()
    inbox = reverse("review:inbox")
    assert f'id="stat-waiting" href="{inbox}"' in page
    assert f'id="stat-overdue" href="{inbox}?overdue=on"' in page
    week = response.context["week_start"].isoformat()
    assert f'id="stat-week" href="{reverse("review:done")}?decided_from={week}"' in page
    assert f'href="{inbox}?kind=permit">施工许可信息</a>' in page

    # the links lead to exactly what the tiles count
    assert len(client.get(inbox, {"overdue": "on"}).context["page"].rows) == 1
    assert len(client.get(reverse("review:done"), {"decided_from": week}).context["page"].rows) == 1


def test_done_lists_decisions_newest_first_with_outcome(client, reviewer, many_permits):
    first, second = many_permits(2)
    f.approve(first, reviewer)
    f.send_back(second, reviewer, reason="合同金额有误")
    client.force_login(reviewer)

    response = client.get(reverse("review:done"))

    rows = response.context["page"].rows
    assert [(t.record_id, t.outcome) for t in rows] == [(second.pk, "returned"), (first.pk, "approved")]
    page = response.content.decode()
    assert '<span class="badge state-returned">退回</span>' in page
    assert "合同金额有误" in page


def test_done_keyset_pages_descend(client, reviewer, many_permits, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    permits = many_permits(3)
    for permit in permits:
        f.approve(permit, reviewer)
    client.force_login(reviewer)

    first = client.get(reverse("review:done")).context["page"]
    second = client.get(f"{reverse('review:done')}?{first.next_query}").context["page"]

    assert [t.record_id for t in first.rows + second.rows] == [p.pk for p in reversed(permits)]
    assert not second.next_cursor


def test_done_filters_by_outcome_and_kind(client, reviewer, many_permits, specialty_in_review):
    approved, returned = many_permits(2)
    f.approve(approved, reviewer)
    f.send_back(returned, reviewer, reason="有误")
    f.approve(specialty_in_review, reviewer)
    client.force_login(reviewer)

    def ids(**params):
        return [t.record_id for t in client.get(reverse("review:done"), params).context["page"].rows]

    assert ids(outcome="returned") == [returned.pk]
    assert ids(kind="specialty_info") == [specialty_in_review.pk]


def test_done_shows_only_my_decisions(client, reviewer, county_permit_reviewer, many_permits):
    mine, theirs = many_permits(2)
    f.approve(mine, reviewer)
    f.approve(theirs, county_permit_reviewer)
    client.force_login(reviewer)

    assert [t.record_id for t in client.get(reverse("review:done")).context["page"].rows] == [mine.pk]


def test_done_requires_a_reviewer_role(client, contractor):
    client.force_login(contractor)

    assert client.get(reverse("review:done")).status_code == 403


def test_done_pages_continue_in_the_chosen_order(client, reviewer, many_permits, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    permits = many_permits(5)
    for i, permit in enumerate(permits):
        if i % 2:
            f.send_back(permit, reviewer, reason="有误")
        else:
            f.approve(permit, reviewer)
    client.force_login(reviewer)

    def walk(**params) -> list[int]:
        seen, query = [], params
        while True:
            page = client.get(reverse("review:done"), query).context["page"]
            seen += [t.record_id for t in page.rows]
            if not page.next_cursor:
                return seen
            query = {**page.params, "after": page.next_cursor}

    ids = [p.pk for p in permits]
    assert walk() == ids[::-1]  # newest decision first
    assert walk(sort="number") == ids
    assert walk(sort="decided_at") == ids
    # 处理结果: approved before returned (the codes' order), ties by id.
    assert walk(sort="outcome") == [ids[0], ids[2], ids[4], ids[1], ids[3]]
    assert walk(sort="-outcome") == [ids[3], ids[1], ids[4], ids[2], ids[0]]
    assert walk(sort="outcome", outcome="returned") == [ids[1], ids[3]]


def test_done_query_count_is_constant_when_sorted(client, reviewer, many_permits, django_assert_num_queries):
    for permit in many_permits(2):
        f.approve(permit, reviewer)
    client.force_login(reviewer)
    client.get(reverse("review:done"))
    # + 1: the header's unread messages (notices.context_processors).
    with django_assert_num_queries(6 + 1):
        response = client.get(reverse("review:done"), {"sort": "-title"})
    assert len(response.context["page"].rows) == 2
    for permit in many_permits(30):
        f.approve(permit, reviewer)
    with django_assert_num_queries(6 + 1):
        response = client.get(reverse("review:done"), {"sort": "-title"})
    assert len(response.context["page"].rows) == 32
    assert 'aria-sort="descending"' in response.content.decode()
