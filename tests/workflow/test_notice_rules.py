"""The notice's rules (sections 一 and 二), each enforced in a service and proven here."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from projects import services as ps
from projects import workflow
from projects.codes import Scope
from projects.models import DrawingReview, Origin, ProjectParty, Round, State
from projects.stages import Stage
from review import jurisdiction
from review import services as rs
from review.models import Task
from sync.models import Outbox
from tests import factories as f
from yunjian.core.models import Division, Organization

# --- 一(一)1 图审信息 ----------------------------------------------------------------------------


def test_design_unit_cannot_create_a_drawing_review_on_the_pms_path(project, designer):
    with pytest.raises(PermissionDenied, match="不能自行增加图审信息"):
        ps.drawing_review_create(actor=designer, project_id=project.pk, data={"censor_num": "NEW-1"})
    assert not DrawingReview.objects.filter(censor_num="NEW-1").exists()


def test_design_unit_completes_only_a_review_it_owns(project, world, designer, other_designer):
    review = f.register_review(project, world["design"], world["institution"])
    with pytest.raises(PermissionDenied):
        ps.drawing_review_update(actor=other_designer, review_id=review.pk, data=f.review_completion())
    ps.drawing_review_update(actor=designer, review_id=review.pk, data={"one_pass": True, "scale": "五层"})
    review.refresh_from_db()
    assert review.scale == "五层"


def test_ownership_of_a_pre_existing_review_is_the_explicit_grant(project, world, designer):
    """Same organization, but the grant was removed: the design unit can no longer complete it."""
    from guardian.shortcuts import remove_perm

    review = f.register_review(project, world["design"], world["institution"])
    assert designer.has_perm("projects.change_drawingreview", review)
    remove_perm("projects.change_drawingreview", world["design"].group, review)
    designer = type(designer).objects.get(pk=designer.pk)  # drop the permission cache
    with pytest.raises(PermissionDenied):
        ps.drawing_review_update(actor=designer, review_id=review.pk, data=f.review_completion())


def test_drawing_review_goes_institution_then_design_division(
    project, world, designer, institution_staff, division_staff
):
    review = f.complete_and_submit_review(
        f.register_review(project, world["design"], world["institution"]), designer
    )
    assert (review.state, review.step) == (State.IN_REVIEW, "institution_confirm")
    assert workflow.current_step(review).label == "审图机构确认"
    with pytest.raises(PermissionDenied):
        f.approve(review, division_staff)
    review = f.approve(review, institution_staff)
    assert (review.state, review.step) == (State.IN_REVIEW, "division_verify")
    assert workflow.current_step(review).label == "省厅勘察设计处复核"
    review = f.approve(review, division_staff)
    assert review.state == State.APPROVED
    assert (
        Task.objects.filter(kind="drawing_review", record_id=review.pk, status=Task.Status.DONE).count() == 2
    )


def test_addition_request_approval_creates_the_review_owned_by_the_design_unit(
    world, designer, division_staff
):
    request = ps.addition_request_save(
        actor=designer,
        submit=True,
        data={
            "prj_num": "5303021901010099",
            "project_name": "缺图审的历史项目",
            "county": Division.objects.get(pk="530302"),
            "owner_name": "某建设单位",
            "censor_num": "5303021901010099-TX-001",
            "censor_org": world["institution"],
            "censor_date": date(2019, 1, 10),
            "reason": "历史原因系统中无图审信息",
            "contact_name": "李",
            "contact_phone": "13800138000",
        },
    )
    assert not DrawingReview.objects.filter(censor_num="5303021901010099-TX-001").exists()
    f.approve(request, division_staff)
    review = DrawingReview.objects.get(censor_num="5303021901010099-TX-001")
    assert review.owner_org == world["design"]
    assert review.state == State.DRAFT
    assert review.project.prj_num == "5303021901010099"
    assert designer.has_perm("projects.change_drawingreview", review)
    with pytest.raises(ValidationError) as missing:
        ps.drawing_review_update(actor=designer, review_id=review.pk, data=f.review_completion(), submit=True)
    assert "project.owner_org" in missing.value.message_dict
    review = ps.drawing_review_update(
        actor=designer,
        review_id=review.pk,
        data=f.review_completion(),
        project_data={"owner_org": world["owner"], "prj_type": "01", "prj_function": "300"},
        submit=True,
    )
    assert review.state == State.IN_REVIEW


def test_addition_request_for_an_existing_review_is_refused(project, world, designer):
    review = f.register_review(project, world["design"], world["institution"])
    with pytest.raises(ValidationError, match="无需申请新增"):
        ps.addition_request_save(
            actor=designer,
            data={
                "prj_num": project.prj_num,
                "project_name": project.name,
                "county": project.county,
                "owner_name": "x",
                "censor_num": review.censor_num,
                "censor_org": world["institution"],
                "censor_date": date(2019, 1, 10),
                "reason": "x",
                "contact_name": "x",
                "contact_phone": "13800138000",
            },
        )


# --- 一(一)2 施工许可 ----------------------------------------------------------------------------


def test_permit_needs_approved_reviews_and_submits_itself_to_the_issuing_authority(
    project, world, designer, contractor, approved_review
):
    pending = f.complete_and_submit_review(
        f.register_review(project, world["design"], world["institution"]), designer
    )
    with pytest.raises(ValidationError, match="已审核认定"):
        ps.permit_save(
            actor=contractor, drawing_review_ids=[pending.pk], data=f.permit_data(world["bureau_qlq"])
        )
    with pytest.raises(ValidationError, match="至少选择一条"):
        ps.permit_save(actor=contractor, drawing_review_ids=[], data=f.permit_data(world["bureau_qlq"]))
    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
    )
    assert permit.state == State.IN_REVIEW
    task = Task.objects.get(kind="permit", record_id=permit.pk, status=Task.Status.OPEN)
    assert task.division_code == "530302"
    assert task.stage == "permit"


def test_permit_reviews_must_belong_to_one_project(
    world, designer, contractor, institution_staff, division_staff
):
    reviews = []
    for _ in range(2):
        p = f.make_project("530302", owner=world["owner"])
        r = f.complete_and_submit_review(
            f.register_review(p, world["design"], world["institution"]), designer
        )
        f.approve(r, institution_staff)
        reviews.append(f.approve(r, division_staff))
    with pytest.raises(ValidationError, match="同一个工程项目"):
        ps.permit_save(
            actor=contractor,
            drawing_review_ids=[r.pk for r in reviews],
            data=f.permit_data(world["bureau_qlq"]),
        )


def test_only_a_general_contractor_enters_a_permit(world, designer, supervisor, approved_review):
    for actor in (designer, supervisor):
        with pytest.raises(PermissionDenied, match="施工总承包单位"):
            ps.permit_save(
                actor=actor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
            )


def test_permit_issue_date_not_before_review(world, contractor, approved_review):
    with pytest.raises(ValidationError, match="不能早于施工图审查完成日期"):
        ps.permit_save(
            actor=contractor,
            drawing_review_ids=[approved_review.pk],
            data=f.permit_data(world["bureau_qlq"], issue_date=date(2019, 1, 1)),
        )


def test_permit_is_reviewed_where_the_issuing_authority_is(
    world, contractor, approved_review, honghe_reviewer, county_permit_reviewer
):
    """A 麒麟区 project's permit issued by 曲靖市's bureau: 曲靖市's permit reviewers, not 麒麟区's.
    (A bureau not competent for the project, e.g. 红河州's, is refused: tests/workflow/test_loopholes.py.)"""
    prefecture_bureau = f.make_org(
        "曲靖市住房和城乡建设局", Organization.Kind.HOUSING_BUREAU, division="530300"
    )
    prefecture_reviewer = f.make_reviewer("quinn_qujing", "530300", Stage.PERMIT, org=prefecture_bureau)
    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(prefecture_bureau)
    )
    assert permit.issuing_division_id == "530300"
    assert jurisdiction.can_decide(prefecture_reviewer, permit)
    assert not jurisdiction.can_decide(county_permit_reviewer, permit)
    assert not jurisdiction.can_decide(honghe_reviewer, permit)


