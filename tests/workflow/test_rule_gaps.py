"""Rules that plausible bugs once slipped past (issue 20): each test here fails if its rule is lost.

- the enterer is an *enterprise* user of the owning organization, not anyone of that organization;
- the registry's `enterers` (projects.workflow.KINDS) decide who may enter a kind of record;
- deciding a record that is no longer in review is a conflict (409), not a refusal (403);
- a permit takes only approved drawing reviews, on a draft save and in the submit rule, each alone.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from projects import rules, workflow
from projects import services as ps
from projects.codes import Scope
from projects.models import ConstructionPermit, DrawingReviewAdditionRequest, State
from review import services as rs
from tests import factories as f
from yunjian.core.models import AuditEntry, Division, Organization, Role

K = Organization.Kind


@pytest.fixture
def clerk_without_role(world):
    """Nora works for the general contractor but holds no enterprise (填报) role."""
    return f.make_user("nora_no_role", world["builder"])


@pytest.fixture
def builder_reviewer(world):
    """Roy belongs to the general contractor's organization too, with the reviewer role only."""
    return f.make_user("roy_builder_reviewer", world["builder"], Role.REVIEWER)


@pytest.fixture
def draft_permit(approved_review, contractor, world):
    return ps.permit_save(
        actor=contractor,
        drawing_review_ids=[approved_review.pk],
        data=f.permit_data(world["bureau_qlq"]),
        submit=False,
    )


def with_enterers(monkeypatch, kind: str, *enterers: str) -> None:
    spec = workflow.KINDS[kind]
    monkeypatch.setitem(workflow.KINDS, kind, dataclasses.replace(spec, enterers=enterers))


def addition_data(world, censor_num: str) -> dict:
    return {
        "prj_num": f.prj_num("530302"),
        "project_name": "历史项目",
        "county": Division.objects.get(pk="530302"),
        "owner_name": "某建设单位",
        "censor_num": censor_num,
        "censor_org": world["institution"],
        "censor_date": date(2019, 1, 1),
        "reason": "原系统未迁移",
        "contact_name": "李",
        "contact_phone": "13800138000",
    }


# --- the enterer is an enterprise user ------------------------------------------------------------


@pytest.mark.parametrize("persona", ["clerk_without_role", "builder_reviewer"])
def test_a_member_of_the_owning_organization_without_the_enterprise_role_cannot_submit_or_edit(
    request, persona, draft_permit, approved_review, world
):
    user = request.getfixturevalue(persona)
    assert user.organization_id == draft_permit.owner_org_id

    assert not workflow.is_enterer(user, draft_permit)
    assert not workflow.can_submit(user, draft_permit)
    assert not ps.can_edit(user, draft_permit)
    with pytest.raises(PermissionDenied, match="只有录入单位的填报人员可以提交"):
        ps.record_submit(actor=user, kind="permit", record_id=draft_permit.pk)
    with pytest.raises(PermissionDenied, match="只有录入单位可以修改"):
        ps.permit_save(
            actor=user,
            permit_id=draft_permit.pk,
            drawing_review_ids=[approved_review.pk],
            data={"project_manager": "改过的经理"},
            submit=False,
        )
    permit = ConstructionPermit.objects.get(pk=draft_permit.pk)
    assert (permit.state, permit.project_manager) == (State.DRAFT, draft_permit.project_manager)


def test_the_enterprise_user_of_the_owning_organization_is_the_enterer(contractor, draft_permit):
    assert workflow.is_enterer(contractor, draft_permit)
    assert (
        ps.record_submit(actor=contractor, kind="permit", record_id=draft_permit.pk).state == State.IN_REVIEW
    )


# --- the registry's enterers decide who may enter ---------------------------------------------------


