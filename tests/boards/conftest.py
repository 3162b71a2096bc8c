"""Personas and records for the boards' tests, through the real services."""

from __future__ import annotations

import pytest

from boards import aggregates
from projects.stages import Stage
from review.models import ReviewerAssignment
from tests import factories as f
from tests.review.conftest import approved_review_in, submit_permit
from yunjian.core.models import Role


@pytest.fixture
def office(world):
    """省厅业务处室: the province's boards, read-only."""
    return f.make_user("olive_office", world["division"], Role.BOARD_VIEWER)


@pytest.fixture
def liaison(world):
    """曲靖's liaison (联络员) on the roster."""
    user = f.make_user(
        "lily_liaison",
        f.make_org("曲靖市住房和城乡建设局", "housing_bureau", division="530300"),
        Role.REVIEWER,
    )
    ReviewerAssignment.objects.create(
        user=user, stage=Stage.LIAISON, division_id="530300", roster_key="530300"
    )
    return user


@pytest.fixture
def records(world, designer, institution_staff, division_staff, contractor, other_contractor, reviewer):
    """In 曲靖: an approved drawing review and a permit in review in 麒麟区, a returned review in
    宣威市; in 红河 (个旧市): an approved review and its permit in review."""
    qlq = approved_review_in("530302", world, designer, institution_staff, division_staff)
    submit_permit(contractor, qlq, world["bureau_qlq"])
    returned = f.register_review(
        f.make_project("530381", owner=world["owner"]), world["design"], world["institution"]
    )
    f.complete_and_submit_review(returned, designer)
    f.send_back(returned, institution_staff)
    hh = approved_review_in("532501", world, designer, institution_staff, division_staff)
    submit_permit(other_contractor, hh, world["bureau_hh"])
    aggregates.refresh_tasks()
    aggregates.refresh_slow()
    aggregates.take_snapshot()
