"""提级 at the sync boundary (issue 18): a raised 数据等级 reaches the platform as the record's next
version, after the version it had, and the reference receiver accepts it; reconciliation agrees."""

from __future__ import annotations

import pytest

from review import services as rs
from sync import protocol
from sync.reconcile import reconcile
from sync.worker import Worker

pytestmark = pytest.mark.django_db


def test_the_platform_gets_the_raised_level_as_the_next_version(
    sync_settings, receiver, approved_permit, contractor, reviewer
):
    Worker().run_until_idle()
    key = f"permit:{approved_permit.pk}"
    assert receiver.store.record_data(protocol.TB_PERMIT, key)["DataLevel"] == "C"
    request = rs.level_request_submit(
        actor=contractor, kind="permit", record_ids=[approved_permit.pk], purpose="资质申请"
    )
    rs.level_request_decide(
        actor=reviewer, request_id=request.pk, raise_level=True, checklist=["施工许可证原件"]
    )
    result = Worker().run_until_idle()
    assert (result.delivered, result.failed, result.dead) == (2, 0, 0)  # the permit and its manager
    on_platform = {r["record_key"]: r for r in receiver.store.records()}
    assert on_platform[key]["version"] == 2
    assert receiver.store.record_data(protocol.TB_PERMIT, key)["DataLevel"] == "B"
    assert reconcile(receiver.store.records()).ok
