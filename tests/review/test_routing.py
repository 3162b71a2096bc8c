"""Nothing stalls unseen (issue 16 §2): 无人审核 flagged on submission and cleared when the roster covers
the step, the liaison and the province told (a real SMTP server); reassignment moves a step between
inboxes; deactivating a reviewer never strands a step; the enterer withdraws before any decision; the
campaign's deadline reminders. Each page three ways: allowed, wrong role, outsider."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notices.models import Delivery, Kind, Message, Preference
from notices.services import deadline_reminders
from projects.models import Round, State
from projects.stages import Stage
from review import routing
from review import services as rs
from review.models import ReviewerAssignment, Task
from review.selectors import inbox_for
from tests import factories as f
from tests.conftest import Client
from tests.jobs import clear_queue, run_jobs
from tests.notices.conftest import smtp  # noqa: F401
from tests.review.conftest import submit_permit
from tests.review.test_roster_apply import PERMIT, QILIN, QUJING, apply, person
from tests.review.test_roster_parse import ID_C
from yunjian.core.models import AuditEntry, Campaign, Role, User

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _empty_queue():
    clear_queue()


@pytest.fixture
def liaison(world):
    """曲靖's liaison (州（市）联络员), with an email address."""
    user = f.make_reviewer("liz_liaison", "530300", Stage.LIAISON)
    user.email = "liz@qujing.example.cn"
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def honghe_liaison(world):
    return f.make_reviewer("hal_liaison", "532500", Stage.LIAISON, org=world["bureau_hh"])


@pytest.fixture
def admin(province_admin):
    province_admin.email = "pat@province.example.cn"
    province_admin.save(update_fields=["email"])
    return province_admin


def open_task(record) -> Task:
    return Task.objects.get(kind=record.KIND, record_id=record.pk, status=Task.Status.OPEN)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- 无人审核 ---------------------------------------------------------------------------------------


def test_a_permit_nobody_reviews_is_flagged_on_submission_and_the_liaison_and_province_are_emailed(
    permit_in_review,
    liaison,
    honghe_liaison,
    admin,
    smtp,  # noqa: F811
):
    # permit_in_review was submitted before anyone of 曲靖 holds the permit stage: nobody performs it.
    task = open_task(permit_in_review)
    assert task.unroutable_since is not None
    # The fixtures above were made after the submission: flag it again as a submission would now.
    Task.objects.filter(pk=task.pk).update(unroutable_since=None)
    clear_queue()

    assert routing.refresh(Task.objects.filter(pk=task.pk)) == [task.pk]

    told = dict(Message.objects.filter(kind=Kind.UNROUTABLE).values_list("recipient__username", "subject"))
    assert told == {
        "liz_liaison": "无人审核：施工许可信息（麒麟区测试项目）",
        "pat_admin": "无人审核：施工许可信息（麒麟区测试项目）",
    }  # not 红河's liaison
    run_jobs("notices")
    assert sorted(m["X-Envelope-To"] for m in smtp.messages) == [
        "liz@qujing.example.cn",
        "pat@province.example.cn",
    ]
    assert "无人审核" in smtp.messages[0]["Subject"]
    assert "/review/stalled/" in smtp.messages[0].get_content()


def test_submission_flags_in_its_own_transaction_and_tells_at_once(
    approved_review, contractor, world, liaison
):
    permit = submit_permit(contractor, approved_review, world["bureau_qlq"])

    assert open_task(permit).unroutable_since is not None
    assert Message.objects.filter(recipient=liaison, kind=Kind.UNROUTABLE).count() == 1


def test_a_covered_submission_is_not_flagged(
    approved_review, contractor, world, county_permit_reviewer, liaison
):
    permit = submit_permit(contractor, approved_review, world["bureau_qlq"])

    assert open_task(permit).unroutable_since is None
    assert not Message.objects.filter(kind=Kind.UNROUTABLE).exists()


def test_a_roster_import_of_pending_accounts_keeps_the_flag_and_activation_clears_it(
    approved_review, contractor, world, admin
):
    permit = submit_permit(contractor, approved_review, world["bureau_qlq"])
    assert open_task(permit).unroutable_since is not None

    apply(
        [
            person(QUJING, "张三", "州（市）联络员", "13800138000"),
            person(QILIN, "周九", PERMIT, "0874-3123458", id_number=ID_C),
        ]
    )

    # The new account is not activated yet: still nobody to perform the step.
    assert open_task(permit).unroutable_since is not None
    from review.roster.activation import activation_path

    zhou = User.objects.get(full_name="周九")
    person_client = Client()
    page = person_client.get(activation_path(zhou), follow=True)
    form_url = page.redirect_chain[-1][0]
    person_client.post(form_url, {"new_password1": "Yunnan#Review2026", "new_password2": "Yunnan#Review2026"})

    assert open_task(permit).unroutable_since is None


