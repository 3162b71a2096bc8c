"""Issue 11 §3: loopholes found by trying to get round the notice, each closed and proven here.

Every test in this file failed on the code before the fix (the issue lists how each was done
through the running app); docs/notice-map.md names the test beside the rule it proves.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from projects import rules, selectors, workflow
from projects import services as ps
from projects.codes import ContractType, Scope, TenderMethod
from projects.models import ConstructionPermit, DrawingReview, Origin, ProjectParty, State, TenderContract
from projects.stages import Stage
from review import jurisdiction
from review import selectors as review_selectors
from review.models import ReviewerAssignment, Task
from tests import factories as f
from tests.synchelpers import acknowledge_project_offline
from yunjian.core.models import Division, Organization, Role, User, Zone


def addition_data(world, **extra) -> dict:
    data = {
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
    }
    data.update(extra)
    return data


# --- an addition request's certificate number is locked once approved -------------------------


def test_the_certificate_number_approved_in_an_addition_request_cannot_be_changed(
    world, designer, division_staff
):
    request = ps.addition_request_save(actor=designer, data=addition_data(world), submit=True)
    f.approve(request, division_staff)
    review = DrawingReview.objects.get(censor_num="5303021901010099-TX-001")
    assert review.censor_num_locked()

    with pytest.raises(ValidationError) as refused:
        ps.drawing_review_update(actor=designer, review_id=review.pk, data={"censor_num": "改过的编号-001"})
    assert "不能修改" in refused.value.message_dict["censor_num"][0]
    review.refresh_from_db()
    assert review.censor_num == "5303021901010099-TX-001"
    # Other fields stay editable.
    ps.drawing_review_update(actor=designer, review_id=review.pk, data={"one_pass": True})


def test_the_edit_form_of_such_a_review_has_no_certificate_number_field(
    client, world, designer, division_staff
):
    request = ps.addition_request_save(actor=designer, data=addition_data(world), submit=True)
    f.approve(request, division_staff)
    review = DrawingReview.objects.get(censor_num="5303021901010099-TX-001")
    client.force_login(designer)

    page = client.get(reverse("projects:record-edit", args=["drawing_review", review.pk]))

    assert page.status_code == 200
    assert 'name="censor_num"' not in page.content.decode()


# --- a subcontracted specialty completion asks for 竣工验收信息 only ----------------------------


def test_a_subcontracted_specialty_completion_is_submitted_without_the_filing(synced_project, specialist):
    contract = ps.tender_contract_save(
        actor=specialist,
        project_id=synced_project.pk,
        data=f.tender_data(Scope.SPECIALTY, contract_type="302"),
    )
    completion = ps.completion_save(
        actor=specialist,
        project_id=synced_project.pk,
        data=f.completion_data(specialty_contract=contract, filing_num="", filing_date=None),
        submit=True,
    )
    assert completion.state == State.IN_REVIEW
    assert "filing_num" not in workflow.required_for(completion)


def test_the_general_contractors_completion_still_needs_the_filing(synced_project, contractor):
    completion = ps.completion_save(
        actor=contractor,
        project_id=synced_project.pk,
        data=f.completion_data(filing_num="", filing_date=None),
    )
    with pytest.raises(ValidationError) as missing:
        ps.record_submit(actor=contractor, kind="completion", record_id=completion.pk)
    assert {"filing_num", "filing_date"} <= set(missing.value.message_dict)


def test_the_forms_markers_follow_the_same_rule(synced_project, specialist, contractor):
    from projects.forms import CompletionForm
    from projects.models import Completion

    contract = ps.tender_contract_save(
        actor=specialist,
        project_id=synced_project.pk,
        data=f.tender_data(Scope.SPECIALTY, contract_type="302"),
    )
    sub = CompletionForm.build(
        None, user=specialist, record=None, project=synced_project, params={"contract": str(contract.pk)}
    )
    main = CompletionForm.build(None, user=contractor, record=None, project=synced_project, params={})
    assert "filing_num" not in sub.submit_required
    assert "filing_num" in main.submit_required
    assert set(main.submit_required) == set(workflow.required_for(Completion(project=synced_project)))


# --- a document number is entered once, whatever the origin of the record holding it ----------


def platform_contract(project, org, **numbers):
    """A tender and contract the platform handled (notice 三), as inbound sync stores it."""
    return TenderContract.objects.create(
        project=project,
        owner_org=org,
        origin=Origin.PLATFORM,
        state=State.APPROVED,
        scope=Scope.CONSTRUCTION,
        tender_method=TenderMethod.OPEN,
        contract_type=ContractType.GENERAL,
        **numbers,
    )


def test_the_platforms_own_tender_and_contract_cannot_be_entered_again(synced_project, contractor, world):
    platform_contract(synced_project, world["builder"], tender_num="ZB-2020-001", contract_num="HT-2020-001")

    for field, number in (("tender_num", "ZB-2020-001"), ("contract_num", "HT-2020-001")):
        data = f.tender_data(Scope.CONSTRUCTION, **{field: number})
        with pytest.raises(ValidationError) as refused:
            ps.tender_contract_save(actor=contractor, project_id=synced_project.pk, data=data)
        message = refused.value.message_dict[field][0]
        assert number in message
        assert synced_project.prj_num in message
        assert "省一体化平台办理" in message
    assert TenderContract.objects.filter(project=synced_project).count() == 1


def test_an_entered_contract_number_cannot_be_entered_again_in_another_project(
    synced_project, contractor, world
):
    other = f.make_project(name="另一项目")
    platform_contract(other, world["builder_other"], contract_num="HT-SAME-1")
    with pytest.raises(ValidationError, match="另一项目"):
        ps.tender_contract_save(
            actor=contractor, project_id=synced_project.pk, data=f.tender_data(contract_num="HT-SAME-1")
        )


def test_a_number_taken_after_the_draft_was_saved_is_refused_at_submission(synced_project, contractor, world):
    draft = ps.tender_contract_save(
        actor=contractor, project_id=synced_project.pk, data=f.tender_data(contract_num="HT-LATE-1")
    )
    platform_contract(f.make_project(), world["builder_other"], contract_num="HT-LATE-1")
    with pytest.raises(ValidationError) as refused:
        ps.record_submit(actor=contractor, kind="tender_contract", record_id=draft.pk)
    assert "contract_num" in refused.value.message_dict


def test_a_completion_filing_number_is_entered_once(synced_project, contractor):
    first = ps.completion_save(
        actor=contractor, project_id=synced_project.pk, data=f.completion_data(filing_num="BA-2021-9")
    )
    ps.record_submit(actor=contractor, kind="completion", record_id=first.pk)
    with pytest.raises(ValidationError) as refused:
        ps.completion_save(
            actor=contractor, project_id=synced_project.pk, data=f.completion_data(filing_num="BA-2021-9")
        )
    assert "BA-2021-9" in refused.value.message_dict["filing_num"][0]


def test_the_entry_page_shows_the_holder_on_the_field(client, synced_project, contractor, world):
    platform_contract(synced_project, world["builder"], contract_num="HT-PAGE-1")
    client.force_login(contractor)
    data = f.tender_data(contract_num="HT-PAGE-1")
    post = {k: ("" if v is None else str(v)) for k, v in data.items()}

    response = client.post(reverse("projects:tender-new", args=[synced_project.pk]), post)

    assert response.status_code == 400
    assert "HT-PAGE-1 已由" in response.context["bundle"].form.errors["contract_num"][0]


# --- a general contractor cannot take over another organisation's project ----------------------


def test_a_draft_permit_neither_rewrites_the_project_nor_makes_a_party(
    client, other_contractor, approved_review, world
):
    """The attack of the issue: permits/new/?review=… on someone else's approved drawing review."""
    project = approved_review.project
    before = (project.name, project.total_investment)
    client.force_login(other_contractor)
    url = reverse("projects:permit-new")

    # Not offered: a prefix, the project number or its name find nothing; an id alone opens nothing.
    for term in (project.prj_num, project.name[:3], approved_review.censor_num[:10]):
        assert approved_review.censor_num not in client.get(url, {"q": term}).content.decode()
    picked = client.get(url, {"review": approved_review.pk, "next": "1"})
    assert picked.status_code == 400
    assert project.name not in picked.content.decode()
    posted = client.post(url, {"project": project.pk, "review_ids": approved_review.pk, "action": "draft"})
    assert posted.status_code == 404

    # Even a contractor that knows the exact certificate number gets a permit form whose project info
    # is read-only, and a draft that changes nothing of the project and grants no access.
    page = client.get(url, {"review": approved_review.pk, "next": "1", "q": approved_review.censor_num})
    assert page.status_code == 200
    assert 'name="project-name"' not in page.content.decode()
    with pytest.raises(PermissionDenied):
        ps.permit_save(
            actor=other_contractor,
            drawing_review_ids=[approved_review.pk],
            data=f.permit_data(world["bureau_qlq"]),
            project_data={"name": "被改写的项目", "total_investment": Decimal("1")},
            submit=False,
        )
    draft = ps.permit_save(
        actor=other_contractor,
        drawing_review_ids=[approved_review.pk],
        data=f.permit_data(world["bureau_qlq"]),
        submit=False,
    )
    project.refresh_from_db()
    assert (project.name, project.total_investment) == before
    assert not ProjectParty.objects.filter(
        project=project, organization=other_contractor.organization
    ).exists()
    assert client.get(reverse("projects:project", args=[project.pk])).status_code == 404
    assert (
        client.get(reverse("projects:record", args=["drawing_review", approved_review.pk])).status_code == 404
    )
    own = client.get(reverse("projects:record", args=["permit", draft.pk]))  # its own record
    assert own.status_code == 200
    assert reverse("projects:project", args=[project.pk]) not in own.content.decode()


