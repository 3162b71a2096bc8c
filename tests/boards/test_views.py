"""The boards as each role sees them: figures, scope, exports, query counts and plans."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from boards import aggregates
from boards.models import Snapshot
from projects.models import ConstructionPermit
from review.models import Task
from tests import factories as f
from tests.conftest import Client
from yunjian.core.models import Campaign

RECORD_TABLES = ("projects_", "review_task")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def cells(response, table_id: str) -> list[list[str]]:
    html = response.content.decode()
    table = html[html.index(f'id="{table_id}"') :]
    table = table[: table.index("</table>")]
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        rows.append(
            [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
        )
    return rows


def row_named(rows, name):
    return next(r for r in rows if r[0] == name)


def test_the_province_sees_every_prefecture(records, office):
    response = client_for(office).get("/boards/")
    assert response.status_code == 200
    rows = cells(response, "board-table")
    head = rows[0]
    qj, hh = row_named(rows, "曲靖市"), row_named(rows, "红河哈尼族彝族自治州")
    col = {label: i for i, label in enumerate(head)}
    # 曲靖: two drawing reviews (one approved, one returned), one permit in review.
    assert qj[col["已认定"]] == "1"
    assert qj[col["已退回"]] == "1"
    assert qj[col["审核中"]] == "1"
    assert hh[col["已认定"]] == "1"
    assert hh[col["审核中"]] == "1"
    # 红河's permit waits where the roster names nobody (no 红河 permit reviewer in this world).
    assert hh[col["无人审核"]] == "1"
    assert qj[col["无人审核"]] == "0"


def test_drill_down_to_the_records(records, office):
    client = client_for(office)
    prefecture = client.get("/boards/", {"division": "530300"})
    assert [r[0] for r in cells(prefecture, "board-table")[1:]][:2] == ["麒麟区", "沾益区"]
    county = client.get("/boards/", {"division": "530302"})
    rows = cells(county, "board-table")
    head = {label: i for i, label in enumerate(rows[0])}
    assert row_named(rows, "施工许可")[head["审核中"]] == "1"
    # 麒麟区's drawing review was decided twice (institution, division) within four weeks.
    drawing = row_named(rows, "施工图审查")
    assert drawing[head["近四周周均办结"]] == "0.5"
    assert drawing[head["办理天数中位数"]] != "—"
    assert drawing[head["退回率"]] == "0%"
    listing = client.get("/boards/records/", {"division": "530302", "stage": "permit", "state": "in_review"})
    assert listing.status_code == 200
    assert len(listing.context["page"].rows) == 1


def test_the_records_behind_a_figure_show_and_filter_their_data_level(records, office):
    """麒麟区's approved drawing review was approved by the design division: level A, entered in this
    campaign (历史业绩补录), version 1; the level tabs keep only the records of that level."""
    client = client_for(office)
    query = {"division": "530302", "stage": "drawing_review", "state": "approved"}
    listing = client.get("/boards/records/", query)
    rows = cells(listing, "board-records")
    head = {label: i for i, label in enumerate(rows[0])}
    assert len(rows) == 2
    assert rows[1][head["数据等级"]] == "A级"
    assert rows[1][head["数据来源"]] == "历史业绩补录"
    assert rows[1][head["版本"]] == "第1版"
    assert len(client.get("/boards/records/", {**query, "level": "A"}).context["page"].rows) == 1
    assert len(client.get("/boards/records/", {**query, "level": "C"}).context["page"].rows) == 0
    unknown = client.get("/boards/records/", {**query, "level": "Z"})  # an unknown level: every level
    assert len(unknown.context["page"].rows) == 1


def test_reviewer_throughput_by_person(records, liaison, reviewer):
    """A decision by 曲靖's roster reviewer shows on 曲靖's board, in the reviewers' table (the
    institution's and the design division's decisions are not roster reviewers')."""
    permit_task = Task.objects.get(status="open", kind="permit", project__county_id="530302")
    f.approve(ConstructionPermit.objects.get(pk=permit_task.record_id), reviewer)
    aggregates.refresh_slow()
    rows = cells(client_for(liaison).get("/boards/"), "board-reviewers")
    line = row_named(rows, reviewer.full_name or reviewer.username)
    assert line[2] == "0.2"  # one decision in four weeks
    assert line[4] == "0%"


def test_a_liaison_sees_the_prefecture_only(records, liaison):
    client = client_for(liaison)
    assert client.get("/boards/").context["data"].division.code == "530300"
    assert client.get("/boards/", {"division": "530302"}).status_code == 200
    assert client.get("/boards/", {"division": "532500"}).status_code == 403
    assert client.get("/boards/", {"division": "530000"}).status_code == 403
    assert client.get("/boards/records/", {"division": "532501", "stage": "permit"}).status_code == 403