# --- 一(一)3 同步; 一(二) 招投标、竣工 -------------------------------------------------------------


def test_approved_permit_writes_the_outbox_bundle_in_the_same_transaction(
    project, world, contractor, approved_review, county_permit_reviewer
):
    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
    )
    assert not Outbox.objects.exists()
    f.approve(permit, county_permit_reviewer)
    tables = sorted(Outbox.objects.values_list("table", flat=True))
    # The project (with its buildings' indicators, none here), its drawing review, the permit and its
    # project manager (docs/data-standard.md §2.10).
    assert tables == [
        "TBBuilderLicenceManage",
        "TBProjectBuilderUserInfo",
        "TBProjectCensorInfo",
        "TBProjectInfo",
    ]
    assert len(set(Outbox.objects.values_list("bundle", flat=True))) == 1
    project.refresh_from_db()
    assert project.permit_approved_at is not None


def test_a_failing_approval_leaves_no_outbox_row(
    monkeypatch, world, contractor, approved_review, county_permit_reviewer
):
    from projects.models import ConstructionPermit

    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
    )

    def boom(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr("review.services.audit.record", boom)
    with pytest.raises(RuntimeError):
        f.approve(permit, county_permit_reviewer)
    assert not Outbox.objects.exists()
    assert ConstructionPermit.objects.get(pk=permit.pk).state == State.IN_REVIEW


def test_tender_and_completion_wait_for_permit_approval_and_platform_sync(
    project, world, contractor, approved_review, county_permit_reviewer
):
    with pytest.raises(PermissionDenied, match="尚未全部审核认定"):
        ps.tender_contract_save(actor=contractor, project_id=project.pk, data=f.tender_data())
    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
    )
    f.approve(permit, county_permit_reviewer)
    with pytest.raises(PermissionDenied, match="正在同步"):
        ps.completion_save(actor=contractor, project_id=project.pk, data=f.completion_data())
    from tests.synchelpers import acknowledge_project_offline

    acknowledge_project_offline(project)
    ps.completion_save(actor=contractor, project_id=project.pk, data=f.completion_data(), submit=True)


