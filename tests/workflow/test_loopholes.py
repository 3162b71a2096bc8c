"""Issue 11 §3: loopholes found by trying to get round the notice, each closed and proven here.

Every test in this file failed on the code before the fix (the issue lists how each was done
through the running app); docs/notice-map.md names the test beside the rule it proves.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from projects import services as ps
from projects import workflow
from projects.codes import ContractType, Scope, TenderMethod
from projects.models import DrawingReview, Origin, State, TenderContract
from tests import factories as f
from yunjian.core.models import Division


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
