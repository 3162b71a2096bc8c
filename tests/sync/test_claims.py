"""Claims and receipts between several workers (issue 20): a worker never waits for rows another
holds, and a receipt settles only the rows its own claim still holds."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from sync import protocol, services
from sync.models import Outbox
from tests.sync.conftest import project_rows

Status = Outbox.Status


def receipts_for(claim: services.Claim, status: str = protocol.ACCEPTED) -> list[protocol.Receipt]:
    now = timezone.now().isoformat()
    return [
        protocol.make_receipt(
            protocol.make_item(r.idempotency_key, r.table, r.record_key, r.version, {}), status, now
        )
        for r in claim.rows
    ]


def states() -> set[tuple[str, str]]:
    return set(Outbox.objects.values_list("status", "claim_token"))


# --- SKIP LOCKED --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_worker_skips_the_rows_another_worker_holds_and_does_not_wait(request):
    project = request.getfixturevalue("project")
    rows = project_rows(project, 4)
    held, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        try:
            with transaction.atomic():
                list(Outbox.objects.select_for_update().filter(pk=rows[0].pk))
                held.set()
                release.wait(30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert held.wait(10)
        with connection.cursor() as cursor:  # waiting for the lock would fail the claim after 2 s
            cursor.execute("SET lock_timeout = '2s'")
        started = time.monotonic()
        try:
            claim = services.outbox_claim(batch_size=10)
        except OperationalError as exc:  # pragma: no cover  (what a claim without SKIP LOCKED does)
            pytest.fail(f"the claim waited for the row another worker holds: {exc}")
        elapsed = time.monotonic() - started
    finally:
        release.set()
        thread.join(30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")

    assert [r.pk for r in claim.rows] == [r.pk for r in rows[1:]]
    assert elapsed < 2
    assert Outbox.objects.get(pk=rows[0].pk).status == Status.PENDING
    # Released, the row goes with the next claim.
    assert [r.pk for r in services.outbox_claim(batch_size=10).rows] == [rows[0].pk]


# --- late receipts ------------------------------------------------------------------------------


@pytest.fixture
def stale_claim(sync_settings, approved_permit):
    claim = services.outbox_claim(batch_size=10)
    assert len(claim.rows) == 4  # the first bundle: project, drawing review, permit, its project manager
    return claim


@pytest.mark.django_db
def test_a_late_receipt_for_rows_claimed_again_since_changes_nothing(stale_claim, project):
    Outbox.objects.update(leased_until=timezone.now() - timedelta(seconds=1))  # the lease ran out
    fresh = services.outbox_claim(batch_size=10)
    assert [r.pk for r in fresh.rows] == [r.pk for r in stale_claim.rows]

    late = services.outbox_record_receipts(claim=stale_claim, receipts=receipts_for(stale_claim))

    assert late.delivered == late.failed == late.dead == 0
    assert states() == {(Status.SENDING, fresh.token)}
    project.refresh_from_db()
    assert project.platform_synced_at is None
    # The holder of the lease settles them.
    assert services.outbox_record_receipts(claim=fresh, receipts=receipts_for(fresh)).delivered == 4
    assert states() == {(Status.DELIVERED, "")}


@pytest.mark.django_db
def test_a_late_rejection_for_rows_claimed_again_since_changes_nothing(stale_claim):
    Outbox.objects.update(leased_until=timezone.now() - timedelta(seconds=1))
    fresh = services.outbox_claim(batch_size=10)
    late = services.outbox_record_receipts(
        claim=stale_claim, receipts=receipts_for(stale_claim, protocol.REJECTED)
    )
    assert late.delivered == late.failed == late.dead == 0
    assert states() == {(Status.SENDING, fresh.token)}
    assert set(Outbox.objects.values_list("last_error", flat=True)) == {""}


@pytest.mark.django_db
def test_a_late_receipt_for_rows_requeued_since_changes_nothing(stale_claim, province_admin):
    services.outbox_record_failure(claim=stale_claim, error="超时")
    assert {s for s, _ in states()} == {Status.FAILED}

    late = services.outbox_record_receipts(claim=stale_claim, receipts=receipts_for(stale_claim))
    assert late.delivered == 0
    assert states() == {(Status.FAILED, "")}

    services.outbox_repush(actor=province_admin, ids=[r.pk for r in stale_claim.rows])
    late = services.outbox_record_receipts(claim=stale_claim, receipts=receipts_for(stale_claim))
    assert late.delivered == 0
    assert states() == {(Status.PENDING, "")}


@pytest.mark.django_db
def test_a_late_receipt_for_rows_dead_lettered_since_changes_nothing(stale_claim, sync_settings):
    sync_settings.SYNC_MAX_ATTEMPTS = 1
    assert services.outbox_record_failure(claim=stale_claim, error="平台拒收").dead == 4

    late = services.outbox_record_receipts(claim=stale_claim, receipts=receipts_for(stale_claim))
    assert late.delivered == late.dead == 0
    assert states() == {(Status.DEAD, "")}
    assert set(Outbox.objects.values_list("last_error", flat=True)) == {"平台拒收"}