def test_each_unit_enters_the_tender_of_the_scope_it_won(
    synced_project, designer, contractor, supervisor, reviewer
):
    with pytest.raises(PermissionDenied, match="施工总承包单位录入"):
        ps.tender_contract_save(
            actor=designer, project_id=synced_project.pk, data=f.tender_data(Scope.CONSTRUCTION)
        )
    with pytest.raises(PermissionDenied, match="设计单位录入"):
        ps.tender_contract_save(
            actor=contractor, project_id=synced_project.pk, data=f.tender_data(Scope.DESIGN)
        )
    record = ps.tender_contract_save(
        actor=designer,
        project_id=synced_project.pk,
        data=f.tender_data(Scope.DESIGN, contract_type="200"),
        submit=True,
    )
    assert record.state == State.IN_REVIEW
    supervision = ps.tender_contract_save(
        actor=supervisor,
        project_id=synced_project.pk,
        data=f.tender_data(Scope.SUPERVISION, contract_type="400"),
        submit=True,
    )
    # A draft or a record in review makes nobody a party; approval does (issue 11).
    parties = ProjectParty.objects.filter(
        project=synced_project, organization=supervisor.organization, role=ProjectParty.Role.SUPERVISION
    )
    assert not parties.exists()
    f.approve(supervision, reviewer)
    assert parties.exists()


def test_completion_is_entered_by_the_general_contractor_only(
    synced_project, designer, other_contractor, contractor
):
    for actor in (designer, other_contractor):
        with pytest.raises(PermissionDenied, match="统一由该项目的施工总承包单位录入"):
            ps.completion_save(actor=actor, project_id=synced_project.pk, data=f.completion_data())
    ps.completion_save(actor=contractor, project_id=synced_project.pk, data=f.completion_data())


def test_completion_dates_in_order(synced_project, contractor):
    completion = ps.completion_save(
        actor=contractor,
        project_id=synced_project.pk,
        data=f.completion_data(acceptance_date=date(2020, 1, 1)),
    )
    with pytest.raises(ValidationError) as info:
        ps.record_submit(actor=contractor, kind="completion", record_id=completion.pk)
    assert "不能早于" in str(info.value)


# --- 二 专业承包 ---------------------------------------------------------------------------------


def test_subcontracted_specialty_enters_tender_and_completion_inside_the_parent_project(
    synced_project, specialist, contractor
):
    contract = ps.tender_contract_save(
        actor=specialist,
        project_id=synced_project.pk,
        data=f.tender_data(Scope.SPECIALTY, contract_type="302"),
    )
    completion = ps.completion_save(
        actor=specialist,
        project_id=synced_project.pk,
        data=f.completion_data(specialty_contract=contract),
        submit=True,
    )
    assert completion.project == synced_project
    assert completion.state == State.IN_REVIEW
    with pytest.raises(PermissionDenied, match="统一由该项目的施工总承包单位录入"):
        ps.completion_save(actor=specialist, project_id=synced_project.pk, data=f.completion_data())
    with pytest.raises(PermissionDenied, match="本单位专业承包范围"):
        ps.completion_save(
            actor=contractor,
            project_id=synced_project.pk,
            data=f.completion_data(specialty_contract=contract),
        )