def test_adding_a_kind_to_the_enterers_lets_that_kind_file_an_addition_request(
    monkeypatch, world, designer, supervisor
):
    with pytest.raises(PermissionDenied, match="图审信息新增申请由设计单位录入"):
        ps.addition_request_save(actor=supervisor, data=addition_data(world, "X-SUP-1"))
    assert not DrawingReviewAdditionRequest.objects.exists()

    with_enterers(monkeypatch, "addition_request", K.DESIGN, K.SUPERVISION)
    request = ps.addition_request_save(actor=supervisor, data=addition_data(world, "X-SUP-1"))
    assert request.owner_org_id == supervisor.organization_id


def test_removing_a_kind_from_the_enterers_refuses_it(monkeypatch, world, designer):
    with_enterers(monkeypatch, "addition_request", K.SUPERVISION)
    with pytest.raises(PermissionDenied, match="图审信息新增申请由监理单位录入"):
        ps.addition_request_save(actor=designer, data=addition_data(world, "X-DES-1"))
    assert not DrawingReviewAdditionRequest.objects.exists()


def test_the_enterers_decide_the_tender_scopes_too(monkeypatch, synced_project, designer):
    """A unit enters the tender of the scope it won, if its kind is among the tender's enterers."""
    ps.tender_contract_save(actor=designer, project_id=synced_project.pk, data=f.tender_data(Scope.DESIGN))
    with_enterers(monkeypatch, "tender_contract", K.SURVEY, K.GENERAL_CONTRACTOR)
    with pytest.raises(PermissionDenied, match="“设计”招投标及合同信息应由设计单位录入"):
        ps.tender_contract_save(
            actor=designer, project_id=synced_project.pk, data=f.tender_data(Scope.DESIGN)
        )


def test_entry_refusal_names_the_kind_the_project_needs_or_every_enterer(contractor, specialist, designer):
    assert rules.entry_refusal(contractor, "permit", K.GENERAL_CONTRACTOR) == ""
    assert (
        rules.entry_refusal(specialist, "permit", K.GENERAL_CONTRACTOR)
        == "施工许可信息由施工总承包单位录入。"
    )
    assert rules.entry_refusal(designer, "permit") == "施工许可信息由施工总承包单位或专业承包单位录入。"
    # A kind the registry does not list for the record decides nothing: every enterer is named.
    assert (
        rules.entry_refusal(designer, "permit", K.DESIGN)
        == "施工许可信息由施工总承包单位或专业承包单位录入。"
    )
    assert rules.entry_refusal(specialist, "permit", K.DESIGN) == ""


# --- where a record stands in its chain (the record page's "step 2 of 2") -------------------------


def test_the_position_in_the_chain_from_draft_to_approved(builder, institution_staff, division_staff):
    record, _ = builder.build("drawing_review", State.DRAFT)
    assert (record.step, workflow.step_position(record)) == ("", 0)
    record, _ = builder.build("drawing_review", State.IN_REVIEW)
    assert (record.step, workflow.step_position(record)) == ("institution_confirm", 0)
    record = f.approve(record, institution_staff)
    assert (record.step, workflow.step_position(record)) == ("division_verify", 1)
    record = f.approve(record, division_staff)
    assert (record.state, workflow.step_position(record)) == (State.APPROVED, 2)


# --- who performs a step: an active user who holds the role --------------------------------------


@pytest.mark.parametrize("change", ["made_inactive", "role_revoked"])
def test_a_reviewer_made_inactive_or_stripped_of_the_role_decides_nothing(
    builder, county_permit_reviewer, change
):
    from review import jurisdiction, selectors

    record, _ = builder.build("permit", State.IN_REVIEW)
    user = county_permit_reviewer
    assert jurisdiction.can_decide(user, record)
    if change == "made_inactive":
        user.is_active = False
    else:  # the roster line stays until the next import; the role is what counts
        user.roles = user.encode_roles([])
    user.save()

    assert not jurisdiction.can_decide(user, record)
    assert not selectors.inbox_for(user, jurisdiction.assignments_of(user)).exists()
    with pytest.raises(PermissionDenied, match="不是该记录当前审核环节的审核人员"):
        rs.record_decide(
            actor=user, kind="permit", record_id=record.pk, approve=True, lock_version=record.lock_version
        )
    assert ConstructionPermit.objects.get(pk=record.pk).state == State.IN_REVIEW


