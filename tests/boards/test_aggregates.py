"""The boards' counts against a count over the records, after real service calls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from boards import aggregates
from boards.models import Figures, OrgCount, Snapshot, StateCount
from projects import services as ps
from projects.models import DrawingReview, State
from review import routing
from review import services as rs
from review.models import Task
from tests import factories as f
from tests.review.conftest import approved_review_in, submit_permit


def stored_counts() -> dict:
    return {(c.division_code, c.stage, c.state): c.n for c in StateCount.objects.filter(n__gt=0)}


def stored_org_counts() -> dict:
    return {(c.org_id, c.role, c.state): c.n for c in OrgCount.objects.filter(n__gt=0)}


def assert_counts_match_records():
    assert stored_counts() == aggregates.counts_from_records()
    assert stored_org_counts() == aggregates.org_counts_from_records()
    assert not StateCount.objects.filter(n__lt=0).exists()


@pytest.fixture
def campaign(world, designer, institution_staff, division_staff, contractor, reviewer):
    """Drawing reviews and permits through every transition, in 麒麟区 and 宣威市."""
    approved = approved_review_in("530302", world, designer, institution_staff, division_staff)
    assert_counts_match_records()
    draft = f.register_review(
        f.make_project("530302", owner=world["owner"]), world["design"], world["institution"]
    )
    assert_counts_match_records()
    returned = f.register_review(
        f.make_project("530381", owner=world["owner"]), world["design"], world["institution"]
    )
    f.complete_and_submit_review(returned, designer)
    assert_counts_match_records()
    f.send_back(returned, institution_staff)
    assert_counts_match_records()
    permit = submit_permit(contractor, approved, world["bureau_qlq"])
    assert_counts_match_records()
    f.approve(permit, reviewer)
    assert_counts_match_records()
    rs.record_revoke(
        actor=reviewer,
        kind=permit.KIND,
        record_id=permit.pk,
        reason="经核实，许可证系伪造。",
        evidence=SimpleUploadedFile("核查.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"),
    )
    assert_counts_match_records()
    return {"approved": approved, "draft": draft, "returned": returned, "permit": permit}


def test_counts_follow_every_service_call(campaign):
    counts = stored_counts()
    assert counts[("530302", "drawing_review", State.APPROVED)] == 1
    assert counts[("530302", "drawing_review", State.DRAFT)] == 1
    assert counts[("530381", "drawing_review", State.RETURNED)] == 1
    assert counts[("530302", "permit", State.REVOKED)] == 1
    assert_counts_match_records()


def test_resubmission_and_delete_keep_counts(campaign, designer):
    returned = campaign["returned"]
    ps.record_submit(actor=designer, kind=returned.KIND, record_id=returned.pk)
    assert_counts_match_records()
    DrawingReview.objects.filter(pk=campaign["draft"].pk).delete()
    assert_counts_match_records()
    # An edit that changes no state writes no count.
    before = list(StateCount.objects.order_by("id").values_list("id", "n"))
    DrawingReview.objects.filter(pk=returned.pk).update(censor_date=returned.censor_date)
    assert list(StateCount.objects.order_by("id").values_list("id", "n")) == before


def test_rebuild_repairs_counts(campaign):
    StateCount.objects.all().update(n=99)
    OrgCount.objects.all().delete()
    call_command("boards_rebuild", "--snapshot", verbosity=0)
    assert_counts_match_records()
    assert Snapshot.objects.filter(day=timezone.localdate()).exists()


def test_task_figures_match_open_tasks(campaign, world, designer):
    aggregates.refresh_tasks()
    aggregates.refresh_slow()
    open_tasks = Task.objects.filter(status="open", kind="drawing_review", project__county_id="530381")
    assert open_tasks.count() == 0  # the returned one has no open step
    f.complete_and_submit_review(
        f.register_review(
            f.make_project("530381", owner=world["owner"]), world["design"], world["institution"]
        ),
        designer,
    )
    Task.objects.filter(status="open").update(
        submitted_at=timezone.now() - timedelta(days=60), due_at=timezone.now() - timedelta(days=1)
    )
    aggregates.refresh_tasks()
    figures = Figures.objects.get(division_code="530381", stage="drawing_review")
    assert figures.overdue == 1
    assert figures.age_over_20 == 1
    assert figures.age_0_5 == 0
    # Decisions of the last four weeks: one approval (institution, division), one return.
    qlq = Figures.objects.get(division_code="530302", stage="drawing_review")
    assert (
        qlq.decided_4w
        == Task.objects.filter(status="done", kind="drawing_review", project__county_id="530302").count()
    )
    returned = Figures.objects.get(division_code="530381", stage="drawing_review")
    assert returned.returned_4w == 1
    assert returned.blocked_orgs == 1


def test_unroutable_counts_roster_steps_without_a_reviewer(
    world, contractor, designer, institution_staff, division_staff
):
    """A permit of 红河 filed where the roster names nobody is 无人审核; one with a reviewer is not."""
    review = approved_review_in("532501", world, designer, institution_staff, division_staff)
    submit_permit(contractor, review, world["bureau_hh"])
    aggregates.refresh_tasks()
    assert Figures.objects.get(division_code="532501", stage="permit").unroutable == 1
    # A reviewer added as the roster import or an activation adds one: their posts are recomputed.
    routing.refresh_person(f.make_reviewer("hh_permits", "532500", "permit"))
    aggregates.refresh_tasks()
    assert Figures.objects.get(division_code="532501", stage="permit").unroutable == 0


def test_age_floors_count_working_days(db):
    from datetime import date

    floors = aggregates.age_floors(date(2025, 10, 10))  # a Friday after the National Day holiday
    # The working days after a submission of 9-26 up to 10-10: 9-28 (a make-up Sunday), 9-29, 9-30,
    # 10-09, 10-10 (10-01..08 off) — five; one of 9-25 adds 9-26, six.
    assert floors[5].date() == date(2025, 9, 26)
    assert floors[20] < floors[10] < floors[5]


def test_the_migration_installs_the_triggers_the_module_describes():
    """boards.aggregates holds the triggers' SQL; migration 0001 a frozen copy: they must agree (a
    change to the triggers is a new migration)."""
    import importlib

    migration = importlib.import_module("boards.migrations.0001_initial")
    assert aggregates.triggers_sql() == migration.TRIGGERS
    assert aggregates.drop_triggers_sql() == migration.DROP


def test_a_project_moved_to_another_county_moves_its_counts(campaign):
    """A project's county corrected: its records count in the new county (the project trigger)."""
    project = campaign["approved"].project
    project.county_id = "530381"
    project.save()
    assert_counts_match_records()
    from projects.models import Project

    Project.objects.filter(pk=project.pk).update(county_id="532501")
    assert_counts_match_records()
    assert stored_counts()[("532501", "permit", State.REVOKED)] == 1
