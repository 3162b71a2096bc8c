"""Plan tests (issue 15): the inbox page's query walks an index in the page's order and stops at the
page, instead of fetching a whole post's open rows and top-N sorting them.

The table gets 40,000 open rows (20,000 for the design division, 20,000 roster rows spread over the
province's prefectures), enough that a sort of the division's rows would be the planner's choice
without `task_open_post_idx` / `task_open_post_due_idx` (review migration 0011).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

INBOX = reverse("review:inbox")
ROWS = 20_000


@pytest.fixture
def sizeable_open_tasks(world):
    owner = world["builder"].pk
    with connection.cursor() as cursor:
        for performer, stage, division in (
            ("design_division", "", "''"),
            ("roster", "permit", "(ARRAY['530302','530102','532501','530402'])[1 + g %% 4]"),
        ):
            cursor.execute(
                f"""
                INSERT INTO review_task (kind, record_id, revision, step, step_label, performer, stage,
                    division_code, zone, owner_org_id, title, prj_num, number, submitted_at, due_at,
                    status, outcome, reason, data_level, due_note)
                SELECT 'permit', 900000000 + g + %s, 1, 'x', '审核', %s, %s, {division}, '', %s,
                    '项目' || g, '', '', now() - g * interval '1 minute',
                    now() + interval '10 days' - g * interval '1 minute', 'open', '', '', '', ''
                FROM generate_series(1, %s) AS g
                """,  # noqa: S608 — the division expression is a constant above
                [0 if performer == "design_division" else ROWS, performer, stage, owner, ROWS],
            )
        cursor.execute("ANALYZE review_task")


def _page_plan(client, user, url: str, params: dict | None = None) -> str:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    assert len(response.context["page"].rows) == 50
    (sql,) = [q["sql"] for q in captured.captured_queries if "LIMIT 51" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("persona", "params", "index"),
    [
        ("division_staff", {}, "task_open_post_idx"),
        ("division_staff", {"sort": "due_at"}, "task_open_post_due_idx"),
        # 曲靖's reviewer of every stage: a quarter of the roster rows are 麒麟区's.
        ("reviewer", {}, "task_open_post_idx"),
    ],
)
def test_the_inbox_page_walks_the_post_index_in_order(
    request, client, sizeable_open_tasks, persona, params, index
):
    plan = _page_plan(client, request.getfixturevalue(persona), INBOX, params)
    top = plan.splitlines()[:3]  # Limit → the scan that feeds it (the lookups per row come after)
    assert any(f"Index Scan using {index} on review_task" in line for line in top), plan
    assert not any("Sort" in line for line in top), plan


def test_a_later_page_of_the_division_inbox_is_an_index_range_too(
    client, division_staff, sizeable_open_tasks
):
    client.force_login(division_staff)
    url = INBOX
    for _ in range(3):  # the cursor of a later page is a range on the same index
        response = client.get(url)
        url = f"{INBOX}?{response.context['page'].next_query}"
    plan = _page_plan(client, division_staff, url)
    top = plan.splitlines()[:3]
    assert any("Index Scan using task_open_post_idx on review_task" in line for line in top), plan
    assert not any("Sort" in line for line in top), plan
