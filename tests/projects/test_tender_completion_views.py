"""招投标及合同信息 (each unit for its own scope) and 竣工验收及备案信息 (general contractor, or a
specialty contractor for its subcontracted scope), open once the project is on the platform."""

from __future__ import annotations

import pytest
from django.urls import reverse

from projects import services as ps
from projects.models import Completion, ProjectParty, State, TenderContract
from tests import factories as f
from tests.projects.formdata import field_errors, form_data
from yunjian.core.validators import complete_credit_code, complete_id_number

pytestmark = pytest.mark.django_db


def tender_url(project):
    return reverse("projects:tender-new", args=[project.pk])


def completion_url(project):
    return reverse("projects:completion-new", args=[project.pk])


AGENCY_CODE = complete_credit_code("9153030221660001")
LEADER_ID = complete_id_number("53030219820202001")
TENDER = {
    "tender_method": "001",
    "tender_num": "5303022001010001-BD-001",
    "tender_date": "2020-02-01",
    "tender_amount": "1000",
    "area": "12000",
    "agency_name": "某招标代理公司",
    "agency_code": AGENCY_CODE,
    "project_leader": "王负责人",
    "leader_id": LEADER_ID,
    "contract_num": "QJ-SG-2020-018",
    "contract_amount": "1000",
    "contract_date": "2020-02-20",
    "client_name": "某建设单位",
}
COMPLETION = {
    "actual_start": "2020-05-10",
    "acceptance_date": "2021-06-01",
    "actual_cost": "1050",
    "actual_area": "12000",
    "filing_num": "BA-2021-001",
    "filing_date": "2021-06-20",
}


def test_closed_until_the_permit_is_approved_and_synced(
    as_user, contractor, permit_in_review, project, county_permit_reviewer
):
    client = as_user(contractor)
    # While its permit is in review the contractor is no party of the project: no entry pages.
    assert client.get(tender_url(project)).status_code == 404
    assert client.get(completion_url(project)).status_code == 404
    f.approve(permit_in_review, county_permit_reviewer)  # approved, not yet synced
    page = client.get(tender_url(project))
    assert page.status_code == 200
    assert "正在同步至省一体化平台" in page.content.decode()
    response = client.post(tender_url(project), {**TENDER, "scope": "construction", "action": "draft"})
    assert response.status_code == 403
    assert "同步完成后即可录入" in response.content.decode()
    assert client.get(completion_url(project)).status_code == 200
    assert client.post(completion_url(project), {**COMPLETION, "action": "draft"}).status_code == 403
    assert not TenderContract.objects.exists()
    assert not Completion.objects.exists()


def test_contractor_enters_construction_tender_and_submits(as_user, contractor, open_project):
    client = as_user(contractor)
    html = client.get(tender_url(open_project), {"scope": "construction"}).content.decode()
    data = form_data(html, {**TENDER, "action": "submit"})
    assert data["scope"] == "construction"
    assert data["contract_type"] == "301"
    response = client.post(tender_url(open_project), data)
    assert response.status_code == 302, response.content.decode()
    contract = TenderContract.objects.get()
    assert contract.state == State.IN_REVIEW
    assert contract.owner_org_id == contractor.organization_id
    assert "住建部门审核（招标投标信息、合同登记信息）" in client.get(response["Location"]).content.decode()


def test_supervision_unit_joins_an_open_project_by_its_number(as_user, supervisor, open_project, reviewer):
    client = as_user(supervisor)
    found = client.get(reverse("projects:project-find"), {"prj_num": open_project.prj_num})
    assert found.status_code == 200
    assert tender_url(open_project) in found.content.decode()
    html = client.get(tender_url(open_project)).content.decode()
    assert 'value="supervision"' in html
    assert 'value="construction"' not in html
    data = form_data(html, {**TENDER, "scope": "supervision", "contract_type": "400", "action": "draft"})
    assert client.post(tender_url(open_project), data).status_code == 302
    # A draft makes no party (issue 11): the project page opens once the tender is approved.
    parties = ProjectParty.objects.filter(
        project=open_project, organization=supervisor.organization, role=ProjectParty.Role.SUPERVISION
    )
    assert not parties.exists()
    assert client.get(reverse("projects:project", args=[open_project.pk])).status_code == 404
    contract = TenderContract.objects.get(owner_org=supervisor.organization)
    ps.record_submit(actor=supervisor, kind="tender_contract", record_id=contract.pk)
    f.approve(contract, reviewer)
    assert parties.exists()
    assert client.get(reverse("projects:project", args=[open_project.pk])).status_code == 200


def test_project_find_explains_problems(as_user, supervisor, permit_in_review, project):
    client = as_user(supervisor)
    assert (
        "项目编号应为16位数字"
        in client.get(reverse("projects:project-find"), {"prj_num": "123"}).content.decode()
    )
    assert (
        "系统中没有项目编号为"
        in client.get(reverse("projects:project-find"), {"prj_num": "5303022001010999"}).content.decode()
    )
    html = client.get(reverse("projects:project-find"), {"prj_num": project.prj_num}).content.decode()
    assert "暂不能录入" in html
    assert tender_url(project) not in html
    # A project that is not open is not theirs to open either.
    assert client.get(tender_url(project)).status_code == 404
    assert client.get(reverse("projects:project", args=[project.pk])).status_code == 404