def test_a_roster_import_that_removes_the_only_reviewer_flags_the_step(
    approved_review, contractor, world, admin
):
    apply([person(QILIN, "周九", PERMIT, "0874-3123458", id_number=ID_C)])
    zhou = User.objects.get(full_name="周九")
    zhou.set_password("Yunnan#Review2026")
    zhou.save()
    permit = submit_permit(contractor, approved_review, world["bureau_qlq"])
    assert open_task(permit).unroutable_since is None

    apply(
        [person(QUJING, "张三", "州（市）联络员", "13800138000")]
    )  # 曲靖's new roster names no permit reviewer

    assert open_task(permit).unroutable_since is not None
    assert Message.objects.filter(recipient__full_name="张三", kind=Kind.UNROUTABLE).exists()


# --- the list of stalled records ---------------------------------------------------------------------


def test_the_stalled_list_three_ways(
    permit_in_review, honghe_permit, liaison, honghe_liaison, admin, reviewer, outsider
):
    flagged = {t.record_id for t in Task.objects.filter(unroutable_since__isnull=False)}
    assert permit_in_review.pk in flagged
    url = reverse("review:stalled")

    province = client_for(admin).get(url)
    assert {line["task"].record_id for line in province.context["lines"]} == flagged
    assert "无人审核" in province.content.decode()
    mine = client_for(liaison).get(url)
    assert [line["task"].record_id for line in mine.context["lines"]] == [permit_in_review.pk]
    assert client_for(reviewer).get(url).status_code == 403  # a reviewer, not a liaison
    assert client_for(outsider).get(url).status_code == 403
    overdue = client_for(liaison).get(url, {"show": "overdue"})
    assert overdue.status_code == 200
    assert overdue.context["lines"] == []


def test_the_stalled_list_asks_the_same_queries_for_one_row_or_many(
    approved_review, contractor, world, designer, institution_staff, division_staff, admin
):
    from tests.review.conftest import approved_review_in

    submit_permit(contractor, approved_review, world["bureau_qlq"])
    client = client_for(admin)
    client.get(reverse("review:stalled"))  # the session's first page asks a few queries once
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("review:stalled"))
    for name in ("第二个项目", "第三个项目"):
        review = approved_review_in("530302", world, designer, institution_staff, division_staff, name=name)
        submit_permit(contractor, review, world["bureau_qlq"])
    with CaptureQueriesContext(connection) as three:
        page = client.get(reverse("review:stalled"))
    assert len(page.context["lines"]) == 3
    assert len(three) == len(one), "\n".join(q["sql"][:200] for q in three)


# --- reassignment ------------------------------------------------------------------------------------


def test_a_liaison_reassigns_a_reviewers_open_steps_and_the_step_moves_between_inboxes(
    permit_in_review, reviewer, county_permit_reviewer, liaison
):
    task = open_task(permit_in_review)
    assert task in inbox_for(reviewer)
    assert task in inbox_for(county_permit_reviewer)

    response = client_for(liaison).post(
        reverse("review:reviewer-tasks", args=[reviewer.pk]), {"to_user": county_permit_reviewer.pk}
    )

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assignee == county_permit_reviewer
    assert task not in inbox_for(reviewer)
    assert task in inbox_for(county_permit_reviewer)
    with pytest.raises(PermissionDenied):
        rs.record_decide(
            actor=reviewer, kind="permit", record_id=permit_in_review.pk, approve=True, lock_version=None
        )
    rs.record_decide(
        actor=county_permit_reviewer,
        kind="permit",
        record_id=permit_in_review.pk,
        approve=True,
        lock_version=None,
    )
    entry = AuditEntry.objects.get(action=AuditEntry.Action.REASSIGN)
    assert (entry.actor, entry.data["to"], entry.data["tasks"]) == (
        liaison,
        county_permit_reviewer.pk,
        [task.pk],
    )
    assert Message.objects.filter(recipient=county_permit_reviewer, kind=Kind.ASSIGNED).exists()


def test_reassignment_refused_to_a_reviewer_who_does_not_cover_the_step(
    permit_in_review, reviewer, honghe_reviewer, liaison
):
    response = client_for(liaison).post(
        reverse("review:reviewer-tasks", args=[reviewer.pk]), {"to_user": honghe_reviewer.pk}
    )
    assert response.status_code == 400  # not among the choices
    with pytest.raises(ValidationError) as refused:
        routing.reassign_tasks(actor=liaison, from_user_id=reviewer.pk, to_user_id=honghe_reviewer.pk)
    assert "不负责" in refused.value.messages[0]
    assert open_task(permit_in_review).assignee is None


