"""The record page and its edit form, for every record type: the right organization, another
enterprise (404), a party that only looks (read-only), and a wrong role (403)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from projects.models import State

pytestmark = pytest.mark.django_db

# (record fixture, persona fixture that entered it)
KINDS = [
    ("review", "designer"),
    ("addition_request", "designer"),
    ("permit_in_review", "contractor"),
    ("tender", "contractor"),
    ("completion", "contractor"),
    ("specialty_info", "specialist"),
]


@pytest.fixture(params=KINDS, ids=[k for k, _ in KINDS])
def entered(request):
    record_name, persona = request.param
    return request.getfixturevalue(record_name), request.getfixturevalue(persona)


def record_url(record, name="projects:record"):
    return reverse(name, args=[record.KIND, record.pk])


def test_the_entering_organization_sees_its_record_with_timeline(entered, as_user):
    record, owner = entered
    page = as_user(owner).get(record_url(record))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="next-step"' in html
    assert 'class="timeline"' in html
    assert "新增" in html  # the creation entry of the audit trail
    assert f"badge state-{record.state}" in html


def test_another_enterprise_gets_404_on_record_edit_and_upload(entered, as_user, outsider, other_contractor):
    record, _ = entered
    for intruder in (outsider, other_contractor):
        client = as_user(intruder)
        assert client.get(record_url(record)).status_code == 404
        assert client.get(record_url(record, "projects:record-edit")).status_code == 404
        assert client.post(record_url(record, "projects:record-edit"), {"action": "draft"}).status_code == 404
        assert client.post(record_url(record, "projects:attachment-upload")).status_code == 404


def test_a_reviewer_gets_403_on_enterprise_pages(entered, as_user, reviewer, institution_staff):
    record, _ = entered
    for user in (reviewer, institution_staff):
        client = as_user(user)
        response = client.get(record_url(record))
        assert response.status_code == 403
        assert "企业填报人员" in response.content.decode()
        assert client.get(record_url(record, "projects:record-edit")).status_code == 403


def test_anonymous_is_sent_to_login(entered, client):
    record, _ = entered
    response = client.get(record_url(record))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_unknown_kind_or_missing_record_is_404(as_user, designer, review):
    client = as_user(designer)
    assert client.get(reverse("projects:record", args=["nonsense", review.pk])).status_code == 404
    assert (
        client.get(reverse("projects:record", args=["drawing_review", review.pk + 1000])).status_code == 404
    )


def test_a_party_that_did_not_enter_the_record_may_look_but_not_edit(as_user, designer, permit_in_review):
    client = as_user(designer)  # the design unit of the project sees the contractor's permit
    page = client.get(record_url(permit_in_review))
    assert page.status_code == 200
    assert "本单位只能查看" in page.content.decode()
    response = client.get(record_url(permit_in_review, "projects:record-edit"))
    assert response.status_code == 403
    assert "只有录入单位可以修改该记录" in response.content.decode()


def test_a_record_in_review_cannot_be_edited(as_user, contractor, permit_in_review):
    client = as_user(contractor)
    page = client.get(record_url(permit_in_review))
    html = page.content.decode()
    assert "待审核" in html
    assert "发证机关审核（施工许可信息）" in html
    assert reverse("projects:record-edit", args=["permit", permit_in_review.pk]) not in html
    # Back to the form after submitting: the record page with a note, not a red refusal (issue 19).
    response = client.get(record_url(permit_in_review, "projects:record-edit"), follow=True)
    assert response.redirect_chain == [(record_url(permit_in_review), 302)]
    assert "不能再修改" in response.content.decode()
    before = permit_in_review.issue_date
    posted = client.post(record_url(permit_in_review, "projects:record-edit"), {"issue_date": "2001-01-01"})
    assert posted.status_code == 302
    permit_in_review.refresh_from_db()
    assert permit_in_review.issue_date == before


def test_returned_record_shows_reason_and_flags_the_named_fields(as_user, contractor, returned_permit):
    assert returned_permit.state == State.RETURNED
    client = as_user(contractor)
    html = client.get(record_url(returned_permit)).content.decode()
    assert "发证日期与原件不一致" in html
    assert 'class="flagged" data-field="issue_date"' in html
    assert 'class="flagged" data-field="project.name"' in html
    assert "按退回意见修改" in html
    form = client.get(record_url(returned_permit, "projects:record-edit")).content.decode()
    assert "发证日期与原件不一致" in form
    assert 'field required flagged" data-field="issue_date"' in form
    assert 'flagged" data-field="name"' in form  # project.name, on the project sub-form
