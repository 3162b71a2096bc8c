"""Steps are named, not numbered: a step inserted into a chain misroutes no record in flight."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from projects import services as ps
from projects import workflow
from projects.models import State
from projects.workflow import Performer, Step
from review import jurisdiction
from review import services as rs
from review.models import Task
from tests import factories as f
from yunjian.core.models import AuditEntry

PRECHECK = Step("province_precheck", Performer.DESIGN_DIVISION, "省厅预审（新增环节）")


def _open_task(record):
    return Task.objects.get(kind=record.KIND, record_id=record.pk, status=Task.Status.OPEN)


def test_a_step_inserted_before_the_current_one_misroutes_nothing_in_flight(
    monkeypatch, project, approved_review, contractor, world, county_permit_reviewer, division_staff
):
    in_flight = ps.permit_save(
        actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
    )
    assert in_flight.step == "issuing_review"

    # The province adds a pre-check before the issuing authority's review, with records in flight.
    monkeypatch.setitem(workflow.CHAINS, "permit", (PRECHECK, *workflow.CHAINS["permit"]))

    in_flight.refresh_from_db()
    assert workflow.current_step(in_flight).label == "发证机关审核（施工许可信息）"
    assert _open_task(in_flight).step == "issuing_review"
    # The issuing authority's reviewer still has it; the new step's performer does not.
    assert jurisdiction.can_decide(county_permit_reviewer, in_flight)
    assert not jurisdiction.can_decide(division_staff, in_flight)
    with pytest.raises(PermissionDenied):
        rs.record_decide(
            actor=division_staff, kind=in_flight.KIND, record_id=in_flight.pk, approve=True, lock_version=None
        )
    # Its last step approved, it is approved: it does not go back to the inserted first step.
    decided = rs.record_decide(
        actor=county_permit_reviewer,
        kind=in_flight.KIND,
        record_id=in_flight.pk,
        approve=True,
        lock_version=None,
    )
    assert (decided.state, decided.step) == (State.APPROVED, "")
    entry = AuditEntry.objects.filter(
        object_type=in_flight.AUDIT_TYPE, object_id=str(in_flight.pk), action=AuditEntry.Action.APPROVE
    ).get()
    assert entry.step == "issuing_review"

    # A record submitted from now on starts at the new step, with its performer.
    fresh = ps.permit_save(
        actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
    )
    assert fresh.step == "province_precheck"
    assert _open_task(fresh).performer == Performer.DESIGN_DIVISION
    assert jurisdiction.can_decide(division_staff, fresh)
    assert not jurisdiction.can_decide(county_permit_reviewer, fresh)
    moved = rs.record_decide(
        actor=division_staff, kind=fresh.KIND, record_id=fresh.pk, approve=True, lock_version=None
    )
    assert (moved.state, moved.step) == (State.IN_REVIEW, "issuing_review")
    assert _open_task(moved).step == "issuing_review"


def test_a_step_inserted_between_two_steps_keeps_a_record_at_the_second(
    monkeypatch, project, world, designer, institution_staff, division_staff
):
    review = f.register_review(project, world["design"], world["institution"])
    review = f.complete_and_submit_review(review, designer)
    rs.record_decide(
        actor=institution_staff, kind=review.KIND, record_id=review.pk, approve=True, lock_version=None
    )
    review.refresh_from_db()
    assert review.step == "division_verify"
    institution, division = workflow.CHAINS["drawing_review:pms"]
    monkeypatch.setitem(workflow.CHAINS, "drawing_review:pms", (institution, PRECHECK, division))

    review.refresh_from_db()
    assert workflow.step_position(review) == 2  # now the third step, by name
    assert jurisdiction.can_decide(division_staff, review)
    assert not jurisdiction.can_decide(institution_staff, review)
    done = rs.record_decide(
        actor=division_staff, kind=review.KIND, record_id=review.pk, approve=True, lock_version=None
    )
    assert done.state == State.APPROVED
