"""Admin changelists of the tables that reach millions of rows (review tasks): the same number of
queries whatever the rows and their deciders, and no count over the whole table."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from review.models import Task
from tests import factories as f
from yunjian.core import admin_paging
from yunjian.core.admin_paging import EstimatedCountPaginator
from yunjian.core.models import Role


def _tasks(n: int, world, deciders) -> None:
    # Inbox rows as review.services leaves them once decided; written directly, since only the
    # admin's listing of them is under test.
    now = timezone.now()
    Task.objects.bulk_create(
        Task(
            kind="permit",
            record_id=1000 + i,
            revision=1,
            step="issuing_review",
            step_label="发证机关审核（施工许可信息）",
            performer="roster",
            stage="permit",
            division_code="530302",
            owner_org=world["builder"],
            title=f"项目{i}",
            submitted_at=now - timedelta(days=2),
            due_at=now + timedelta(days=5),
            status=Task.Status.DONE,
            decided_by=deciders[i % len(deciders)],
            decided_at=now,
            outcome=Task.Outcome.APPROVED,
        )
        for i in range(n)
    )


def _changelist_queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def test_task_changelist_queries_do_not_grow_with_rows_or_deciders(client, world, province_admin):
    client.force_login(province_admin)
    deciders = [f.make_reviewer(f"rv{i}", "530302", "permit") for i in range(4)]
    _tasks(3, world, deciders[:1])
    client.get("/admin/review/task/")  # the first request fills per-process caches (content types)
    few = _changelist_queries(client, "/admin/review/task/")
    _tasks(30, world, deciders)
    many = _changelist_queries(client, "/admin/review/task/")
    assert len(many) == len(few), "\n".join(many)
    page = client.get("/admin/review/task/").content.decode()
    assert "rv3" in page  # the deciders come with the page's query (list_select_related)


def test_task_changelist_never_counts_the_whole_table(client, world, province_admin):
    client.force_login(province_admin)
    _tasks(5, world, [province_admin])
    for url in ("/admin/review/task/", "/admin/review/task/?status__exact=done"):
        counts = [q for q in _changelist_queries(client, url) if "COUNT(" in q.upper()]
        # Each count is bounded (a LIMIT inside) or the planner's estimate (pg_class), never a full scan.
        assert counts
        assert all("LIMIT" in q.upper() or "RELTUPLES" in q.upper() for q in counts), counts


@pytest.mark.django_db
def test_estimated_paginator_caps_a_filtered_count_and_estimates_a_large_table(monkeypatch, world):
    _tasks(7, world, [f.make_user("dec", world["bureau_qlq"], Role.REVIEWER)])
    monkeypatch.setattr(admin_paging, "CAP", 3)
    filtered = EstimatedCountPaginator(Task.objects.filter(status="done").order_by("id"), 2)
    assert filtered.count == 4  # stopped at CAP + 1
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE review_task")
    whole = EstimatedCountPaginator(Task.objects.order_by("id"), 2)
    assert whole.count == 7  # the estimate after ANALYZE of a small table is exact
    monkeypatch.setattr(admin_paging, "CAP", 100)
    assert EstimatedCountPaginator(Task.objects.order_by("id"), 2).count == 7  # small: counted (bounded)
