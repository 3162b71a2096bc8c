"""撤销认定 at the sync boundary (issue 18): the platform receives a revocation of what it holds of the
record, as the next version of each of the record's own rows, after them and idempotently; the
reference receiver applies it and a later version restores the record; reconciliation understands it."""

from __future__ import annotations

import pytest

from projects import services as ps
from projects.models import ConstructionPermit
from sync import protocol
from sync.models import Outbox
from sync.reconcile import reconcile
from sync.worker import Worker
from tests import factories as f

pytestmark = pytest.mark.django_db

REASON = f.REVOKE_REASON
revoke = f.revoke


def test_the_revocation_reaches_the_platform_after_the_record_and_idempotently(
    sync_settings, receiver, approved_permit, county_permit_reviewer
):
    Worker().run_until_idle()  # the first bundle: project, drawing review, permit, project manager
    revoke(approved_permit, county_permit_reviewer)
    rows = list(Outbox.objects.filter(op=protocol.REVOKE).order_by("id"))
    # The permit's own rows only: not the project, not the drawing review its bundle carried.
    assert {(r.table, r.record_key, r.version) for r in rows} == {
        (protocol.TB_PERMIT, f"permit:{approved_permit.pk}", 2),
        (protocol.TB_BUILDER_STAFF, f"builder_staff:{approved_permit.pk}", 2),
    }
    assert rows[0].payload["RevokeReason"] == REASON
    result = Worker().run_until_idle()
    assert (result.delivered, result.failed) == (2, 0)
    on_platform = {r["record_key"]: r for r in receiver.store.records()}
    assert on_platform[f"permit:{approved_permit.pk}"]["revoked"] is True
    assert on_platform[f"permit:{approved_permit.pk}"]["version"] == 2
    assert not any(
        r["revoked"] for key, r in on_platform.items() if not key.endswith(f":{approved_permit.pk}")
    )
    assert (
        receiver.store.revocation(protocol.TB_PERMIT, f"permit:{approved_permit.pk}")["RevokeReason"]
        == REASON
    )
    # Delivered again (a lost receipt): a duplicate, applied once.
    row = rows[0]
    item = protocol.make_item(
        row.idempotency_key, row.table, row.record_key, row.version, row.payload, row.op
    )
    receipts = receiver.store.apply_batch([item])
    assert receipts[0]["status"] == protocol.DUPLICATE
    assert receiver.store.applied_count(row.idempotency_key) == 1
    # Reconciliation agrees; a platform that did not apply it is reported.
    assert reconcile(receiver.store.records()).ok
    listing = [{**r, "revoked": False} for r in receiver.store.records()]
    report = reconcile(listing)
    assert {d["record_key"] for d in report.revocation_mismatch} == {
        f"permit:{approved_permit.pk}",
        f"builder_staff:{approved_permit.pk}",
    }


def test_a_record_never_sent_needs_no_revocation(approved_review, division_staff):
    """A drawing review waits for its permit's bundle: nothing of it is on the platform yet."""
    revoke(approved_review, division_staff)
    assert not Outbox.objects.exists()


def test_the_receiver_refuses_a_revocation_of_a_record_it_does_not_hold(receiver):
    item = protocol.make_item(
        "x:v2", protocol.TB_PERMIT, "permit:999999", 2, {"RevokeReason": "伪造"}, "revoke"
    )
    (receipt,) = receiver.store.apply_batch([item])
    assert receipt["status"] == protocol.REJECTED
    assert receipt["errors"][0]["field"] == "record_key"


def test_a_later_version_restores_a_revoked_record_on_the_platform(
    sync_settings, receiver, approved_permit, county_permit_reviewer, contractor
):
    Worker().run_until_idle()
    revoke(approved_permit, county_permit_reviewer)
    ps.record_submit(actor=contractor, kind="permit", record_id=approved_permit.pk)
    f.approve(ConstructionPermit.objects.get(pk=approved_permit.pk), county_permit_reviewer)
    Worker().run_until_idle()
    on_platform = {r["record_key"]: r for r in receiver.store.records()}
    assert on_platform[f"permit:{approved_permit.pk}"]["revoked"] is False
    assert on_platform[f"permit:{approved_permit.pk}"]["version"] == 3
    assert reconcile(receiver.store.records()).ok
