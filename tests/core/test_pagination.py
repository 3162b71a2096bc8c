"""The keyset pager (yunjian.core.pagination) and sorting by column: both directions, ties broken by
id, NULLs last, the range form of the cursor, and tampered cursors or sorts (first page, never a 500)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone

from review.models import Task
from tests import factories as f
from yunjian.core.pagination import Column, Sorting, _encode, keyset_page, sort_for, sorted_page

pytestmark = pytest.mark.django_db

rf = RequestFactory()
SORTING = Sorting(
    columns=(
        Column("revision", ("revision",), first_descending=True),
        Column("number", ("number",)),
        Column("decided_at", ("decided_at",), first_descending=True),
        Column("submitted_at", ("submitted_at",)),
    ),
    default="submitted_at",
)
# revision: many ties; decided_at: NULL in every third row, ties among the others.
REVISIONS = [2, 1, 3, 2, 2, 1, 3, 1, 2, 2, 1]


@pytest.fixture
def tasks():
    org = f.make_org("排序测试单位")
    base = timezone.now().replace(microsecond=0) - timedelta(days=30)
    rows = [
        Task(
            kind="permit",
            record_id=i + 1,
            revision=revision,
            step="issuing_review",
            step_label="住建部门审核",
            performer="roster",
            owner_org=org,
            title=f"项目{i}",
            number=f"N{i % 4}",
            submitted_at=base + timedelta(hours=i),
            due_at=base + timedelta(days=5, hours=-i),
            decided_at=None if i % 3 == 0 else base + timedelta(days=i % 2),
        )
        for i, revision in enumerate(REVISIONS)
    ]
    Task.objects.bulk_create(rows)
    return Task.objects.filter(owner_org=org)


def walk(queryset, params: dict, *, size: int = 2, sorting: Sorting = SORTING) -> list[int]:
    """Every id of the list, page after page, following the pages' own next links."""
    seen, query = [], params
    for _ in range(50):
        page, _order = sorted_page(queryset, rf.get("/", query), sorting, size=size)
        seen += [t.pk for t in page.rows]
        if not page.next_cursor:
            return seen
        assert len(page.rows) == size
        query = {**page.params, "after": page.next_cursor}
    raise AssertionError("the pages never ended")


def expected(queryset, column: str, descending: bool) -> list[int]:
    rows = list(queryset)
    rows.sort(key=lambda t: t.pk, reverse=descending)
    present = [t for t in rows if getattr(t, column) is not None]
    present.sort(key=lambda t: getattr(t, column), reverse=descending)  # stable: ties keep id order
    return [t.pk for t in present] + [t.pk for t in rows if getattr(t, column) is None]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("column", ["revision", "number", "decided_at", "submitted_at"])
def test_pages_continue_in_the_chosen_order_with_ties_and_nulls(tasks, column, descending):
    sort = f"-{column}" if descending else column
    ids = walk(tasks, {"sort": sort})
    assert ids == expected(tasks, column, descending)
    assert len(ids) == len(set(ids)) == len(REVISIONS)


@pytest.mark.parametrize("size", [1, 3, 4])
def test_every_page_size_crosses_the_nulls_and_the_ties(tasks, size):
    assert walk(tasks, {"sort": "-decided_at"}, size=size) == expected(tasks, "decided_at", True)
    assert walk(tasks, {"sort": "decided_at"}, size=size) == expected(tasks, "decided_at", False)


def test_the_default_order_without_a_sort(tasks):
    assert walk(tasks, {}) == [t.pk for t in tasks.order_by("submitted_at", "id")]


def _second_page_sql(queryset, sort: str) -> str:
    page, _ = sorted_page(queryset, rf.get("/", {"sort": sort}), SORTING, size=2)
    captured = []

    def capture(execute, sql, params, many, context):
        captured.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        sorted_page(queryset, rf.get("/", {"sort": sort, "after": page.next_cursor}), SORTING, size=2)
    (sql,) = captured
    return sql


def test_the_cursor_is_a_range_the_planner_can_use(tasks):
    """`col >= t AND (col > t OR id > k)`, not `col > t OR (col = t AND id > k)`."""
    col, pk = '"review_task"."revision"', '"review_task"."id"'
    assert f"{col} >= %s AND ({col} > %s OR {pk} > %s)" in _second_page_sql(tasks, "revision")
    assert f"{col} <= %s AND ({col} < %s OR {pk} < %s)" in _second_page_sql(tasks, "-revision")
    assert f"ORDER BY {col} DESC, {pk} DESC" in _second_page_sql(tasks, "-revision")


def test_a_nullable_column_keeps_its_nulls_last_in_the_cursor(tasks):
    col = '"review_task"."decided_at"'
    sql = _second_page_sql(tasks, "-decided_at")
    assert f"{col} IS NULL" in sql
    assert f"ORDER BY {col} DESC NULLS LAST" in sql


