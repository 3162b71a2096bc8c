"""更正 (issue 18): the enterer corrects an approved record; the correction is reviewed by the record's own
chain as a new round, the approved version staying in force until it is approved; once approved the
record takes the new values as its next version (the data level from who approved it), the platform's
next version is queued in the same transaction, and the history keeps both versions. Nobody but the
enterer asks, nobody but the step's reviewers decide, and bad input changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from projects import corrections
from projects import services as ps
from projects.models import ConstructionPermit, Correction, DataLevel, State
from projects.services import Conflict
from review import corrections as rc
from review.models import Task
from sync.models import Outbox
from tests import factories as f
from yunjian.core.models import AuditEntry

pytestmark = pytest.mark.django_db

REASON = "合同金额录入有误，以合同原件第3页为准"


@pytest.fixture
def permit_c(project, approved_review, contractor, world, county_permit_reviewer):
    """A permit approved by 麒麟区 (a county): level C, version 1, its outbox rows queued."""
    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
    )
    permit = f.approve(permit, county_permit_reviewer)
    assert (permit.state, permit.data_level, permit.version) == (State.APPROVED, DataLevel.C, 1)
    return permit


def ask(actor, record, changes=None, reason=REASON, submit=True, **kwargs):
    return corrections.correction_save(
        actor=actor,
        kind=record.KIND,
        record_id=record.pk,
        changes={"contract_amount": "1234.5"} if changes is None else changes,
        reason=reason,
        submit=submit,
        **kwargs,
    )


def decide(correction, actor, approve=True, reason=""):
    return rc.correction_decide(
        actor=actor, correction_id=correction.pk, approve=approve, lock_version=None, reason=reason
    )


def reload(record):
    return type(record).objects.get(pk=record.pk)


def permit_rows(permit):
    return list(
        Outbox.objects.filter(record_key=f"permit:{permit.pk}")
        .order_by("version")
        .values_list("version", "payload__ContractMoney", "payload__DataLevel")
    )


def test_a_correction_approved_becomes_version_2_and_the_platform_gets_it(
    permit_c, contractor, county_permit_reviewer
):
    correction = ask(contractor, permit_c)
    assert (correction.status, correction.version, correction.step) == ("in_review", 2, "issuing_review")
    task = Task.objects.get(kind="permit", record_id=permit_c.pk, status="open")
    assert (task.correction_id, task.step, task.division_code) == (correction.pk, "issuing_review", "530302")
    # The approved version stays in force while the correction is in review.
    assert (reload(permit_c).contract_amount, reload(permit_c).version) == (Decimal("1000"), 1)
    before_rows = permit_rows(permit_c)

    decide(correction, county_permit_reviewer)

    permit = reload(permit_c)
    assert (permit.contract_amount, permit.version, permit.data_level, permit.state) == (
        Decimal("1234.5"),
        2,
        DataLevel.C,
        State.APPROVED,
    )
    correction = Correction.objects.get(pk=correction.pk)
    assert (correction.status, correction.decided_by, correction.data_level) == (
        "approved",
        county_permit_reviewer,
        "C",
    )
    assert correction.before == {"contract_amount": "1000"}  # version 1 kept
    task.refresh_from_db()
    assert (task.status, task.outcome) == ("done", "approved")
    # Same record key, the next version, carrying the corrected amount.
    assert permit_rows(permit) == [*before_rows, (2, "1234.5", "C")]
    entry = AuditEntry.objects.filter(object_type="permit", object_id=str(permit.pk)).latest("id")
    assert (entry.data["correction"], entry.data["version"]) == (correction.pk, 2)
    assert "更正生效" in entry.reason
    history = corrections.history(permit)
    assert [(r["c"].version, r["diff"][0]["old"], r["diff"][0]["new"]) for r in history] == [
        (2, "1000", "1234.5")
    ]


def test_the_data_level_follows_who_approved_the_correction(permit_c, contractor, reviewer):
    """The prefecture's reviewer approves the correction of a county-approved record: B (§2.11)."""
    decide(ask(contractor, permit_c), reviewer)
    assert reload(permit_c).data_level == DataLevel.B


def test_a_returned_correction_leaves_version_1_in_force_and_is_resubmitted(
    permit_c, contractor, county_permit_reviewer
):
    outbox_before = Outbox.objects.count()
    correction = ask(contractor, permit_c)
    decide(correction, county_permit_reviewer, approve=False, reason="请附合同原件扫描件")
    correction = Correction.objects.get(pk=correction.pk)
    assert (correction.status, correction.return_reason) == ("returned", "请附合同原件扫描件")
    permit = reload(permit_c)
    assert (permit.contract_amount, permit.version) == (Decimal("1000"), 1)
    assert Outbox.objects.count() == outbox_before  # nothing sent
    assert not Task.objects.filter(kind="permit", record_id=permit.pk, status="open").exists()
    # The enterer edits it and submits again: the same correction, a second round.
    again = ask(
        contractor, permit_c, changes={"contract_amount": "1200"}, lock_version=correction.lock_version
    )
    assert (again.pk, again.status, again.revision, again.changes) == (
        correction.pk,
        "in_review",
        2,
        {"contract_amount": "1200"},
    )
    assert Task.objects.filter(
        kind="permit", record_id=permit.pk, status="open", correction_id=again.pk
    ).exists()


def test_a_draft_is_kept_then_withdrawn_and_nothing_changes(permit_c, contractor):
    draft = ask(contractor, permit_c, submit=False)
    assert draft.status == "draft"
    assert not Task.objects.filter(kind="permit", record_id=permit_c.pk, status="open").exists()
    corrections.correction_withdraw(actor=contractor, correction_id=draft.pk)
    assert Correction.objects.get(pk=draft.pk).status == "withdrawn"
    assert reload(permit_c).contract_amount == Decimal("1000")
    assert ask(contractor, permit_c).version == 2  # a new one may be asked afterwards


