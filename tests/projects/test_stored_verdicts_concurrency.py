"""A refresh racing a change, on PostgreSQL with real threads and their own connections
(transaction=True): the change's trigger holds its project's party rows until it commits; a refresh
that computed the verdict before the change waits for them, then finds the version moved and leaves
the row stale — never a stale verdict marked fresh. The next refresh stores the change."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from projects import performance
from projects.codes import Scope
from projects.models import ProjectParty
from sync.performance import refresh_verdicts
from tests.projects.test_performance import permitted, tender  # noqa: F401 (fixtures)
from tests.synchelpers import acknowledge_project_offline

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_refresh_waiting_on_a_change_leaves_the_row_stale(permitted, world, contractor):  # noqa: F811
    builder = world["builder"]
    acknowledge_project_offline(permitted)
    refresh_verdicts()
    party = ProjectParty.objects.get(
        project=permitted, organization=builder, role=ProjectParty.Role.GENERAL_CONTRACTOR
    )
    ProjectParty.objects.filter(pk=party.pk).update(perf_stale=True)  # stale, same version
    changed, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def change():
        try:
            with transaction.atomic():
                tender(contractor, permitted, Scope.CONSTRUCTION)  # its trigger locks the party rows
                changed.set()
                release.wait(timeout=20)
        finally:
            connection.close()

    def refresh():
        try:
            results["stored"] = refresh_verdicts(org_id=builder.pk)
        except Exception as exc:  # noqa: BLE001 (the test inspects it)
            results["stored"] = exc
        finally:
            connection.close()

    changer = threading.Thread(target=change)
    changer.start()
    assert changed.wait(timeout=20)
    refresher = threading.Thread(target=refresh)
    refresher.start()
    time.sleep(1.0)  # the refresh has computed (before the change) and waits on the rows' lock
    assert refresher.is_alive()
    release.set()
    changer.join(timeout=20)
    refresher.join(timeout=20)

    assert results["stored"] == 0
    party.refresh_from_db()
    assert party.perf_stale  # the verdict computed before the change is not taken for fresh
    refresh_verdicts(org_id=builder.pk)
    party.refresh_from_db()
    assert not party.perf_stale
    assert party.s_tender_contract == performance.IN_REVIEW
