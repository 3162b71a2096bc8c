"""On PostgreSQL: concurrent decisions serialize on the row lock; the audit table is append-only."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django.db.utils import InternalError, ProgrammingError

from projects.models import ConstructionPermit, State
from review import services as rs
from review.services import Conflict
from tests import factories as f
from yunjian.core import audit
from yunjian.core.models import AuditEntry

# The trigger RAISEs (SQLSTATE P0001): InternalError under psycopg2, ProgrammingError under psycopg 3.
APPEND_ONLY_REFUSAL = (InternalError, ProgrammingError)


def _race(target, actors):
    barrier = threading.Barrier(len(actors))
    results: list = [None] * len(actors)

    def run(i, actor):
        try:
            barrier.wait()
            results[i] = target(actor)
        except Exception as exc:  # noqa: BLE001  (the outcome is what we inspect)
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actors)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_approving_at_once_exactly_one_wins(request):
    world = request.getfixturevalue("world")
    contractor = request.getfixturevalue("contractor")
    review = request.getfixturevalue("approved_review")
    county = request.getfixturevalue("county_permit_reviewer")
    prefecture = request.getfixturevalue("reviewer")
    from projects import services as ps

    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[review.pk], data=f.permit_data(world["bureau_qlq"])
    )
    version = ConstructionPermit.objects.get(pk=permit.pk).lock_version

    def decide(actor):
        return rs.record_decide(
            actor=actor, kind="permit", record_id=permit.pk, approve=True, lock_version=version
        )

    results = _race(decide, [county, prefecture])
    winners = [r for r in results if isinstance(r, ConstructionPermit)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == 1, results
    assert len(conflicts) == 1, results
    assert "已由他人处理" in conflicts[0].message
    assert ConstructionPermit.objects.get(pk=permit.pk).state == State.APPROVED
    assert (
        AuditEntry.objects.filter(object_type="permit", object_id=str(permit.pk), action="approve").count()
        == 1
    )


@pytest.mark.django_db(transaction=True)
def test_approve_and_return_at_once_exactly_one_applies(request):
    world = request.getfixturevalue("world")
    designer = request.getfixturevalue("designer")
    institution = request.getfixturevalue("institution_staff")
    project = request.getfixturevalue("project")
    review = f.complete_and_submit_review(
        f.register_review(project, world["design"], world["institution"]), designer
    )

    def approve(actor):
        return rs.record_decide(
            actor=actor,
            kind="drawing_review",
            record_id=review.pk,
            approve=True,
            lock_version=review.lock_version,
        )

    def send_back(actor):
        return rs.record_decide(
            actor=actor,
            kind="drawing_review",
            record_id=review.pk,
            approve=False,
            lock_version=review.lock_version,
            reason="有误",
        )

    results = _race(lambda pair: pair[0](pair[1]), [(approve, institution), (send_back, institution)])
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    decisions = AuditEntry.objects.filter(
        object_type="drawing_review", object_id=str(review.pk), action__in=["approve", "return"]
    )
    assert decisions.count() == 1


def test_audit_rows_cannot_be_updated_or_deleted(db):
    entry = audit.record(action=AuditEntry.Action.EXPORT, object_type="x", object_id=1, reason="原文")
    for sql in (
        "UPDATE core_auditentry SET reason = 'changed' WHERE id = %s",
        "DELETE FROM core_auditentry WHERE id = %s",
    ):
        with (
            pytest.raises(APPEND_ONLY_REFUSAL, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).reason == "原文"
    with pytest.raises(APPEND_ONLY_REFUSAL), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(reason="orm")
    with pytest.raises(APPEND_ONLY_REFUSAL), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
