"""Two reviewers deciding the same record at the same moment, on PostgreSQL: exactly one wins.

Real threads with their own database connections (transaction=True): the row lock in
review.services serialises them, and the loser sees the winner's version and gets the conflict.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.urls import reverse

from projects.models import ConstructionPermit, State
from review import services as rs
from review.models import Task
from tests import factories as f
from tests.conftest import Client
from yunjian.core.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*calls):
    """Run the calls in threads released at once; return each call's result or exception, in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def runner(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # noqa: BLE001  (the test inspects what each thread got)
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture
def second_permit_reviewer(world):
    from projects.stages import Stage

    return f.make_reviewer("kate_qilin", "530302", Stage.PERMIT, org=world["bureau_qlq"])


def test_service_one_decision_wins_the_other_gets_conflict(
    county_permit_reviewer, second_permit_reviewer, permit_in_review
):
    seen = permit_in_review.lock_version

    def decide(user, approve):
        return lambda: rs.record_decide(
            actor=user,
            kind="permit",
            record_id=permit_in_review.pk,
            approve=approve,
            lock_version=seen,
            reason="" if approve else "发证日期有误",
        )

    results = run_together(decide(county_permit_reviewer, True), decide(second_permit_reviewer, False))

    winners = [r for r in results if isinstance(r, ConstructionPermit)]
    losers = [r for r in results if isinstance(r, rs.Conflict)]
    assert (len(winners), len(losers)) == (1, 1), results
    permit = ConstructionPermit.objects.get(pk=permit_in_review.pk)
    assert permit.state == winners[0].state
    assert permit.lock_version == seen + 1
    tasks = list(Task.objects.filter(kind="permit", record_id=permit.pk))
    assert [(t.status, t.outcome) for t in tasks] == [
        ("done", "approved" if permit.state == State.APPROVED else "returned")
    ]
    decisions = AuditEntry.objects.filter(
        object_type="permit",
        object_id=str(permit.pk),
        action__in=[AuditEntry.Action.APPROVE, AuditEntry.Action.RETURN],
    )
    assert decisions.count() == 1


def test_view_one_post_wins_the_other_gets_409(
    county_permit_reviewer, second_permit_reviewer, permit_in_review
):
    url = reverse("review:record", args=["permit", permit_in_review.pk])
    data = {"decision": "approve", "lock_version": permit_in_review.lock_version}
    clients = []
    for user in (county_permit_reviewer, second_permit_reviewer):
        client = Client()
        client.force_login(user)
        clients.append(client)

    responses = run_together(*[lambda c=c: c.post(url, data) for c in clients])

    assert sorted(r.status_code for r in responses) == [302, 409], responses
    loser = next(r for r in responses if r.status_code == 409)
    assert "已由他人处理" in loser.content.decode()
    permit = ConstructionPermit.objects.get(pk=permit_in_review.pk)
    assert permit.state == State.APPROVED
    assert Task.objects.get(kind="permit", record_id=permit.pk).status == "done"


def test_second_decision_waits_for_the_first_ones_lock_then_conflicts(
    county_permit_reviewer, second_permit_reviewer, permit_in_review
):
    """Deterministic overlap: A decides and holds its transaction open until B is seen waiting on the lock."""
    import time

    from django.db import transaction

    seen = permit_in_review.lock_version
    decided, release = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            record = rs.record_decide(
                actor=county_permit_reviewer,
                kind="permit",
                record_id=permit_in_review.pk,
                approve=True,
                lock_version=seen,
            )
            decided.set()
            release.wait(timeout=20)
        return record

    def second():
        decided.wait(timeout=20)
        return rs.record_decide(
            actor=second_permit_reviewer,
            kind="permit",
            record_id=permit_in_review.pk,
            approve=False,
            lock_version=seen,
            reason="发证日期有误",
        )

    holder = threading.Thread(target=lambda: results.__setitem__(0, _catch(first)))
    waiter = threading.Thread(target=lambda: results.__setitem__(1, _catch(second)))
    results: list = [None, None]
    holder.start()
    waiter.start()
    blocked = False
    for _ in range(200):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                blocked = True
                break
        time.sleep(0.05)
    release.set()
    holder.join(timeout=30)
    waiter.join(timeout=30)

    assert blocked, "the second decision never waited on the row lock"
    assert isinstance(results[0], ConstructionPermit), results
    assert isinstance(results[1], rs.Conflict), results
    assert ConstructionPermit.objects.get(pk=permit_in_review.pk).state == State.APPROVED


def _catch(call):
    try:
        return call()
    except Exception as exc:  # noqa: BLE001
        return exc
    finally:
        connection.close()
