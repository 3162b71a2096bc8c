"""撤销认定 (issue 18): a reviewer of the record's jurisdiction revokes an approved record found false,
with a reason and evidence; the enterprise is told; the platform receives a revocation, in order after
the record's versions and idempotently; reconciliation understands it; the record shows 已撤销认定 and
is never approved again without a new submission; the province lists revocations per enterprise."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from projects import services as ps
from projects.models import Attachment, ConstructionPermit, Revocation, State
from review import services as rs
from review.models import Task
from sync import protocol
from sync.models import Outbox
from tests import factories as f
from tests.projects.conftest import DOCX_BYTES, PDF_BYTES, upload
from yunjian.core.models import AuditEntry

pytestmark = pytest.mark.django_db

REASON = f.REVOKE_REASON
revoke = f.revoke


@pytest.fixture
def approved_permit(project, approved_review, contractor, world, county_permit_reviewer):
    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
    )
    return f.approve(permit, county_permit_reviewer)


@pytest.fixture
def province_permit_reviewer(world):
    from projects.stages import Stage

    return f.make_reviewer("pia_province", "530000", Stage.PERMIT)


# --- the service: who, what, and nothing changed on refusal ---------------------------------------


def test_a_reviewer_of_the_jurisdiction_revokes_with_reason_and_evidence(
    approved_permit, county_permit_reviewer
):
    revocation = revoke(approved_permit, county_permit_reviewer)
    permit = ConstructionPermit.objects.get(pk=approved_permit.pk)
    assert permit.state == State.REVOKED
    assert (revocation.reason, revocation.data_level, revocation.revision) == (REASON, "C", 1)
    assert revocation.revoked_org == county_permit_reviewer.organization
    evidence = Attachment.objects.get(pk=revocation.evidence_id)
    assert (evidence.original_name, evidence.revision, evidence.content_type) == (
        "核查报告.pdf",
        1,
        "application/pdf",
    )
    entry = AuditEntry.objects.get(action=AuditEntry.Action.REVOKE, object_id=str(permit.pk))
    assert (entry.from_state, entry.to_state, entry.reason) == (State.APPROVED, State.REVOKED, REASON)
    assert entry.data["evidence"] == evidence.pk


@pytest.mark.parametrize("who", ["county_permit_reviewer", "reviewer", "province_permit_reviewer"])
def test_the_county_the_prefecture_and_the_province_may_revoke(request, approved_permit, who):
    revoke(approved_permit, request.getfixturevalue(who))
    assert ConstructionPermit.objects.get(pk=approved_permit.pk).state == State.REVOKED


@pytest.mark.parametrize(
    "who",
    [
        "contractor",  # the enterer: wrong role
        "institution_staff",  # reviews drawings, not permits
        "honghe_reviewer",  # another prefecture: outsider
        "outsider",
        "completion_reviewer",  # the right prefecture, the wrong stage
    ],
)
def test_nobody_else_may_revoke_and_nothing_changes(request, approved_permit, who):
    with pytest.raises(PermissionDenied):
        revoke(approved_permit, request.getfixturevalue(who))
    assert ConstructionPermit.objects.get(pk=approved_permit.pk).state == State.APPROVED
    assert not Revocation.objects.exists()
    assert not Outbox.objects.filter(op=protocol.REVOKE).exists()


def test_the_design_division_revokes_a_drawing_review_the_institution_may_not(
    approved_review, division_staff, institution_staff
):
    with pytest.raises(PermissionDenied):
        revoke(approved_review, institution_staff)
    revoke(approved_review, division_staff)
    approved_review.refresh_from_db()
    assert approved_review.state == State.REVOKED


@pytest.mark.parametrize(
    ("reason", "evidence", "field"),
    [
        ("  ", "default", "reason"),
        (REASON, None, "evidence"),
        (REASON, upload("核查报告.pdf", DOCX_BYTES), "evidence"),  # a Word file named .pdf
        (REASON, upload("空.pdf", b""), "evidence"),
    ],
)
def test_a_reason_and_a_real_scan_are_required(
    approved_permit, county_permit_reviewer, reason, evidence, field
):
    files_before = Attachment.objects.count()
    with pytest.raises(ValidationError) as error:
        revoke(approved_permit, county_permit_reviewer, reason=reason, evidence=evidence)
    assert field in error.value.message_dict
    assert ConstructionPermit.objects.get(pk=approved_permit.pk).state == State.APPROVED
    assert Attachment.objects.count() == files_before
    assert not Revocation.objects.exists()


def test_only_an_approved_record_is_revoked_and_only_once(
    approved_permit, county_permit_reviewer, review_in_review_for_permit
):
    revoke(approved_permit, county_permit_reviewer)
    with pytest.raises(rs.Conflict):
        revoke(approved_permit, county_permit_reviewer)
    with pytest.raises(rs.Conflict):
        revoke(review_in_review_for_permit, county_permit_reviewer)
    assert Revocation.objects.count() == 1


@pytest.fixture
def review_in_review_for_permit(project, world, designer):
    review = f.register_review(project, world["design"], world["institution"])
    return f.complete_and_submit_review(review, designer)


def test_a_stale_page_is_refused(approved_permit, county_permit_reviewer):
    with pytest.raises(rs.Conflict):
        revoke(approved_permit, county_permit_reviewer, lock_version=approved_permit.lock_version - 1)
    assert ConstructionPermit.objects.get(pk=approved_permit.pk).state == State.APPROVED


# --- never approved again without a new submission -------------------------------------------------


def test_a_revoked_record_cannot_be_approved_without_a_new_submission(
    approved_permit, county_permit_reviewer, contractor
):
    revoke(approved_permit, county_permit_reviewer)
    with pytest.raises(rs.Conflict):
        f.approve(approved_permit, county_permit_reviewer)
    assert not Task.objects.filter(
        kind="permit", record_id=approved_permit.pk, status=Task.Status.OPEN
    ).exists()
    # The enterer corrects it and submits it again: a new round, reviewed like any other.
    resubmitted = ps.record_submit(actor=contractor, kind="permit", record_id=approved_permit.pk)
    assert (resubmitted.state, resubmitted.revision) == (State.IN_REVIEW, 2)
    approved = f.approve(resubmitted, county_permit_reviewer)
    assert approved.state == State.APPROVED
    # Its versions on the platform keep growing: the revocation was v2, the new approval is v3.
    versions = list(
        Outbox.objects.filter(record_key=f"permit:{approved.pk}").order_by("id").values_list("version", "op")
    )
    assert versions == [(1, "upsert"), (2, "revoke"), (3, "upsert")]
    assert Revocation.objects.filter(record_id=approved.pk).count() == 1  # the history keeps it


# --- pages ------------------------------------------------------------------------------------------


def _post_revoke(client, record, **data):
    body = {
        "lock_version": record.lock_version,
        "reason": REASON,
        "evidence": upload("核查报告.pdf", PDF_BYTES),
    }
    body.update(data)
    return client.post(reverse("review:record-revoke", args=[record.KIND, record.pk]), body)


def test_the_revoke_form_three_ways(
    client, approved_permit, county_permit_reviewer, contractor, honghe_reviewer
):
    page = reverse("review:record", args=["permit", approved_permit.pk])
    client.force_login(county_permit_reviewer)
    assert 'id="revoke-form"' in client.get(page).content.decode()
    # The enterer (wrong role) and a reviewer of another prefecture (outsider) are refused.
    client.force_login(contractor)
    assert _post_revoke(client, approved_permit).status_code == 403
    client.force_login(honghe_reviewer)
    assert _post_revoke(client, approved_permit).status_code == 404
    assert ConstructionPermit.objects.get(pk=approved_permit.pk).state == State.APPROVED
    # Bad input: the page again with the error in Chinese, nothing changed.
    client.force_login(county_permit_reviewer)
    response = _post_revoke(client, approved_permit, reason="", evidence=upload("x.pdf", DOCX_BYTES))
    assert response.status_code == 400
    body = response.content.decode()
    assert "请填写撤销认定的原因" in body
    assert ConstructionPermit.objects.get(pk=approved_permit.pk).state == State.APPROVED
    response = _post_revoke(client, approved_permit, evidence=upload("x.pdf", DOCX_BYTES))
    assert response.status_code == 400
    assert "不是 PDF 格式" in response.content.decode()
    # Allowed.
    response = _post_revoke(client, approved_permit)
    assert response.status_code == 302
    assert ConstructionPermit.objects.get(pk=approved_permit.pk).state == State.REVOKED
    after = client.get(page).content.decode()
    assert "已撤销认定" in after
    assert '<li class="revoke">' in after  # in the record's history
    assert REASON in after
    assert 'id="revoke-form"' not in after
    # Posted again (a second tab): the record is already revoked.
    assert _post_revoke(client, approved_permit).status_code == 409


def test_the_enterprise_is_told_on_its_home_and_record_page(
    client, approved_permit, county_permit_reviewer, contractor
):
    revoke(approved_permit, county_permit_reviewer)
    client.force_login(contractor)
    home = client.get(reverse("core:home-role", args=["enterprise"])).content.decode()
    assert "被撤销审核认定的记录" in home
    assert REASON in home
    record = client.get(reverse("projects:record", args=["permit", approved_permit.pk])).content.decode()
    assert "审核认定已撤销" in record
    assert REASON in record
    assert "核查报告.pdf" in record  # the evidence, downloadable by the enterprise
    evidence = Revocation.objects.get().evidence
    assert client.get(reverse("projects:attachment-download", args=[evidence.pk])).status_code == 200


def test_the_province_lists_revocations_per_enterprise(
    client, approved_permit, county_permit_reviewer, province_permit_reviewer, division_staff
):
    revoke(approved_permit, county_permit_reviewer)
    url = reverse("review:revocations")
    for allowed in (province_permit_reviewer, division_staff):
        client.force_login(allowed)
        body = client.get(url).content.decode()
        assert approved_permit.owner_org.name in body
        assert REASON in body
        org = client.get(url, {"org": approved_permit.owner_org_id}).content.decode()
        assert REASON in org
        assert REASON not in client.get(url, {"org": "999999"}).content.decode()
    client.force_login(county_permit_reviewer)  # a county is not the province
    assert client.get(url).status_code == 403


def test_the_revocations_list_takes_the_same_queries_for_more_rows(
    client, django_assert_max_num_queries, world, project, division_staff, designer, institution_staff
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(n):
        for _ in range(n):
            review = f.register_review(project, world["design"], world["institution"])
            f.complete_and_submit_review(review, designer)
            f.approve(review, institution_staff)
            f.approve(review, division_staff)
            revoke(review, division_staff)

    client.force_login(division_staff)
    url = reverse("review:revocations")
    add(1)
    client.get(url)  # the session's first request reads the sign-in state: not the list's queries
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    add(4)
    with CaptureQueriesContext(connection) as five:
        assert client.get(url).status_code == 200
    assert len(five) == len(one)