# --- a decision on a record no longer in review ---------------------------------------------------


@pytest.mark.parametrize("state", [State.APPROVED, State.RETURNED, State.DRAFT])
def test_deciding_a_record_no_longer_in_review_is_a_conflict(builder, county_permit_reviewer, state):
    record, _ = builder.build("permit", state)
    before = AuditEntry.objects.count()
    for approve in (True, False):
        with pytest.raises(rs.Conflict) as caught:
            rs.record_decide(
                actor=county_permit_reviewer,
                kind="permit",
                record_id=record.pk,
                approve=approve,
                lock_version=record.lock_version,
                reason="迟到的退回",
            )
        assert caught.value.message == rs.Conflict().message
    assert ConstructionPermit.objects.get(pk=record.pk).state == state
    assert AuditEntry.objects.count() == before
    [result] = rs.bulk_approve(actor=county_permit_reviewer, kind="permit", items=[(record.pk, None)])
    assert (result.ok, result.message) == (False, rs.Conflict().message)


def test_the_decision_page_answers_409_for_a_record_approved_meanwhile(
    client, builder, county_permit_reviewer
):
    record, _ = builder.build("permit", State.APPROVED)
    client.force_login(county_permit_reviewer)
    response = client.post(
        reverse("review:record", args=["permit", record.pk]),
        {"decision": "approve", "lock_version": record.lock_version},
    )
    assert response.status_code == 409
    assert rs.Conflict().message in response.content.decode()


# --- a permit takes only approved drawing reviews ---------------------------------------------------


@pytest.fixture
def review_in_review(project, world, designer):
    return f.complete_and_submit_review(
        f.register_review(project, world["design"], world["institution"]), designer
    )


def test_a_draft_permit_cannot_be_saved_on_a_review_still_in_review(world, contractor, review_in_review):
    with pytest.raises(ValidationError) as caught:
        ps.permit_save(
            actor=contractor,
            drawing_review_ids=[review_in_review.pk],
            data=f.permit_data(world["bureau_qlq"]),
            submit=False,
        )
    assert caught.value.message_dict == {"drawing_reviews": ["只能选择已审核认定的施工图审查信息。"]}
    assert not ConstructionPermit.objects.exists()


def test_a_draft_permit_cannot_add_a_review_still_in_review(
    world, contractor, draft_permit, approved_review, review_in_review
):
    with pytest.raises(ValidationError, match="只能选择已审核认定"):
        ps.permit_save(
            actor=contractor,
            permit_id=draft_permit.pk,
            drawing_review_ids=[approved_review.pk, review_in_review.pk],
            data={},
            submit=False,
        )
    assert list(draft_permit.drawing_reviews.all()) == [approved_review]


def test_the_submit_rule_alone_refuses_a_permit_on_a_review_not_approved(
    draft_permit, review_in_review, contractor
):
    """The submit rule on its own, whatever the entry service let through (data from elsewhere)."""
    rules.check_ready_to_submit(draft_permit)  # complete and on an approved review: nothing to say
    draft_permit.drawing_reviews.add(review_in_review)
    with pytest.raises(ValidationError) as caught:
        rules.check_ready_to_submit(draft_permit)
    assert caught.value.message_dict == {
        "drawing_reviews": ["所选施工图审查信息须均已审核认定，且属于同一项目。"]
    }
    with pytest.raises(ValidationError, match="须均已审核认定"):
        ps.record_submit(actor=contractor, kind="permit", record_id=draft_permit.pk)
    assert ConstructionPermit.objects.get(pk=draft_permit.pk).state == State.DRAFT


def test_the_submit_rule_alone_refuses_a_permit_without_reviews(draft_permit):
    draft_permit.drawing_reviews.clear()
    with pytest.raises(ValidationError) as caught:
        rules.check_ready_to_submit(draft_permit)
    assert caught.value.message_dict == {"drawing_reviews": ["请至少选择一条已审核认定的施工图审查信息。"]}