def test_a_cursor_among_the_nulls_continues_among_them(tasks):
    nulls = [t.pk for t in tasks.order_by("id") if t.decided_at is None]
    cursor = _encode(["decided_at", None, nulls[0]])
    page, _ = sorted_page(tasks, rf.get("/", {"sort": "decided_at", "after": cursor}), SORTING, size=50)
    assert [t.pk for t in page.rows] == nulls[1:]
    assert not page.is_first


def _raw(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "after",
    [
        "garbage!!",
        "",
        _raw("not a list"),
        _raw(["revision", 2]),  # too short
        _raw(["revision", 2, 3, 4]),  # too long
        _raw(["number", 2, 3]),  # a cursor of another order
        _raw(["revision", "two", 3]),  # not a number
        _raw(["revision", None, 3]),  # NULL in a column that has none
        _raw(["revision", 2, None]),
        _raw(["revision", 99999999999999999999, 3]),  # out of range
        _raw(["revision", 2.5, 3]),
        _raw(["revision", True, 3]),
        _raw(["revision", {"a": 1}, 3]),
        _raw(["revision", [1], 3]),
        _raw(["revision", "2\x00", 3]),
        _raw([["revision"], 2, 3]),
        "A" * 5000,
    ],
)
def test_a_tampered_cursor_restarts_at_the_first_page(tasks, after):
    page, order = sorted_page(tasks, rf.get("/", {"sort": "revision", "after": after}), SORTING, size=3)
    assert page.is_first
    assert [t.pk for t in page.rows] == expected(tasks, "revision", False)[:3]
    assert order.sort == "revision"


@pytest.mark.parametrize(
    "after",
    [_raw(["decided_at", "2026-13-45T00:00:00+08:00", 3]), _raw(["decided_at", "2026-01-01T00:00:00", 3])],
)
def test_impossible_or_naive_dates_restart(tasks, after):
    page, _ = sorted_page(tasks, rf.get("/", {"sort": "decided_at", "after": after}), SORTING, size=3)
    assert page.is_first


@pytest.mark.parametrize(
    "sort", ["owner_org__name", "-password", "--revision", "revision;drop table", "id", "", "-", "-number-"]
)
def test_an_unknown_sort_gives_the_default_order(tasks, sort):
    page, order = sorted_page(tasks, rf.get("/", {"sort": sort}), SORTING, size=50)
    assert order.sort == "submitted_at"
    assert not order.chosen
    assert [t.pk for t in page.rows] == [t.pk for t in tasks.order_by("submitted_at", "id")]


def test_headers_link_to_the_other_direction_and_keep_the_filters():
    request = rf.get("/", {"q": "医院", "kind": "permit", "sort": "-revision", "after": "xyz"})
    order = sort_for(request, SORTING)
    assert order.chosen
    active = order.headers["revision"]
    assert (active["aria"], active["arrow"], active["action"]) == ("descending", "▼", "升序")
    assert "sort=revision" in active["query"]
    other = order.headers["number"]
    assert (other["aria"], other["arrow"]) == ("", "")
    for header in order.headers.values():
        assert "q=%E5%8C%BB%E9%99%A2" in header["query"]
        assert "kind=permit" in header["query"]
        assert "after" not in header["query"]
    # A column whose first click is descending.
    assert "sort=-decided_at" in order.headers["decided_at"]["query"]
    assert "sort" not in order.reset_query
    assert "q=" in order.reset_query


def test_the_default_column_shows_its_direction():
    order = sort_for(rf.get("/"), SORTING)
    assert not order.chosen
    assert order.headers["submitted_at"]["aria"] == "ascending"
    assert "sort=-submitted_at" in order.headers["submitted_at"]["query"]


def test_mixed_directions_and_annotations():
    """A column of several keys in different directions ("work first, newest first") pages correctly."""
    from django.db.models import Case, IntegerField, Value, When

    org = f.make_org("混合排序单位")
    now = timezone.now()
    Task.objects.bulk_create(
        Task(
            kind="permit",
            record_id=i + 1,
            revision=1,
            step="s",
            step_label="s",
            performer="roster",
            owner_org=org,
            title="t",
            outcome=["returned", "approved", ""][i % 3],
            submitted_at=now,
            due_at=now,
        )
        for i in range(10)
    )
    rank = Case(
        When(outcome="returned", then=Value(0)),
        When(outcome="", then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    qs = Task.objects.filter(owner_org=org).annotate(rank=rank)
    sorting = Sorting(columns=(Column("state", ("rank", "-id")),), default="state")
    ranked = sorted(qs, key=lambda t: (t.rank, -t.pk))
    assert walk(qs, {}, size=3, sorting=sorting) == [t.pk for t in ranked]
    assert walk(qs, {"sort": "-state"}, size=3, sorting=sorting) == [t.pk for t in reversed(ranked)]


def test_keyset_page_without_a_tag_still_reads_plain_cursors(tasks):
    first = keyset_page(tasks, rf.get("/"), key="id", descending=True, size=4)
    second = keyset_page(tasks, rf.get("/", {"after": first.next_cursor}), key="id", descending=True, size=4)
    ids = [t.pk for t in tasks.order_by("-id")]
    assert [t.pk for t in first.rows + second.rows] == ids[:8]
