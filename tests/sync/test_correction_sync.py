"""更正 at the sync boundary (issue 18): an approved correction reaches the platform as the record's next
version (same record key), after the version it had, exactly once; the reference receiver keeps version
2 in force and version 1 in its history; a returned correction sends nothing; reconciliation agrees,
and notices a platform that missed the new version."""

from __future__ import annotations

import pytest

from projects import corrections
from review import corrections as rc
from sync import protocol
from sync.models import Outbox
from sync.reconcile import reconcile
from sync.worker import Worker

pytestmark = pytest.mark.django_db


def _correct(permit, contractor, amount="1234.5"):
    return corrections.correction_save(
        actor=contractor,
        kind="permit",
        record_id=permit.pk,
        changes={"contract_amount": amount},
        reason="合同金额录入有误",
        submit=True,
    )


def test_the_platform_keeps_version_2_and_its_history_keeps_version_1(
    sync_settings, receiver, approved_permit, contractor, county_permit_reviewer
):
    Worker().run_until_idle()
    key = f"permit:{approved_permit.pk}"
    assert receiver.store.record_data(protocol.TB_PERMIT, key)["ContractMoney"] == "1000"
    correction = _correct(approved_permit, contractor)
    assert Worker().run_until_idle().claimed == 0  # in review: the platform keeps version 1
    rc.correction_decide(
        actor=county_permit_reviewer, correction_id=correction.pk, approve=True, lock_version=None
    )
    result = Worker().run_until_idle()
    assert (result.delivered, result.failed, result.dead) == (2, 0, 0)  # the permit and its manager
    on_platform = {r["record_key"]: r for r in receiver.store.records()}
    assert on_platform[key]["version"] == 2
    assert receiver.store.record_data(protocol.TB_PERMIT, key)["ContractMoney"] == "1234.5"
    history = receiver.store.history(protocol.TB_PERMIT, key)
    assert [(h["version"], h["data"]["ContractMoney"]) for h in history] == [(1, "1000")]
    assert receiver.store.applied_count(f"{key}:v2") == 1
    assert reconcile(receiver.store.records()).ok
    # Delivered again (a lost receipt): a duplicate, applied once.
    Outbox.objects.filter(record_key=key, version=2).update(status=Outbox.Status.PENDING)
    Worker().run_until_idle()
    assert receiver.store.applied_count(f"{key}:v2") == 1


def test_a_returned_correction_sends_nothing(
    sync_settings, receiver, approved_permit, contractor, county_permit_reviewer
):
    Worker().run_until_idle()
    rows = Outbox.objects.count()
    correction = _correct(approved_permit, contractor)
    rc.correction_decide(
        actor=county_permit_reviewer,
        correction_id=correction.pk,
        approve=False,
        lock_version=None,
        reason="请附原件",
    )
    assert Outbox.objects.count() == rows
    key = f"permit:{approved_permit.pk}"
    assert receiver.store.record_data(protocol.TB_PERMIT, key)["ContractMoney"] == "1000"
    assert receiver.store.history(protocol.TB_PERMIT, key) == []


def test_reconciliation_notices_a_platform_without_the_corrected_version(
    sync_settings, receiver, approved_permit, contractor, county_permit_reviewer
):
    Worker().run_until_idle()
    platform_v1 = receiver.store.records()
    correction = _correct(approved_permit, contractor)
    rc.correction_decide(
        actor=county_permit_reviewer, correction_id=correction.pk, approve=True, lock_version=None
    )
    Worker().run_until_idle()
    report = reconcile(platform_v1)  # the listing as it was before version 2 arrived
    key = f"permit:{approved_permit.pk}"
    assert {"table": protocol.TB_PERMIT, "record_key": key, "ours": 2, "theirs": 1} in report.version_mismatch