def test_the_permit_makes_its_contractor_a_party_when_approved(
    contractor, approved_review, world, county_permit_reviewer
):
    permit = ps.permit_save(
        actor=contractor,
        drawing_review_ids=[approved_review.pk],
        data=f.permit_data(world["bureau_qlq"], supervision_org=world["supervision"]),
    )
    project = approved_review.project
    assert not ProjectParty.objects.filter(project=project, organization=world["builder"]).exists()
    assert not ProjectParty.objects.filter(project=project, organization=world["supervision"]).exists()
    f.approve(permit, county_permit_reviewer)
    assert ProjectParty.objects.filter(
        project=project, organization=world["builder"], role=ProjectParty.Role.GENERAL_CONTRACTOR
    ).exists()
    assert ProjectParty.objects.filter(
        project=project, organization=world["supervision"], role=ProjectParty.Role.SUPERVISION
    ).exists()


def test_a_design_unit_that_is_a_party_still_completes_the_basic_info(project, world, designer):
    review = f.register_review(project, world["design"], world["institution"])
    ps.drawing_review_update(
        actor=designer, review_id=review.pk, data={"one_pass": True}, project_data={"scale": "五层"}
    )
    project.refresh_from_db()
    assert project.scale == "五层"


# --- "the project's general contractor" is the one whose permit (or construction tender) is approved