def test_one_open_correction_per_record(permit_c, contractor):
    ask(contractor, permit_c)
    with pytest.raises(Conflict, match="正在审核中"):
        ask(contractor, permit_c, changes={"contract_amount": "999"})
    assert Correction.objects.filter(record_id=permit_c.pk).count() == 1


@pytest.mark.parametrize(
    ("changes", "reason", "message"),
    [
        ({"contract_amount": "1000"}, REASON, "没有需要更正的字段"),
        ({}, REASON, "没有需要更正的字段"),
        ({"contract_amount": "1234.5"}, "  ", "请填写更正事项及原因"),
        ({"state": "draft"}, REASON, "不能更正的字段"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_changes_nothing(permit_c, contractor, changes, reason, message):
    with pytest.raises(ValidationError) as exc:
        ask(contractor, permit_c, changes=changes, reason=reason)
    assert message in " ".join(exc.value.messages)
    assert not Correction.objects.exists()


def test_form_values_equal_to_the_approved_ones_are_no_change(permit_c):
    assert corrections.changes_from_form(permit_c, {"contract_amount": Decimal("1000.0000")}) == {}
    assert corrections.changes_from_form(permit_c, {"contract_amount": Decimal("1001")}) == {
        "contract_amount": "1001"
    }


def test_only_the_enterer_asks(permit_c, other_contractor, reviewer, designer, outsider):
    for actor in (other_contractor, reviewer, designer, outsider):
        with pytest.raises(PermissionDenied):
            ask(actor, permit_c)
    assert not Correction.objects.exists()


def test_only_an_approved_record_is_corrected(project, approved_review, contractor, world):
    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
    )
    with pytest.raises(Conflict, match="只有已审核认定"):
        ask(contractor, permit)


def test_only_the_steps_reviewers_decide(permit_c, contractor, world, completion_reviewer, other_contractor):
    correction = ask(contractor, permit_c)
    hh_reviewer = f.make_reviewer("hana_honghe", "532500", "permit")
    for actor in (hh_reviewer, completion_reviewer, contractor, other_contractor):
        with pytest.raises(PermissionDenied):
            decide(correction, actor)
    assert Correction.objects.get(pk=correction.pk).status == "in_review"
    assert reload(permit_c).version == 1


def test_a_return_needs_a_reason(permit_c, contractor, county_permit_reviewer):
    correction = ask(contractor, permit_c)
    with pytest.raises(ValidationError, match="退回原因"):
        decide(correction, county_permit_reviewer, approve=False)


def test_a_stale_decision_is_a_conflict(permit_c, contractor, county_permit_reviewer):
    correction = ask(contractor, permit_c)
    with pytest.raises(Conflict):
        rc.correction_decide(
            actor=county_permit_reviewer,
            correction_id=correction.pk,
            approve=True,
            lock_version=correction.lock_version - 1,
        )


def test_a_revocation_ends_the_correction_in_review(permit_c, contractor, county_permit_reviewer):
    correction = ask(contractor, permit_c)
    f.revoke(permit_c, county_permit_reviewer)
    assert Correction.objects.get(pk=correction.pk).status == "withdrawn"
    assert Task.objects.get(correction_id=correction.pk).status == "cancelled"
    with pytest.raises(Conflict):
        decide(correction, county_permit_reviewer)
    # The revoked record is resubmitted as a new round of its own (the open-step constraint holds).
    ps.record_submit(actor=contractor, kind="permit", record_id=permit_c.pk)
    assert ConstructionPermit.objects.get(pk=permit_c.pk).state == State.IN_REVIEW


def test_a_two_step_chain_reviews_the_correction_step_by_step(
    approved_review, designer, institution_staff, division_staff
):
    """A drawing review of the PMS path: the institution confirms, then the design division approves (A)."""
    correction = ask(designer, approved_review, changes={"scale": "更正后的建设规模"})
    assert correction.step == "institution_confirm"
    decide(correction, institution_staff)
    correction = Correction.objects.get(pk=correction.pk)
    assert (correction.status, correction.step) == ("in_review", "division_verify")
    assert reload(approved_review).scale != "更正后的建设规模"
    decide(correction, division_staff)
    review = reload(approved_review)
    assert (review.scale, review.version, review.data_level) == ("更正后的建设规模", 2, DataLevel.A)


def test_whoever_asked_is_told_of_a_return_and_of_the_final_approval_only(
    approved_review, designer, institution_staff, division_staff
):
    """The message centre: a return (with its reason, version 1 still in force) and the final approval
    (version 2 in force) reach the enterer who asked; the institution's first step tells nobody."""
    from notices.models import Message

    earlier = Message.objects.order_by("-id").values_list("id", flat=True).first() or 0
    new = Message.objects.filter(id__gt=earlier)
    correction = ask(designer, approved_review, changes={"scale": "更正后的建设规模"})
    decide(correction, institution_staff, approve=False, reason="请附审查合格书")
    returned = new.get(recipient=designer)
    assert "更正被退回" in returned.subject
    assert "第1版仍然有效" in returned.body
    assert "请附审查合格书" in returned.body
    correction = ask(
        designer,
        approved_review,
        changes={"scale": "更正后的建设规模"},
        lock_version=Correction.objects.get(pk=correction.pk).lock_version,
    )
    decide(correction, institution_staff)
    assert new.filter(recipient=designer).count() == 1  # a step on the way: nothing
    decide(correction, division_staff)
    approved = new.filter(recipient=designer).latest("id")
    assert "更正已审核通过" in approved.subject
    assert "第2版现已生效" in approved.body
    assert new.count() == 2