def test_a_unit_cannot_choose_a_scope_it_did_not_win(as_user, supervisor, open_project):
    client = as_user(supervisor)
    response = client.post(
        tender_url(open_project),
        {**TENDER, "scope": "construction", "contract_type": "301", "action": "draft"},
    )
    assert response.status_code == 400
    assert any("请从列表中选择" in e for e in field_errors(response.content.decode(), "scope"))
    assert not TenderContract.objects.exists()


def test_a_model_text_number_is_a_warning_to_confirm(as_user, contractor, open_project):
    client = as_user(contractor)
    data = form_data(
        client.get(tender_url(open_project), {"scope": "construction"}).content.decode(),
        {**TENDER, "contract_num": "GF-2013-0201", "action": "draft"},
    )
    response = client.post(tender_url(open_project), data)
    assert response.status_code == 200
    assert "合同示范文本编号" in response.content.decode()
    assert not TenderContract.objects.exists()
    data["confirm_warnings"] = "on"
    assert client.post(tender_url(open_project), data).status_code == 302
    assert TenderContract.objects.get().contract_num == "GF-2013-0201"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"agency_code": "12345"}, "agency_code", "统一社会信用代码应为18位"),
        ({"client_code": "91530302MA6K0000I0"}, "client_code", "不允许的字符"),
        ({"contract_date": "2020-01-01"}, "contract_date", "“合同签订日期”不能早于“中标日期”"),
        ({"tender_amount": "-3"}, "tender_amount", "数值应大于0"),
        ({"tender_date": "昨天"}, "tender_date", "应为有效日期"),
        ({"contract_num": ""}, "contract_num", "请填写“合同编号”"),
    ],
)
def test_bad_tender_input(as_user, contractor, open_project, changes, field, message):
    client = as_user(contractor)
    data = form_data(
        client.get(tender_url(open_project), {"scope": "construction"}).content.decode(),
        {**TENDER, **changes, "action": "submit"},
    )
    response = client.post(tender_url(open_project), data)
    assert response.status_code == 400
    assert any(message in e for e in field_errors(response.content.decode(), field))
    assert not TenderContract.objects.exists()


def test_contractor_enters_completion(as_user, contractor, open_project):
    client = as_user(contractor)
    html = client.get(completion_url(open_project)).content.decode()
    assert 'name="specialty_contract"' not in html
    response = client.post(completion_url(open_project), form_data(html, {**COMPLETION, "action": "submit"}))
    assert response.status_code == 302, response.content.decode()
    assert Completion.objects.get().state == State.IN_REVIEW


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"acceptance_date": "2020-01-01"}, "acceptance_date", "不能早于“实际开工日期”"),
        ({"filing_date": "2021-05-01"}, "filing_date", "不能早于“竣工验收日期”"),
        (
            {"actual_start": "2019-01-01", "acceptance_date": "2020-01-01", "filing_date": "2020-02-01"},
            "acceptance_date",
            "不能早于施工许可发证日期",
        ),
    ],
)
def test_completion_dates_in_order(as_user, contractor, open_project, changes, field, message):
    client = as_user(contractor)
    html = client.get(completion_url(open_project)).content.decode()
    response = client.post(
        completion_url(open_project), form_data(html, {**COMPLETION, **changes, "action": "submit"})
    )
    assert response.status_code == 400
    assert any(message in e for e in field_errors(response.content.decode(), field))
    assert not Completion.objects.exists()


def test_specialty_contractor_links_its_completion_to_its_contract(as_user, specialist, open_project):
    contract = ps.tender_contract_save(
        actor=specialist, project_id=open_project.pk, data=f.tender_data("specialty", contract_type="302")
    )
    client = as_user(specialist)
    html = client.get(completion_url(open_project), {"contract": contract.pk}).content.decode()
    assert 'name="specialty_contract"' in html
    data = form_data(html, {**COMPLETION, "action": "draft"})
    assert data["specialty_contract"] == str(contract.pk)
    assert client.post(completion_url(open_project), data).status_code == 302
    assert Completion.objects.get().specialty_contract_id == contract.pk
    # Without choosing the contract, it is refused (on a new form: posting the same form again
    # only opens the record it saved).
    html = client.get(completion_url(open_project), {"contract": contract.pk}).content.decode()
    data = form_data(html, {**COMPLETION, "action": "draft"})
    data["specialty_contract"] = ""
    response = client.post(completion_url(open_project), data)
    assert response.status_code == 400
    assert "请选择本竣工验收信息所属的专业承包合同" in response.content.decode()


def test_completion_is_for_parties_only(as_user, other_contractor, supervisor, open_project, reviewer, world):
    assert as_user(other_contractor).get(completion_url(open_project)).status_code == 404
    ps.ensure_party(open_project, world["supervision"], "supervision")
    response = as_user(supervisor).post(completion_url(open_project), {**COMPLETION, "action": "draft"})
    assert response.status_code == 403
    assert "统一由该项目的施工总承包单位录入" in response.content.decode()
    assert as_user(reviewer).get(completion_url(open_project)).status_code == 403
    assert as_user(reviewer).get(tender_url(open_project)).status_code == 403


def test_editing_an_existing_tender(as_user, contractor, tender):
    client = as_user(contractor)
    url = reverse("projects:record-edit", args=["tender_contract", tender.pk])
    data = form_data(client.get(url).content.decode(), {"project_leader": "李经理", "action": "submit"})
    assert client.post(url, data).status_code == 302
    tender.refresh_from_db()
    assert tender.project_leader == "李经理"
    assert tender.state == State.IN_REVIEW
