"""The worker against a live reference receiver over real HTTP: delivery, receipts, ordering,
retries with backoff, the dead-letter list and re-push. No HTTP mocks."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from projects import rules
from projects.models import Project
from sync import protocol, services
from sync.models import Outbox
from sync.worker import Worker
from tests.sync.conftest import make_due
from tests.synchelpers import acknowledge_project_offline
from yunjian.core.models import AuditEntry

pytestmark = pytest.mark.django_db

Status = Outbox.Status


def delays() -> list[float]:
    """Per row, the backoff it waits before its next attempt (seconds)."""
    return [
        (row.next_attempt_at - row.last_attempt_at).total_seconds()
        for row in Outbox.objects.filter(status=Status.FAILED).order_by("id")
    ]


def retry_until_dead(worker: Worker, max_attempts: int) -> list[list[float]]:
    """Run the worker through every attempt; return the backoffs seen after each failed one."""
    seen = []
    for _ in range(max_attempts - 1):
        result = worker.run_until_idle()
        assert result.failed
        assert not result.delivered
        seen.append(delays())
        make_due()
    worker.run_until_idle()
    return seen


def assert_backoff_grows(seen: list[list[float]]) -> None:
    per_row = list(zip(*seen, strict=True))
    assert per_row
    for row_delays in per_row:
        assert all(a < b for a, b in zip(row_delays, row_delays[1:], strict=False)), row_delays
        # equal jitter around base × 2^(n-1): [0.5, 1], [1, 2], [2, 4] seconds with base 1 s, counted
        # from the failure (the delay above is from the claim, so it also holds the request's time)
        assert 0.5 <= row_delays[0] <= 1.5


def assert_each_applied_once(receiver) -> None:
    keys = list(Outbox.objects.values_list("idempotency_key", flat=True))
    assert keys
    assert [receiver.store.applied_count(k) for k in keys] == [1] * len(keys)
    assert receiver.stats()["max_applied_per_key"] == 1


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/exchange/"


def test_it_delivers_the_bundle_and_opens_the_project_on_the_platform(
    sync_settings, receiver, approved_permit, project
):
    assert rules.platform_entry_closed(Project.objects.get(pk=project.pk))
    result = Worker().run_until_idle()
    assert (result.claimed, result.delivered) == (4, 4)
    assert set(Outbox.objects.values_list("status", "receipt_status")) == {(Status.DELIVERED, "accepted")}
    assert_each_applied_once(receiver)
    stored = receiver.store.record_data(protocol.TB_PROJECT, f"project:{project.prj_num}")
    assert stored["PrjNum"] == project.prj_num
    project.refresh_from_db()
    assert project.platform_synced_at is not None
    assert rules.platform_entry_closed(project) == ""
    entry = AuditEntry.objects.get(
        action=AuditEntry.Action.SYNC, object_type="project", object_id=str(project.pk)
    )
    assert entry.data["direction"] == "outbound"
    # Nothing more is due; a second run sends nothing.
    assert Worker().run_until_idle().claimed == 0
    assert receiver.stats()["batches_received"] == 1


def test_the_project_and_its_children_go_in_one_batch_in_order(sync_settings, receiver, approved_permit):
    claim = services.outbox_claim(batch_size=10)
    assert [r.table for r in claim.rows] == [
        protocol.TB_PROJECT,
        protocol.TB_CENSOR,
        protocol.TB_PERMIT,
        protocol.TB_BUILDER_STAFF,
    ]


def test_children_wait_while_their_project_is_in_flight_elsewhere(sync_settings, approved_permit):
    first = services.outbox_claim(batch_size=1)
    assert [r.table for r in first.rows] == [protocol.TB_PROJECT]
    # Another worker: the project row is leased, so the drawing review and permit must wait.
    assert services.outbox_claim(batch_size=10).rows == []
    services.outbox_record_receipts(
        claim=first,
        receipts=[
            {
                **protocol.make_item(r.idempotency_key, r.table, r.record_key, r.version, {}),
                "status": "accepted",
            }
            for r in first.rows
        ],
    )
    assert [r.table for r in services.outbox_claim(batch_size=10).rows] == [
        protocol.TB_CENSOR,
        protocol.TB_PERMIT,
        protocol.TB_BUILDER_STAFF,
    ]


def test_a_later_version_never_overtakes_an_earlier_one(sync_settings, receiver, approved_permit, project):
    v1 = Outbox.objects.get(table=protocol.TB_PROJECT)
    v2 = Outbox.objects.create(
        bundle=v1.bundle,
        project=project,
        table=v1.table,
        record_key=v1.record_key,
        version=2,
        idempotency_key=f"{v1.record_key}:v2",
        payload={**v1.payload, "PrjName": "第二版名称"},
    )
    claim = services.outbox_claim(batch_size=10)
    assert v2.pk not in [r.pk for r in claim.rows]  # one version per record per batch, the earliest
    services.outbox_record_failure(claim=claim, error="测试：失败一次")
    v1.refresh_from_db()
    assert v1.status == Status.FAILED
    # v1 waits for its retry: v2 is not even a candidate meanwhile.
    assert services.outbox_claim(batch_size=10).rows == []
    make_due()
    Worker().run_until_idle()
    assert receiver.store.record_data(protocol.TB_PROJECT, v1.record_key)["PrjName"] == "第二版名称"
    assert [r["version"] for r in receiver.store.records(protocol.TB_PROJECT)] == [2]
    assert_each_applied_once(receiver)


def test_receiver_down_retries_with_growing_backoff_then_dead_letter_then_repush(
    sync_settings, receiver, approved_permit, project, province_admin
):
    sync_settings.SYNC_ENDPOINT = closed_port_url()
    seen = retry_until_dead(Worker(), sync_settings.SYNC_MAX_ATTEMPTS)
    assert_backoff_grows(seen)
    rows = list(Outbox.objects.all())
    assert {r.status for r in rows} == {Status.DEAD}
    assert all(r.attempts == sync_settings.SYNC_MAX_ATTEMPTS for r in rows)
    assert all("连接被拒绝" in r.last_error for r in rows)
    assert Project.objects.get(pk=project.pk).platform_synced_at is None

    # The platform is back: an operator re-pushes the dead letters and they go through once.
    sync_settings.SYNC_ENDPOINT = receiver.base_url
    assert Worker().run_until_idle().claimed == 0  # dead rows are never picked up by themselves
    assert services.outbox_repush(actor=province_admin, ids=[r.pk for r in rows]) == 4
    assert all(r.attempts == 0 for r in Outbox.objects.all())
    assert Worker().run_until_idle().delivered == 4
    assert_each_applied_once(receiver)
    assert Project.objects.get(pk=project.pk).platform_synced_at is not None
    audits = AuditEntry.objects.filter(
        action=AuditEntry.Action.SYNC, object_type="outbox", actor=province_admin
    )
    assert audits.count() == 4
    assert {(a.from_state, a.to_state) for a in audits} == {(Status.DEAD, Status.PENDING)}


def test_http_500_retries_then_dead_letter(sync_settings, receiver, approved_permit, province_admin):
    receiver.configure(mode="error500")
    seen = retry_until_dead(Worker(), sync_settings.SYNC_MAX_ATTEMPTS)
    assert_backoff_grows(seen)
    assert {r.status for r in Outbox.objects.all()} == {Status.DEAD}
    assert "HTTP 500" in Outbox.objects.first().last_error
    assert receiver.store.records() == []
    receiver.configure(mode="ok")
    services.outbox_repush(actor=province_admin, ids=list(Outbox.objects.values_list("id", flat=True)))
    assert Worker().run_until_idle().delivered == 4
    assert_each_applied_once(receiver)


def test_a_slow_answer_past_the_timeout_retries_then_dead_letter_and_is_applied_once(
    sync_settings, receiver, approved_permit, province_admin
):
    sync_settings.SYNC_TIMEOUT_SECONDS = 0.3
    receiver.configure(mode="slow", slow_seconds=1.0)
    seen = retry_until_dead(Worker(), sync_settings.SYNC_MAX_ATTEMPTS)
    assert_backoff_grows(seen)
    rows = list(Outbox.objects.all())
    assert {r.status for r in rows} == {Status.DEAD}
    assert all("推送超时" in r.last_error for r in rows)
    # The receiver applied the first batch before its slow answer; every retry since was a duplicate.
    receiver.configure(mode="ok")
    services.outbox_repush(actor=province_admin, ids=[r.pk for r in rows])
    assert Worker().run_until_idle().delivered == 4
    assert set(Outbox.objects.values_list("receipt_status", flat=True)) == {"duplicate"}
    assert_each_applied_once(receiver)


def test_a_dropped_connection_is_retried(sync_settings, receiver, approved_permit):
    receiver.configure(mode="down_after", after_batches=0)
    assert Worker().run_until_idle().failed == 4
    assert "断开连接" in Outbox.objects.first().last_error
    receiver.configure(mode="ok")
    make_due()
    assert Worker().run_until_idle().delivered == 4
    assert_each_applied_once(receiver)


def test_a_rejected_field_is_reported_retried_then_dead_and_repushed_once_fixed(
    sync_settings, receiver, approved_permit, project, province_admin
):
    receiver.configure(reject_field={"table": protocol.TB_PERMIT, "field": "ConsCorpName"})
    worker = Worker()
    first = worker.run_until_idle()
    assert (first.delivered, first.failed) == (3, 1)
    permit_row = Outbox.objects.get(table=protocol.TB_PERMIT)
    assert permit_row.status == Status.FAILED
    assert "施工单位名称（ConsCorpName）" in permit_row.last_error
    assert "平台拒收该字段" in permit_row.last_error
    # The first bundle is incomplete: the project is not open on the platform yet.
    assert Project.objects.get(pk=project.pk).platform_synced_at is None
    backoffs = [delays()]
    for _ in range(sync_settings.SYNC_MAX_ATTEMPTS - 1):
        make_due()
        worker.run_until_idle()
        backoffs.append(delays())
    backoffs = [b for b in backoffs if b]
    assert_backoff_grows(backoffs)
    permit_row.refresh_from_db()
    assert (permit_row.status, permit_row.attempts) == (Status.DEAD, sync_settings.SYNC_MAX_ATTEMPTS)

    receiver.configure(reject_field=None)
    services.outbox_repush(actor=province_admin, ids=[permit_row.pk])
    assert worker.run_until_idle().delivered == 1
    assert Project.objects.get(pk=project.pk).platform_synced_at is not None
    keys = Outbox.objects.values_list("idempotency_key", flat=True)
    assert [receiver.store.applied_count(k) for k in keys] == [1, 1, 1, 1]


def test_a_dead_project_row_holds_back_its_children(sync_settings, receiver, approved_permit):
    receiver.configure(reject_field={"table": protocol.TB_PROJECT, "field": "PrjName"})
    sync_settings.SYNC_MAX_ATTEMPTS = 1
    Worker().run_until_idle()
    project_row = Outbox.objects.get(table=protocol.TB_PROJECT)
    assert project_row.status == Status.DEAD
    # The children travelled with it and were refused for the unknown PrjNum; once dead, the
    # project row keeps every later child of the project out of the batches.
    children = Outbox.objects.exclude(table=protocol.TB_PROJECT)
    assert all("项目编号未在平台登记" in c.last_error for c in children)
    Outbox.objects.filter(pk__in=[c.pk for c in children]).update(status=Status.PENDING, attempts=0)
    assert services.outbox_claim(batch_size=10).rows == []


def test_only_the_holder_of_the_lease_settles_a_row(sync_settings, approved_permit):
    stale = services.outbox_claim(batch_size=10)
    # The first worker stalls past its lease; a second one takes the rows over.
    Outbox.objects.update(leased_until=timezone.now() - timedelta(seconds=1))
    fresh = services.outbox_claim(batch_size=10)
    assert [r.pk for r in fresh.rows] == [r.pk for r in stale.rows]
    late = services.outbox_record_failure(claim=stale, error="迟到的失败")
    assert late.failed == late.dead == 0
    assert set(Outbox.objects.values_list("status", "attempts")) == {(Status.SENDING, 2)}


def test_acknowledge_for_tests_goes_through_the_receipt_path(approved_permit, project):
    acknowledge_project_offline(project)
    assert project.platform_synced_at is not None
    assert set(Outbox.objects.values_list("status", flat=True)) == {Status.DELIVERED}
    assert AuditEntry.objects.filter(action=AuditEntry.Action.SYNC, object_id=str(project.pk)).exists()


def test_a_row_whose_worker_dies_on_every_try_ends_dead_not_cycling(sync_settings, approved_permit):
    # Every attempt so far was leased and never settled (the worker was killed each time).
    Outbox.objects.update(
        status=Status.SENDING,
        attempts=sync_settings.SYNC_MAX_ATTEMPTS,
        leased_until=timezone.now() - timedelta(seconds=1),
        claim_token="gone",
    )
    assert services.outbox_claim(batch_size=10).rows == []
    rows = list(Outbox.objects.all())
    assert {r.status for r in rows} == {Status.DEAD}
    assert all("推送过程中中断" in r.last_error for r in rows)


def test_an_error_inside_the_worker_fails_the_batch_instead_of_leaving_it_leased(
    sync_settings, receiver, approved_permit, monkeypatch
):
    def explode(items):
        raise TypeError("无法序列化")

    worker = Worker()
    monkeypatch.setattr(worker, "post", explode)
    result = worker.run_until_idle()
    assert result.failed == 4
    assert {r.status for r in Outbox.objects.all()} == {Status.FAILED}
    assert "同步进程内部错误：TypeError" in Outbox.objects.first().last_error
    assert receiver.stats()["batches_received"] == 0
