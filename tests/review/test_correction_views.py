"""更正 (issue 18) as the users see it: the enterer corrects an approved record in its entry form, the
record page keeps showing the approved version until a reviewer approves the correction on its page
(the field-level diff, the inbox marked 更正), then shows version 2 with both versions in its history.
Bad input gets Chinese errors and changes nothing; the wrong people get 403/404."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from projects import corrections
from projects import services as ps
from projects.models import ConstructionPermit, Correction
from review.models import Task
from tests import factories as f
from tests.projects.formdata import form_data
from tests.synchelpers import acknowledge_project_offline

pytestmark = pytest.mark.django_db


@pytest.fixture
def permit_c(project, approved_review, contractor, world, county_permit_reviewer):
    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
    )
    return f.approve(permit, county_permit_reviewer)


def correct_url(permit):
    return reverse("projects:record-correct", args=["permit", permit.pk])


def record_url(permit):
    return reverse("projects:record", args=["permit", permit.pk])


def post_correction(client, permit, changes, submit=True):
    page = client.get(correct_url(permit))
    assert page.status_code == 200
    data = form_data(page.content.decode(), changes, form_id="correction-form")
    data.pop("draft", None)
    data["submit" if submit else "draft"] = "1"
    return client.post(correct_url(permit), data)


def test_enterer_corrects_reviewer_approves_record_shows_version_2(
    client, permit_c, contractor, county_permit_reviewer
):
    client.force_login(contractor)
    page = client.get(record_url(permit_c)).content.decode()
    assert 'id="correction-link"' in page
    response = post_correction(client, permit_c, {"contract_amount": "1234.5", "reason": "合同金额录入有误"})
    assert response.status_code == 302
    correction = Correction.objects.get(record_id=permit_c.pk)
    assert (correction.status, correction.changes) == ("in_review", {"contract_amount": "1234.5"})
    # Version 1 stays in force on the record page; the correction in flight is said.
    page = client.get(record_url(permit_c)).content.decode()
    assert 'id="correction-open"' in page
    assert "1234.5" not in page.split('id="versions"')[0]
    # The reviewer's inbox marks it 更正 and links to the correction's page with the diff.
    client.force_login(county_permit_reviewer)
    inbox = client.get(reverse("review:inbox")).content.decode()
    assert "correction-mark" in inbox
    assert reverse("review:correction", args=[correction.pk]) in inbox
    page = client.get(reverse("review:correction", args=[correction.pk])).content.decode()
    assert 'data-field="contract_amount"' in page
    assert "合同金额" in page
    assert '<td class="old">1000</td>' in page
    assert '<td class="new">1234.5</td>' in page
    response = client.post(
        reverse("review:correction", args=[correction.pk]),
        {"decision": "approve", "lock_version": Correction.objects.get(pk=correction.pk).lock_version},
    )
    assert response.status_code == 302
    permit = ConstructionPermit.objects.get(pk=permit_c.pk)
    assert (permit.contract_amount, permit.version) == (Decimal("1234.5"), 2)
    client.force_login(contractor)
    page = client.get(record_url(permit)).content.decode()
    assert 'id="record-version">第2版' in page
    assert "更正前（上一版）" in page


def test_a_correction_with_nothing_changed_is_refused_in_chinese(client, permit_c, contractor):
    client.force_login(contractor)
    response = post_correction(client, permit_c, {"reason": "核对一下"})
    assert response.status_code == 400
    assert "没有需要更正的字段" in response.content.decode()
    assert not Correction.objects.exists()


def test_missing_reason_and_bad_number_are_refused_in_chinese(client, permit_c, contractor):
    client.force_login(contractor)
    response = post_correction(client, permit_c, {"contract_amount": "一千", "reason": ""})
    assert response.status_code == 400
    body = response.content.decode()
    assert "请填写更正事项及原因" in body
    assert "应为数字" in body
    assert not Correction.objects.exists()


def test_a_draft_is_kept_and_withdrawn(client, permit_c, contractor):
    client.force_login(contractor)
    assert (
        post_correction(
            client, permit_c, {"contract_amount": "1100", "reason": "金额有误"}, submit=False
        ).status_code
        == 302
    )
    correction = Correction.objects.get(record_id=permit_c.pk)
    assert correction.status == "draft"
    assert not Task.objects.filter(record_id=permit_c.pk, status="open").exists()
    page = client.get(correct_url(permit_c)).content.decode()
    assert 'value="1100"' in page  # the draft's values are shown for editing
    response = client.post(reverse("projects:correction-withdraw", args=[correction.pk]))
    assert response.status_code == 302
    assert Correction.objects.get(pk=correction.pk).status == "withdrawn"


def test_a_returned_correction_keeps_version_1_and_is_resubmitted(
    client, permit_c, contractor, county_permit_reviewer
):
    correction = corrections.correction_save(
        actor=contractor,
        kind="permit",
        record_id=permit_c.pk,
        changes={"contract_amount": "1500"},
        reason="金额有误",
        submit=True,
    )
    client.force_login(county_permit_reviewer)
    url = reverse("review:correction", args=[correction.pk])
    response = client.post(url, {"decision": "return", "lock_version": correction.lock_version, "reason": ""})
    assert response.status_code == 400
    assert "退回时必须填写退回原因" in response.content.decode()
    client.post(
        url, {"decision": "return", "lock_version": correction.lock_version, "reason": "请附合同原件"}
    )
    assert Correction.objects.get(pk=correction.pk).status == "returned"
    # What the reviewer's record page and the enterer's page show is still version 1.
    review_page = client.get(reverse("review:record", args=["permit", permit_c.pk])).content.decode()
    assert "1500" not in review_page
    client.force_login(contractor)
    page = client.get(record_url(permit_c)).content.decode()
    assert "请附合同原件" in page
    assert ConstructionPermit.objects.get(pk=permit_c.pk).contract_amount == Decimal("1000")
    assert (
        post_correction(client, permit_c, {"contract_amount": "1600", "reason": "已附原件"}).status_code
        == 302
    )
    assert Correction.objects.get(pk=correction.pk).status == "in_review"


def test_wrong_role_wrong_jurisdiction_and_outsider(
    client, permit_c, contractor, reviewer, other_contractor, outsider, designer
):
    # Asking: the enterer only. A party that is not the enterer (the design unit) is refused (403);
    # a reviewer is no enterprise (403); a stranger does not see the record (404).
    for user, status in ((designer, 403), (reviewer, 403), (other_contractor, 404), (outsider, 404)):
        client.force_login(user)
        assert client.get(correct_url(permit_c)).status_code == status, user
        assert client.post(correct_url(permit_c), {"reason": "x"}).status_code == status, user
    correction = corrections.correction_save(
        actor=contractor,
        kind="permit",
        record_id=permit_c.pk,
        changes={"contract_amount": "1500"},
        reason="金额有误",
        submit=True,
    )
    url = reverse("review:correction", args=[correction.pk])
    hh_reviewer = f.make_reviewer("hana_honghe", "532500", "permit")
    for user in (hh_reviewer, outsider, contractor):
        client.force_login(user)
        assert client.get(url).status_code == 404, user
        assert client.post(url, {"decision": "approve", "lock_version": 0}).status_code == 404, user
    assert Correction.objects.get(pk=correction.pk).status == "in_review"
    # Withdrawing: only the enterer, and not while it is in review.
    client.force_login(contractor)
    client.post(reverse("projects:correction-withdraw", args=[correction.pk]))
    assert Correction.objects.get(pk=correction.pk).status == "in_review"


def test_an_unapproved_record_cannot_be_corrected(client, project, approved_review, contractor, world):
    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
    )
    client.force_login(contractor)
    response = client.get(correct_url(permit))
    assert response.status_code == 302
    assert not Correction.objects.exists()


@pytest.fixture
def tender_in_review(permit_in_review, reviewer, contractor):
    permit = f.approve(permit_in_review, reviewer)
    acknowledge_project_offline(permit.project)
    return ps.tender_contract_save(
        actor=contractor, project_id=permit.project_id, data=f.tender_data(), submit=True
    )


@pytest.mark.parametrize(
    ("fixture", "enterer", "field", "value"),
    [
        ("completion_in_review", "contractor", "actual_cost", "1099"),
        ("specialty_in_review", "specialist", "specialty_scope", "更正后的专业承包内容"),
        ("tender_in_review", "contractor", "contract_amount", "2100"),
    ],
)
def test_other_kinds_are_corrected_through_their_own_form(
    request, client, reviewer, fixture, enterer, field, value
):
    """Each kind's own entry form carries its correction; its chain's reviewer approves it."""
    record = f.approve(request.getfixturevalue(fixture), reviewer)
    client.force_login(request.getfixturevalue(enterer))
    url = reverse("projects:record-correct", args=[record.KIND, record.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = form_data(page.content.decode(), {field: value, "reason": "录入有误"}, form_id="correction-form")
    data.pop("draft", None)
    data["submit"] = "1"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    correction = Correction.objects.get(kind=record.KIND, record_id=record.pk)
    assert list(correction.changes) == [field]
    client.force_login(reviewer)
    client.post(
        reverse("review:correction", args=[correction.pk]),
        {"decision": "approve", "lock_version": correction.lock_version},
    )
    record = type(record).objects.get(pk=record.pk)
    assert (str(getattr(record, field)).rstrip("0").rstrip("."), record.version) == (value, 2)
