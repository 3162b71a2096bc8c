"""The operators' pages: province admin only, keyset pages with a constant query count, re-push and
conflict resolution audited; and the status include the project pages use."""

from __future__ import annotations

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sync import selectors
from sync.models import Outbox, SyncConflict
from tests import factories as f
from tests.sync.conftest import project_rows
from yunjian.core.models import AuditEntry

pytestmark = pytest.mark.django_db

Status = Outbox.Status


@pytest.fixture
def bulk_project(world):
    return f.make_project("530302", owner=world["owner"], name="批量推送项目")


def dead_rows(project, n: int, start: int = 1) -> list[Outbox]:
    rows = project_rows(project, n, start=start)
    Outbox.objects.filter(pk__in=[r.pk for r in rows]).update(
        status=Status.DEAD, attempts=8, last_error="省一体化平台返回 HTTP 500：平台内部错误"
    )
    return rows


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url_name", ["sync:operations", "sync:conflicts"])
def test_pages_are_for_the_province_admin_only(
    client, url_name, contractor, reviewer, outsider, province_admin
):
    url = reverse(url_name)
    assert client.get(url).status_code == 302  # anonymous: to the login page
    for persona in (contractor, reviewer, outsider):
        client.force_login(persona)
        assert client.get(url).status_code == 403
    client.force_login(province_admin)
    assert client.get(url).status_code == 200


def test_project_page_and_repush_are_for_the_province_admin_only(client, contractor, bulk_project):
    [row] = dead_rows(bulk_project, 1)
    client.force_login(contractor)
    assert client.get(reverse("sync:project", args=[bulk_project.pk])).status_code == 403
    assert client.post(reverse("sync:repush"), {"ids": [row.pk]}).status_code == 403
    assert Outbox.objects.get(pk=row.pk).status == Status.DEAD


def test_the_list_shows_problems_with_their_last_error(client, province_admin, bulk_project):
    dead_rows(bulk_project, 2)
    project_rows(bulk_project, 1, start=100)
    client.force_login(province_admin)
    page = client.get(reverse("sync:operations")).content.decode()
    assert page.count("平台内部错误") == 2
    assert "需人工处理" in page
    assert "待推送" in page
    dead_only = client.get(reverse("sync:operations"), {"status": "dead"}).content.decode()
    assert dead_only.count('name="ids"') == 2
    assert "project:530302200102" in dead_only
    pending_only = client.get(reverse("sync:operations"), {"status": "pending"}).content.decode()
    assert "平台内部错误" not in pending_only


def test_the_list_costs_the_same_queries_at_2_and_50_rows(client, province_admin, bulk_project):
    client.force_login(province_admin)
    dead_rows(bulk_project, 2)
    url = reverse("sync:operations") + "?status=dead"
    client.get(url)  # the first request after login also writes the session
    # session, user, the session's second-factor device, 4 capped counts by status + open conflicts,
    # the page of rows (project joined), the header's unread messages (notices)
    small = queries_for(client, url)
    assert small <= 10
    dead_rows(bulk_project, 48, start=3)
    assert queries_for(client, url) == small
    assert queries_for(client, reverse("sync:operations")) == small


def test_the_list_is_keyset_paginated(client, province_admin, bulk_project):
    dead_rows(bulk_project, 60)
    client.force_login(province_admin)
    first = client.get(reverse("sync:operations"), {"status": "dead"})
    page = first.context["page"]
    assert len(page.rows) == 50
    assert page.next_cursor
    second = client.get(reverse("sync:operations") + "?" + page.next_query)
    rows = second.context["page"].rows
    assert len(rows) == 10
    assert max(r.pk for r in rows) < min(r.pk for r in page.rows)