def test_reassignment_three_ways(
    permit_in_review, reviewer, county_permit_reviewer, honghe_liaison, contractor, admin
):
    url = reverse("review:reviewer-tasks", args=[reviewer.pk])
    assert client_for(admin).get(url).status_code == 200
    assert client_for(county_permit_reviewer).get(url).status_code == 403  # a reviewer, not a liaison
    assert client_for(honghe_liaison).get(url).status_code == 403  # another prefecture's liaison
    assert client_for(contractor).post(url, {"to_user": county_permit_reviewer.pk}).status_code == 403
    with pytest.raises(PermissionDenied):
        routing.reassign_tasks(
            actor=contractor, from_user_id=reviewer.pk, to_user_id=county_permit_reviewer.pk
        )
    assert open_task(permit_in_review).assignee is None


def test_the_reviewers_task_page_asks_the_same_queries_for_one_row_or_many(
    approved_review, contractor, world, designer, institution_staff, division_staff, reviewer, admin
):
    from tests.review.conftest import approved_review_in

    submit_permit(contractor, approved_review, world["bureau_qlq"])
    client = client_for(admin)
    url = reverse("review:reviewer-tasks", args=[reviewer.pk])
    client.get(url)  # the session's first page asks a few queries once
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for name in ("第二个项目", "第三个项目"):
        review = approved_review_in("530302", world, designer, institution_staff, division_staff, name=name)
        submit_permit(contractor, review, world["bureau_qlq"])
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)
    assert len(page.context["page"].rows) >= 3
    assert len(many) == len(one)


# --- deactivation -------------------------------------------------------------------------------------


def test_deactivating_the_only_reviewer_asks_where_the_steps_go(
    permit_in_review, county_permit_reviewer, completion_reviewer, liaison
):
    url = reverse("review:reviewer-deactivate", args=[county_permit_reviewer.pk])
    client = client_for(liaison)
    page = client.get(url)
    assert page.context["stranded"] == 1

    refused = client.post(url, {"reason": "调离岗位"})
    assert refused.status_code == 400
    assert "无人接手" in refused.content.decode()
    county_permit_reviewer.refresh_from_db()
    assert county_permit_reviewer.is_active

    successor = f.make_reviewer("sue_qilin", "530302", Stage.PERMIT)
    done = client.post(url, {"reason": "调离岗位", "to_user": successor.pk})
    assert done.status_code == 302
    county_permit_reviewer.refresh_from_db()
    assert not county_permit_reviewer.is_active
    task = open_task(permit_in_review)
    assert (task.assignee, task.unroutable_since) == (successor, None)
    assert task in inbox_for(successor)


def test_deactivating_when_others_cover_needs_no_successor(
    permit_in_review, reviewer, county_permit_reviewer, admin
):
    moved = routing.reviewer_deactivate(
        actor=admin, user_id=county_permit_reviewer.pk, to_user_id=None, reason="调离岗位"
    )
    assert moved.moved == []
    assert open_task(permit_in_review).unroutable_since is None  # 曲靖's reviewer still performs it


def test_deactivation_three_ways(
    permit_in_review, reviewer, county_permit_reviewer, honghe_liaison, contractor
):
    url = reverse("review:reviewer-deactivate", args=[county_permit_reviewer.pk])
    assert client_for(reviewer).get(url).status_code == 403
    assert client_for(honghe_liaison).get(url).status_code == 403
    assert client_for(contractor).post(url, {"reason": "x"}).status_code == 403
    county_permit_reviewer.refresh_from_db()
    assert county_permit_reviewer.is_active


# --- withdrawal ----------------------------------------------------------------------------------------


def test_the_enterer_withdraws_before_any_decision_and_the_round_is_kept(
    permit_in_review, contractor, reviewer
):
    client = client_for(contractor)
    page = client.get(reverse("projects:record", args=["permit", permit_in_review.pk]))
    assert 'id="withdraw-button"' in page.content.decode()

    response = client.post(
        reverse("review:record-withdraw", args=["permit", permit_in_review.pk]), {"confirm": "yes"}
    )

    assert response.status_code == 302
    permit_in_review.refresh_from_db()
    assert (permit_in_review.state, permit_in_review.revision) == (State.DRAFT, 1)
    task = Task.objects.get(kind="permit", record_id=permit_in_review.pk)
    assert (task.status, task.outcome) == (Task.Status.CANCELLED, Task.Outcome.WITHDRAWN)
    assert task not in inbox_for(reviewer)
    assert Round.objects.filter(kind="permit", record_id=permit_in_review.pk, revision=1).exists()
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.WITHDRAW, object_id=str(permit_in_review.pk)
    ).exists()
    from projects import services as ps

    again = ps.record_submit(actor=contractor, kind="permit", record_id=permit_in_review.pk)
    assert (again.state, again.revision) == (State.IN_REVIEW, 2)


