"""Two corrections of the same approved record asked at the same moment, on PostgreSQL: exactly one is
opened (the record's row lock, backed by the one-open-correction constraint), and the other gets a
Chinese conflict message; two reviewers deciding one correction at once: one decision wins."""

from __future__ import annotations

import pytest

from projects import corrections
from projects import services as ps
from projects.models import ConstructionPermit, Correction
from projects.services import Conflict
from review import corrections as rc
from review.models import Task
from sync.models import Outbox
from tests import factories as f
from tests.review.test_decide_concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def permit_c(project, approved_review, contractor, world, county_permit_reviewer):
    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
    )
    return f.approve(permit, county_permit_reviewer)


def _ask(actor, permit, amount, submit=True):
    return lambda: corrections.correction_save(
        actor=actor,
        kind="permit",
        record_id=permit.pk,
        changes={"contract_amount": amount},
        reason="合同金额录入有误",
        submit=submit,
    )


def test_two_corrections_at_once_open_one(permit_c, contractor):
    results = run_together(_ask(contractor, permit_c, "1100"), _ask(contractor, permit_c, "1200"))
    won = [r for r in results if isinstance(r, Correction)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert (len(won), len(lost)) == (1, 1), results
    assert isinstance(lost[0], Conflict)
    assert "审核中" in lost[0].message
    assert Correction.objects.filter(record_id=permit_c.pk).count() == 1
    assert Task.objects.filter(kind="permit", record_id=permit_c.pk, status="open").count() == 1


def test_two_reviewers_decide_one_correction_once(permit_c, contractor, county_permit_reviewer, reviewer):
    correction = _ask(contractor, permit_c, "1300")()
    seen = correction.lock_version
    rows = Outbox.objects.count()

    def decide(user):
        return lambda: rc.correction_decide(
            actor=user, correction_id=correction.pk, approve=True, lock_version=seen
        )

    results = run_together(decide(county_permit_reviewer), decide(reviewer))
    assert sum(isinstance(r, Correction) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    permit = ConstructionPermit.objects.get(pk=permit_c.pk)
    assert permit.version == 2
    assert Outbox.objects.filter(record_key=f"permit:{permit.pk}", version=2).count() == 1
    assert Outbox.objects.count() > rows