def test_repush_returns_dead_and_failed_rows_to_the_queue_audited(client, province_admin, bulk_project):
    dead = dead_rows(bulk_project, 2)
    [delivered] = project_rows(bulk_project, 1, start=50)
    Outbox.objects.filter(pk=delivered.pk).update(status=Status.DELIVERED, delivered_at=timezone.now())
    client.force_login(province_admin)
    assert client.get(reverse("sync:repush")).status_code == 405
    response = client.post(
        reverse("sync:repush"), {"ids": [dead[0].pk, dead[1].pk, delivered.pk], "next": "/sync/?status=dead"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/sync/?status=dead"
    assert set(Outbox.objects.filter(pk__in=[r.pk for r in dead]).values_list("status", "attempts")) == {
        (Status.PENDING, 0)
    }
    assert Outbox.objects.get(pk=delivered.pk).status == Status.DELIVERED
    entries = AuditEntry.objects.filter(
        action=AuditEntry.Action.SYNC, actor=province_admin, object_type="outbox"
    )
    assert sorted(int(e.object_id) for e in entries) == sorted(r.pk for r in dead)
    # An off-site "next" is ignored.
    dead_rows(bulk_project, 1, start=70)
    again = client.post(
        reverse("sync:repush"),
        {"ids": [Outbox.objects.filter(status=Status.DEAD).get().pk], "next": "https://evil.example/"},
    )
    assert again["Location"] == reverse("sync:operations")


def test_project_page_lists_every_version(client, province_admin, approved_permit, project):
    client.force_login(province_admin)
    page = client.get(reverse("sync:project", args=[project.pk])).content.decode()
    assert f"project:{project.prj_num}" in page
    assert "施工许可信息" in page
    assert "施工图审查信息" in page
    assert "正在同步至省一体化平台" in page


def test_conflict_page_shows_both_versions_and_resolves(client, province_admin, project):
    conflict = SyncConflict.objects.create(
        table="TBProjectInfo",
        record_key="p:1",
        idempotency_key="p:1:v1",
        version=1,
        project=project,
        number=project.prj_num,
        local_kind="project",
        local_id=project.pk,
        fields=["PrjName"],
        ours={"PrjNum": project.prj_num, "PrjName": project.name},
        theirs={"PrjNum": project.prj_num, "PrjName": "平台上的名称"},
    )
    client.force_login(province_admin)
    listing = client.get(reverse("sync:conflicts")).content.decode()
    assert project.prj_num in listing
    page = client.get(reverse("sync:conflict", args=[conflict.pk])).content.decode()
    assert project.name in page
    assert "平台上的名称" in page
    assert 'class="changed"' in page
    bad = client.post(reverse("sync:conflict", args=[conflict.pk]), {"choice": "maybe"})
    assert bad.status_code == 400
    assert "请选择" in bad.content.decode()
    done = client.post(
        reverse("sync:conflict", args=[conflict.pk]), {"choice": "ours", "note": "以本系统为准"}
    )
    assert done.status_code == 302
    conflict.refresh_from_db()
    assert conflict.status == SyncConflict.Status.KEPT_OURS
    assert AuditEntry.objects.filter(object_type="syncconflict", reason="以本系统为准").exists()


def test_project_status_include_shows_synced_with_the_time(
    approved_permit, project, django_assert_num_queries
):
    with django_assert_num_queries(1):
        waiting = selectors.project_sync_status(project)
    assert waiting.state == "syncing"
    html = render_to_string("sync/_project_status.html", {"sync_status": waiting})
    assert "正在同步至省一体化平台" in html
    from tests.synchelpers import acknowledge_project_offline

    acknowledge_project_offline(project)
    status = selectors.project_sync_status(project)
    html = render_to_string("sync/_project_status.html", {"sync_status": status})
    assert "已同步至省一体化平台" in html
    assert timezone.localtime(project.platform_synced_at).strftime("%Y-%m-%d %H:%M") in html


def test_project_statuses_for_a_list_is_one_query(approved_permit, project, world, django_assert_num_queries):
    other = f.make_project("530302", owner=world["owner"])
    with django_assert_num_queries(1):
        statuses = selectors.project_sync_statuses([project, other])
    assert (statuses[project.pk].state, statuses[other.pk].state) == ("syncing", "not_yet")


def _conflicts(project, n: int, start: int = 0) -> None:
    SyncConflict.objects.bulk_create(
        SyncConflict(
            table="TBBuilderLicenceManage",
            record_key=f"permit:{i}",
            idempotency_key=f"permit:{i}:v1",
            version=1,
            project=project,
            number=f"SX-{i}",
            local_kind="permit",
            local_id=i,
            fields=["ReleaseDate"],
            ours={"ReleaseDate": "2020-01-01"},
            theirs={"ReleaseDate": "2020-02-02"},
        )
        for i in range(start, start + n)
    )


def test_the_conflict_list_costs_the_same_queries_at_2_and_50_rows(client, province_admin, bulk_project):
    client.force_login(province_admin)
    url = reverse("sync:conflicts")
    _conflicts(bulk_project, 2)
    client.get(url)  # the session's first request writes its last-activity time
    small = queries_for(client, url)
    _conflicts(bulk_project, 48, start=2)
    assert queries_for(client, url) == small


def test_the_list_sorts_by_attempts_across_pages(client, province_admin, bulk_project):
    rows = dead_rows(bulk_project, 60)
    # Attempts 1..5 over the rows: many ties, broken by 序号 (id) in the column's direction.
    for row in rows:
        Outbox.objects.filter(pk=row.pk).update(attempts=row.pk % 5 + 1)
    client.force_login(province_admin)
    url = reverse("sync:operations")
    seen, query, pages = [], {"status": "dead", "sort": "-attempts"}, 0
    while True:
        response = client.get(url, query)
        page = response.context["page"]
        seen += [(r.attempts, r.pk) for r in page.rows]
        pages += 1
        if not page.next_cursor:
            break
        query = {**page.params, "after": page.next_cursor}
    assert pages == 2
    assert seen == sorted(((r.pk % 5 + 1, r.pk) for r in rows), reverse=True)
    html = client.get(url, {"status": "dead", "sort": "-attempts"}).content.decode()
    assert (
        '<th class="num" aria-sort="descending"><a class="sort-link" href="?status=dead&amp;sort=attempts"'
        in html
    )
    # The same number of queries as the default order.
    assert queries_for(client, f"{url}?status=dead&sort=-attempts") == queries_for(
        client, f"{url}?status=dead"
    )
    # A tampered sort: the default order (newest first), not an error.
    response = client.get(url, {"status": "dead", "sort": "payload"})
    assert [r.pk for r in response.context["page"].rows][:2] == sorted((r.pk for r in rows), reverse=True)[:2]