def test_the_general_contractor_is_the_enterer_of_an_approved_permit(
    synced_project, contractor, other_contractor, world
):
    # Another contractor with a role on the project (e.g. an old ProjectParty row) is not it.
    ProjectParty.objects.create(
        project=synced_project, organization=world["builder_other"], role=ProjectParty.Role.GENERAL_CONTRACTOR
    )
    assert not rules.is_general_contractor(world["builder_other"].pk, synced_project)
    with pytest.raises(PermissionDenied, match="统一由该项目的施工总承包单位录入"):
        ps.completion_save(actor=other_contractor, project_id=synced_project.pk, data=f.completion_data())
    assert rules.is_general_contractor(world["builder"].pk, synced_project)
    ps.completion_save(actor=contractor, project_id=synced_project.pk, data=f.completion_data())


def test_a_draft_permit_does_not_make_its_enterer_the_general_contractor(
    synced_project, other_contractor, world, designer, institution_staff, division_staff
):
    review = f.register_review(synced_project, world["design"], world["institution"])
    f.complete_and_submit_review(review, designer)
    f.approve(review, institution_staff)
    f.approve(review, division_staff)
    ps.permit_save(
        actor=other_contractor,
        drawing_review_ids=[review.pk],
        data=f.permit_data(world["bureau_qlq"], permit_num="5303022001990001-SX-009"),
        submit=True,
    )
    assert not rules.is_general_contractor(world["builder_other"].pk, synced_project)
    with pytest.raises(PermissionDenied):
        ps.completion_save(actor=other_contractor, project_id=synced_project.pk, data=f.completion_data())


def test_an_approved_construction_tender_also_makes_the_general_contractor(
    synced_project, other_contractor, world, reviewer
):
    contract = ps.tender_contract_save(
        actor=other_contractor,
        project_id=synced_project.pk,
        data=f.tender_data(Scope.CONSTRUCTION),
        submit=True,
    )
    assert not rules.is_general_contractor(world["builder_other"].pk, synced_project)
    f.approve(contract, reviewer)
    assert rules.is_general_contractor(world["builder_other"].pk, synced_project)