def test_withdrawal_without_confirmation_shows_the_confirmation_page(permit_in_review, contractor):
    response = client_for(contractor).post(
        reverse("review:record-withdraw", args=["permit", permit_in_review.pk])
    )
    assert response.status_code == 200
    assert "确认撤回" in response.content.decode()
    permit_in_review.refresh_from_db()
    assert permit_in_review.state == State.IN_REVIEW


def test_withdrawal_refused_once_a_step_of_the_round_is_decided(
    review_at_institution, designer, institution_staff
):
    f.approve(review_at_institution, institution_staff)  # the institution confirmed: one step decided

    with pytest.raises(rs.Conflict) as refused:
        rs.record_withdraw(actor=designer, kind="drawing_review", record_id=review_at_institution.pk)
    assert "不能撤回" in refused.value.message
    response = client_for(designer).post(
        reverse("review:record-withdraw", args=["drawing_review", review_at_institution.pk]),
        {"confirm": "yes"},
        follow=True,
    )
    assert "不能撤回" in response.content.decode()
    review_at_institution.refresh_from_db()
    assert review_at_institution.state == State.IN_REVIEW


def test_withdrawal_three_ways(permit_in_review, reviewer, outsider, contractor):
    url = reverse("review:record-withdraw", args=["permit", permit_in_review.pk])
    with pytest.raises(PermissionDenied):
        rs.record_withdraw(actor=reviewer, kind="permit", record_id=permit_in_review.pk)
    assert client_for(reviewer).post(url, {"confirm": "yes"}).status_code == 404  # not its organisation
    assert client_for(outsider).post(url, {"confirm": "yes"}).status_code == 404
    permit_in_review.refresh_from_db()
    assert permit_in_review.state == State.IN_REVIEW


# --- deadline reminders ----------------------------------------------------------------------------------


def test_deadline_reminders_tell_enterers_of_unsubmitted_records_and_liaisons_of_overdue_steps(
    project,
    world,
    designer,
    contractor,
    permit_in_review,
    liaison,
    smtp,  # noqa: F811
):
    draft = f.register_review(project, world["design"], world["institution"])
    assert draft.state == State.DRAFT
    Task.objects.filter(pk=open_task(permit_in_review).pk).update(due_at=timezone.now() - timedelta(days=1))
    Preference.objects.create(user=liaison, kind=Kind.DEADLINE, email=False)
    Campaign.objects.create(name="历史业绩补录专项治理", deadline=timezone.localdate() + timedelta(days=3))
    designer.email = "alice@design.example.cn"
    designer.save(update_fields=["email"])
    clear_queue()

    assert deadline_reminders() == 2

    to_designer = Message.objects.get(recipient=designer, kind=Kind.DEADLINE)
    assert "还有 3 天截止" in to_designer.subject
    assert "草稿 1 条" in to_designer.body
    to_liaison = Message.objects.get(recipient=liaison, kind=Kind.DEADLINE)
    assert "1 件审核任务已超期" in to_liaison.subject
    assert not Delivery.objects.filter(message=to_liaison).exists()  # email off for this kind
    run_jobs("notices")
    assert [m["X-Envelope-To"] for m in smtp.messages] == ["alice@design.example.cn"]


def test_no_reminders_outside_the_campaigns_last_days(project, world, designer):
    f.register_review(project, world["design"], world["institution"])
    Campaign.objects.create(
        name="专项治理", deadline=timezone.localdate() + timedelta(days=30), remind_days=14
    )
    assert deadline_reminders() == 0
    assert not Message.objects.filter(kind=Kind.DEADLINE).exists()


def test_reviewer_assignment_of_a_liaison_is_no_cover(approved_review, contractor, world, liaison):
    assert ReviewerAssignment.objects.filter(user=liaison, stage=Stage.LIAISON).exists()
    permit = submit_permit(contractor, approved_review, world["bureau_qlq"])
    assert open_task(permit).unroutable_since is not None
    assert Role.REVIEWER in liaison.role_list
