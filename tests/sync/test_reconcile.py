"""sync_reconcile against a live receiver: agreement exits 0; missing, extra and version mismatches
are reported per record and exit non-zero; --json for machines."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sync import protocol
from sync.models import Outbox
from sync.worker import Worker
from tests.sync.conftest import SYNC_SECRET

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[int, str]:
    from io import StringIO

    out = StringIO()
    try:
        call_command("sync_reconcile", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code), out.getvalue()
    return 0, out.getvalue()


def test_agreement_exits_zero(sync_settings, receiver, approved_permit):
    Worker().run_until_idle()
    code, out = run()
    assert code == 0, out
    assert "本系统已同步 4 条记录，省一体化平台持有 4 条" in out
    assert "对账一致" in out


def test_differences_are_reported_per_record_and_exit_non_zero(
    sync_settings, receiver, approved_permit, project
):
    Worker().run_until_idle()
    permit = Outbox.objects.get(table=protocol.TB_PERMIT)
    review = Outbox.objects.get(table=protocol.TB_CENSOR)
    # Missing: the platform lost the drawing review (a fresh receiver database would do the same).
    receiver.store._db.execute("DELETE FROM records WHERE record_key = ?", (review.record_key,))
    # Version mismatch: we delivered a v2 of the permit the platform answered as stale.
    Outbox.objects.create(
        bundle=permit.bundle,
        project=project,
        table=permit.table,
        record_key=permit.record_key,
        version=permit.version + 1,
        idempotency_key=f"{permit.record_key}:v{permit.version + 1}",
        payload=permit.payload,
        status=Outbox.Status.DELIVERED,
        receipt_status="stale",
    )
    # Extra: someone else pushed a record to the platform.
    other = protocol.make_item(
        "x:v1",
        protocol.TB_PROJECT,
        "project:5303022105060009",
        1,
        {**Outbox.objects.get(table=protocol.TB_PROJECT).payload, "PrjNum": "5303022105060009"},
    )
    receiver.store.apply_batch([other])

    code, out = run()
    assert code == 1
    assert "缺失（本系统已同步，平台没有）：1 条" in out
    assert review.record_key in out
    assert "多余（平台有，本系统未同步）：1 条" in out
    assert "project:5303022105060009" in out
    assert f"本系统 v{permit.version + 1}，平台 v{permit.version}" in out

    code, out = run("--json")
    assert code == 1
    report = json.loads(out)
    assert report["ok"] is False
    assert report["missing"] == [
        {"table": protocol.TB_CENSOR, "record_key": review.record_key, "version": review.version}
    ]
    assert report["extra"] == [
        {"table": protocol.TB_PROJECT, "record_key": "project:5303022105060009", "version": 1}
    ]
    assert report["version_mismatch"] == [
        {
            "table": protocol.TB_PERMIT,
            "record_key": permit.record_key,
            "ours": permit.version + 1,
            "theirs": permit.version,
        }
    ]
    code, out = run("--json", "--table", protocol.TB_PROJECT)
    assert json.loads(out)["missing"] == []
    assert code == 1


def test_an_unreachable_or_unauthorised_platform_is_an_error(sync_settings, receiver):
    sync_settings.SYNC_SECRET = "wrong-" + SYNC_SECRET
    with pytest.raises(CommandError, match="HTTP 401"):
        call_command("sync_reconcile")
    sync_settings.SYNC_ENDPOINT = "http://127.0.0.1:9/exchange/"
    with pytest.raises(CommandError, match="无法获取省一体化平台的记录清单"):
        call_command("sync_reconcile")
