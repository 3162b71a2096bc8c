"""The notice's paths on loaded data: 一(一)1 the design unit completes a loaded drawing review,
一(一)2 the general contractor completes a loaded PMS permit, 三 platform records arrive approved."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from projects import services as ps
from projects.models import ConstructionPermit, DrawingReview, Origin, State
from tests import factories as f
from tests.loads.helpers import load


@pytest.fixture
def loaded(pms_files):
    code, out, err = load(pms_files["projects"], pms_files["censors"], pms_files["permits"])
    assert code == 0, (out, err)
    return {
        "review": DrawingReview.objects.get(censor_num=f"{pms_files['prj']}-TX-001"),
        "permit": ConstructionPermit.objects.get(permit_num=f"{pms_files['prj']}-SX-001"),
    }


def test_loaded_review_is_a_draft_of_its_design_unit_with_the_grant(loaded, world, designer, other_designer):
    review = loaded["review"]
    assert (review.state, review.origin, review.owner_org) == (State.DRAFT, Origin.PMS, world["design"])
    assert designer.has_perm("projects.change_drawingreview", review)
    assert not other_designer.has_perm("projects.change_drawingreview", review)
    assert ps.can_edit(designer, review)
    assert not ps.can_edit(other_designer, review)


def test_design_unit_completes_and_submits_the_loaded_review(
    loaded, designer, institution_staff, division_staff
):
    # Completing (完善): what PMS did not hold, here the project's 工程用途, is filled in by the design unit.
    review = ps.drawing_review_update(
        actor=designer,
        review_id=loaded["review"].pk,
        data={"violations_count": 0, **f.review_completion()},
        project_data={"prj_function": "301"},
        submit=True,
    )
    assert review.state == State.IN_REVIEW
    f.approve(review, institution_staff)
    assert f.approve(review, division_staff).state == State.APPROVED


def test_design_unit_sees_exactly_its_own_loaded_reviews(loaded, client, designer, other_designer):
    edit = reverse("projects:record-edit", args=["drawing_review", loaded["review"].pk])
    client.force_login(designer)
    assert edit in client.get(reverse("projects:workspace")).content.decode()
    assert client.get(edit).status_code == 200
    client.force_login(other_designer)
    assert edit not in client.get(reverse("projects:workspace")).content.decode()
    assert client.get(edit).status_code in (403, 404)


def test_general_contractor_opens_completes_and_submits_the_loaded_permit(
    loaded, client, contractor, other_contractor, designer, institution_staff, division_staff
):
    permit = loaded["permit"]
    assert (permit.state, permit.owner_org_id) == (State.DRAFT, contractor.organization_id)
    assert list(permit.drawing_reviews.all()) == [loaded["review"]]
    edit = reverse("projects:record-edit", args=["permit", permit.pk])
    client.force_login(contractor)
    page = client.get(reverse("projects:workspace")).content.decode()
    assert edit in page  # the workspace offers 完善 of the loaded permit
    assert client.get(edit).status_code == 200
    client.force_login(other_contractor)
    assert client.get(edit).status_code in (403, 404)
    # The drawing review is approved first (notice 一(一)2: permits build on approved reviews).
    review = ps.drawing_review_update(
        actor=designer,
        review_id=loaded["review"].pk,
        data=f.review_completion(),
        project_data={"prj_function": "301"},
        submit=True,
    )
    f.approve(review, institution_staff)
    f.approve(review, division_staff)
    # What PMS did not hold and the platform needs (docs/data-standard.md §2.10) is completed here.
    completion = f.permit_data(review.censor_org)
    permit = ps.permit_save(
        actor=contractor,
        permit_id=permit.pk,
        drawing_review_ids=[review.pk],
        data={
            "issue_date": date(2020, 4, 2),
            "project_manager": "王经理",
            **{k: completion[k] for k in ("contract_num", "project_manager_id", "supervision_org")},
            **{k: completion[k] for k in ("chief_supervisor", "chief_supervisor_id")},
        },
        project_data=f.exchange_basics(),
        submit=True,
    )
    assert permit.state == State.IN_REVIEW
    assert permit.permit_num.endswith("-SX-001")


def test_platform_records_arrive_approved_and_cannot_be_reentered(pms_files, contractor, designer):
    code, out, err = load(
        pms_files["projects"], pms_files["censors"], pms_files["permits"], "--origin", "platform"
    )
    assert code == 0, (out, err)
    permit = ConstructionPermit.objects.get()
    review = DrawingReview.objects.get()
    assert (permit.state, permit.origin, review.state, review.origin) == (
        State.APPROVED,
        Origin.PLATFORM,
        State.APPROVED,
        Origin.PLATFORM,
    )
    assert not ps.can_edit(contractor, permit)
    assert not ps.can_edit(designer, review)
