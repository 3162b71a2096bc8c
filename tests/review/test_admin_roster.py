"""The admin site's roster lines (ReviewerAssignment) cannot strand an open step.

Accounts are not on the admin site at all (tests/core/test_separation.py: /admin/core/user/ is 404), so
a reviewer cannot be switched off there; what the system administrator can do is edit or delete a
reviewer's roster line. A change or deletion that would leave an open step with nobody to perform it
is refused with a Chinese message linking the reassignment and deactivation pages, and nothing changes;
with a colleague who covers the steps (or no open steps) it goes through, audited, and the 无人审核
flags are recomputed (review.routing)."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from projects.stages import Stage
from review.models import ReviewerAssignment, Task
from tests import factories as f
from yunjian.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def open_task(record) -> Task:
    return Task.objects.get(kind=record.KIND, record_id=record.pk, status=Task.Status.OPEN)


def line_of(user) -> ReviewerAssignment:
    return ReviewerAssignment.objects.get(user=user)


def change_data(line, **changes) -> dict:
    data = {
        "user": line.user_id,
        "stage": line.stage,
        "division": line.division_id or "",
        "zone": line.zone_id or "",
        "roster_key": line.roster_key,
        "created_at_0": line.created_at.strftime("%Y-%m-%d"),
        "created_at_1": line.created_at.strftime("%H:%M:%S"),
    }
    data.update(changes)
    return data


@pytest.fixture
def sole(permit_in_review, county_permit_reviewer):
    """麒麟区's permit reviewer is the only one who performs the permit's open step."""
    task = open_task(permit_in_review)
    # Submitted before the reviewer existed: bring the flag in line with the roster as it is now.
    Task.objects.filter(pk=task.pk).update(unroutable_since=None)
    return line_of(county_permit_reviewer)


def test_deleting_the_only_line_covering_an_open_step_is_refused(
    client, province_admin, sole, permit_in_review
):
    client.force_login(province_admin)
    url = reverse("admin:review_reviewerassignment_delete", args=[sole.pk])

    response = client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:review_reviewerassignment_change", args=[sole.pk])
    text = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "1 件待审核任务无人审核" in text
    assert reverse("review:reviewer-deactivate", args=[sole.user_id]) in text
    assert reverse("review:reviewer-tasks", args=[sole.user_id]) in text
    assert ReviewerAssignment.objects.filter(pk=sole.pk).exists()
    assert open_task(permit_in_review).unroutable_since is None
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.DELETE, object_id=str(sole.pk)).exists()
    # The confirmation page is not even offered.
    assert client.get(url).status_code == 302
    # And there is no bulk delete action to go around it.
    changelist = client.get(reverse("admin:review_reviewerassignment_changelist"))
    assert "delete_selected" not in changelist.content.decode()


def test_moving_the_only_line_to_another_stage_is_refused_in_the_form(
    client, province_admin, sole, permit_in_review
):
    client.force_login(province_admin)
    url = reverse("admin:review_reviewerassignment_change", args=[sole.pk])

    response = client.post(url, change_data(sole, stage=Stage.COMPLETION))

    assert response.status_code == 200
    errors = str(response.context["adminform"].form.non_field_errors())
    assert "1 件待审核任务无人审核" in errors
    assert reverse("review:reviewer-deactivate", args=[sole.user_id]) in errors
    sole.refresh_from_db()
    assert sole.stage == Stage.PERMIT
    assert open_task(permit_in_review).unroutable_since is None


def test_with_a_covering_colleague_the_deletion_goes_through(
    client, province_admin, sole, reviewer, permit_in_review
):
    client.force_login(province_admin)

    response = client.post(reverse("admin:review_reviewerassignment_delete", args=[sole.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not ReviewerAssignment.objects.filter(pk=sole.pk).exists()
    assert open_task(permit_in_review).unroutable_since is None  # 曲靖's reviewer performs it
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.DELETE, actor=province_admin, reason="管理后台删除"
    ).exists()


def test_without_open_steps_a_line_changes_freely_and_the_flags_are_recomputed(
    client, province_admin, permit_in_review, completion_reviewer
):
    """permit_in_review was submitted with nobody to review it (flagged); moving 曲靖's completion
    reviewer's line to the permit stage clears the flag at once."""
    assert open_task(permit_in_review).unroutable_since is not None
    line = line_of(completion_reviewer)
    client.force_login(province_admin)

    response = client.post(
        reverse("admin:review_reviewerassignment_change", args=[line.pk]),
        change_data(line, stage=Stage.PERMIT),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    line.refresh_from_db()
    assert line.stage == Stage.PERMIT
    assert open_task(permit_in_review).unroutable_since is None

    # And deleting it again (nobody else performs the step now) is refused.
    refused = client.post(reverse("admin:review_reviewerassignment_delete", args=[line.pk]), {"post": "yes"})
    assert refused.status_code == 302
    assert ReviewerAssignment.objects.filter(pk=line.pk).exists()


def test_deleting_a_line_of_a_reviewer_with_no_open_steps_goes_through(client, province_admin, world):
    idle = f.make_reviewer("ida_idle", "530302", Stage.PERMIT, org=world["bureau_qlq"])
    line = line_of(idle)
    client.force_login(province_admin)

    response = client.post(reverse("admin:review_reviewerassignment_delete", args=[line.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not ReviewerAssignment.objects.filter(pk=line.pk).exists()