# --- the issuing authority is a bureau competent where the project is ------------------------


def test_a_bureau_of_another_prefecture_cannot_be_named_issuing_authority(contractor, approved_review, world):
    """A 曲靖 project's permit naming 红河州's bureau went to 红河's reviewers."""
    with pytest.raises(ValidationError) as refused:
        ps.permit_save(
            actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_hh"])
        )
    assert "不是该项目所在地的住房城乡建设部门" in refused.value.message_dict["issuing_org"][0]
    assert not ConstructionPermit.objects.exists()


def test_the_form_offers_only_the_competent_bureaus(client, contractor, approved_review, world):
    prefecture = f.make_org("曲靖市住房和城乡建设局", Organization.Kind.HOUSING_BUREAU, division="530300")
    province = f.make_org(
        "云南省住房和城乡建设厅（发证）", Organization.Kind.HOUSING_BUREAU, division="530000"
    )
    new_area = new_area_bureau()
    client.force_login(contractor)
    page = client.get(
        reverse("projects:permit-new"),
        {"review": approved_review.pk, "next": "1", "q": approved_review.censor_num},
    )
    offered = set(page.context["bundle"].form.fields["issuing_org"].queryset)
    assert offered == {world["bureau_qlq"], prefecture, province}
    assert world["bureau_hh"] not in offered
    assert new_area not in offered  # the project is not in 滇中新区
    # A posted bureau outside the list is refused by the form too.
    data = {
        "project": approved_review.project_id,
        "q": approved_review.censor_num,
        "review_ids": approved_review.pk,
        "issuing_org": world["bureau_hh"].pk,
        "action": "draft",
        "b-TOTAL_FORMS": "0",
        "b-INITIAL_FORMS": "0",
    }
    response = client.post(reverse("projects:permit-new"), data)
    assert response.status_code == 400
    assert "issuing_org" in response.context["bundle"].form.errors


# --- 滇中新区: a project records it; the new area's bureau and roster get exactly those records --


def new_area_bureau() -> Organization:
    """滇中新区规划建设管理部 as the roster import creates it: filed under the province, with the zone."""
    bureau = f.make_org("滇中新区规划建设管理部", Organization.Kind.HOUSING_BUREAU, division="530000")
    bureau.zone = Zone.objects.get(slug="dianzhong")
    bureau.save()
    return bureau


def zone_reviewer(username: str, *stages: str) -> User:
    user = f.make_user(username, new_area_bureau(), Role.REVIEWER)
    for stage in stages:
        ReviewerAssignment.objects.create(
            user=user, stage=stage, zone=Zone.objects.get(slug="dianzhong"), roster_key="dianzhong"
        )
    return user


@pytest.fixture
def new_area_review(world, designer, institution_staff, division_staff):
    """An approved drawing review of a project in 滇中新区 (in 安宁市, a host county)."""
    project = f.make_project("530181", owner=world["owner"], name="滇中新区产业园", in_new_area=True)
    review = f.register_review(project, world["design"], world["institution"])
    f.complete_and_submit_review(review, designer)
    f.approve(review, institution_staff)
    return f.approve(review, division_staff)


def test_a_permit_issued_by_the_new_areas_bureau_reaches_its_roster(world, new_area_review):
    contractor = f.make_user("ben_builder", world["builder"], Role.ENTERPRISE)
    zoe = zone_reviewer("zoe_dianzhong", Stage.PERMIT)
    bureau = Organization.objects.get(users=zoe)
    kunming = f.make_reviewer("kim_kunming", "530100", Stage.PERMIT)
    anning = f.make_reviewer("al_anning", "530181", Stage.PERMIT)
    assert bureau in set(selectors.competent_bureaus(new_area_review.project))

    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[new_area_review.pk], data=f.permit_data(bureau), submit=True
    )

    task = Task.objects.get(kind="permit", record_id=permit.pk, status="open")
    assert (task.division_code, task.zone) == ("530000", "dianzhong")
    assert jurisdiction.can_decide(zoe, permit)
    assert not jurisdiction.can_decide(kunming, permit)
    assert not jurisdiction.can_decide(anning, permit)
    assert list(review_selectors.inbox_for(zoe, jurisdiction.assignments_of(zoe))) == [task]
    assert not review_selectors.inbox_for(kunming, jurisdiction.assignments_of(kunming)).exists()
    f.approve(permit, zoe)