def test_a_county_reviewer_sees_the_county(records, county_permit_reviewer):
    client = client_for(county_permit_reviewer)
    response = client.get("/boards/")
    assert response.context["data"].division.code == "530302"
    assert client.get("/boards/", {"division": "530300"}).status_code == 403


def test_others_are_refused(records, designer, institution_staff, division_staff, office):
    for user in (designer, institution_staff, division_staff):
        assert client_for(user).get("/boards/").status_code == 403
    assert client_for(designer).get("/boards/design/").status_code == 403
    assert client_for(division_staff).get("/boards/design/").status_code == 200
    assert client_for(office).get("/boards/design/").status_code == 200
    assert Client().get("/boards/").status_code == 302


def test_the_design_board_counts_by_unit(records, division_staff, world):
    rows = cells(client_for(division_staff).get("/boards/design/", {"role": "institution"}), "design-board")
    assert row_named(rows, world["institution"].name)[-1] == "3"


def test_exports(records, office):
    client = client_for(office)
    for url in ("/boards/", "/boards/trend/", "/boards/design/"):
        response = client.get(url, {"as": "xlsx"})
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.content)).active
        values = [[c.value for c in row] for row in sheet.iter_rows()]
        assert len(values) >= 3, url
    book = load_workbook(io.BytesIO(client.get("/boards/", {"as": "xlsx"}).content)).active
    names = [row[0].value for row in book.iter_rows()]
    assert "曲靖市" in names
    assert "云南省合计" in names


def test_trend_projects_the_target_date(records, office):
    today = timezone.localdate()
    Campaign.objects.create(name="专项治理", deadline=today + timedelta(days=30), target_percent=80)
    # The history: ten days ago, nothing approved yet (the same records, all drafts).
    aggregates.take_snapshot(today - timedelta(days=10))
    Snapshot.objects.filter(day=today - timedelta(days=10)).update(
        draft=F("draft") + F("approved"), approved=0
    )
    response = client_for(office).get("/boards/trend/")
    series = {s.key: s for s in response.context["series"]}
    qj = series["530300"]
    assert qj.approved == 1
    assert qj.total == 3
    # 33.3% in ten days: 80% in another 14 days.
    assert qj.projected == today + timedelta(days=14)
    assert not qj.late
    assert "<svg" in response.content.decode()
    assert "<script" not in qj.svg


def _board_queries(client, params) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/boards/", params).status_code == 200
    return [q["sql"] for q in queries.captured_queries]


@pytest.mark.parametrize("params", [{}, {"division": "530300"}, {"division": "530302"}, {"stage": "permit"}])
def test_query_count_does_not_grow_with_records(records, office, world, designer, params):
    client = client_for(office)
    _board_queries(client, params)  # the first request of a session does more (the second factor's check)
    before = len(_board_queries(client, params))
    assert before <= 13  # with the second factor's check: the business offices sign in with two factors
    for county in ("530302", "530381", "532501", "530102"):
        for _ in range(3):
            f.complete_and_submit_review(
                f.register_review(
                    f.make_project(county, owner=world["owner"]), world["design"], world["institution"]
                ),
                designer,
            )
    aggregates.refresh_tasks()
    assert len(_board_queries(client, params)) == before


def test_the_board_reads_the_aggregates_not_the_records(records, office):
    """Plan test: no query of a board touches a record table or the task table, and the plans of its
    aggregate queries scan only the boards' tables."""
    client = client_for(office)
    for url, params in (
        ("/boards/", {}),
        ("/boards/", {"division": "530302"}),
        ("/boards/trend/", {}),
        ("/boards/design/", {}),
    ):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, params).status_code == 200
        for query in captured.captured_queries:
            sql = query["sql"]
            assert not any(f'"{t}' in sql for t in RECORD_TABLES), sql
            if '"boards_' in sql:
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN " + sql)
                    plan = "\n".join(r[0] for r in cursor.fetchall())
                assert not re.search(r"on (projects_|review_task)", plan), plan


def test_refresh_and_snapshot_jobs_run_on_the_worker(transactional_db, records, office):
    from procrastinate.contrib.django import app

    from tests.jobs import clear_queue, jobs, run_jobs

    clear_queue()
    Snapshot.objects.all().delete()
    app.configure_task("boards.daily_snapshot").defer(timestamp=0)
    run_jobs("boards")
    assert [j["status"] for j in jobs("boards.daily_snapshot")] == ["succeeded"]
    assert Snapshot.objects.filter(day=timezone.localdate()).count() > 0