def test_direct_specialty_basic_info_is_approved_before_anything_else(world, specialist, reviewer):
    info = ps.specialty_info_save(
        actor=specialist,
        prj_num=f.prj_num("530302"),
        project_data={
            "name": "消防工程",
            "county": Division.objects.get(pk="530302"),
            "owner_org": world["owner"],
            **f.exchange_basics(),
            "prj_type": "01",
            "prj_function": "300",
        },
        data={"specialty_scope": "消防"},
        submit=True,
    )
    project = info.project
    with pytest.raises(PermissionDenied, match="基本信息尚未审核认定"):
        ps.tender_contract_save(
            actor=specialist, project_id=project.pk, data=f.tender_data(Scope.SPECIALTY, contract_type="302")
        )
    with pytest.raises(PermissionDenied, match="基本信息尚未审核认定"):
        ps.drawing_review_create(
            actor=specialist,
            project_id=project.pk,
            data={"censor_num": "DS-1", "censor_org": world["institution"]},
        )
    f.approve(info, reviewer)
    ps.tender_contract_save(
        actor=specialist, project_id=project.pk, data=f.tender_data(Scope.SPECIALTY, contract_type="302")
    )
    review = ps.drawing_review_create(
        actor=specialist,
        project_id=project.pk,
        data={
            "censor_num": "DS-1",
            "censor_org": world["institution"],
            "censor_date": date(2020, 1, 1),
            **f.review_completion(),
        },
    )
    assert review.path == DrawingReview.Path.PLATFORM
    review = ps.record_submit(actor=specialist, kind="drawing_review", record_id=review.pk)
    task = Task.objects.get(kind="drawing_review", record_id=review.pk, status=Task.Status.OPEN)
    assert (task.stage, task.division_code) == ("drawing_review", "530302")
    assert jurisdiction.can_decide(reviewer, review)


# --- 三 平台办理的记录 ---------------------------------------------------------------------------


def test_platform_originated_project_takes_a_drawing_review_reviewed_where_it_is(
    world, designer, reviewer, institution_staff
):
    project = f.make_project("530302", owner=world["owner"], origin=Origin.PLATFORM)
    review = ps.drawing_review_create(
        actor=designer,
        project_id=project.pk,
        data={
            "censor_num": "PF-1",
            "censor_org": world["institution"],
            "censor_date": date(2020, 1, 1),
            **f.review_completion(),
        },
    )
    review = ps.record_submit(actor=designer, kind="drawing_review", record_id=review.pk)
    assert not jurisdiction.can_decide(institution_staff, review)
    assert f.approve(review, reviewer).state == State.APPROVED


# --- nobody reviews their own organization's record; rounds --------------------------------------


def test_nobody_reviews_a_record_their_own_organization_entered(world, specialist):
    from tests.factories import make_user
    from yunjian.core.models import Role

    insider = make_user("insider", world["specialty"], Role.REVIEWER)
    from review.models import ReviewerAssignment

    ReviewerAssignment.objects.create(
        user=insider, stage="specialty_basic", division_id="530300", roster_key="530300"
    )
    info = ps.specialty_info_save(
        actor=specialist,
        prj_num=f.prj_num("530302"),
        project_data={
            "name": "x",
            "county": Division.objects.get(pk="530302"),
            "owner_org": world["owner"],
            **f.exchange_basics(),
            "prj_type": "01",
            "prj_function": "300",
        },
        data={"specialty_scope": "消防"},
        submit=True,
    )
    with pytest.raises(PermissionDenied):
        f.approve(info, insider)


def test_each_round_keeps_its_snapshot_and_the_return_reason(project, world, designer, institution_staff):
    from projects.snapshots import diff, field_labels

    review = f.complete_and_submit_review(
        f.register_review(project, world["design"], world["institution"]), designer
    )
    with pytest.raises(ValidationError, match="必须填写退回原因"):
        rs.record_decide(
            actor=institution_staff,
            kind="drawing_review",
            record_id=review.pk,
            approve=False,
            lock_version=None,
        )
    review = f.send_back(review, institution_staff, reason="审查日期有误", fields=["censor_date", "bogus"])
    assert review.state == State.RETURNED
    assert review.return_reason == "审查日期有误"
    assert review.return_fields == ["censor_date"]
    ps.drawing_review_update(
        actor=designer, review_id=review.pk, data={"censor_date": date(2020, 4, 2)}, submit=True
    )
    rounds = list(Round.objects.filter(kind="drawing_review", record_id=review.pk).order_by("revision"))
    assert [r.revision for r in rounds] == [1, 2]
    changes = diff(rounds[0].data, rounds[1].data, field_labels(review))
    assert changes == [
        {"key": "censor_date", "label": "审查完成日期", "old": "2020-03-01", "new": "2020-04-02"}
    ]


def test_state_field_is_protected(project, world):
    review = f.register_review(project, world["design"], world["institution"])
    with pytest.raises(AttributeError):
        review.state = State.APPROVED