# --- the registry's lookups -----------------------------------------------------------------------


def test_the_registry_answers_for_a_record_or_its_key():
    assert workflow.kind_of("permit") is workflow.KINDS["permit"]
    assert workflow.kind_of(ConstructionPermit()) is workflow.KINDS["permit"]
    assert workflow.model_for("permit") is ConstructionPermit
    assert workflow.model_for("no_such_kind") is None
    assert workflow.reasons_for("permit") == workflow.KINDS["permit"].reasons
    assert "施工许可证编号与原件不一致" in workflow.reasons_for("permit")
    assert workflow.reasons_for("no_such_kind") == workflow.GENERAL_REASONS


def test_steps_are_found_by_key_and_a_lost_step_is_named(builder):
    record, _ = builder.build("drawing_review", State.IN_REVIEW)
    assert workflow.step_of(record).key == "institution_confirm"
    assert workflow.step_of(record, "division_verify").label == "省厅勘察设计处复核"
    assert workflow.step_of(record, "no_such_step") is None
    record.step = "no_such_step"
    with pytest.raises(LookupError, match="drawing_review:pms: no step 'no_such_step'"):
        workflow.current_step(record)


def test_the_next_step_in_a_longer_chain(monkeypatch, builder):
    """A step inserted into a chain (workflow's docstring): each step hands on to the one after it."""
    record, _ = builder.build("drawing_review", State.IN_REVIEW)
    steps = (
        workflow.Step("institution_confirm", workflow.Performer.INSTITUTION, "审图机构确认"),
        workflow.Step("extra_check", workflow.Performer.DESIGN_DIVISION, "插入的环节"),
        workflow.Step("division_verify", workflow.Performer.DESIGN_DIVISION, "省厅勘察设计处复核"),
    )
    monkeypatch.setitem(workflow.CHAINS, "drawing_review:pms", steps)
    assert workflow.next_step_key(record) == "extra_check"
    record.step = "extra_check"
    assert workflow.next_step_key(record) == "division_verify"
    record.step = "division_verify"
    assert workflow.next_step_key(record) == ""


# --- who may see a record: its parties and its reviewers, past and present -------------------------


def test_a_reviewer_who_decided_a_record_keeps_seeing_it_and_only_it(builder, county_permit_reviewer, world):
    from django.contrib.auth.models import AnonymousUser
    from django.http import Http404

    from review import access
    from review.models import ReviewerAssignment, Task

    decided, _ = builder.build("permit", State.APPROVED)  # approved by the county permit reviewer
    other, _ = builder.build("permit", State.IN_REVIEW)
    ReviewerAssignment.objects.filter(user=county_permit_reviewer).delete()  # moved off the roster
    user = county_permit_reviewer

    assert access.get_record_for_user(user, "permit", decided.pk) == decided
    with pytest.raises(Http404):
        access.get_record_for_user(user, "permit", other.pk)
    # A decided step of another kind of record with the same number shows nothing of this one.
    lookalike, _ = builder.build("drawing_review", State.IN_REVIEW)
    Task.objects.filter(kind="permit", record_id=decided.pk).update(record_id=lookalike.pk)
    Task.objects.filter(kind="drawing_review", record_id=lookalike.pk).update(decided_by=None)
    assert not access.can_view_record(user, lookalike)
    Task.objects.filter(kind="permit", record_id=lookalike.pk).update(record_id=decided.pk)

    user.is_active = False
    user.save()
    assert not access.can_view_record(user, decided)
    assert not access.can_view_record(AnonymousUser(), decided)


def test_a_member_of_the_owning_organization_with_another_role_does_not_see_the_record(
    builder, builder_reviewer
):
    from review import access

    record, _ = builder.build("permit", State.IN_REVIEW)
    assert not access.can_view_record(builder_reviewer, record)