def test_the_new_areas_bureau_is_not_offered_outside_the_new_area(contractor, approved_review):
    bureau = new_area_bureau()
    assert bureau not in set(selectors.competent_bureaus(approved_review.project))
    with pytest.raises(ValidationError):
        ps.permit_save(actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(bureau))


def test_records_of_a_project_in_the_new_area_go_to_its_roster_not_to_kunmings(world, new_area_review):
    """The completion (filed where the project is) of a project in the new area."""
    contractor = f.make_user("ben_builder", world["builder"], Role.ENTERPRISE)
    zoe = zone_reviewer("zoe_dianzhong", Stage.PERMIT, Stage.COMPLETION)
    kunming = f.make_reviewer("kim_kunming", "530100", Stage.PERMIT, Stage.COMPLETION)
    province = f.make_reviewer("pia_province", "530000", Stage.COMPLETION)
    bureau = Organization.objects.get(users=zoe)
    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[new_area_review.pk], data=f.permit_data(bureau), submit=True
    )
    f.approve(permit, zoe)
    project = new_area_review.project
    acknowledge_project_offline(project)
    completion = ps.completion_save(
        actor=contractor, project_id=project.pk, data=f.completion_data(), submit=True
    )
    task = Task.objects.get(kind="completion", record_id=completion.pk, status="open")
    assert (task.division_code, task.zone) == ("530181", "dianzhong")
    assert jurisdiction.can_decide(zoe, completion)
    assert jurisdiction.can_decide(province, completion)
    assert not jurisdiction.can_decide(kunming, completion)
    assert not review_selectors.inbox_for(kunming, jurisdiction.assignments_of(kunming)).exists()


def test_records_of_a_host_county_outside_the_new_area_stay_with_kunming(
    world, contractor, designer, institution_staff, division_staff
):
    project = f.make_project("530181", owner=world["owner"], name="安宁市老城区项目")
    review = f.register_review(project, world["design"], world["institution"])
    f.complete_and_submit_review(review, designer)
    f.approve(review, institution_staff)
    f.approve(review, division_staff)
    anning_bureau = f.make_org("安宁市住房和城乡建设局", Organization.Kind.HOUSING_BUREAU, division="530181")
    zoe = zone_reviewer("zoe_dianzhong", Stage.PERMIT)
    kunming = f.make_reviewer("kim_kunming", "530100", Stage.PERMIT)
    permit = ps.permit_save(
        actor=contractor,
        drawing_review_ids=[review.pk],
        data=f.permit_data(anning_bureau, permit_num="5301812001010001-SX-001"),
        submit=True,
    )
    assert jurisdiction.can_decide(kunming, permit)
    assert not jurisdiction.can_decide(zoe, permit)


def test_the_basic_info_form_asks_whether_the_project_is_in_the_new_area():
    from projects.forms import ProjectInfoForm

    form = ProjectInfoForm(prefix="project")
    assert "in_new_area" in form.fields
    assert form.fields["in_new_area"].initial in (None, False)
    assert any("in_new_area" in names for _legend, names in ProjectInfoForm.SECTIONS)


# --- a direct specialty project's records are its own specialty contractor's (二(二)) -----------


def test_another_specialty_contractor_cannot_enter_records_in_someone_elses_direct_project(
    world, specialist, reviewer
):
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
    f.approve(info, reviewer)
    project = info.project
    intruder = f.make_user(
        "ivy_specialty",
        f.make_org("另一专业承包公司", Organization.Kind.SPECIALTY_CONTRACTOR),
        Role.ENTERPRISE,
    )
    calls = (
        lambda: ps.tender_contract_save(
            actor=intruder, project_id=project.pk, data=f.tender_data(Scope.SPECIALTY, contract_type="302")
        ),
        lambda: ps.completion_save(actor=intruder, project_id=project.pk, data=f.completion_data()),
        lambda: ps.drawing_review_create(
            actor=intruder,
            project_id=project.pk,
            data={"censor_num": "DS-X", "censor_org": world["institution"]},
        ),
    )
    for call in calls:
        with pytest.raises(PermissionDenied, match="由录入其基本信息的专业承包单位录入"):
            call()
    # Its own contractor still enters them.
    ps.tender_contract_save(
        actor=specialist, project_id=project.pk, data=f.tender_data(Scope.SPECIALTY, contract_type="302")
    )
    ps.completion_save(actor=specialist, project_id=project.pk, data=f.completion_data())
